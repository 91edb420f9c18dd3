"""Attack submissions (grading/attacks/) graded in one real nbgrader round: no attack earns a point
that the honest code behind it would not, honest work next to an attack keeps its points, and attacks
on the grading machinery are flagged for review.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cs231n.grading import course as C
from cs231n.grading.attacks import load_attacks
from cs231n.grading.simulate import read_nb

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "assignment1"
ATTACKS = load_attacks(ROOT, ASSIGNMENT)

pytestmark = pytest.mark.slow


def review_notes(nb_path: Path) -> list[str]:
    """The grader's review notes left in student cells of an autograded notebook."""
    if not nb_path.exists():
        return []
    nb = json.loads(nb_path.read_text())
    return ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
            if o.get("output_type") == "stream" and "".join(o.get("text", "")).startswith("[grading] this cell")]


@pytest.fixture(scope="module")
def round_(tmp_path_factory):
    notebooks = sorted({a.notebook for a in ATTACKS})
    course = C.prepare_course(ROOT, tmp_path_factory.mktemp("tamper") / "course", [ASSIGNMENT], notebooks)
    C.generate(course, ASSIGNMENT)
    release = C.release_notebooks(course, ASSIGNMENT)
    reference = C.reference_answers(course, ASSIGNMENT)
    C.submit_class(course, ASSIGNMENT, [C.Student("reference")])
    for attack in ATTACKS:
        nb = attack.notebook_json(release[attack.notebook], reference[attack.notebook])
        C.submit(course, ASSIGNMENT, attack.name, {attack.rename or attack.notebook: nb})
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", ASSIGNMENT, "--course", str(course),
                          "--workers", "2", "--quiet"], capture_output=True, text=True, cwd=course,
                         env=C.nbgrader_env())
    grades = C.grades(course, ASSIGNMENT)
    outcome = {}
    for attack in ATTACKS:
        rows = [g for g in grades.get(attack.name, []) if g.notebook == attack.notebook and not g.manual]
        scores = {g.grade_id: (g.auto_score or 0.0, g.max_score) for g in rows}
        notes = review_notes(course / "autograded" / attack.name / ASSIGNMENT / f"{attack.notebook}.ipynb")
        outcome[attack.name] = (scores, notes)
    return course, res, grades, outcome


def test_there_are_attacks_for_every_listed_threat():
    names = {a.name for a in ATTACKS}
    assert {"patch_numpy", "patch_checks", "patch_builtins", "shadow_builtins", "custom_exc", "input_transformer",
            "hooks_and_events", "del_trick", "exit_in_answer", "read_instructor_files", "edit_locked_test",
            "delete_test", "duplicate_test", "move_test", "rename_notebook"} <= names
    for a in ATTACKS:
        assert a.loses, f"{a.name} names no test it attacks"


def test_reference_still_gets_every_point(round_):
    _, res, grades, _ = round_
    rows = [g for g in grades["reference"] if not g.manual]
    assert rows and all(g.auto_score == g.max_score for g in rows), res.stdout[-3000:] + res.stderr[-3000:]


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.known_gap], ids=lambda a: a.name)
def test_attack_earns_nothing_and_costs_honest_work_nothing(round_, attack):
    _, _, _, outcome = round_
    scores, notes = outcome[attack.name]
    assert attack.problems(scores, bool(notes)) == []


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.known_gap], ids=lambda a: a.name)
def test_known_gaps_are_flagged_for_review(round_, attack):
    _, _, _, outcome = round_
    scores, notes = outcome[attack.name]
    assert notes, f"{attack.name} was not flagged"
    assert all(scores.get(gid, (0, 0))[0] == scores.get(gid, (0, 0))[1] for gid in attack.keeps)


def test_attacks_are_built_from_the_release(round_):
    course, _, _, _ = round_
    for attack in ATTACKS:
        folder = course / "submitted" / attack.name / ASSIGNMENT
        nb = read_nb(folder / f"{attack.rename or attack.notebook}.ipynb")
        assert "### BEGIN SOLUTION" not in json.dumps(nb)
