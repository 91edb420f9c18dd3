"""cs231n.notebook_cells: the one reader of notebook cells (source, nbgrader metadata, roles, blocks)."""

import subprocess
import sys

import pytest

from cs231n.notebook_cells import (
    CellFormatError,
    cell_role,
    cell_source,
    grade_id,
    hidden_tests,
    holds_hidden_tests,
    is_answer_cell,
    kind,
    marked_blocks,
    nbgrader_metadata,
    parse_cell,
    strip_solution_markers,
    without_hidden_tests,
)


def cell(cell_type: str = "code", source="", **meta) -> dict:
    return {"cell_type": cell_type, "source": source, "metadata": {"nbgrader": meta} if meta else {}}


def test_source_as_a_string_or_a_list_of_lines():
    assert cell_source(cell(source="a\nb")) == cell_source(cell(source=["a\n", "b"])) == "a\nb"
    assert cell_source({"cell_type": "code"}) == ""


def test_metadata_of_malformed_cells_is_empty():
    for bad in ({"metadata": []}, {"metadata": {"nbgrader": "x"}}, "not a cell", {}):
        assert nbgrader_metadata(bad) == {} and grade_id(bad) is None
    assert grade_id(cell(grade_id="f_visible", grade=True)) == "f_visible"


@pytest.mark.parametrize("c, authored, graded", [
    (cell(grade_id="f", solution=True, grade=False), "answer", "student"),
    (cell(grade_id="t", grade=True, locked=True, points=1), "test", "test"),
    (cell(grade_id="g", locked=True), "plain", "given"),
    (cell("markdown", grade_id="q", solution=True, grade=True, points=2), "manual", "student"),
    (cell("markdown", grade_id="k", task=True, locked=True, points=2), "task", "student"),
    (cell(), "plain", "student"),
])
def test_kind_as_authored_and_role_while_grading(c, authored, graded):
    assert kind(c) == authored and cell_role(c) == graded
    assert is_answer_cell(c) == (authored == "answer")


def test_solution_markers_and_hidden_tests():
    answer = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert strip_solution_markers(answer) == "def f(x):\n    return x\n"
    test = "check(f)\n### BEGIN HIDDEN TESTS\nsecret(f)\n### END HIDDEN TESTS\n"
    assert hidden_tests(test) == ["\nsecret(f)\n"]
    assert without_hidden_tests(test) == "check(f)\n\n"
    assert holds_hidden_tests(cell(source=test)) and not holds_hidden_tests(cell("markdown", test))


def test_marked_blocks_pair_up_or_fail():
    text = "a\n### BEGIN X\nb\nc\n### END X\nd"
    assert list(marked_blocks(text, "### BEGIN X", "### END X")) == [(1, 4, ["b", "c"])]
    for bad in ("### END X", "### BEGIN X\n", "  ### BEGIN X\n### END X"):
        with pytest.raises(CellFormatError):
            list(marked_blocks(bad, "### BEGIN X", "### END X"))


def test_magics_do_not_stop_parsing():
    assert parse_cell("%timeit f()\n!ls\nx = 1") is not None
    assert parse_cell("def (") is None


def test_the_student_package_can_import_it_without_nbgrader():
    code = "import sys, cs231n.notebook_cells, cs231n.notebook_import; print('nbgrader' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
