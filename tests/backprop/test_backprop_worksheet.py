"""Worksheets and keys (core.backprop.worksheet) and their command line (python -m core.worksheet).

The key's numbers are read back out of key.md and compared with trace_step on the student's own
problem, practice(shape, student_seed(id, salt), loss), rebuilt here; a 1-1 network is checked
against the formulas worked with `math` in the test.
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.backprop import problems
from core.backprop.tracer import trace_step
from core.backprop.worksheet import (
    WorksheetError,
    WorksheetOptions,
    build_worksheets,
    check_id,
    decode_roster,
    parse_roster,
    parse_shape,
    zip_of,
)
from core.export import compile_tex
from core.numbers import tex_number

ROOT = Path(__file__).resolve().parents[2]
ROSTER = "s12\n  alice@uni.edu  \n\nBob_3\n"
IDS = ["s12", "alice@uni.edu", "Bob_3"]


def key_sections(key_md: str) -> dict[str, tuple[int, list[tuple[str, str, str, float]]]]:
    """heading → (seed, rows (blank mark, label, 4 digits, full value)) read out of key.md."""
    out = {}
    for block in re.split(r"^## ", key_md, flags=re.M)[2:]:
        heading, seed = re.match(r"(.*), seed (\d+)\n", block).groups()
        rows = []
        for body in re.findall(r"\\hline (.*?) \\end\{array\}", block):
            for row in body.split(r" \\ "):
                mark, label, sig4, full = row.split(" & ")
                full = re.sub(r" \\times 10\^\{(-?\d+)\}", r"e\1", full)
                rows.append((mark, label, sig4, float(full)))
        out[heading] = (int(seed), rows)
    return out


def student_trace(ident: str, o: WorksheetOptions):
    p = problems.practice(o.shape, problems.student_seed(ident, o.salt), o.loss)
    return p, trace_step(p.W, p.b, p.x, p.y, o.lr, o.activation, o.loss)


# ----------------------------------------------------------------------------- roster → keys
@pytest.mark.parametrize("o", [
    WorksheetOptions(salt="ML2026"),
    WorksheetOptions(shape=(2, 3, 2, 3), activation="tanh", loss="cross_entropy", lr=0.5),
    WorksheetOptions(shape=(4, 2), activation="relu", loss="mean_squared_error", salt="x"),
])
def test_roster_gives_each_student_their_own_problem_and_the_key_agrees(o) -> None:
    files = build_worksheets(o, ROSTER)
    assert sorted(files) == sorted([f"{i}.{e}" for i in IDS for e in ("md", "tex")]
                                   + ["key.md", "key.tex"])
    key = key_sections(files["key.md"])
    assert list(key) == [f"Student `{i}`" for i in IDS]  # roster order; ids as inline code
    for ident in IDS:
        p, t = student_trace(ident, o)
        seed, rows = key[f"Student `{ident}`"]
        assert seed == problems.student_seed(ident, o.salt)
        assert [r[3] for r in rows] == [s.value for s in t.steps]  # full precision: exact
        for (_, _, sig4, _), s in zip(rows, t.steps, strict=True):
            assert abs(float(re.sub(r" \\times 10\^\{(-?\d+)\}", r"e\1", sig4)) - s.value) <= (
                0.5001 * 10 ** (math.floor(math.log10(abs(s.value))) - 3) if s.value else 0)
        sheet = files[f"{ident}.md"]
        x = ", ".join(tex_number(v) for v in p.x)
        assert rf"x = \left[{x}\right]" in sheet and f"student `{ident}`" in sheet
        assert sheet.count(r"\underline{\hspace{3.5cm}}") == len(t.steps)  # every step blank
    seeds = {key[f"Student `{i}`"][0] for i in IDS}
    assert len(seeds) == 3  # three students, three problems


def test_a_one_unit_key_matches_the_formulas_worked_by_hand() -> None:
    o = WorksheetOptions(shape=(1, 1), lr=0.1, salt="c")
    _, rows = key_sections(build_worksheets(o, "amy\n")["key.md"])["Student `amy`"]
    p = problems.practice((1, 1), problems.student_seed("amy", "c"), o.loss)
    (w,), (b,), (x,), (y,) = p.W[0][0], p.b[0], p.x, p.y
    z = w * x + b
    yhat = 1 / (1 + math.exp(-z))
    delta = (yhat - y) * yhat * (1 - yhat)  # ½(y − ŷ)² differentiated through the sigmoid
    want = [z, yhat, 0.5 * (y - yhat) ** 2, delta, delta * x, delta, w - 0.1 * delta * x,
            b - 0.1 * delta]
    assert [r[3] for r in rows] == pytest.approx(want, rel=1e-13, abs=1e-15)
    assert [r[0] for r in rows] == [f"({k})" for k in range(1, 9)]


def test_without_a_roster_sheets_are_numbered_with_consecutive_seeds() -> None:
    o = WorksheetOptions(shape=(2, 2, 1), count=3, first_seed=7)
    files = build_worksheets(o)
    assert sorted(files) == ["key.md", "key.tex", "problem-01.md", "problem-01.tex",
                             "problem-02.md", "problem-02.tex", "problem-03.md", "problem-03.tex"]
    key = key_sections(files["key.md"])
    for k, seed in enumerate((7, 8, 9), start=1):
        got_seed, rows = key[f"Practice problem {k}"]
        p = problems.practice((2, 2, 1), seed, o.loss)
        t = trace_step(p.W, p.b, p.x, p.y, 0.1)
        assert got_seed == seed and [r[3] for r in rows] == [s.value for s in t.steps]
    assert r"\text{Name: }" in files["problem-01.md"]  # no id on it: the student writes a name


# ----------------------------------------------------------------------------- blanks
def test_blanks_by_group_show_the_rest_as_given_and_stop_at_the_last_blank() -> None:
    files = build_worksheets(WorksheetOptions(blanks=("deltas",)), "s1")
    sheet = files["s1.md"]
    assert [int(n) for n in re.findall(r"\\tag\{(\d+)\}", sheet)] == [1, 2, 3, 4]
    assert r"\delta^{(1)}_{2} = " in sheet and "## Gradients" not in sheet
    _, t = student_trace("s1", WorksheetOptions())
    assert f"{t.steps[0].label} = {tex_number(t.steps[0].value)}," in sheet  # given: z1^(1)
    assert t.steps[0].symbolic not in sheet  # a given value comes without its formula
    rows = key_sections(files["key.md"])["Student `s1`"][1]
    assert [r[0] for r in rows if r[0]] == ["(1)", "(2)", "(3)", "(4)"]
    assert [r[1] for r in rows if r[0]][0] == r"\delta^{(2)}_{1}"


@pytest.mark.parametrize("blanks,labels", [
    (("grad_w11", "new_w11"), [r"\partial L/\partial w^{(1)}_{11}", r"w^{(1)\,\mathrm{new}}_{11}"]),
    (("δ1^(1)", "loss"), ["L", r"\delta^{(1)}_{1}"]),
    (("all",), None),
])
def test_blanks_by_name(blanks, labels) -> None:
    files = build_worksheets(WorksheetOptions(blanks=blanks), ["s1"])
    rows = key_sections(files["key.md"])["Student `s1`"][1]
    marked = [r[1] for r in rows if r[0]]
    assert marked == labels if labels else len(marked) == len(rows) == 41


def test_unknown_blank_and_bad_options_are_refused() -> None:
    with pytest.raises(WorksheetError, match="blank 'weights' is neither a group"):
        build_worksheets(WorksheetOptions(blanks=("weights",)), "s1")
    with pytest.raises(WorksheetError, match="outside the page's limits"):
        parse_shape("3-7-2")
    with pytest.raises(WorksheetError, match="not like 3-2-2"):
        parse_shape("3,2,2")
    with pytest.raises(WorksheetError, match="at least 2 outputs"):
        build_worksheets(WorksheetOptions(shape=(2, 1), loss="cross_entropy"))
    with pytest.raises(WorksheetError, match="η"):
        build_worksheets(WorksheetOptions(lr=float("nan")))


# ----------------------------------------------------------------------------- ids and rosters
@pytest.mark.parametrize("bad", ["../x", "a/b", "a\\b", ".", "..", ".hidden", "-rf", "a\x00b",
                                 "x" * 65, "CON", "con.txt", "Lpt1", "key", "KEY", "x.", "a b",
                                 "josé", "a:b", "<x>"])
def test_unsafe_ids_are_refused_with_their_line(bad: str) -> None:
    with pytest.raises(WorksheetError, match="line 2: student id ") as err:
        parse_roster(f"ok1\n{bad}\n")
    assert re.search("cannot be a file name|reserved device name|answer key", str(err.value))
    assert repr(bad[:23]).rstrip("'") in str(err.value)  # quoted as typed, NUL escaped
    assert "`" + repr(bad[:23])[1:].rstrip("'") in err.value.markdown  # as code in Markdown


def test_messages_quote_typed_text_as_code_in_markdown() -> None:
    with pytest.raises(WorksheetError) as err:
        build_worksheets(WorksheetOptions(blanks=("![x](http://e/x.png)",)), "s1")
    assert str(err.value).startswith("blank '![x](http://e/x.png)' is neither")
    assert err.value.markdown.startswith("blank `![x](http://e/x.png)` is neither")
    with pytest.raises(WorksheetError) as err:
        decode_roster(b"\xff", "roster '{x}'")
    assert str(err.value) == err.value.markdown  # no typed text: braces kept as written
    assert str(err.value).startswith("roster '{x}' is not UTF-8")


def test_roster_rules() -> None:
    assert parse_roster("\ufeffa1\r\n\r\n  b2 \n\t\n") == ["a1", "b2"]
    with pytest.raises(WorksheetError, match="line 3: student id 'S12' repeats line 1"):
        parse_roster("s12\nt1\nS12\n")
    with pytest.raises(WorksheetError, match="no student ids"):
        parse_roster("\n   \n")
    with pytest.raises(WorksheetError, match="empty"):
        check_id("")
    with pytest.raises(WorksheetError, match=r"not UTF-8 text \(byte 0xff at position 2\)"):
        decode_roster(b"s1\xff\n")
    assert decode_roster("\ufeffs1\n".encode()) == "s1\n"


def test_zip_is_deterministic_sorted_and_round_trips() -> None:
    files = build_worksheets(WorksheetOptions(shape=(2, 1)), "b\na\n")
    one, two = zip_of(files), zip_of(dict(reversed(list(files.items()))))
    assert one == two
    with zipfile.ZipFile(io.BytesIO(one)) as zf:
        assert zf.namelist() == sorted(files)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert {n: zf.read(n).decode() for n in zf.namelist()} == files


# ----------------------------------------------------------------------------- .tex compiles
@pytest.mark.tex
@pytest.mark.parametrize("o,roster", [
    (WorksheetOptions(salt="s"), ROSTER),
    (WorksheetOptions(shape=(2, 3, 2, 3), activation="relu", loss="cross_entropy",
                      blanks=("deltas", "new_w11"), count=2), None),
])
def test_every_generated_tex_compiles(o, roster) -> None:
    built = build_worksheets(o, roster)
    texs = sorted(name for name in built if name.endswith(".tex"))
    assert len(texs) == (4 if roster else 3)  # the sheets and the key
    for name in texs:
        ok, log = compile_tex(built[name])
        assert ok, (name, log)


# ----------------------------------------------------------------------------- the command line
def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.worksheet", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_help_lists_the_options() -> None:
    r = cli("--help")
    assert r.returncode == 0
    for flag in ("--roster", "--out", "--shape", "--activation", "--loss", "--lr", "--blanks",
                 "--salt", "--count", "--seed"):
        assert flag in r.stdout


def test_cli_reruns_are_byte_identical_and_match_the_library(tmp_path: Path) -> None:
    (tmp_path / "roster.txt").write_text(ROSTER, encoding="utf-8")
    args = ["--roster", str(tmp_path / "roster.txt"), "--shape", "3-2-2", "--salt", "ML2026",
            "--blanks", "forward,deltas,grad_w11,new_w11", "--loss", "mean_squared_error"]
    first, second = cli(*args, "--out", str(tmp_path / "a")), cli(*args, "--out",
                                                                   str(tmp_path / "b"))
    assert first.returncode == second.returncode == 0, first.stderr
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([f"{i}.{e}" for i in IDS for e in ("md", "tex")] + ["key.md",
                                                                              "key.tex"])
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes()
    o = WorksheetOptions(loss="mean_squared_error", salt="ML2026",
                         blanks=("forward", "deltas", "grad_w11", "new_w11"))
    assert (tmp_path / "a" / "key.md").read_text(encoding="utf-8") == build_worksheets(
        o, ROSTER)["key.md"]


@pytest.mark.parametrize("roster,message", [
    (b"ok\n../x\n", "line 2: student id '../x' cannot be a file name"),
    (b"a/b\n", "line 1: student id 'a/b' cannot be a file name"),
    (b"CON\n", "reserved device name"),
    (b"s1\n\xff\xfe\n", "is not UTF-8 text"),
    (b"\n \n", "no student ids"),
    (None, "not found"),
])
def test_cli_refuses_bad_rosters_without_a_traceback(tmp_path: Path, roster, message) -> None:
    path = tmp_path / "roster.txt"
    if roster is not None:
        path.write_bytes(roster)
    out = tmp_path / "out"
    r = cli("--roster", str(path), "--out", str(out))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not out.exists() or not any(out.iterdir())
    assert {p.name for p in tmp_path.iterdir()} <= {"out", "roster.txt"}  # nothing beside DIR


@pytest.mark.parametrize("args,message", [
    (["--shape", "3-x-2"], "not like 3-2-2"),
    (["--lr", "abc"], "--lr is not a number"),
    (["--blanks", "forward,weights"], "blank 'weights'"),
    (["--count", "0"], "make 1 to"),
    (["--activation", "gelu"], "invalid choice"),
])
def test_cli_refuses_bad_options(tmp_path: Path, args, message) -> None:
    r = cli("--out", str(tmp_path / "out"), *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_cli_never_writes_through_a_symlink_out_of_dir(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.md"
    out.mkdir()
    outside.write_text("precious", encoding="utf-8")
    (out / "s1.md").symlink_to(outside)
    (tmp_path / "roster.txt").write_text("s1\n", encoding="utf-8")
    r = cli("--roster", str(tmp_path / "roster.txt"), "--out", str(out))
    assert r.returncode == 2 and "outside" in r.stderr and "Traceback" not in r.stderr
    assert outside.read_text(encoding="utf-8") == "precious"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    r = cli("--out", str(tmp_path / "file"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
