"""Fast convolution and max-pooling layers (given code, assignment 2).

The same API as the original CS231n kit:

    out, cache = conv_forward_fast(x, w, b, conv_param)      conv_param = {"stride": s, "pad": p}
    dx, dw, db = conv_backward_fast(dout, cache)
    out, cache = max_pool_forward_fast(x, pool_param)        pool_param = {"pool_height": ph,
    dx = max_pool_backward_fast(dout, cache)                               "pool_width": pw, "stride": s}

Convolution is im2col + a batched matrix multiply: the input windows are copied into a column matrix
of shape (N, C * HH * WW, Ho * Wo) and w.reshape(F, C * HH * WW) @ cols writes the output. The
backward pass multiplies by the transposes and folds the column gradient back with col2im. The copies
come from the compiled `cs231n.im2col_cython` when it is built ("cython" backend) and from the
pure-NumPy `cs231n.im2col` otherwise ("numpy" backend); `BACKEND` says which one is in use, and the
environment variable CS231N_FAST_BACKEND=numpy forces the fallback.

Max pooling forward reads the input once, window by window, in the compiled extension; the NumPy
fallback takes the elementwise maximum of the pool_height * pool_width strided views of the input (one
per position in the window), which is much faster than reducing a reshaped array. The backward pass
compares those views with the pooled output. When the windows tile the input exactly (pool_height ==
pool_width == stride) the views come from the reshape (N, C, Ho, ph, Wo, pw); otherwise they are
strided slices, which also handles overlapping windows.

Ties in max pooling: the whole upstream gradient of a window goes to the FIRST maximal entry of that
window in row-major order (the one np.argmax would pick, as PyTorch does), never split or duplicated.

Any stride, padding, non-square inputs and filters work; float32 and float64 inputs keep their dtype
(other dtypes are converted to float64). Shapes that don't fit raise ValueError naming the shapes.

Convolutions work on chunks of images whose columns fit in a core's L2 cache, and reuse their column
buffers between calls (see `_WorkspacePool`); the forward cache holds x, not the columns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from cs231n import im2col as _numpy_ops

__all__ = [
    "BACKEND",
    "conv_backward_fast",
    "conv_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_fast",
    "set_backend",
]

REBUILD_HINT = "./setup_env.sh --force (or: pip install -e .)"

try:
    from cs231n import im2col_cython as _cython_ops
except ImportError:
    _cython_ops = None


def _backend_from_env() -> str:
    wanted = os.environ.get("CS231N_FAST_BACKEND", "").strip().lower()
    if wanted not in ("", "cython", "numpy"):
        raise ValueError(f"CS231N_FAST_BACKEND must be 'cython' or 'numpy'; got {wanted!r}")
    if wanted == "numpy":
        return "numpy"
    if _cython_ops is None:
        # A notice for humans, printed once to stdout (notebook test cells must keep stderr clean).
        print(
            "cs231n.fast_layers: the compiled im2col extension is not built, so the slower NumPy "
            f"fallback is used; to build it run {REBUILD_HINT}"
        )
        return "numpy"
    return "cython"


BACKEND: str = _backend_from_env()
_ops: Any = _cython_ops if BACKEND == "cython" else _numpy_ops


def set_backend(name: str) -> None:
    """
    Choose the im2col / col2im implementation used by the convolution layers (tests, benchmarks).

    Inputs:
    - name: "cython" (the compiled extension; ImportError if it is not built) or "numpy"
    """
    global BACKEND, _ops
    if name == "numpy":
        _ops = _numpy_ops
    elif name == "cython":
        if _cython_ops is None:
            raise ImportError(f"cs231n.im2col_cython is not built; build it with {REBUILD_HINT}")
        _ops = _cython_ops
    else:
        raise ValueError(f"backend must be 'cython' or 'numpy'; got {name!r}")
    BACKEND = name


class _WorkspacePool:
    """
    Scratch arrays kept between calls, keyed by (shape, dtype), lent out with `borrow`.

    Allocating a fresh multi-megabyte array on every call makes the operating system hand out new
    zeroed pages, one page fault per 4 kB, which can double the cost of a layer; reusing the same
    buffers avoids it. A buffer is lent to one borrower at a time:

        with _workspaces.borrow((n, K, P), np.float64) as cols:
            ...                                   # cols is ours until the block ends

    and comes back to the pool when the block ends, so a buffer in use (by a caller, or by another
    thread) is never handed out twice. At most `max_bytes` of returned buffers are kept: buffers of
    other shapes are dropped first to make room, and a buffer that still does not fit is dropped.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._free: dict[tuple, list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def _free_bytes(self) -> int:
        """Bytes held by the buffers waiting in the pool (not those lent out)."""
        return sum(b.nbytes for bufs in self._free.values() for b in bufs)

    @contextmanager
    def borrow(self, shape: tuple[int, ...], dtype: np.dtype) -> Iterator[np.ndarray]:
        """
        Lend an uninitialised C-contiguous array for the duration of a `with` block.

        Inputs:
        - shape, dtype: of the array wanted

        Returns (as the `with` target):
        - an array that nobody else uses until the block ends; don't keep it (or a view of it)
          afterwards, since the next borrower gets the same memory
        """
        key = (tuple(shape), np.dtype(dtype).str)
        with self._lock:
            waiting = self._free.get(key)
            buffer = waiting.pop() if waiting else None
        if buffer is None:
            buffer = np.empty(shape, dtype=dtype)
        try:
            yield buffer
        finally:
            self._give_back(key, buffer)

    def _give_back(self, key: tuple, buffer: np.ndarray) -> None:
        """Keep a returned buffer if it fits within max_bytes, dropping other shapes' buffers first."""
        with self._lock:
            for other in [k for k in self._free if k != key]:
                if self._free_bytes() + buffer.nbytes <= self.max_bytes:
                    break
                del self._free[other]
            if self._free_bytes() + buffer.nbytes <= self.max_bytes:
                self._free.setdefault(key, []).append(buffer)


_workspaces = _WorkspacePool(max_bytes=256 << 20)


# ----------------------------------------------------------------------------------------------------
# Argument checking


def _float_array(a: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """a as a C-contiguous array of `dtype`, or of its own dtype if float32/float64 (else float64)."""
    a = np.asarray(a)
    if dtype is None:
        dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return np.ascontiguousarray(a, dtype=dtype)


def _int_param(params: dict, key: str, where: str) -> int:
    if key not in params:
        raise ValueError(f"{where} needs the key {key!r}; got {dict(params)}")
    value = params[key]
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{where}[{key!r}] must be an integer; got {value!r}")
    return int(value)


def _output_size(H: int, W: int, HH: int, WW: int, pad: int, stride: int, what: str) -> tuple[int, int]:
    try:
        return _numpy_ops.output_size(H, W, HH, WW, pad, stride)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


# ----------------------------------------------------------------------------------------------------
# Convolution


# Images are processed in chunks whose column matrix fits in a core's L2 cache (about 1 MB), so
# the columns are written, multiplied and folded back without a round trip through main memory.
# Measured on a 2-vCPU Zen 5: faster than whole-batch columns for both backends, and far less memory.
CHUNK_BYTES = 1 << 20


def _chunks(N: int, bytes_per_image: int) -> tuple[int, list[slice]]:
    """The chunk size n and the slices [0, n), [n, 2n), ... covering N images."""
    n = max(1, min(N, CHUNK_BYTES // max(1, bytes_per_image)))
    return n, [slice(start, min(N, start + n)) for start in range(0, N, n)]


def conv_forward_fast(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict) -> tuple[np.ndarray, tuple]:
    """
    Forward pass of a convolutional layer (im2col + batched matrix multiply).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases of shape (F,)
    - conv_param: Dictionary with the keys
      - 'stride': Number of pixels between adjacent receptive fields, horizontally and vertically
      - 'pad': Number of zeros added on each side of both spatial axes of the input

    Computed in x's dtype if it is float32 or float64 (otherwise float64); w and b are cast to it.

    Returns a tuple of:
    - out: Output data of shape (N, F, Ho, Wo) where
      Ho = 1 + (H + 2 * pad - HH) // stride and Wo = 1 + (W + 2 * pad - WW) // stride
    - cache: Values needed by conv_backward_fast

    Raises ValueError (naming the shapes) if the channels differ, b is not (F,), or a window sweep
    does not fit exactly, i.e. (H + 2 * pad - HH) or (W + 2 * pad - WW) is not divisible by stride.
    """
    x = _float_array(x)
    w = _float_array(w, x.dtype)
    b = _float_array(b, x.dtype)
    stride = _int_param(conv_param, "stride", "conv_param")
    pad = _int_param(conv_param, "pad", "conv_param")
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv needs x (N, C, H, W) and w (F, C, HH, WW); got x {x.shape}, w {w.shape}")
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"channel mismatch: x {x.shape} has {C} channels, w {w.shape} has {Cw}")
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},) for w {w.shape}; got {b.shape}")
    what = f"conv with x {x.shape}, w {w.shape}, stride={stride}, pad={pad}"
    Ho, Wo = _output_size(H, W, HH, WW, pad, stride, what)
    K, P = C * HH * WW, Ho * Wo

    # The bias trick: the columns get a row of ones and the weights a column of biases, so the
    # matrix multiply adds the biases too.
    wb = np.concatenate([w.reshape(F, K), b.reshape(F, 1)], axis=1)  # (F, K + 1)
    out = np.empty((N, F, Ho, Wo), dtype=x.dtype)
    out3 = out.reshape(N, F, P)
    n, chunks = _chunks(N, (K + 1) * P * x.itemsize)
    with _workspaces.borrow((n, K + 1, P), x.dtype) as cols_buffer:
        for chunk in chunks:
            cols = cols_buffer[: chunk.stop - chunk.start]
            _ops.im2col(x[chunk], HH, WW, pad, stride, out=cols, ones_row=True)
            # (F, K + 1) @ (n, K + 1, P) -> (n, F, P): a GEMM per image, straight into the NCHW output.
            np.matmul(wb, cols, out=out3[chunk])
    cache = (x, w, stride, pad)
    return out, cache


def conv_backward_fast(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Backward pass of conv_forward_fast.

    Inputs:
    - dout: Upstream derivatives of shape (N, F, Ho, Wo)
    - cache: The cache returned by conv_forward_fast (it may be used more than once)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    All three in the dtype the forward pass computed in.
    """
    x, w, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = _output_size(H, W, HH, WW, pad, stride, "conv backward")
    K, P = C * HH * WW, Ho * Wo
    dout = _float_array(dout, x.dtype)
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout must have the output shape {(N, F, Ho, Wo)}; got {dout.shape}")
    dout3 = dout.reshape(N, F, P)

    n, chunks = _chunks(N, (K + 1) * P * x.itemsize)
    dwb = np.zeros((F, K + 1), dtype=x.dtype)  # [dw | db]
    dx = np.zeros_like(x)
    w_t = w.reshape(F, K).T
    with (
        _workspaces.borrow((n, K + 1, P), x.dtype) as cols_buffer,
        _workspaces.borrow((n, K, P), x.dtype) as dcols_buffer,
        _workspaces.borrow((n, F, K + 1), x.dtype) as dwb_buffer,
    ):
        for chunk in chunks:
            m = chunk.stop - chunk.start
            # The columns are rebuilt rather than kept from the forward pass: cheap while they stay in
            # cache, and the cache then holds x alone instead of a K-times larger matrix.
            cols = cols_buffer[:m]
            _ops.im2col(x[chunk], HH, WW, pad, stride, out=cols, ones_row=True)
            # [dw | db] += sum over images of dout[i] @ cols[i].T (the ones row of cols yields db).
            np.matmul(dout3[chunk], cols.transpose(0, 2, 1), out=dwb_buffer[:m])
            dwb += dwb_buffer[:m].sum(axis=0)
            # dcols = w.T @ dout for every image, folded back onto the input grid.
            dcols = dcols_buffer[:m]
            np.matmul(w_t, dout3[chunk], out=dcols)
            _ops.col2im(dcols, (m, C, H, W), HH, WW, pad, stride, out=dx[chunk])
    dw = dwb[:, :K].reshape(w.shape)
    db = dwb[:, K].copy()
    return dx, dw, db


# ----------------------------------------------------------------------------------------------------
# Max pooling


def max_pool_forward_fast(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """
    Forward pass of a max-pooling layer.

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - pool_param: Dictionary with the keys
      - 'pool_height': The height of each pooling region
      - 'pool_width': The width of each pooling region
      - 'stride': The distance between adjacent pooling regions

    Returns a tuple of:
    - out: Output data of shape (N, C, Ho, Wo) where
      Ho = 1 + (H - pool_height) // stride and Wo = 1 + (W - pool_width) // stride
    - cache: Values needed by max_pool_backward_fast

    Raises ValueError (naming the shapes) if (H - pool_height) or (W - pool_width) is not divisible
    by stride, or the window is larger than the input.
    """
    x = _float_array(x)
    ph = _int_param(pool_param, "pool_height", "pool_param")
    pw = _int_param(pool_param, "pool_width", "pool_param")
    stride = _int_param(pool_param, "stride", "pool_param")
    if x.ndim != 4:
        raise ValueError(f"max pooling needs x of shape (N, C, H, W); got {x.shape}")
    N, C, H, W = x.shape
    what = f"max pool {ph}x{pw} with stride {stride} on x {x.shape}"
    Ho, Wo = _output_size(H, W, ph, pw, 0, stride, what)
    out = _ops.max_pool(x, ph, pw, stride)
    cache = (x, out, ph, pw, stride)
    return out, cache


def max_pool_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """
    Backward pass of max_pool_forward_fast.

    Each window passes its whole upstream derivative to its maximal input; if several entries tie
    for the maximum, only the first one in row-major order within the window receives it.

    Inputs:
    - dout: Upstream derivatives of shape (N, C, Ho, Wo)
    - cache: The cache returned by max_pool_forward_fast

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    """
    x, out, ph, pw, stride = cache
    dout = _float_array(dout, x.dtype)
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the pooled shape {out.shape}; got {dout.shape}")
    N, C, Ho, Wo = out.shape
    tiles = ph == pw == stride
    x_views = _numpy_ops.pool_views(x, ph, pw, stride, Ho, Wo)
    # hits[k][n, c, oh, ow]: is position k of that window a maximum of it?
    hits = [np.equal(x_view, out) for x_view in x_views]
    # Usually (real-valued data) every window has exactly one maximum; then the hits are final.
    # Otherwise the window positions are visited in row-major order and a window's first maximum
    # claims the gradient. (A NaN window has no hit, which could hide a tie elsewhere in the count.)
    unique = sum(np.count_nonzero(hit) for hit in hits) == out.size and not np.isnan(out).any()
    unclaimed = None if unique else np.ones(out.shape, dtype=bool)
    # Windows that tile x cover every entry of dx exactly once; overlapping ones accumulate.
    dx = np.empty_like(x) if tiles else np.zeros_like(x)
    for hit, dx_view in zip(hits, _numpy_ops.pool_views(dx, ph, pw, stride, Ho, Wo), strict=True):
        if unclaimed is not None:
            hit &= unclaimed
            unclaimed ^= hit
        if tiles:
            np.multiply(hit, dout, out=dx_view)
        else:
            np.add(dx_view, dout, out=dx_view, where=hit)
    return dx
