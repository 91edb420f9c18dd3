"""Checks in test cells: instant feedback for students, observed results for the grader.

Each check calls the student's code and *observes* its result under a rule (``cs231n.verdicts``). Its
three outcomes in a notebook:

- **not attempted**: the function still raises ``NotImplementedError`` (the release stub);
- **wrong**, with a message that points at the likely mistake (wrong shape, a transposed result,
  right up to a constant factor, no return value, a gradient wrong in one parameter only ...) and
  never prints the expected values;
- **correct**, with a one-line confirmation.

A failed check raises ``CheckFailed`` (an ``AssertionError``), so nbgrader scores the test cell zero.

Visible checks carry the expected values written in the test cell and judge the result right there.
Hidden checks carry none: they only observe. While a notebook is graded, neither counts by itself: the
grading kernel hands every observation out as plain data, and the grader judges it *outside* the
student's process against the result of the instructor's reference solution on the same inputs (see
docs/GRADING_SECURITY.md). Properties that need more than one value (a chosen hyperparameter is the
best of the student's own results, minibatches are rows of X) go in a *judge block* of the test cell::

    checks.observe("cv_accuracies", cv_accuracies)
    checks.observe("best", (best_distance, best_k))
    ### BEGIN JUDGE
    means = ...  # from checks.observed["cv_accuracies"]
    checks.require(checks.observed["best"] == ..., "best_k is not the best k")
    ### END JUDGE

A judge block sees only ``checks.observed`` (this cell's observations, as plain data),
``checks.expected`` (hidden tests: the reference run's observations) and ``np``. In a student's
notebook it runs right where it is; while grading, the grader runs it outside the student's process. In a notebook::

    from cs231n import checks
    checks.section("kNN distances")
    checks.array("compute_distances_two_loops", lambda: knn.compute_distances_two_loops(X), expected)
    ...
    checks.summary()   # in the section's last visible test cell
"""

import ast
import functools
import inspect
import json
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from . import verdicts
from .check_messages import CheckFailed, NotAttempted, short_traceback, show_unfinished
from .plaindata import NotPlainData, from_plain, to_plain


# -- the current cell's observations -------------------------------------------------------------------
@dataclass
class _Cell:
    mode: str = "student"  # "student" (a notebook), "reference" or "grade" (a grading kernel)
    records: list[dict] = field(default_factory=list)
    supplies_in: dict = field(default_factory=dict)  # grade mode: name -> plain value from the grader
    supplies_out: dict = field(default_factory=dict)  # reference mode: name -> plain value made here
    way: list | None = None


_cell = _Cell()
#: The observations of the running test cell, by name, as plain data (what a judge block reads).
observed: dict[str, Any] = {}
#: In a judge block run by the grader: the reference solution's observations of the same cell, by name
#: (the expected value where the cell wrote one). Outside grading there is no other run to compare
#: with, so it is ``observed`` itself: only hidden tests' judges may use it.
expected: dict[str, Any] = observed


def begin_cell(mode: str = "student", supplies: Mapping[str, Any] | None = None) -> None:
    """Start a test cell: forget the previous cell's observations (called by the grading kernel, and
    before every cell in an IPython kernel)."""
    global _cell, observed, expected
    _cell = _Cell(mode=mode, supplies_in=dict(supplies or {}))
    observed = {}
    expected = observed


def finish_cell() -> dict:
    """The running cell's observations and supplies, as plain data (for the grading kernel)."""
    return {"observations": list(_cell.records), "supplies": dict(_cell.supplies_out)}


def _reset_before_cell(*_args) -> None:
    if _cell.mode == "student":
        begin_cell("student")


def _register_with_ipython() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and _reset_before_cell not in shell.events.callbacks.get("pre_run_cell", []):
        shell.events.register("pre_run_cell", _reset_before_cell)
    if shell is not None and not shell.custom_exceptions:
        shell.set_custom_exc((NotImplementedError, NameError, AttributeError), show_unfinished)


_register_with_ipython()

_NONE = object()


class _Withheld:
    """What an expected value of a visible check is while grading: the grader has it, the kernel not."""

    def __repr__(self) -> str:
        return "checks.WITHHELD"

    def __bool__(self) -> bool:
        raise TypeError("an expected value is withheld while grading: keep every use of it in the "
                        "### BEGIN EXPECTED block or in checks")


#: Bound, while grading, to every name of a ``### BEGIN EXPECTED`` block (see cs231n.grading.judge.cells).
WITHHELD = _Withheld()


def load_expected(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The expected arrays a notebook keeps in its data file (too large to read well in a test cell).

    Written in a ``### BEGIN EXPECTED`` block, so that while grading the file is never read (every name
    the block binds is withheld)::

        ### BEGIN EXPECTED
        expected_values = checks.load_expected("expected/LSTM_Captioning.json")
        lstm_h = expected_values["lstm_h"]
        ### END EXPECTED

    Inputs:
    - path: the JSON file, relative to the notebook's folder (where Jupyter runs the notebook): an object
      mapping each name to a number or a nested list of numbers.
    Returns:
    - name -> array (integers stay integers, as ``np.array`` of the same literal).
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the expected values file {os.fspath(path)!r} is missing (looked for {os.path.abspath(path)}): it comes "
            f"with the notebook, in the expected/ folder beside it; run the notebook from its own folder") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the expected values file {os.fspath(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the expected values file {os.fspath(path)!r} must hold a JSON object (name -> array)")
    return {name: np.array(value) for name, value in data.items()}


def _withheld(value: Any) -> bool:
    """Whether an expected value is, or holds, ``WITHHELD`` (e.g. a dict of withheld gradients)."""
    if value is WITHHELD:
        return True
    if isinstance(value, dict):
        return any(_withheld(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_withheld(v) for v in value)
    return False


def observe(name: str, value: Any, rule: dict | None = None, expected: Any = _NONE) -> Any:
    """Record ``value`` under ``rule`` (default ``record``: for the judge block only).

    Inputs:
    - name: unique within the cell; says what the value is.
    - value: the student's result (plain data: numbers, strings, arrays, lists, tuples, dicts).
    - rule: from ``cs231n.verdicts``; expected: the correct value, when the cell knows it.
    Returns:
    - the value as the grader will see it (plain data), also in ``checks.observed[name]``.
    """
    rule = rule or verdicts.record()
    rec: dict = {"name": name, "rule": rule, "way": _cell.way}
    try:
        rec["value"] = to_plain(value)
        seen = from_plain(json.loads(json.dumps(rec["value"])))
    except NotPlainData as exc:
        rec["value"], rec["unobservable"], seen = None, f"{exc.args[0]}", None
    if _cell.mode == "reference" and expected is not _NONE:
        rec["expected"] = to_plain(expected)
    _cell.records.append(rec)
    observed[name] = seen
    return seen


def _judged(name: str, value: Any, rule: dict, expected: Any) -> Any:
    """Observe, then judge in the notebook when the expected value is known."""
    __tracebackhide__ = True
    if _withheld(expected):
        expected = _NONE
    seen = observe(name, value, rule, expected)
    if "unobservable" in _cell.records[-1]:
        _fail(name, f"returned {_cell.records[-1]['unobservable']}, not numbers or arrays.")
    if expected is not _NONE or rule["kind"] not in verdicts.NEEDS_EXPECTED:
        problem = (verdicts.judge(rule, seen, None) if expected is _NONE
                   else verdicts.judge(verdicts.for_written(rule), seen, from_plain(to_plain(expected))))
        if problem:
            _fail(name, problem)
        _passed(name)
    return seen


# -- sections: what a student sees ---------------------------------------------------------------------
@dataclass
class _Section:
    name: str
    total: int | None = None
    passed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


_section = _Section("this notebook")


def section(name: str, total: int | None = None) -> None:
    """Start counting the visible checks of a notebook section; they are counted as they run (``total``,
    optional, only for notebooks that still state how many there are: checks not run yet are then said)."""
    global _section
    _section = _Section(name, total)


def _record(name: str, ok: bool) -> None:
    if _cell.way is not None:
        return  # a way of checks.either: the either's outcome is what counts
    (_section.passed if ok else _section.failed).add(name)
    (_section.failed if ok else _section.passed).discard(name)


def _fail(name: str, message: str) -> None:
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    _record(name, False)
    raise CheckFailed(f"{name}: {message}")


def _passed(name: str, detail: str = "") -> None:
    _record(name, True)
    if _cell.mode != "judge" and _cell.way is None:
        print(f"[ok] {name}" + (f": {detail}" if detail else ""))


def require(condition: Any, message: str) -> None:
    """In a judge block: fail the test with ``message`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise CheckFailed(message)


# -- calling the student's code ------------------------------------------------------------------------
def run(name: str, call: Callable[[], Any], inputs: Mapping[str, Any] | None = None,
        pure: bool | Sequence[str] = False) -> Any:
    """Call the student's code, turning the release stub into a "not attempted" message.

    Inputs:
    - name: what is checked; call: runs the student's code.
    - inputs: name -> array passed to the code. An input the code changes in place gets its values
      back afterwards, so later checks that reuse it are not affected.
    - pure: inputs (all of ``inputs`` if True) the code must leave unchanged: where the notebook says
      so, changing one fails the check.
    Returns: what ``call()`` returned.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    inputs = inputs or {}
    before = {k: np.array(v, copy=True) for k, v in inputs.items() if isinstance(v, np.ndarray)}
    try:
        result = call()
    except NotImplementedError:
        _restore(inputs, before, {})
        _record(name, False)
        raise NotAttempted(
            f"{name}: not attempted yet (it still raises NotImplementedError). Replace the "
            f"'raise NotImplementedError()' line with your code, run that cell, then run this check again."
        ) from None
    except Exception as exc:
        _restore(inputs, before, {})
        _record(name, False)
        if isinstance(exc, AttributeError) and str(exc).startswith("'NoneType' object has no attribute"):
            raise NotAttempted(f"{name}: not attempted yet: something it uses is still None ({exc}). An earlier "
                               "TODO sets it: complete that one first.") from None
        exc.add_note(f"(raised by your code while checking {name})")
        try:  # shown as the student's own frames and the message (IPython asks the exception)
            exc._render_traceback_ = functools.partial(short_traceback, exc)
        except AttributeError:  # an exception type without instance attributes: the full traceback
            pass
        raise
    must_keep = set(before) if pure is True else set(pure or ())
    after = {k: np.array(inputs[k], copy=True) for k in must_keep if k in before}
    result = _detached(result, [inputs[k] for k in before])
    _restore(inputs, before, after)
    for key in sorted(after):
        _judged(f"{name} leaves {key} unchanged", after[key], verdicts.equal(), before[key])
    return result


def _detached(result: Any, arrays: list[np.ndarray]) -> Any:
    """``result`` with copies of its arrays that share memory with an input (a function that works in
    place and returns its argument keeps its result when the input gets its values back)."""
    if isinstance(result, np.ndarray):
        return result.copy() if any(np.shares_memory(result, a) for a in arrays) else result
    if isinstance(result, tuple | list):
        return type(result)(_detached(r, arrays) for r in result)
    if isinstance(result, dict):
        return {k: _detached(v, arrays) for k, v in result.items()}
    return result


def _restore(inputs: Mapping[str, Any], before: dict[str, np.ndarray], after: dict) -> None:
    """Give every input changed in place its original values back (same shape, writeable)."""
    for key, old in before.items():
        new = inputs[key]
        if new.shape == old.shape and not np.array_equal(new, old, equal_nan=True) and new.flags.writeable:
            np.copyto(new, old, casting="unsafe")


T = TypeVar("T")
_UNBOUND = object()


def with_stand_ins(replacements: Mapping[str, Any], call: Callable[[], T],
                   namespace: MutableMapping[str, Any] | None = None) -> T:
    """Run ``call()`` while some names of a notebook are bound to stand-ins, then put back what was there.

    A check of a function that calls another graded function (a sequence loop calling a step) swaps in
    a given stand-in for the callee, so that a bug in the callee costs points in its own checks only.
    A stand-in is never the callee's solution: it is a made-up function with the same signature.

    Inputs:
    - replacements: name -> stand-in (usually a function with the same signature).
    - call: what to run, e.g. ``lambda: rnn_forward(x, h0, Wx, Wh, b)``.
    - namespace: where the code under test looks the names up; by default the namespace of the code
      that calls ``with_stand_ins`` (the notebook's).

    Returns: whatever ``call()`` returns; the names are restored even if it raises.
    """
    __tracebackhide__ = True
    if namespace is None:
        namespace = sys._getframe(1).f_globals
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


# -- the checks ----------------------------------------------------------------------------------------
def array(name: str, call: Callable[[], Any], expected: Any = _NONE, *, rtol: float = 1e-6, atol: float = 1e-8,
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
    return _judged(name, result, verdicts.close(rtol, atol), expected)


def value(name: str, call: Callable[[], Any], expected: Any = _NONE, *, rtol: float = 1e-6, atol: float = 1e-8,
          inputs: Mapping[str, Any] | None = None, pure: bool | Sequence[str] = False) -> Any:
    """Like ``array`` for a single number (a loss, an accuracy)."""
    __tracebackhide__ = True
    result = run(name, call, inputs, pure)
    return _judged(name, result, verdicts.close(rtol, atol, scalar=True), expected)


def equal(name: str, call: Callable[[], Any], expected: Any = _NONE, inputs: Mapping[str, Any] | None = None,
          pure: bool | Sequence[str] = False) -> Any:
    """Check an exact result (labels, indices, counts, strings)."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    result = run(name, call, inputs, pure)
    return _judged(name, result, verdicts.equal(), expected)


def gradients(name: str, analytic: Mapping[str, Any] | Any, numeric: Any = _NONE, *, tol: float = 1e-6) -> Any:
    """Compare the student's gradients with the expected ones, parameter by parameter.

    Inputs:
    - analytic: parameter name -> the student's gradient (or a single array).
    - numeric: parameter name -> the expected gradient (numerical, ``cs231n.gradient_check``, or written
      in the cell); hidden checks leave it out.
    - tol: the largest relative error accepted.

    The message names every parameter whose gradient is wrong, so a bug in one of them is easy to find.
    """
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    return _judged(name, analytic, verdicts.rel_error(tol), numeric)


def returned(name: str, result: Any, keys: Sequence[str], prefix: str = "d") -> dict:
    """A function's returned tuple (or dict) as a dict by ``keys`` (a single key: the result itself), or a
    failure that says what the function must return (``prefix`` + each key: "dx", "dw" for gradients)."""
    __tracebackhide__ = True
    if isinstance(result, dict) and all(k in result for k in keys):
        return {k: result[k] for k in keys}
    if len(keys) == 1 and not isinstance(result, tuple):
        return {keys[0]: result}
    if not (isinstance(result, tuple | list) and len(result) == len(keys)):
        _fail(name, f"must return a tuple of {len(keys)}: ({', '.join(prefix + k for k in keys)}); "
                    f"got {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, tuple | list) else ""))
    return dict(zip(keys, result, strict=True))


def backward_pass(name: str, forward: Callable[[], Any], backward: Callable[[Any], Any], documented: Any, *,
                  keys: Sequence[str], expected: Any = _NONE, rtol: float = 1e-7, atol: float = 1e-9) -> None:
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
        _judged(f"{name}, {label}", returned(name, result, keys), rule, expected)

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
    _judged(name, actual, verdicts.within(target, tol, why), _NONE)


def at_least(name: str, actual: Any, bound: float, why: str) -> None:
    """Check that a number (an accuracy, a speed-up) reaches a bound."""
    __tracebackhide__ = True
    _judged(name, actual, verdicts.at_least(bound, why), _NONE)


def at_most(name: str, actual: Any, bound: float, why: str) -> None:
    """Check that a number (a loss after overfitting, a memory peak) stays below a bound."""
    __tracebackhide__ = True
    _judged(name, actual, verdicts.at_most(bound, why), _NONE)


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
        _fail(name, str(exc) or "a condition does not hold.")
    _passed(name)


def either(name: str, *ways: tuple[str, Callable[[], Any]]) -> None:
    """Pass if any one of several ways of checking passes (each a ``(label, function)`` pair).

    Used where a correct answer may be written in more than one valid way, e.g. a backward pass given
    the cache of the student's own forward pass, or else the cache in the documented layout: a bug in
    the forward pass then costs no points in the backward test. Every way runs (the grader judges each
    one); a way that raises fails on its own.
    """
    __tracebackhide__ = True
    if _cell.way is not None:
        raise ValueError("checks.either cannot be nested")
    failures: list[tuple[str, BaseException]] = []
    for i, (label, way) in enumerate(ways):
        _cell.way = [name, i]
        try:
            way()
        except Exception as exc:  # noqa: BLE001 - a failing way is an outcome, not an error of the check
            failures.append((label, exc))
            observe(f"{name}: {label} raised", f"{type(exc).__name__}: {exc}", {"kind": "raised"})
        finally:
            _cell.way = None
    if len(failures) < len(ways):
        _passed(name)
        return
    if all(isinstance(exc, NotAttempted) for _, exc in failures):
        raise failures[0][1]
    _record(name, False)
    raise CheckFailed(verdicts.every_way_failed(name, [str(exc) for _, exc in failures]))


def supplied(name: str, make: Callable[[], T]) -> T:
    """An input made by the reference solution, e.g. a cache in the documented layout for a backward test.

    In a notebook ``make()`` runs. While grading, the grader computes it with the reference solution in
    its own process and hands the value in; ``make`` does not run in the student's process.
    """
    if _cell.mode == "grade":
        if name not in _cell.supplies_in:
            raise CheckFailed(f"{name}: the grader did not supply this input")
        return from_plain(json.loads(json.dumps(_cell.supplies_in[name])))
    plain = to_plain(make())
    if _cell.mode == "reference":
        _cell.supplies_out[name] = plain
    return from_plain(json.loads(json.dumps(plain)))


# -- properties of the source: judged on the notebook file ---------------------------------------------
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)


def source_problem(rule: dict, tree: ast.AST) -> str | None:
    """What a function's syntax tree breaks of a source rule (``no_loops``, ``not_using``), or None."""
    if rule["kind"] == "no_loops" and any(isinstance(node, _LOOPS) for node in ast.walk(tree)):
        return f"{rule['function']} must not use a Python loop (for, while or a comprehension)."
    if rule["kind"] == "not_using":
        used = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in rule["names"]}
                      | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in rule["names"]})
        if used:
            return f"{rule['function']} must not use {', '.join(used)}" + (f": {rule['why']}" if rule["why"] else ".")
    return None


def _source_rule(name: str, function: Callable, rule: dict) -> None:
    __tracebackhide__ = True
    observe(name, None, rule)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return  # judged by the grader on the notebook file
    problem = source_problem(rule, tree)
    if problem:
        _fail(name, problem)
    _passed(name)


def no_loops(function: Callable) -> None:
    """Check that a function has no Python loop (judged on the source the student wrote)."""
    __tracebackhide__ = True
    _source_rule(f"{function.__name__} has no loops", function, {"kind": "no_loops", "function": function.__name__})


def not_using(function: Callable, names: Sequence[str], why: str = "") -> None:
    """Check that a function's source does not use the given names (e.g. the fast layers in naive code)."""
    __tracebackhide__ = True
    _source_rule(f"{function.__name__} does not use {', '.join(names)}", function,
                 {"kind": "not_using", "function": function.__name__, "names": list(names), "why": why})


def summary() -> None:
    """Say how many visible checks of the section passed, and that hidden checks follow at grading."""
    s = _section
    ran = len(s.passed) + len(s.failed)
    total = s.total if s.total is not None else ran
    line = f"{s.name}: {len(s.passed)} of {total} visible checks passed" + ("" if s.total else " (those that ran)")
    if s.failed:
        line += f" (failing: {', '.join(sorted(s.failed))})"
    if total > ran:
        line += f"; {total - ran} not run yet"
    print(line + ". More checks with other inputs (hidden tests) run when your notebook is graded.")


#: Kept for notebooks written before ``cs231n.verdicts``.
diagnose = verdicts.diagnose
