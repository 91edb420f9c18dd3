"""Grading at class scale: ``python -m cs231n.grade autograde`` against a serial nbgrader round.

1. A tiny two-notebook assignment and a class of 12 simulated students (reference, untouched
   release, classic bugs, kernels that die, a missing and a malformed notebook) graded once by a
   serial ``nbgrader autograde`` and once by the parallel command with 2 workers: the gradebooks hold
   the same scores and comments and the autograded notebooks are the same, on SQLite (feedback too)
   and on a real PostgreSQL server (there on a Dask cluster of two local workers that have their own
   copy of the course files).
2. Re-running grades only what changed, manual grades survive ``--force``, and the report says who
   needs attention.
3. Limits: a submission that outruns its wall time is killed with its kernel and reported as a
   timeout; a notebook that outruns its own limit is graded as far as it ran.
The real assignments' classes are graded in parallel by tests/test_pipeline.py.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cs231n import grade
from cs231n.grading.coordinator import parallel as P
from cs231n.grading.coordinator.procs import descendants
from cs231n.grading.tools import course as C
from cs231n.grading.tools import percent
from cs231n.grading.tools.simulate import Mutant, fill_answers

ROOT = Path(__file__).resolve().parents[1]
TINY = "tiny"

pytestmark = pytest.mark.slow

NOTEBOOKS = {
    "a_basics": """# %% md
A tiny assignment for the grading tests.
# %% code
import numpy as np
# %% answer: add
def add(a, b):
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION
# %% test: add_visible points=1
assert add(1, 2) == 3
# %% test: add_hidden points=2
### BEGIN HIDDEN TESTS
assert add(-4, 10) == 6
### END HIDDEN TESTS
# %% answer: norm
def norm(x):
    ### BEGIN SOLUTION
    return float(np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2)))
    ### END SOLUTION
# %% test: norm_visible points=2
assert abs(norm([3, 4]) - 5) < 1e-9
# %% manual: explain_norm points=1
### BEGIN SOLUTION
The square root of the sum of squares.
### END SOLUTION
""",
    "b_more": """# %% code
import numpy as np
# %% answer: mean_rows
def mean_rows(x):
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float).mean(axis=1)
    ### END SOLUTION
# %% test: mean_rows_visible points=1
assert np.allclose(mean_rows([[1, 3], [2, 4]]), [2, 3])
# %% test: mean_rows_hidden points=2
### BEGIN HIDDEN TESTS
_x = np.arange(12.0).reshape(3, 4)
assert np.allclose(mean_rows(_x), _x.mean(axis=1))
### END HIDDEN TESTS
""",
}

MUTANTS = [
    Mutant("add_minus", "a_basics", "add", "return a + b", "return a - b", ("add_visible", "add_hidden")),
    Mutant("norm_squared", "a_basics", "norm", "np.sqrt(", "(", ("norm_visible",)),
    Mutant("mean_cols", "b_more", "mean_rows", "axis=1", "axis=0", ("mean_rows_visible", "mean_rows_hidden")),
    Mutant("mean_int", "b_more", "mean_rows", "x, dtype=float).mean(axis=1)", "x).sum(axis=1) // 2",
           ("mean_rows_hidden",)),
]
CRASH = "import os\nos._exit(1)\n"


def make_tiny_course(dest: Path, db_url: str | None = None) -> Path:
    """A course folder with the tiny assignment generated (into ``db_url`` if given)."""
    dest.mkdir(parents=True)
    (dest / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    (dest / TINY).mkdir()
    for name, text in NOTEBOOKS.items():
        percent.write_notebook(percent.from_text(text), dest / TINY / f"{name}.ipynb")
    (dest / "source").mkdir()
    (dest / "source" / TINY).symlink_to(Path("..") / TINY)
    args = ["generate_assignment", TINY, "--force"] + ([f"--CourseDirectory.db_url={db_url}"] if db_url else [])
    res = C.nbgrader(dest, *args)
    assert res.returncode == 0, res.stdout + res.stderr
    return dest


def tiny_class(course: Path) -> dict[str, dict[str, dict]]:
    """12 simulated students, one of each kind (two references: the re-run test resubmits one):
    student -> notebook -> submitted notebook (None = malformed file)."""
    release, answers = C.release_notebooks(course, TINY), C.reference_answers(course, TINY)

    def with_answers(mine: dict[str, dict[str, str]]) -> dict[str, dict]:
        return {nb: fill_answers(release[nb], mine.get(nb, {})) for nb in release}

    def mutated(*mutants: Mutant) -> dict[str, dict]:
        mine = {nb: dict(a) for nb, a in answers.items()}
        for m in mutants:
            mine[m.notebook] = m.apply(mine[m.notebook])
        return with_answers(mine)

    students: dict[str, dict[str, dict]] = {}
    for i in range(2):
        students[f"ref{i}"] = with_answers(answers)
    students["untouched0"] = dict(release)
    for i, m in enumerate(MUTANTS):
        students[f"bug{i}_{m.name}"] = mutated(m)
    students["crash_a"] = with_answers({**answers, "a_basics": {**answers["a_basics"], "add": CRASH}})
    students["crash_b"] = with_answers({**answers, "b_more": {"mean_rows": CRASH}})
    students["crash_bug"] = with_answers({"a_basics": MUTANTS[0].apply(answers["a_basics"]),
                                          "b_more": {"mean_rows": CRASH}})
    students["missing_b"] = {"a_basics": with_answers(answers)["a_basics"]}
    students["malformed_b"] = {**with_answers(answers), "b_more": None}
    assert len(students) == 12
    return students


def submit_all(course: Path, students: dict[str, dict[str, dict]]) -> None:
    for student, notebooks in students.items():
        C.submit(course, TINY, student, {k: v for k, v in notebooks.items() if v is not None})
        for name, nb in notebooks.items():
            if nb is None:  # a truncated upload: not JSON
                (course / "submitted" / student / TINY / f"{name}.ipynb").write_text('{"cells": [')


def gradebook_state(db_url: str, assignment: str) -> dict[str, dict]:
    """student -> (notebook, grade_id) -> every score and comment field nbgrader keeps."""
    from nbgrader.api import Gradebook

    out: dict[str, dict] = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            rows = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    rows[(nb.name, g.name)] = (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                for c in nb.comments:
                    rows[(nb.name, "comment:" + c.name)] = (c.auto_comment, c.manual_comment)
            out[sub.student.id] = rows
    return out


def folder_texts(folder: Path) -> dict[str, str]:
    """relative path -> text of every notebook / HTML file under ``folder``; in notebooks without the
    kernel's timestamps (cell metadata "execution"), which differ between any two runs."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix == ".ipynb":
            nb = json.loads(p.read_text())
            for cell in nb["cells"]:
                cell.get("metadata", {}).pop("execution", None)
            out[str(p.relative_to(folder))] = json.dumps(nb, sort_keys=True)
        elif p.suffix == ".html":
            out[str(p.relative_to(folder))] = p.read_text()
    return out


def serial_round(course: Path, db_url: str) -> None:
    res = C.nbgrader(course, "autograde", TINY, f"--CourseDirectory.db_url={db_url}")
    # the malformed notebook is replaced by the release marked not graded (cs231n.grading.converters.repair, the
    # course's pre-convert hook): nbgrader grades the rest of that submission and everyone else
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    res = C.nbgrader(course, "generate_feedback", TINY, f"--CourseDirectory.db_url={db_url}")
    assert res.returncode == 0, res.stdout + res.stderr


def parallel_round(course: Path, db_url: str, *extra: str) -> tuple[int, dict]:
    code = grade.main(["autograde", TINY, "--course", str(course), "--workers", "2",
                       "--db-url", db_url, "--quiet", *extra])
    return code, json.loads((course / f"grading_report_{TINY}.json").read_text())


def student_row(course: Path, student: str) -> dict:
    """A student's row in the class's grading report (the last run that graded them)."""
    rows = json.loads((course / f"grading_report_{TINY}.json").read_text())["students"]
    return next(row for row in rows if row["student"] == student)


def sqlite_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


# ---------------------------------------------------------------------------------------------------
# 1. The class of 12: serial nbgrader against the parallel command.

ATTENTION = {"crash_a", "crash_b", "crash_bug", "missing_b", "malformed_b"}


@pytest.fixture(scope="module")
def tiny_template(tmp_path_factory) -> Path:
    """The tiny assignment generated once (SQLite gradebook); tests grade in copies of it."""
    return make_tiny_course(tmp_path_factory.mktemp("template") / "course")


def copy_course(template: Path, dest: Path) -> Path:
    return Path(shutil.copytree(template, dest, symlinks=True))


@pytest.fixture(scope="module")
def serial_tiny(tiny_template, tmp_path_factory):
    course = copy_course(tiny_template, tmp_path_factory.mktemp("serial") / "course")
    students = tiny_class(course)
    submit_all(course, students)
    url = sqlite_url(course)
    serial_round(course, url)
    return course, students, gradebook_state(url, TINY)


@pytest.fixture(scope="module")
def parallel_tiny(serial_tiny, tiny_template, tmp_path_factory):
    _, students, _ = serial_tiny
    course = copy_course(tiny_template, tmp_path_factory.mktemp("parallel") / "course")
    submit_all(course, students)
    code, report = parallel_round(course, sqlite_url(course), "--feedback")
    return course, code, report


def same_files(serial: Path, parallel: Path, kind: str) -> None:
    a, b = folder_texts(serial / kind), folder_texts(parallel / kind)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == [], f"{kind} files differ from the serial round"


def test_parallel_sqlite_round_equals_serial_nbgrader(serial_tiny, parallel_tiny):
    serial, students, expected = serial_tiny
    course, _, _ = parallel_tiny
    assert set(expected) == set(students)
    assert gradebook_state(sqlite_url(course), TINY) == expected
    same_files(serial, course, "autograded")
    same_files(serial, course, "feedback")


def test_scores_are_the_simulated_ones(serial_tiny):
    _, _, state = serial_tiny
    auto = {s: sum(v[0] or 0 for k, v in rows.items() if not k[1].startswith("comment:")) for s, rows in state.items()}
    assert {auto["ref0"], auto["ref1"]} == {8} and auto["untouched0"] == 0
    assert auto["bug0_add_minus"] == 5 and auto["bug1_norm_squared"] == 6 and auto["bug3_mean_int"] == 6
    assert auto["crash_a"] == 3 and auto["missing_b"] == 5  # graded as far as the kernel lived; missing = 0


def test_report_names_who_needs_attention_and_why(parallel_tiny):
    course, code, report = parallel_tiny
    assert code == 1
    rows = {r["student"]: r for r in report["students"]}
    assert set(report["needs_attention"]) == ATTENTION
    assert report["counts"] == {"graded": 12, "failed": 0, "skipped": 0, "not graded": 0}
    assert rows["malformed_b"]["status"] == "graded"
    assert rows["malformed_b"]["problems"].startswith("not graded: b_more.ipynb: the submitted b_more.ipynb")
    assert rows["missing_b"]["problems"] == "not graded: b_more.ipynb: b_more.ipynb was not submitted"
    assert rows["crash_a"]["problems"].startswith("dead kernel: a_basics.ipynb")
    assert rows["ref0"]["score"] == 8 and rows["ref0"]["max_score"] == 9 and rows["ref0"]["seconds"] > 0
    csv_lines = (course / f"grading_report_{TINY}.csv").read_text().splitlines()
    assert csv_lines[0].startswith("student,status,score") and len(csv_lines) == 13


def test_rerun_grades_only_what_changed_and_keeps_manual_grades(parallel_tiny):
    from nbgrader.api import Gradebook

    course, _, _ = parallel_tiny
    url = sqlite_url(course)
    with Gradebook(url) as gb:
        g = gb.find_grade("explain_norm", "a_basics", TINY, "ref0")
        g.manual_score = 1.0
        gb.db.commit()
    before = gradebook_state(url, TINY)
    (course / "submitted" / "ref1" / TINY / "timestamp.txt").write_text("2026-01-16 09:00:00.000000 UTC\n")
    code, report = parallel_round(course, url)
    graded = set(report["history"][-1]["graded"])  # this run's; report["students"] is the class's state
    assert graded == {"ref1"}  # resubmitted
    assert code == 0 and report["counts"]["skipped"] == 11
    code, report = parallel_round(course, url, "--force", "--student", "ref0")
    assert code == 0 and report["counts"] == {"graded": 1, "failed": 0, "skipped": 0, "not graded": 0}
    after = gradebook_state(url, TINY)
    assert after["ref0"][("a_basics", "explain_norm")][1] == 1.0  # the manual grade survived --force
    assert after == before


def test_parallel_postgres_on_dask_equals_serial_nbgrader(serial_tiny, postgres_db, tmp_path):
    serial, students, expected = serial_tiny
    course = make_tiny_course(tmp_path / "course", db_url=postgres_db)
    # the workers have a copy of the course files of their own, without submissions: they get each
    # submission with the task and send the autograded notebooks back
    worker_copy = shutil.copytree(course, tmp_path / "worker_copy", symlinks=True)
    submit_all(course, students)
    code, report = parallel_round(course, postgres_db, "--dask", "--worker-course", str(worker_copy), "--ship-files")
    assert code == 1 and set(report["needs_attention"]) == ATTENTION
    assert report["backend"] == "DaskPool" and report["workers"] == 2
    assert gradebook_state(postgres_db, TINY) == expected
    same_files(serial, course, "autograded")  # shipped back from the workers' copy


# ---------------------------------------------------------------------------------------------------
# 3. Limits: wall time per notebook and per submission.

def hanging(pid_file: Path) -> str:
    """An answer that records its kernel's pid, ignores interrupts and sleeps."""
    return (f"import os, signal, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(600)\n")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def test_time_limits_per_notebook_and_per_submission(tiny_template, tmp_path):
    # The hanging answers report their kernel's pid through a file in tmp_path, which a sandboxed kernel
    # can neither see nor give a host pid for: time limits are tested without the sandbox (it has its
    # own tests in test_sandbox.py), switched off in this course's configuration.
    course = copy_course(tiny_template, tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\nc.GradingSettings.sandbox = False\n")
    release, answers = C.release_notebooks(course, TINY), C.reference_answers(course, TINY)
    slow_pid, stuck_pid = tmp_path / "slow.pid", tmp_path / "stuck.pid"
    slow = {**answers, "a_basics": {**answers["a_basics"], "add": hanging(slow_pid)}}
    stuck = {**answers, "a_basics": {**answers["a_basics"], "add": hanging(stuck_pid)}}
    for student, mine in {"slow": slow, "stuck": stuck}.items():
        C.submit(course, TINY, student, {nb: fill_answers(release[nb], mine[nb]) for nb in release})
    url = sqlite_url(course)
    # a notebook over its own limit: interrupted, graded as far as it ran, the next notebook graded
    code = grade.main(["autograde", TINY, "--course", str(course), "--student", "slow", "--notebook-timeout", "8",
                       "--submission-timeout", "0", "--allow-unisolated", "--quiet"])
    row = student_row(course, "slow")
    assert code == 1 and row["status"] == "graded"
    assert "timeout: a_basics.ipynb" in row["problems"]
    state = gradebook_state(url, TINY)["slow"]
    assert state[("a_basics", "add_visible")][0] == 0 and state[("b_more", "mean_rows_hidden")][0] == 2
    # a submission over its limit (cells may run 300 s each): killed with its kernel, reported, retried next time
    tic = time.perf_counter()
    code = grade.main(["autograde", TINY, "--course", str(course), "--student", "stuck", "--notebook-timeout", "0",
                       "--submission-timeout", "20", "--allow-unisolated", "--quiet"])
    assert time.perf_counter() - tic < 60
    row = student_row(course, "stuck")
    assert code == 1 and row["status"] == "failed" and row["problems"].startswith("timeout: grading took over 20 s")
    assert stuck_pid.exists(), "the hanging cell never started"
    deadline = time.monotonic() + 10
    while alive(int(stuck_pid.read_text())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(int(stuck_pid.read_text())), "the kernel of the killed submission is still running"
    assert not (course / "autograded" / "stuck" / TINY).exists()
    assert P.needs_grading(course, TINY, "stuck") and not P.needs_grading(course, TINY, "slow")


def test_kill_tree_reaches_processes_in_other_sessions(tmp_path):
    from cs231n.grading.coordinator.procs import kill_tree

    script = ("import subprocess, sys, time\n"
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
              "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 20
    while not descendants(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    (child,) = descendants(proc.pid)
    kill_tree(proc.pid)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child)



def test_coordinator_starts_without_nbclient():
    """The coordinator imports only what it needs before it starts the fork server, whose imports of
    nbgrader and nbclient (about 1.5 s) then overlap with its own reading of the gradebook."""
    code = ("import sys, cs231n.grade\n"
            "print(sorted(m for m in ('nbclient', 'nbconvert', 'nbgrader') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
