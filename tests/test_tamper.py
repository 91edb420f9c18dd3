"""Attack submissions (simulated_submissions/attacks/) graded in one real nbgrader round: no attack earns a point
that the honest code behind it would not, honest work next to an attack keeps its points, and attacks
on the grading machinery are flagged for review.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cs231n.grading.tools import course as C
from cs231n.grading.tools.attack_submissions import load_attacks
from cs231n.grading.tools.simulate import SIMULATED_SUBMISSIONS, read_nb
from cs231n.notebook_cells import BEGIN_SOLUTION

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


VICTIM = "zz_victim"  # an untouched release, graded after the attackers in a serial round
DISK = [a for a in ATTACKS if a.disk]


def machine_state() -> dict:
    """What an on-disk attack would change: the package's files, site-packages' .pth files, markers."""
    import hashlib

    import cs231n

    package = Path(cs231n.__file__).resolve().parent
    files = {str(path.relative_to(package)): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(package.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts and "datasets" not in path.parts}
    site = Path(np.__file__).resolve().parents[1]
    return {"package": files,
            "pth": {p.name: p.read_bytes() for p in sorted(site.glob("*.pth"))},
            "markers": [m for m in attack_markers() if Path(m).expanduser().exists()]}


def attack_markers() -> list[str]:
    import runpy

    return runpy.run_path(str(ROOT / SIMULATED_SUBMISSIONS / "attacks" / f"{ASSIGNMENT}.py"))["MARKERS"]


def build_course(tmp_path_factory, name: str, attacks: list, with_reference: bool = True) -> Path:
    """A course with the attack submissions, the victim and (if ``with_reference``) the reference student."""
    notebooks = sorted({a.notebook for a in attacks})
    course = C.prepare_course(ROOT, tmp_path_factory.mktemp(name) / "course", [ASSIGNMENT], notebooks)
    C.generate(course, ASSIGNMENT)
    release = C.release_notebooks(course, ASSIGNMENT)
    reference = C.reference_answers(course, ASSIGNMENT)
    C.submit_class(course, ASSIGNMENT, [C.Student("reference")] * with_reference + [C.Student(VICTIM, None)])
    for attack in attacks:
        nb = attack.notebook_json(release[attack.notebook], reference[attack.notebook])
        C.submit(course, ASSIGNMENT, attack.name, {attack.rename or attack.notebook: nb})
    return course


def outcomes(course: Path, attacks: list) -> dict:
    grades = C.grades(course, ASSIGNMENT)
    out = {}
    for attack in attacks:
        rows = [g for g in grades.get(attack.name, []) if g.notebook == attack.notebook and not g.manual]
        scores = {g.grade_id: (g.auto_score or 0.0, g.max_score) for g in rows}
        notes = review_notes(course / "autograded" / attack.name / ASSIGNMENT / f"{attack.notebook}.ipynb")
        out[attack.name] = (scores, notes)
    return out


@pytest.fixture(scope="module")
def round_(tmp_path_factory):
    """Every attack, the reference and the victim in one parallel round (cs231n.grade, 2 workers)."""
    before = machine_state()
    course = build_course(tmp_path_factory, "tamper", ATTACKS)
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", ASSIGNMENT, "--course", str(course),
                          "--workers", "2", "--quiet"], capture_output=True, text=True, cwd=course,
                         env=C.nbgrader_env())
    return course, res, C.grades(course, ASSIGNMENT), outcomes(course, ATTACKS), before, machine_state()


@pytest.fixture(scope="module")
def serial_round(tmp_path_factory):
    """The on-disk attacks graded one after another by a plain serial `nbgrader autograde`, the victim last."""
    before = machine_state()
    course = build_course(tmp_path_factory, "tamper_serial", DISK, with_reference=False)
    res = C.nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return course, res, C.grades(course, ASSIGNMENT), outcomes(course, DISK), before, machine_state()


def test_there_are_attacks_for_every_listed_threat():
    names = {a.name for a in ATTACKS}
    assert {"patch_numpy", "patch_checks", "patch_builtins", "shadow_builtins", "custom_exc", "input_transformer",
            "hooks_and_events", "del_trick", "exit_in_answer", "read_instructor_files", "edit_locked_test",
            "delete_test", "duplicate_test", "move_test", "rename_notebook", "trace_jump", "oracle_stack",
            "self_undoing_patch", "lying_ndarray", "edit_instructor_data", "reference_in_reach", "disk_pth",
            "disk_ipython_startup", "disk_package", "disk_scatter"} <= names
    for a in ATTACKS:
        assert a.loses or (a.disk and a.keeps), f"{a.name} names no test it attacks"


def test_reference_still_gets_every_point(round_):
    _, res, grades, *_ = round_
    rows = [g for g in grades["reference"] if not g.manual]
    assert rows and all(g.auto_score == g.max_score for g in rows), res.stdout[-3000:] + res.stderr[-3000:]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_earns_nothing_and_costs_honest_work_nothing(round_, attack):
    _, _, _, outcome, *_ = round_
    scores, notes = outcome[attack.name]
    assert attack.problems(scores, bool(notes)) == []


def test_attacks_are_built_from_the_release(round_):
    course, *_ = round_
    for attack in ATTACKS:
        name = f"{attack.rename or attack.notebook}.ipynb"
        path = course / "submitted" / attack.name / ASSIGNMENT / name
        if not path.exists():  # a notebook that is not part of the assignment is moved aside before grading
            path = course / ".cs231n" / "originals" / attack.name / ASSIGNMENT / name
        nb = read_nb(path)
        assert BEGIN_SOLUTION not in json.dumps(nb)


@pytest.fixture(scope="module")
def dask_round(tmp_path_factory):
    """The on-disk attacks and the victim on a local Dask cluster of two workers (cs231n.grade --dask)."""
    before = machine_state()
    course = build_course(tmp_path_factory, "tamper_dask", DISK, with_reference=False)
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", ASSIGNMENT, "--course", str(course),
                          "--dask", "--workers", "2", "--quiet"], capture_output=True, text=True, cwd=course,
                         env=C.nbgrader_env())
    return course, res, C.grades(course, ASSIGNMENT), outcomes(course, DISK), before, machine_state()


ROUNDS = ["round_", "serial_round", "dask_round"]


@pytest.mark.parametrize("which", ROUNDS)
def test_the_victim_graded_after_the_attacks_gets_nothing(which, request):
    """The untouched release, graded after every attack (last, in the serial round): a write that
    outlived an attacker's kernel (a .pth file, an IPython startup file, an edited package) would give it
    points."""
    course, res, grades, *_ = request.getfixturevalue(which)
    rows = [g for g in grades.get(VICTIM, []) if not g.manual]
    assert rows, res.stdout[-2000:] + res.stderr[-2000:]
    assert [g.grade_id for g in rows if g.auto_score] == []


@pytest.mark.parametrize("which", ROUNDS)
def test_on_disk_attacks_leave_nothing_behind(which, request):
    *_, before, after = request.getfixturevalue(which)
    changed = sorted(f for f in set(before["package"]) | set(after["package"])
                     if before["package"].get(f) != after["package"].get(f))
    assert after["markers"] == [] and changed == [] and after["pth"] == before["pth"]


@pytest.mark.parametrize("which", ["serial_round", "dask_round"])
@pytest.mark.parametrize("attack", DISK, ids=lambda a: a.name)
def test_on_disk_attackers_keep_their_honest_points(which, attack, request):
    _, _, _, outcome, *_ = request.getfixturevalue(which)
    scores, notes = outcome[attack.name]
    assert attack.problems(scores, bool(notes)) == []


def test_the_course_folder_holds_nothing_an_attack_wrote(round_):
    course, *_ = round_
    assert not [p for p in course.rglob("cs231n-attack-marker*")]
    assert (course / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"
