"""The grader's verdict on a test cell, decided outside the student's process.

The grading kernel runs a test cell's checks on the student's code and hands out what they observed
(plain data, ``cs231n.plaindata``). ``judge_cell`` compares those observations with the ones the
reference solution produced for the same cell in a trusted run (``cs231n.grading.coordinator.reference``):

- the same observations, by name and in order (a test that stopped early, or observed other things,
  fails);
- each observation under the *reference's* rule (``cs231n.verdicts``) against the reference's
  expected value: the student's process chooses neither the rule nor the expected value;
- ``checks.either`` groups: one way whose observations all pass is enough;
- source rules (``no_loops``, ``not_using``) on the function as the student wrote it in the submitted
  notebook's answer cells, not as the kernel reports it;
- the cell's judge block (instructor code from the source notebook) over the student's observations.
"""

import builtins
import json
from collections.abc import Iterable
from typing import Any

import numpy as np

from ... import checks, verdicts
from ...notebook_cells import cell_source, is_answer_cell
from ...plaindata import from_plain
from .cells import function_tree

#: Largest observation text a test cell may hand to the grader (bytes of JSON).
MAX_OBSERVATION_BYTES = 64 * 1024 * 1024


SOURCE_RULES = frozenset({"no_loops", "not_using"})


def _value(rec: dict) -> Any:
    return from_plain(rec.get("value"))


def _compare(ref: list[dict], got: list[dict], answers: list[str]) -> str | None:
    """The first problem of ``got`` against ``ref`` (observations of one way), or None."""
    for i, r in enumerate(ref):
        name = r["name"]
        if i >= len(got):
            return f"{name}: not checked (the test stopped before it)."
        g = got[i]
        if g.get("name") != name:
            return f"{name}: not checked (the test observed '{g.get('name')}' instead)."
        if g.get("rule", {}).get("kind") == "raised":
            return f"{name}: not checked ({_value(g)})."
        if "unobservable" in g:
            return f"{name}: returned {g['unobservable']}, not numbers or arrays."
        rule = r["rule"]
        if rule["kind"] in SOURCE_RULES:
            problem = _source_verdict(rule, answers)
        else:
            if "expected" in r:  # the value the cell wrote (8 significant digits), else the reference's result
                problem = verdicts.judge(verdicts.for_written(rule), _value(g), from_plain(r["expected"]))
            else:
                problem = verdicts.judge(rule, _value(g), _value(r))
        if problem:
            return f"{name}: {problem}"
    if len(got) > len(ref):
        return f"{got[len(ref)].get('name')}: an observation the test does not make."
    return None


def _source_verdict(rule: dict, answers: list[str]) -> str | None:
    tree = function_tree(answers, rule["function"])
    if tree is None:
        return f"no definition of {rule['function']} was found in your answer cells."
    return checks.source_problem(rule, tree)


def _ways(records: Iterable[dict]) -> tuple[list[dict], dict[str, dict[int, list[dict]]]]:
    plain, groups = [], {}
    for rec in records:
        way = rec.get("way")
        if way is None:
            plain.append(rec)
        else:
            groups.setdefault(str(way[0]), {}).setdefault(int(way[1]), []).append(rec)
    return plain, groups


def run_judge(code: str, observations: list[dict], reference: list[dict] | None = None) -> str | None:
    """Run a judge block (instructor code) over the student's observations; the failure message or None.

    ``reference``: the reference run's observations of the cell (``checks.expected`` in the judge);
    None in the reference run itself, where they are the observations."""
    checks.begin_cell("judge")
    checks.observed = {rec["name"]: _value(rec) for rec in observations if "unobservable" not in rec}
    checks.expected = checks.observed if reference is None else {
        rec["name"]: from_plain(rec["expected"]) if "expected" in rec else _value(rec) for rec in reference}
    namespace = {"np": np, "checks": checks, "__builtins__": builtins}
    try:
        exec(compile(code, "<judge>", "exec"), namespace)  # noqa: S102 - the instructor's judge, on plain data
    except AssertionError as exc:
        return str(exc) or "a condition of the test does not hold."
    except Exception as exc:  # noqa: BLE001 - results the judge cannot read fail the test, never the grader
        return f"the results could not be checked ({type(exc).__name__}: {exc})."
    finally:
        checks.begin_cell("student")
    return None


def judge_cell(reference: dict, student: dict | None, answers: list[str]) -> str | None:
    """The grader's verdict on one test cell.

    Inputs:
    - reference: the cell's record from the reference run: ``observations`` (list of dicts with name,
      rule, value, way, and expected where the cell wrote one) and ``judge`` (code or None).
    - student: the observations the student's kernel handed out (``{"observations": [...]}``), or None.
    - answers: the sources of the submitted notebook's answer cells (for source rules).
    Returns:
    - None when the cell passes, else a message that names the check and never shows expected values.
    """
    got = (student or {}).get("observations")
    if not isinstance(got, list) or not all(isinstance(g, dict) for g in got):
        return "the test's results did not reach the grader."
    ref_plain, ref_groups = _ways(reference["observations"])
    got_plain, got_groups = _ways(got)
    problem = _compare(ref_plain, got_plain, answers)
    if problem:
        return problem
    for group, ways in ref_groups.items():
        problems = []
        for i, ref_way in sorted(ways.items()):
            problem = _compare(ref_way, got_groups.get(group, {}).get(i, []), answers)
            if problem is None:
                break
            problems.append(problem)
        else:
            return verdicts.every_way_failed(group, problems)
    if reference.get("judge"):
        return run_judge(reference["judge"], got, reference["observations"])
    return None


def answer_sources(cells: Iterable[dict]) -> list[str]:
    """The sources of a notebook's answer cells (nbgrader ``solution`` code cells), in order."""
    return [cell_source(cell) for cell in cells if is_answer_cell(cell)]


def parse_observations(text) -> dict | None:
    """The observations of a test cell from the kernel's proof (JSON text, size-bounded), or None."""
    if not isinstance(text, str) or len(text) > MAX_OBSERVATION_BYTES:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("observations"), list):
        return None
    return data
