"""Feedback that never shows a hidden test.

nbgrader's feedback HTML shows the autograded notebook as it ran, hidden tests and their tracebacks
included. ``HideHiddenTests`` replaces, in the feedback only, the source of every cell that holds a
hidden test with a one-line placeholder and its outputs with a one-line verdict that names no value,
line or expression from the test. The autograded notebook that instructors see keeps everything.
"""

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .outcomes import CELL_TIMEOUT, DEAD_KERNEL, NOT_RUN

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"


def holds_hidden_test(cell: NotebookNode) -> bool:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return cell.get("cell_type") == "code" and BEGIN_HIDDEN in source


def verdict(cell: NotebookNode) -> str:
    """'passed', or why not, in words that reveal nothing of the test."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return "Hidden tests: passed."
    ename = errors[0].get("ename", "Error")
    if ename == "NotImplementedError":
        return "Hidden tests: failed (the function is not implemented yet)."
    if ename in (NOT_RUN, DEAD_KERNEL, CELL_TIMEOUT):
        return f"Hidden tests: not run ({ename})."
    return f"Hidden tests: failed ({ename})."


class HideHiddenTests(NbGraderPreprocessor):
    """Blank the source and outputs of hidden-test cells in feedback."""

    def preprocess_cell(self, cell, resources, index):
        if holds_hidden_test(cell):
            points = cell.get("metadata", {}).get("nbgrader", {}).get("points")
            worth = f" ({points:g} points)" if isinstance(points, int | float) else ""
            cell.source = f"# Hidden tests{worth}: run at grading time; their code is not shown."
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=verdict(cell) + "\n")]
        return cell, resources
