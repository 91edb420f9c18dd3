"""Tiling images into grids, and a few plots the notebooks share.

The grid functions are pure NumPy and return an image array. The plotting functions import
matplotlib only when called and never choose a backend, so importing this module is safe
anywhere, including headless test runs (where MPLBACKEND=Agg, or matplotlib's own fallback,
applies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # only for annotations; matplotlib is imported lazily
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "visualize_grid",
    "vis_grid",
    "vis_nn",
    "show_examples",
    "weight_templates",
    "show_weight_templates",
]


def _rescale(img: np.ndarray, ubound: float) -> np.ndarray:
    """Linearly map img onto [0, ubound]; a constant image maps to all zeros."""
    img = np.asarray(img, dtype=np.float64)
    low, high = img.min(), img.max()
    if high == low:
        return np.zeros_like(img)
    return ubound * (img - low) / (high - low)


def visualize_grid(Xs: np.ndarray, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """
    Tile N images into one square grid image, rescaling each image separately to [0, ubound].

    The grid has G = ceil(sqrt(N)) rows and columns, filled row by row; empty slots and the
    padding between tiles are 0. Used to look at first-layer weights, e.g.
    visualize_grid(W1.T.reshape(-1, 32, 32, 3), padding=3).

    Inputs:
    - Xs: Array of shape (N, H, W, C).
    - ubound: Each image is mapped linearly so that its minimum becomes 0 and its maximum ubound
      (a constant image becomes all 0).
    - padding: Number of blank pixels between neighbouring tiles (not around the border).

    Returns:
    - grid: float64 array of shape (G * H + (G - 1) * padding, G * W + (G - 1) * padding, C).
    """
    N, H, W, C = Xs.shape
    grid_size = math.ceil(math.sqrt(N))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for n in range(N):
        row, col = divmod(n, grid_size)
        y0, x0 = row * (H + padding), col * (W + padding)
        grid[y0 : y0 + H, x0 : x0 + W] = _rescale(Xs[n], ubound)
    return grid


def vis_grid(Xs: np.ndarray) -> np.ndarray:
    """
    Tile N images into a square grid and rescale the whole grid (not each image) to [0, 1].

    Unlike visualize_grid, the relative brightness of the images is kept. Each tile is followed
    by one pixel of padding (also after the last row and column), filled with the minimum of Xs.

    Inputs:
    - Xs: Array of shape (N, H, W, C).

    Returns:
    - grid: float64 array of shape (A * (H + 1), A * (W + 1), C) with A = ceil(sqrt(N)), values in
      [0, 1] (all 0 if Xs is constant).
    """
    N, H, W, C = Xs.shape
    A = math.ceil(math.sqrt(N))
    grid = np.full((A * (H + 1), A * (W + 1), C), np.min(Xs), dtype=np.float64)
    for n in range(N):
        row, col = divmod(n, A)
        grid[row * (H + 1) : row * (H + 1) + H, col * (W + 1) : col * (W + 1) + W] = Xs[n]
    return _rescale(grid, 1.0)


def vis_nn(rows: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """
    Lay out a table of images (for example each query image followed by its nearest neighbours)
    and rescale the whole table to [0, 1].

    Inputs:
    - rows: N sequences of D images each, every image of shape (H, W, C).

    Returns:
    - grid: float64 array of shape (N * (H + 1), D * (W + 1), C), values in [0, 1]. Each tile is
      followed by one pixel of padding, which has the value 1 before rescaling.
    """
    N, D = len(rows), len(rows[0])
    H, W, C = np.shape(rows[0][0])
    grid = np.ones((N * (H + 1), D * (W + 1), C))
    for y, row in enumerate(rows):
        if len(row) != D:
            raise ValueError("all rows must hold the same number of images")
        for x, img in enumerate(row):
            grid[y * (H + 1) : y * (H + 1) + H, x * (W + 1) : x * (W + 1) + W] = img
    return _rescale(grid, 1.0)


def _as_images(X: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """(N, H, W, C) stays; (N, D) with D = prod(image_shape) is reshaped to (N, *image_shape)."""
    X = np.asarray(X)
    if X.ndim == 2:
        if X.shape[1] != math.prod(image_shape):
            raise ValueError(f"cannot reshape rows of length {X.shape[1]} into images of {image_shape}")
        X = X.reshape(-1, *image_shape)
    if X.ndim != 4:
        raise ValueError(f"expected images of shape (N, H, W, C) or (N, D), got {X.shape}")
    return X


def _display_mode(X: np.ndarray) -> str:
    """
    How to turn images into [0, 1] values for imshow, decided once for a whole dataset:
    "uint8" for uint8 data and floats within [0, 255] that exceed 1 (divide by 255), "unit" for
    floats already within [0, 1] (keep), "rescale" for anything else, e.g. mean-subtracted data
    (map every image to [0, 1] separately).
    """
    if X.dtype == np.uint8:
        return "uint8"
    low, high = (float(X.min()), float(X.max())) if X.size else (0.0, 0.0)
    if low >= 0 and high <= 1:
        return "unit"
    if low >= 0 and high <= 255:
        return "uint8"
    return "rescale"


def _displayable(img: np.ndarray, mode: str) -> np.ndarray:
    """One image as float64 values in [0, 1], following _display_mode."""
    if mode == "uint8":
        return np.asarray(img, dtype=np.float64) / 255.0
    if mode == "unit":
        return np.asarray(img, dtype=np.float64)
    return _rescale(img, 1.0)


def show_examples(
    X: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    samples_per_class: int = 7,
    seed: int | None = 0,
    ax: Axes | None = None,
    image_shape: tuple[int, int, int] = (32, 32, 3),
) -> Axes:
    """
    Draw a few random training images of every class: one column per class, named at the top.

    The samples are composed into a single image (1 pixel of white padding between tiles) drawn
    on one Axes, so the function also works inside a larger figure.

    Inputs:
    - X: Images of shape (N, H, W, C), uint8 or float; or rows of shape (N, D) with
      D = prod(image_shape). uint8 data and floats within [0, 255] are shown as pixel values,
      floats within [0, 1] as they are, anything else (e.g. mean-subtracted data) is rescaled
      image by image to the full range.
    - y: Integer labels of shape (N,), in [0, len(class_names)).
    - class_names: Name of every class, in label order.
    - samples_per_class: Images per class (fewer if a class has fewer; the rest stays blank).
    - seed: Seed for picking the images (None: a different choice every call).
    - ax: Matplotlib Axes to draw on; by default a new figure is created.
    - image_shape: (H, W, C) used to reshape flattened rows.

    Returns:
    - ax: The Axes drawn on.
    """
    X = _as_images(X, image_shape)
    y = np.asarray(y)
    _, H, W, C = X.shape
    num_classes = len(class_names)
    rng = np.random.default_rng(seed)
    mode = _display_mode(X)

    canvas = np.ones((samples_per_class * (H + 1) - 1, num_classes * (W + 1) - 1, C))
    for label in range(num_classes):
        idxs = np.flatnonzero(y == label)
        chosen = rng.choice(idxs, size=min(samples_per_class, len(idxs)), replace=False)
        for i, idx in enumerate(chosen):
            tile = _displayable(X[idx], mode)
            canvas[i * (H + 1) : i * (H + 1) + H, label * (W + 1) : label * (W + 1) + W] = tile

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(1.1 * num_classes, 1.1 * samples_per_class))
    ax.imshow(canvas.squeeze(-1) if C == 1 else canvas, cmap="gray" if C == 1 else None)
    ax.set_xticks([label * (W + 1) + W / 2 - 0.5 for label in range(num_classes)])
    ax.set_xticklabels(class_names)
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def weight_templates(
    W: np.ndarray, image_shape: tuple[int, int, int] = (32, 32, 3), ubound: float = 255.0
) -> np.ndarray:
    """
    Turn the weights of a linear classifier into one image per class.

    Inputs:
    - W: Weights of shape (D, C) or (D + 1, C) with D = prod(image_shape); in the second case the
      last row is the bias (the bias trick appends a constant 1 to every input) and is dropped.
    - image_shape: (H, W, C) of the input images, in the order the pixels were flattened.
    - ubound: Upper end of the output range.

    Returns:
    - templates: float64 array of shape (C, H, W, channels): all classes rescaled together (one
      common minimum and maximum, as in the original notebooks) to [0, ubound], so that templates
      can be compared with each other.
    """
    W = np.asarray(W)
    D = math.prod(image_shape)
    if W.ndim != 2 or W.shape[0] not in (D, D + 1):
        raise ValueError(f"expected weights of shape ({D}, C) or ({D + 1}, C), got {W.shape}")
    templates = W[:D].T.reshape(-1, *image_shape)
    return _rescale(templates, ubound)


def show_weight_templates(
    W: np.ndarray,
    class_names: Sequence[str],
    image_shape: tuple[int, int, int] = (32, 32, 3),
    ncols: int = 5,
    fig: Figure | None = None,
    **imshow_kwargs: Any,
) -> Figure:
    """
    Show the learned template of every class of a linear classifier (see weight_templates).

    Inputs:
    - W: Weights of shape (D, C) or (D + 1, C) (the last row, the bias, is dropped).
    - class_names: C names, used as titles.
    - image_shape: (H, W, C) of the input images.
    - ncols: Number of templates per row of the figure.
    - fig: Matplotlib Figure to draw into (it should be empty); by default a new one is created.
    - imshow_kwargs: Passed on to every imshow call.

    Returns:
    - fig: The Figure drawn on, with one Axes per class.
    """
    templates = weight_templates(W, image_shape, ubound=1.0)
    num_classes = templates.shape[0]
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for {num_classes} templates")
    nrows = math.ceil(num_classes / ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(2 * ncols, 2.2 * nrows))
    for i, (template, name) in enumerate(zip(templates, class_names, strict=True)):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        if template.shape[-1] == 1:
            ax.imshow(template[..., 0], cmap="gray", **imshow_kwargs)
        else:
            ax.imshow(template, **imshow_kwargs)
        ax.set_title(name)
        ax.axis("off")
    return fig
