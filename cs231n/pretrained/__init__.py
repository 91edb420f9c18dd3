"""Weights of the pretrained CIFAR-10 ConvNet used by assignment 3's visualisation notebooks.

This package holds data only: a float32 .npz file with the parameters, the preprocessing statistics
and a JSON metadata record (architecture, preprocessing, training recipe, measured accuracy, date).
The model code lives in the course's `assignment3/given/classifier.py`, because it is built from
assignment 2's solutions, which must not ship in the package students install on day one.

    from cs231n.pretrained import load_weights, load_metadata
    arrays = load_weights()      # {"conv1_W": (32, 3, 3, 3) float32, ..., "pixel_mean": (3,), "pixel_std": (3,)}

    python -m cs231n.pretrained info                      # what the shipped file holds

The instructor (re)trains the weights from the course repository with
`cd assignment3 && python -m given.train_classifier [--epochs N]` (TRAIN_COMMAND), which needs the
model code of assignment3/given.

The shipped file's SHA-256 is pinned in a digest file beside it (`cifar10_convnet.npz.sha256`, the
format `sha256sum` writes and checks); `load_weights()` reads it and refuses a weights file that does
not match. `save_weights` writes the digest file with every weights file, so retraining re-pins it.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "TRAIN_COMMAND",
    "WEIGHTS_FILENAME",
    "WeightsError",
    "digest_path",
    "file_sha256",
    "load_metadata",
    "load_weights",
    "pinned_sha256",
    "save_weights",
    "weights_path",
]

#: Name of the shipped weights file, inside this package's folder.
WEIGHTS_FILENAME = "cifar10_convnet.npz"

#: The command that (re)creates the weights file, from the course repository; quoted in every error message.
TRAIN_COMMAND = "cd assignment3 && python -m given.train_classifier"

#: Key of the JSON metadata record inside the .npz file.
METADATA_KEY = "metadata"


class WeightsError(RuntimeError):
    """The weights file is missing, corrupt, or does not match the pinned digest."""


def weights_path() -> Path:
    """
    Returns:
    - Path of the shipped weights file (inside the installed package; it may be missing).
    """
    return Path(__file__).resolve().parent / WEIGHTS_FILENAME


def digest_path(weights: str | os.PathLike) -> Path:
    """
    Inputs:
    - weights: a weights file

    Returns:
    - Path of its digest file, beside it: the same name plus ".sha256"
    """
    weights = Path(weights)
    return weights.with_name(weights.name + ".sha256")


def pinned_sha256(weights: str | os.PathLike | None = None) -> str:
    """
    The SHA-256 a weights file must have, read from its digest file.

    Inputs:
    - weights: a weights file; default the shipped one

    Returns:
    - the hexadecimal digest (the first word of the digest file)

    Raises:
    - WeightsError: the digest file is missing or does not hold a SHA-256
    """
    path = digest_path(weights if weights is not None else weights_path())
    try:
        digest = path.read_text(encoding="ascii").split()[0].lower()
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise WeightsError(
            f"the digest file {path} of the pretrained weights is missing or unreadable ({type(exc).__name__}). "
            f"Reinstall the package, or recreate the weights with `{TRAIN_COMMAND}`."
        ) from exc
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise WeightsError(f"{path} does not hold a SHA-256. Recreate the weights with `{TRAIN_COMMAND}`.")
    return digest


def file_sha256(path: str | os.PathLike) -> str:
    """
    Inputs:
    - path: a file

    Returns:
    - the hexadecimal SHA-256 of its bytes
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _resolve(path: str | os.PathLike | None, sha256: str | None) -> tuple[Path, str | None]:
    """The file to read and the digest it must have (the pinned one for the shipped file)."""
    if path is None:
        return weights_path(), sha256 or pinned_sha256()
    return Path(path), sha256


def _open_checked(path: Path, sha256: str | None) -> dict[str, np.ndarray]:
    """All arrays of the .npz file at `path`, after checking its digest (if given)."""
    if not path.is_file():
        raise WeightsError(
            f"pretrained weights not found: {path} does not exist. Create it with `{TRAIN_COMMAND}` "
            f"(from the course repository; it trains on CIFAR-10 for about half an hour on 2 cores)."
        )
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256:
            raise WeightsError(
                f"pretrained weights {path} are corrupt or not the pinned version: SHA-256 {actual}, "
                f"expected {sha256}. Reinstall the package, or recreate the file with `{TRAIN_COMMAND}` "
                f"(which also writes its new digest file)."
            )
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise WeightsError(
            f"pretrained weights {path} are not a readable .npz file ({type(exc).__name__}: {exc}). "
            f"Recreate them with `{TRAIN_COMMAND}`."
        ) from exc


def load_weights(path: str | os.PathLike | None = None, sha256: str | None = None) -> dict[str, np.ndarray]:
    """
    Load the pretrained ConvNet's arrays.

    Inputs:
    - path: a weights file; default the shipped one (weights_path())
    - sha256: the digest the file must have; default the pinned one (its digest file, see
      pinned_sha256) for the shipped file and no check for a file given by path

    Returns:
    - arrays: dict of float32 arrays: conv1_W (C1, 3, 3, 3), conv1_b (C1,), conv2_W (C2, C1, 3, 3),
      conv2_b (C2,), conv3_W (C3, C2, 3, 3), conv3_b (C3,), fc_W (16 * C3, 10), fc_b (10,),
      pixel_mean (3,), pixel_std (3,) (per-channel statistics, pixel units 0..255)

    Raises:
    - WeightsError: the file is missing, corrupt, or its digest differs (the message names the
      training command)
    """
    path, sha256 = _resolve(path, sha256)
    arrays = _open_checked(path, sha256)
    arrays.pop(METADATA_KEY, None)
    bad = sorted(k for k, v in arrays.items() if v.dtype != np.float32)
    if bad or "pixel_mean" not in arrays or "pixel_std" not in arrays:
        raise WeightsError(
            f"{path} is not a weights file of this kit (non-float32 arrays {bad}, or no pixel_mean/pixel_std). "
            f"Recreate it with `{TRAIN_COMMAND}`."
        )
    return arrays


def load_metadata(path: str | os.PathLike | None = None, sha256: str | None = None) -> dict[str, Any]:
    """
    The metadata record of a weights file.

    Inputs:
    - path, sha256: as load_weights

    Returns:
    - metadata: dict with (at least) "architecture", "parameters", "preprocessing", "training",
      "accuracy" and "date"
    """
    path, sha256 = _resolve(path, sha256)
    arrays = _open_checked(path, sha256)
    if METADATA_KEY not in arrays:
        raise WeightsError(f"{path} holds no metadata record. Recreate it with `{TRAIN_COMMAND}`.")
    return json.loads(str(arrays[METADATA_KEY]))


def save_weights(path: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> str:
    """
    Write a weights file (uncompressed .npz: float32 arrays plus the JSON metadata record) and its
    digest file beside it (see digest_path).

    Inputs:
    - path: destination (its folder is created); each file is written under a temporary name, then renamed
    - arrays: name -> array (cast to float32); must include pixel_mean and pixel_std
    - metadata: JSON-serialisable dict

    Returns:
    - the SHA-256 of the written weights file
    """
    path = Path(path)
    if METADATA_KEY in arrays:
        raise ValueError(f"the array name {METADATA_KEY!r} is reserved for the metadata record")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    payload = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(arrays.items())}
    payload[METADATA_KEY] = np.array(json.dumps(metadata, indent=1, sort_keys=True))
    np.savez(tmp, **payload)
    os.replace(tmp, path)
    digest = file_sha256(path)
    pin = digest_path(path)
    tmp_pin = pin.with_name(pin.name + ".tmp")
    tmp_pin.write_text(f"{digest}  {path.name}\n", encoding="ascii")  # the format of `sha256sum`
    os.replace(tmp_pin, pin)
    return digest
