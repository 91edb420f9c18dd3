"""Hand-designed image features: histograms of oriented gradients (HOG) and hue histograms.

The features notebook trains linear classifiers and a two-layer net on these instead of raw pixels.
Every feature function takes one image and returns a 1-D vector; `extract_features` applies a list
of them to a whole dataset and concatenates the results.

Speed: the functions are vectorised (no Python loop over pixels). Each one also has a batched
version (`hog_features`, `color_histograms_hsv`), attached to it as the attribute `batched`;
`extract_features` uses it automatically, for the function itself or for a `functools.partial`
of it, e.g. `partial(color_histogram_hsv, nbin=25)`. A lambda hides the attribute and falls back
to one call per image, which gives the same numbers, only more slowly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "extract_features",
    "rgb2gray",
    "hog_feature",
    "hog_features",
    "color_histogram_hsv",
    "color_histograms_hsv",
]

# Images per chunk in extract_features (and the progress-line interval).
_CHUNK = 1000

HOG_ORIENTATIONS = 9
HOG_CELL = 8


def _batched_version(feature_fn: Callable) -> Callable | None:
    """Return a batched equivalent of feature_fn (taking (B, ...) images), or None if unknown."""
    batched = getattr(feature_fn, "batched", None)
    if batched is not None:
        return batched
    if isinstance(feature_fn, functools.partial):
        inner = getattr(feature_fn.func, "batched", None)
        if inner is not None:
            return functools.partial(inner, *feature_fn.args, **feature_fn.keywords)
    return None


def extract_features(
    imgs: np.ndarray,
    feature_fns: Sequence[Callable[[np.ndarray], np.ndarray]],
    verbose: bool = False,
) -> np.ndarray:
    """
    Compute features for every image and concatenate them.

    For each image, each function of feature_fns is called on the image (with singleton
    dimensions squeezed, as in the original kit) and must return a 1-D array; the feature vector
    of the image is the concatenation of these arrays, in the order of feature_fns.

    A function that has a `batched` attribute (or a functools.partial of such a function) is
    applied to blocks of 1000 images at once instead, which is much faster and gives the same
    result; see the module docstring.

    Inputs:
    - imgs: Array of shape (N, H, W, C) (or (N, H, W) for grayscale).
    - feature_fns: List of k feature functions. The i-th must return a 1-D array of length F_i
      for every image.
    - verbose: If True, show progress as a single line on stdout, updated every 1000 images.

    Returns:
    - features: Array of shape (N, F_1 + ... + F_k), float64. For N = 0 an array of shape (0, 0).
    """
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.zeros((0, 0))
    batched_fns = [_batched_version(fn) for fn in feature_fns]

    features = None
    for start in range(0, num_images, _CHUNK):
        chunk = imgs[start : start + _CHUNK]
        blocks = []
        for fn, batched in zip(feature_fns, batched_fns, strict=True):
            if batched is not None:
                block = np.asarray(batched(chunk))
                if block.ndim != 2 or block.shape[0] != len(chunk):
                    raise ValueError(f"batched feature function returned shape {block.shape}")
            else:
                rows = [np.asarray(fn(img.squeeze())) for img in chunk]
                if any(row.ndim != 1 for row in rows):
                    raise ValueError("feature functions must return one-dimensional arrays")
                block = np.stack(rows)
            blocks.append(block)
        chunk_features = np.concatenate(blocks, axis=1)
        if features is None:
            features = np.zeros((num_images, chunk_features.shape[1]))
        features[start : start + len(chunk)] = chunk_features
        if verbose:
            done = start + len(chunk)
            print(f"\rExtracting features: {done} / {num_images} images", end="", flush=True)
    if verbose:
        print()
    return features


def rgb2gray(rgb: np.ndarray) -> np.ndarray:
    """
    Convert RGB images to grayscale (luma, ITU-R BT.601 weights 0.299, 0.587, 0.114).

    Inputs:
    - rgb: Array of shape (..., 3) (extra channels beyond 3 are ignored), any numeric dtype.

    Returns:
    - gray: float64 array of shape (...), on the same scale as the input.
    """
    return np.asarray(rgb[..., :3], dtype=np.float64) @ np.array([0.299, 0.587, 0.114])


def _as_gray_batch(imgs: np.ndarray) -> np.ndarray:
    """(N, H, W, 3), (N, H, W, 1) or (N, H, W) -> float64 (N, H, W)."""
    imgs = np.asarray(imgs)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim == 4:
        return rgb2gray(imgs)
    if imgs.ndim == 3:
        return imgs.astype(np.float64, copy=False)
    raise ValueError(f"expected images of shape (N, H, W, C) or (N, H, W), got {imgs.shape}")


def hog_features(imgs: np.ndarray) -> np.ndarray:
    """
    Batched `hog_feature`: HOG features of N images at once. See hog_feature for the definition
    and the layout of each row.

    Inputs:
    - imgs: Array of shape (N, H, W, 3) (RGB), (N, H, W, 1) or (N, H, W) (grayscale).

    Returns:
    - features: float64 array of shape (N, (H // 8) * (W // 8) * 9).
    """
    gray = _as_gray_batch(imgs)
    n, height, width = gray.shape
    cells_y, cells_x = height // HOG_CELL, width // HOG_CELL

    # Forward differences; the last column of gx and the last row of gy stay 0.
    gx = np.zeros_like(gray)
    gy = np.zeros_like(gray)
    gx[:, :, :-1] = np.diff(gray, axis=2)
    gy[:, :-1, :] = np.diff(gray, axis=1)
    magnitude = np.hypot(gx, gy)
    # Unsigned orientation in degrees, in [0, 180): a gradient and its opposite share a bin.
    orientation = np.degrees(np.arctan2(gy, gx)) % 180.0
    bin_width = 180.0 / HOG_ORIENTATIONS
    bins = np.minimum((orientation // bin_width).astype(np.intp), HOG_ORIENTATIONS - 1)

    # Keep whole cells only, then give every pixel a flat index (image, cell row, cell col, bin).
    magnitude = magnitude[:, : cells_y * HOG_CELL, : cells_x * HOG_CELL]
    bins = bins[:, : cells_y * HOG_CELL, : cells_x * HOG_CELL]
    cell_row = np.arange(cells_y * HOG_CELL) // HOG_CELL
    cell_col = np.arange(cells_x * HOG_CELL) // HOG_CELL
    cell = cell_row[:, None] * cells_x + cell_col[None, :]  # (cells_y * 8, cells_x * 8)
    num_cells = cells_y * cells_x
    image = np.arange(n)[:, None, None]
    flat_index = (image * num_cells + cell[None]) * HOG_ORIENTATIONS + bins

    sums = np.bincount(
        flat_index.ravel(), weights=magnitude.ravel(), minlength=n * num_cells * HOG_ORIENTATIONS
    )
    return sums.reshape(n, num_cells * HOG_ORIENTATIONS) / (HOG_CELL * HOG_CELL)


def hog_feature(im: np.ndarray) -> np.ndarray:
    """
    Histogram of oriented gradients (HOG) of one image, the simple version of the original kit.

    1. Convert to grayscale (rgb2gray) if the image has colour channels.
    2. Gradients by forward differences: gx[r, c] = I[r, c+1] - I[r, c] and
       gy[r, c] = I[r+1, c] - I[r, c] (0 in the last column / row). Rows grow downwards.
    3. Magnitude sqrt(gx^2 + gy^2) and unsigned orientation atan2(gy, gx) in degrees, folded
       into [0, 180) (a gradient and its opposite count as the same orientation).
    4. 9 orientation bins of 20 degrees: bin b holds orientations in [20 b, 20 (b + 1)).
       Bin 0 is the horizontal gradient (left-right intensity change, i.e. *vertical* edges);
       bin 4 (80-100 degrees) is the vertical gradient (horizontal edges).
    5. The image is cut into non-overlapping 8x8 cells (rows or columns left over when H or W is
       not a multiple of 8 are ignored). Each cell's histogram is the *mean* over its 64 pixels of
       the magnitude of the pixels whose orientation falls in each bin (as the original did with a
       uniform filter). There is no block normalisation.

    The values are on the intensity scale of the input; adding a constant to the image does not
    change them, scaling it scales them.

    Inputs:
    - im: Image of shape (H, W, 3) (RGB), (H, W, 1) or (H, W) (grayscale), any numeric dtype.

    Returns:
    - feature: float64 array of length (H // 8) * (W // 8) * 9 (1296 for 32x32), laid out as the
      C-order ravel of an array of shape (H // 8, W // 8, 9): cell row, then cell column, then
      orientation bin. feature.reshape(H // 8, W // 8, 9)[i, j, b] is bin b of the cell covering
      rows 8i..8i+7 and columns 8j..8j+7.
    """
    im = np.asarray(im)
    if im.ndim not in (2, 3):
        raise ValueError(f"expected one image of shape (H, W) or (H, W, C), got {im.shape}")
    return hog_features(im[None])[0]


hog_feature.batched = hog_features


def _hue(rgb: np.ndarray) -> np.ndarray:
    """
    Hue in [0, 1) of RGB values of shape (..., 3), as matplotlib.colors.rgb_to_hsv defines it.

    Hue is unchanged by positive scaling, so any input range works. Achromatic pixels (r = g = b)
    get hue 0. Where two channels tie for the maximum, blue takes precedence over green over red.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    delta = v - rgb.min(axis=-1)
    chromatic = delta > 0
    safe_delta = np.where(chromatic, delta, 1.0)
    sector = np.select(
        [b == v, g == v],
        [4.0 + (r - g) / safe_delta, 2.0 + (b - r) / safe_delta],
        default=(g - b) / safe_delta,
    )
    return np.where(chromatic, (sector / 6.0) % 1.0, 0.0)


def color_histograms_hsv(
    imgs: np.ndarray,
    nbin: int = 10,
    xmin: float = 0,
    xmax: float = 255,
    normalized: bool = True,
) -> np.ndarray:
    """
    Batched `color_histogram_hsv`: hue histograms of N images at once. See color_histogram_hsv.

    Inputs:
    - imgs: Array of shape (N, H, W, 3), RGB.
    - nbin, xmin, xmax, normalized: As in color_histogram_hsv.

    Returns:
    - hists: float64 array of shape (N, nbin).
    """
    imgs = np.asarray(imgs)
    if imgs.ndim != 4 or imgs.shape[-1] < 3:
        raise ValueError(f"expected RGB images of shape (N, H, W, 3), got {imgs.shape}")
    n = imgs.shape[0]
    hue = _hue(imgs).reshape(n, -1) * xmax  # hue on the original kit's scale [0, xmax)
    position = (hue - xmin) / (xmax - xmin) * nbin
    inside = (position >= 0) & (position <= nbin)
    bins = np.minimum(np.floor(position), nbin - 1).astype(np.intp)  # xmax goes in the last bin
    flat_index = (np.arange(n)[:, None] * nbin + bins)[inside]
    counts = np.bincount(flat_index, minlength=n * nbin).reshape(n, nbin).astype(np.float64)
    if normalized:
        totals = counts.sum(axis=1, keepdims=True)
        counts = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return counts


def color_histogram_hsv(
    im: np.ndarray,
    nbin: int = 10,
    xmin: float = 0,
    xmax: float = 255,
    normalized: bool = True,
) -> np.ndarray:
    """
    Histogram of the hue of an RGB image.

    As in the original kit, the hue of every pixel (the H of HSV, in [0, 1)) is multiplied by xmax
    and the results are counted in nbin equal bins spanning [xmin, xmax] (the value xmax itself goes
    in the last bin; values outside the range are not counted). With the defaults, bin k covers hues
    [k / 10, (k + 1) / 10): pure red is in bin 0, pure green (hue 1/3) in bin 3, pure blue (hue 2/3)
    in bin 6. Gray pixels (r = g = b, including black and white) have hue 0 and count in bin 0.

    Hue does not depend on the intensity scale, so uint8 images, floats in [0, 1] or [0, 255] all
    give the same histogram (the original's matplotlib conversion required values in [0, xmax]).

    Inputs:
    - im: Array of shape (H, W, 3), RGB (a 4th channel is ignored).
    - nbin: Number of histogram bins.
    - xmin, xmax: Range of the scaled hue covered by the bins.
    - normalized: If True, return the fraction of the counted pixels in each bin (the result sums
      to 1, or is all zeros if no pixel was counted). If False, return the pixel counts
      (the original returned counts times the bin width here).

    Returns:
    - hist: float64 array of length nbin.
    """
    im = np.asarray(im)
    if im.ndim != 3:
        raise ValueError(f"expected one RGB image of shape (H, W, 3), got {im.shape}")
    return color_histograms_hsv(im[None], nbin=nbin, xmin=xmin, xmax=xmax, normalized=normalized)[0]


color_histogram_hsv.batched = color_histograms_hsv
