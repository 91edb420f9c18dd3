# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled im2col / col2im for the fast convolution layers (given code).

Built by `pip install -e .` (see setup.py); if it is missing, `cs231n.fast_layers` uses the pure-NumPy
twin in `cs231n/im2col.py`, which has the same functions with the same signatures and results.

Column layout. For an input x of shape (N, C, H, W), a filter of size (HH, WW), zero padding `pad` and
stride `stride`, the output has Ho = 1 + (H + 2 * pad - HH) // stride rows and Wo columns alike, and
the columns have shape (N, K, P) with K = C * HH * WW and P = Ho * Wo:

    cols[n, (c * HH + i) * WW + j, oh * Wo + ow] = xpad[n, c, oh * stride + i, ow * stride + j]

where xpad is x with `pad` zeros on each side of both spatial axes. With this layout one batched
matmul, w.reshape(F, K) @ cols, writes the (N, F, Ho, Wo) output directly, with no transpose.

The padding is never materialised: each row of a column is split into a zero-filled head, a copied
(or strided-gathered) middle and a zero-filled tail. The inner loops run on raw pointers without the
GIL, for float32 and float64 alike (fused types). The argument checks (shapes, dtypes, workspaces) are
the twin's own, imported from it, so that both backends accept and refuse the same calls with the same
messages.
"""

import numpy as np

from cs231n.im2col import _check_out, _float_array, output_size as _output_size

from cython cimport floating
from libc.string cimport memset


cdef inline Py_ssize_t _ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """ceil(a / b) for any integer a and b > 0 (C division truncates toward zero)."""
    if a <= 0:
        return -((-a) // b)
    return (a + b - 1) // b


cdef inline (Py_ssize_t, Py_ssize_t) _valid_range(Py_ssize_t offset, Py_ssize_t pad, Py_ssize_t stride,
                                                  Py_ssize_t size, Py_ssize_t n_out) noexcept nogil:
    """Output indices o in [lo, hi) whose input index o * stride + offset - pad lies in [0, size)."""
    cdef Py_ssize_t last = size - 1 + pad - offset
    cdef Py_ssize_t lo = max(0, min(n_out, _ceil_div(pad - offset, stride)))
    cdef Py_ssize_t hi = min(n_out, last // stride + 1) if last >= 0 else 0
    return lo, max(lo, hi)


cdef void _im2col_loops(const floating* x, floating* cols, Py_ssize_t rows,
                        Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                        Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    # cols holds `rows` >= C * HH * WW rows of Ho * Wo entries per image; the first C * HH * WW
    # are written here.
    cdef Py_ssize_t P = Ho * Wo
    cdef Py_ssize_t n, c, i, j, oh, t, oh_lo, oh_hi, ow_lo, ow_hi, width
    cdef const floating* plane
    cdef const floating* src
    cdef floating* row
    cdef floating* dst
    for n in range(N):
        for c in range(C):
            plane = x + (n * C + c) * H * W
            for i in range(HH):
                oh_lo, oh_hi = _valid_range(i, pad, stride, H, Ho)
                for j in range(WW):
                    ow_lo, ow_hi = _valid_range(j, pad, stride, W, Wo)
                    width = ow_hi - ow_lo
                    row = cols + (n * rows + (c * HH + i) * WW + j) * P
                    # Output rows whose window row falls in the top or bottom padding: all zeros.
                    memset(row, 0, oh_lo * Wo * sizeof(floating))
                    memset(row + oh_hi * Wo, 0, (Ho - oh_hi) * Wo * sizeof(floating))
                    for oh in range(oh_lo, oh_hi):
                        dst = row + oh * Wo
                        src = plane + (oh * stride + i - pad) * W + (ow_lo * stride + j - pad)
                        for t in range(ow_lo):
                            dst[t] = 0
                        dst += ow_lo
                        if stride == 1:
                            for t in range(width):
                                dst[t] = src[t]
                        else:
                            for t in range(width):
                                dst[t] = src[t * stride]
                        for t in range(width, Wo - ow_lo):
                            dst[t] = 0


cdef void _col2im_loops(const floating* cols, floating* dx,
                        Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                        Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo) noexcept nogil:
    cdef Py_ssize_t P = Ho * Wo
    cdef Py_ssize_t n, c, i, j, oh, t, oh_lo, oh_hi, ow_lo, ow_hi, width
    cdef floating* plane
    cdef floating* dst
    cdef const floating* row
    cdef const floating* src
    for n in range(N):
        for c in range(C):
            plane = dx + (n * C + c) * H * W
            for i in range(HH):
                oh_lo, oh_hi = _valid_range(i, pad, stride, H, Ho)
                for j in range(WW):
                    ow_lo, ow_hi = _valid_range(j, pad, stride, W, Wo)
                    width = ow_hi - ow_lo
                    row = cols + ((n * C + c) * HH * WW + i * WW + j) * P
                    # Entries that came from the padding have no input to flow back to: skipped.
                    for oh in range(oh_lo, oh_hi):
                        src = row + oh * Wo + ow_lo
                        dst = plane + (oh * stride + i - pad) * W + (ow_lo * stride + j - pad)
                        if stride == 1:
                            for t in range(width):
                                dst[t] += src[t]
                        else:
                            for t in range(width):
                                dst[t * stride] += src[t]


cdef void _im2col_typed(const floating[:, :, :, ::1] x, floating[:, :, ::1] cols,
                        Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t rows = cols.shape[1], P = Ho * Wo, n, p
    cdef const floating* xp = &x[0, 0, 0, 0]
    cdef floating* cp = &cols[0, 0, 0]
    with nogil:
        _im2col_loops(xp, cp, rows, N, C, H, W, HH, WW, pad, stride, Ho, Wo)
        if rows > C * HH * WW:  # the bias row
            for n in range(N):
                for p in range(P):
                    cp[(n * rows + rows - 1) * P + p] = 1


cdef void _col2im_typed(const floating[:, :, ::1] cols, floating[:, :, :, ::1] dx,
                        Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t pad, Py_ssize_t stride,
                        Py_ssize_t Ho, Py_ssize_t Wo):
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef const floating* cp = &cols[0, 0, 0]
    cdef floating* dp = &dx[0, 0, 0, 0]
    with nogil:
        _col2im_loops(cp, dp, N, C, H, W, HH, WW, pad, stride, Ho, Wo)


def im2col(x, Py_ssize_t field_height, Py_ssize_t field_width, Py_ssize_t pad, Py_ssize_t stride,
           out=None, bint ones_row=False):
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
    Ho, Wo = _output_size(H, W, field_height, field_width, pad, stride)
    shape = (N, C * field_height * field_width + ones_row, Ho * Wo)
    cols = _check_out(out, shape, x.dtype, "out")
    if cols is None:
        cols = np.empty(shape, dtype=x.dtype)
    if cols.size == 0:
        pass
    elif x.dtype == np.float64:
        _im2col_typed[double](x, cols, field_height, field_width, pad, stride, Ho, Wo)
    else:
        _im2col_typed[float](x, cols, field_height, field_width, pad, stride, Ho, Wo)
    return cols


def col2im(cols, x_shape, Py_ssize_t field_height, Py_ssize_t field_width, Py_ssize_t pad,
           Py_ssize_t stride, out=None):
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
    N, C, H, W = [int(s) for s in x_shape]
    Ho, Wo = _output_size(H, W, field_height, field_width, pad, stride)
    shape = (N, C * field_height * field_width, Ho * Wo)
    if cols.shape != shape:
        raise ValueError(
            f"cols has shape {cols.shape}, but x_shape {tuple(x_shape)} with window "
            f"{field_height}x{field_width}, pad={pad}, stride={stride} needs {shape}"
        )
    dx = _check_out(out, (N, C, H, W), cols.dtype, "out")
    if dx is None:
        dx = np.zeros((N, C, H, W), dtype=cols.dtype)
    if cols.size == 0:
        pass
    elif cols.dtype == np.float64:
        _col2im_typed[double](cols, dx, field_height, field_width, pad, stride, Ho, Wo)
    else:
        _col2im_typed[float](cols, dx, field_height, field_width, pad, stride, Ho, Wo)
    return dx


cdef inline floating _nanmax(floating a, floating b) noexcept nogil:
    """max(a, b) that returns NaN if either is NaN (as np.maximum does)."""
    return a if (a > b or a != a) else b


cdef void _max_pool_typed(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                          Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t stride) noexcept:
    """One pass over the input: each output is the maximum of its window (NaN propagates)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Ho = out.shape[2], Wo = out.shape[3]
    cdef Py_ssize_t plane, oh, ow, i, j
    cdef const floating* src
    cdef const floating* row
    cdef const floating* row0
    cdef const floating* row1
    cdef floating* dst
    cdef floating m
    with nogil:
        for plane in range(N * C):
            src = &x[0, 0, 0, 0] + plane * H * W
            dst = &out[0, 0, 0, 0] + plane * Ho * Wo
            if ph == 2 and pw == 2 and stride == 2:  # the common case, written so that it vectorises
                for oh in range(Ho):
                    row0 = src + 2 * oh * W
                    row1 = row0 + W
                    for ow in range(Wo):
                        dst[oh * Wo + ow] = _nanmax(_nanmax(row0[2 * ow], row0[2 * ow + 1]),
                                                    _nanmax(row1[2 * ow], row1[2 * ow + 1]))
                continue
            for oh in range(Ho):
                for ow in range(Wo):
                    row = src + oh * stride * W + ow * stride
                    m = row[0]
                    for i in range(ph):
                        for j in range(pw):
                            m = _nanmax(m, row[i * W + j])
                    dst[oh * Wo + ow] = m


def max_pool(x, Py_ssize_t pool_height, Py_ssize_t pool_width, Py_ssize_t stride):
    """
    Max pooling without padding, in one pass over the input.

    Inputs:
    - x: Input data of shape (N, C, H, W), float32 or float64
    - pool_height, pool_width, stride: The window and its step

    Returns:
    - out: Array of shape (N, C, Ho, Wo) and x's dtype; out[n, c, oh, ow] is the maximum of
      x[n, c, oh*stride : oh*stride + pool_height, ow*stride : ow*stride + pool_width] (NaN if the
      window holds a NaN, like np.maximum)
    """
    x = _float_array(x, "x", 4)
    N, C, H, W = x.shape
    Ho, Wo = _output_size(H, W, pool_height, pool_width, 0, stride)
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    if out.size == 0:
        pass
    elif x.dtype == np.float64:
        _max_pool_typed[double](x, out, pool_height, pool_width, stride)
    else:
        _max_pool_typed[float](x, out, pool_height, pool_width, stride)
    return out
