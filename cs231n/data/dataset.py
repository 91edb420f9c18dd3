"""Choosing the dataset (real CIFAR-10 or the synthetic stand-in) and the course's standard split.

Which dataset, in order of precedence:
1. env `CS231N_DATASET` ("cifar10", "synthetic" or "auto"), when set;
2. the `dataset` argument;
"auto" means CIFAR-10 when its folder is present, else the synthetic dataset with a one-line notice
on stdout (never stderr: a graded notebook cell that writes to stderr scores zero).

The synthetic dataset has CIFAR-10's sizes (50,000 train, 10,000 test) so every split behaves the
same. Generating it takes a while, so the first call caches it as an .npz in the data dir, keyed by
seed and generator version; later calls load the cache in a fraction of a second. The cache is not
zlib-compressed: the images are noisy enough that compression saved only 7% of 184 MB while making
every load 10x slower (1.5 s instead of 0.13 s, measured); set CACHE_COMPRESSED to change that.
Uncompressed, its arrays are memory-mapped (read-only) rather than read: a notebook that uses the
first 1000 images reads those, not 184 MB, which matters when a grading machine runs many kernels.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .cifar10 import CIFAR10_CLASSES, load_cifar10_uint8
from .errors import DatasetNotFoundError
from .paths import DOWNLOAD_COMMAND, check_settings, cifar10_dir, cifar10_present, data_dir

DATASETS = ("auto", "cifar10", "synthetic")

#: Sizes (train, test) of the synthetic dataset: CIFAR-10's.
SYNTHETIC_SIZES = (50000, 10000)
SYNTHETIC_SEED = 0

#: Whether the synthetic cache is written with np.savez_compressed (see the module docstring).
CACHE_COMPRESSED = False

#: Seed of the random dev subset drawn from the training split.
DEV_SEED = 0


def resolve_dataset(name: str = "auto", quiet: bool = False) -> str:
    """
    Decide which dataset to use.

    Inputs:
    - name: "auto", "cifar10" or "synthetic"; env CS231N_DATASET overrides it when set.
    - quiet: if True, do not print the notice when "auto" falls back to synthetic.

    Returns:
    - str: "cifar10" or "synthetic".

    Raises:
    - ValueError: an unknown name (argument or env var).
    - DatasetNotFoundError: "cifar10" was asked for and is not present (names the download command).
    """
    return choose_dataset(name, real="cifar10", env_var="CS231N_DATASET", present=cifar10_present(),
                          where=cifar10_dir(), real_title="CIFAR-10", synthetic_title="synthetic CIFAR-like dataset",
                          download_command=DOWNLOAD_COMMAND, quiet=quiet)


def choose_dataset(name: str, *, real: str, env_var: str, present: bool, where: Path, real_title: str,
                   synthetic_title: str, download_command: str, quiet: bool = False) -> str:
    """
    The policy shared by every dataset of the kit: real data when present, else the synthetic stand-in.

    Inputs:
    - name: "auto", `real` or "synthetic"; the environment variable `env_var` overrides it when set.
    - real: the real dataset's name ("cifar10", "coco"); present: whether it is on disk, at `where`.
    - real_title, synthetic_title: names for messages; download_command: how to fetch the real one.
    - quiet: if True, do not print the notice when "auto" falls back to synthetic.

    Returns `real` or "synthetic". Raises ValueError for an unknown name and DatasetNotFoundError when
    the real dataset is asked for and missing (the message names the download command).
    """
    check_settings()  # an explicit setting that cannot be honoured is an error, never a silent fallback
    env = os.environ.get(env_var, "").strip().lower()
    source = env_var if env else "dataset"
    choice = env or name
    choices = ("auto", real, "synthetic")
    if choice not in choices:
        raise ValueError(f"{source}={choice!r} is not one of {', '.join(choices)}.")
    if choice == real and not present:
        raise DatasetNotFoundError(
            f"{real_title} was requested ({source}={real}) but {where} does not hold it. "
            f"Fetch it with `{download_command}`, or use dataset='synthetic'."
        )
    if choice == "auto":
        choice = real if present else "synthetic"
        if choice == "synthetic" and not quiet:
            print(
                f"Note: {real_title} not found at {where}; using the {synthetic_title} "
                f"(get the real one with `{download_command}`)."
            )
    return choice


def _synthetic_version() -> str:
    """The generator's declared version plus a digest of its source, so that a cache written by any
    other revision of the generator is never read back."""
    import hashlib

    from . import synthetic

    digest = hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()[:8]
    return f"{getattr(synthetic, 'SYNTHETIC_VERSION', '0')}-{digest}"


def synthetic_cache_path(seed: int = SYNTHETIC_SEED) -> Path:
    """
    The .npz file caching the synthetic dataset for this seed, sizes and generator version.

    Inputs:
    - seed: the generator's seed.

    Returns:
    - Path inside `data_dir()` (the file may not exist).
    """
    n_train, n_test = SYNTHETIC_SIZES
    name = f"synthetic-cifar10-v{_synthetic_version()}-seed{seed}-{n_train}-{n_test}.npz"
    return data_dir() / name


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """
    The arrays of an .npz file; those stored uncompressed are memory-mapped read-only, so only the
    parts used are ever read from disk.

    Returns a dict: member name without ".npy" -> array (a plain ndarray view of the mapping).
    Raises zipfile.BadZipFile, ValueError or OSError when the file is damaged or truncated.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as f:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with archive.open(info) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            # The member's bytes are a plain .npy file after its local header (30 bytes, name, extra).
            f.seek(info.header_offset)
            local = f.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"bad local header for {info.filename}")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            f.seek(info.header_offset + 30 + name_len + extra_len)
            fmt = np.lib.format
            version = fmt.read_magic(f)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran_order, dtype = read_header(f)
            if dtype.hasobject:
                raise ValueError(f"{info.filename} holds Python objects")
            mapped = np.memmap(path, dtype=dtype, mode="r", offset=f.tell(), shape=shape,
                               order="F" if fortran_order else "C")
            arrays[name] = np.asarray(mapped)
    return arrays


def _read_synthetic_cache(path: Path) -> tuple[np.ndarray, ...] | None:
    """Return the four arrays of a valid cache file, or None when it is missing or unusable."""
    n_train, n_test = SYNTHETIC_SIZES
    try:
        members = _npz_arrays(path)
        arrays = tuple(members[k] for k in ("X_train", "y_train", "X_test", "y_test"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    X_train, y_train, X_test, y_test = arrays
    ok = (
        X_train.shape == (n_train, 32, 32, 3)
        and X_test.shape == (n_test, 32, 32, 3)
        and X_train.dtype == X_test.dtype == np.uint8
        and y_train.shape == (n_train,)
        and y_test.shape == (n_test,)
    )
    return arrays if ok else None


def load_synthetic(seed: int = SYNTHETIC_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    The synthetic CIFAR-like dataset, from the cache when valid, else generated and cached.

    Inputs:
    - seed: the generator's seed.

    Returns a tuple of (sizes from SYNTHETIC_SIZES, CIFAR-10's by default):
    - X_train: uint8 array of shape (50000, 32, 32, 3).
    - y_train: int64 array of shape (50000,), labels in 0..9.
    - X_test: uint8 array of shape (10000, 32, 32, 3).
    - y_test: int64 array of shape (10000,).
    Arrays read from the cache are read-only views of the file (copy them to modify them).
    """
    from . import synthetic

    path = synthetic_cache_path(seed)
    cached = _read_synthetic_cache(path) if path.is_file() else None
    if cached is not None:
        X_train, y_train, X_test, y_test = cached
    else:  # missing or corrupt: (re)generate
        X_train, y_train, X_test, y_test = synthetic.make_synthetic_cifar(*SYNTHETIC_SIZES, seed=seed)
        X_train, X_test = (np.asarray(X, dtype=np.uint8) for X in (X_train, X_test))
        y_train, y_test = (np.asarray(y, dtype=np.int64) for y in (y_train, y_test))
        _write_cache(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)


_unwritable_said: set[Path] = set()


def _cannot_cache(folder: Path, exc: OSError) -> None:
    """Say once per folder that the synthetic set cannot be cached there, and how to fix it."""
    if folder in _unwritable_said:
        return
    _unwritable_said.add(folder)
    print(f"Note: the synthetic dataset cannot be cached in {folder} ({exc.strerror or exc}), so it is made "
          f"again every time it is loaded (about a minute). Set CS231N_DATA_DIR to a writable folder with free "
          f"space to keep it.")


def _write_cache(path: Path, **arrays: np.ndarray) -> None:
    """Write the cache atomically (temporary file, then rename); a read-only or full data dir is said
    once, not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz.part")
    except OSError as exc:
        _cannot_cache(path.parent, exc)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if CACHE_COMPRESSED else np.savez)(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp creates it private
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        _cannot_cache(path.parent, exc)


def load_dataset(name: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Raw access to the chosen dataset, before any split or preprocessing.

    Inputs:
    - name: "auto", "cifar10" or "synthetic" (env CS231N_DATASET overrides; see `resolve_dataset`).

    Returns a tuple of:
    - X_train: uint8 array of shape (50000, 32, 32, 3).
    - y_train: int64 array of shape (50000,), labels in 0..9.
    - X_test: uint8 array of shape (10000, 32, 32, 3).
    - y_test: int64 array of shape (10000,).
    (For float64 CIFAR-10 as the original kit loaded it, use `load_cifar10`.) The synthetic arrays
    are read-only views of the cache file; `get_cifar10_data` returns new, writable arrays.
    """
    return _load_resolved(resolve_dataset(name))


def _load_resolved(used: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load "cifar10" or "synthetic" (already resolved: no env lookup, no notice)."""
    return load_cifar10_uint8(cifar10_dir()) if used == "cifar10" else load_synthetic()


def get_cifar10_data(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    num_dev: int = 500,
    subtract_mean: bool = True,
    channels_first: bool = True,
    dataset: str = "auto",
) -> dict:
    """
    Load a dataset and split it as the original course did.

    - train: the first num_training training images;
    - val: the num_validation training images right after those;
    - test: the first num_test test images;
    - dev: num_dev images of the train split drawn at random without replacement (fixed seed
      DEV_SEED), for quick experiments; after preprocessing, so it is an exact subset of X_train.

    Inputs:
    - num_training, num_validation, num_test, num_dev: split sizes
      (num_training + num_validation <= 50000, num_test <= 10000, num_dev <= num_training).
    - subtract_mean: subtract the mean image of the train split from every split.
    - channels_first: return images as (N, 3, 32, 32) instead of (N, 32, 32, 3).
    - dataset: "auto", "cifar10" or "synthetic"; env CS231N_DATASET overrides it.

    Returns a dict with:
    - X_train, X_val, X_test, X_dev: float64 C-contiguous arrays of shape (N, 3, 32, 32)
      (or (N, 32, 32, 3) when channels_first is False); pixel values 0..255 minus the mean image.
      float64 like the original kit, because the notebooks' gradient checks need it.
    - y_train, y_val, y_test, y_dev: int64 arrays of shape (N,), labels in 0..9.
    - class_names: list of the ten class names, in label order.
    - dataset: "cifar10" or "synthetic", the one actually used.
    """
    used = resolve_dataset(dataset)
    X_all, y_all, X_test_all, y_test_all = _load_resolved(used)
    n_train_all, n_test_all = len(X_all), len(X_test_all)
    if min(num_training, num_validation, num_test, num_dev) < 0:
        raise ValueError("split sizes must be non-negative")
    if num_training + num_validation > n_train_all:
        raise ValueError(
            f"num_training + num_validation = {num_training + num_validation} exceeds the {n_train_all} training images"
        )
    if num_test > n_test_all:
        raise ValueError(f"num_test = {num_test} exceeds the {n_test_all} test images")
    if num_dev > num_training:
        raise ValueError(f"num_dev = {num_dev} exceeds num_training = {num_training}")

    splits = {
        "train": (X_all[:num_training], y_all[:num_training]),
        "val": (
            X_all[num_training : num_training + num_validation],
            y_all[num_training : num_training + num_validation],
        ),
        "test": (X_test_all[:num_test], y_test_all[:num_test]),
    }
    if channels_first:  # a free view for CIFAR-10, whose batches are stored channels-first
        splits = {k: (X.transpose(0, 3, 1, 2), y) for k, (X, y) in splits.items()}
    mean_image = splits["train"][0].mean(axis=0) if subtract_mean and num_training else None

    data = {}
    for split, (X, y) in splits.items():
        X = X.astype(np.float64, order="C")  # a new array: the loaded data is never modified
        if mean_image is not None:
            X -= mean_image
        data[f"X_{split}"] = X
        data[f"y_{split}"] = np.array(y, dtype=np.int64)

    dev = np.sort(np.random.default_rng(DEV_SEED).choice(num_training, num_dev, replace=False))
    data["X_dev"] = data["X_train"][dev]
    data["y_dev"] = data["y_train"][dev]
    data["class_names"] = list(CIFAR10_CLASSES)
    data["dataset"] = used
    return data
