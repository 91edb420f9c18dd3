"""Checks of the student's results: arrays and numbers within a tolerance, exact results, gradients
parameter by parameter, backward passes (two ways), bounds on a number, and properties written as
asserts."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import verdicts
from ..check_messages import CheckFailed
from .calling import either, run
from .observations import NONE, fail, judged, passed


def array(name: str, call: Callable[[], Any], expected: Any = NONE, *, rtol: float = 1e-6, atol: float = 1e-8,
          inputs: Mapping[str, Any] | None = None, pure: bool | Sequence[str] = False) -> Any:
    """Check that ``call()`` returns an array (or number) equal to the expected one up to tolerance.

    Inputs:
    - name: what is checked, as the student knows it (e.g. "svm_loss_naive loss").
    - call: a function of no arguments that runs the student's code.
    - expected: the correct result (visible checks); hidden checks leave it out.
    - rtol, atol: tolerances as in np.allclose.
    - inputs, pure: see ``run``.

    Returns the student's result as plain data (an array for numbers).
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = run(name, call, inputs, pure)
    return judged(name, result, verdicts.close(rtol, atol), expected)


def value(name: str, call: Callable[[], Any], expected: Any = NONE, *, rtol: float = 1e-6, atol: float = 1e-8,
          inputs: Mapping[str, Any] | None = None, pure: bool | Sequence[str] = False) -> Any:
    """Like ``array`` for a single number (a loss, an accuracy)."""
    __tracebackhide__ = True
    result = run(name, call, inputs, pure)
    return judged(name, result, verdicts.close(rtol, atol, scalar=True), expected)


def equal(name: str, call: Callable[[], Any], expected: Any = NONE, inputs: Mapping[str, Any] | None = None,
          pure: bool | Sequence[str] = False) -> Any:
    """Check an exact result (labels, indices, counts, strings)."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = run(name, call, inputs, pure)
    return judged(name, result, verdicts.equal(), expected)


def gradients(name: str, analytic: Mapping[str, Any] | Any, numeric: Any = NONE, *, tol: float = 1e-6) -> Any:
    """Compare the student's gradients with the expected ones, parameter by parameter.

    Inputs:
    - analytic: parameter name -> the student's gradient (or a single array).
    - numeric: parameter name -> the expected gradient (numerical, ``cs231n.gradient_check``, or written
      in the cell); hidden checks leave it out.
    - tol: the largest relative error accepted.

    The message names every parameter whose gradient is wrong, so a bug in one of them is easy to find.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    return judged(name, analytic, verdicts.rel_error(tol), numeric)


def returned(name: str, result: Any, keys: Sequence[str], prefix: str = "d") -> dict:
    """A function's returned tuple (or dict) as a dict by ``keys`` (a single key: the result itself), or a
    failure that says what the function must return (``prefix`` + each key: "dx", "dw" for gradients)."""
    __tracebackhide__ = True
    if isinstance(result, dict) and all(k in result for k in keys):
        return {k: result[k] for k in keys}
    if len(keys) == 1 and not isinstance(result, tuple):
        return {keys[0]: result}
    if not (isinstance(result, tuple | list) and len(result) == len(keys)):
        fail(name, f"must return a tuple of {len(keys)}: ({', '.join(prefix + k for k in keys)}); "
                   f"got {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, tuple | list) else ""))
    return dict(zip(keys, result, strict=True))


def backward_pass(name: str, forward: Callable[[], Any], backward: Callable[[Any], Any], documented: Any, *,
                  keys: Sequence[str], expected: Any = NONE, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Check a backward pass by the gradients it returns, two ways; either is enough.

    1. With the cache of the student's own forward pass: any cache layout the student chose works.
    2. With a cache in the layout the notebook recommends (``documented``): a bug in the forward pass
       then does not cost the backward pass its points.

    Inputs:
    - name: the backward function's name (and the case, in hidden tests).
    - forward: calls the student's forward pass on the test's inputs; must return (out, cache).
    - backward: takes a cache, calls the student's backward pass on the test's upstream gradient.
    - documented: the cache in the recommended layout, or a function that makes it (in hidden tests
      ``lambda: checks.supplied(...)``, so that only the grader's reference run computes it).
    - keys: the names of the returned gradients, e.g. ("x", "w", "b").
    - expected: key -> correct gradient (visible checks); rtol, atol: as np.allclose.
    """
    __tracebackhide__ = True
    rule = verdicts.close(rtol, atol)

    def with_cache(cache: Any, label: str) -> None:
        __tracebackhide__ = True
        result = run(name, lambda: backward(cache))
        judged(f"{name}, {label}", returned(name, result, keys), rule, expected)

    def own() -> None:
        __tracebackhide__ = True
        out = run(f"{name} (your forward pass, for its cache)", forward)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise CheckFailed(f"{name}: the forward pass must return (out, cache)")
        with_cache(out[1], "with your forward pass's cache")

    def recommended() -> None:
        __tracebackhide__ = True
        with_cache(documented() if callable(documented) else documented, "with the recommended cache")

    either(name, ("with the cache of your forward pass", own), ("with the recommended cache layout", recommended))


def close_to(name: str, actual: Any, target: float, tol: float, why: str) -> None:
    """Check that a number lies within ``tol`` of ``target`` (e.g. an initial loss near log(10))."""
    __tracebackhide__ = True
    judged(name, actual, verdicts.within(target, tol, why), NONE)


def at_least(name: str, actual: Any, bound: float, why: str) -> None:
    """Check that a number (an accuracy, a speed-up) reaches a bound."""
    __tracebackhide__ = True
    judged(name, actual, verdicts.at_least(bound, why), NONE)


def at_most(name: str, actual: Any, bound: float, why: str) -> None:
    """Check that a number (a loss after overfitting, a memory peak) stays below a bound."""
    __tracebackhide__ = True
    judged(name, actual, verdicts.at_most(bound, why), NONE)


def holds(name: str, condition: Callable[[], Any], inputs: Mapping[str, Any] | None = None) -> None:
    """In a judge block: a property written as plain asserts; ``condition()`` passes if it raises nothing.

    The message of a failing ``assert`` inside ``condition`` becomes the check's message.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    try:
        run(name, condition, inputs)
    except CheckFailed:
        raise
    except AssertionError as exc:
        fail(name, str(exc) or "a condition does not hold.")
    passed(name)
