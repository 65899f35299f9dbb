"""Worksheets to hand out: practice problems with blanks to fill in, and the marker's answer key.

Each sheet is one practice problem, `problems.practice(shape, seed, loss)`, traced by
`trace_step`: the network and its numbers, then every step up to the last blank, in the order it
is worked by hand. A blank step shows its formula and a numbered line to fill in; a step that is
not blank is given as its value (6 significant digits), three to a line, to work from. Steps
after the last blank are left out. The key lists every step's value for every sheet, to 4
significant digits and in full (the shortest decimal that reads back as the same float), blanks
marked by their number.

Seeds. With a roster, a student's problem has seed `problems.student_seed(id, salt)`, exactly
what the Backprop page shows a student who enters that id under the same course salt; without
one, sheet k (1-based) has seed first_seed + k − 1, the page's "practice problem, seed s".

Blanks are picked by group (BLANK_GROUPS) or by a step's own name as the page writes it
("δ1^(1)", "∂L/∂w21^(2)"). Student ids become file names, so only safe ones are accepted
(`check_id`); unsafe or repeated ids are refused, never rewritten, so a key row always names the
id exactly as the roster has it. A WorksheetError's str() is plain text (typed text quoted with
repr); its `.markdown` has the typed text as inline code, for st.error and other Markdown.

    files = build_worksheets(WorksheetOptions(shape=(2, 2, 1)), roster="s1\\ns2\\n")
    sorted(files) == ["key.md", "key.tex", "s1.md", "s1.tex", "s2.md", "s2.tex"]
    zipped = zip_of(files)  # the same files always give the same bytes

(Over 300 lines on purpose: the sheet, the key and the roster rules are one contract with the
page and the command line, read together.)
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from core.backprop import problems
from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.tracer import Step, Trace, trace_step
from core.export import Line, Section, to_markdown, to_tex
from core.numbers import code, tex_number

BLANK_GROUPS: dict[str, str] = {
    "forward": "every z and a of the forward pass, the outputs ŷ included",
    "loss": "the loss L",
    "deltas": "every δ, output layer first",
    "gradients": "every ∂L/∂w and ∂L/∂b",
    "updates": "every new w and new b",
    "grad_w11": "∂L/∂w11 of the first layer only",
    "new_w11": "new w11 of the first layer only",
    "all": "every step",
}
DEFAULT_BLANKS = ("forward", "loss", "deltas", "gradients", "updates")
_KINDS = {"forward": ("z", "a"), "loss": ("loss",), "deltas": ("delta",),
          "gradients": ("grad_w", "grad_b"), "updates": ("new_w", "new_b"),
          "all": ("z", "a", "loss", "delta", "grad_w", "grad_b", "new_w", "new_b")}
_NAMED = {"grad_w11": "∂L/∂w11^(1)", "new_w11": "new w11^(1)"}
SECTIONS = [("Forward pass", ("z", "a")), ("Loss", ("loss",)), ("Deltas", ("delta",)),
            ("Gradients", ("grad_w", "grad_b")), ("Updates", ("new_w", "new_b"))]
MAX_STUDENTS, MAX_ID = 2000, 64
GIVEN_PER_LINE = 3  # a step that is not blank is a value to work from: several fit a line
KEY_ROWS = 12  # rows per table in the key: short tables pack the pages without gaps
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*\Z")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt")
                                                   for n in range(1, 10))}
_BLANK = r"\underline{\hspace{3.5cm}}"
_LOSS_TEXT = {"half_squared_error": "half the sum of the squared errors",
              "mean_squared_error": "the mean of the squared errors",
              "cross_entropy": "the cross-entropy of the softmax outputs"}


class WorksheetError(ValueError):
    """Options or a roster that cannot make worksheets; the message says what to change.

    `text` holds a "{}" for each piece of typed text in `typed` (an id, a blank's name, a shape):
    `str()` quotes them with repr (control characters escaped), `markdown` as inline code, so a
    page can show the message in Markdown without rendering what was typed.
    """

    def __init__(self, text: str, *typed: str) -> None:
        if not typed:  # nothing typed in it, so no placeholders either (braces stay as written)
            self.markdown = text
            super().__init__(text)
            return
        self.markdown = text.format(*(code(_short(t)[1:-1]) for t in typed))
        super().__init__(text.format(*(_short(t) for t in typed)))


def _short(text: str) -> str:
    """repr of the typed text, cut to 24 characters: enough to recognise it, never a wall."""
    text = str(text)
    return repr(text if len(text) <= 24 else text[:23] + "…")


@dataclass(frozen=True)
class WorksheetOptions:
    """What every sheet of one hand-out shares.

    shape: units per layer, inputs first (1–6 each, 0–3 hidden layers); activation and loss as
    for trace_step; lr: η; blanks: BLANK_GROUPS names or step names; salt: the course salt of
    student_seed (never printed); count and first_seed: the sheets made without a roster.
    """

    shape: tuple[int, ...] = problems.DEFAULT_SHAPE
    activation: str = "sigmoid"
    loss: str = "half_squared_error"
    lr: float = 0.1
    blanks: tuple[str, ...] = DEFAULT_BLANKS
    salt: str = ""
    count: int = 5
    first_seed: int = 1


def parse_shape(text: str) -> tuple[int, ...]:
    """"3-2-2" → (3, 2, 2), checked against the page's limits (WorksheetError otherwise)."""
    parts = str(text).strip().split("-")
    if not all(p.strip().isdigit() for p in parts):
        raise WorksheetError("shape {} is not like 3-2-2 (units per layer, inputs first)", text)
    return check_shape(tuple(int(p) for p in parts))


def check_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The page's limits (core.backprop.problems.check_shape), as a WorksheetError."""
    try:
        return problems.check_shape(shape)
    except ValueError:
        raise WorksheetError(f"shape {'-'.join(map(str, shape))} is outside the page's limits: "
                             f"1–{problems.MAX_UNITS} units per layer and 0–"
                             f"{problems.MAX_HIDDEN} hidden layers") from None


def parse_blanks(text: str) -> tuple[str, ...]:
    """"forward, deltas" → ("forward", "deltas"); names are checked when the sheets are built."""
    names = tuple(n.strip() for n in str(text).split(",") if n.strip())
    if not names:
        raise WorksheetError("no blanks chosen: name at least one of " + ", ".join(BLANK_GROUPS))
    return names


def blank_names(trace: Trace, blanks: tuple[str, ...]) -> list[str]:
    """The names of the steps `blanks` selects, in the trace's order."""
    names = [s.name for s in trace.steps]
    picked: set[str] = set()
    for b in blanks:
        if b in _KINDS:
            picked.update(s.name for s in trace.steps if s.kind in _KINDS[b])
        elif _NAMED.get(b, b) in names:
            picked.add(_NAMED.get(b, b))
        else:
            raise WorksheetError(f"blank {{}} is neither a group ({', '.join(BLANK_GROUPS)}) nor "
                                 f"a step of this network (such as {names[0]} or {names[-1]})", b)
    return [n for n in names if n in picked]


# ----------------------------------------------------------------------------- roster
def decode_roster(data: bytes, source: str = "the roster") -> str:
    """The roster's text: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise WorksheetError(f"{source} is not UTF-8 text (byte 0x{data[err.start]:02x} at "
                             f"position {err.start}): save it as UTF-8") from None


def check_id(student_id: str, where: str = "") -> str:
    """The id if it is a safe file name on every system, else WorksheetError saying why.

    Safe: 1–64 ASCII letters, digits, '.', '_', '-', '@' or '+', starting with a letter or
    digit, not ending with '.', not a Windows device name (CON, NUL, COM1, … also before a dot)
    and not 'key' (the answer key's name). So '../x', 'a/b', '.', '..', NUL and '' are refused.
    """
    at = f"{where}: " if where else ""
    rule = (f"use 1–{MAX_ID} letters A–Z, digits, '.', '_', '-', '@' or '+', starting with a "
            "letter or digit")
    if not student_id:
        raise WorksheetError(f"{at}the student id is empty")
    if len(student_id) > MAX_ID or not _SAFE_ID.match(student_id) or student_id.endswith("."):
        raise WorksheetError(f"{at}student id {{}} cannot be a file name: {rule}", student_id)
    stem = student_id.split(".")[0].casefold()
    if stem in _WINDOWS_RESERVED:
        raise WorksheetError(f"{at}student id {{}} is a reserved device name on Windows: add a "
                             "letter or digit", student_id)
    if student_id.casefold() == "key":
        raise WorksheetError(f"{at}student id {{}} is the answer key's file name: rename it",
                             student_id)
    return student_id


def parse_roster(text: str) -> list[str]:
    """One student id per line; blank lines and surrounding spaces ignored; each id checked by
    `check_id`; ids that are one student to student_seed (ignoring case) refused as repeats."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(str(text).removeprefix("\ufeff").splitlines(), start=1):
        ident = raw.strip()
        if not ident:
            continue
        check_id(ident, f"line {number}")
        key = unicodedata.normalize("NFC", ident).casefold()
        if key in seen:
            raise WorksheetError(f"line {number}: student id {{}} repeats line {seen[key]} (ids "
                                 "are compared ignoring case, as the page does)", ident)
        seen[key] = number
        ids.append(ident)
    if not ids:
        raise WorksheetError("the roster has no student ids: put one id on each line")
    if len(ids) > MAX_STUDENTS:
        raise WorksheetError(f"the roster has {len(ids)} ids; at most {MAX_STUDENTS} per run")
    return ids


# ----------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class _Sheet:
    stem: str  # the file name without .md / .tex
    md_who: str  # "student `s12`" (Markdown: the id as code) or "practice problem 3"
    tex_who: str
    seed: int
    trace: Trace
    student: bool  # from a roster: the id is the name; else the sheet asks for one


def _sig4(v: float) -> str:
    """4 significant digits, trailing zeros kept (0.09000): what a student writes down."""
    return _tex_e(f"{float(v) + 0.0:#.4g}".rstrip(".") if v else "0.000")


def _full(v: float) -> str:
    return _tex_e(repr(float(v) + 0.0))


def _tex_e(s: str) -> str:
    if "e" in s:
        mant, exp = s.split("e")
        return rf"{mant} \times 10^{{{int(exp)}}}"
    return s


def _vec(name: str, values) -> str:
    return rf"{name} = \left[{', '.join(tex_number(float(v)) for v in values)}\right]"


def _describe(o: WorksheetOptions) -> str:
    f = ACTIVATIONS[o.activation].label
    hidden = [f"a hidden layer of {n} {f} units" for n in o.shape[1:-1]]
    out = "softmax" if LOSSES[o.loss].softmax_output else f
    parts = [f"{o.shape[0]} inputs", *hidden, f"{o.shape[-1]} {out} outputs"]
    return (f"A {'-'.join(map(str, o.shape))} network: {', then '.join(parts)}. "
            f"The loss L is {_LOSS_TEXT[o.loss]}; the learning rate is η = {tex_number(o.lr)}.")


def _problem_lines(t: Trace, note: bool = True) -> list[Line]:
    p = t.problem
    lines = [Line(rf"{_vec('x', p.x)},\qquad {_vec('y', p.y)},\qquad \eta = {tex_number(p.lr)}")]
    for ell, (W, b) in enumerate(zip(p.W, p.b, strict=True), start=1):
        rows = r" \\ ".join(" & ".join(tex_number(float(v)) for v in row) for row in W)
        lines.append(Line(rf"W^{{({ell})}} = \begin{{bmatrix}} {rows} \end{{bmatrix}},\qquad "
                          + _vec(f"b^{{({ell})}}", b),
                          f"row j of W({ell}) holds the weights into unit j of layer {ell}" if
                          note and ell == 1 else ""))
    return lines


def _given_lines(given: list[str]) -> list[Line]:
    return [Line(r",\qquad ".join(given[i:i + GIVEN_PER_LINE]))
            for i in range(0, len(given), GIVEN_PER_LINE)]


def _sheet(o: WorksheetOptions, sheet: _Sheet, markdown: bool) -> str:
    blanks = blank_names(sheet.trace, o.blanks)
    last = max(i for i, s in enumerate(sheet.trace.steps) if s.name in blanks)
    number = {name: k for k, name in enumerate(blanks, start=1)}
    intro = (f"{_describe(o)} Fill in the {len(blanks)} numbered blanks by hand, each from its "
             "formula, to 4 significant digits, carrying your own rounded values forward. The "
             "other values are given to work from.")
    name = [] if sheet.student else [Line(r"\text{Name: }\underline{\hspace{8cm}}")]
    secs = [Section("The network and its numbers", intro, name + _problem_lines(sheet.trace))]
    shown = sheet.trace.steps[:last + 1]
    for heading, kinds in SECTIONS:
        lines: list[Line] = []
        given: list[str] = []  # values to work from, a few to a line
        for s in (s for s in shown if s.kind in kinds):
            if s.name in number:
                lines += _given_lines(given)
                given = []
                lines.append(Line(rf"{s.symbolic} = {_BLANK} \tag{{{number[s.name]}}}"))
            else:
                given.append(f"{s.label} = {tex_number(s.value)}")
        lines += _given_lines(given)
        if lines:
            secs.append(Section(heading, "", lines))
    title = f"Backprop by hand: worksheet for {sheet.md_who if markdown else sheet.tex_who}"
    return to_markdown(title, secs) if markdown else to_tex(title, secs)


def _inline_label(label: str) -> str:
    """\\frac{\\partial L}{\\partial w} as \\partial L/\\partial w: a table row stays one line."""
    head = r"\frac{\partial L}{\partial "
    return rf"\partial L/\partial {label[len(head):-1]}" if label.startswith(head) else label


def _key_table(rows: list[tuple[str, Step]]) -> str:
    body = r" \\ ".join(rf"{mark} & {_inline_label(s.label)} & {_sig4(s.value)} & "
                        rf"{_full(s.value)}" for mark, s in rows)
    return (r"\begin{array}{rlll} \text{blank} & \text{step} & \text{4 digits} & "
            r"\text{full precision} \\ \hline " + body + r" \end{array}")


def _key(o: WorksheetOptions, sheets: list[_Sheet], markdown: bool, roster: bool) -> str:
    seeds = ("seed = problems.student_seed(id, course salt): the first 4 bytes of SHA-256(salt, "
             "newline, id), so the Backprop page shows each student this problem for their id"
             if roster else "seed s gives the Backprop page's practice problem with seed s")
    secs = [Section("About this key", f"{_describe(o)} Blanks: {', '.join(o.blanks)}. Every "
                    f"value of every sheet, to 4 significant digits and in full; {seeds}.")]
    for sh in sheets:
        number = {n: k for k, n in enumerate(blank_names(sh.trace, o.blanks), start=1)}
        rows = [(f"({number[s.name]})" if s.name in number else "", s) for s in sh.trace.steps]
        tables = [Line(_key_table(rows[i:i + KEY_ROWS])) for i in range(0, len(rows), KEY_ROWS)]
        who = sh.md_who if markdown else sh.tex_who
        secs.append(Section(f"{who[0].upper()}{who[1:]}, seed {sh.seed}", "",
                            _problem_lines(sh.trace, note=False) + tables))
    title = "Backprop by hand: answer key"
    return to_markdown(title, secs) if markdown else to_tex(title, secs)


def _checked(o: WorksheetOptions) -> WorksheetOptions:
    check_shape(tuple(o.shape))
    if o.activation not in ACTIVATIONS:
        raise WorksheetError(f"activation {{}} is not one of {', '.join(ACTIVATIONS)}",
                             o.activation)
    if o.loss not in LOSSES:
        raise WorksheetError(f"loss {{}} is not one of {', '.join(LOSSES)}", o.loss)
    if o.loss == "cross_entropy" and o.shape[-1] < 2:
        raise WorksheetError("cross-entropy needs at least 2 outputs (a softmax of one is 1)")
    if not (isinstance(o.lr, int | float) and math.isfinite(o.lr) and 0 < o.lr <= 10):
        raise WorksheetError(f"η = {o.lr!r} must be a number above 0 and at most 10")
    if not o.blanks:
        raise WorksheetError("no blanks chosen: name at least one of " + ", ".join(BLANK_GROUPS))
    return o


def _trace(o: WorksheetOptions, seed: int) -> Trace:
    p = problems.practice(tuple(o.shape), seed, o.loss)
    return trace_step(p.W, p.b, p.x, p.y, o.lr, o.activation, o.loss)


def build_worksheets(options: WorksheetOptions,
                     roster: str | list[str] | None = None) -> dict[str, str]:
    """Every file of one hand-out, file name → text (UTF-8, "\\n" line ends, no dates).

    With a roster (its text, or a list of ids; see parse_roster): "<id>.md" and "<id>.tex" per
    student, numbers from student_seed(id, options.salt), and "key.md", "key.tex" listing them
    all in roster order. Without: options.count sheets "problem-01.md", "problem-01.tex", … with
    seeds first_seed, first_seed + 1, …, and the key. Raises WorksheetError for bad options, ids
    or blank names.
    """
    o = _checked(options)
    if roster is not None:
        ids = parse_roster(roster if isinstance(roster, str) else "\n".join(roster))
        sheets = []
        for i in ids:
            seed = problems.student_seed(i, o.salt)
            sheets.append(_Sheet(i, f"student {code(i)}", f"student {i}", seed, _trace(o, seed),
                                 student=True))
    else:
        if not 1 <= o.count <= MAX_STUDENTS:
            raise WorksheetError(f"make 1 to {MAX_STUDENTS} sheets, not {o.count}")
        if not 0 <= o.first_seed <= 2**32 - o.count:
            raise WorksheetError(f"the first seed must be between 0 and {2**32 - o.count}")
        width = max(2, len(str(o.count)))
        sheets = [_Sheet(f"problem-{k:0{width}d}", f"practice problem {k}",
                         f"practice problem {k}", o.first_seed + k - 1,
                         _trace(o, o.first_seed + k - 1), False) for k in range(1, o.count + 1)]
    files: dict[str, str] = {}
    for sh in sheets:
        files[f"{sh.stem}.md"] = _sheet(o, sh, markdown=True)
        files[f"{sh.stem}.tex"] = _sheet(o, sh, markdown=False)
    files["key.md"] = _key(o, sheets, markdown=True, roster=roster is not None)
    files["key.tex"] = _key(o, sheets, markdown=False, roster=roster is not None)
    return files


def zip_of(files: dict[str, str]) -> bytes:
    """The files as one .zip, byte-identical for the same files: sorted names, fixed timestamps
    (1980-01-01), fixed permissions (rw-r--r--), UTF-8 text."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever system writes it
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name].encode("utf-8"))
    return buf.getvalue()
