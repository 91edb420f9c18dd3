"""Visible checks with instant, specific feedback for students.

Each check has three outcomes:

- **not attempted**: the function still raises ``NotImplementedError`` (the release stub);
- **wrong**, with a message that points at the likely mistake (wrong shape, a transposed result,
  right up to a constant factor, an input modified in place, no return value, a gradient wrong in one
  parameter only ...) and never prints the expected values;
- **correct**, with a one-line confirmation.

A failed check raises ``CheckFailed`` (an ``AssertionError``), so nbgrader scores the test cell zero.
Checks print to stdout only. Their own frames are hidden from tracebacks (``__tracebackhide__``), so a
student sees the test cell's line, any frames of their own code, and the message. In a notebook::

    from cs231n import checks
    checks.section("kNN distances", total=4)
    checks.array("compute_distances_two_loops", lambda: knn.compute_distances_two_loops(X), expected,
                 inputs={"X": X})
    ...
    checks.summary()   # in the section's last visible test cell
"""

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np


class CheckFailed(AssertionError):
    """A visible check failed; the message says what looks wrong."""


class NotAttempted(CheckFailed):
    """The checked function is still the release stub."""


@dataclass
class _Section:
    name: str
    total: int | None = None
    passed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


_section = _Section("this notebook")


def section(name: str, total: int | None = None) -> None:
    """Start counting the visible checks of a notebook section (``total`` = how many it has)."""
    global _section
    _section = _Section(name, total)


def _record(name: str, ok: bool) -> None:
    (_section.passed if ok else _section.failed).add(name)
    (_section.failed if ok else _section.passed).discard(name)


def _fail(name: str, message: str) -> None:
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    _record(name, False)
    raise CheckFailed(f"{name}: {message}")


def _passed(name: str, detail: str = "") -> None:
    _record(name, True)
    print(f"[ok] {name}" + (f": {detail}" if detail else ""))


def run(name: str, call: Callable[[], Any], inputs: Mapping[str, Any] | None = None) -> Any:
    """Call the student's code, turning the release stub into a "not attempted" message and checking
    that ``inputs`` (name -> array) are left unchanged."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    before = {k: np.array(v, copy=True) for k, v in (inputs or {}).items() if isinstance(v, np.ndarray)}
    try:
        result = call()
    except NotImplementedError:
        _restore(inputs, before)
        _record(name, False)
        raise NotAttempted(
            f"{name}: not attempted yet (it still raises NotImplementedError). Replace the "
            f"'raise NotImplementedError()' line with your code, run that cell, then run this check again."
        ) from None
    except Exception as exc:
        _restore(inputs, before)
        _record(name, False)
        exc.add_note(f"(raised by your code while checking {name}; the traceback shows where)")
        raise
    for key in _restore(inputs, before):
        _fail(name, f"modified its input '{key}' in place. Work on a copy or compute a new array. "
                    "(The check has put the original values back, so later checks are not affected.)")
    return result


T = TypeVar("T")
_UNBOUND = object()


def with_stand_ins(namespace: MutableMapping[str, Any], replacements: Mapping[str, Any], call: Callable[[], T]) -> T:
    """Run ``call()`` while some names of a notebook are bound to stand-ins, then put back what was there.

    A check of a function that calls another graded function (a sequence loop calling a step) swaps in
    a given stand-in for the callee, so that a bug in the callee costs points in its own checks only.

    Inputs:
    - namespace: where the code under test looks the names up: the notebook's ``globals()``.
    - replacements: name -> stand-in (usually a function with the same signature).
    - call: what to run, e.g. ``lambda: rnn_forward(x, h0, Wx, Wh, b)``.

    Returns: whatever ``call()`` returns; the names are restored even if it raises.
    """
    __tracebackhide__ = True
    saved = {name: namespace.get(name, _UNBOUND) for name in replacements}
    namespace.update(replacements)
    try:
        return call()
    finally:
        for name, value in saved.items():
            if value is _UNBOUND:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _restore(inputs: Mapping[str, Any] | None, before: dict[str, np.ndarray]) -> list[str]:
    """The names of the ``inputs`` that differ from their copies in ``before``; each is given its
    original values back where it can be (same shape, writeable), so that a test that uses the same
    array later is not affected by the student's in-place change."""
    changed = []
    for key, old in before.items():
        new = inputs[key]
        if new.shape != old.shape or not np.array_equal(new, old, equal_nan=True):
            changed.append(key)
            if new.shape == old.shape and new.flags.writeable:
                np.copyto(new, old, casting="unsafe")
    return changed


def holds(name: str, condition: Callable[[], Any], inputs: Mapping[str, Any] | None = None) -> None:
    """Check a property written as plain asserts: ``condition()`` passes if it raises nothing.

    The message of a failing ``assert`` inside ``condition`` becomes the check's message.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    try:
        run(name, condition, inputs)
    except CheckFailed:
        raise
    except AssertionError as exc:
        _fail(name, str(exc) or "a condition does not hold.")
    _passed(name)


def _as_array(name: str, value: Any, what: str) -> np.ndarray:
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    if value is None:
        _fail(name, f"{what} is None. Did you forget a 'return' statement?")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(name, f"{what} should be numeric (got {type(value).__name__}).")
    return arr


def diagnose(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Why ``actual`` differs from ``expected``, in words that do not reveal ``expected``; None if equal."""
    if actual.shape != expected.shape:
        if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
            return f"has shape {actual.shape}, the transpose of the expected shape. Check your axes."
        if actual.size == expected.size:
            return f"has shape {actual.shape} but should have shape {expected.shape} (same number of entries)."
        return f"has shape {actual.shape} but should have shape {expected.shape}."
    if not np.all(np.isfinite(actual)):
        return "contains NaN or inf. Look for a division by zero, a log of 0 or an overflowing exp."
    if np.allclose(actual, expected, rtol=rtol, atol=atol):
        return None
    if np.allclose(-actual, expected, rtol=rtol, atol=atol):
        return "has the opposite sign of the expected result."
    nonzero = np.abs(expected) > 1e-12
    if nonzero.any() and np.allclose(actual[~nonzero], 0, atol=atol):
        ratio = actual[nonzero] / expected[nonzero]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
            return (f"is right up to a constant factor of {ratio.flat[0]:.4g}. Check averaging over the batch, "
                    f"factors of 2 and the regularisation strength.")
    if np.allclose(actual, np.square(expected), rtol=rtol, atol=atol):
        return "looks squared. Did you forget a square root?"
    if np.all(expected >= 0) and np.allclose(np.square(actual), expected, rtol=rtol, atol=atol):
        return "looks like the square root of the expected result. Did you take one root too many?"
    diff = actual - expected
    if np.allclose(diff, diff.flat[0], rtol=1e-6, atol=atol):
        return "is off by the same constant everywhere. Check a missing or extra term that does not depend on the data."
    wrong = ~np.isclose(actual, expected, rtol=rtol, atol=atol)
    rel = np.max(np.abs(diff) / np.maximum(1e-8, np.abs(actual) + np.abs(expected)))
    if actual.ndim >= 1 and wrong.sum() < wrong.size:
        rows = np.flatnonzero(wrong.reshape(wrong.shape[0], -1).any(axis=1))
        shown = ", ".join(map(str, rows[:5])) + (" ..." if rows.size > 5 else "")
        return (f"{wrong.sum()} of {wrong.size} entries are wrong (relative error up to {rel:.1e}), in rows {shown}. "
                f"Check edge cases and how those rows are computed.")
    return f"values are wrong (relative error {rel:.1e})."


def array(
    name: str,
    call: Callable[[], Any],
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    inputs: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Check that ``call()`` returns an array (or number) equal to ``expected`` up to tolerance.

    Inputs:
    - name: what is checked, as the student knows it (e.g. "svm_loss_naive loss").
    - call: a function of no arguments that runs the student's code.
    - expected: the correct result (array-like).
    - rtol, atol: tolerances as in np.allclose.
    - inputs: arrays passed to the student's code, checked for in-place modification.

    Returns the student's result as an array (so a cell can run further checks on it).
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = _as_array(name, run(name, call, inputs), "the result")
    problem = diagnose(result, np.asarray(expected, dtype=float), rtol, atol)
    if problem:
        _fail(name, problem)
    _passed(name)
    return result


def value(name: str, call: Callable[[], Any], expected: float, *, rtol: float = 1e-6, atol: float = 1e-8,
          inputs: Mapping[str, Any] | None = None) -> float:
    """Like ``array`` for a scalar result (a loss, an accuracy)."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = _as_array(name, run(name, call, inputs), "the result")
    if result.size != 1:
        _fail(name, f"should be a single number but has shape {result.shape}.")
    return float(array(name, lambda: result.reshape(()), expected, rtol=rtol, atol=atol))


def close_to(name: str, actual: Any, target: float, tol: float, why: str) -> None:
    """Check that a number lies within ``tol`` of ``target`` (e.g. an initial loss near log(10))."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    x = _as_array(name, actual, "the value")
    if x.size != 1 or not np.isfinite(x).all():
        _fail(name, f"should be one finite number (got shape {x.shape}).")
    if abs(float(x) - target) > tol:
        _fail(name, f"is {float(x):.4g}, not within {tol:g} of what {why}.")
    _passed(name, f"{float(x):.4g}")


def at_least(name: str, actual: Any, bound: float, why: str) -> None:
    """Check that a number (an accuracy, a speed-up) reaches a bound."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    x = _as_array(name, actual, "the value")
    if x.size != 1 or not np.isfinite(x).all():
        _fail(name, f"should be one finite number (got shape {x.shape}).")
    if float(x) < bound:
        _fail(name, f"is {float(x):.4g}, below {bound:g}: {why}")
    _passed(name, f"{float(x):.4g}")


def gradients(
    name: str,
    analytic: Mapping[str, Any],
    numeric: Mapping[str, Any],
    *,
    tol: float = 1e-6,
) -> None:
    """Compare analytic gradients with numerical ones, parameter by parameter.

    Inputs:
    - analytic: parameter name -> the student's gradient.
    - numeric: parameter name -> the numerical gradient (cs231n.gradient_check).
    - tol: the largest relative error accepted.

    The message names every parameter whose gradient is wrong, so a bug in one of them is easy to find.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    missing = [k for k in numeric if k not in analytic]
    if missing:
        _fail(name, f"no gradient returned for {', '.join(missing)}.")
    errors = {}
    for key, num in numeric.items():
        num = np.asarray(num, dtype=float)
        got = _as_array(name, analytic[key], f"the gradient of {key}")
        if got.shape != num.shape:
            _fail(name, f"the gradient of {key} has shape {got.shape} but {key} has shape {num.shape}.")
        errors[key] = float(np.max(np.abs(got - num) / np.maximum(1e-8, np.abs(got) + np.abs(num))))
    bad = [k for k, e in errors.items() if not e <= tol]
    summary = ", ".join(f"{k} {e:.1e}" for k, e in errors.items())
    if bad:
        only = "only " if len(bad) < len(errors) else ""
        _fail(name, f"the gradient is wrong {only}in {', '.join(bad)} (relative errors: {summary}; "
                    f"should be below {tol:g}).")
    _passed(name, f"relative errors {summary}")


def equal(name: str, call: Callable[[], Any], expected: Sequence[Any] | np.ndarray,
          inputs: Mapping[str, Any] | None = None) -> None:
    """Check an exact result (labels, indices, counts)."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = run(name, call, inputs)
    if result is None:
        _fail(name, "the result is None. Did you forget a 'return' statement?")
    got, want = np.asarray(result), np.asarray(expected)
    if got.shape != want.shape:
        _fail(name, f"has shape {got.shape} but should have shape {want.shape}.")
    wrong = got != want
    if wrong.any():
        _fail(name, f"{int(wrong.sum())} of {wrong.size} entries are wrong.")
    _passed(name)


def summary() -> None:
    """Say how many visible checks of the section passed, and that hidden checks follow at grading."""
    s = _section
    ran = len(s.passed) + len(s.failed)
    total = s.total if s.total is not None else ran
    line = f"{s.name}: {len(s.passed)} of {total} visible checks passed"
    if s.failed:
        line += f" (failing: {', '.join(sorted(s.failed))})"
    if total > ran:
        line += f"; {total - ran} not run yet"
    print(line + ". More checks with other inputs (hidden tests) run when your notebook is graded.")
