"""Loader for CIFAR-10 in its official "python version" layout.

The official archive (https://www.cs.toronto.edu/~kriz/cifar.html) unpacks to a folder
`cifar-10-batches-py/` with five training batches `data_batch_1..5` and one `test_batch`, 10,000
images each. Every batch is a dictionary pickled under Python 2:

    "data"   : uint8 array of shape (10000, 3072); each row is one 32x32 image stored as
               1024 red values, then 1024 green, then 1024 blue, each plane row-major.
    "labels" : list of 10000 ints in 0..9 (indices into CIFAR10_CLASSES).

Python 2 strings load in Python 3 with `encoding="latin1"` (keys become str, and NumPy decodes the
array bytes correctly). The unpickler below accepts only the handful of NumPy globals that the
official files use, so a foreign pickle cannot run code while being "loaded as a dataset".
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from .errors import DatasetFormatError, DatasetNotFoundError
from .paths import CIFAR10_BATCH_FILES, DOWNLOAD_COMMAND, cifar10_dir

#: The ten classes, in label order (label 0 is "airplane", ..., label 9 is "truck").
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

IMAGE_SHAPE = (32, 32, 3)  # height, width, channels
_ROW_LENGTH = 32 * 32 * 3

# (module, name) pairs a CIFAR-10 batch may reference. Old pickles name `numpy.core`, which NumPy 2
# renamed to `numpy._core`; `find_class` maps it, which also avoids a deprecation warning.
_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # bytes pickled by Python 3 with protocol 2
    ("builtins", "bytes"),
}


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of `_ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str):
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        module = {"__builtin__": "builtins"}.get(module, module)
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed in a CIFAR-10 batch")
        return super().find_class(module, name)


def _missing_folder_message(root: Path) -> str:
    return (
        f"CIFAR-10 not found: {root} does not hold the batch files {', '.join(CIFAR10_BATCH_FILES)}. "
        f"Fetch it with `{DOWNLOAD_COMMAND}` (about 170 MB), or set CS231N_CIFAR10_DIR to the "
        f"cifar-10-batches-py folder of an existing copy."
    )


def load_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """
    Load one CIFAR-10 batch file (`data_batch_i` or `test_batch`).

    Inputs:
    - path: the batch file.

    Returns a tuple of:
    - X: uint8 array of shape (N, 32, 32, 3), images in height, width, channel order
      (a view into the file's (N, 3, 32, 32) data; N is 10000 for the official files).
    - y: int64 array of shape (N,), labels in 0..9.

    Raises:
    - DatasetNotFoundError: the file does not exist.
    - DatasetFormatError: the file is truncated, not a pickle, or not a CIFAR-10 batch.
    """
    path = Path(path)
    expected = (
        'a Python-2 pickled dict with "data" (uint8 array of shape (N, 3072)) and "labels" '
        "(N ints in 0..9), as in the official cifar-10-python.tar.gz"
    )
    if not path.is_file():
        raise DatasetNotFoundError(f"CIFAR-10 batch file {path} does not exist. Expected {expected}.")
    try:
        with open(path, "rb") as f:
            batch = _BatchUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise DatasetFormatError(
            f"{path} is not a readable CIFAR-10 batch (truncated or corrupt? {type(e).__name__}: {e}). "
            f"Expected {expected}. Delete the folder and fetch it again with `{DOWNLOAD_COMMAND}`."
        ) from e

    if not isinstance(batch, dict):
        raise DatasetFormatError(f"{path} holds a {type(batch).__name__}, not a dict. Expected {expected}.")
    # Python 2 str keys load as str with latin1; keys pickled as bytes by Python 3 load as bytes.
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = [k for k in ("data", "labels") if k not in batch]
    if missing:
        raise DatasetFormatError(
            f"{path} lacks the key(s) {missing} (it has {sorted(map(str, batch))}). Expected {expected}."
        )

    data = batch["data"]
    if not (isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == _ROW_LENGTH):
        shape = getattr(data, "shape", type(data).__name__)
        raise DatasetFormatError(f'{path}: "data" has shape {shape}, expected (N, {_ROW_LENGTH}) uint8.')
    if data.dtype != np.uint8:
        raise DatasetFormatError(f'{path}: "data" has dtype {data.dtype}, expected uint8.')
    try:
        y = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise DatasetFormatError(f'{path}: "labels" is not a list of ints ({e}).') from e
    if y.shape != (data.shape[0],):
        raise DatasetFormatError(
            f'{path}: "labels" has shape {y.shape}, expected ({data.shape[0]},), one label per image.'
        )
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetFormatError(f"{path}: labels span {y.min()}..{y.max()}, expected 0..9.")

    # (N, 3072) -> (N, 3, 32, 32) planes -> (N, 32, 32, 3) view; no copy yet.
    X = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return X, y


def load_cifar10_uint8(
    root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Load all of CIFAR-10 as raw uint8 pixels (what `load_cifar10` returns, before the float cast).

    Inputs:
    - root: the `cifar-10-batches-py` folder; default `paths.cifar10_dir()`.

    Returns a tuple of:
    - X_train: uint8 array of shape (50000, 32, 32, 3). It is a transposed view of a C-contiguous
      (50000, 3, 32, 32) array, so `X_train.transpose(0, 3, 1, 2)` is channels-first at no cost.
    - y_train: int64 array of shape (50000,).
    - X_test: uint8 array of shape (10000, 32, 32, 3), laid out like X_train.
    - y_test: int64 array of shape (10000,).
    (Sizes are those of the official files; smaller batches load the same way.)
    """
    root = Path(root) if root is not None else cifar10_dir()
    if not root.is_dir():
        raise DatasetNotFoundError(_missing_folder_message(root))
    absent = [name for name in CIFAR10_BATCH_FILES if not (root / name).is_file()]
    if absent:
        raise DatasetNotFoundError(
            f"{_missing_folder_message(root)} Missing: {', '.join(absent)} (an interrupted extraction?)."
        )

    train = [load_cifar10_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    X_test, y_test = load_cifar10_batch(root / "test_batch")
    # Concatenate in channels-first order so the result is one contiguous block.
    X_train = np.concatenate([X.transpose(0, 3, 1, 2) for X, _ in train]).transpose(0, 2, 3, 1)
    y_train = np.concatenate([y for _, y in train])
    return X_train, y_train, X_test, y_test


def load_cifar10(
    root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Load CIFAR-10 from the official python batches, as the original course kit did.

    Inputs:
    - root: the `cifar-10-batches-py` folder; default `paths.cifar10_dir()`
      (env CS231N_CIFAR10_DIR, else `<data dir>/cifar-10-batches-py`).

    Returns a tuple of:
    - X_train: float64 array of shape (50000, 32, 32, 3), pixel values 0..255 (not normalised).
    - y_train: int64 array of shape (50000,), labels in 0..9 (see CIFAR10_CLASSES).
    - X_test: float64 array of shape (10000, 32, 32, 3).
    - y_test: int64 array of shape (10000,).

    float64 because the notebooks subtract the mean image and compute distances and gradients in
    float64; the arrays take about 1.5 GB. Use `load_cifar10_uint8` for the raw 180 MB.

    Raises:
    - DatasetNotFoundError: the folder or a batch file is missing (the message names the command
      `python -m cs231n.data download cifar10`).
    - DatasetFormatError: a batch file is truncated, corrupt or not a CIFAR-10 batch.
    """
    X_train, y_train, X_test, y_test = load_cifar10_uint8(root)
    return (
        X_train.astype(np.float64, order="C"),
        y_train,
        X_test.astype(np.float64, order="C"),
        y_test,
    )
