"""Synthetic localisation and detection images, drawn with the synthetic CIFAR-like generator's shapes.

Given data for the localisation notebook of assignment 3 (no solution of any exercise lives here):

    from cs231n.data import make_synthetic_localization, make_synthetic_detection
    data = make_synthetic_localization(2000, image_size=64, seed=0)
    data["images"]   # uint8 (N, 64, 64, 3): one object per image on a cluttered background
    data["labels"]   # int64 (N,): its class, indexing data["class_names"] (the ten synthetic classes)
    data["boxes"]    # float64 (N, 4): its bounding box (x0, y0, x1, y1) in pixels
    scenes = make_synthetic_detection(8, image_size=96, max_objects=4, seed=0)
    scenes["boxes"][i], scenes["labels"][i]    # (K_i, 4) and (K_i,) for image i

The objects are the ten classes of `cs231n.data.synthetic` (disk, square, ..., car, house), drawn by
the same shape functions, colours and style variations (outline, two-tone, shading, rotation, aspect,
shear and a smooth warp), but at any image size, anywhere in the image and at a range of sizes. The
background is a textured mix of two colours with small distractor shapes, and the whole image gets a
random contrast, brightness, colour cast, light gradient and sensor noise.

Boxes. Pixel (row i, column j) covers the square [j, j + 1) x [i, i + 1) of the image plane, so an
image of size S spans [0, S] in x (right) and y (down). An object's box is the smallest pixel-aligned
box holding every pixel the object covers by at least half (its anti-aliased coverage >= 0.5): x0 is
the first such column, x1 one past the last, likewise y0 and y1 for the rows. `masks` holds those
pixels. In the detection scenes a later object may hide part of an earlier one; boxes are *amodal*
(the whole object, as annotators draw them).

Rendering is vectorised over chunks of images, and each chunk has its own random stream, so the result
for a seed does not depend on how the work is chunked; the same seed always gives identical arrays.
"""

from __future__ import annotations

import numpy as np

from . import synthetic_drawing as draw
from . import synthetic_rendering as render
from . import synthetic_shapes as shapes
from .synthetic_shapes import SYNTHETIC_CLASSES

LOCALIZATION_CLASSES: tuple[str, ...] = SYNTHETIC_CLASSES
"""Class names, indexed by label (the synthetic CIFAR-like dataset's ten classes)."""

_CHUNK = 50  # images rendered together
_MIN_SIZE = 16  # smallest image size accepted

# Object placement, in image units (the image spans [-1, 1] in x and y).
_LOC_SCALE_RANGE = (0.24, 0.5)  # object radius, single-object images
_DET_SCALE_RANGE = (0.16, 0.32)  # object radius, multi-object scenes
_MAX_SHIFT_MARGIN = 1.0  # centre drawn in [-(1 - margin * radius), 1 - margin * radius]
_COVERAGE = 0.5  # a pixel belongs to the object when its coverage is at least this
_DISTRACTOR_SLOTS = 2
_DISTRACTOR_SIZE = (0.04, 0.09)  # radius of a distractor disk, image units


def make_synthetic_localization(num_images: int, image_size: int = 64, seed: int = 0, *,
                                clutter: bool = True) -> dict:
    """
    Images with one object each, its class and its bounding box.

    Classes are balanced: every class has floor(N / 10) or ceil(N / 10) images, in random order.

    Inputs:
    - num_images: Number of images N, >= 0.
    - image_size: Side S of the square images in pixels, >= 16.
    - seed: Seed; the same seed always gives identical arrays.
    - clutter: If False, the background is one flat colour with no distractors, and no illumination
      change or noise is applied (for tests and first experiments).

    Returns a dict with:
    - "images": uint8 array of shape (N, S, S, 3), channels last.
    - "labels": int64 array of shape (N,), in [0, 10), indexing "class_names".
    - "boxes": float64 array of shape (N, 4): (x0, y0, x1, y1) in pixels, 0 <= x0 < x1 <= S.
    - "masks": bool array of shape (N, S, S): the pixels the object covers by at least half.
    - "class_names": tuple of the ten class names.
    """
    n, size = _check_sizes(num_images, image_size)
    label_seq, *chunk_seqs = np.random.SeedSequence([seed, 2311]).spawn(1 + (n + _CHUNK - 1) // _CHUNK)
    num_classes = len(LOCALIZATION_CLASSES)
    labels = np.random.default_rng(label_seq).permutation(np.arange(n) % num_classes).astype(np.int64)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    boxes = np.empty((n, 4), dtype=np.float64)
    masks = np.empty((n, size, size), dtype=bool)
    grid = _Grid(size)
    for i, chunk_seq in enumerate(chunk_seqs):
        lo, hi = i * _CHUNK, min(n, (i + 1) * _CHUNK)
        rng = np.random.default_rng(chunk_seq)
        img = _scene_background(rng, hi - lo, grid, clutter)
        img, cover = _draw_object(rng, img, labels[lo:hi], grid, _LOC_SCALE_RANGE)
        masks[lo:hi] = cover >= _COVERAGE
        boxes[lo:hi] = _boxes_of(masks[lo:hi], cover)
        images[lo:hi] = _finish(rng, img, grid, clutter)
    return {"images": images, "labels": labels, "boxes": boxes, "masks": masks,
            "class_names": LOCALIZATION_CLASSES}


def make_synthetic_detection(num_images: int, image_size: int = 96, max_objects: int = 4, seed: int = 0, *,
                             min_objects: int = 1, clutter: bool = True) -> dict:
    """
    Scenes with several objects each (for detection and non-maximum suppression demos).

    Inputs:
    - num_images: Number of images N, >= 0.
    - image_size: Side S of the square images in pixels, >= 16.
    - max_objects, min_objects: Each image has between min_objects and max_objects objects
      (uniformly), 1 <= min_objects <= max_objects.
    - seed: Seed; the same seed always gives identical arrays.
    - clutter: As in make_synthetic_localization.

    Returns a dict with:
    - "images": uint8 array of shape (N, S, S, 3).
    - "boxes": list of N float64 arrays of shape (K_i, 4), (x0, y0, x1, y1) in pixels, in drawing order
      (a later object may hide part of an earlier one; its box is still the whole object).
    - "labels": list of N int64 arrays of shape (K_i,).
    - "class_names": tuple of the ten class names.
    """
    n, size = _check_sizes(num_images, image_size)
    if not 1 <= min_objects <= max_objects:
        raise ValueError(f"need 1 <= min_objects <= max_objects, got {min_objects} and {max_objects}")
    count_seq, *chunk_seqs = np.random.SeedSequence([seed, 2312]).spawn(1 + (n + _CHUNK - 1) // _CHUNK)
    counts = np.random.default_rng(count_seq).integers(min_objects, max_objects + 1, n)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    boxes: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    grid = _Grid(size)
    for i, chunk_seq in enumerate(chunk_seqs):
        lo, hi = i * _CHUNK, min(n, (i + 1) * _CHUNK)
        rng = np.random.default_rng(chunk_seq)
        k = counts[lo:hi]
        img = _scene_background(rng, hi - lo, grid, clutter)
        slot_labels = rng.integers(0, len(LOCALIZATION_CLASSES), (max_objects, hi - lo))
        slot_boxes = np.zeros((max_objects, hi - lo, 4))
        for slot in range(int(k.max(initial=0))):
            idx = np.flatnonzero(k > slot)
            part, cover = _draw_object(rng, img[idx], slot_labels[slot, idx], grid, _DET_SCALE_RANGE)
            img[idx] = part
            slot_boxes[slot, idx] = _boxes_of(cover >= _COVERAGE, cover)
        images[lo:hi] = _finish(rng, img, grid, clutter)
        for j in range(hi - lo):
            boxes.append(slot_boxes[: k[j], j].copy())
            labels.append(slot_labels[: k[j], j].astype(np.int64))
    return {"images": images, "boxes": boxes, "labels": labels, "class_names": LOCALIZATION_CLASSES}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
class _Grid:
    """Pixel-centre coordinates of an S x S image in image units: gx (1, 1, S), gy (1, S, 1) in (-1, 1)."""

    def __init__(self, size: int):
        pix = (np.arange(size, dtype=np.float32) + 0.5) / (size / 2) - 1.0
        self.size = size
        self.gx = pix[None, None, :]
        self.gy = pix[None, :, None]
        self.pixels_per_unit = size / 2


def _check_sizes(num_images: int, image_size: int) -> tuple[int, int]:
    """Validate and convert the sizes; raise ValueError for a negative count or a too small image."""
    if int(num_images) < 0:
        raise ValueError(f"num_images must be >= 0, got {num_images}")
    if int(image_size) < _MIN_SIZE:
        raise ValueError(f"image_size must be >= {_MIN_SIZE}, got {image_size}")
    return int(num_images), int(image_size)


def _scene_background(rng: np.random.Generator, b: int, grid: _Grid, clutter: bool) -> np.ndarray:
    """
    Backgrounds: two colours mixed by a light ramp, blotches and fine noise, with small distractor
    disks and bars (clutter=True); one flat colour otherwise.

    Inputs:
    - rng: Generator; b: number of images; grid: the pixel grid; clutter: see make_synthetic_localization.

    Returns:
    - img: float32 array of shape (b, S, S, 3) in [0, 1].
    """
    col = draw._col
    c0 = draw._random_colours(rng, b, render._BG_SATURATION, render._BG_VALUE)
    if not clutter:
        return np.broadcast_to(c0[:, None, None, :], (b, grid.size, grid.size, 3)).copy()
    c1 = draw._random_colours(rng, b, render._BG_SATURATION, render._BG_VALUE)
    angle = rng.uniform(0, 2 * np.pi, b)
    ramp = 0.5 + 0.5 * (col(np.cos(angle)) * grid.gx + col(np.sin(angle)) * grid.gy)
    blotch = draw._smooth_noise(rng, b, 7, grid.size)
    fine = rng.random((b, grid.size, grid.size), dtype=np.float32)
    w = rng.dirichlet((1.0, 1.0, 0.2), b).astype(np.float32)
    t = col(w[:, 0]) * ramp + col(w[:, 1]) * blotch + col(w[:, 2]) * fine
    img = (c0[:, None, None, :] + t[..., None] * (c1 - c0)[:, None, None, :]).astype(np.float32)
    for _ in range(_DISTRACTOR_SLOTS):
        used = rng.random(b) < 0.5
        cx, cy = col(rng.uniform(-1, 1, b)), col(rng.uniform(-1, 1, b))
        radius = col(rng.uniform(*_DISTRACTOR_SIZE, b))
        angle = rng.uniform(0, np.pi, b)
        cos, sin = col(np.cos(angle)), col(np.sin(angle))
        u = cos * (grid.gx - cx) + sin * (grid.gy - cy)
        v = -sin * (grid.gx - cx) + cos * (grid.gy - cy)
        bar = draw._box(u, v, 0.0, 0.0, 2.5 * radius, 0.35 * radius)
        sdf = np.where(col(rng.random(b) < 0.5) > 0, bar, np.hypot(u, v) - radius)
        colour = draw._random_colours(rng, b, (0.0, 1.0), (0.1, 1.0))
        img = draw._over(img, colour, draw._alpha(sdf, grid.pixels_per_unit) * col(used))
    return img


def _object_frame(rng: np.random.Generator, y: np.ndarray, grid: _Grid,
                  scale_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Sample each object's pose and deformation and map the pixel grid into object coordinates.

    The viewpoint and deformation follow the synthetic dataset's ranges (rotation, upright tilt for the
    "things", aspect, shear, mirror flip, smooth warp); size and position are the localisation ones.

    Inputs:
    - rng: Generator; y: labels (B,); grid: the pixel grid; scale_range: object radius range.

    Returns a tuple of:
    - u, v: float32 arrays of shape (B, S, S): object-local coordinates of every pixel.
    - px: float32 array of shape (B, 1, 1): approximate pixels per object unit (for soft edges).
    """
    col = draw._col
    b = y.shape[0]
    tilt = render._UPRIGHT_TILT
    angle = np.where(shapes._UPRIGHT[y], rng.uniform(-tilt, tilt, b), rng.uniform(-np.pi, np.pi, b))
    scale = rng.uniform(*scale_range, b)
    aspect = np.exp(rng.uniform(*np.log(render._ASPECT_RANGE), b))
    shear = rng.uniform(-render._SHEAR_MAX, render._SHEAR_MAX, b)
    flip = np.where(rng.random(b) < 0.5, -1.0, 1.0)
    reach = 1.0 - _MAX_SHIFT_MARGIN * scale
    cx, cy = rng.uniform(-reach, reach, (2, b))
    dx, dy = grid.gx - col(cx), grid.gy - col(cy)
    cos, sin = col(np.cos(angle)), col(np.sin(angle))
    ru = cos * dx + sin * dy
    rv = -sin * dx + cos * dy
    ru = ru - col(shear) * rv
    u = ru / col(scale * np.sqrt(aspect)) * col(flip)
    v = rv / col(scale / np.sqrt(aspect))
    amp = rng.uniform(0, render._WARP_MAX, (2, b))
    freq = rng.uniform(1.5, 4.0, (2, b))
    phase = rng.uniform(0, 2 * np.pi, (2, b))
    u_w = u + col(amp[0]) * np.sin(col(freq[0]) * v + col(phase[0]))
    v_w = v + col(amp[1]) * np.sin(col(freq[1]) * u + col(phase[1]))
    return u_w.astype(np.float32), v_w.astype(np.float32), col(scale * grid.pixels_per_unit)


def _draw_object(rng: np.random.Generator, img: np.ndarray, y: np.ndarray, grid: _Grid,
                 scale_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """
    Draw one object per image with the synthetic dataset's shapes, colours and sub-styles.

    Inputs:
    - rng: Generator; img: (B, S, S, 3) float32 images; y: labels (B,); grid: the pixel grid;
      scale_range: object radius range in image units.

    Returns a tuple of:
    - img: (B, S, S, 3) with the objects drawn over it.
    - cover: float32 array of shape (B, S, S): each pixel's coverage by the object, in [0, 1].
    """
    col = draw._col
    b = y.shape[0]
    u, v, px = _object_frame(rng, y, grid, scale_range)
    main_c, part_c = render._object_colours(rng, y)
    q = rng.random((2, b)).astype(np.float32)
    outline = (rng.random(b) < render._OUTLINE_PROB) & shapes._SIMPLE[y]
    two_tone = (rng.random(b) < render._TWO_TONE_PROB) & shapes._SIMPLE[y] & ~outline
    thickness = rng.uniform(0.12, 0.2, b).astype(np.float32)
    a_main = np.zeros(u.shape, np.float32)
    a_part = np.zeros(u.shape, np.float32)
    for c, shape in enumerate(shapes._SHAPES):
        idx = np.flatnonzero(y == c)
        if idx.size == 0:
            continue
        sdf, part = shape(u[idx], v[idx], [qi[idx][:, None, None] for qi in q])
        t = col(thickness[idx])
        sdf = np.where(col(outline[idx]) > 0, np.abs(sdf + t) - t, sdf)
        a_main[idx] = draw._alpha(sdf, px[idx])
        if part is not None:
            a_part[idx] = draw._alpha(part, px[idx])
    split = rng.uniform(0, 2 * np.pi, b)
    half = (col(np.cos(split)) * u + col(np.sin(split)) * v) > 0
    a_part = np.where(col(two_tone) > 0, a_main * half, a_part)
    shade = 1.0 + col(rng.uniform(-0.3, 0.3, b)) * u + col(rng.uniform(-0.3, 0.3, b)) * v
    img = draw._over(img, np.clip(main_c[:, None, None, :] * shade[..., None], 0.0, 1.0), a_main)
    img = draw._over(img, part_c, a_part)
    return img, np.maximum(a_main, a_part)


def _boxes_of(mask: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """
    Tight pixel-aligned boxes of boolean masks.

    Inputs:
    - mask: bool (B, S, S); cover: float (B, S, S) coverage, used only for an empty mask (then the box
      is the single most covered pixel).

    Returns:
    - boxes: float64 array (B, 4) of (x0, y0, x1, y1), x1 and y1 one past the last column and row.
    """
    size = mask.shape[-1]
    empty = ~mask.any(axis=(1, 2))
    if empty.any():
        mask = mask.copy()
        flat = cover[empty].reshape(int(empty.sum()), -1).argmax(axis=1)
        mask[np.flatnonzero(empty), flat // size, flat % size] = True
    cols, rows = mask.any(axis=1), mask.any(axis=2)
    x0, y0 = cols.argmax(axis=1), rows.argmax(axis=1)
    x1, y1 = size - cols[:, ::-1].argmax(axis=1), size - rows[:, ::-1].argmax(axis=1)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.float64)


def _finish(rng: np.random.Generator, img: np.ndarray, grid: _Grid, clutter: bool) -> np.ndarray:
    """
    Illumination (contrast, brightness, colour cast, light gradient) and sensor noise, then uint8.

    Inputs:
    - rng: Generator; img: float32 (B, S, S, 3); grid: the pixel grid; clutter: if False, no change.

    Returns:
    - uint8 array of shape (B, S, S, 3).
    """
    if clutter:
        col = draw._col
        b = img.shape[0]
        contrast = rng.uniform(*render._CONTRAST, b).astype(np.float32)[:, None, None, None]
        bright = rng.uniform(*render._BRIGHTNESS, b).astype(np.float32)[:, None, None, None]
        cast = (1.0 + rng.normal(0, render._COLOUR_CAST, (b, 3))).astype(np.float32)[:, None, None, :]
        angle = rng.uniform(0, 2 * np.pi, b)
        strength = col(rng.uniform(0, render._LIGHT_GRADIENT_MAX, b))
        light = 1.0 + strength * (col(np.cos(angle)) * grid.gx + col(np.sin(angle)) * grid.gy)
        img *= contrast
        img += 0.5 - 0.5 * contrast
        img *= (255.0 * bright * cast) * light[..., None]
        sigma = 255.0 * rng.uniform(0, render._NOISE_MAX, b).astype(np.float32)[:, None, None, None]
        noise = rng.standard_normal(img.shape, dtype=np.float32)
        noise *= sigma
        img += noise
    else:
        img = img * np.float32(255.0)
    img += 0.5
    return np.clip(img, 0, 255, out=img).astype(np.uint8)
