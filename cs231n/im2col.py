"""Pure-NumPy im2col / col2im for the fast convolution layers (given code).

This is the fallback twin of the compiled `cs231n.im2col_cython`: the same functions, signatures,
column layout and results, written with NumPy views. `cs231n.fast_layers` uses it when the extension
is not built (or when the environment variable CS231N_FAST_BACKEND=numpy asks for it).

Column layout. For an input x of shape (N, C, H, W), a filter of size (HH, WW), zero padding `pad` and
stride `stride`, the output has Ho = 1 + (H + 2 * pad - HH) // stride rows and Wo columns alike, and
the columns have shape (N, K, P) with K = C * HH * WW and P = Ho * Wo:

    cols[n, (c * HH + i) * WW + j, oh * Wo + ow] = xpad[n, c, oh * stride + i, ow * stride + j]

where xpad is x with `pad` zeros on each side of both spatial axes.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["col2im", "im2col", "max_pool", "output_size", "pool_views"]


def output_size(H: int, W: int, HH: int, WW: int, pad: int, stride: int) -> tuple[int, int]:
    """
    Output size of a window sweep, checking that the windows fit exactly.

    Inputs:
    - H, W: Input height and width
    - HH, WW: Window (filter) height and width
    - pad: Zeros added on each side of both spatial axes
    - stride: Step between neighbouring windows

    Returns a tuple of:
    - Ho, Wo: (H + 2 * pad - HH) // stride + 1 and the same for the width

    Raises ValueError, naming the shapes, when the window is larger than the padded input or
    (size + 2 * pad - window) is not divisible by the stride.
    """
    if stride < 1 or pad < 0 or HH < 1 or WW < 1:
        raise ValueError(
            f"need stride >= 1, pad >= 0 and a window of at least 1x1; got stride={stride}, pad={pad}, window {HH}x{WW}"
        )
    Hp, Wp = H + 2 * pad, W + 2 * pad
    if Hp < HH or Wp < WW:
        raise ValueError(f"window {HH}x{WW} is larger than the padded input {Hp}x{Wp} (input {H}x{W}, pad={pad})")
    if (Hp - HH) % stride or (Wp - WW) % stride:
        raise ValueError(
            f"window {HH}x{WW} with stride {stride} does not tile the padded input {Hp}x{Wp} "
            f"(input {H}x{W}, pad={pad}): (size + 2*pad - window) must be divisible by the stride"
        )
    return (Hp - HH) // stride + 1, (Wp - WW) // stride + 1


def _float_array(a: np.ndarray, name: str, ndim: int) -> np.ndarray:
    a = np.ascontiguousarray(a)
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64; got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {a.shape}")
    return a


def _check_out(out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype, name: str):
    if out is None:
        return None
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        got = f"{type(out).__name__} {getattr(out, 'shape', '?')} {getattr(out, 'dtype', '?')}"
        raise ValueError(f"{name} must be a C-contiguous {dtype} array of shape {shape}; got {got}")
    return out


def im2col(
    x: np.ndarray,
    field_height: int,
    field_width: int,
    pad: int,
    stride: int,
    out: np.ndarray | None = None,
    ones_row: bool = False,
) -> np.ndarray:
    """
    Unfold every (field_height, field_width) window of a zero-padded batch into columns.

    Inputs:
    - x: Input data of shape (N, C, H, W), float32 or float64
    - field_height, field_width: Window size HH, WW
    - pad: Number of zeros added on each side of both spatial axes
    - stride: Step between neighbouring windows
    - out: Optional C-contiguous array of shape (N, K, Ho * Wo) and x's dtype to write into (a
      reused workspace); allocated when None
    - ones_row: If True, append a row of ones to each image's columns (K = C * HH * WW + 1), so that
      a weight matrix with the biases as its last column adds them inside the matrix multiply (the
      bias trick); otherwise K = C * HH * WW

    Returns:
    - cols: Array of shape (N, K, Ho * Wo) laid out as described in the module docstring
    """
    x = _float_array(x, "x", 4)
    N, C, H, W = x.shape
    HH, WW = field_height, field_width
    Ho, Wo = output_size(H, W, HH, WW, pad, stride)
    K = C * HH * WW
    shape = (N, K + int(ones_row), Ho * Wo)
    cols = _check_out(out, shape, x.dtype, "out")
    if cols is None:
        cols = np.empty(shape, dtype=x.dtype)
    if ones_row:
        cols[:, K, :] = 1
    if pad:
        xpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
        xpad[:, :, pad : pad + H, pad : pad + W] = x
    else:
        xpad = x
    # windows[n, c, oh, ow, i, j] = xpad[n, c, oh * stride + i, ow * stride + j]: a view, no copy.
    windows = sliding_window_view(xpad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    # One strided copy into the (N, C, HH, WW, Ho, Wo) view of the columns.
    np.copyto(cols[:, :K].reshape(N, C, HH, WW, Ho, Wo), windows.transpose(0, 1, 4, 5, 2, 3))
    return cols


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    field_height: int,
    field_width: int,
    pad: int,
    stride: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """
    Fold columns back onto the input grid, summing overlapping windows (the adjoint of im2col).

    Inputs:
    - cols: Array of shape (N, C * HH * WW, Ho * Wo), float32 or float64
    - x_shape: Shape (N, C, H, W) of the input that im2col unfolded
    - field_height, field_width, pad, stride: As given to im2col
    - out: Optional C-contiguous array of shape x_shape and cols' dtype; the result is ADDED to it.
      When None, a zero array is allocated.

    Returns:
    - dx: Array of shape x_shape (`out` itself when given)
    """
    cols = _float_array(cols, "cols", 3)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W); got {x_shape}")
    N, C, H, W = (int(s) for s in x_shape)
    HH, WW = field_height, field_width
    Ho, Wo = output_size(H, W, HH, WW, pad, stride)
    shape = (N, C * HH * WW, Ho * Wo)
    if cols.shape != shape:
        raise ValueError(
            f"cols has shape {cols.shape}, but x_shape {tuple(x_shape)} with window {HH}x{WW}, "
            f"pad={pad}, stride={stride} needs {shape}"
        )
    dx = _check_out(out, (N, C, H, W), cols.dtype, "out")
    if dx is None:
        dx = np.zeros((N, C, H, W), dtype=cols.dtype)
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype) if pad else dx
    cols6 = cols.reshape(N, C, HH, WW, Ho, Wo)
    # One slice-add per window offset (i, j): HH * WW vectorised passes over the gradient.
    for i in range(HH):
        for j in range(WW):
            dxpad[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride] += cols6[:, :, i, j]
    if pad:
        dx += dxpad[:, :, pad : pad + H, pad : pad + W]
    return dx


def pool_views(a: np.ndarray, ph: int, pw: int, stride: int, Ho: int, Wo: int) -> list[np.ndarray]:
    """
    The ph * pw strided views of a (N, C, H, W) array, one per window position (i, j), in row-major
    order: view[n, c, oh, ow] = a[n, c, oh * stride + i, ow * stride + j], each of shape (N, C, Ho, Wo).

    When the windows tile the input (ph == pw == stride) the views come from the reshape
    (N, C, Ho, ph, Wo, pw); otherwise they are strided slices (which also allows overlapping windows).
    """
    N, C = a.shape[:2]
    if ph == pw == stride and a.shape[2:] == (Ho * ph, Wo * pw):
        blocks = a.reshape(N, C, Ho, ph, Wo, pw)  # the reshape trick: windows are the (ph, pw) blocks
        return [blocks[:, :, :, i, :, j] for i in range(ph) for j in range(pw)]
    return [
        a[:, :, i : i + stride * (Ho - 1) + 1 : stride, j : j + stride * (Wo - 1) + 1 : stride]
        for i in range(ph)
        for j in range(pw)
    ]


def max_pool(x: np.ndarray, pool_height: int, pool_width: int, stride: int) -> np.ndarray:
    """
    Max pooling without padding: the elementwise maximum of the window's strided views.

    Inputs:
    - x: Input data of shape (N, C, H, W), float32 or float64
    - pool_height, pool_width, stride: The window and its step

    Returns:
    - out: Array of shape (N, C, Ho, Wo) and x's dtype (NaN where a window holds a NaN)
    """
    x = _float_array(x, "x", 4)
    Ho, Wo = output_size(x.shape[2], x.shape[3], pool_height, pool_width, 0, stride)
    views = pool_views(x, pool_height, pool_width, stride, Ho, Wo)
    out = views[0].copy() if len(views) == 1 else np.maximum(views[0], views[1])
    for view in views[2:]:
        np.maximum(out, view, out=out)
    return out
