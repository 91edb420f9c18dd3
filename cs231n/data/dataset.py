"""Choosing the dataset (real CIFAR-10 or the synthetic stand-in) and the course's standard split.

Which dataset, in order of precedence:
1. env `CS231N_DATASET` ("cifar10", "synthetic" or "auto"), when set;
2. the `dataset` argument;
"auto" means CIFAR-10 when its folder is present, else the synthetic dataset with a one-line notice
on stdout (never stderr: a graded notebook cell that writes to stderr scores zero).

The synthetic dataset has CIFAR-10's sizes (50,000 train, 10,000 test) so every split behaves the
same. Generating it takes a while, so the first call caches it in the data dir as a folder of .npy
files (X_train.npy, y_train.npy, X_test.npy, y_test.npy), keyed by seed, sizes and generator version;
later calls load the cache in a fraction of a second. The files are opened with
`np.load(path, mmap_mode="r")`: memory-mapped (read-only) rather than read, so a notebook that uses
the first 1000 images reads those, not 184 MB, which matters when a grading machine runs many kernels.
(They are not compressed: the images are noisy enough that compression saved only 7% of the size
while making every load 10x slower, measured.) The folder is written under a temporary name and
renamed when complete, so a half-written cache is never read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .cifar10 import CIFAR10_CLASSES, load_cifar10_uint8
from .errors import DatasetNotFoundError
from .paths import DOWNLOAD_COMMAND, check_settings, cifar10_dir, cifar10_present, data_dir

DATASETS = ("auto", "cifar10", "synthetic")

#: Sizes (train, test) of the synthetic dataset: CIFAR-10's.
SYNTHETIC_SIZES = (50000, 10000)
SYNTHETIC_SEED = 0

#: Layout of the synthetic cache on disk, part of its name: 1 was one .npz file, 2 a folder of .npy files.
CACHE_LAYOUT = 2

#: The arrays of the synthetic cache, one .npy file each, in the order load_synthetic returns them.
CACHE_ARRAYS = ("X_train", "y_train", "X_test", "y_test")

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

    h = hashlib.sha256()
    for source in synthetic.GENERATOR_FILES:
        h.update(source.read_bytes())
    return f"{getattr(synthetic, 'SYNTHETIC_VERSION', '0')}-{h.hexdigest()[:8]}"


def synthetic_cache_path(seed: int = SYNTHETIC_SEED) -> Path:
    """
    The folder caching the synthetic dataset for this seed, sizes, generator version and cache layout.

    Inputs:
    - seed: the generator's seed.

    Returns:
    - Path inside `data_dir()` (the folder may not exist); it holds one .npy file per CACHE_ARRAYS name.
    """
    n_train, n_test = SYNTHETIC_SIZES
    name = f"synthetic-cifar10-v{_synthetic_version()}-seed{seed}-{n_train}-{n_test}-layout{CACHE_LAYOUT}"
    return data_dir() / name


def _read_synthetic_cache(folder: Path) -> tuple[np.ndarray, ...] | None:
    """
    The four arrays of a complete cache folder, memory-mapped read-only.

    Inputs:
    - folder: the cache folder (see synthetic_cache_path).

    Returns the arrays in CACHE_ARRAYS order, or None when the folder is missing, a file is missing or
    damaged, or a shape or dtype is not the expected one.
    """
    n_train, n_test = SYNTHETIC_SIZES
    try:
        arrays = tuple(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in CACHE_ARRAYS)
    except (OSError, ValueError, EOFError):
        return None
    X_train, y_train, X_test, y_test = arrays
    ok = (
        X_train.shape == (n_train, 32, 32, 3)
        and X_test.shape == (n_test, 32, 32, 3)
        and X_train.dtype == X_test.dtype == np.uint8
        and y_train.shape == (n_train,)
        and y_test.shape == (n_test,)
    )
    return tuple(np.asarray(a) for a in arrays) if ok else None


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
    Arrays read from the cache are read-only views of its files (copy them to modify them).
    """
    from . import synthetic

    folder = synthetic_cache_path(seed)
    cached = _read_synthetic_cache(folder)
    if cached is not None:
        X_train, y_train, X_test, y_test = cached
    else:  # missing or damaged: (re)generate
        X_train, y_train, X_test, y_test = synthetic.make_synthetic_cifar(*SYNTHETIC_SIZES, seed=seed)
        X_train, X_test = (np.asarray(X, dtype=np.uint8) for X in (X_train, X_test))
        y_train, y_test = (np.asarray(y, dtype=np.int64) for y in (y_train, y_test))
        _write_cache(folder, dict(zip(CACHE_ARRAYS, (X_train, y_train, X_test, y_test), strict=True)))
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


def _write_cache(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """
    Write the cache folder atomically: the .npy files go into a temporary folder beside it, which is
    renamed to `folder` once complete (a damaged folder already there is replaced). A read-only or full
    data dir is said once, not an error.

    Inputs:
    - folder: the cache folder to create.
    - arrays: name -> array; each becomes `<name>.npy`.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-", suffix=".part"))
    except OSError as exc:
        _cannot_cache(folder.parent, exc)
        return
    damaged = tmp.with_name(tmp.name + "-damaged")
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        os.chmod(tmp, 0o755)  # mkdtemp creates it private
        if folder.exists():  # a damaged cache (a good one would have been read): moved aside, deleted below
            os.replace(folder, damaged)
        os.replace(tmp, folder)
    except OSError as exc:
        if _read_synthetic_cache(folder) is None:  # unless another process put a good one there first
            _cannot_cache(folder.parent, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(damaged, ignore_errors=True)


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
    are read-only views of the cache files; `get_cifar10_data` returns new, writable arrays.
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
