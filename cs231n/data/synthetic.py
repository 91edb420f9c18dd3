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

The difficulty knobs (the module-level constants below) were calibrated with
``benchmarks/calibrate_synthetic.py`` so that the course's methods rank as they do on CIFAR-10:
k-nearest neighbours on raw pixels is poor, a linear classifier is better but far from perfect, and a
small ConvNet is good. See docs/RESULTS.md for the measured figures.

Rendering is vectorised: every image of a chunk is evaluated at once on a shared 32x32 coordinate grid
(signed-distance functions of the shapes, soft-edged into alpha masks), with no per-pixel Python loops.
"""

from __future__ import annotations

import numpy as np

SYNTHETIC_VERSION = "1"
"""Bump whenever the generated arrays change for a given seed (caches are keyed on it)."""

SYNTHETIC_CLASSES: tuple[str, ...] = (
    "disk",
    "square",
    "triangle",
    "cross",
    "ring",
    "stripes",
    "star",
    "crescent",
    "car",
    "house",
)
"""Class names, indexed by label."""

IMAGE_SIZE = 32
_CHUNK = 100  # images rendered together: small enough for the working set to stay in cache

# ---------------------------------------------------------------------------------------------
# Difficulty knobs (calibrated; changing any of them changes the output: bump SYNTHETIC_VERSION).
# Lengths are in image units: the image spans [-1, 1] in x (right) and y (down).
# ---------------------------------------------------------------------------------------------
_SCALE_RANGE = (0.42, 0.78)  # object radius
_ASPECT_RANGE = (0.7, 1.4)  # width / height of the object before rotation
_SHEAR_MAX = 0.3
_SHIFT_MAX = 0.1  # object centre offset in x and y
_UPRIGHT_TILT = np.pi / 10  # max rotation of the upright "things" (car, house)
_WARP_MAX = 0.12  # amplitude of the sinusoidal warp, in object units
_OUTLINE_PROB = 0.15  # simple shapes drawn as an outline instead of filled
_TWO_TONE_PROB = 0.3  # simple shapes drawn with a second colour on one half
_CLASS_HUE_PROB = 0.6  # chance that an object's hue comes from its class's preferred hue
_CLASS_HUE_SPREAD = 0.08
_OBJ_SATURATION = (0.5, 1.0)
_OBJ_VALUE = (0.65, 1.0)
_BG_SATURATION = (0.0, 0.5)
_BG_VALUE = (0.1, 0.6)
_BG_TEXTURE_MIX = (1.0, 1.0, 0.4, 0.2)  # Dirichlet weights of: gradient, blotches, grating, fine noise
_OCCLUDE_PROB = 0.3
_OCCLUDER_SIZE = (0.12, 0.35)  # half-side of the occluding patch
_DISTRACTORS = 4  # distractor slots, each used with probability _DISTRACTOR_PROB
_DISTRACTOR_PROB = 0.3
_BRIGHTNESS = (0.65, 1.3)
_CONTRAST = (0.6, 1.25)
_LIGHT_GRADIENT_MAX = 0.5
_COLOUR_CAST = 0.08
_NOISE_MAX = 0.03


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


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
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
    - size: Side of the output (default: this dataset's 32; the localization scenes pass theirs).

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


# ---------------------------------------------------------------------------------------------
# Shapes: each returns (sdf_main, sdf_part); part is drawn in a second colour (or None).
# u, v are the object's local coordinates (unit radius); q holds per-image style randoms (B,1,1) each.
# ---------------------------------------------------------------------------------------------
def _shape_disk(u, v, q):
    return _circle(u, v, 0.0, 0.0, 0.85), None


def _shape_square(u, v, q):
    return _box(u, v, 0.0, 0.0, 0.72, 0.72), None


def _shape_triangle(u, v, q):
    return _triangle(u, v, 0.1, 0.5), None


def _shape_cross(u, v, q):
    arm = 0.2 + 0.12 * q[0]
    return np.minimum(_box(u, v, 0, 0, 0.9, arm), _box(u, v, 0, 0, arm, 0.9)), None


def _shape_ring(u, v, q):
    thick = 0.14 + 0.12 * q[0]
    return np.abs(np.hypot(u, v) - 0.85 + thick) - thick, None


def _shape_stripes(u, v, q):
    period = 0.42 + 0.2 * q[0]
    bars = np.abs(np.mod(v, period) - 0.5 * period) - 0.25 * period
    return np.maximum(bars, _box(u, v, 0, 0, 0.8, 0.8)), None


def _shape_star(u, v, q):
    r = np.hypot(u, v)
    theta = np.arctan2(u, -v)
    depth = 0.35 + 0.15 * q[0]  # how deep the notches between the five points are
    star_r = 0.95 * (1.0 - depth * (0.5 - 0.5 * np.cos(5.0 * theta)))
    return 0.6 * (r - star_r), None


def _shape_crescent(u, v, q):
    shift = 0.3 + 0.2 * q[0]
    return np.maximum(_circle(u, v, 0, 0, 0.85), -_circle(u, v, shift, -0.15, 0.75)), None


def _shape_car(u, v, q):
    cabin_w = 0.4 + 0.2 * q[0]
    body = _box(u, v, 0.0, 0.05, 0.95, 0.25)
    cabin = _box(u, v, -0.1 + 0.1 * q[1], -0.3, cabin_w, 0.2)
    wheels = np.minimum(_circle(u, v, -0.55, 0.33, 0.22), _circle(u, v, 0.55, 0.33, 0.22))
    return np.minimum(body, cabin), wheels


def _shape_house(u, v, q):
    wall_h = 0.35 + 0.12 * q[0]
    walls = _box(u, v, 0.0, 0.85 - wall_h, 0.62, wall_h)
    top = 0.85 - 2.0 * wall_h
    roof_r = 0.38
    roof = _triangle(u, v, top + 0.05 - roof_r, roof_r)
    door = _box(u, v, 0.25 * (q[1] - 0.5), 0.85 - 0.2, 0.12, 0.2)
    return np.maximum(walls, -door), roof


_SHAPES = (
    _shape_disk,
    _shape_square,
    _shape_triangle,
    _shape_cross,
    _shape_ring,
    _shape_stripes,
    _shape_star,
    _shape_crescent,
    _shape_car,
    _shape_house,
)
_UPRIGHT = np.array([name in ("car", "house") for name in SYNTHETIC_CLASSES])
_SIMPLE = ~_UPRIGHT  # shapes that may be outlined / two-toned
_CLASS_HUES = np.random.default_rng(2310).permutation(10) / 10.0  # preferred hue of each class


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def _background(rng: np.random.Generator, b: int) -> np.ndarray:
    """
    Textured backgrounds: two colours mixed by a random blend of a linear gradient, blotchy noise,
    a sinusoidal grating and fine noise.

    Inputs:
    - rng: Generator; b: number of images.

    Returns:
    - img: float32 array of shape (b, 32, 32, 3) in [0, 1].
    """
    c0 = _random_colours(rng, b, _BG_SATURATION, _BG_VALUE)
    c1 = _random_colours(rng, b, _BG_SATURATION, _BG_VALUE)
    angle = rng.uniform(0, 2 * np.pi, b)
    ramp = 0.5 + 0.5 * (_col(np.cos(angle)) * _GX + _col(np.sin(angle)) * _GY)
    blotch = _smooth_noise(rng, b, 5)
    freq = _col(rng.uniform(3.0, 12.0, b))
    g_angle = rng.uniform(0, np.pi, b)
    grating = 0.5 + 0.5 * np.sin(
        freq * (_col(np.cos(g_angle)) * _GX + _col(np.sin(g_angle)) * _GY) + _col(rng.uniform(0, 6.3, b))
    )
    fine = rng.random((b, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    w = rng.dirichlet(_BG_TEXTURE_MIX, b).astype(np.float32)
    t = _col(w[:, 0]) * ramp + _col(w[:, 1]) * blotch + _col(w[:, 2]) * grating + _col(w[:, 3]) * fine
    return c0[:, None, None, :] + t[..., None] * (c1 - c0)[:, None, None, :]


def _distractors(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """
    Scatter small distractor disks and bars over the background.

    Inputs:
    - rng: Generator; img: (B, 32, 32, 3) backgrounds.

    Returns:
    - img with distractors, same shape.
    """
    b = img.shape[0]
    for _ in range(_DISTRACTORS):
        used = rng.random(b) < _DISTRACTOR_PROB
        cx, cy = _col(rng.uniform(-1, 1, b)), _col(rng.uniform(-1, 1, b))
        size = _col(rng.uniform(0.06, 0.16, b))
        angle = rng.uniform(0, np.pi, b)
        cos, sin = _col(np.cos(angle)), _col(np.sin(angle))
        u = cos * (_GX - cx) + sin * (_GY - cy)
        v = -sin * (_GX - cx) + cos * (_GY - cy)
        disk = np.hypot(u, v) - size
        bar = _box(u, v, 0.0, 0.0, 2.5 * size, 0.35 * size)
        is_bar = _col(rng.random(b) < 0.5)
        sdf = np.where(is_bar > 0, bar, disk)
        colour = _random_colours(rng, b, (0.0, 1.0), (0.1, 1.0))
        img = _over(img, colour, _alpha(sdf, _PIXELS_PER_UNIT) * _col(used))
    return img


def _object_frame(rng: np.random.Generator, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Sample each image's viewpoint and deformation and map the pixel grid into object coordinates.

    Inputs:
    - rng: Generator; y: labels of shape (B,).

    Returns a tuple of:
    - u, v: float32 arrays of shape (B, 32, 32): object-local coordinates of every pixel.
    - px: float32 array of shape (B, 1, 1): approximate pixels per object unit (for soft edges).
    """
    b = y.shape[0]
    upright = _UPRIGHT[y]
    angle = np.where(
        upright, rng.uniform(-_UPRIGHT_TILT, _UPRIGHT_TILT, b), rng.uniform(-np.pi, np.pi, b)
    )
    scale = rng.uniform(*_SCALE_RANGE, b)
    aspect = np.exp(rng.uniform(*np.log(_ASPECT_RANGE), b))
    shear = rng.uniform(-_SHEAR_MAX, _SHEAR_MAX, b)
    flip = np.where(rng.random(b) < 0.5, -1.0, 1.0)
    cx, cy = rng.uniform(-_SHIFT_MAX, _SHIFT_MAX, (2, b))
    # Inverse map: undo translation, rotation, then shear, then the (aspect-adjusted) scale.
    dx, dy = _GX - _col(cx), _GY - _col(cy)
    cos, sin = _col(np.cos(angle)), _col(np.sin(angle))
    ru = cos * dx + sin * dy
    rv = -sin * dx + cos * dy
    ru = ru - _col(shear) * rv
    sx = scale * np.sqrt(aspect)
    sy = scale / np.sqrt(aspect)
    u = ru / _col(sx) * _col(flip)
    v = rv / _col(sy)
    # Smooth sinusoidal warp (deformation).
    amp = rng.uniform(0, _WARP_MAX, (2, b))
    freq = rng.uniform(1.5, 4.0, (2, b))
    phase = rng.uniform(0, 2 * np.pi, (2, b))
    u_w = u + _col(amp[0]) * np.sin(_col(freq[0]) * v + _col(phase[0]))
    v_w = v + _col(amp[1]) * np.sin(_col(freq[1]) * u + _col(phase[1]))
    px = _col(scale * _PIXELS_PER_UNIT)
    return u_w.astype(np.float32), v_w.astype(np.float32), px


def _object_colours(rng: np.random.Generator, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    Main and part colours of each object: saturated, hue uniform or near the class's preferred hue.

    Inputs:
    - rng: Generator; y: labels (B,).

    Returns:
    - main, part: float32 arrays of shape (B, 3).
    """
    b = y.shape[0]
    hue = np.where(
        rng.random(b) < _CLASS_HUE_PROB,
        _CLASS_HUES[y] + rng.normal(0, _CLASS_HUE_SPREAD, b),
        rng.random(b),
    )
    main = _hsv_to_rgb(hue, rng.uniform(*_OBJ_SATURATION, b), rng.uniform(*_OBJ_VALUE, b))
    part = _random_colours(rng, b, (0.0, 1.0), (0.05, 0.9))
    return main, part


def _draw_objects(rng: np.random.Generator, img: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    Draw each image's object (with style variations and shading) over its background.

    Inputs:
    - rng: Generator; img: (B, 32, 32, 3) backgrounds; y: labels (B,).

    Returns a tuple of:
    - img: (B, 32, 32, 3) with objects drawn.
    - centre_box: float32 array (B, 2): the object's centre-of-coverage, used to place occluders.
    """
    b = y.shape[0]
    u, v, px = _object_frame(rng, y)
    main_c, part_c = _object_colours(rng, y)
    q = rng.random((2, b)).astype(np.float32)
    outline = (rng.random(b) < _OUTLINE_PROB) & _SIMPLE[y]
    two_tone = (rng.random(b) < _TWO_TONE_PROB) & _SIMPLE[y] & ~outline
    thickness = rng.uniform(0.1, 0.2, b).astype(np.float32)
    a_main = np.zeros(u.shape, np.float32)
    a_part = np.zeros(u.shape, np.float32)
    for c, shape in enumerate(_SHAPES):
        idx = np.flatnonzero(y == c)
        if idx.size == 0:
            continue
        qc = [qi[idx][:, None, None] for qi in q]
        sdf, part = shape(u[idx], v[idx], qc)
        sdf = np.where(_col(outline[idx]) > 0, np.abs(sdf + _col(thickness[idx])) - _col(thickness[idx]), sdf)
        a_main[idx] = _alpha(sdf, px[idx])
        if part is not None:
            a_part[idx] = _alpha(part, px[idx])
    # Two-tone sub-style: the half of the shape on one side of a random line gets the part colour.
    split = rng.uniform(0, 2 * np.pi, b)
    half = (_col(np.cos(split)) * u + _col(np.sin(split)) * v) > 0
    a_part = np.where(_col(two_tone) > 0, a_main * half, a_part)
    # Shading across the object (a light direction in object space).
    shade = 1.0 + _col(rng.uniform(-0.35, 0.35, b)) * u + _col(rng.uniform(-0.35, 0.35, b)) * v
    shaded = np.clip(main_c[:, None, None, :] * shade[..., None], 0.0, 1.0)
    img = _over(img, shaded, a_main)
    img = _over(img, part_c, a_part)
    cover = a_main + a_part + 1e-6
    centre = np.stack(
        [(cover * _GX).sum((1, 2)) / cover.sum((1, 2)), (cover * _GY).sum((1, 2)) / cover.sum((1, 2))], 1
    )
    return img, centre


def _occlude(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """
    Draw a rotated rectangular patch near the object's centre on some images.

    Inputs:
    - rng: Generator; img: (B, 32, 32, 3); centre: (B, 2) object centres.

    Returns:
    - img with occluders, same shape.
    """
    b = img.shape[0]
    used = rng.random(b) < _OCCLUDE_PROB
    cx = _col(centre[:, 0] + rng.normal(0, 0.35, b))
    cy = _col(centre[:, 1] + rng.normal(0, 0.35, b))
    angle = rng.uniform(0, np.pi, b)
    cos, sin = _col(np.cos(angle)), _col(np.sin(angle))
    u = cos * (_GX - cx) + sin * (_GY - cy)
    v = -sin * (_GX - cx) + cos * (_GY - cy)
    hw, hh = rng.uniform(*_OCCLUDER_SIZE, (2, b))
    sdf = _box(u, v, 0.0, 0.0, _col(hw), _col(hh))
    colour = _random_colours(rng, b, (0.0, 0.8), (0.05, 1.0))
    texture = 0.8 + 0.4 * _smooth_noise(rng, b, 4)[..., None]
    patch = np.clip(colour[:, None, None, :] * texture, 0.0, 1.0)
    return _over(img, patch, _alpha(sdf, _PIXELS_PER_UNIT) * _col(used))


def _illuminate(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """
    Global illumination changes: contrast, brightness, colour cast, a light gradient, sensor noise.

    Inputs:
    - rng: Generator; img: (B, 32, 32, 3).

    Returns:
    - float32 image (B, 32, 32, 3), not yet clipped.
    """
    b = img.shape[0]
    contrast = rng.uniform(*_CONTRAST, b).astype(np.float32)[:, None, None, None]
    bright = rng.uniform(*_BRIGHTNESS, b).astype(np.float32)[:, None, None, None]
    cast = (1.0 + rng.normal(0, _COLOUR_CAST, (b, 3))).astype(np.float32)[:, None, None, :]
    angle = rng.uniform(0, 2 * np.pi, b)
    strength = _col(rng.uniform(0, _LIGHT_GRADIENT_MAX, b))
    light = 1.0 + strength * (_col(np.cos(angle)) * _GX + _col(np.sin(angle)) * _GY)
    gain = (bright * cast) * light[..., None]
    img *= contrast
    img += 0.5 - 0.5 * contrast
    img *= gain
    sigma = rng.uniform(0, _NOISE_MAX, b).astype(np.float32)[:, None, None, None]
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    noise *= sigma
    img += noise
    return img


def _render(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """
    Render one chunk of images.

    Inputs:
    - y: int64 labels of shape (B,).
    - rng: Generator of this chunk.

    Returns:
    - img: float32 array of shape (B, 32, 32, 3), roughly in [0, 1] (clipped by the caller).
    """
    img = _background(rng, y.shape[0])
    img = _distractors(rng, img)
    img, centre = _draw_objects(rng, img, y)
    img = _occlude(rng, img, centre)
    return _illuminate(rng, img)
