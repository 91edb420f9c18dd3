"""Feedback that never shows a hidden test, and says how the notebook was graded.

nbgrader's feedback HTML shows the autograded notebook as it ran, hidden tests and their tracebacks
included. ``HideHiddenTests`` replaces, in the feedback only, the source of every cell that holds a
hidden test with a one-line placeholder and its outputs with a one-line verdict that names no value,
line or expression from the test. The autograded notebook that instructors see keeps everything.
``NoteGrading`` puts a short note at the top: how the tests were decided and the isolation the
grading kernel had (recorded by ``RobustExecute`` in the notebook's metadata).
"""

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from ...notebook_cells import holds_hidden_tests, points
from ..outcomes import CHECK_FAILED, NEVER_RAN, NOT_IMPLEMENTED


def verdict(cell: NotebookNode) -> str:
    """'passed', or why not, in one line that shows no code, value or expression of the test: a failed
    check's own message (the checks word theirs so that they never print an expected value), else the
    kind of error."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return "Hidden tests: passed."
    ename = errors[0].get("ename", "Error")
    if ename in NOT_IMPLEMENTED:
        return "Hidden tests: failed (the function is not implemented yet)."
    if ename in NEVER_RAN:
        return f"Hidden tests: not run ({ename})."
    if ename == CHECK_FAILED:
        message = str(errors[0].get("evalue", "")).strip().splitlines()
        if message:
            return f"Hidden tests: failed: {message[0][:240]}"
    return f"Hidden tests: failed ({ename})."


def worth(points: object) -> str:
    """' (1 point)', ' (2.5 points)', or '' when the cell has no points."""
    if not isinstance(points, int | float):
        return ""
    return f" ({points:g} point{'' if points == 1 else 's'})"


class HideHiddenTests(NbGraderPreprocessor):
    """Blank the source and outputs of hidden-test cells in feedback."""

    def preprocess_cell(self, cell, resources, index):
        if holds_hidden_tests(cell):
            cell.source = f"# Hidden tests{worth(points(cell))}: run at grading time; their code is not shown."
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=verdict(cell) + "\n")]
        return cell, resources


def grading_note(nb: NotebookNode) -> str:
    """The note at the top of a notebook's feedback (Markdown)."""
    info = nb.get("metadata", {}).get("cs231n", {}).get("isolation") or {}
    level = info.get("isolation", "unknown")
    if level == "full":
        where = ("in an isolated grading kernel (its own read-only view of the machine, no network, no other "
                 "processes, an unprivileged user)")
    else:
        where = f"in a grading kernel with **{level} isolation** ({info.get('reason') or 'not recorded'})"
    meta = nb.get("metadata", {}).get("cs231n", {})
    if meta.get("not_graded"):
        return f"**This notebook was not graded:** {meta['not_graded']}. Its tests score 0."
    note = ("**How this notebook was graded.** Your code ran " + where + ". Each test's result was decided "
            "outside your notebook's process, by comparing what your code computed with what the reference "
            "solution computes on the same inputs.")
    problems = meta.get("problems") or []
    if problems:
        note += "\n\n**Noted while grading:** " + "; ".join(map(str, problems)) + "."
    return note


class NoteGrading(NbGraderPreprocessor):
    """Add the grading note as the first cell of the feedback."""

    def preprocess(self, nb, resources):
        cell = NotebookNode(cell_type="markdown", metadata={}, source=grading_note(nb))
        nb.cells.insert(0, cell)
        return nb, resources
