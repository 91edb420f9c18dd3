"""The embedded synthetic CIFAR-like dataset.

A small stand-in for CIFAR-10 that needs no download: ten classes of 32x32 colour images, drawn
procedurally with NumPy. Each image shows one object (a shape or a simple "thing") on a cluttered
background, and every image varies along the axes named in the course's first lecture:

- viewpoint: rotation, scale, position, aspect ratio (and a mirror flip for the "things");
- illumination: brightness, contrast, a colour cast and a gradient of light across the image;
- deformation: shear and a smooth sinusoidal warp of the object;
- occlusion: a random patch drawn over part of the object;
- background clutter: textured, noisy backgrounds and small distractor shapes;
- intra-class variation: colour, size, filled / outlined / two-tone sub-styles, part proportions.

The difficulty knobs (the constants of `synthetic_rendering`) were calibrated with
``benchmarks/calibrate_synthetic.py`` so that the course's methods rank as they do on CIFAR-10:
k-nearest neighbours on raw pixels is poor, a linear classifier is better but far from perfect, and a
small ConvNet is good. See docs/RESULTS.md for the measured figures.

Rendering is vectorised: every image of a chunk is evaluated at once on a shared 32x32 coordinate grid
(signed-distance functions of the shapes, soft-edged into alpha masks), with no per-pixel Python loops.

The generator is split by topic: `synthetic_drawing` (pixel grid, compositing, colours, basic signed
distances), `synthetic_shapes` (the ten classes), `synthetic_rendering` (the knobs and the drawing
stages of a chunk); this module makes whole splits from them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import synthetic_drawing, synthetic_rendering, synthetic_shapes
from .synthetic_drawing import IMAGE_SIZE
from .synthetic_rendering import _render
from .synthetic_shapes import SYNTHETIC_CLASSES

__all__ = ["IMAGE_SIZE", "SYNTHETIC_CLASSES", "SYNTHETIC_VERSION", "make_synthetic_cifar"]

SYNTHETIC_VERSION = "1"
"""Bump whenever the generated arrays change for a given seed (caches are keyed on it)."""

#: The source files of the generator (a cache of its output is keyed on their contents too).
GENERATOR_FILES: tuple[Path, ...] = tuple(
    Path(module.__file__) for module in (synthetic_drawing, synthetic_shapes, synthetic_rendering)
) + (Path(__file__),)

_CHUNK = 100  # images rendered together: small enough for the working set to stay in cache


def make_synthetic_cifar(
    num_train: int, num_test: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Generate the synthetic CIFAR-like dataset.

    Train and test images come from the same distribution but from independent random streams, so the
    test set for a given seed does not depend on num_train (and vice versa). Classes are balanced: every
    class has floor(N / 10) or ceil(N / 10) images in each split.

    Inputs:
    - num_train: Number of training images, >= 0.
    - num_test: Number of test images, >= 0.
    - seed: Seed; the same seed always gives identical arrays.

    Returns a tuple of:
    - X_train: uint8 array of shape (num_train, 32, 32, 3), channels last (like CIFAR-10).
    - y_train: int64 array of shape (num_train,), labels in [0, 10) indexing SYNTHETIC_CLASSES.
    - X_test: uint8 array of shape (num_test, 32, 32, 3).
    - y_test: int64 array of shape (num_test,).
    """
    if num_train < 0 or num_test < 0:
        raise ValueError("num_train and num_test must be >= 0")
    train_seq, test_seq = np.random.SeedSequence([seed, 231]).spawn(2)
    X_train, y_train = _make_split(int(num_train), train_seq)
    X_test, y_test = _make_split(int(num_test), test_seq)
    return X_train, y_train, X_test, y_test


def _make_split(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """
    Render one split: balanced shuffled labels, then images chunk by chunk.

    Inputs:
    - n: Number of images.
    - seq: SeedSequence of this split.

    Returns a tuple of:
    - X: uint8 array of shape (n, 32, 32, 3).
    - y: int64 array of shape (n,).
    """
    label_seq, *chunk_seqs = seq.spawn(1 + (n + _CHUNK - 1) // _CHUNK)
    num_classes = len(SYNTHETIC_CLASSES)
    y = np.random.default_rng(label_seq).permutation(np.arange(n) % num_classes).astype(np.int64)
    X = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, chunk_seq in enumerate(chunk_seqs):
        lo, hi = i * _CHUNK, min(n, (i + 1) * _CHUNK)
        img = _render(y[lo:hi], np.random.default_rng(chunk_seq))
        X[lo:hi] = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return X, y

