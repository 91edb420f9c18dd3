"""Exceptions of the data layer. Every message names the file involved and what was expected.

DatasetError                      base class: `except DatasetError` catches all of them
+-- DatasetSettingError           also a ValueError: a data setting (environment variable) that cannot be honoured
+-- DatasetNotFoundError          also a FileNotFoundError: folder or file missing
+-- DatasetFormatError            also a ValueError: truncated, corrupt or foreign file
+-- DownloadError                 also an OSError: network failure, bad archive
    +-- ChecksumError             also a ValueError: downloaded bytes differ from the official ones
"""

from __future__ import annotations


class DatasetError(Exception):
    """Base class of every data-layer error."""


class DatasetSettingError(DatasetError, ValueError):
    """An explicit data setting (CS231N_CIFAR10_DIR, CS231N_DATA_DIR ...) points at something unusable."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset folder or file does not exist."""


class DatasetFormatError(DatasetError, ValueError):
    """A dataset file exists but is not what the loader expects (truncated, corrupt or foreign)."""


class DownloadError(DatasetError, OSError):
    """Fetching or unpacking a dataset archive failed."""


class ChecksumError(DownloadError, ValueError):
    """The downloaded archive's size or digest differs from the published one."""
