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


def setting_problems() -> list[str]:
    """What is wrong with the data settings that are set explicitly (one sentence each, naming the
    setting and the fix); [] when every one of them can be honoured."""
    problems = []
    cifar = os.environ.get("CS231N_CIFAR10_DIR", "").strip()
    if cifar:
        root = Path(cifar).expanduser()
        if not root.exists():
            why = "it does not exist"
        elif not root.is_dir():
            why = "it is a file, not a folder"
        else:
            missing = [n for n in CIFAR10_BATCH_FILES if not (root / n).is_file()]
            why = f"it lacks {', '.join(missing)}" if missing else ""
        if why:
            problems.append(f"CS231N_CIFAR10_DIR={cifar} is not a {CIFAR10_FOLDER} folder: {why}. Point it at "
                            f"the folder that holds data_batch_1 ... test_batch, or unset it (then "
                            f"`{DOWNLOAD_COMMAND}` fetches the data into the data folder).")
    data = os.environ.get("CS231N_DATA_DIR", "").strip()
    if data and Path(data).expanduser().exists() and not Path(data).expanduser().is_dir():
        problems.append(f"CS231N_DATA_DIR={data} is a file, not a folder: point it at a folder (it is made if "
                        f"it does not exist) or unset it.")
    coco = os.environ.get("CS231N_COCO_DIR", "").strip()
    if coco and not Path(coco).expanduser().is_dir():
        problems.append(f"CS231N_COCO_DIR={coco} is not a folder: point it at the COCO captioning folder "
                        f"(`python -m cs231n.captioning download`) or unset it.")
    return problems


def check_settings() -> None:
    """Raise DatasetSettingError when an explicit data setting cannot be honoured."""
    from .errors import DatasetSettingError

    problems = setting_problems()
    if problems:
        raise DatasetSettingError(" ".join(problems))
