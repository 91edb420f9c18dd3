"""Where the datasets live on disk.

Resolution order (first match wins):

- CIFAR-10: env `CS231N_CIFAR10_DIR` (the `cifar-10-batches-py` folder itself), else
  `<data dir>/cifar-10-batches-py`.
- Data dir: env `CS231N_DATA_DIR`, else `cs231n/datasets/` inside the installed package
  (git-ignored, where `get_datasets.sh` also lives).

Everything is resolved at call time, so setting an environment variable in a notebook (or with
pytest's monkeypatch) takes effect on the next call.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The command that fetches the real dataset; quoted in every "not found" message.
DOWNLOAD_COMMAND = "python -m cs231n.data download cifar10"

#: Name of the folder the official archive extracts to.
CIFAR10_FOLDER = "cifar-10-batches-py"

#: Files that a complete `cifar-10-batches-py` folder must hold.
CIFAR10_BATCH_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def data_dir() -> Path:
    """
    The folder holding downloaded and generated datasets.

    Returns:
    - Path: env `CS231N_DATA_DIR` when set and non-empty, else `<package>/datasets`.
      The folder may not exist yet.
    """
    env = os.environ.get("CS231N_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "datasets"


def cifar10_dir() -> Path:
    """
    The `cifar-10-batches-py` folder that `load_cifar10` reads by default.

    Returns:
    - Path: env `CS231N_CIFAR10_DIR` when set and non-empty, else `data_dir() / "cifar-10-batches-py"`.
    """
    env = os.environ.get("CS231N_CIFAR10_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    return data_dir() / CIFAR10_FOLDER


def cifar10_present(root: str | os.PathLike | None = None) -> bool:
    """
    Whether a CIFAR-10 folder with all six batch files exists (contents are not checked).

    Inputs:
    - root: the `cifar-10-batches-py` folder; default `cifar10_dir()`.

    Returns:
    - bool: True when every file of `CIFAR10_BATCH_FILES` is a regular file under root.
    """
    root = Path(root) if root is not None else cifar10_dir()
    return all((root / name).is_file() for name in CIFAR10_BATCH_FILES)
