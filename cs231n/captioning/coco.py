"""The COCO captioning folder format of the original course kit, and the helpers that read it.

A captioning folder (the real `coco_captioning/` or the synthetic one) holds:

    coco2014_captions.h5           train_captions (N, 17) int32, train_image_idxs (N,) int32,
                                   val_captions, val_image_idxs
    train2014_vgg16_fc7_pca.h5     features (num_train_images, 512) float32   (and val2014_...)
    train2014_vgg16_fc7.h5         features (num_train_images, 4096) float32  (and val2014_...)
    coco2014_vocab.json            {"idx_to_word": [...], "word_to_idx": {...}}
    train2014_urls.txt             one image URL per line, row i of the features (and val2014_...)

A caption row is <START> w1 ... wk <END> followed by <NULL> padding; row i of `*_image_idxs` is the
row of `*_features` (and line of `*_urls.txt`) of the image that caption i describes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from cs231n.data.errors import DatasetFormatError, DatasetNotFoundError

CAPTIONS_FILE = "coco2014_captions.h5"
VOCAB_FILE = "coco2014_vocab.json"
SPLITS = ("train", "val")


def features_file(split: str, pca_features: bool = True) -> str:
    """Name of the features file of a split ("train" or "val"), e.g. "train2014_vgg16_fc7_pca.h5"."""
    return f"{split}2014_vgg16_fc7{'_pca' if pca_features else ''}.h5"


def urls_file(split: str) -> str:
    """Name of the URL list of a split, e.g. "train2014_urls.txt"."""
    return f"{split}2014_urls.txt"


def required_files(pca_features: bool = True) -> tuple[str, ...]:
    """The files `read_captioning_folder` needs (the 4096-d features only when pca_features is False)."""
    per_split = [name for s in SPLITS for name in (features_file(s, pca_features), urls_file(s))]
    return (CAPTIONS_FILE, VOCAB_FILE, *per_split)


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency of the kit
        raise ImportError("The captioning data needs h5py: pip install h5py") from e
    return h5py


def read_captioning_folder(base_dir: str | os.PathLike, pca_features: bool = True) -> dict:
    """
    Read a folder in the COCO captioning format (see the module docstring).

    Inputs:
    - base_dir: the folder.
    - pca_features: read the 512-d `*_pca.h5` features if True, else the 4096-d ones.

    Returns a dict with:
    - train_captions: int32 (N_train, T); train_image_idxs: int32 (N_train,).
    - train_features: float32 (num_train_images, D); train_urls: str array (num_train_images,).
    - val_captions, val_image_idxs, val_features, val_urls likewise.
    - idx_to_word: list of str; word_to_idx: dict str -> int.

    Raises:
    - DatasetNotFoundError: a file is missing (all missing files are named).
    - DatasetFormatError: a file is unreadable or the arrays do not fit together.
    """
    h5py = _h5py()
    base = Path(base_dir)
    missing = [name for name in required_files(pca_features) if not (base / name).is_file()]
    if missing:
        raise DatasetNotFoundError(f"{base} is not a complete captioning folder: missing {', '.join(missing)}.")
    data: dict = {}
    try:
        with h5py.File(base / CAPTIONS_FILE, "r") as f:
            for split in SPLITS:
                data[f"{split}_captions"] = np.asarray(f[f"{split}_captions"], dtype=np.int32)
                data[f"{split}_image_idxs"] = np.asarray(f[f"{split}_image_idxs"], dtype=np.int32)
        for split in SPLITS:
            with h5py.File(base / features_file(split, pca_features), "r") as f:
                data[f"{split}_features"] = np.asarray(f["features"], dtype=np.float32)
    except (OSError, KeyError) as e:
        raise DatasetFormatError(f"{base}: an .h5 file is unreadable or lacks a dataset ({e}).") from e
    try:
        vocab = json.loads((base / VOCAB_FILE).read_text(encoding="utf-8"))
        data["idx_to_word"] = list(vocab["idx_to_word"])
        data["word_to_idx"] = {str(k): int(v) for k, v in vocab["word_to_idx"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise DatasetFormatError(f"{base / VOCAB_FILE} is not a vocabulary file ({e}).") from e
    for split in SPLITS:
        text = (base / urls_file(split)).read_text(encoding="utf-8")
        data[f"{split}_urls"] = np.asarray([line.strip() for line in text.splitlines() if line.strip()])
    _check(data, base)
    return data


def _check(data: dict, base: Path) -> None:
    """Raise DatasetFormatError unless the arrays of a loaded folder fit together."""
    V = len(data["idx_to_word"])
    problems = []
    if any(data["word_to_idx"].get(w) != i for i, w in enumerate(data["idx_to_word"])):
        problems.append("idx_to_word and word_to_idx disagree")
    for split in SPLITS:
        caps, idxs = data[f"{split}_captions"], data[f"{split}_image_idxs"]
        feats, urls = data[f"{split}_features"], data[f"{split}_urls"]
        if caps.ndim != 2 or idxs.shape != (len(caps),):
            problems.append(f"{split}_captions {caps.shape} and {split}_image_idxs {idxs.shape} do not match")
        elif caps.size and (caps.min() < 0 or caps.max() >= V):
            problems.append(f"{split}_captions hold indices outside the vocabulary of {V} words")
        if feats.ndim != 2 or len(urls) != len(feats):
            problems.append(f"{split}: {len(feats)} feature rows but {len(urls)} URLs")
        elif idxs.size and (idxs.min() < 0 or idxs.max() >= len(feats)):
            problems.append(f"{split}_image_idxs point outside the {len(feats)} feature rows")
    if problems:
        raise DatasetFormatError(f"{base}: {'; '.join(problems)}.")


def write_captioning_folder(data: dict, base_dir: str | os.PathLike, pca_features: bool = True) -> Path:
    """
    Write a dict in the structure of `load_coco_data` as a captioning folder.

    Inputs:
    - data: dict with the keys returned by `read_captioning_folder`.
    - base_dir: the folder (created if needed; existing files are overwritten).
    - pca_features: whether data's features are the 512-d ones (decides the features file names).

    Returns:
    - Path of the folder.
    """
    h5py = _h5py()
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    with h5py.File(base / CAPTIONS_FILE, "w") as f:
        for split in SPLITS:
            f.create_dataset(f"{split}_captions", data=np.asarray(data[f"{split}_captions"], dtype=np.int32))
            f.create_dataset(f"{split}_image_idxs", data=np.asarray(data[f"{split}_image_idxs"], dtype=np.int32))
    for split in SPLITS:
        write_features(base / features_file(split, pca_features), data[f"{split}_features"])
        lines = "".join(f"{url}\n" for url in data[f"{split}_urls"])
        (base / urls_file(split)).write_text(lines, encoding="utf-8")
    vocab = {"idx_to_word": list(data["idx_to_word"]), "word_to_idx": dict(data["word_to_idx"])}
    (base / VOCAB_FILE).write_text(json.dumps(vocab), encoding="utf-8")
    return base


def write_features(path: str | os.PathLike, features: np.ndarray) -> None:
    """Write a features file: one float32 dataset named "features"."""
    with _h5py().File(path, "w") as f:
        f.create_dataset("features", data=np.asarray(features, dtype=np.float32))


def decode_captions(captions: np.ndarray, idx_to_word: list[str]) -> str | list[str]:
    """
    Turn rows of word indices back into text, as the original kit did: <NULL> tokens are skipped
    and each caption stops after its <END> token (<START> and <END> are kept in the text).

    Inputs:
    - captions: int array of shape (N, T), or (T,) for a single caption.
    - idx_to_word: the vocabulary, a list of words.

    Returns:
    - list of N strings, or one string when captions is 1-dimensional.
    """
    captions = np.asarray(captions)
    single = captions.ndim == 1
    rows = captions[None] if single else captions
    decoded = []
    for row in rows:
        words = []
        for idx in row:
            word = idx_to_word[int(idx)]
            if word != "<NULL>":
                words.append(word)
            if word == "<END>":
                break
        decoded.append(" ".join(words))
    return decoded[0] if single else decoded


def sample_coco_minibatch(
    data: dict, batch_size: int = 100, split: str = "train"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Draw a random minibatch of captions with their images' features and URLs.

    Captions are drawn uniformly with replacement using NumPy's global random state, as in the
    original kit (so `np.random.seed` makes notebook runs repeatable).

    Inputs:
    - data: dict from `load_coco_data`.
    - batch_size: number of captions B.
    - split: "train" or "val".

    Returns a tuple of:
    - captions: int32 (B, T).
    - image_features: float32 (B, D), the features of each caption's image.
    - urls: str array (B,), each caption's image URL.
    """
    split_size = data[f"{split}_captions"].shape[0]
    mask = np.random.choice(split_size, batch_size)  # noqa: NPY002 - the global state, as notebooks seed it
    captions = data[f"{split}_captions"][mask]
    image_idxs = data[f"{split}_image_idxs"][mask]
    return captions, data[f"{split}_features"][image_idxs], data[f"{split}_urls"][image_idxs]
