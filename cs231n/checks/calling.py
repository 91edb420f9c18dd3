"""Calling the student's code from a check: the release stub becomes a "not attempted" message, inputs
changed in place get their values back, stand-ins replace graded callees, several valid ways of checking
(``either``), and inputs that only the reference solution makes (``supplied``)."""

import functools
import json
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

import numpy as np

from .. import verdicts
from ..check_messages import CheckFailed, NotAttempted, short_traceback
from ..plaindata import from_plain, to_plain
from .observations import judged, observe, passed, record, running_cell


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
        record(name, False)
        raise NotAttempted(
            f"{name}: not attempted yet (it still raises NotImplementedError). Replace the "
            f"'raise NotImplementedError()' line with your code, run that cell, then run this check again."
        ) from None
    except Exception as exc:
        _restore(inputs, before, {})
        record(name, False)
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
        judged(f"{name} leaves {key} unchanged", after[key], verdicts.equal(), before[key])
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


def either(name: str, *ways: tuple[str, Callable[[], Any]]) -> None:
    """Pass if any one of several ways of checking passes (each a ``(label, function)`` pair).

    Used where a correct answer may be written in more than one valid way, e.g. a backward pass given
    the cache of the student's own forward pass, or else the cache in the documented layout: a bug in
    the forward pass then costs no points in the backward test. Every way runs (the grader judges each
    one); a way that raises fails on its own.
    """
    __tracebackhide__ = True
    cell = running_cell()
    if cell.way is not None:
        raise ValueError("checks.either cannot be nested")
    failures: list[tuple[str, BaseException]] = []
    for i, (label, way) in enumerate(ways):
        cell.way = [name, i]
        try:
            way()
        except Exception as exc:  # noqa: BLE001 - a failing way is an outcome, not an error of the check
            failures.append((label, exc))
            observe(f"{name}: {label} raised", f"{type(exc).__name__}: {exc}", {"kind": "raised"})
        finally:
            cell.way = None
    if len(failures) < len(ways):
        passed(name)
        return
    if all(isinstance(exc, NotAttempted) for _, exc in failures):
        raise failures[0][1]
    record(name, False)
    raise CheckFailed(verdicts.every_way_failed(name, [str(exc) for _, exc in failures]))


def supplied(name: str, make: Callable[[], T]) -> T:
    """An input made by the reference solution, e.g. a cache in the documented layout for a backward test.

    In a notebook ``make()`` runs. While grading, the grader computes it with the reference solution in
    its own process and hands the value in; ``make`` does not run in the student's process.
    """
    cell = running_cell()
    if cell.mode == "grade":
        if name not in cell.supplies_in:
            raise CheckFailed(f"{name}: the grader did not supply this input")
        return from_plain(json.loads(json.dumps(cell.supplies_in[name])))
    plain = to_plain(make())
    if cell.mode == "reference":
        cell.supplies_out[name] = plain
    return from_plain(json.loads(json.dumps(plain)))
