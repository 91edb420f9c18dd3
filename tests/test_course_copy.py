"""The course tool: copying a course for a grading round (single notebooks bring the siblings they load),
simulated classes, and reading a round's grades from the gradebook the course configures."""

import json
import os
import sys
from pathlib import Path

import pytest

from cs231n.grading.tools import course as C
from cs231n.grading.tools.simulate import SIMULATED_SUBMISSIONS, Mutant, load_mutants, read_nb, solution_sources
from cs231n.notebook_cells import grade_id, is_graded_code_cell


def _notebook(path: Path, source: str) -> None:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_with_siblings_follows_load_notebook_transitively(tmp_path):
    _notebook(tmp_path / "a.ipynb", 'b = load_notebook("b.ipynb")\n')
    _notebook(tmp_path / "b.ipynb", "from_notebook('c.ipynb', 'f', 'g')")
    _notebook(tmp_path / "c.ipynb", "x = 1")
    _notebook(tmp_path / "d.ipynb", 'a = load_notebook("a.ipynb")')
    assert C.with_siblings(tmp_path, ["a"]) == {"a", "b", "c"}
    assert C.with_siblings(tmp_path, ["c"]) == {"c"}
    assert C.with_siblings(tmp_path, ["missing"]) == set()


def test_prepare_course_keeps_siblings_and_demo_class_mutates_only_the_chosen(tmp_path):
    root = C.repo_root()
    course = C.prepare_course(root, tmp_path / "course", ["assignment3"], ["LSTM_Captioning"])
    assert sorted(p.stem for p in (course / "assignment3").glob("*.ipynb")) == ["LSTM_Captioning", "RNN_Captioning"]
    assert (course / "assignment3" / "given" / "layers.py").is_file()
    students = C.demo_class(course, "assignment3", all_mutants=True, only=["LSTM_Captioning"])
    mutated = {m.notebook for s in students if s.mutants for m in s.mutants}
    assert mutated == {"LSTM_Captioning"}


def _changes(folder: Path, assignment: str, notebook: str, items: list[dict]) -> None:
    path = folder / SIMULATED_SUBMISSIONS / assignment / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items))


def test_load_mutants_reads_variants_after_mutants(tmp_path):
    bug = {"name": "bug", "cell": "f", "find": "a + b", "replace": "a - b", "loses": ["f_visible"]}
    alt = {"name": "alt", "cell": "f", "find": "a + b", "replace": "b + a", "loses": [], "kind": "variant"}
    _changes(tmp_path, "mutants/assignment1", "nb", [bug])
    _changes(tmp_path, "variants/assignment1", "nb", [alt])
    loaded = load_mutants(tmp_path, "assignment1")
    assert [(m.name, m.kind, m.notebook, m.loses) for m in loaded] == [
        ("bug", "mutant", "nb", ("f_visible",)), ("alt", "variant", "nb", ())]
    assert [m.name for m in load_mutants(tmp_path, "assignment1", folders=("mutants",))] == ["bug"]


def test_demo_class_simulates_variants_only_when_checking(tmp_path):
    root = C.repo_root()
    course = C.prepare_course(root, tmp_path / "course", ["assignment3"], ["LSTM_Captioning"])
    variants = load_mutants(course, "assignment3", folders=("variants",))
    assert any(v.notebook == "LSTM_Captioning" for v in variants)
    checked = C.demo_class(course, "assignment3", all_mutants=True, only=["LSTM_Captioning"])
    kinds = {m.kind for s in checked if s.mutants for m in s.mutants}
    assert kinds == {"mutant", "variant"}
    quick = C.demo_class(course, "assignment3", only=["LSTM_Captioning"])
    assert [m.kind for m in quick[2].mutants] == ["mutant"]


def test_check_round_wants_variants_to_keep_every_point():
    variant = Mutant("alt", "nb", "f", "a + b", "b + a", (), kind="variant")
    student = C.Student("mutant1", [variant])
    full = [C.CellGrade("nb", "f_visible", 1.0, 1.0, False), C.CellGrade("nb", "f_hidden", 2.0, 2.0, False)]
    assert C.check_round({"mutant1": full}, [student]) == []
    lost = [full[0], C.CellGrade("nb", "f_hidden", 0.0, 2.0, False)]
    assert C.check_round({"mutant1": lost}, [student]) == ["mutant1 (variant alt) also lost f_hidden"]


def _gradebook(url: str, student: str, score: float) -> None:
    """A gradebook at ``url`` with one submission of assignment a1 (one test cell worth 2 points)."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("nb", "a1")
        gb.add_grade_cell("f_visible", "nb", "a1", max_score=2, cell_type="code")
        gb.add_student(student)
        gb.add_submission("a1", student)
        gb.find_grade("f_visible", "nb", "a1", student).auto_score = score
        gb.db.commit()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own add_submission
@pytest.mark.parametrize("server", ["sqlite", "postgres"])
def test_grades_come_from_the_gradebook_the_course_configures(server, tmp_path, monkeypatch, request):
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))  # alembic
    course, elsewhere = tmp_path / "course", tmp_path / "elsewhere"
    course.mkdir()
    elsewhere.mkdir()
    default = f"sqlite:///{course / 'gradebook.db'}"
    configured = request.getfixturevalue("postgres_db") if server == "postgres" else \
        f"sqlite:///{elsewhere / 'grades.db'}"
    _gradebook(default, "decoy", 0.0)  # where nbgrader looks when nothing is configured
    _gradebook(configured, "alice", 2.0)
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {configured!r}\n")
    assert C.grades(course, "a1") == {"alice": [C.CellGrade("nb", "f_visible", 2.0, 2, False)]}
    assert list(C.grades(course, "a1", db_url=default)) == ["decoy"]  # a URL given (--db) wins
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    assert list(C.grades(course, "a1")) == ["decoy"]


def test_every_variant_is_a_correct_change_of_a_reference_solution():
    root = C.repo_root()
    count = 0
    for assignment in C.assignments_with_notebooks(root):
        for v in load_mutants(root, assignment, folders=("variants",)):
            count += 1
            assert v.kind == "variant" and v.loses == (), v.name
            answers = solution_sources(read_nb(root / assignment / f"{v.notebook}.ipynb"))
            changed = dict(answers)
            for edit in v.edits:
                assert changed[edit["cell"]].count(edit["find"]) == 1, (v.name, edit["find"])
                changed[edit["cell"]] = changed[edit["cell"]].replace(edit["find"], edit["replace"])
            assert v.apply(answers)[v.cell] != answers[v.cell], v.name
    assert count >= 10


def test_every_mutant_and_variant_applies_and_names_real_tests():
    """Each classic bug and correct variant changes the reference of its own answer cell, once, and names
    only autograded test cells of its notebook; mutants lose points somewhere, variants nowhere."""
    root = C.repo_root()
    for assignment in ("assignment1", "assignment2", "assignment3"):
        changes = load_mutants(root, assignment)
        assert changes, f"no mutants for {assignment}"
        names = [m.name for m in changes]
        assert len(names) == len(set(names)), f"{assignment}: duplicate mutant names"
        for m in changes:
            nb = read_nb(root / assignment / f"{m.notebook}.ipynb")
            answers = solution_sources(nb)
            graded = {grade_id(c) for c in nb["cells"] if is_graded_code_cell(c)}
            for edit in m.edits:
                assert edit["cell"] in answers, f"{m.name}: no answer cell {edit['cell']} in {m.notebook}"
                assert answers[edit["cell"]].count(edit["find"]) >= 1 and edit["find"] != edit["replace"], m.name
            assert m.apply(answers)[m.cell] != answers[m.cell], m.name
            assert set(m.loses) <= graded, f"{m.name}: not autograded tests of {m.notebook}: {set(m.loses) - graded}"
            assert (m.kind == "variant") == (not m.loses) and m.kind in ("mutant", "variant"), m.name


def test_reference_records_are_shared_by_copies_that_hold_some_notebooks(tmp_path):
    """A record's key covers the notebook, the siblings it loads and the folder's other files, not the
    notebooks it cannot use: a course copy with fewer notebooks reuses the whole course's records."""
    from cs231n.grading.judge.records import digest

    whole, part = tmp_path / "whole", tmp_path / "part"
    for folder in (whole, part):
        (folder / "given").mkdir(parents=True)
        (folder / "given" / "helpers.py").write_text("X = 1\n")
        _notebook(folder / "a.ipynb", 'from_notebook("b.ipynb", "f")')
        _notebook(folder / "b.ipynb", "def f(): return 1")
    _notebook(whole / "c.ipynb", "y = 2")
    assert digest(whole, "a") == digest(part, "a")
    _notebook(whole / "c.ipynb", "y = 3")
    assert digest(whole, "a") == digest(part, "a"), "a notebook that a cannot load is not part of its key"
    _notebook(whole / "b.ipynb", "def f(): return 2")
    assert digest(whole, "a") != digest(part, "a"), "a sibling that a loads is"
    _notebook(whole / "b.ipynb", "def f(): return 1")
    (whole / "given" / "helpers.py").write_text("X = 2\n")
    assert digest(whole, "a") != digest(part, "a"), "and so is every given file"
