"""Rendering of the synthetic CIFAR-like dataset (`cs231n.data.synthetic`): the difficulty knobs and
the stages that draw one chunk of images (background, distractors, object, occluder, illumination).

The knobs were calibrated with ``benchmarks/calibrate_synthetic.py`` (see docs/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from .synthetic_drawing import (
    _GX,
    _GY,
    _PIXELS_PER_UNIT,
    IMAGE_SIZE,
    _alpha,
    _box,
    _col,
    _hsv_to_rgb,
    _over,
    _random_colours,
    _smooth_noise,
)
from .synthetic_shapes import _CLASS_HUES, _SHAPES, _SIMPLE, _UPRIGHT

# ---------------------------------------------------------------------------------------------
# Difficulty knobs (calibrated; changing any of them changes the output: bump synthetic.SYNTHETIC_VERSION).
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
