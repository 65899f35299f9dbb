"""Reading the standard distribution files of MNIST (IDX) and CIFAR-10 (python archive).

Files come from a local folder or are downloaded on request, and are verified against the
published MD5 checksums before use. CIFAR-10's python batches are pickles, so they are only
unpickled from an archive (or batch file) whose checksum matched, and then through an
unpickler that can build nothing but NumPy arrays, lists, dicts, bytes and numbers.
Raw IDX files, which have no checksum, have their headers checked against the file before a byte
of data is read. (Just over 300 lines: the two formats share the checked download.)
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

# gzip, hashlib and tarfile are imported where they are used: a run on the sets built into the
# app (what `python -m core.train` mostly does) needs none of them.
Progress = Callable[[int, int], None]  # (bytes done, bytes total or 0 when unknown)


class DataUnavailable(Exception):
    """Files missing, corrupt, or not downloadable; the message says where to put them."""


# Published checksums (yann.lecun.com/exdb/mnist, cs.toronto.edu/~kriz/cifar.html; the same
# values torchvision checks). Tests replace these dicts to serve small files of their own.
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_URLS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_MD5: dict[str, str] = {
    CIFAR10_ARCHIVE: "c58f30108f718f92721af3b95e74349a",
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
CIFAR10_URLS: list[str] = ["https://www.cs.toronto.edu/~kriz/"]
CIFAR10_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
MNIST_PARTS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def md5_of(path: Path) -> str:
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, md5: str, progress: Progress | None = None,
             timeout: float = 30.0) -> Path:
    """Fetch url into dest, checking its MD5 on the fly; nothing is left behind on failure."""
    # Imported here: urllib.request costs 60-400 ms of every CLI start-up, and only --download
    # and the page's download button ever need it.
    import hashlib
    import urllib.error
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    h = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as f:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                f.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as e:
        part.unlink(missing_ok=True)
        raise DataUnavailable(f"could not download {url}: {e}") from None
    if h.hexdigest() != md5:
        part.unlink(missing_ok=True)
        raise DataUnavailable(
            f"downloaded {url} but its MD5 {h.hexdigest()} is not the published {md5}; "
            "the file was discarded"
        )
    os.replace(part, dest)
    return dest


def _download_any(name: str, urls: list[str], folder: Path, md5: str,
                  progress: Progress | None) -> Path:
    errors = []
    for base in urls:
        try:
            return download(base + name, folder / name, md5, progress)
        except DataUnavailable as e:
            errors.append(str(e))
    raise DataUnavailable("; ".join(errors))


# ---------------------------------------------------------------- MNIST

# Sizes a real MNIST file cannot be outside: the training images are 47 MB; a header that declares
# more than this is refused before anything is read (an 8 GB sparse file is never loaded).
MAX_IDX_BYTES = 200 * 1024 * 1024
MIN_TRAIN_IMAGES = 10  # a "training set" of one image trains silently and teaches nothing
MNIST_CLASSES = 10


def _idx_header(head: bytes, source: str) -> tuple[int, tuple[int, ...], int]:
    """(header length, shape, data bytes) of an IDX file of unsigned bytes, from its first
    bytes; the sizes are Python ints, so 2³¹ × 2³¹ × 4 is that number, never a wrapped 0."""
    if len(head) < 4 or head[:3] != b"\x00\x00\x08":
        raise DataUnavailable(f"{source} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = head[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(head) < header:
        raise DataUnavailable(f"{source} has a truncated IDX header")
    shape = tuple(int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    size = 1
    for n in shape:
        size *= n
    if size == 0:
        raise DataUnavailable(f"{source} declares shape {shape}: it holds no data")
    if size > MAX_IDX_BYTES:
        raise DataUnavailable(f"{source} declares shape {shape}, {size:,} bytes of data, more "
                              f"than any MNIST file ({MAX_IDX_BYTES:,} at most): not read")
    return header, shape, size


def read_idx_file(path: Path) -> np.ndarray:
    """An IDX file (raw or gzipped) read with its header checked first: against the file's size
    for a raw file, and by reading at most the declared size (plus one byte) from a gzip, so
    neither a huge declared size nor a huge file is ever read whole."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) == 4 and head[:3] == b"\x00\x00\x08":
                head += f.read(4 * head[3])
            header, shape, size = _idx_header(head, str(path))
            if opener is open:
                held = os.fstat(f.fileno()).st_size - header
                if held != size:
                    raise DataUnavailable(
                        f"{path} should hold {size:,} bytes of data for shape {shape} but holds "
                        f"{held:,}: the file is truncated or corrupt")
            data = f.read(size + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataUnavailable(f"{path} cannot be read ({e})") from None
    if len(data) != size:
        raise DataUnavailable(
            f"{path} should hold {size:,} bytes of data for shape {shape} but holds "
            f"{'more' if len(data) > size else f'{len(data):,}'}: the file is truncated or "
            "corrupt")
    return np.frombuffer(data, np.uint8).reshape(shape)


def mnist_where(folder: Path) -> dict[str, Path | None]:
    """For each MNIST part, the raw or .gz file present in folder (None when missing)."""
    found: dict[str, Path | None] = {}
    for part in MNIST_PARTS:
        raw, gz = folder / part, folder / (part + ".gz")
        found[part] = raw if raw.is_file() else gz if gz.is_file() else None
    return found


def mnist_hint(folder: Path) -> str:
    names = ", ".join(p + ".gz" for p in MNIST_PARTS)
    # Worded for the page as much as the command line; from Python: load_dataset(download=True).
    return (f"put the four MNIST files ({names}; gzipped or not) in {folder}, or fetch them "
            "by running `python -m core.train --dataset mnist --download` in a terminal")


def load_mnist(folder: Path, download_missing: bool = False,
               progress: Progress | None = None) -> tuple[np.ndarray, ...]:
    """(X_train (60000, 28, 28) uint8, y_train, X_test, y_test) from the IDX files in folder."""
    found = mnist_where(folder)
    if download_missing:
        for part, path in found.items():
            if path is None:
                name = part + ".gz"
                found[part] = _download_any(name, MNIST_URLS, folder, MNIST_MD5[name], progress)
    missing = [p for p, path in found.items() if path is None]
    if missing:
        raise DataUnavailable(f"MNIST files missing ({', '.join(missing)}): {mnist_hint(folder)}")
    arrays = []
    for path in found.values():
        assert path is not None
        if path.suffix == ".gz":
            expected = MNIST_MD5.get(path.name)
            if expected is not None and md5_of(path) != expected:
                raise DataUnavailable(
                    f"{path} does not match the published MD5 {expected}: it is corrupt or not "
                    f"the official file; delete it and {mnist_hint(folder)}"
                )
        arrays.append(read_idx_file(path))
    Xtr, ytr, Xte, yte = arrays
    if Xtr.ndim != 3 or ytr.ndim != 1 or Xte.ndim != 3 or yte.ndim != 1 \
            or len(Xtr) != len(ytr) or len(Xte) != len(yte) or Xte.shape[1:] != Xtr.shape[1:]:
        raise DataUnavailable(f"the MNIST files in {folder} do not fit together "
                              f"(images {Xtr.shape}/{Xte.shape}, labels {ytr.shape}/{yte.shape})")
    if len(Xtr) < MIN_TRAIN_IMAGES:
        raise DataUnavailable(f"the MNIST training files in {folder} hold {len(Xtr)} image(s); "
                              f"at least {MIN_TRAIN_IMAGES} are needed to train on")
    for labels, name in ((ytr, "training"), (yte, "test")):
        if labels.max() >= MNIST_CLASSES:
            raise DataUnavailable(
                f"the MNIST {name} labels in {folder} include {int(labels.max())}; MNIST's "
                f"labels are the digits 0 to {MNIST_CLASSES - 1}: the file is not MNIST's")
    return Xtr, ytr, Xte, yte


# ---------------------------------------------------------------- CIFAR-10

_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(1))[0],
    ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(1))[0],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global except NumPy's array reconstruction helpers."""

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def parse_cifar_batch(data: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, 32, 32, 3) uint8, y (n,) int64) from one python-version CIFAR-10 batch."""
    try:
        d = SafeUnpickler(io.BytesIO(data), encoding="bytes").load()
        X = np.asarray(d[b"data"], dtype=np.uint8)
        y = np.asarray(d[b"labels"], dtype=np.int64)
        # Rows are 3072 bytes: the 1024 red, then green, then blue values of a 32×32 image.
        X = X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError, AttributeError,
            IndexError) as e:
        raise DataUnavailable(f"{source} is not a valid CIFAR-10 batch ({e})") from None
    if len(X) != len(y):
        raise DataUnavailable(f"{source}: {len(X)} images but {len(y)} labels")
    return np.ascontiguousarray(X), y


def cifar_hint(folder: Path) -> str:
    return (f"put {CIFAR10_ARCHIVE} (the python version from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html) in {folder}, or fetch it by running "
            "`python -m core.train --dataset cifar10 --download` in a terminal")


def cifar_present(folder: Path) -> bool:
    return (folder / CIFAR10_ARCHIVE).is_file() or all(
        (folder / CIFAR10_FOLDER / b).is_file() for b in CIFAR10_BATCHES)


def _cifar_bytes_from_archive(archive: Path) -> dict[str, bytes]:
    import tarfile

    out = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for b in CIFAR10_BATCHES:
                # Read members into memory: nothing is extracted to disk, so no path tricks.
                member = tar.extractfile(f"{CIFAR10_FOLDER}/{b}")
                if member is None:
                    raise KeyError(b)
                out[b] = member.read()
    except (tarfile.TarError, KeyError, OSError, EOFError) as e:
        raise DataUnavailable(f"{archive} is not a complete CIFAR-10 archive ({e})") from None
    return out


def load_cifar10(folder: Path, download_missing: bool = False,
                 progress: Progress | None = None) -> tuple[np.ndarray, ...]:
    """(X_train (50000, 32, 32, 3) uint8, y_train, X_test, y_test) from the archive in folder."""
    import hashlib

    archive = folder / CIFAR10_ARCHIVE
    extracted = folder / CIFAR10_FOLDER
    if not cifar_present(folder):
        if not download_missing:
            raise DataUnavailable(f"CIFAR-10 not found: {cifar_hint(folder)}")
        _download_any(CIFAR10_ARCHIVE, CIFAR10_URLS, folder, CIFAR10_MD5[CIFAR10_ARCHIVE],
                      progress)
    if archive.is_file():
        if md5_of(archive) != CIFAR10_MD5[CIFAR10_ARCHIVE]:
            raise DataUnavailable(
                f"{archive} does not match the published MD5 {CIFAR10_MD5[CIFAR10_ARCHIVE]}: it "
                f"is corrupt or not the official file, so it is not unpickled; delete it and "
                f"{cifar_hint(folder)}"
            )
        blobs = _cifar_bytes_from_archive(archive)
    else:
        blobs = {}
        for b in CIFAR10_BATCHES:
            data = (extracted / b).read_bytes()
            if hashlib.md5(data, usedforsecurity=False).hexdigest() != CIFAR10_MD5[b]:
                raise DataUnavailable(
                    f"{extracted / b} does not match the published MD5 {CIFAR10_MD5[b]}, so it "
                    f"is not unpickled; {cifar_hint(folder)}"
                )
            blobs[b] = data
    parts = [parse_cifar_batch(blobs[b], b) for b in CIFAR10_BATCHES]
    Xtr = np.concatenate([p[0] for p in parts[:-1]])
    ytr = np.concatenate([p[1] for p in parts[:-1]])
    return Xtr, ytr, parts[-1][0], parts[-1][1]
