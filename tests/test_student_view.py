"""What a student sees when a check fails: one short message, no frames of the kit's code.

Notebooks run headless as a student runs them (a plain Jupyter kernel, student mode), reading only the
error outputs the notebook front end would show.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cs231n.grading.tools import course as C
from cs231n.notebook_cells import nbgrader_metadata

ROOT = Path(__file__).resolve().parents[1]
KIT_FRAMES = re.compile(r"cs231n[/\\](checks|check_messages|verdicts|plaindata)\.py|cs231n[/\\]grading[/\\]")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def shown(output: dict) -> list[str]:
    """The lines of an error output as the notebook shows them (colours removed)."""
    return ANSI.sub("", "\n".join(output["traceback"])).splitlines()


def errors(nb: nbformat.NotebookNode) -> list[tuple[dict, dict]]:
    return [(nbgrader_metadata(cell), out) for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.output_type == "error"]


@pytest.fixture(scope="module")
def untouched_svm(tmp_path_factory):
    course = C.prepare_course(ROOT, tmp_path_factory.mktemp("view") / "course", ["assignment1"], ["svm"])
    C.generate(course, "assignment1")
    folder = course / "release" / "assignment1"
    return run(nbformat.read(folder / "svm.ipynb", as_version=4), folder)


@pytest.mark.slow
def test_failing_checks_of_an_untouched_notebook_show_one_short_message(untouched_svm):
    graded = [(meta, out) for meta, out in errors(untouched_svm) if meta.get("grade")]
    assert len(graded) >= 5, "the untouched release should fail its visible checks"
    for meta, out in graded:
        lines = shown(out)
        assert len(lines) <= 5, f"{meta.get('grade_id')}: {len(lines)} lines:\n" + "\n".join(lines)
        assert max(map(len, lines)) <= 80, "nbgrader validate cuts lines at about 80 columns"
        assert not KIT_FRAMES.search("\n".join(lines)), meta.get("grade_id")
        assert out["ename"] in ("NotAttempted", "CheckFailed"), (meta.get("grade_id"), out["ename"])


@pytest.mark.slow
def test_a_cell_that_reaches_a_stub_names_the_function_to_write(untouched_svm):
    stubs = [out for _, out in errors(untouched_svm) if out["ename"] == "NotImplementedError"]
    assert stubs
    for out in stubs:
        lines = shown(out)
        assert len(lines) <= 8 and not KIT_FRAMES.search("\n".join(lines)), "\n".join(lines)
        message = " ".join(line.strip() for line in lines)
        assert "not written yet" in message or "TODO is not done yet" in message, message
    assert any(shown(out)[0].startswith("NotImplementedError: svm_loss_naive is not written yet") for out in stubs)


@pytest.mark.slow
def test_cells_after_unfinished_work_say_what_to_finish_first(untouched_svm):
    """Given cells that use what an unfinished TODO sets (a name it defines, a model it leaves None) end
    with one message about that TODO, not a traceback through the notebook."""
    seen = set()
    for _, out in errors(untouched_svm):
        lines = shown(out)
        assert len(lines) <= 8 and not KIT_FRAMES.search("\n".join(lines)), "\n".join(lines)
        message = " ".join(line.strip() for line in lines)
        if out["ename"] == "NameError":
            assert "has not run in this session" in message, message
        elif out["ename"] == "AttributeError":
            assert message.startswith("AttributeError: not attempted yet: best_svm is still None"), message
        else:
            assert out["ename"] in ("NotAttempted", "CheckFailed", "NotImplementedError"), out["ename"]
        seen.add(out["ename"])
    assert {"NameError", "AttributeError"} <= seen, seen


def test_an_error_in_the_students_code_shows_their_frame_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import numpy as np\nfrom cs231n import checks",
        "def scores(x):\n    first = x[0]\n    return x[10] + first  # a bug: index out of range",
        "checks.array('scores', lambda: scores(np.ones(3)), np.ones(3))",
        "checks.array('twice', lambda: 2 * np.ones(3), np.ones(3))",
    )]
    out = errors(run(nb, tmp_path))
    bug = shown(out[0][1])
    assert bug[0].startswith("Traceback (your code")
    assert any("return x[10] + first" in line for line in bug), bug
    assert any(line.startswith("  Cell In[") for line in bug)
    assert not KIT_FRAMES.search("\n".join(bug)) and len(bug) <= 8, bug
    assert bug[-2].startswith("IndexError") and "while checking scores" in bug[-1], bug
    twice = shown(out[1][1])
    assert " ".join(line.strip() for line in twice) == (
        "CheckFailed: twice: is right up to a constant factor (every entry larger by the same factor). Check what "
        "scales it: averaging over the batch, a factor of 2, a momentum, a regularisation strength.")
    assert max(map(len, twice)) <= 80, twice
