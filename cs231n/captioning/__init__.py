"""Captioning data for assignment 3: COCO in the original kit's format, or a synthetic stand-in.

    from cs231n.captioning import load_coco_data, decode_captions, sample_coco_minibatch
    data = load_coco_data()        # dict: train_captions (N, 17) int32, train_features (M, 512), ...
    captions, features, urls = sample_coco_minibatch(data, batch_size=2)
    print(decode_captions(captions, data["idx_to_word"]))

    python -m cs231n.captioning download      # fetch the real COCO captioning data (about 1 GB)
    python -m cs231n.captioning info          # what is present and which dataset is used

Without the real data, dataset="auto" (the default) uses a synthetic captioning dataset (images of
one to three simple shapes, captions from a small grammar, features computed from the pixels) in the
same format and prints a one-line notice. Environment variables: CS231N_DATA_DIR, CS231N_COCO_DIR,
CS231N_CAPTIONS_DATASET (auto|coco|synthetic), CS231N_COCO_URL, CS231N_COCO_SHA256, CS231N_COCO_SIZE.
"""

from .coco import decode_captions, read_captioning_folder, sample_coco_minibatch, write_captioning_folder
from .dataset import (
    DOWNLOAD_COMMAND,
    coco_dir,
    coco_present,
    ensure_synthetic_captions,
    image_from_url,
    load_coco_data,
    load_synthetic_caption_images,
    make_synthetic_captions,
    resolve_captions_dataset,
    synthetic_captions_dir,
)
from .download import download_coco_captioning
from .synthetic import IDX_TO_WORD, WORD_TO_IDX
from .synthetic_features import image_features

download = download_coco_captioning

__all__ = [
    "DOWNLOAD_COMMAND",
    "IDX_TO_WORD",
    "WORD_TO_IDX",
    "coco_dir",
    "coco_present",
    "decode_captions",
    "download",
    "download_coco_captioning",
    "ensure_synthetic_captions",
    "image_features",
    "image_from_url",
    "load_coco_data",
    "load_synthetic_caption_images",
    "make_synthetic_captions",
    "read_captioning_folder",
    "resolve_captions_dataset",
    "sample_coco_minibatch",
    "synthetic_captions_dir",
    "write_captioning_folder",
]
