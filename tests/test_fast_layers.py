"""Tests of cs231n.fast_layers: convolution and max pooling against loop references and numerical
gradients, for both backends (compiled and NumPy) and both float dtypes, plus the error messages and
the fallback when the compiled extension is missing.

The loop references are shared with the benchmark (benchmarks/loop_layers.py), never in cs231n/: the
naive layers are a student exercise of assignment 2.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cs231n import fast_layers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from loop_layers import conv_forward_loops, max_pool_backward_loops, max_pool_forward_loops  # noqa: E402

HAVE_CYTHON = importlib.util.find_spec("cs231n.im2col_cython") is not None
BACKENDS = ["numpy", "cython"] if HAVE_CYTHON else ["numpy"]
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 2e-5}


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test with one backend selected, restoring the import-time choice afterwards."""
    before = fast_layers.BACKEND
    fast_layers.set_backend(request.param)
    yield request.param
    fast_layers.set_backend(before)


# ----------------------------------------------------------------------------------------------------
# Helpers (the loop references: benchmarks/loop_layers.py)


def numerical_gradient(f, x, dout, h=1e-6):
    """Centred-difference gradient of sum(f(x) * dout) with respect to x (x is modified in place)."""
    grad = np.zeros(x.shape)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        plus = np.sum(f() * dout)
        flat[k] = old - h
        minus = np.sum(f() * dout)
        flat[k] = old
        gflat[k] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b):
    return np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))


def random_conv_case(rng):
    """A random valid convolution: any stride and padding, non-square inputs and filters."""
    stride = int(rng.integers(1, 4))
    pad = int(rng.integers(0, 3))
    HH, WW = (int(v) for v in rng.integers(1, 6, size=2))
    Ho, Wo = (int(v) for v in rng.integers(1, 5, size=2))
    H = (Ho - 1) * stride + HH - 2 * pad
    W = (Wo - 1) * stride + WW - 2 * pad
    if H < 1 or W < 1:
        pad = 0
        H, W = (Ho - 1) * stride + HH, (Wo - 1) * stride + WW
    N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
    return (N, C, H, W), (F, C, HH, WW), stride, pad


# ----------------------------------------------------------------------------------------------------
# Convolution


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_forward_matches_loops_on_random_shapes(backend, dtype):
    rng = np.random.default_rng(231)
    for trial in range(40):
        x_shape, w_shape, stride, pad = random_conv_case(rng)
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        out, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
        expected = conv_forward_loops(x, w, b, stride, pad)
        case = f"trial {trial}: x {x_shape}, w {w_shape}, stride {stride}, pad {pad}, {backend}"
        assert out.dtype == dtype, case
        assert out.shape == expected.shape, case
        assert rel_error(out, expected) < TOL[dtype], case


def test_conv_backward_matches_numerical_gradients(backend):
    rng = np.random.default_rng(42)
    for trial in range(8):
        x_shape, w_shape, stride, pad = random_conv_case(rng)
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        param = {"stride": stride, "pad": pad}
        out, cache = fast_layers.conv_forward_fast(x, w, b, param)
        dout = rng.standard_normal(out.shape)
        dx, dw, db = fast_layers.conv_backward_fast(dout, cache)

        def f(x=x, w=w, b=b, param=param):
            return fast_layers.conv_forward_fast(x, w, b, param)[0]

        case = f"trial {trial}: x {x_shape}, w {w_shape}, stride {stride}, pad {pad}, {backend}"
        assert rel_error(dx, numerical_gradient(f, x, dout)) < 1e-7, case
        assert rel_error(dw, numerical_gradient(f, w, dout)) < 1e-7, case
        assert rel_error(db, numerical_gradient(f, b, dout)) < 1e-7, case


def test_conv_backward_float32_agrees_with_float64(backend):
    rng = np.random.default_rng(7)
    for trial in range(10):
        x_shape, w_shape, stride, pad = random_conv_case(rng)
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        param = {"stride": stride, "pad": pad}
        out, cache64 = fast_layers.conv_forward_fast(x, w, b, param)
        dout = rng.standard_normal(out.shape)
        grads64 = fast_layers.conv_backward_fast(dout, cache64)
        _, cache32 = fast_layers.conv_forward_fast(
            x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), param
        )
        grads32 = fast_layers.conv_backward_fast(dout.astype(np.float32), cache32)
        for name, g32, g64 in zip(("dx", "dw", "db"), grads32, grads64, strict=True):
            case = f"trial {trial} {name}: x {x_shape}, w {w_shape}, stride {stride}, pad {pad}"
            assert g32.dtype == np.float32, case
            assert rel_error(g32, g64) < 2e-5, case


def test_both_backends_agree_on_the_notebook_shape():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3, 31, 31))
    w = rng.standard_normal((25, 3, 3, 3))
    b = rng.standard_normal(25)
    param = {"stride": 2, "pad": 1}
    dout = rng.standard_normal((10, 25, 16, 16))
    before = fast_layers.BACKEND
    results = {}
    try:
        for name in BACKENDS:
            fast_layers.set_backend(name)
            out, cache = fast_layers.conv_forward_fast(x, w, b, param)
            results[name] = (out, *fast_layers.conv_backward_fast(dout, cache))
    finally:
        fast_layers.set_backend(before)
    assert rel_error(results["numpy"][0], conv_forward_loops(x, w, b, 2, 1)) < 1e-10
    for name in BACKENDS:
        for got, want in zip(results[name], results["numpy"], strict=True):
            assert rel_error(got, want) < 1e-12


def test_chunked_processing_matches_whole_batch(backend, monkeypatch):
    """Big batches are processed a few images at a time; chunk edges (and a ragged last chunk)
    must not change the result."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((7, 2, 6, 5))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    param = {"stride": 1, "pad": 1}
    out, cache = fast_layers.conv_forward_fast(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    grads = fast_layers.conv_backward_fast(dout, cache)
    per_image = (2 * 3 * 2 + 1) * out.shape[2] * out.shape[3] * x.itemsize
    for images_per_chunk in (1, 3):
        monkeypatch.setattr(fast_layers, "CHUNK_BYTES", images_per_chunk * per_image)
        assert fast_layers._chunks(7, per_image)[0] == images_per_chunk
        out_c, cache_c = fast_layers.conv_forward_fast(x, w, b, param)
        assert rel_error(out_c, conv_forward_loops(x, w, b, 1, 1)) < 1e-12
        for got, want in zip(fast_layers.conv_backward_fast(dout, cache_c), grads, strict=True):
            assert rel_error(got, want) < 1e-12


def test_conv_keeps_dtype_and_converts_other_dtypes(backend):
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(2, 2, 5, 4))
    w = rng.standard_normal((3, 2, 3, 2))
    b = np.zeros(3, dtype=np.float32)
    out, cache = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == np.float64
    assert rel_error(out, conv_forward_loops(x, w, b, 1, 1)) < 1e-12
    out32, cache32 = fast_layers.conv_forward_fast(x.astype(np.float32), w, b, {"stride": 1, "pad": 1})
    assert out32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in fast_layers.conv_backward_fast(out32, cache32))


def test_conv_accepts_non_contiguous_inputs(backend):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5, 3, 2)).transpose(3, 2, 0, 1)  # (2, 3, 6, 5), not contiguous
    w = rng.standard_normal((4, 3, 3, 2))[::-1]
    b = rng.standard_normal(8)[::2]
    out, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})
    assert rel_error(out, conv_forward_loops(x, w, b, 1, 0)) < 1e-12


def test_cache_survives_later_forward_passes(backend):
    """Column buffers are pooled: a live cache must not be overwritten by the next forward pass."""
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((2, 3, 3, 8, 8))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    param = {"stride": 1, "pad": 1}
    out1, cache1 = fast_layers.conv_forward_fast(x1, w, b, param)
    dout = rng.standard_normal(out1.shape)
    expected = fast_layers.conv_backward_fast(dout, cache1)
    for _ in range(3):
        out2, cache2 = fast_layers.conv_forward_fast(x2, w, b, param)
        fast_layers.conv_backward_fast(dout, cache2)
    for got, want in zip(fast_layers.conv_backward_fast(dout, cache1), expected, strict=True):
        assert np.array_equal(got, want)


def test_workspace_pool_lends_each_buffer_to_one_borrower_at_a_time():
    pool = fast_layers._WorkspacePool(max_bytes=10_000)
    with pool.borrow((10, 10), np.float64) as a:
        with pool.borrow((10, 10), np.float64) as b:
            assert b is not a and not np.shares_memory(a, b)  # a is still lent out
            assert a.shape == b.shape == (10, 10) and a.dtype == np.float64
    assert len(pool._free[((10, 10), "<f8")]) == 2  # both came back
    with pool.borrow((10, 10), np.float64) as c:
        assert c is a or c is b  # reused, not allocated again
    with pool.borrow((40, 40), np.float64) as big:  # 12.8 kB: over the limit, so not kept
        assert big.shape == (40, 40)
    assert pool._free_bytes() <= 10_000 and ((40, 40), "<f8") not in pool._free


def test_workspace_pool_returns_a_buffer_when_the_block_fails():
    pool = fast_layers._WorkspacePool(max_bytes=10_000)
    with pytest.raises(RuntimeError), pool.borrow((5,), np.float32) as a:
        raise RuntimeError("the layer failed")
    with pool.borrow((5,), np.float32) as again:
        assert again is a


def test_workspace_pool_drops_other_shapes_to_stay_bounded():
    pool = fast_layers._WorkspacePool(max_bytes=1000)
    with pool.borrow((100,), np.float64):  # 800 bytes
        pass
    with pool.borrow((50,), np.float64):  # 400 bytes: the 800-byte buffer is dropped to make room
        pass
    assert list(pool._free) == [((50,), "<f8")] and pool._free_bytes() == 400


# ----------------------------------------------------------------------------------------------------
# Max pooling


POOL_CASES = [
    # (x shape, pool_height, pool_width, stride): tiling, overlapping, non-square, gaps
    ((2, 3, 8, 6), 2, 2, 2),
    ((2, 2, 9, 9), 3, 3, 3),
    ((1, 2, 7, 5), 3, 3, 2),
    ((2, 1, 6, 9), 2, 3, 1),
    ((1, 3, 7, 10), 1, 4, 3),
    ((3, 2, 4, 4), 4, 4, 1),
    ((2, 2, 10, 9), 2, 1, 4),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_matches_loops(backend, x_shape, ph, pw, stride, dtype):
    rng = np.random.default_rng(sum(x_shape) + 10 * ph + pw)
    x = rng.standard_normal(x_shape).astype(dtype)
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = fast_layers.max_pool_forward_fast(x, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = fast_layers.max_pool_backward_fast(dout, cache)
    out_ref, dx_ref = max_pool_forward_loops(x, ph, pw, stride), max_pool_backward_loops(dout, x, ph, pw, stride)
    assert out.dtype == dtype and dx.dtype == dtype
    assert np.array_equal(out, out_ref)
    assert rel_error(dx, dx_ref) < TOL[dtype]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES[:4])
def test_max_pool_backward_matches_numerical_gradient(x_shape, ph, pw, stride):
    rng = np.random.default_rng(5)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / 7.0  # distinct values: no ties
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = fast_layers.max_pool_forward_fast(x, param)
    dout = rng.standard_normal(out.shape)
    dx = fast_layers.max_pool_backward_fast(dout, cache)
    dx_num = numerical_gradient(lambda: fast_layers.max_pool_forward_fast(x, param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-8


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_ties_route_gradient_to_first_maximum(backend, x_shape, ph, pw, stride):
    """Documented rule: the first maximal entry of a window (row-major) takes the whole gradient."""
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)  # many ties
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = fast_layers.max_pool_forward_fast(x, param)
    dout = rng.standard_normal(out.shape)
    dx = fast_layers.max_pool_backward_fast(dout, cache)
    dx_ref = max_pool_backward_loops(dout, x, ph, pw, stride)
    assert np.allclose(dx, dx_ref, rtol=0, atol=1e-12)
    assert np.isclose(dx.sum(), dout.sum())  # never split, never duplicated

    x_flat = np.ones((1, 1, 4, 4))
    out, cache = fast_layers.max_pool_forward_fast(x_flat, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = fast_layers.max_pool_backward_fast(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    assert np.array_equal(dx[0, 0], expected)


def test_max_pool_nan_window_does_not_hide_a_tie():
    """A NaN window has no maximum to route to; a tie elsewhere must still give one entry only."""
    x = np.array([[[[np.nan, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]]])  # windows: NaN, and a 2-way tie
    out, cache = fast_layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 1
    dx = fast_layers.max_pool_backward_fast(np.array([[[[5.0, 7.0]]]]), cache)
    assert np.array_equal(dx[0, 0], [[0, 0, 7, 0], [0, 0, 0, 0]])


# ----------------------------------------------------------------------------------------------------
# Errors: shapes that don't fit raise ValueError naming the shapes


def test_conv_errors_name_the_shapes(backend):
    x = np.zeros((2, 3, 8, 7))
    w = np.zeros((4, 3, 3, 3))
    b = np.zeros(4)
    with pytest.raises(ValueError, match=r"stride 2.*10x9.*8x7"):
        fast_layers.conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})  # (8 + 2 - 3) % 2 != 0
    with pytest.raises(ValueError, match=r"channel mismatch.*\(2, 3, 8, 7\).*\(4, 2, 3, 3\)"):
        fast_layers.conv_forward_fast(x, np.zeros((4, 2, 3, 3)), b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"b must have shape \(4,\).*\(5,\)"):
        fast_layers.conv_forward_fast(x, w, np.zeros(5), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"larger than the padded input 8x7"):
        fast_layers.conv_forward_fast(x, np.zeros((4, 3, 9, 3)), b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 8, 7\)"):
        fast_layers.conv_forward_fast(x[0], w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="'pad'"):
        fast_layers.conv_forward_fast(x, w, b, {"stride": 1})
    with pytest.raises(ValueError, match="integer"):
        fast_layers.conv_forward_fast(x, w, b, {"stride": 1.5, "pad": 1})
    with pytest.raises(ValueError, match="stride >= 1"):
        fast_layers.conv_forward_fast(x, w, b, {"stride": 0, "pad": 1})
    out, cache = fast_layers.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout must have the output shape \(2, 4, 8, 7\).*\(2, 4, 8, 8\)"):
        fast_layers.conv_backward_fast(np.zeros((2, 4, 8, 8)), cache)


def test_max_pool_errors_name_the_shapes():
    x = np.zeros((2, 3, 7, 8))
    with pytest.raises(ValueError, match=r"\(2, 3, 7, 8\).*stride 2.*7x8"):
        fast_layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match=r"larger than the padded input 7x8"):
        fast_layers.max_pool_forward_fast(x, {"pool_height": 8, "pool_width": 2, "stride": 1})
    with pytest.raises(ValueError, match="'pool_width'"):
        fast_layers.max_pool_forward_fast(x, {"pool_height": 2, "stride": 1})
    out, cache = fast_layers.max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 2, "stride": 2})
    assert out.shape == (2, 3, 3, 4)
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 4\).*\(2, 3, 4, 3\)"):
        fast_layers.max_pool_backward_fast(np.zeros((2, 3, 4, 3)), cache)


# ----------------------------------------------------------------------------------------------------
# Backend selection and the fallback notice (fresh interpreters, so this process is unaffected)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "CS231N_FAST_BACKEND"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=60
    )


BLOCK_EXTENSION = "import sys; sys.modules['cs231n.im2col_cython'] = None\n"
SMOKE = (
    "import numpy as np\n"
    "from cs231n import fast_layers as fl\n"
    "import cs231n.fast_layers\n"  # a second import must not repeat the notice
    "out, cache = fl.conv_forward_fast(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), np.zeros(1),"
    " {'stride': 1, 'pad': 1})\n"
    "print(fl.BACKEND, out[0, 0, 1, 1])\n"
)


def test_fallback_when_extension_is_missing_prints_one_line_to_stdout():
    result = run_python(BLOCK_EXTENSION + SMOKE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert "NumPy fallback" in lines[0]
    assert "./setup_env.sh --force" in lines[0] and "pip install -e ." in lines[0]
    assert lines[1] == "numpy 9.0"


def test_env_var_forces_numpy_backend_silently():
    result = run_python(SMOKE, CS231N_FAST_BACKEND="numpy")
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("numpy 9.0\n", "")


def test_default_backend_is_cython_when_built():
    result = run_python(SMOKE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    if HAVE_CYTHON:
        assert lines == ["cython 9.0"]
    else:  # the notice, then the result
        assert len(lines) == 2 and lines[1] == "numpy 9.0"


def test_bad_backend_names_are_rejected():
    result = run_python("import cs231n.fast_layers", CS231N_FAST_BACKEND="fortran")
    assert result.returncode != 0 and "CS231N_FAST_BACKEND" in result.stderr
    with pytest.raises(ValueError, match="'cython' or 'numpy'"):
        fast_layers.set_backend("fortran")


def test_extension_is_built():
    """The set-up script builds the extension; the fallback is for machines without a compiler."""
    assert HAVE_CYTHON, "cs231n.im2col_cython is not built: run ./setup_env.sh --force"
    import cs231n.im2col_cython as ext

    assert ext.__file__.startswith(str(ROOT / "cs231n"))
