"""Tests for cs231n.features on synthetic images with known structure."""

import math
from functools import partial

import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv

from cs231n.features import (
    color_histogram_hsv,
    color_histograms_hsv,
    extract_features,
    hog_feature,
    hog_features,
    rgb2gray,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def stripes(vertical: bool, size: int = 32, period: int = 4) -> np.ndarray:
    """RGB image of black and white stripes (vertical stripes have vertical edges)."""
    coord = np.arange(size)
    on = ((coord // (period // 2)) % 2).astype(np.float64) * 255
    gray = np.tile(on, (size, 1)) if vertical else np.tile(on[:, None], (1, size))
    return np.repeat(gray[:, :, None], 3, axis=2)


def reference_hog(gray: np.ndarray) -> np.ndarray:
    """Straightforward per-pixel loop version of the documented HOG definition."""
    H, W = gray.shape
    hist = np.zeros((H // 8, W // 8, 9))
    for r in range((H // 8) * 8):
        for c in range((W // 8) * 8):
            gx = gray[r, c + 1] - gray[r, c] if c + 1 < W else 0.0
            gy = gray[r + 1, c] - gray[r, c] if r + 1 < H else 0.0
            angle = math.degrees(math.atan2(gy, gx)) % 180.0
            b = min(int(angle // 20), 8)
            hist[r // 8, c // 8, b] += math.hypot(gx, gy) / 64
    return hist.ravel()


# ----------------------------------------------------------------------------- rgb2gray


def test_rgb2gray_weights():
    img = np.zeros((1, 3, 3))
    img[0, 0, 0] = img[0, 1, 1] = img[0, 2, 2] = 1.0
    assert np.allclose(rgb2gray(img), [[0.299, 0.587, 0.114]])
    assert rgb2gray(np.full((2, 2, 3), 200, dtype=np.uint8)) == pytest.approx(np.full((2, 2), 200.0))


# ----------------------------------------------------------------------------- HOG


def test_hog_length_and_layout():
    assert hog_feature(np.zeros((32, 32, 3))).shape == (4 * 4 * 9,)
    assert hog_feature(np.zeros((20, 41))).shape == (2 * 5 * 9,)  # partial cells are dropped


def test_hog_blank_image_is_zero():
    assert np.all(hog_feature(np.full((32, 32, 3), 77.0)) == 0)


def test_hog_vertical_edges_in_horizontal_gradient_bin():
    cells = hog_feature(stripes(vertical=True)).reshape(4, 4, 9)
    assert cells[:, :, 0].min() > 0  # every cell sees the edges
    assert np.all(cells[:, :, 1:] == 0)


def test_hog_horizontal_edges_in_vertical_gradient_bin():
    cells = hog_feature(stripes(vertical=False)).reshape(4, 4, 9)
    assert cells[:, :, 4].min() > 0  # 90 degrees falls in [80, 100)
    assert np.all(np.delete(cells, 4, axis=2) == 0)


def test_hog_diagonal_gradient_and_cell_position():
    # A ramp increasing down-right only in the top-right 8x8 cell of a 16x16 image.
    img = np.zeros((16, 16))
    r, c = np.mgrid[0:8, 8:16]
    img[0:8, 8:16] = r + c
    cells = hog_feature(img).reshape(2, 2, 9)
    # Its 7x7 interior pixels have gx = gy = 1: 45 degrees, bin 2, magnitude sqrt(2), cell mean.
    assert cells[0, 1, 2] == pytest.approx(49 * np.sqrt(2) / 64)
    # Its last row and column (steps down to 0, or the image border) are near vertical: bin 4.
    assert cells[0, 1, 4] > 0
    assert np.all(np.delete(cells[0, 1], [2, 4]) == 0)
    # The step up into the ramp from the left is a horizontal gradient in the top-left cell.
    assert cells[0, 0, 0] == pytest.approx(sum(rr + 8 for rr in range(8)) / 64)
    assert np.all(cells[0, 0, 1:] == 0)
    assert np.all(cells[1] == 0)  # nothing below


def test_hog_brightness_offset_invariance_and_scaling(rng):
    img = rng.uniform(0, 200, size=(32, 32, 3))
    base = hog_feature(img)
    assert np.allclose(hog_feature(img + 40.0), base)
    assert np.allclose(hog_feature(2.0 * img), 2.0 * base)


def test_hog_matches_loop_reference(rng):
    img = rng.integers(0, 256, size=(24, 19, 3)).astype(np.uint8)
    assert np.allclose(hog_feature(img), reference_hog(rgb2gray(img)))
    gray = rng.normal(size=(16, 16))
    assert np.allclose(hog_feature(gray), reference_hog(gray))
    assert np.allclose(hog_feature(gray[:, :, None]), reference_hog(gray))


def test_hog_batched_equals_per_image(rng):
    imgs = rng.integers(0, 256, size=(5, 32, 32, 3)).astype(np.uint8)
    batch = hog_features(imgs)
    assert batch.shape == (5, 144)
    for img, row in zip(imgs, batch, strict=True):
        assert np.array_equal(hog_feature(img), row)


# ----------------------------------------------------------------------------- hue histogram


def solid(rgb, size=8):
    return np.tile(np.asarray(rgb, dtype=np.float64), (size, size, 1))


@pytest.mark.parametrize(
    ("color", "expected_bin"),
    [((255, 0, 0), 0), ((0, 255, 0), 3), ((0, 0, 255), 6), ((255, 255, 0), 1), ((0, 255, 255), 5)],
)
def test_pure_colours_land_in_their_bin(color, expected_bin):
    hist = color_histogram_hsv(solid(color))
    assert hist.shape == (10,)
    assert hist[expected_bin] == 1.0
    assert hist.sum() == 1.0


def test_hue_histogram_counts_and_normalisation(rng):
    img = np.concatenate([solid((255, 0, 0), 4), solid((0, 255, 0), 4), solid((0, 0, 200), 4)], axis=0)
    img[0, 0] = (90, 90, 90)  # gray: hue 0, counted with red
    counts = color_histogram_hsv(img, normalized=False)
    assert counts[0] == 16 and counts[3] == 16 and counts[6] == 16 and counts.sum() == 48
    fractions = color_histogram_hsv(img)
    assert np.allclose(fractions, counts / 48)
    noise = rng.integers(0, 256, size=(32, 32, 3)).astype(np.uint8)
    assert color_histogram_hsv(noise, nbin=25).sum() == pytest.approx(1.0)


def test_hue_histogram_scale_invariant_and_matches_matplotlib(rng):
    img = rng.integers(0, 256, size=(16, 16, 3)).astype(np.uint8)
    hist = color_histogram_hsv(img, nbin=12)
    assert np.array_equal(color_histogram_hsv(img / 255.0, nbin=12), hist)
    hue = rgb_to_hsv(img / 255.0)[..., 0] * 255
    expected, _ = np.histogram(hue, bins=np.linspace(0, 255, 13))
    assert np.array_equal(hist, expected / expected.sum())


def test_hue_histogram_range_and_batch(rng):
    # Only hues in [xmin, xmax] are counted; normalisation is over the counted pixels.
    img = np.concatenate([solid((255, 0, 0), 4), solid((0, 0, 255), 4)], axis=0)
    hist = color_histogram_hsv(img, nbin=4, xmin=100, xmax=255, normalized=False)
    assert hist.sum() == 16 and hist[1] == 16  # blue: 170 in [138.75, 177.5)
    assert color_histogram_hsv(img, nbin=4, xmin=100, xmax=255)[1] == 1.0
    imgs = rng.integers(0, 256, size=(4, 8, 8, 3))
    batch = color_histograms_hsv(imgs, nbin=7)
    for img, row in zip(imgs, batch, strict=True):
        assert np.array_equal(color_histogram_hsv(img, nbin=7), row)


# ----------------------------------------------------------------------------- extract_features


def test_extract_features_equals_stacking(rng):
    imgs = rng.integers(0, 256, size=(23, 32, 32, 3)).astype(np.float64)
    fns = [hog_feature, lambda im: color_histogram_hsv(im, nbin=10), partial(color_histogram_hsv, nbin=6)]
    feats = extract_features(imgs, fns)
    assert feats.shape == (23, 144 + 10 + 6)
    expected = np.stack(
        [np.concatenate([hog_feature(im), color_histogram_hsv(im), color_histogram_hsv(im, nbin=6)])
         for im in imgs]
    )
    assert np.allclose(feats, expected, rtol=0, atol=1e-12)


def test_extract_features_chunks_and_progress(rng, capsys):
    imgs = rng.integers(0, 256, size=(2100, 16, 16, 3)).astype(np.uint8)
    fns = [hog_feature, lambda im: im.mean(axis=(0, 1))]  # the second has no batched path
    feats = extract_features(imgs, fns, verbose=True)
    assert feats.shape == (2100, 36 + 3)
    assert np.allclose(feats[:, 36:], imgs.mean(axis=(1, 2)))
    assert np.allclose(feats[2099, :36], hog_feature(imgs[2099]))
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("\r") == 3  # one update per 1000 images, on one line
    assert captured.out.endswith("2100 / 2100 images\n")
    assert extract_features(imgs[:3], fns).shape == (3, 39)
    assert capsys.readouterr().out == ""  # quiet unless verbose


def test_extract_features_rejects_non_vector_features(rng):
    imgs = rng.normal(size=(2, 8, 8, 3))
    with pytest.raises(ValueError):
        extract_features(imgs, [lambda im: im])
    assert extract_features(imgs[:0], [hog_feature]).shape == (0, 0)
