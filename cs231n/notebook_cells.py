"""Reading notebook cells: their source, nbgrader metadata, kinds and roles, and marked blocks.

One place for what the kit's converters, tools, tests and benchmarks read from a notebook's cells. A
cell is a dict as in the notebook's JSON, or an nbformat ``NotebookNode`` (a dict too).

- **Source**: ``cell_source`` (a cell's text, whether stored as a string or a list of lines),
  ``without_magics`` (IPython magics and shell escapes blanked, for ``ast.parse``), ``parse_cell``.
- **nbgrader metadata**: ``nbgrader_metadata``, ``grade_id``, ``points``; the flags as questions:
  ``is_solution_cell``, ``is_answer_cell``, ``is_graded_code_cell``, ``is_instructor_cell``.
- **What a cell is**: ``kind`` as authored (answer, manual, test, task or plain: docs/AUTHORING.md) and
  ``cell_role`` while grading (test, given or student: docs/ARCHITECTURE.md).
- **Marked blocks**: nbgrader's ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` regions
  (``strip_solution_markers``, ``hidden_tests``, ``without_hidden_tests``, ``holds_hidden_tests``),
  and the kit's own line-exact blocks (``marked_blocks``: judge and expected-value blocks).

Only the standard library: the student-facing package imports this module in the student's kernel.
"""

import ast
import re
from collections.abc import Iterator

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

_SOLUTION_MARKER_LINE = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
_HIDDEN_TESTS = re.compile(f"{re.escape(BEGIN_HIDDEN)}(.*?){re.escape(END_HIDDEN)}", re.S)
_MAGIC_LINE = re.compile(r"^\s*[%!]")


class CellFormatError(ValueError):
    """A cell whose block markers do not pair up."""


# -- source --------------------------------------------------------------------------------------------
def cell_source(cell: dict) -> str:
    """The cell's source as one string (notebooks store it as a string or as a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def without_magics(text: str) -> str:
    """The source with every IPython magic (``%...``) and shell escape (``!...``) line blanked, so that
    ``ast.parse`` reads it (line numbers kept)."""
    return "\n".join("" if _MAGIC_LINE.match(line) else line for line in text.splitlines())


def parse_cell(text: str) -> ast.Module | None:
    """The syntax tree of a code cell's source (magics blanked), or None when it does not parse."""
    try:
        return ast.parse(without_magics(text))
    except SyntaxError:
        return None


# -- nbgrader metadata ---------------------------------------------------------------------------------
def nbgrader_metadata(cell: dict) -> dict:
    """The cell's nbgrader metadata (``metadata.nbgrader``); an empty dict when it has none, or when
    the cell or its metadata is malformed (submitted notebooks are not trusted)."""
    metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: dict) -> str | None:
    """The cell's nbgrader ``grade_id``, or None."""
    return nbgrader_metadata(cell).get("grade_id")


def points(cell: dict) -> object:
    """The cell's nbgrader ``points`` as stored (None when absent)."""
    return nbgrader_metadata(cell).get("points")


def is_solution_cell(cell: dict) -> bool:
    """Whether nbgrader marks the cell as a solution: a code answer or a manually graded answer."""
    return bool(nbgrader_metadata(cell).get("solution"))


def is_answer_cell(cell: dict) -> bool:
    """Whether the cell is a code cell that students write in (an nbgrader ``solution`` code cell)."""
    return cell.get("cell_type") == "code" and is_solution_cell(cell)


def is_graded_code_cell(cell: dict) -> bool:
    """Whether the cell is a code cell with nbgrader points (a test cell)."""
    return cell.get("cell_type") == "code" and bool(nbgrader_metadata(cell).get("grade"))


def is_instructor_cell(cell: dict) -> bool:
    """Cells nbgrader keeps track of: answer cells, test cells, locked given cells, manual answers."""
    meta = nbgrader_metadata(cell)
    return bool(meta.get("grade_id")) and bool(meta.get("solution") or meta.get("grade") or meta.get("locked"))


# -- what a cell is ------------------------------------------------------------------------------------
def kind(cell: dict) -> str:
    """The cell's kind as authored: 'answer' (autograded code), 'manual' (graded free text), 'test',
    'task' or 'plain' (no nbgrader role)."""
    meta = nbgrader_metadata(cell)
    if not meta:
        return "plain"
    if meta.get("task"):
        return "task"
    if meta.get("solution") and meta.get("grade"):
        return "manual"
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "plain"


def cell_role(cell: dict) -> str:
    """"test" (a locked test cell), "given" (locked instructor code) or "student" (anything else).

    Read after nbgrader's sanitising step: a locked cell with a grade_id has the instructor's source
    (OverwriteCells), a duplicated cell has lost its metadata (DeduplicateIds), and a cell whose
    grade_id is unknown to the gradebook has lost its grade_id.
    """
    meta = nbgrader_metadata(cell)
    if cell.get("cell_type") != "code" or meta.get("solution") or not meta.get("grade_id"):
        return "student"
    if meta.get("grade"):
        return "test"
    return "given" if meta.get("locked") else "student"


# -- nbgrader's marked regions -------------------------------------------------------------------------
def strip_solution_markers(text: str) -> str:
    """The instructor's solution as a student would have typed it: the solution marker lines removed."""
    return _SOLUTION_MARKER_LINE.sub("", text)


def hidden_tests(text: str) -> list[str]:
    """The text between each ``### BEGIN HIDDEN TESTS`` and the next ``### END HIDDEN TESTS``."""
    return _HIDDEN_TESTS.findall(text)


def without_hidden_tests(text: str) -> str:
    """The source without its hidden tests (markers included)."""
    return _HIDDEN_TESTS.sub("", text)


def holds_hidden_tests(cell: dict) -> bool:
    """Whether the cell is a code cell with a ``### BEGIN HIDDEN TESTS`` marker."""
    return cell.get("cell_type") == "code" and BEGIN_HIDDEN in cell_source(cell)


# -- the kit's line-exact blocks -----------------------------------------------------------------------
def marked_blocks(text: str, begin: str, end: str) -> Iterator[tuple[int, int, list[str]]]:
    """Yield (begin line, end line, the lines between) of every block between a ``begin`` and an ``end``
    marker line (lines counted from 0). A begin marker must start a line at the left margin.

    Raises CellFormatError when the markers do not pair up (when the iteration reaches the fault).
    """
    lines, start = text.splitlines(), None
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == begin:
            if start is not None or line != line.lstrip():
                raise CellFormatError(f"'{begin}' must start a line at the left margin, outside any block")
            start = i
        elif marker == end:
            if start is None:
                raise CellFormatError(f"'{end}' without '{begin}'")
            yield start, i, lines[start + 1:i]
            start = None
    if start is not None:
        raise CellFormatError(f"'{begin}' without '{end}'")
