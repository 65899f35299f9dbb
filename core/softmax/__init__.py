"""Softmax proofs (pages/softmax.py): three facts about softmax, derived and checked by SymPy.

    numerics.py    softmax, log-softmax and their float32/float64 overflow, in NumPy
    oracles.py     the Jacobian and the cross-entropy gradient by SymPy and finite differences
    proofcheck.py  one derivation line against the one before, for symbolic and concrete K
    proofs.py      the three proofs, line by line, and their documents
    mistakes.py    typical wrong lines, each caught by the checker
"""

from core.softmax.numerics import log_softmax, softmax

__all__ = ["log_softmax", "softmax"]
