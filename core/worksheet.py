"""Worksheets from the command line: one sheet per student of a roster, and the answer key.

    python -m core.worksheet --roster roster.txt --out sheets/ --shape 3-2-2 --salt ML2026

writes sheets/<id>.md and sheets/<id>.tex for every id of the roster (one per line) and
sheets/key.md, sheets/key.tex with every student's values; without --roster, --count sheets
problem-01 … with seeds --seed, --seed + 1, …. The same roster and options give byte-identical
files. Ids that are not safe file names are refused (see core.backprop.worksheet.check_id), and
nothing is written outside DIR: every target is resolved (symlinks followed) and checked.
Errors print one line and exit with status 2; `--help` lists the options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.backprop.functions import ACTIVATIONS, LOSSES
from core.backprop.worksheet import (
    BLANK_GROUPS,
    DEFAULT_BLANKS,
    WorksheetError,
    WorksheetOptions,
    build_worksheets,
    decode_roster,
    parse_blanks,
    parse_shape,
)
from core.numbers import parse_number

MAX_ROSTER_BYTES = 1_000_000


def _parser() -> argparse.ArgumentParser:
    groups = "; ".join(f"{k}: {v}" for k, v in BLANK_GROUPS.items())
    ap = argparse.ArgumentParser(
        prog="python -m core.worksheet",
        description="Backprop practice problems with blanks to fill in, and an answer key. With "
                    "--roster every student gets their own numbers (the seed from the id and the "
                    "course salt, as on the Backprop page); without, --count numbered sheets.",
        epilog="Writes DIR/<id>.md and DIR/<id>.tex per student (DIR/problem-01.md, … without "
               "a roster) and DIR/key.md, DIR/key.tex with every value of every sheet. The same "
               "roster and options give byte-identical files. An id that is not a safe file name "
               "(../x, a/b, ., CON, key, over 64 characters, non-ASCII) or that repeats another "
               "is refused: the run writes nothing and exits with status 2, as for every error.")
    ap.add_argument("--roster", metavar="FILE", help="UTF-8 text, one student id per line "
                    "(blank lines and surrounding spaces ignored; ids: letters, digits, . _ - @ +)")
    ap.add_argument("--out", metavar="DIR", required=True, help="folder to write into (created)")
    ap.add_argument("--shape", default="3-2-2", help="units per layer, inputs first "
                    "(default 3-2-2; 1-6 units, 0-3 hidden layers)")
    ap.add_argument("--activation", choices=ACTIVATIONS, default="sigmoid",
                    help="activation of the hidden units and, except under cross-entropy, of the "
                         "outputs (default sigmoid)")
    ap.add_argument("--loss", choices=LOSSES, default="half_squared_error",
                    help="loss (default half_squared_error); cross_entropy has softmax outputs")
    ap.add_argument("--lr", "--eta", dest="lr", default="0.1", help="learning rate η (default 0.1)")
    ap.add_argument("--blanks", default=",".join(DEFAULT_BLANKS),
                    help="comma-separated groups or step names to leave blank (default: "
                         f"{','.join(DEFAULT_BLANKS)}). Groups: {groups}. A step name as the "
                         "page writes it, e.g. 'δ1^(1)', blanks that step alone")
    ap.add_argument("--salt", default="", help="course salt: the same ids get other numbers "
                    "in another course (default: none)")
    ap.add_argument("--count", default="5", help="sheets to make without a roster (default 5)")
    ap.add_argument("--seed", default="1", help="seed of the first sheet without a roster "
                    "(default 1)")
    return ap


def _read_roster(name: str) -> str:
    path = Path(name)
    try:
        if path.is_dir():
            raise WorksheetError(f"roster {name!r} is a folder, not a file")
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise WorksheetError(f"roster {name!r} is over {MAX_ROSTER_BYTES:,} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise WorksheetError(f"roster {name!r} not found") from None
    except OSError as err:
        raise WorksheetError(f"roster {name!r} cannot be read: {err.strerror}") from None
    return decode_roster(data, f"roster {name!r}")


def _write(out: Path, files: dict[str, str]) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WorksheetError(f"cannot create the folder {str(out)!r}: {err.strerror}") from None
    if not out.is_dir():
        raise WorksheetError(f"{str(out)!r} is not a folder")
    root = out.resolve()
    targets = {}
    for name in files:
        target = (root / name).resolve()  # follows a symlink already sitting at root / name
        if target.parent != root or target.name != name:
            raise WorksheetError(f"refusing to write {name!r}: it would land outside {str(out)!r}")
        targets[name] = target
    for name in sorted(files):
        try:
            targets[name].write_bytes(files[name].encode("utf-8"))
        except OSError as err:
            raise WorksheetError(f"cannot write {name!r}: {err.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        count = int(parse_number(args.count, "--count", integer=True))
        seed = int(parse_number(args.seed, "--seed", integer=True))
        lr = parse_number(args.lr, "--lr")
        options = WorksheetOptions(shape=parse_shape(args.shape), activation=args.activation,
                                   loss=args.loss, lr=lr, blanks=parse_blanks(args.blanks),
                                   salt=args.salt, count=count, first_seed=seed)
        roster = None if args.roster is None else _read_roster(args.roster)
        files = build_worksheets(options, roster)
        _write(Path(args.out), files)
    except ValueError as err:  # WorksheetError, NumberError, an overflowing trace
        print(f"{ap.prog}: error: {err}", file=sys.stderr)
        return 2
    sheets = (len(files) - 2) // 2
    print(f"wrote {sheets} sheet{'s' * (sheets != 1)} and the key ({len(files)} files) to "
          f"{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
