"""The given layers of assignment 3 (assignment3/given/layers.py): numerical gradients and behaviour."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assignment3"))

from given import layers as L  # noqa: E402

from cs231n.gradient_check import eval_numerical_gradient_array, rel_error  # noqa: E402


def _check_grads(forward, backward, args, dout_shape, rng, tol=1e-7):
    dout = rng.standard_normal(dout_shape)
    _, cache = forward(*args)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in enumerate(grads):
        def f(a, i=i):
            new = list(args)
            new[i] = a
            return forward(*new)[0]
        num = eval_numerical_gradient_array(f, args[i].copy(), dout)
        assert g.shape == args[i].shape
        assert rel_error(num, g) < tol, f"gradient {i} of {forward.__name__}"


@pytest.mark.parametrize("seed", [0, 1])
def test_affine_relu_gradients(seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)
    _check_grads(L.affine_forward, L.affine_backward, (x, w, b), (4, 5), rng)
    _check_grads(L.affine_relu_forward, L.affine_relu_backward, (x, w, b), (4, 5), rng)
    _check_grads(L.relu_forward, L.relu_backward, (rng.standard_normal((3, 4)),), (3, 4), rng)


def test_conv_sandwich_gradients():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv, pool = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}

    def fwd(x, w, b):
        return L.conv_relu_pool_forward(x, w, b, conv, pool)

    fwd.__name__ = "conv_relu_pool_forward"
    _check_grads(fwd, L.conv_relu_pool_backward, (x, w, b), (2, 4, 4, 4), rng, tol=1e-6)

    def fwd2(x, w, b):
        return L.conv_relu_forward(x, w, b, conv)

    fwd2.__name__ = "conv_relu_forward"
    _check_grads(fwd2, L.conv_relu_backward, (x, w, b), (2, 4, 8, 8), rng, tol=1e-6)


def test_batchnorm_train_test_and_gradients():
    rng = np.random.default_rng(3)
    x = 3 + 2 * rng.standard_normal((50, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    bn = {"mode": "train"}
    out, _ = L.batchnorm_forward(x, np.ones(4), np.zeros(4), bn)
    assert np.allclose(out.mean(axis=0), 0, atol=1e-10) and np.allclose(out.std(axis=0), 1, atol=1e-3)
    assert np.allclose(bn["running_mean"], 0.1 * x.mean(axis=0))
    test_out, cache = L.batchnorm_forward(x, gamma, beta, {**bn, "mode": "test"})
    assert cache is None and test_out.shape == x.shape

    def fwd(x, gamma, beta):
        return L.batchnorm_forward(x, gamma, beta, {"mode": "train"})

    fwd.__name__ = "batchnorm_forward"
    _check_grads(fwd, L.batchnorm_backward, (x[:6], gamma, beta), (6, 4), rng, tol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        L.batchnorm_forward(x, gamma, beta, {"mode": "eval"})


def test_softmax_loss_value_and_gradient():
    rng = np.random.default_rng(4)
    x, y = 0.01 * rng.standard_normal((20, 10)), rng.integers(10, size=20)
    loss, dx = L.softmax_loss(x, y)
    assert abs(loss - np.log(10)) < 0.05
    num = eval_numerical_gradient_array(lambda a: np.array(L.softmax_loss(a, y)[0]), x.copy(), np.array(1.0))
    assert rel_error(num, dx) < 1e-7


def test_adam_minimises_a_quadratic_and_sgd_steps():
    w = np.array([3.0, -2.0])
    config = {"learning_rate": 0.1}
    for _ in range(300):
        w, config = L.adam(w, 2 * w, config)
    assert np.abs(w).max() < 0.05 and config["t"] == 300
    w2, _ = L.sgd(np.ones(3), np.full(3, 2.0), {"learning_rate": 0.5})
    assert np.allclose(w2, 0.0)
