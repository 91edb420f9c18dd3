"""Tests of the two im2col / col2im implementations (compiled and NumPy) against a loop reference."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from cs231n import im2col as numpy_im2col

MODULES = [numpy_im2col]
if importlib.util.find_spec("cs231n.im2col_cython") is not None:
    from cs231n import im2col_cython

    MODULES.append(im2col_cython)


@pytest.fixture(params=MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def ops(request):
    return request.param


def im2col_loops(x, HH, WW, pad, stride):
    """cols[n, (c * HH + i) * WW + j, oh * Wo + ow] = xpad[n, c, oh * stride + i, ow * stride + j]."""
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.zeros((N, C * HH * WW, Ho * Wo), dtype=x.dtype)
    for c in range(C):
        for i in range(HH):
            for j in range(WW):
                for oh in range(Ho):
                    for ow in range(Wo):
                        cols[:, (c * HH + i) * WW + j, oh * Wo + ow] = xp[:, c, oh * stride + i, ow * stride + j]
    return cols


def random_case(rng):
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 4))
    HH, WW, Ho, Wo = (int(v) for v in rng.integers(1, 6, size=4))
    H, W = (Ho - 1) * stride + HH - 2 * pad, (Wo - 1) * stride + WW - 2 * pad
    if H < 1 or W < 1:
        pad, H, W = 0, (Ho - 1) * stride + HH, (Wo - 1) * stride + WW
    N, C = (int(v) for v in rng.integers(1, 4, size=2))
    return (N, C, H, W), HH, WW, pad, stride


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_im2col_matches_loops_and_col2im_is_its_adjoint(ops, dtype):
    rng = np.random.default_rng(17)
    for trial in range(60):
        x_shape, HH, WW, pad, stride = random_case(rng)
        case = f"trial {trial}: x {x_shape}, window {HH}x{WW}, pad {pad}, stride {stride}"
        x = rng.standard_normal(x_shape).astype(dtype)
        cols = ops.im2col(x, HH, WW, pad, stride)
        assert cols.dtype == dtype, case
        assert np.array_equal(cols, im2col_loops(x, HH, WW, pad, stride)), case
        with_ones = ops.im2col(x, HH, WW, pad, stride, ones_row=True)
        assert np.array_equal(with_ones[:, :-1], cols) and np.all(with_ones[:, -1] == 1), case

        # <im2col(x), g> == <x, col2im(g)> for every g: col2im is the adjoint (it sums overlaps).
        g = rng.standard_normal(cols.shape).astype(dtype)
        dx = ops.col2im(g, x_shape, HH, WW, pad, stride)
        assert dx.dtype == dtype and dx.shape == x_shape, case
        lhs, rhs = np.sum(cols * g, dtype=np.float64), np.sum(x * dx, dtype=np.float64)
        assert abs(lhs - rhs) <= 1e-4 * (1 + abs(lhs)), case


def test_col2im_accumulates_into_out(ops):
    rng = np.random.default_rng(3)
    x_shape = (2, 3, 7, 6)
    g = rng.standard_normal((2, 3 * 3 * 2, 4 * 4))
    start = rng.standard_normal(x_shape)
    out = start.copy()
    result = ops.col2im(g, x_shape, 3, 2, 1, 2, out=out)
    assert result is out
    assert np.allclose(out - start, ops.col2im(g, x_shape, 3, 2, 1, 2))


def test_both_implementations_agree_on_col2im():
    rng = np.random.default_rng(5)
    for _ in range(30):
        x_shape, HH, WW, pad, stride = random_case(rng)
        Ho = 1 + (x_shape[2] + 2 * pad - HH) // stride
        Wo = 1 + (x_shape[3] + 2 * pad - WW) // stride
        g = rng.standard_normal((x_shape[0], x_shape[1] * HH * WW, Ho * Wo))
        results = [m.col2im(g, x_shape, HH, WW, pad, stride) for m in MODULES]
        assert all(np.allclose(r, results[0], rtol=1e-12, atol=1e-12) for r in results)


def test_bad_arguments_raise_instead_of_corrupting_memory(ops):
    x = np.zeros((2, 3, 6, 6))
    with pytest.raises(ValueError, match=r"shape \(2, 27, 36\)"):
        ops.im2col(x, 3, 3, 1, 1, out=np.zeros((2, 27, 35)))
    with pytest.raises(ValueError, match="float64"):
        ops.im2col(x, 3, 3, 1, 1, out=np.zeros((2, 27, 36), dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        ops.im2col(x, 3, 3, 1, 1, out=np.zeros((2, 36, 27)).transpose(0, 2, 1))
    with pytest.raises(ValueError, match="divisible by the stride"):
        ops.im2col(x, 3, 3, 0, 2)
    with pytest.raises(ValueError, match=r"cols has shape \(2, 27, 35\).*needs \(2, 27, 36\)"):
        ops.col2im(np.zeros((2, 27, 35)), x.shape, 3, 3, 1, 1)
    with pytest.raises(ValueError, match=r"shape \(2, 3, 6, 6\)"):
        ops.col2im(np.zeros((2, 27, 36)), x.shape, 3, 3, 1, 1, out=np.zeros((2, 3, 6, 5)))
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.im2col(x.astype(np.int64), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="4 dimensions"):
        ops.im2col(x[0], 3, 3, 1, 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_matches_window_maxima_and_propagates_nan(ops, dtype):
    rng = np.random.default_rng(21)
    for trial in range(30):
        stride, ph, pw, Ho, Wo = (int(v) for v in rng.integers(1, 5, size=5))
        N, C = (int(v) for v in rng.integers(1, 4, size=2))
        x = rng.standard_normal((N, C, (Ho - 1) * stride + ph, (Wo - 1) * stride + pw)).astype(dtype)
        if trial % 3 == 0:
            x.flat[rng.integers(x.size)] = np.nan
        out = ops.max_pool(x, ph, pw, stride)
        expected = np.empty((N, C, Ho, Wo), dtype=dtype)
        for oh in range(Ho):
            for ow in range(Wo):
                window = x[:, :, oh * stride : oh * stride + ph, ow * stride : ow * stride + pw]
                expected[:, :, oh, ow] = window.max(axis=(2, 3))  # NaN if the window holds one
        assert out.dtype == dtype
        assert np.array_equal(out, expected, equal_nan=True), f"trial {trial}: {x.shape} {ph}x{pw}/{stride}"


def test_max_pool_rejects_windows_that_do_not_fit(ops):
    with pytest.raises(ValueError, match="stride"):
        ops.max_pool(np.zeros((1, 1, 5, 5)), 2, 2, 2)
    with pytest.raises(ValueError, match="larger"):
        ops.max_pool(np.zeros((1, 1, 2, 2)), 3, 3, 1)
