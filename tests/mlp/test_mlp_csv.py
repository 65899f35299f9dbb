"""Your own CSV data: read, split and standardised like the built-in sets; every bad file one
sentence; the command line's --csv PATH --label COLUMN."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.mlp.csvdata import MAX_BYTES, CsvError, csv_header, read_csv, store_upload
from core.mlp.datasets import load_dataset


def two_d(n: int = 200, seed: int = 0) -> str:
    """Two features on very different scales (x1 in ±5, x2 in 100…300) and a two-class label
    that is positive where x1·(x2 − 200) > 0: an XOR-like quadrant pattern."""
    rng = np.random.default_rng(seed)
    lines = ["x1,x2,label"]
    for _ in range(n):
        a, b = rng.uniform(-5, 5), rng.uniform(100, 300)
        lines.append(f"{a:.4f},{b:.3f},{'red' if a * (b - 200) > 0 else 'blue'}")
    return "\n".join(lines) + "\n"


def test_a_csv_file_is_split_standardised_and_described(tmp_path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(two_d())
    d = load_dataset("csv", csv=path, label="label", seed=3)
    # 200 rows: 40 (20%) to test, then 16 (10% of 160) to validate, 144 to train
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (144, 16, 40)
    assert d.n_features == 2 and d.n_classes == 2 and d.classes == ("blue", "red")
    assert d.features == ("x1", "x2") and d.image_shape == (2,)
    # Each column standardised with its own training statistics: mean 0, deviation 1 exactly.
    assert np.allclose(d.X_train.mean(axis=0), 0, atol=1e-6)
    assert np.allclose(d.X_train.std(axis=0), 1, atol=1e-5)
    X, y, _, _ = read_csv(path.read_bytes(), "label")
    # μ and σ over every raw training feature value, as the built-in sets state theirs
    again = load_dataset("csv", csv=path, label="label", seed=3)
    assert d.mean == again.mean and np.array_equal(d.y_test, again.y_test)
    assert min(X[:, 0].mean(), X[:, 1].mean()) < d.mean < max(X[:, 0].mean(), X[:, 1].mean())
    other = load_dataset("csv", csv=path, label="label", seed=4)
    assert not np.array_equal(d.y_test, other.y_test)  # the seed chooses the split
    assert "`two.csv`" in d.source and "`label`" in d.source


BAD = {
    "empty": (b"", "The CSV file is empty"),
    "blank-lines": (b"\n\n  \n", "The CSV file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "holds binary data"),
    "not-utf8": ("x,label\n" + "é,1\n" * 30).encode("latin-1"),
    "no-commas": (b"hello world\nthis is prose\n", "its first line has no commas"),
    "no-header": (("\n".join(f"{i},{i % 2}" for i in range(30)) + "\n").encode(),
                  "has no header: its first row is numbers"),
    "label-missing": (("a,b,c\n" + "1,2,3\n" * 30).encode(),
                      "has no column `label`; its columns are `a`, `b`, `c`"),
    "one-class": (("a,label\n" + "1,x\n" * 30).encode(), "holds one class only (`x`)"),
    "non-numeric": (("a,b,label\n" + "1,2,0\n" * 10 + "1,**two**,1\n" + "1,2,1\n" * 10).encode(),
                    "Column `b`, row 12: `**two**` is not a number"),
    "nan": (("a,b,label\n" + "1,2,0\n" * 10 + "nan,2,1\n" + "1,2,1\n" * 10).encode(),
            "Column `a`, row 12: `nan` is not a finite number"),
    "empty-cell": (("a,b,label\n" + "1,2,0\n" * 10 + "1,,1\n" + "1,2,1\n" * 10).encode(),
                   "Column `b`, row 12: `` is not a number"),
    "ragged": (("a,b,label\n" + "1,2,0\n" * 10 + "1,2\n" + "1,2,1\n" * 10).encode(),
               "Row 12 of the CSV file has 2 values but the header has 3 columns"),
    "too-few-rows": (("a,label\n" + "1,0\n2,1\n").encode(), "has 2 data row(s); at least 20"),
    "duplicate-name": (("a,a,label\n" + "1,2,0\n" * 30).encode(), "names `a` more than once"),
}
BAD["not-utf8"] = (BAD["not-utf8"], "not a CSV file of UTF-8 text")


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_file_gets_one_sentence(case) -> None:
    data, message = BAD[case]
    with pytest.raises(CsvError) as caught:
        read_csv(data, "label")
    assert message in str(caught.value) and str(caught.value).count(".") >= 1


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path) -> None:
    """A 200 MB file (sparse: nothing is written) is refused by its size."""
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.write(b"a,label\n")
        f.truncate(200 * 2**20)
    with pytest.raises(CsvError, match=r"200\.0 MB; at most 20 MB"):
        load_dataset("csv", csv=big, label="label")
    with pytest.raises(CsvError, match="at most 20 MB"):
        read_csv(b"a,label\n" + b"1,0\n" * (MAX_BYTES // 4), "label")


def test_the_header_is_read_from_the_first_line_and_uploads_kept_by_contents(tmp_path) -> None:
    data = two_d().encode()
    assert csv_header(data) == ["x1", "x2", "label"]
    first = store_upload(data, tmp_path)
    assert store_upload(data, tmp_path) == first and first.read_bytes() == data
    assert store_upload(data + b"1,2,red\n", tmp_path) != first


def test_the_command_line_trains_on_a_csv_file(tmp_path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(two_d())
    out = subprocess.run([sys.executable, "-m", "core.train", "--csv", str(path), "--label",
                          "label", "--hidden", "16", "--epochs", "2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"n_train": 144' in out.stdout.splitlines()[-1]
    bad = subprocess.run([sys.executable, "-m", "core.train", "--csv", str(path), "--label",
                          "colour"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "no column 'colour'" in bad.stderr
    alone = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "csv"],
                           capture_output=True, text=True, timeout=60)
    assert alone.returncode == 2 and "--csv PATH --label COLUMN" in alone.stderr
    both = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "xor", "--csv",
                           str(path), "--label", "label"], capture_output=True, text=True,
                          timeout=60)
    assert both.returncode == 2 and "leave --dataset out" in both.stderr
    missing = subprocess.run([sys.executable, "-m", "core.train", "--csv", str(tmp_path / "no"),
                              "--label", "y"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
