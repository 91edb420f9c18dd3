"""Rules that decide whether a result is right, shared by the visible checks and the grader.

A check in a notebook *observes* a result of the student's code under a *rule* (a small dict, so that
it can travel as plain data): ``close`` (equal to the expected result within ``rtol``/``atol``),
``equal`` (exactly equal), ``rel_error`` (gradients: largest relative error below ``tol``),
``at_least`` / ``at_most`` / ``within`` (a number against a bound), ``record`` (kept for a judge block,
no verdict of its own). ``judge`` applies a rule and says what is wrong, in words that do not reveal
the expected values, or returns None when the result is right.

While a student works, the visible checks call ``judge`` inside the notebook against the expected
values written in the test cell. While a notebook is graded, the grader calls the same ``judge``
outside the student's process, with the rule and the expected value taken from a trusted run of the
instructor's reference solution (``cs231n.grading.coordinator.reference``).
"""

from typing import Any

import numpy as np


def close(rtol: float = 1e-6, atol: float = 1e-8, scalar: bool = False) -> dict:
    """Rule: numbers equal to the expected ones up to ``rtol``/``atol`` (as ``np.allclose``)."""
    return {"kind": "close", "rtol": float(rtol), "atol": float(atol), "scalar": bool(scalar)}


def equal() -> dict:
    """Rule: exactly the expected value (labels, indices, counts, strings, structures)."""
    return {"kind": "equal"}


def rel_error(tol: float) -> dict:
    """Rule: every array of a dict (gradients by parameter) within relative error ``tol`` of the expected."""
    return {"kind": "rel_error", "tol": float(tol)}


def at_least(bound: float, why: str = "") -> dict:
    return {"kind": "at_least", "bound": float(bound), "why": why}


def at_most(bound: float, why: str = "") -> dict:
    return {"kind": "at_most", "bound": float(bound), "why": why}


def within(target: float, tol: float, why: str = "") -> dict:
    return {"kind": "within", "target": float(target), "tol": float(tol), "why": why}


def record() -> dict:
    """Rule: no verdict; the value is there for the cell's judge block."""
    return {"kind": "record"}


def every_way_failed(name: str, problems: list[str]) -> str:
    """The message of a check that may pass in several ways (``checks.either``) when every way failed.

    ``problems``: each way's message, which starts with that way's own name (``"f, with your cache: ..."``).
    When all ways fail for the same reason the reason is said once."""
    reasons = [problem.split(": ", 1)[-1] for problem in problems]
    if len(set(reasons)) == 1:
        return f"{name}: {reasons[0]} (the same in each of the {len(problems)} ways it is checked)"
    return f"{name}: fails every way it is checked: " + "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))


#: Expected values written in a notebook carry 8 significant digits (the authoring lint holds them to
#: it), so a result is compared with one to within this relative tolerance at least. 1e-7 was too tight:
#: three visible backward checks failed correct gradients by about 1e-7 (docs/RESULTS.md, One bug, one loss).
WRITTEN_RTOL = 1e-6


def for_written(rule: dict) -> dict:
    """The rule to judge a result against an expected value written in the notebook (not a reference
    result of full precision): its relative tolerance raised to WRITTEN_RTOL where it is tighter."""
    if rule.get("kind") == "close" and rule["rtol"] < WRITTEN_RTOL:
        return {**rule, "rtol": WRITTEN_RTOL}
    if rule.get("kind") == "rel_error" and rule["tol"] < WRITTEN_RTOL:
        return {**rule, "tol": WRITTEN_RTOL}
    return rule


#: Rules whose verdict needs the expected value of the reference solution.
NEEDS_EXPECTED = frozenset({"close", "equal", "rel_error"})


def as_numbers(value: Any, what: str = "the result") -> tuple[np.ndarray | None, str | None]:
    """``value`` as a float array, or None and the reason it is not numbers."""
    if value is None:
        return None, f"{what} is None. Did you forget a 'return' statement?"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, f"{what} should be numbers (got {type(value).__name__})."
    return arr, None


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n's relative error: max |a - b| / max(1e-8, |a| + |b|)."""
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def diagnose(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Why ``actual`` differs from ``expected``, in words that do not reveal ``expected``; None if equal."""
    if actual.shape != expected.shape:
        if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
            return f"has shape {actual.shape}, the transpose of the expected shape. Check your axes."
        if actual.size == expected.size:
            return f"has shape {actual.shape} but should have shape {expected.shape} (same number of entries)."
        return f"has shape {actual.shape} but should have shape {expected.shape}."
    if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        return "contains NaN or inf. Look for a division by zero, a log of 0 or an overflowing exp."
    if np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    if np.allclose(-actual, expected, rtol=rtol, atol=atol):
        return "has the opposite sign of the expected result."
    if actual.size == 1:  # one number: only its direction, no figure from which the expected one follows
        too = "too large" if actual.item() > expected.item() else "too small"
        return f"is {too} (relative error of order {_order(rel_err(actual, expected))})."
    nonzero = np.abs(expected) > max(atol, 1e-12)
    if nonzero.sum() >= 2 and np.allclose(actual[~nonzero], 0, atol=atol):
        ratio = actual[nonzero] / expected[nonzero]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
            size = "larger" if abs(ratio.flat[0]) > 1 else "smaller"
            return (f"is right up to a constant factor (every entry {size} by the same factor). Check what "
                    f"scales it: averaging over the batch, a factor of 2, a momentum, a regularisation strength.")
    if _close_but_not_trivially(actual, np.square(expected), expected, rtol, atol):
        return "looks squared. Did you forget a square root?"
    if np.all(expected >= 0) and _close_but_not_trivially(np.square(actual), expected, actual, rtol, atol):
        return "looks like the square root of the expected result. Did you take one root too many?"
    diff = actual - expected
    if np.allclose(diff, diff.flat[0], rtol=1e-6, atol=atol):
        return ("is off by the same amount in every entry (an additive error). Check a missing or extra term "
                "that does not depend on the data.")
    wrong = ~np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    rel = _order(rel_err(actual, expected))
    if actual.ndim >= 1 and wrong.sum() < wrong.size:
        rows = np.flatnonzero(wrong.reshape(wrong.shape[0], -1).any(axis=1))
        shown = ", ".join(map(str, rows[:5])) + (" ..." if rows.size > 5 else "")
        return (f"{wrong.sum()} of {wrong.size} entries are wrong (relative error of order {rel}), in rows {shown}. "
                f"Check edge cases and how those rows are computed.")
    return f"values are wrong (relative error of order {rel})."


def _order(x: float) -> str:
    """A relative error as its order of magnitude ('1e-03'): enough to tell a slip from a wrong formula."""
    return f"1e{int(np.floor(np.log10(x))):+03d}" if x > 0 else "0"


def _close_but_not_trivially(actual: np.ndarray, transformed: np.ndarray, original: np.ndarray,
                             rtol: float, atol: float) -> bool:
    """``actual`` matches ``transformed`` (e.g. the squared expected values) relatively, entry by entry,
    while the transformation changed them: an absolute tolerance would match any values near 0, and
    values near 1 square to themselves."""
    return (np.allclose(actual, transformed, rtol=max(rtol, 1e-6), atol=0.0)
            and not np.allclose(transformed, original, rtol=max(rtol, 1e-3), atol=atol))


def _same(a: Any, b: Any) -> bool:
    """Deep equality of plain data; arrays and lists of numbers compare by value and shape."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b, strict=True))
    try:
        x, y = np.asarray(a), np.asarray(b)
    except (TypeError, ValueError):
        return False
    if x.dtype == object or y.dtype == object:
        return False
    return x.shape == y.shape and bool(np.array_equal(x, y))


def _judge_equal(value: Any, expected: Any) -> str | None:
    if _same(value, expected):
        return None
    if value is None:
        return "the result is None. Did you forget a 'return' statement?"
    try:
        got, want = np.asarray(value), np.asarray(expected)
    except (TypeError, ValueError):
        return "is not the expected result."
    if got.dtype != object and want.dtype != object and want.dtype.kind in "biuf":
        if got.shape != want.shape:
            return f"has shape {got.shape} but should have shape {want.shape}."
        if got.dtype.kind in "biuf":
            wrong = int(np.sum(got != want))
            return f"{wrong} of {want.size} entries are wrong."
    return "is not the expected result."


def _judge_rel_error(value: Any, expected: Any, tol: float) -> str | None:
    if not isinstance(expected, dict):
        expected, value = {"": expected}, {"": value}
    if not isinstance(value, dict):
        return "should be a dict of gradients, one per parameter."
    missing = [k for k in expected if k not in value]
    if missing:
        return f"no gradient for {', '.join(map(str, missing))}."
    errors = {}
    for key, want in expected.items():
        what = f"the gradient of {key}" if key != "" else "the gradient"
        got, problem = as_numbers(value[key], what)
        if problem:
            return problem
        want = np.asarray(want, dtype=float)
        if got.shape != want.shape:
            return f"{what} has shape {got.shape} but should have shape {want.shape}."
        errors[key] = rel_err(got, want) if np.all(np.isfinite(got)) else float("inf")
    bad = [k for k, e in errors.items() if not e <= tol]
    if not bad:
        return None
    if list(errors) == [""]:
        return f"the gradient is wrong (relative error {errors['']:.1e}; should be below {tol:g})."
    only = "only " if len(bad) < len(errors) else ""
    summary = ", ".join(f"{k} {e:.1e}" for k, e in errors.items())
    return (f"the gradient is wrong {only}in {', '.join(map(str, bad))} (relative errors: {summary}; "
            f"should be below {tol:g}).")


def _one_number(value: Any) -> tuple[float | None, str | None]:
    arr, problem = as_numbers(value, "the value")
    if problem:
        return None, problem
    if arr.size != 1 or not np.all(np.isfinite(arr)):
        return None, f"should be one finite number (got shape {arr.shape})."
    return float(arr.reshape(())), None


def judge(rule: dict, value: Any, expected: Any = None) -> str | None:
    """What is wrong with ``value`` under ``rule`` (None when it is right).

    Inputs:
    - rule: a dict made by one of the rule functions above.
    - value: the student's result (plain data).
    - expected: the reference result, for the rules in ``NEEDS_EXPECTED``.
    Returns:
    - None, or a sentence that never shows the expected values.
    """
    kind = rule.get("kind")
    if kind == "record":
        return None
    if kind == "close" and isinstance(expected, dict):
        if not isinstance(value, dict):
            return "should be a dict, one entry per " + ", ".join(map(str, expected)) + "."
        missing = [k for k in expected if k not in value]
        if missing:
            return f"has no entry for {', '.join(map(str, missing))}."
        for key in expected:
            problem = judge(rule, value[key], expected[key])
            if problem:
                return f"{key} {problem}" if problem[0].islower() else f"{key}: {problem}"
        return None
    if kind == "close":
        got, problem = as_numbers(value)
        if problem:
            return problem
        want = np.asarray(expected, dtype=float)
        if rule.get("scalar") and got.size != 1:
            return f"should be a single number but has shape {got.shape}."
        if rule.get("scalar"):
            got, want = got.reshape(()), want.reshape(())
        return diagnose(got, want, rule["rtol"], rule["atol"])
    if kind == "equal":
        return _judge_equal(value, expected)
    if kind == "rel_error":
        return _judge_rel_error(value, expected, rule["tol"])
    if kind in ("at_least", "at_most", "within"):
        x, problem = _one_number(value)
        if problem:
            return problem
        why = rule.get("why", "")
        if kind == "at_least" and x < 0 <= rule["bound"]:  # an accuracy or a speed-up is never negative
            return (f"not set yet: it is still {x:.4g}, the placeholder it starts with. The TODO above sets "
                    f"it: complete that one first.")
        if kind == "at_least" and x < rule["bound"]:
            return f"is {x:.4g}, below {rule['bound']:g}" + (f": {why}" if why else ".")
        if kind == "at_most" and x > rule["bound"]:
            return f"is {x:.4g}, above {rule['bound']:g}" + (f": {why}" if why else ".")
        if kind == "within" and abs(x - rule["target"]) > rule["tol"]:
            return f"is {x:.4g}, not within {rule['tol']:g} of what {why or 'it should be'}."
        return None
    return f"cannot be judged (unknown rule {kind!r})."
