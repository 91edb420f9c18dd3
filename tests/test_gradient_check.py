"""Tests for cs231n.gradient_check on functions whose gradients are known in closed form."""

import numpy as np
import pytest

from cs231n.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def test_quadratic_gradient(rng):
    A = rng.normal(size=(5, 5))
    A = A + A.T
    b = rng.normal(size=5)
    x = rng.normal(size=5)

    def f(v):
        return 0.5 * v @ A @ v + b @ v

    grad = eval_numerical_gradient(f, x, verbose=False)
    assert grad.shape == x.shape
    assert rel_error(grad, A @ x + b) < 1e-8


def test_x_sin_x_gradient_multidimensional(rng):
    x = rng.normal(size=(3, 4, 2))
    grad = eval_numerical_gradient(lambda v: np.sum(v * np.sin(v)), x, verbose=False)
    assert rel_error(grad, np.sin(x) + x * np.cos(x)) < 1e-8


def test_x_restored_exactly(rng):
    x = rng.normal(size=(4, 3)) * 1e-7  # small values: undoing a step of h is not exact for them
    original = x.copy()
    assert np.all((x - 1e-5) + 1e-5 != x)  # so restoring by arithmetic would be caught
    eval_numerical_gradient(lambda v: float(np.sum(v**3)), x, verbose=False)
    assert np.array_equal(x, original)
    eval_numerical_gradient_array(lambda v: v**2, x, np.ones_like(x))
    assert np.array_equal(x, original)
    grad_check_sparse(lambda v: float(np.sum(v**3)), x, 3 * x**2, num_checks=5, seed=0)
    assert np.array_equal(x, original)


def test_f_sees_in_place_perturbation():
    x = np.zeros(3)
    seen = []

    def f(v):
        seen.append(v.copy())
        return float(np.sum(v))

    eval_numerical_gradient(f, x, verbose=False, h=0.5)
    assert len(seen) == 6
    assert np.array_equal(seen[0], [0.5, 0, 0]) and np.array_equal(seen[1], [-0.5, 0, 0])
    assert np.array_equal(seen[5], [0, 0, -0.5])


def test_verbose_prints_each_index(capsys):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = eval_numerical_gradient(lambda v: np.sum(v**2), x, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("(0, 0)") and lines[3].startswith("(1, 1)")
    assert abs(float(lines[3].split()[-1]) - grad[1, 1]) < 1e-6


def test_integer_input_rejected():
    with pytest.raises(TypeError):
        eval_numerical_gradient(lambda v: np.sum(v), np.arange(3), verbose=False)


def test_array_gradient_matrix_product(rng):
    x = rng.normal(size=(4, 5))
    w = rng.normal(size=(5, 3))
    dout = rng.normal(size=(4, 3))
    dx = eval_numerical_gradient_array(lambda v: v @ w, x, dout)
    dw = eval_numerical_gradient_array(lambda v: x @ v, w, dout)
    assert rel_error(dx, dout @ w.T) < 1e-8
    assert rel_error(dw, x.T @ dout) < 1e-8


def test_array_gradient_elementwise_and_reused_buffer(rng):
    x = rng.normal(size=(6,))
    dout = rng.normal(size=(6,))
    buffer = np.empty(6)

    def f(v):  # returns the same buffer every call: the helper must copy it
        np.tanh(v, out=buffer)
        return buffer

    dx = eval_numerical_gradient_array(f, x, dout)
    assert rel_error(dx, dout * (1 - np.tanh(x) ** 2)) < 1e-8


def test_grad_check_sparse_correct_and_wrong(rng, capsys):
    W = rng.normal(size=(10, 7))
    f = lambda w: float(np.sum(np.sin(w) * w))  # noqa: E731
    correct = np.sin(W) + W * np.cos(W)
    errors = grad_check_sparse(f, W, correct, num_checks=8, seed=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(errors) == 8 and len(lines) == 8
    assert max(errors) < 1e-7
    assert lines[0].startswith("numerical: ") and " analytic: " in lines[0]
    assert ", relative error: " in lines[0]
    assert abs(float(lines[0].rsplit(" ", 1)[1]) - errors[0]) <= 1e-6 * errors[0] + 1e-300

    wrong = 1.1 * correct + 0.5
    bad = grad_check_sparse(f, W, wrong, num_checks=8, seed=1)
    assert min(bad) > 1e-3


def test_grad_check_sparse_seeding(rng):
    x = rng.normal(size=(20, 20))
    g = np.zeros_like(x)  # wrong everywhere, so the errors identify the entries checked
    f = lambda v: float(np.sum(v**2 * np.arange(400).reshape(20, 20)))  # noqa: E731
    assert grad_check_sparse(f, x, g, num_checks=5, seed=3) == grad_check_sparse(f, x, g, 5, seed=3)
    np.random.seed(0)  # noqa: NPY002 (the notebooks' way of seeding)
    first = grad_check_sparse(f, x, 2 * x * np.arange(400).reshape(20, 20) + 1, num_checks=5)
    np.random.seed(0)  # noqa: NPY002
    second = grad_check_sparse(f, x, 2 * x * np.arange(400).reshape(20, 20) + 1, num_checks=5)
    assert first == second


def test_grad_check_sparse_zero_gradient_entry():
    x = np.ones((2, 2))
    errors = grad_check_sparse(lambda v: 0.0, x, np.zeros_like(x), num_checks=3, seed=0)
    assert errors == [0.0, 0.0, 0.0]


def test_rel_error_properties(rng):
    x = rng.normal(size=(3, 4))
    y = rng.normal(size=(3, 4))
    assert rel_error(x, x) == 0.0
    assert rel_error(x, y) == rel_error(y, x)
    assert 0.0 <= rel_error(x, y) <= 1.0
    assert rel_error(x, -x) == pytest.approx(1.0)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)  # the 1e-8 floor on the denominator
    assert rel_error(1.0, 1.0 + 1e-6) == pytest.approx(1e-6 / 2, rel=1e-5)
    # the maximum over entries
    assert rel_error(np.array([1.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(0.5)
    assert isinstance(rel_error(x, y), float)
