"""Choosing the captioning dataset (real COCO or the synthetic stand-in) and loading it.

Which dataset `load_coco_data()` reads, in order of precedence:
1. an explicit `base_dir`: that folder, whatever it holds;
2. env `CS231N_CAPTIONS_DATASET` ("coco", "synthetic" or "auto"), when set;
3. the `dataset` argument (default "auto").
"auto" means COCO when `coco_dir()` holds it, else the synthetic dataset with a one-line notice on
stdout (never stderr: a graded notebook cell that writes to stderr scores zero), as
`cs231n.data.get_cifar10_data` does for CIFAR-10.

The synthetic dataset is written once into the data dir as a folder in the COCO layout (plus
`synthetic_images.h5` with the pictures), named after its sizes, seed and a digest of the generator's
source, so that the same reader loads both datasets and a stale cache is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from cs231n.data.dataset import choose_dataset
from cs231n.data.errors import DatasetError, DatasetNotFoundError
from cs231n.data.paths import data_dir

from . import coco

DATASETS = ("auto", "coco", "synthetic")
COCO_FOLDER = "coco_captioning"
DOWNLOAD_COMMAND = "python -m cs231n.captioning download"

#: Images (train, val) of the default synthetic dataset, and its seed.
SYNTHETIC_SIZES = (10000, 2000)
SYNTHETIC_SEED = 0
IMAGES_FILE = "synthetic_images.h5"
INFO_FILE = "synthetic_info.json"


def coco_dir() -> Path:
    """
    The real COCO captioning folder.

    Returns:
    - Path: env `CS231N_COCO_DIR` when set and non-empty, else `data_dir() / "coco_captioning"`.
    """
    env = os.environ.get("CS231N_COCO_DIR", "").strip()
    return Path(env).expanduser() if env else data_dir() / COCO_FOLDER


def coco_present(root: str | os.PathLike | None = None, pca_features: bool = True) -> bool:
    """
    Whether a folder holds every COCO captioning file that the loader needs (contents unchecked).

    Inputs:
    - root: the folder; default `coco_dir()`.
    - pca_features: check for the 512-d features files (else the 4096-d ones).

    Returns:
    - bool.
    """
    root = Path(root) if root is not None else coco_dir()
    return all((root / name).is_file() for name in coco.required_files(pca_features))


def resolve_captions_dataset(name: str = "auto", quiet: bool = False) -> str:
    """
    Decide which captioning dataset to use.

    Inputs:
    - name: "auto", "coco" or "synthetic"; env CS231N_CAPTIONS_DATASET overrides it when set.
    - quiet: if True, do not print the notice when "auto" falls back to synthetic.

    Returns:
    - str: "coco" or "synthetic".

    Raises:
    - ValueError: an unknown name (argument or env var).
    - DatasetNotFoundError: "coco" was asked for and is not present (names the download command).
    """
    return choose_dataset(name, real="coco", env_var="CS231N_CAPTIONS_DATASET", present=coco_present(),
                          where=coco_dir(), real_title="COCO captioning data",
                          synthetic_title="synthetic captioning dataset", download_command=DOWNLOAD_COMMAND,
                          quiet=quiet)


def make_synthetic_captions(
    num_train: int = 10000, num_val: int = 2000, seed: int = 0, pca_features: bool = True
) -> dict:
    """
    Generate the synthetic captioning dataset in memory, in the structure of `load_coco_data`.

    Inputs:
    - num_train, num_val: number of images of each split (captions: about 1.45 per image).
    - seed: the seed; the same seed gives the same arrays. The two splits use independent streams.
    - pca_features: 512-d features (like COCO's PCA'd fc7) if True, else the 4096-d "fc7" ones.

    Returns a dict with:
    - train_captions: int32 (N_c, 17); train_image_idxs: int32 (N_c,), rows of train_features.
    - train_features: float32 (num_train, 512) (or 4096), from `synthetic_features.image_features`.
    - train_urls: str array (num_train,), "synthetic://train/000123".
    - train_images: uint8 (num_train, 64, 64, 3), the pictures themselves.
    - val_* likewise; idx_to_word: list of 26 words; word_to_idx: dict.
    """
    from .synthetic import IDX_TO_WORD, WORD_TO_IDX, make_split
    from .synthetic_features import image_features

    data: dict = {}
    for k, (split, n) in enumerate((("train", num_train), ("val", num_val))):
        if n < 0:
            raise ValueError(f"num_{split} must be non-negative, got {n}")
        data.update(make_split(n, np.random.default_rng([seed, k]), split))
        data[f"{split}_features"] = image_features(data[f"{split}_images"], pca=pca_features)
    data["idx_to_word"] = list(IDX_TO_WORD)
    data["word_to_idx"] = dict(WORD_TO_IDX)
    return data


# ----------------------------------------------------------------------------------------------
# The synthetic cache
# ----------------------------------------------------------------------------------------------


def synthetic_version() -> str:
    """The generator's declared version plus a digest of the source of the generator and of the
    feature function, so a cache written by any other revision is never read back."""
    from . import synthetic, synthetic_features

    h = hashlib.sha256()
    for module in (synthetic, synthetic_features):
        h.update(Path(module.__file__).read_bytes())
    return f"{synthetic.SYNTHETIC_CAPTIONS_VERSION}-{h.hexdigest()[:8]}"


def _sizes(num_train: int | None, num_val: int | None) -> tuple[int, int]:
    """Fill in the default sizes (read at call time, so tests can shrink SYNTHETIC_SIZES)."""
    return (SYNTHETIC_SIZES[0] if num_train is None else num_train, SYNTHETIC_SIZES[1] if num_val is None else num_val)


def synthetic_captions_dir(
    seed: int = SYNTHETIC_SEED, num_train: int | None = None, num_val: int | None = None
) -> Path:
    """
    The folder caching the synthetic captioning dataset of these sizes and seed.

    Inputs:
    - seed: the generator's seed; num_train, num_val: images per split (default SYNTHETIC_SIZES).

    Returns:
    - Path inside `data_dir()` (it may not exist yet).
    """
    num_train, num_val = _sizes(num_train, num_val)
    return data_dir() / f"synthetic-captions-v{synthetic_version()}-seed{seed}-{num_train}-{num_val}"


def _write_images(path: Path, data: dict) -> None:
    import h5py

    with h5py.File(path, "w") as f:
        for split in coco.SPLITS:
            images = data[f"{split}_images"]
            chunks = (max(1, min(64, len(images))),) + images.shape[1:]
            f.create_dataset(f"{split}_images", data=images, chunks=chunks, compression="gzip", compression_opts=4)


def ensure_synthetic_captions(
    seed: int = SYNTHETIC_SEED, num_train: int | None = None, num_val: int | None = None, pca_features: bool = True
) -> Path:
    """
    Generate and cache the synthetic captioning dataset unless the cache is there already.

    The folder is written under a temporary name and renamed into place when complete. The 4096-d
    features (12 MB per 1000 images) are computed and added only when first asked for.

    Inputs:
    - seed, num_train, num_val: see `make_synthetic_captions` (default sizes: SYNTHETIC_SIZES).
    - pca_features: make sure the 512-d (True) or the 4096-d (False) features files exist.

    Returns:
    - Path of the complete folder (`synthetic_captions_dir(...)`).
    """
    num_train, num_val = _sizes(num_train, num_val)
    final = synthetic_captions_dir(seed, num_train, num_val)
    if not (final / INFO_FILE).is_file():
        print(f"Generating the synthetic captioning dataset once ({num_train} + {num_val} images); cached in {final}")
        data = make_synthetic_captions(num_train, num_val, seed=seed, pca_features=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        try:
            coco.write_captioning_folder(data, tmp, pca_features=True)
            _write_images(tmp / IMAGES_FILE, data)
            info = {"seed": seed, "num_train": num_train, "num_val": num_val, "version": synthetic_version()}
            (tmp / INFO_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")
            os.chmod(tmp, 0o755)
            try:
                os.replace(tmp, final)
            except OSError:  # another process finished first: keep its folder
                if not (final / INFO_FILE).is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not pca_features:
        _add_fc7_features(final)
    return final


def _add_fc7_features(folder: Path) -> None:
    """Compute the 4096-d features files of a synthetic folder from its images, if missing."""
    from .synthetic_features import image_features

    for split in coco.SPLITS:
        path = folder / coco.features_file(split, pca_features=False)
        if not path.is_file():
            part = path.with_name(path.name + ".part")
            coco.write_features(part, image_features(load_synthetic_caption_images(split, folder), pca=False))
            os.replace(part, path)


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------


def load_coco_data(
    base_dir: str | os.PathLike | None = None,
    max_train: int | None = None,
    pca_features: bool = True,
    dataset: str = "auto",
) -> dict:
    """
    Load a captioning dataset in the structure of the original kit's `load_coco_data`.

    Inputs:
    - base_dir: a captioning folder to read (real or synthetic); None chooses one by the policy of
      the module docstring (env CS231N_CAPTIONS_DATASET, then `dataset`).
    - max_train: if given, keep that many training captions drawn at random with replacement using
      NumPy's global random state, as the original did (call np.random.seed first to repeat).
    - pca_features: 512-d PCA'd features if True, else 4096-d fc7 features.
    - dataset: "auto", "coco" or "synthetic" (ignored when base_dir is given).

    Returns a dict with (N_* captions, M_* images):
    - train_captions: int32 (N_train, 17), <START> words <END> then <NULL> padding.
    - train_image_idxs: int32 (N_train,), the row of train_features of each caption's image.
    - train_features: float32 (M_train, 512) (or 4096); train_urls: str array (M_train,).
    - val_captions, val_image_idxs, val_features, val_urls likewise.
    - idx_to_word: list of words; word_to_idx: dict word -> index.
    - dataset: "coco" or "synthetic", the one read.
    (The pictures of the synthetic set: `load_synthetic_caption_images` or `image_from_url`.)
    """
    if base_dir is None:
        used = resolve_captions_dataset(dataset)
        base = coco_dir() if used == "coco" else ensure_synthetic_captions(pca_features=pca_features)
    else:
        base = Path(base_dir)
        used = "synthetic" if (base / INFO_FILE).is_file() else "coco"
        if used == "synthetic" and not pca_features:  # its 4096-d files are made on demand
            _add_fc7_features(base)
    data = coco.read_captioning_folder(base, pca_features=pca_features)
    if max_train is not None:
        num_train = data["train_captions"].shape[0]
        mask = np.random.randint(num_train, size=max_train)  # noqa: NPY002 - as the original kit
        data["train_captions"] = data["train_captions"][mask]
        data["train_image_idxs"] = data["train_image_idxs"][mask]
    data["dataset"] = used
    return data


def load_synthetic_caption_images(
    split: str = "train", base_dir: str | os.PathLike | None = None, idxs: np.ndarray | None = None
) -> np.ndarray:
    """
    The pictures of the synthetic captioning dataset, row i matching row i of `{split}_features`.

    Inputs:
    - split: "train" or "val".
    - base_dir: a synthetic captioning folder; default the default synthetic dataset (made if needed).
    - idxs: optional int array of image indices (default all).

    Returns:
    - uint8 array of shape (M, 64, 64, 3), or (len(idxs), 64, 64, 3).
    """
    import h5py

    if split not in coco.SPLITS:
        raise ValueError(f"split must be one of {coco.SPLITS}, got {split!r}")
    base = Path(base_dir) if base_dir is not None else ensure_synthetic_captions()
    path = base / IMAGES_FILE
    if not path.is_file():
        raise DatasetNotFoundError(f"{path} does not exist: {base} is not a synthetic captioning folder.")
    with h5py.File(path, "r") as f:
        images = f[f"{split}_images"]
        if idxs is None:
            return np.asarray(images)
        idxs = np.asarray(idxs, dtype=np.int64).reshape(-1)
        order = np.argsort(idxs)  # h5py wants increasing, unique indices
        uniq, inverse = np.unique(idxs[order], return_inverse=True)
        picked = np.asarray(images[uniq.tolist()])[inverse]
        out = np.empty_like(picked)
        out[order] = picked
        return out


def image_from_url(url: str, base_dir: str | os.PathLike | None = None, timeout: float = 10.0) -> np.ndarray | None:
    """
    Fetch the image behind a caption's URL, for display.

    Inputs:
    - url: "synthetic://{split}/{index}" (read from the synthetic folder) or an http(s) URL of a
      real COCO image (needs the network).
    - base_dir: the synthetic folder for synthetic URLs; default the default synthetic dataset.
    - timeout: seconds to wait for an http(s) answer.

    Returns:
    - uint8 array of shape (H, W, 3), or None (with a one-line message on stdout) when the image
      cannot be had.
    """
    if url.startswith("synthetic://"):
        split, _, index = url[len("synthetic://") :].partition("/")
        try:
            return load_synthetic_caption_images(split, base_dir, np.array([int(index)]))[0]
        except (ValueError, IndexError, OSError, DatasetError) as e:
            print(f"Could not read {url}: {e}")
            return None
    import io
    import urllib.request

    try:
        from PIL import Image

        with urllib.request.urlopen(url, timeout=timeout) as resp:
            blob = resp.read()
        return np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
    except Exception as e:  # noqa: BLE001 - any failure means "no picture", as in the original kit
        print(f"Could not fetch {url}: {e}")
        return None
