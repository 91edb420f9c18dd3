"""Tests of the synthetic localisation and detection images (cs231n.data.localization)."""

import numpy as np
import pytest

from cs231n.data import make_synthetic_detection, make_synthetic_localization
from cs231n.data.synthetic import SYNTHETIC_CLASSES


@pytest.fixture(scope="module")
def plain():
    """Images with a flat background and no illumination change: object pixels are the changed ones."""
    return make_synthetic_localization(120, image_size=48, seed=5, clutter=False)


def _background_colour(image):
    """The most frequent colour of an image (the flat background covers most of it)."""
    colours, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    return colours[np.argmax(counts)]


def test_shapes_dtypes_and_ranges():
    data = make_synthetic_localization(73, image_size=40, seed=1)
    assert data["images"].shape == (73, 40, 40, 3) and data["images"].dtype == np.uint8
    assert data["labels"].shape == (73,) and data["labels"].dtype == np.int64
    assert data["boxes"].shape == (73, 4) and data["boxes"].dtype == np.float64
    assert data["masks"].shape == (73, 40, 40) and data["masks"].dtype == bool
    assert tuple(data["class_names"]) == SYNTHETIC_CLASSES
    assert data["labels"].min() >= 0 and data["labels"].max() < 10
    counts = np.bincount(data["labels"], minlength=10)
    assert counts.min() >= 7 and counts.max() <= 8  # balanced: floor or ceil of 73 / 10
    x0, y0, x1, y1 = data["boxes"].T
    assert np.all(0 <= x0) and np.all(x0 < x1) and np.all(x1 <= 40)
    assert np.all(0 <= y0) and np.all(y0 < y1) and np.all(y1 <= 40)
    assert np.array_equal(data["boxes"], np.round(data["boxes"]))  # pixel-aligned


def test_empty_and_bad_sizes():
    data = make_synthetic_localization(0, image_size=32)
    assert data["images"].shape == (0, 32, 32, 3) and data["boxes"].shape == (0, 4)
    with pytest.raises(ValueError):
        make_synthetic_localization(-1)
    with pytest.raises(ValueError):
        make_synthetic_localization(5, image_size=8)
    with pytest.raises(ValueError):
        make_synthetic_detection(5, max_objects=2, min_objects=3)


def test_deterministic_per_seed_and_seeds_differ():
    a = make_synthetic_localization(60, image_size=32, seed=11)
    b = make_synthetic_localization(60, image_size=32, seed=11)
    c = make_synthetic_localization(60, image_size=32, seed=12)
    for key in ("images", "labels", "boxes", "masks"):
        assert np.array_equal(a[key], b[key])
    assert not np.array_equal(a["images"], c["images"])
    assert not np.array_equal(a["boxes"], c["boxes"])


def test_boxes_are_the_tight_boxes_of_the_masks():
    data = make_synthetic_localization(80, image_size=64, seed=2)
    for mask, box in zip(data["masks"], data["boxes"], strict=True):
        rows, cols = np.nonzero(mask)
        assert rows.size > 0, "every object covers at least one pixel"
        assert np.array_equal(box, [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])


def test_boxes_enclose_the_drawn_object(plain):
    """On flat backgrounds every changed pixel lies in the box (up to the anti-aliased rim of 2 pixels),
    and the object's pixels (its mask) do show in the image."""
    for image, box, mask in zip(plain["images"], plain["boxes"], plain["masks"], strict=True):
        changed = np.any(image != _background_colour(image), axis=-1)
        rows, cols = np.nonzero(changed)
        x0, y0, x1, y1 = box
        assert cols.min() >= x0 - 2 and cols.max() + 1 <= x1 + 2
        assert rows.min() >= y0 - 2 and rows.max() + 1 <= y1 + 2
        assert changed[mask].mean() > 0.5  # the object differs from the background where it is drawn


def test_box_edges_touch_the_object(plain):
    """Tight: the first and last row and column of every box hold changed pixels (most of the time; an
    object colour may match the background by chance)."""
    touching = []
    for image, box in zip(plain["images"], plain["boxes"], strict=True):
        changed = np.any(image != _background_colour(image), axis=-1)
        x0, y0, x1, y1 = box.astype(int)
        inside = changed[y0:y1, x0:x1]
        touching.append(inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any())
    assert np.mean(touching) > 0.95


def test_objects_vary_in_size_and_position():
    data = make_synthetic_localization(300, image_size=64, seed=3)
    x0, y0, x1, y1 = data["boxes"].T
    width, centre_x = x1 - x0, (x0 + x1) / 2
    assert width.min() < 18 and width.max() > 32
    assert centre_x.min() < 20 and centre_x.max() > 44
    assert np.std((y0 + y1) / 2) > 6


def test_detection_scenes():
    scenes = make_synthetic_detection(40, image_size=80, max_objects=4, min_objects=2, seed=4)
    again = make_synthetic_detection(40, image_size=80, max_objects=4, min_objects=2, seed=4)
    assert scenes["images"].shape == (40, 80, 80, 3) and scenes["images"].dtype == np.uint8
    assert len(scenes["boxes"]) == len(scenes["labels"]) == 40
    counts = [len(b) for b in scenes["boxes"]]
    assert min(counts) >= 2 and max(counts) <= 4 and len(set(counts)) > 1
    for boxes, labels, boxes2 in zip(scenes["boxes"], scenes["labels"], again["boxes"], strict=True):
        assert boxes.shape == (len(labels), 4) and labels.dtype == np.int64
        assert np.all(boxes[:, :2] < boxes[:, 2:]) and boxes.min() >= 0 and boxes.max() <= 80
        assert np.all((labels >= 0) & (labels < 10))
        assert np.array_equal(boxes, boxes2)
    assert np.array_equal(scenes["images"], again["images"])
