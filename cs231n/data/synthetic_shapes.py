"""The ten object classes of the synthetic CIFAR-like dataset (`cs231n.data.synthetic`), as shapes.

Each shape function maps object-local coordinates u, v (unit radius; arrays of shape (B, H, W)) and
per-image style randoms q (a list of (B, 1, 1) arrays) to (sdf_main, sdf_part): signed distances of
the object's main body and of a part drawn in a second colour (or None).
"""

from __future__ import annotations

import numpy as np

from .synthetic_drawing import _box, _circle, _triangle

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
