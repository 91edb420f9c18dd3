"""Image features of the synthetic captioning dataset: a fixed, deterministic function of the pixels.

The real COCO features are fc7 activations of a VGG-16 network (4096-d) and their PCA (512-d). The
synthetic dataset needs no network: its features are computed by a fixed pipeline that plays the
same role (a vector from which the content of the image can be read, not the pixels themselves):

1. descriptors (424 numbers): for each of 12 hue channels (a soft mask of the vivid pixels of that
   hue) its area, centroid, spread, rotation moments of its edges, compactness, soft histograms of
   some of these and a 2x2 pooled map; plus an 8x8 grey-level thumbnail;
2. "fc7" (4096-d): ReLU of a random linear map of the standardised descriptors (fixed seed);
3. "PCA" (512-d): a fixed random linear projection of fc7, then standardised.

The random matrices come from a fixed seed and the standardisation uses statistics of a fixed
reference set of synthetic images (rendered with its own seed), so the function is the same for every
call, machine and dataset: `image_features(x)[i]` depends on `x[i]` only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

FC7_DIM = 4096
PCA_DIM = 512
NUM_HUES = 12
DESCRIPTOR_DIM = NUM_HUES * 30 + 64
_WEIGHTS_SEED = 231
_REFERENCE_SEED = 2014
_REFERENCE_SIZE = 500
_CHUNK = 250


def _descriptors(images: np.ndarray) -> np.ndarray:
    """
    Hand-made descriptors of a batch of images.

    Per hue channel (a soft mask m of the vivid pixels near that hue): area; centroid;
    variances along x and y; four rotation moments of the mask's edge directions (real and imaginary
    parts of sum(z**3) / sum(|z|**3) and sum(z**4) / sum(|z|**4), z = dm/dx + i dm/dy: 3-fold for
    triangles, +/- 4-fold for squares / diamonds, about 0 for circles) and compactness (edge length over
    the square root of the area), both of the mask scaled to a maximum of 1; soft histograms of the
    z**3 and z**4 moments, compactness and log area; a 2x2 pooled map. Plus an 8x8 grey-level thumbnail.

    Inputs:
    - images: uint8 array of shape (N, H, W, 3), H and W divisible by 8.

    Returns:
    - float32 array of shape (N, DESCRIPTOR_DIM) = (N, 12 * 30 + 64) = (N, 424).
    """
    x = images.astype(np.float32) / 255.0
    n, h, w, _ = x.shape
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    vmax, vmin = x.max(axis=-1), x.min(axis=-1)
    chroma = vmax - vmin
    safe = np.where(chroma > 1e-6, chroma, 1.0)
    sector = np.where(vmax == r, ((g - b) / safe) % 6, np.where(vmax == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = sector * (NUM_HUES / 6.0)  # in hue-bin units, [0, 12)
    # triangular hue bins: each pixel goes to its two nearest bins, weighted by distance and chroma
    low = np.floor(hue).astype(np.intp) % NUM_HUES
    frac = hue - np.floor(hue)
    colourful = np.clip((chroma - 0.2) / 0.3, 0.0, 1.0)  # 0 for greyish pixels (the background), 1 for vivid ones
    masks = np.zeros((n, h, w, NUM_HUES), dtype=np.float32)
    np.put_along_axis(masks, low[..., None], (colourful * (1 - frac))[..., None], axis=-1)
    np.put_along_axis(masks, ((low + 1) % NUM_HUES)[..., None], (colourful * frac)[..., None], axis=-1)
    masks = np.ascontiguousarray(masks.transpose(0, 3, 1, 2))  # (N, 12, h, w)

    ys = ((np.arange(h) + 0.5) / h * 2 - 1).astype(np.float32)
    xs = ((np.arange(w) + 0.5) / w * 2 - 1).astype(np.float32)
    col, row = masks.sum(axis=2), masks.sum(axis=3)  # marginals along x (N, 12, w) and y (N, 12, h)
    mass = col.sum(axis=-1) + 1e-6
    cx, cy = col @ xs / mass, row @ ys / mass
    sxx = col @ (xs * xs) / mass - cx * cx
    syy = row @ (ys * ys) / mass - cy * cy

    # edge statistics, only for the channels that hold something (most of the 12 are empty)
    edge_stats = np.zeros((n, NUM_HUES, 5), dtype=np.float32)
    active = mass > 0.002 * h * w
    m = masks[active]
    m = m / m.max(axis=(1, 2), keepdims=True)  # shape statistics independent of the colour's chroma
    gx = m[:, 1:-1, 2:] - m[:, 1:-1, :-2]
    gy = m[:, 2:, 1:-1] - m[:, :-2, 1:-1]
    a, b = gx * gx - gy * gy, 2 * gx * gy  # z**2 = a + ib with z = gx + i gy
    mag2 = gx * gx + gy * gy
    mag = np.sqrt(mag2)
    edge = mag.sum(axis=(1, 2)) + 1e-6
    norm3 = (mag2 * mag).sum(axis=(1, 2)) + 1e-6
    norm4 = (mag2 * mag2).sum(axis=(1, 2)) + 1e-6
    edge_stats[active] = np.stack(
        [
            (a * gx - b * gy).sum(axis=(1, 2)) / norm3,  # z**3
            (a * gy + b * gx).sum(axis=(1, 2)) / norm3,
            (a * a - b * b).sum(axis=(1, 2)) / norm4,  # z**4
            (2 * a * b).sum(axis=(1, 2)) / norm4,
            edge / np.sqrt(m.sum(axis=(1, 2)) + 1e-6),
        ],
        axis=-1,
    )
    present = np.minimum(1.0, mass / (0.005 * h * w))  # gates the statistics of (almost) absent hues
    stats = np.concatenate([np.stack([cx, cy, sxx, syy], axis=-1), edge_stats], axis=-1)  # (N, 12, 9)
    # soft histograms (4 bins each) of the statistics that tell shapes and sizes apart
    log_area = np.log(mass / (h * w) + 1e-4)
    binned = (stats[..., 5], stats[..., 6], stats[..., 8], log_area)
    soft = [_soft_bins(v, lo, hi) for v, (lo, hi) in zip(binned, _RANGES, strict=True)]
    pooled = masks.reshape(n, NUM_HUES, 2, h // 2, 2, w // 2).mean(axis=(3, 5)).reshape(n, NUM_HUES, 4)
    per_hue = np.concatenate(
        [(mass / (h * w))[..., None], present[..., None] * np.concatenate([stats, *soft], axis=-1), pooled], axis=-1
    )  # (N, 12, 1 + 9 + 16 + 4 = 30)
    grey = x.mean(axis=-1).reshape(n, 8, h // 8, 8, w // 8).mean(axis=(2, 4)).reshape(n, 64)
    return np.concatenate([per_hue.reshape(n, -1), grey], axis=1).astype(np.float32)


#: Ranges of the soft-binned statistics: Im z**3 moment, Re z**4 moment, compactness, log area.
_RANGES = ((-1.0, 1.0), (-1.0, 1.0), (6.0, 10.0), (-5.5, -2.5))


def _soft_bins(v: np.ndarray, lo: float, hi: float, bins: int = 4) -> np.ndarray:
    """Triangular soft histogram of v over `bins` centres spread evenly over [lo, hi]: (..., bins)."""
    t = (np.clip(v, lo, hi) - lo) / (hi - lo) * (bins - 1)
    return np.maximum(0.0, 1.0 - np.abs(t[..., None] - np.arange(bins, dtype=np.float32)))


@lru_cache(maxsize=1)
def _weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fixed random maps: W1 (D, 4096), b1 (4096,), P (4096, 512)."""
    rng = np.random.default_rng(_WEIGHTS_SEED)
    d = DESCRIPTOR_DIM
    W1 = rng.standard_normal((d, FC7_DIM)) / np.sqrt(d)
    b1 = 0.5 * rng.standard_normal(FC7_DIM)
    P = rng.standard_normal((FC7_DIM, PCA_DIM)) / np.sqrt(FC7_DIM)
    return W1.astype(np.float32), b1.astype(np.float32), P.astype(np.float32)


@lru_cache(maxsize=1)
def _reference_stats() -> tuple[np.ndarray, ...]:
    """Means and standard deviations of the descriptors and of the 512-d projection on a fixed
    reference set of synthetic images."""
    from .synthetic import render_scenes, sample_scenes

    images = render_scenes(sample_scenes(_REFERENCE_SIZE, np.random.default_rng(_REFERENCE_SEED)))
    d = _descriptors(images)
    d_mean, d_std = d.mean(axis=0), d.std(axis=0) + 1e-3
    _, p = _forward((d - d_mean) / d_std)
    return d_mean, d_std, p.mean(axis=0), p.std(axis=0) + 1e-6


def _forward(d_standard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    W1, b1, P = _weights()
    fc7 = np.maximum(0.0, d_standard @ W1 + b1)
    return fc7, fc7 @ P


def image_features(images: np.ndarray, pca: bool = True) -> np.ndarray:
    """
    The features of a batch of images (the synthetic stand-in for VGG-16 fc7 / PCA'd fc7).

    Inputs:
    - images: uint8 array of shape (N, H, W, 3), H and W divisible by 8 (the dataset's are 64x64).
    - pca: return the 512-d standardised projection (like `*_vgg16_fc7_pca.h5`) if True, else the
      4096-d non-negative "fc7" vector (like `*_vgg16_fc7.h5`).

    Returns:
    - float32 array of shape (N, 512) or (N, 4096).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}")
    d_mean, d_std, p_mean, p_std = _reference_stats()
    out = np.empty((len(images), PCA_DIM if pca else FC7_DIM), dtype=np.float32)
    for s in range(0, len(images), _CHUNK):
        fc7, p = _forward((_descriptors(images[s : s + _CHUNK]) - d_mean) / d_std)
        out[s : s + _CHUNK] = (p - p_mean) / p_std if pca else fc7
    return out
