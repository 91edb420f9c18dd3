"""The running test cell: what its checks observed, how they are judged in a notebook, and what a
student sees of them (``[ok]`` lines, a failure's message, the section's count in ``checks.summary``).

A test cell starts with ``begin_cell`` (the grading kernel calls it, and IPython before every cell) and
the grading kernel collects its observations with ``finish_cell``. ``observed`` and ``expected`` are
new dicts for every cell: ``cs231n.checks`` always shows the running cell's.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import verdicts
from ..check_messages import CheckFailed, show_unfinished
from ..plaindata import NotPlainData, from_plain, to_plain
from .expected_values import withheld


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


def running_cell() -> _Cell:
    """The running test cell's state (its mode, records, supplies and the way of ``checks.either``)."""
    return _cell


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

#: No expected value: a hidden check, or a check that needs none.
NONE = object()


def observe(name: str, value: Any, rule: dict | None = None, expected: Any = NONE) -> Any:
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
    if _cell.mode == "reference" and expected is not NONE:
        rec["expected"] = to_plain(expected)
    _cell.records.append(rec)
    observed[name] = seen
    return seen


def judged(name: str, value: Any, rule: dict, expected: Any) -> Any:
    """Observe, then judge in the notebook when the expected value is known."""
    __tracebackhide__ = True
    if withheld(expected):
        expected = NONE
    seen = observe(name, value, rule, expected)
    if "unobservable" in _cell.records[-1]:
        fail(name, f"returned {_cell.records[-1]['unobservable']}, not numbers or arrays.")
    if expected is not NONE or rule["kind"] not in verdicts.NEEDS_EXPECTED:
        problem = (verdicts.judge(rule, seen, None) if expected is NONE
                   else verdicts.judge(verdicts.for_written(rule), seen, from_plain(to_plain(expected))))
        if problem:
            fail(name, problem)
        passed(name)
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


def record(name: str, ok: bool) -> None:
    """Count a check as passed or failed in the section."""
    if _cell.way is not None:
        return  # a way of checks.either: the either's outcome is what counts
    (_section.passed if ok else _section.failed).add(name)
    (_section.failed if ok else _section.passed).discard(name)


def fail(name: str, message: str) -> None:
    """Count the check as failed and raise ``CheckFailed`` with its message."""
    __tracebackhide__ = True  # IPython and pytest leave this helper's frame out of tracebacks
    record(name, False)
    raise CheckFailed(f"{name}: {message}")


def passed(name: str, detail: str = "") -> None:
    """Count the check as passed and say so (not in a judge block, nor for a way of ``checks.either``)."""
    record(name, True)
    if _cell.mode != "judge" and _cell.way is None:
        print(f"[ok] {name}" + (f": {detail}" if detail else ""))


def require(condition: Any, message: str) -> None:
    """In a judge block: fail the test with ``message`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise CheckFailed(message)


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
