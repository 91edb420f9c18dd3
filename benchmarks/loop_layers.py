"""Loop references of the fast layers: convolution and max pooling as plain nested loops.

The oracle of tests/test_fast_layers.py and the "four nested loops" rows of
benchmarks/bench_fast_layers.py. They live here, never in cs231n/: the naive layers are a student
exercise of assignment 2 (ConvolutionalNetworks.ipynb). Every function computes in float64, whatever
the inputs' dtype: a reference for float32 layers too.
"""

import numpy as np


def conv_forward_loops(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Straightforward convolution: one dot product per output entry.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), the stride and the zero padding on each side.
    Returns: out (N, F, Ho, Wo), float64.
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv_backward_loops(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, pad: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of ``conv_forward_loops``: (dx, dw, db) for upstream gradient dout (N, F, Ho, Wo)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    db = dout.sum(axis=(0, 2, 3), dtype=np.float64)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    return dxp[:, :, pad : pad + H, pad : pad + W], dw, db


def max_pool_forward_loops(x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    """Max pooling over ph x pw windows: out (N, C, Ho, Wo), float64."""
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride))
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw].max()
    return out


def max_pool_backward_loops(dout: np.ndarray, x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    """The gradient of max pooling: each window's upstream gradient goes to its first maximum (row-major)."""
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dx
