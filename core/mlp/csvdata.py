"""Your own data: a CSV file of numeric feature columns and one label column, read and checked.

The file must be UTF-8 text with a header row naming its columns, separated by commas; the label
column (chosen by name) may hold any values, each distinct value a class; every other column is
a feature and must hold a finite number in every row. Each way a file can be wrong is one
sentence (`CsvError`), with column names and values from the file quoted as inline code:

    not text, no header, the label missing, one class only, a non-numeric or NaN feature,
    ragged rows, an empty file, a file over MAX_BYTES, more than MAX_ROWS rows or
    MAX_FEATURES features, fewer than MIN_ROWS rows.

`core.mlp.datasets.load_dataset("csv", csv=PATH, label=COLUMN)` splits and standardises it.
Uploaded files are kept under the cache by their SHA-256 (`store_upload`), so a run's settings
name a file whose contents cannot change under them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from core.mlp.mnist_cifar import DataUnavailable
from core.numbers import code

__all__ = ["CsvError", "MAX_BYTES", "MAX_ROWS", "MAX_FEATURES", "MAX_CLASSES", "MIN_ROWS",
           "LIMITS", "csv_header", "read_csv", "store_upload"]

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_FEATURES = 1_000
MAX_CLASSES = 100
MIN_ROWS = 20  # a test split of 4 rows and a validation split of 2 is the least that says much
LIMITS = (f"at most {MAX_BYTES // 2**20} MB, {MAX_ROWS:,} rows and {MAX_FEATURES:,} feature "
          f"columns, at least {MIN_ROWS} rows, 2 to {MAX_CLASSES} classes")


class CsvError(DataUnavailable):
    """A CSV file that cannot be used; the message says why in one sentence (Markdown-safe)."""


def _text(data: bytes) -> str:
    if len(data) == 0 or not data.strip():
        raise CsvError("The CSV file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvError(f"The CSV file is {len(data) / 2**20:,.1f} MB; at most "
                       f"{MAX_BYTES // 2**20} MB can be read.")
    if b"\0" in data[:65536]:
        raise CsvError("This is not a CSV file: it holds binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError("This is not a CSV file of UTF-8 text (it cannot be decoded as "
                       "UTF-8).") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rows(text: str) -> list[list[str]]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise CsvError(f"This is not a well-formed CSV file ({code(exc)}).") from None
    return rows


def _header_of(rows: list[list[str]]) -> list[str]:
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise CsvError("This is not a CSV file of columns: its first line has no commas. It "
                       "needs a header naming at least one feature column and a label column.")
    if all(_is_number(h) for h in header):
        raise CsvError("The CSV file has no header: its first row is numbers. Add a first row "
                       "naming the columns, e.g. x1,x2,label.")
    if any(h == "" for h in header):
        raise CsvError(f"The CSV header has an empty column name (column "
                       f"{header.index('') + 1}).")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise CsvError(f"The CSV header names {code(twice[0])} more than once.")
    return header


def csv_header(data: bytes) -> list[str]:
    """The column names of a CSV file (for choosing its label); raises CsvError."""
    text = _text(data)
    first = text.split("\n", 1)[0]
    return _header_of(_rows(first) or [[]])


def read_csv(data: bytes, label: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(X (n, d) float64, y (n,) int64 class indices, class names, feature names) of a CSV file
    whose column `label` holds the classes; raises CsvError saying what is wrong."""
    rows = _rows(_text(data))
    if not rows:
        raise CsvError("The CSV file is empty.")
    header = _header_of(rows)
    if label not in header:
        raise CsvError(f"The CSV file has no column {code(label)}; its columns are "
                       + ", ".join(code(h) for h in header[:12])
                       + (" …" if len(header) > 12 else "") + ".")
    if len(header) - 1 > MAX_FEATURES:
        raise CsvError(f"The CSV file has {len(header) - 1:,} feature columns; at most "
                       f"{MAX_FEATURES:,} can be used.")
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise CsvError(f"The CSV file has {len(body):,} rows; at most {MAX_ROWS:,} can be used.")
    if len(body) < MIN_ROWS:
        raise CsvError(f"The CSV file has {len(body)} data row(s); at least {MIN_ROWS} are "
                       "needed to split it into training, validation and test sets.")
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CsvError(f"Row {i:,} of the CSV file has {len(row)} values but the header "
                           f"has {len(header)} columns: every row needs one value per column.")
    at = header.index(label)
    features = [h for h in header if h != label]
    X = np.empty((len(body), len(features)), np.float64)
    for i, row in enumerate(body):
        values = row[:at] + row[at + 1:]
        for j, cell in enumerate(values):
            try:
                x = float(cell)
            except ValueError:
                raise CsvError(f"Column {code(features[j])}, row {i + 2:,}: {code(cell)} is not "
                               "a number. Every column but the label must be numeric."
                               ) from None
            if not math.isfinite(x):
                raise CsvError(f"Column {code(features[j])}, row {i + 2:,}: {code(cell)} is not "
                               "a finite number (NaN and infinities cannot be learned from).")
            X[i, j] = x
    labels = [row[at].strip() for row in body]
    classes = sorted(set(labels), key=lambda c: (not _is_number(c), float(c) if _is_number(c)
                                                 else 0.0, c))
    if len(classes) < 2:
        raise CsvError(f"The label column {code(label)} holds one class only "
                       f"({code(classes[0])}): a classifier needs at least two.")
    if len(classes) > MAX_CLASSES:
        raise CsvError(f"The label column {code(label)} holds {len(classes):,} different "
                       f"values; at most {MAX_CLASSES} classes can be learned. Is it the right "
                       "column?")
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[c] for c in labels], np.int64)
    return X, y, classes, features


def store_upload(data: bytes, folder: Path) -> Path:
    """Keep an uploaded file as folder/<sha256>.csv (written atomically, once) and return the
    path: the same contents always get the same name, other contents never do."""
    if len(data) > MAX_BYTES:
        raise CsvError(f"The CSV file is {len(data) / 2**20:,.1f} MB; at most "
                       f"{MAX_BYTES // 2**20} MB can be read.")
    path = folder / f"{hashlib.sha256(data).hexdigest()}.csv"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return path
