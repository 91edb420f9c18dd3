"""A broken notebook never costs the rest of a submission (issue 19): each notebook of a submission is
graded on its own, every problem is named (report, gradebook comments, feedback), every student gets
feedback, the report keeps its history, nothing is left in /tmp, no kernel outlives its grader, and
Ctrl-C stops a class round within seconds with a report of what was done.

A tiny three-notebook assignment keeps the rounds short; every step runs the real nbgrader commands and
`python -m cs231n.grade` in a scratch course, serially and in parallel.
"""

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cs231n.grading.kernel.limits import SCRATCH_PREFIXES
from cs231n.grading.tools import course as C
from cs231n.grading.tools import percent
from cs231n.grading.tools.simulate import fill_answers
from cs231n.notebook_cells import grade_id, nbgrader_metadata

ROOT = Path(__file__).resolve().parents[1]
A = "broken"
pytestmark = pytest.mark.slow

NOTEBOOKS = {
    "a_first": """# %% code
from cs231n import checks
# %% answer: first_answer
def first(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION
# %% test: first_visible points=1
checks.value("first(2)", lambda: first(2))
# %% test: first_hidden points=2
### BEGIN HIDDEN TESTS
checks.value("first(40)", lambda: first(40))
### END HIDDEN TESTS
""",
    "b_second": """# %% code
from cs231n import checks
# %% answer: second_answer
def second(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
# %% test: second_visible points=1
checks.value("second(3)", lambda: second(3))
# %% test: second_hidden points=2
### BEGIN HIDDEN TESTS
checks.value("second(21)", lambda: second(21))
### END HIDDEN TESTS
""",
    "c_third": """# %% code
from cs231n import checks
# %% answer: third_answer
def third(x):
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION
# %% test: third_visible points=1
checks.value("third(3)", lambda: third(3))
# %% test: third_hidden points=2
### BEGIN HIDDEN TESTS
checks.value("third(7)", lambda: third(7))
### END HIDDEN TESTS
""",
}
FULL = {"a_first": 3.0, "b_second": 3.0, "c_third": 3.0}


def stale_scratch() -> list[str]:
    """Temporary folders of grading processes that are gone (what a run must not leave behind)."""
    from cs231n.grading.kernel.limits import remove_stale

    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    pattern = re.compile(r"^(" + "|".join(map(re.escape, SCRATCH_PREFIXES)) + r")(\d+)-")
    out = []
    for entry in tmp.iterdir() if tmp.is_dir() else []:
        m = pattern.match(entry.name)
        if m:
            try:
                os.kill(int(m.group(2)), 0)
            except ProcessLookupError:
                out.append(entry.name)
            except PermissionError:
                pass
    assert remove_stale is not None
    return out


def make_course(root: Path) -> Path:
    course = root / "course"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    with open(course / "nbgrader_config.py", "a") as f:  # the big_file student's 3 MB file is then too big
        f.write("\nc.GradingSettings.submission_file_mb = 1\n")
    (course / A).mkdir()
    for name, text in NOTEBOOKS.items():
        percent.write_notebook(percent.from_text(text), course / A / f"{name}.ipynb")
    (course / "source").mkdir()
    (course / "source" / A).symlink_to(Path("..") / A)
    C.generate(course, A)
    release, answers = C.release_notebooks(course, A), C.reference_answers(course, A)
    good = {n: fill_answers(nb, answers[n]) for n, nb in release.items()}
    folder = lambda s: course / "submitted" / s / A  # noqa: E731

    C.submit(course, A, "reference", good)
    C.submit(course, A, "untouched", release)
    for student, text in (("bad_json", "{not json"), ("empty", "")):
        C.submit(course, A, student, good)
        (folder(student) / "b_second.ipynb").write_text(text)
    C.submit(course, A, "renamed", {"a_first": good["a_first"], "b_second (1)": good["b_second"],
                                     "c_third": good["c_third"]})
    changed = json.loads(json.dumps(good["b_second"]))
    for cell in changed["cells"]:
        if grade_id(cell) == "second_visible":
            nbgrader_metadata(cell)["grade_id"] = "my_own_id"
    C.submit(course, A, "changed_id", {**good, "b_second": changed})
    deleted = json.loads(json.dumps(good["b_second"]))
    deleted["cells"] = [c for c in deleted["cells"] if not nbgrader_metadata(c).get("grade")]
    C.submit(course, A, "deleted_tests", {**good, "b_second": deleted})
    C.submit(course, A, "big_file", good)
    (folder("big_file") / "weights.bin").write_bytes(b"\0" * (3 * 1024 * 1024))
    return course


def notebook_scores(course: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for student, rows in C.grades(course, A).items():
        for g in rows:
            if not g.manual:
                out.setdefault(student, {}).setdefault(g.notebook, 0.0)
                out[student][g.notebook] += g.auto_score or 0.0
    return out


EXPECTED_SCORES = {
    "reference": FULL, "untouched": {"a_first": 0.0, "b_second": 0.0, "c_third": 0.0},
    "bad_json": {**FULL, "b_second": 0.0}, "empty": {**FULL, "b_second": 0.0},
    "renamed": {**FULL, "b_second": 0.0}, "changed_id": FULL, "deleted_tests": FULL, "big_file": FULL,
}
REASONS = {  # what the student's b_second (or first notebook) must say about it
    "bad_json": "JSON is broken", "empty": "is empty", "renamed": "found 'b_second (1).ipynb' instead",
    "changed_id": "'second_visible' was missing and was put back", "deleted_tests": "was missing and was put back",
}


@pytest.fixture(scope="module")
def env():
    """The environment of the nbgrader and cs231n.grade runs (the 1 MB file limit is in each course's
    configuration: make_course)."""
    return C.nbgrader_env()


@pytest.fixture(scope="module")
def serial(tmp_path_factory, env):
    course = make_course(tmp_path_factory.mktemp("broken_serial"))
    grade = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A], cwd=course, env=env,
                           capture_output=True, text=True, timeout=900)
    feedback = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", A], cwd=course, env=env,
                              capture_output=True, text=True, timeout=900)
    return course, grade, feedback


@pytest.fixture(scope="module")
def parallel(tmp_path_factory, env):
    course = make_course(tmp_path_factory.mktemp("broken_parallel"))
    run = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", A, "--course", str(course),
                          "--workers", "2", "--feedback", "--quiet"], cwd=course, env=env, capture_output=True,
                         text=True, timeout=900)
    first_report = json.loads((course / f"grading_report_{A}.json").read_text())
    # the student repairs the broken notebook and is graded again on their own
    (course / "submitted" / "bad_json" / A / "b_second.ipynb").write_text(
        (course / "submitted" / "reference" / A / "b_second.ipynb").read_text())
    again = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", A, "--course", str(course),
                            "--workers", "2", "--feedback", "--quiet", "--student", "bad_json", "--force"],
                           cwd=course, env=env, capture_output=True, text=True, timeout=900)
    return course, run, first_report, again


def test_serial_nbgrader_grades_every_intact_notebook(serial):
    course, grade, _ = serial
    assert grade.returncode == 0, grade.stdout[-3000:] + grade.stderr[-3000:]
    scores = notebook_scores(course)
    assert {s: scores.get(s) for s in EXPECTED_SCORES} == EXPECTED_SCORES


def test_parallel_round_grades_every_intact_notebook_and_exits_1(parallel):
    course, run, first_report, _ = parallel
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]  # problems need attention
    scores = {s: notebook_scores(course)[s] for s in EXPECTED_SCORES if s != "bad_json"}
    assert scores == {s: v for s, v in EXPECTED_SCORES.items() if s != "bad_json"}
    rows = {r["student"]: r for r in first_report["students"]}
    for student, reason in REASONS.items():
        assert reason in rows[student]["problems"], (student, rows[student]["problems"])
    assert "over the 1 MB limit" in rows["big_file"]["problems"]
    assert rows["reference"]["problems"] == "" and not rows["reference"]["needs_attention"]


@pytest.mark.parametrize("which", ["serial", "parallel"])
def test_every_student_gets_feedback_that_names_the_problem(which, request):
    course = request.getfixturevalue(which)[0]
    if which == "serial":
        assert request.getfixturevalue(which)[2].returncode == 0
    for student, reason in REASONS.items():
        if which == "parallel" and student == "bad_json":
            continue  # graded again after the repair (below)
        pages = {p.stem: re.sub(r"<[^>]+>", "", html.unescape(p.read_text()))
                 for p in (course / "feedback" / student / A).glob("*.html")}
        assert set(pages) == set(NOTEBOOKS), (student, sorted(pages))
        assert reason in pages["b_second"], student


def test_the_reasons_are_in_the_gradebook_comments(serial):
    from nbgrader.api import Gradebook

    course = serial[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        comment = gb.find_comment("second_answer", "b_second", A, "renamed")
        assert "found 'b_second (1).ipynb' instead" in (comment.auto_comment or "")


def test_the_submitted_originals_are_kept(serial):
    course = serial[0]
    originals = course / ".cs231n" / "originals"
    assert (originals / "bad_json" / A / "b_second.ipynb").read_text() == "{not json"
    assert (originals / "renamed" / A / "b_second (1).ipynb").is_file()
    assert (originals / "big_file" / A / "weights.bin").stat().st_size == 3 * 1024 * 1024
    assert not (course / "autograded" / "big_file" / A / "weights.bin").exists()


def test_the_report_keeps_its_history_and_open_problems(parallel):
    course, _, _, again = parallel
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]  # this run's submission is fine
    assert "Still open from earlier runs" in again.stdout  # the others' problems are still listed
    report = json.loads((course / f"grading_report_{A}.json").read_text())
    assert len(report["history"]) == 2 and set(report["history"][-1]["graded"]) == {"bad_json"}
    rows = {r["student"]: r for r in report["students"]}
    assert rows["bad_json"]["problems"] == "" and notebook_scores(course)["bad_json"] == FULL
    assert "is empty" in rows["empty"]["problems"] and rows["empty"]["needs_attention"]
    assert set(rows) == set(EXPECTED_SCORES)


def test_nothing_is_left_behind_in_tmp(serial, parallel):
    assert stale_scratch() == []
    leftovers = list(Path("/tmp").glob("cs231n-attack-marker*"))
    assert leftovers == []


LOOP = """# %% code
from cs231n import checks
# %% answer: loop_answer
### BEGIN SOLUTION
x = 1
### END SOLUTION
# %% test: loop_test points=1
checks.value("x", lambda: x)
"""


def _kernels_of(pid: int) -> list[int]:
    """Processes whose command line names a kernel folder made by process ``pid``."""
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"cs231n-kernel-{pid}-" in cmd:
            out.append(int(proc.name))
    return out


def test_no_kernel_outlives_a_killed_grader(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "loop").mkdir()
    percent.write_notebook(percent.from_text(LOOP), course / "loop" / "spin.ipynb")
    (course / "source").mkdir()
    (course / "source" / "loop").symlink_to(Path("..") / "loop")
    C.generate(course, "loop")
    release = C.release_notebooks(course, "loop")
    answers = {"spin": {"loop_answer": "x = 1\nwhile True:\n    x += 1\n"}}
    C.submit(course, "loop", "spinner", {n: fill_answers(nb, answers[n]) for n, nb in release.items()})
    grader = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", "loop"], cwd=course,
                              env=C.nbgrader_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not _kernels_of(grader.pid) and time.monotonic() < deadline:  # the student's kernel is spinning
        time.sleep(0.5)
    assert _kernels_of(grader.pid), "the grading kernel never started"
    time.sleep(2)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while _kernels_of(grader.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _kernels_of(grader.pid) == []
    from cs231n.grading.kernel.limits import remove_stale

    remove_stale()  # what the next grading run does first
    assert not list(Path("/tmp").glob(f"cs231n-kernel-{grader.pid}-*"))


INTERRUPTIBLE = ("import signal, sys\nif __name__ == '__main__':\n"
                 "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                 "    from cs231n.grade import main\n    sys.exit(main(sys.argv[1:]))\n")


def test_ctrl_c_stops_within_seconds_reports_and_resumes(tmp_path, env):
    course = make_course(tmp_path)
    for student in ("bad_json", "empty", "renamed", "changed_id", "deleted_tests", "big_file"):
        shutil.rmtree(course / "submitted" / student)
    for i in range(6):  # enough honest students that the round is still going when it is interrupted
        shutil.copytree(course / "submitted" / "reference", course / "submitted" / f"student{i}")
    args = ["autograde", A, "--course", str(course), "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTIBLE, *args], cwd=course, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:  # wait until one submission is finished
        lines.append(line)
        if line.startswith("[1/"):
            break
    proc.send_signal(signal.SIGINT)
    tic = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - tic < 15, "Ctrl-C took too long"
    assert proc.returncode == 130, "".join(lines) + err
    assert "Run the same command again" in err
    report = json.loads((course / f"grading_report_{A}.json").read_text())
    assert report["history"][-1]["interrupted"] is True
    finished = {s for s, r in report["history"][-1]["graded"].items() if r["status"] == "graded"}
    assert finished, report["history"][-1]
    resumed = subprocess.run([sys.executable, "-m", "cs231n.grade", *args, "--quiet"], cwd=course, env=env,
                             capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    again = json.loads((course / f"grading_report_{A}.json").read_text())
    assert not set(again["history"][-1]["graded"]) & finished  # finished ones were not graded twice
    scores = notebook_scores(course)
    assert all(scores[s] == FULL for s in scores if s != "untouched")
    assert stale_scratch() == []


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "localhost"], "needs the scheduler's address with its port"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    (["--db-url", "postgresql://nobody@127.0.0.1:9/none"], "cannot open the gradebook"),
])
def test_command_line_errors_are_one_sentence_and_exit_2(args, message, serial):
    course = serial[0]
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", A, "--course", str(course), *args],
                         cwd=course, env=C.nbgrader_env(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_a_data_setting_that_cannot_be_honoured_stops_grading(serial, tmp_path):
    course = serial[0]
    res = subprocess.run([sys.executable, "-m", "cs231n.grade", "autograde", A, "--course", str(course)],
                         cwd=course, env={**C.nbgrader_env(), "CS231N_CIFAR10_DIR": str(tmp_path / "missing")},
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "CS231N_CIFAR10_DIR" in res.stderr and len(res.stderr.strip().splitlines()) == 1
