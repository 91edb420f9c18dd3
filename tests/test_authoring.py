"""Authoring tools: the notebook lint, the percent format, sibling imports and budgets."""

import json
from pathlib import Path

import numpy as np
import pytest

from cs231n.budget import budget, grading_mode
from cs231n.grading.tools import lint, percent
from cs231n.grading.tools.simulate import fill_answers, solution_sources
from cs231n.notebook_cells import BEGIN_SOLUTION, cell_source, strip_solution_markers
from cs231n.notebook_import import NotebookImportError, from_notebook, load_notebook

ROOT = Path(__file__).resolve().parents[1]

GOOD = """# %% md
# Title
# %% code
import numpy as np
from cs231n import checks
np.random.seed(0)
# %% answer: square
def square(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION

LIMIT = 3
print("side effect")
# %% test: square_visible points=1
### BEGIN EXPECTED
nine = 9
### END EXPECTED
checks.value("square(3)", lambda: square(3), nine)
# %% test: square_hidden points=2
### BEGIN HIDDEN TESTS
checks.value("square(4)", lambda: square(4))
checks.observe("squares", [square(v) for v in range(3)])
### BEGIN JUDGE
checks.require(checks.observed["squares"] == checks.expected["squares"], "wrong squares")
### END JUDGE
### END HIDDEN TESTS
# %% manual: question_one points=1
**Answer:**
### BEGIN SOLUTION
Because.
### END SOLUTION
"""

VISIBLE = '### BEGIN EXPECTED\nnine = 9\n### END EXPECTED\nchecks.value("square(3)", lambda: square(3), nine)\n'
HIDDEN_CHECK = 'checks.value("square(4)", lambda: square(4))\n'


def build(tmp_path: Path, text: str, name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    percent.write_notebook(percent.from_text(text), path)
    return path


def test_every_source_notebook_passes_the_lint():
    notebooks = lint.source_notebooks(ROOT)
    assert notebooks, "no source notebooks found"
    problems = [str(p) for nb in notebooks for p in lint.lint_notebook(nb)]
    assert problems == []


def test_lint_accepts_a_good_notebook(tmp_path):
    assert lint.lint_notebook(build(tmp_path, GOOD)) == []


@pytest.mark.parametrize(
    ("edit", "phrase"),
    [
        (lambda t: t.replace("# %% test: square_visible points=1\n" + VISIBLE, ""), "visible tests"),
        (lambda t: t.replace("square_hidden", "square_visible"), "duplicate grade_id"),
        (lambda t: t.replace("    ### END SOLUTION\n\nLIMIT", "\nLIMIT"), "matching"),
        (lambda t: t.replace("### END HIDDEN TESTS\n", "### END HIDDEN TESTS\nx = 1\n"), "own cell"),
        (lambda t: t.replace(VISIBLE, VISIBLE + "0.5\n"), "partial credit"),
        (lambda t: t.replace("np.random.seed(0)", "x = np.random.randn(3)"), "seed"),
        (lambda t: t.replace("square_visible points=1", "SquareVisible points=1"), "snake_case"),
        (lambda t: t.replace("# %% test: square_visible points=1", "# %% test: square_visible points=0"), "points"),
        (lambda t: t.replace("# %% test: square_visible points=1\n" + VISIBLE, "").replace(
            t[t.index("# %% test: square_hidden"):t.index("# %% manual")], ""), "not followed by a test"),
        (lambda t: t + "# %% code\nfor it in range(budget_free):\n    num_iters = 10\n", "budget"),
        # trusted grading: the kernel only observes; expected values, asserts and reference code stay out
        (lambda t: t.replace(VISIBLE, VISIBLE + "assert square(3) == 9\n"), "asserts belong in a judge block"),
        (lambda t: t.replace(", nine)", ", 9)"), "must be a name bound in a ### BEGIN EXPECTED block"),
        (lambda t: t.replace(HIDDEN_CHECK, "_expected = 16\n" + HIDDEN_CHECK), "compute no expected values"),
        (lambda t: t.replace(VISIBLE, "x = square(3)\n"), "observes nothing"),
        (lambda t: t.replace('"wrong squares")', '"wrong squares" + str(LIMIT))'), "the judge block uses LIMIT"),
        (lambda t: t.replace(VISIBLE, VISIBLE + "checks.observe('s', square(3))\n### BEGIN JUDGE\n"
                                               "checks.require(checks.observed['s'] == checks.expected['s'], 'x')\n"
                                               "### END JUDGE\n"), "checks.expected in a visible test"),
        (lambda t: t.replace(VISIBLE, VISIBLE + "checks.holds('h', lambda: None)\n"), "checks.holds belongs"),
        (lambda t: t.replace("### END JUDGE\n", ""), "without"),
        # readable expected values: 8 significant digits, large arrays in expected/<notebook>.json
        (lambda t: t.replace("nine = 9\n", "nine = 9.0000000001\n"), "more than 8 significant digits"),
        (lambda t: t.replace("LIMIT = 3", "LIMIT = 0.333333333333"), "more than 8 significant digits"),
        (lambda t: t.replace("nine = 9\n", f"nine = 9\nrow = np.array([{list(range(7))}, {list(range(6))}])\n"),
         "an expected array of 13 numbers written inline"),
    ],
)
def test_lint_catches_broken_notebooks(tmp_path, edit, phrase):
    problems = lint.lint_notebook(build(tmp_path, edit(GOOD)))
    assert any(phrase in str(p) for p in problems), [str(p) for p in problems]


def test_lint_counts_observing_helpers_imported_from_given(tmp_path):
    """A test cell may observe through a helper of the assignment's given/ modules, imported by a given cell;
    a given helper that calls no check does not count."""
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "__init__.py").write_text("")
    (tmp_path / "given" / "helpers.py").write_text(
        "from cs231n import checks\n\n\ndef check_square(name, call, expected=checks.WITHHELD):\n"
        "    checks.value(name, call, expected)\n\n\ndef quiet(call):\n    return call()\n")

    def uses(helper):
        return GOOD.replace("np.random.seed(0)\n", f"np.random.seed(0)\nfrom given.helpers import {helper}\n")

    observing = uses("check_square").replace('checks.value("square(3)", lambda: square(3), nine)',
                                             'check_square("square(3)", lambda: square(3), nine)')
    assert lint.lint_notebook(build(tmp_path, observing)) == []
    silent = uses("quiet").replace('checks.value("square(3)", lambda: square(3), nine)', "quiet(lambda: square(3))")
    assert any("observes nothing" in str(p) for p in lint.lint_notebook(build(tmp_path, silent)))


def test_lint_accepts_small_inline_arrays_and_loaded_ones(tmp_path):
    text = GOOD.replace("nine = 9\n", 'expected_values = checks.load_expected("expected/nb.json")\nnine = 9\n'
                        "row = np.array([0.12345678, 1e-05, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])\n"
                        'big = expected_values["big"]\n')
    text = text.replace("LIMIT = 3", f"LIMIT = np.array({list(range(20))})  # not an expected value")
    assert lint.lint_notebook(build(tmp_path, text)) == []


def test_readable_rounds_and_moves_expected_arrays(tmp_path):
    from cs231n.grading.tools import readable

    row = ", ".join(["0.123456789012"] * 7)
    text = GOOD.replace("nine = 9\n", f"nine = 9.00000000012\ngrads = {{'W': np.array([{row},\n"
                        f"                         {row}]).reshape(7, 2), 'b': np.array([1.0, 2.0])}}\n")
    path = build(tmp_path, text)
    assert readable.convert_notebook(path) == {"rounded": 15, "moved": 1, "inputs": []}
    assert lint.lint_notebook(path) == []
    source = cell_source(json.loads(path.read_text())["cells"][3])
    assert 'expected_values = checks.load_expected("expected/nb.json")' in source
    assert "nine = 9.0\n" in source and """'W': expected_values["grads.W"]""" in source
    stored = json.loads((tmp_path / "expected" / "nb.json").read_text())
    assert np.array(stored["grads.W"]).shape == (7, 2) and stored["grads.W"][0][0] == 0.12345679
    before = path.read_text()
    readable.convert_notebook(path)
    assert path.read_text() == before, "converting again changes nothing"


def test_lint_catches_committed_outputs(tmp_path):
    path = build(tmp_path, GOOD)
    nb = json.loads(path.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    path.write_text(json.dumps(nb))
    assert any("outputs" in str(p) for p in lint.lint_notebook(path))
    assert lint.main([str(path)]) == 1


def test_percent_round_trip():
    nb = percent.from_text(GOOD)
    assert percent.from_text(percent.to_text(nb)) == nb
    kinds = [lint.kind(c) for c in nb["cells"]]
    assert kinds == ["plain", "plain", "answer", "test", "test", "manual"]


def test_simulated_reference_fills_answer_cells_without_markers(tmp_path):
    nb = percent.from_text(GOOD)
    answers = solution_sources(nb)
    assert BEGIN_SOLUTION not in answers["square"] and "return x * x" in answers["square"]
    release = percent.from_text(GOOD.replace("    return x * x\n", "    raise NotImplementedError()\n"))
    filled = fill_answers(release, answers)
    assert "return x * x" in cell_source(filled["cells"][2])
    assert strip_solution_markers("a\n  ### BEGIN SOLUTION\nb\n  ### END SOLUTION\n") == "a\nb\n"


def test_load_notebook_keeps_definitions_only(tmp_path, monkeypatch, capsys):
    build(tmp_path, GOOD, "first.ipynb")
    monkeypatch.chdir(tmp_path)
    mod = load_notebook("first.ipynb")
    assert mod.square(5) == 25 and mod.LIMIT == 3
    assert capsys.readouterr().out == ""  # the print in the answer cell did not run


def test_from_notebook_binds_names_in_the_caller_and_stands_in_for_missing_ones(tmp_path, monkeypatch, capsys):
    build(tmp_path, GOOD, "first.ipynb")
    monkeypatch.chdir(tmp_path)
    namespace = {"from_notebook": from_notebook}
    exec('from_notebook("first.ipynb", "square", "LIMIT", "cube")', namespace)
    assert namespace["square"](5) == 25 and namespace["LIMIT"] == 3
    assert "Not loaded from first.ipynb: cube. first.ipynb does not define cube" in capsys.readouterr().out
    with pytest.raises(NotebookImportError, match="cube is not available here: first.ipynb does not define cube"):
        namespace["cube"](2)
    exec('from_notebook("gone.ipynb", "square")', namespace)
    assert "Not loaded from gone.ipynb: square. gone.ipynb was not found" in capsys.readouterr().out
    with pytest.raises(NotebookImportError, match="square is not available here: gone.ipynb was not found"):
        namespace["square"](2)
    assert NotebookImportError("x")._render_traceback_()[-1].endswith("x"), "IPython shows the message alone"


def test_load_notebook_using_definitions_of_the_caller(tmp_path, monkeypatch):
    """A sibling whose cells hold only a stub of a function runs with the caller's version of it."""
    text = GOOD + "# %% answer: twice_square\ndef twice_square(x):\n    return 2 * square(x)\n"
    build(tmp_path, text.replace("    return x * x\n", "    raise NotImplementedError()\n"), "stubbed.ipynb")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotImplementedError):
        load_notebook("stubbed.ipynb").twice_square(3)
    assert load_notebook("stubbed.ipynb", using={"square": lambda x: x * x}).twice_square(3) == 18


def test_load_notebook_errors_name_notebook_and_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotebookImportError, match="missing.ipynb was not found"):
        load_notebook("missing.ipynb")
    build(tmp_path, GOOD.replace("return x * x", "return x *"), "broken.ipynb")
    mod = load_notebook("broken.ipynb")
    assert "broken.ipynb, cell 3 ('square') has a syntax error" in capsys.readouterr().out
    with pytest.raises(NotebookImportError, match=r"square is not defined by broken.ipynb: .*cell 3"):
        mod.square(2)
    build(tmp_path, GOOD.replace("def square(x):", "@undefined_decorator\ndef square(x):"), "fails.ipynb")
    load_notebook("fails.ipynb")
    assert "fails.ipynb, cell 3 ('square') failed while loading: NameError" in capsys.readouterr().out


def test_one_broken_cell_leaves_the_others_usable(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = GOOD + "# %% answer: cube\ndef cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION\n"
    text += "# %% test: cube_visible points=1\nassert cube(2) == 8\n"
    build(tmp_path, text.replace("return x * x", "return x *"), "partly.ipynb")
    mod = load_notebook("partly.ipynb")
    assert mod.cube(2) == 8
    assert capsys.readouterr().out.count("Note:") == 1


def test_budget_follows_nbgrader_execution(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("CS231N_BUDGET", raising=False)
    assert budget(full=100, autograde=5) == 100 and grading_mode() is None
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert budget(full=100, autograde=5) == 5
    monkeypatch.setenv("CS231N_BUDGET", "full")
    assert budget(full=100, autograde=5) == 100
