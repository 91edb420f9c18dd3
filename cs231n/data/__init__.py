"""The data layer: CIFAR-10 (real or synthetic), the course's standard split, and the downloader.

    from cs231n.data import get_cifar10_data
    data = get_cifar10_data()          # dict: X_train (49000, 3, 32, 32) float64, ..., "dataset"

    python -m cs231n.data download cifar10      # fetch the real dataset (170 MB)
    python -m cs231n.data info                  # what is present and where

Without the real dataset, dataset="auto" (the default) uses a synthetic CIFAR-like stand-in with the
same sizes and prints a one-line notice. Environment variables: CS231N_DATA_DIR, CS231N_CIFAR10_DIR,
CS231N_DATASET, CS231N_CIFAR10_URL (see `paths`, `dataset` and `download`).
"""

from .cifar10 import CIFAR10_CLASSES, load_cifar10, load_cifar10_batch, load_cifar10_uint8
from .dataset import get_cifar10_data, load_dataset, load_synthetic, resolve_dataset
from .download import download_cifar10
from .errors import ChecksumError, DatasetError, DatasetFormatError, DatasetNotFoundError, DownloadError
from .localization import LOCALIZATION_CLASSES, make_synthetic_detection, make_synthetic_localization
from .paths import DOWNLOAD_COMMAND, cifar10_dir, cifar10_present, data_dir

__all__ = [
    "CIFAR10_CLASSES",
    "DOWNLOAD_COMMAND",
    "ChecksumError",
    "DatasetError",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "LOCALIZATION_CLASSES",
    "cifar10_dir",
    "cifar10_present",
    "data_dir",
    "download_cifar10",
    "get_cifar10_data",
    "load_cifar10",
    "load_cifar10_batch",
    "load_cifar10_uint8",
    "load_dataset",
    "load_synthetic",
    "make_synthetic_detection",
    "make_synthetic_localization",
    "resolve_dataset",
]
