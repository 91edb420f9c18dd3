"""Numerical gradient checking.

Every analytic gradient written in the assignments is checked against a centred finite difference

    df/dx[i] ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)

which has error O(h^2). The helpers below perturb the input array *in place*, one entry at a time,
and always put the original value back, so after a call `x` holds exactly the bits it held before.

Use float64 inputs: with float32 and h = 1e-5 the perturbation is close to the rounding error of
the input itself and the estimates are meaningless.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
]


def _check_float(x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a NumPy array (it is perturbed in place), got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"x must have a floating dtype to be perturbed by h, got {x.dtype}; "
            "convert it first, e.g. x = x.astype(np.float64)"
        )


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    verbose: bool = True,
    h: float = 1e-5,
) -> np.ndarray:
    """
    Numerical gradient of a scalar function f at x, by centred differences.

    Each entry of x is changed in place to x[ix] + h and x[ix] - h in turn and then restored, so f
    must read x when it is called (it must not cache it) and x is unchanged afterwards.

    Inputs:
    - f: Function taking the array x and returning a scalar (a float or a 0-d array).
    - x: Floating-point array of any shape, the point at which to evaluate the gradient.
    - verbose: If True, print each index and its gradient estimate to stdout.
    - h: Step size of the finite difference.

    Returns:
    - grad: Array of the same shape and dtype as x; grad[ix] estimates df/dx[ix].
    """
    _check_float(x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]  # a NumPy scalar: an exact copy of the stored value
        x[ix] = old_value + h
        f_plus = float(f(x))
        x[ix] = old_value - h
        f_minus = float(f(x))
        x[ix] = old_value  # restore the exact original bits
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    df: np.ndarray,
    h: float = 1e-5,
) -> np.ndarray:
    """
    Numerical gradient for a function with an array output, contracted with an upstream gradient.

    This is what a layer's backward pass computes: given dout = df (the gradient of some final
    scalar loss L with respect to the output of f), it returns dL/dx = sum_j df[j] * dout[j]/dx.

    Inputs:
    - f: Function taking the array x and returning an array `out` (any shape). Its result is copied,
      so f may return a buffer that it reuses between calls.
    - x: Floating-point array of any shape; it is perturbed in place and restored exactly.
    - df: Upstream gradient, same shape as f(x).
    - h: Step size of the finite difference.

    Returns:
    - grad: Array of the same shape as x, grad[ix] = sum(df * (f(x + h e_ix) - f(x - h e_ix))) / (2h).
    """
    _check_float(x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old_value = x[ix]
        x[ix] = old_value + h
        out_plus = np.array(f(x), copy=True)
        x[ix] = old_value - h
        out_minus = np.array(f(x), copy=True)
        x[ix] = old_value
        grad[ix] = np.sum((out_plus - out_minus) * df) / (2 * h)
    return grad


def grad_check_sparse(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
) -> list[float]:
    """
    Compare an analytic gradient with centred differences at a few random entries of x.

    For each check one line "numerical: %f analytic: %f, relative error: %e" is printed to stdout.
    The relative error is |num - ana| / (|num| + |ana|), defined as 0 when both are exactly 0 (for
    example at an entry that does not affect f at all).

    Inputs:
    - f: Function taking the array x and returning a scalar.
    - x: Floating-point array of any shape; it is perturbed in place and restored exactly.
    - analytic_grad: Array of the same shape as x, the gradient to check.
    - num_checks: Number of random entries to check (indices are drawn with replacement).
    - h: Step size of the finite difference.
    - seed: Seed for choosing the entries. With None the indices come from NumPy's global random
      state, so a notebook that calls np.random.seed(...) first gets the same checks every run.

    Returns:
    - errors: List of the num_checks relative errors, in the order printed.
    """
    _check_float(x)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {analytic_grad.shape}, expected {x.shape}")
    if seed is None:
        # Deliberately the legacy global state: the notebooks seed it with np.random.seed.
        indices = [
            tuple(int(np.random.randint(m)) for m in x.shape)  # noqa: NPY002
            for _ in range(num_checks)
        ]
    else:
        rng = np.random.default_rng(seed)
        indices = [tuple(int(rng.integers(m)) for m in x.shape) for _ in range(num_checks)]

    errors = []
    for ix in indices:
        old_value = x[ix]
        x[ix] = old_value + h
        f_plus = float(f(x))
        x[ix] = old_value - h
        f_minus = float(f(x))
        x[ix] = old_value
        grad_numerical = (f_plus - f_minus) / (2 * h)
        grad_analytic = float(analytic_grad[ix])
        denominator = abs(grad_numerical) + abs(grad_analytic)
        error = abs(grad_numerical - grad_analytic) / denominator if denominator > 0 else 0.0
        print(f"numerical: {grad_numerical:f} analytic: {grad_analytic:f}, relative error: {error:e}")
        errors.append(error)
    return errors


def rel_error(x: np.ndarray | float, y: np.ndarray | float) -> float:
    """
    Maximum relative error between two arrays (or scalars) of the same shape.

    Inputs:
    - x, y: Arrays of the same (broadcastable) shape.

    Returns:
    - error: max over entries of |x - y| / max(1e-8, |x| + |y|). It is symmetric, 0 when x == y,
      at most 1 when the denominator is |x| + |y| (which is at least |x - y|), and the 1e-8 floor
      keeps it finite (and small) when both entries are 0 or tiny.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
