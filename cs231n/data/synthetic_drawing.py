"""Drawing tools of the synthetic CIFAR-like dataset (`cs231n.data.synthetic`).

Every image of a chunk is drawn at once on a shared 32x32 grid of pixel centres: a shape is a signed
distance function of the pixel coordinates (negative inside), softened into an alpha mask and
composited over the image. Here: the grid, compositing, colours, smooth noise, and the signed
distances of the basic shapes (box, circle, triangle).
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 32

# The image spans [-1, 1] in x (right) and y (down).
_PIX = (np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5) / (IMAGE_SIZE / 2) - 1.0
_GX = _PIX[None, None, :]  # (1, 1, 32): x of pixel centres
_GY = _PIX[None, :, None]  # (1, 32, 1): y of pixel centres
_PIXELS_PER_UNIT = IMAGE_SIZE / 2


def _col(v: np.ndarray) -> np.ndarray:
    """Reshape a per-image vector (B,) to (B, 1, 1) for broadcasting against (B, H, W) grids."""
    return np.asarray(v, dtype=np.float32)[:, None, None]


def _alpha(sdf: np.ndarray, pixels_per_unit: np.ndarray | float) -> np.ndarray:
    """
    Turn a signed distance (negative inside) into a soft, anti-aliased coverage mask.

    Inputs:
    - sdf: Array of shape (B, H, W), signed distance in the shape's units.
    - pixels_per_unit: Scalar or (B, 1, 1): how many pixels one shape unit spans.

    Returns:
    - alpha: float32 array of shape (B, H, W) in [0, 1].
    """
    return np.clip(0.5 - sdf * pixels_per_unit, 0.0, 1.0).astype(np.float32)


def _over(img: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """
    Composite a colour layer over an image.

    Inputs:
    - img: (B, H, W, 3) float32.
    - colour: (B, 3) or (B, H, W, 3) colours in [0, 1].
    - alpha: (B, H, W) coverage.

    Returns:
    - (B, H, W, 3) float32 composite.
    """
    if colour.ndim == 2:
        colour = colour[:, None, None, :]
    layer = np.subtract(colour, img, dtype=np.float32)
    layer *= alpha[..., None]
    img += layer
    return img


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """
    Vectorised HSV to RGB.

    Inputs:
    - h, s, v: arrays of shape (B,), h taken modulo 1, s and v in [0, 1].

    Returns:
    - rgb: float32 array of shape (B, 3).
    """
    k = (np.array([5.0, 3.0, 1.0])[None, :] + 6.0 * np.mod(h, 1.0)[:, None]) % 6.0
    ramp = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return (v[:, None] - v[:, None] * s[:, None] * ramp).astype(np.float32)


def _random_colours(rng: np.random.Generator, b: int, sat: tuple, val: tuple) -> np.ndarray:
    """Random colours of shape (b, 3) with uniform hue and saturation / value in the given ranges."""
    return _hsv_to_rgb(rng.random(b), rng.uniform(*sat, b), rng.uniform(*val, b))


def _smooth_noise(rng: np.random.Generator, b: int, cells: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """
    Smooth random field: a (cells x cells) grid of uniform values, bilinearly upsampled to size x size.

    Inputs:
    - rng: Generator.
    - b: Number of fields.
    - cells: Grid resolution, >= 2 (small = blotchy, large = fine).
    - size: Side of the output (the image's, 32, by default).

    Returns:
    - field: float32 array of shape (b, size, size), values in [0, 1].
    """
    pos = (np.arange(size) + 0.5) / size * (cells - 1)
    lo = np.minimum(pos.astype(int), cells - 2)
    frac = pos - lo
    up = np.zeros((size, cells), dtype=np.float32)
    up[np.arange(size), lo] = 1.0 - frac
    up[np.arange(size), lo + 1] = frac
    grid = rng.random((b, cells, cells), dtype=np.float32)
    return up @ grid @ up.T


def _box(u: np.ndarray, v: np.ndarray, cx: float, cy: float, hw, hh) -> np.ndarray:
    """Signed distance of an axis-aligned box centred at (cx, cy) with half-sizes (hw, hh)."""
    dx = np.abs(u - cx) - hw
    dy = np.abs(v - cy) - hh
    outside = np.hypot(np.maximum(dx, 0.0), np.maximum(dy, 0.0))
    return outside + np.minimum(np.maximum(dx, dy), 0.0)


def _circle(u: np.ndarray, v: np.ndarray, cx: float, cy, r) -> np.ndarray:
    """Signed distance of a disk centred at (cx, cy) with radius r."""
    return np.hypot(u - cx, v - cy) - r


def _triangle(u: np.ndarray, v: np.ndarray, cy, r) -> np.ndarray:
    """
    Signed distance (exact inside, bounded outside) of an upward-pointing equilateral-like triangle.

    Inputs:
    - u, v: local coordinates (B, H, W).
    - cy: centre height (scalar or (B,1,1)); r: inradius (scalar or (B,1,1)).

    Returns:
    - sdf of shape (B, H, W).
    """
    s3 = np.float32(np.sqrt(3.0) / 2.0)
    w = v - cy
    return np.maximum(np.maximum(s3 * u - 0.5 * w, -s3 * u - 0.5 * w), w) - r

