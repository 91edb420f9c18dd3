"""The embedded synthetic captioning dataset: simple scenes described by a small grammar.

Each 64x64 RGB image shows one to three flat shapes on a dark background, and every caption is
generated from the scene by a small grammar, for example

    1 object:   "a large red circle"
    2 objects:  "a small blue square to the left of a large yellow cross"
                "a large yellow cross to the right of a small blue square"   (same image)
    3 objects:  "a small green diamond and a large purple triangle and a small cyan circle"
                (read from left to right)

An object is (size, colour, shape): sizes small / large, six colours, five shapes; the objects of
one image have different colours. Two-object images get two captions (the relation stated from
either side), like COCO's several captions per image. The captions are tokenised with the fixed
vocabulary `IDX_TO_WORD`: the special tokens <NULL>=0, <START>=1, <END>=2, <UNK>=3 (never produced
by the grammar, kept for compatibility with the COCO vocabulary) and then the grammar's words.

Everything is drawn with a NumPy Generator seeded by `seed`, so a seed gives the same arrays on every
machine. Each object is drawn inside its bounding box with 2x2 supersampling (smooth edges).
"""

from __future__ import annotations

import numpy as np

SYNTHETIC_CAPTIONS_VERSION = "1"
"""Bump whenever the generated arrays change for a given seed (the cache is also keyed on a digest
of this file's source)."""

IMAGE_SIZE = 64
MAX_LENGTH = 17  # tokens per caption, <START> and <END> included, as in the COCO captions file

SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")
SIZES = ("small", "large")
COLOURS = ("red", "green", "blue", "yellow", "purple", "cyan")
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
RELATIONS = ("above", "below", "left", "right")  # of the first object with respect to the second
_RELATION_WORDS = {
    "above": ("above",),
    "below": ("below",),
    "left": ("to", "the", "left", "of"),
    "right": ("to", "the", "right", "of"),
}
_INVERSE = {"above": "below", "below": "above", "left": "right", "right": "left"}

IDX_TO_WORD: tuple[str, ...] = (
    SPECIAL_TOKENS + ("a",) + SIZES + COLOURS + SHAPES + ("above", "below", "to", "the", "left", "right", "of", "and")
)
"""The vocabulary, in index order (26 words)."""
WORD_TO_IDX: dict[str, int] = {w: i for i, w in enumerate(IDX_TO_WORD)}

#: RGB of each colour (before a small per-object jitter).
_RGB = np.array(
    [[215, 40, 40], [40, 185, 60], [45, 85, 235], [235, 210, 40], [150, 60, 205], [40, 200, 215]],
    dtype=np.float64,
)
_COLOUR_JITTER = 14.0
_RADIUS = {0: (0.12, 0.15), 1: (0.23, 0.28)}  # size index -> radius range, image spans [-1, 1]
_NUM_OBJECTS_P = (0.3, 0.45, 0.25)  # probability of 1, 2, 3 objects
_SS = 2  # supersampling factor per axis


# ----------------------------------------------------------------------------------------------
# Scenes
# ----------------------------------------------------------------------------------------------


def sample_scenes(num_images: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """
    Draw the content of `num_images` scenes (no pixels yet).

    Inputs:
    - num_images: N.
    - rng: the random generator (consumed).

    Returns a dict of arrays, 3 object slots per image (slots past `count` are unused):
    - count: (N,) int, objects in the image (1..3).
    - size, colour, shape: (N, 3) int indices into SIZES, COLOURS, SHAPES.
    - cx, cy, radius: (N, 3) float, centre (x right, y down) and radius in image units [-1, 1].
    - relation: (N,) int index into RELATIONS (of object 0 w.r.t. object 1; used when count == 2).
    - rgb: (N, 3, 3) float, the objects' colours; background: (N, 3) float; shade: (N,) float.
    """
    n = num_images
    count = rng.choice(3, size=n, p=_NUM_OBJECTS_P) + 1
    size = rng.integers(0, 2, size=(n, 3))
    shape = rng.integers(0, len(SHAPES), size=(n, 3))
    colour = np.argsort(rng.random((n, len(COLOURS))), axis=1)[:, :3]  # three distinct colours
    lo = np.where(size == 1, _RADIUS[1][0], _RADIUS[0][0])
    hi = np.where(size == 1, _RADIUS[1][1], _RADIUS[0][1])
    radius = lo + (hi - lo) * rng.random((n, 3))
    relation = rng.integers(0, 4, size=n)

    cx = np.zeros((n, 3))
    cy = np.zeros((n, 3))
    # one object: anywhere that keeps it inside the image
    one = count == 1
    cx[one, 0] = rng.uniform(-0.55, 0.55, one.sum())
    cy[one, 0] = rng.uniform(-0.55, 0.55, one.sum())
    # two objects: separated along the relation's axis by more than across it
    two = np.flatnonzero(count == 2)
    first = rng.uniform(0.35, 0.62, len(two))  # distance of each object from the centre line
    second = rng.uniform(0.35, 0.62, len(two))
    across = rng.uniform(-0.3, 0.3, (len(two), 2))
    rel = relation[two]
    sign = np.where((rel == 0) | (rel == 2), -1.0, 1.0)  # above / left: object 0 at negative y / x
    along0, along1 = sign * first, -sign * second
    vertical = rel < 2
    cx[two, 0] = np.where(vertical, across[:, 0], along0)
    cy[two, 0] = np.where(vertical, along0, across[:, 0])
    cx[two, 1] = np.where(vertical, across[:, 1], along1)
    cy[two, 1] = np.where(vertical, along1, across[:, 1])
    # three objects: in a row from left to right
    three = np.flatnonzero(count == 3)
    cx[three] = np.array([-0.64, 0.0, 0.64]) + rng.uniform(-0.03, 0.03, (len(three), 3))
    cy[three] = rng.uniform(-0.55, 0.55, (len(three), 3))

    rgb = np.clip(_RGB[colour] + rng.uniform(-_COLOUR_JITTER, _COLOUR_JITTER, (n, 3, 3)), 0, 255)
    background = rng.uniform(18, 60, (n, 1)) + rng.uniform(-6, 6, (n, 3))
    shade = rng.uniform(-12, 12, n)  # a vertical gradient of light across the background
    return {
        "count": count,
        "size": size,
        "colour": colour,
        "shape": shape,
        "cx": cx,
        "cy": cy,
        "radius": radius,
        "relation": relation,
        "rgb": rgb,
        "background": background,
        "shade": shade,
    }


def _shape_mask(u: np.ndarray, v: np.ndarray, shape: int) -> np.ndarray:
    """Inside-test of one of the five shapes in object units (u right, v down, radius 1)."""
    au, av = np.abs(u), np.abs(v)
    if shape == 0:  # circle
        return u * u + v * v <= 1.0
    if shape == 1:  # square
        return np.maximum(au, av) <= 0.82
    if shape == 2:  # triangle, apex up
        return (v <= 0.75) & (au <= 1.1 * (v + 1.0) / 1.75)
    if shape == 3:  # diamond
        return au + av <= 1.1
    return ((au <= 0.32) & (av <= 0.95)) | ((av <= 0.32) & (au <= 0.95))  # cross


def _pixel_span(centre: float, radius: float) -> tuple[int, int]:
    """First and one-past-last pixel index covering [centre - 1.2 r, centre + 1.2 r] (every shape fits)."""
    lo = int(np.floor((centre - 1.2 * radius + 1.0) * IMAGE_SIZE / 2))
    hi = int(np.ceil((centre + 1.2 * radius + 1.0) * IMAGE_SIZE / 2))
    return max(lo, 0), min(hi, IMAGE_SIZE)


def render_scenes(scenes: dict[str, np.ndarray]) -> np.ndarray:
    """
    Draw the scenes.

    Each object is drawn only inside its bounding box, at 2x2 supersampling (its coverage of each
    pixel is then the fraction of its 4 sub-pixels inside the shape), over a background with a
    vertical gradient of light.

    Inputs:
    - scenes: a dict from `sample_scenes`.

    Returns:
    - images: uint8 array of shape (N, 64, 64, 3).
    """
    n, size = len(scenes["count"]), IMAGE_SIZE
    rows = ((np.arange(size) + 0.5) / (size / 2) - 1.0).astype(np.float32)
    sub = (np.arange(size * _SS) + 0.5) / (size * _SS / 2) - 1.0  # sub-pixel centres
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        img = scenes["background"][i] + scenes["shade"][i] * rows[:, None, None]  # (size, 1, 3)
        img = np.broadcast_to(img.astype(np.float32), (size, size, 3)).copy()
        for k in range(scenes["count"][i]):
            cx, cy, r = scenes["cx"][i, k], scenes["cy"][i, k], scenes["radius"][i, k]
            x0, x1 = _pixel_span(cx, r)
            y0, y1 = _pixel_span(cy, r)
            u = (sub[x0 * _SS : x1 * _SS] - cx) / r
            v = (sub[y0 * _SS : y1 * _SS] - cy) / r
            inside = _shape_mask(u[None, :], v[:, None], int(scenes["shape"][i, k]))
            cover = inside.reshape(y1 - y0, _SS, x1 - x0, _SS).mean(axis=(1, 3), dtype=np.float32)[..., None]
            box = img[y0:y1, x0:x1]
            box += cover * (scenes["rgb"][i, k].astype(np.float32) - box)
        out[i] = np.clip(np.rint(img), 0, 255)
    return out


# ----------------------------------------------------------------------------------------------
# Captions
# ----------------------------------------------------------------------------------------------


def _object_words(scenes: dict[str, np.ndarray], i: int, k: int) -> list[str]:
    return ["a", SIZES[scenes["size"][i, k]], COLOURS[scenes["colour"][i, k]], SHAPES[scenes["shape"][i, k]]]


def scene_captions(scenes: dict[str, np.ndarray], i: int) -> list[list[str]]:
    """
    The captions of scene i, as lists of words (without special tokens).

    Inputs:
    - scenes: a dict from `sample_scenes`; i: the scene's index.

    Returns:
    - list of captions: one for 1 and 3 objects, two for 2 objects (the relation from either side).
    """
    count = scenes["count"][i]
    if count == 1:
        return [_object_words(scenes, i, 0)]
    if count == 3:  # left to right
        first, second, third = (_object_words(scenes, i, k) for k in range(3))
        return [first + ["and"] + second + ["and"] + third]
    rel = RELATIONS[scenes["relation"][i]]
    a, b = _object_words(scenes, i, 0), _object_words(scenes, i, 1)
    return [a + list(_RELATION_WORDS[rel]) + b, b + list(_RELATION_WORDS[_INVERSE[rel]]) + a]


def encode_caption(words: list[str], word_to_idx: dict[str, int] = WORD_TO_IDX, length: int = MAX_LENGTH) -> np.ndarray:
    """
    Turn words into a padded row of indices: <START> words <END> <NULL> ... <NULL>.

    Inputs:
    - words: the caption's words; unknown words become <UNK>.
    - word_to_idx: the vocabulary; length: the row's length (17 like COCO).

    Returns:
    - int32 array of shape (length,).
    """
    idx = [word_to_idx["<START>"]] + [word_to_idx.get(w, word_to_idx["<UNK>"]) for w in words] + [word_to_idx["<END>"]]
    if len(idx) > length:
        raise ValueError(f"caption of {len(words)} words does not fit in {length} tokens: {' '.join(words)!r}")
    row = np.full(length, word_to_idx["<NULL>"], dtype=np.int32)
    row[: len(idx)] = idx
    return row


# ----------------------------------------------------------------------------------------------
# The dataset
# ----------------------------------------------------------------------------------------------


def make_split(num_images: int, rng: np.random.Generator, split: str) -> dict[str, np.ndarray]:
    scenes = sample_scenes(num_images, rng)
    images = render_scenes(scenes)
    rows, owners = [], []
    for i in range(num_images):
        for words in scene_captions(scenes, i):
            rows.append(encode_caption(words))
            owners.append(i)
    captions = np.array(rows, dtype=np.int32).reshape(-1, MAX_LENGTH)
    image_idxs = np.array(owners, dtype=np.int32)
    order = rng.permutation(len(captions))  # COCO's captions file is not grouped by image either
    return {
        f"{split}_captions": captions[order],
        f"{split}_image_idxs": image_idxs[order],
        f"{split}_images": images,
        f"{split}_urls": np.array([f"synthetic://{split}/{i:06d}" for i in range(num_images)]),
    }
