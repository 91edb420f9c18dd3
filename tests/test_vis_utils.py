"""Tests for cs231n.vis_utils: grid layout and ranges, and the plots with the headless Agg backend."""

import matplotlib

matplotlib.use("Agg")  # headless; only this test process is affected

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231n.vis_utils import (  # noqa: E402
    show_examples,
    show_weight_templates,
    vis_grid,
    vis_nn,
    visualize_grid,
    weight_templates,
)

CLASSES = ["plane", "car", "bird"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_visualize_grid_shape_range_and_placement(rng):
    Xs = rng.normal(size=(10, 5, 6, 3)) * 3 - 1
    grid = visualize_grid(Xs, ubound=255.0, padding=2)
    # ceil(sqrt(10)) = 4 tiles per side
    assert grid.shape == (4 * 5 + 3 * 2, 4 * 6 + 3 * 2, 3)
    assert grid.min() == 0.0 and grid.max() == pytest.approx(255.0)
    # Every image is rescaled on its own: the tile of image 5 (row 1, column 1) spans [0, 255].
    tile = grid[7:12, 8:14]
    expected = 255 * (Xs[5] - Xs[5].min()) / (Xs[5].max() - Xs[5].min())
    assert np.allclose(tile, expected)
    # Padding and the 6 empty slots stay 0.
    assert np.all(grid[5:7] == 0) and np.all(grid[:, 6:8] == 0)
    assert np.all(grid[3 * 7 :, 2 * 8 :] == 0)


def test_visualize_grid_constant_image_and_ubound():
    Xs = np.ones((4, 2, 2, 1))
    Xs[1] = np.arange(4).reshape(2, 2, 1)
    grid = visualize_grid(Xs, ubound=1.0, padding=0)
    assert grid.shape == (4, 4, 1)
    assert np.all(np.isfinite(grid)) and grid.max() == 1.0
    assert np.all(grid[:2, :2] == 0)  # a constant image becomes 0
    assert np.array_equal(grid[:2, 2:, 0], [[0, 1 / 3], [2 / 3, 1]])


def test_vis_grid_global_rescale(rng):
    Xs = rng.uniform(10, 20, size=(5, 4, 3, 3))
    Xs[0] *= 0.5  # darker image stays darker: one rescale for the whole grid
    grid = vis_grid(Xs)
    assert grid.shape == (3 * 5, 3 * 4, 3)
    assert grid.min() == 0.0 and grid.max() == 1.0
    lo, hi = Xs.min(), Xs.max()
    assert np.allclose(grid[5:9, 4:7], (Xs[4] - lo) / (hi - lo))
    assert np.allclose(grid[:4, :3], (Xs[0] - lo) / (hi - lo))
    assert np.all(grid[4] == 0)  # padding holds the minimum


def test_vis_nn_layout(rng):
    rows = [[rng.uniform(size=(3, 2, 3)) for _ in range(4)] for _ in range(2)]
    grid = vis_nn(rows)
    assert grid.shape == (2 * 4, 4 * 3, 3)
    assert grid.min() >= 0 and grid.max() == 1.0
    stacked = np.stack([np.stack(r) for r in rows])
    lo = stacked.min()
    hi = max(stacked.max(), 1.0)  # the padding is 1 before rescaling
    assert np.allclose(grid[4:7, 6:8], (rows[1][2] - lo) / (hi - lo))


def test_weight_templates_drop_bias_and_rescale(rng):
    W = rng.normal(size=(3073, 3))
    templates = weight_templates(W)
    assert templates.shape == (3, 32, 32, 3)
    assert templates.min() == 0.0 and templates.max() == pytest.approx(255.0)
    w = W[:-1]
    expected = 255 * (w - w.min()) / (w.max() - w.min())
    assert np.allclose(templates[1], expected[:, 1].reshape(32, 32, 3))
    assert np.allclose(weight_templates(W[:-1]), expected.T.reshape(3, 32, 32, 3))
    with pytest.raises(ValueError):
        weight_templates(W[:100])


def test_show_weight_templates_draws_one_axes_per_class(rng):
    fig = show_weight_templates(rng.normal(size=(3072, 3)), CLASSES, ncols=2)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == CLASSES
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (32, 32, 3) and image.min() >= 0 and image.max() <= 1


@pytest.mark.parametrize("kind", ["uint8", "float", "centred", "flat"])
def test_show_examples(rng, kind):
    X = rng.integers(0, 256, size=(30, 8, 8, 3)).astype(np.uint8)
    y = np.arange(30) % 3
    data = {
        "uint8": X,
        "float": X.astype(np.float64),
        "centred": X - X.mean(axis=0),
        "flat": X.reshape(30, -1).astype(np.float32),
    }[kind]
    fig, ax = plt.subplots()
    out = show_examples(data, y, CLASSES, samples_per_class=4, seed=0, ax=ax, image_shape=(8, 8, 3))
    assert out is ax
    canvas = ax.get_images()[0].get_array()
    assert canvas.shape == (4 * 9 - 1, 3 * 9 - 1, 3)
    assert canvas.min() >= 0 and canvas.max() <= 1
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    # The top-left tile is an image of class 0 shown at its true colours unless rescaled.
    tile = np.asarray(canvas[:8, :8])
    if kind != "centred":
        matches = [np.allclose(tile, X[i] / 255.0) for i in np.flatnonzero(y == 0)]
        assert any(matches)


def test_show_examples_same_seed_same_images_and_new_figure(rng):
    X = rng.uniform(0, 255, size=(40, 4, 4, 3))
    y = np.arange(40) % 3
    first = show_examples(X, y, CLASSES, samples_per_class=2, seed=5).get_images()[0].get_array()
    second = show_examples(X, y, CLASSES, samples_per_class=2, seed=5).get_images()[0].get_array()
    assert np.array_equal(first, second)
    # A class with fewer images than requested leaves blank (white) tiles.
    few = show_examples(X[:4], y[:4], CLASSES, samples_per_class=3, seed=0).get_images()[0].get_array()
    assert np.all(np.asarray(few)[5:9, 10:14] == 1.0)  # class 2 has one image: its 2nd tile is blank
