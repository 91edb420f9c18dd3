"""Full nbgrader rounds in temporary copies of the course.

1. The real assignments: the reference gets every autograded point, the untouched release gets zero,
   and each classic bug (simulated_submissions/mutants/) loses points exactly in the tests it names.
2. A small robustness course: a notebook that kills its kernel or ignores interrupts is graded as far
   as it ran, the other notebooks and students are still graded, and a notebook can load a sibling
   that sorts after it.
"""

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cs231n.grading.tools import course as C
from cs231n.grading.tools import percent
from cs231n.grading.tools.simulate import fill_answers, read_nb
from cs231n.notebook_cells import cell_source, hidden_tests, without_hidden_tests

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = C.assignments_with_notebooks(ROOT)

pytestmark = pytest.mark.slow


#: CS231N_ALL_MUTANTS=1 grades every classic bug of simulated_submissions/mutants/ (make check does too); by default
#: one bug per notebook, which keeps `make test` within CI's time.
ALL_MUTANTS = os.environ.get("CS231N_ALL_MUTANTS", "") not in ("", "0")


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    assignment = request.param
    course = C.prepare_course(ROOT, tmp_path_factory.mktemp("course") / "course", [assignment])
    C.generate(course, assignment)
    # Attacks are graded (and asserted) by test_tamper.py; here they would only cost time.
    students = C.demo_class(course, assignment, all_mutants=ALL_MUTANTS, with_attackers=False)
    C.submit_class(course, assignment, students)
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", assignment, "--course", str(course),
                          "--workers", "2", "--quiet"], capture_output=True, text=True, cwd=course,
                         env=C.nbgrader_env())
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    C.generate_feedback(course, assignment)
    return course, assignment, students, C.grades(course, assignment)


def autograded(rows):
    return {g.grade_id: (g.auto_score, g.max_score) for g in rows if not g.manual}


def test_reference_gets_every_autograded_point(graded):
    _, _, _, grades = graded
    lost = {gid: s for gid, s in autograded(grades["reference"]).items() if s[0] != s[1]}
    assert lost == {}


def test_release_carries_the_expected_values_files(graded):
    course, assignment, _, _ = graded  # notebooks load large expected arrays from expected/<notebook>.json
    files = sorted(p.name for p in (ROOT / assignment / "expected").glob("*.json"))
    assert sorted(p.name for p in (course / "release" / assignment / "expected").glob("*.json")) == files


def test_untouched_release_scores_zero(graded):
    _, _, _, grades = graded
    scored = {gid: s for gid, s in autograded(grades["untouched"]).items() if s[0] != 0}
    assert scored == {}


def test_each_classic_bug_loses_points_only_where_it_is(graded):
    course, assignment, students, grades = graded
    mutants = [s for s in students if s.mutants]
    covered = {m.notebook for s in mutants for m in s.mutants}
    assert covered == {p.stem for p in (course / assignment).glob("*.ipynb")}, "every notebook needs mutants"
    assert C.check_round(grades, mutants) == []


def hidden_lines(source_nb: dict) -> list[str]:
    """Distinctive code lines of every hidden-test region of a source notebook."""
    lines = []
    for cell in source_nb["cells"]:
        for region in hidden_tests(cell_source(cell)):
            lines += [ln.strip() for ln in region.splitlines() if len(ln.strip()) > 12]
    return lines


def test_feedback_shows_no_hidden_test_source(graded):
    course, assignment, students, _ = graded
    for nb_path in sorted((course / assignment).glob("*.ipynb")):
        public = (course / "release" / assignment / nb_path.name).read_text()
        source = read_nb(nb_path)
        lines = hidden_lines(source)
        assert lines, f"{nb_path.name} has no hidden tests"
        # A line is secret unless it also stands outside the hidden tests: in the release, or in a
        # reference solution (which the reference student's own answers show in the feedback).
        elsewhere = public + "\n".join(without_hidden_tests(cell_source(c)) for c in source["cells"])
        secrets = [ln for ln in lines if json.dumps(ln)[1:-1] not in public and ln not in elsewhere]
        for student in students:
            page = html.unescape((course / "feedback" / student.name / assignment / f"{nb_path.stem}.html").read_text())
            page = re.sub(r"<[^>]+>", "", page)
            leaked = [ln for ln in secrets if ln in page]
            assert leaked == [], f"{student.name}/{nb_path.name} feedback shows hidden test code"
            assert "Hidden tests" in page


ROBUST = {
    "a_crash": """# %% code
import os
# %% answer: first_answer
### BEGIN SOLUTION
value = 41 + 1
### END SOLUTION
# %% test: first_test points=1
assert value == 42
# %% answer: crashing_answer
### BEGIN SOLUTION
value = 43
### END SOLUTION
# %% test: after_crash_test points=2
assert value == 43
""",
    "b_user": """# %% code
from cs231n.notebook_import import load_notebook
lib = load_notebook("z_lib.ipynb")
# %% answer: use_sibling
### BEGIN SOLUTION
result = lib.triple(5)
### END SOLUTION
# %% test: use_sibling_test points=1
assert result == 15
# %% answer: noisy_answer
import warnings
def noisy(x):
    ### BEGIN SOLUTION
    warnings.warn("a harmless library warning")
    return x
    ### END SOLUTION
# %% test: noisy_test points=1
assert noisy(2) == 2
""",
    "c_hang": """# %% answer: hanging_answer
### BEGIN SOLUTION
x = 1
### END SOLUTION
# %% test: hang_test points=1
assert x == 1
# %% test: after_hang_test points=1
assert x == 1
""",
    "d_memory": """# %% answer: memory_answer
### BEGIN SOLUTION
small = list(range(10))
### END SOLUTION
# %% test: memory_test points=1
assert len(small) == 10
# %% test: after_memory_test points=1
assert sum(range(4)) == 6
""",
    "z_lib": """# %% answer: triple
def triple(x):
    ### BEGIN SOLUTION
    return 3 * x
    ### END SOLUTION
# %% test: triple_test points=1
assert triple(2) == 6
""",
}


@pytest.fixture(scope="module")
def robust_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("robust")
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    (course / "robust").mkdir()
    for name, text in ROBUST.items():
        percent.write_notebook(percent.from_text(text), course / "robust" / f"{name}.ipynb")
    (course / "source").mkdir()
    (course / "source" / "robust").symlink_to(Path("..") / "robust")
    C.generate(course, "robust")
    release, answers = C.release_notebooks(course, "robust"), C.reference_answers(course, "robust")
    crash = {**answers["a_crash"], "crashing_answer": "import os\nos._exit(3)\n"}
    hang = {"hanging_answer": "import signal, time\nx = 1\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "time.sleep(120)\n"}
    hog = {"memory_answer": "import numpy as np\nsmall = np.ones(2**30)  # 8 GiB, over the grading limit\n"}
    students = {
        "crasher": {"a_crash": crash, "b_user": answers["b_user"], "c_hang": hang, "d_memory": hog,
                    "z_lib": answers["z_lib"]},
        "honest": answers,
    }
    for student, mine in students.items():
        notebooks = {nb_name: fill_answers(nb, mine.get(nb_name, {})) for nb_name, nb in release.items()}
        C.submit(course, "robust", student, notebooks)
    res = C.nbgrader(course, "autograde", "robust", "--Execute.timeout=4", timeout=300)
    return course, res, C.grades(course, "robust")


def test_autograde_survives_dead_and_hung_kernels(robust_course):
    _, res, grades = robust_course
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert set(grades) == {"crasher", "honest"}


def test_cells_before_a_crash_keep_credit_and_later_cells_fail(robust_course):
    course, _, grades = robust_course
    crasher = autograded(grades["crasher"])
    assert crasher["first_test"] == (1, 1)          # ran before the crash
    assert crasher["after_crash_test"] == (0, 2)    # never ran: must not pass silently
    assert crasher["hang_test"] == (0, 1) and crasher["after_hang_test"] == (0, 1)
    nb = json.loads((course / "autograded" / "crasher" / "robust" / "a_crash.ipynb").read_text())
    errors = [o["ename"] for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if o["output_type"] == "error"]
    assert "DeadKernelError" in errors and "CellNotRun" in errors


def test_memory_hog_fails_in_its_own_cell(robust_course):
    course, _, grades = robust_course
    crasher = autograded(grades["crasher"])
    assert crasher["memory_test"] == (0, 1) and crasher["after_memory_test"] == (1, 1)
    nb = json.loads((course / "autograded" / "crasher" / "robust" / "d_memory.ipynb").read_text())
    assert "MemoryError" in [o.get("ename") for o in nb["cells"][0]["outputs"]]


def test_other_notebooks_and_students_are_graded(robust_course):
    _, _, grades = robust_course
    crasher, honest = autograded(grades["crasher"]), autograded(grades["honest"])
    assert crasher["use_sibling_test"] == (1, 1) and crasher["triple_test"] == (1, 1)
    assert all(got == mx for got, mx in honest.values()), honest


def test_warnings_on_stderr_do_not_zero_a_test(robust_course):
    course, _, grades = robust_course
    assert autograded(grades["honest"])["noisy_test"] == (1, 1)
    nb = json.loads((course / "autograded" / "honest" / "robust" / "b_user.ipynb").read_text())
    shown = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    assert any("harmless library warning" in t for t in shown)  # still visible to the instructor


def test_a_notebook_loads_a_sibling_that_sorts_after_it(robust_course):
    _, _, grades = robust_course
    assert autograded(grades["honest"])["use_sibling_test"] == (1, 1)
