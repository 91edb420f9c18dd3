"""The kit in the real Jupyter UI: JupyterLab with the nbgrader extensions, driven by Playwright in
Debian's Chromium (headless), against servers this test starts on 127.0.0.1.

A temporary copy of the course (every assignment folder; of the notebooks only assignment1/knn, the
smallest) gets a local nbgrader exchange; assignment1 is generated and released to it. Two JupyterLab
servers run: a student's (an empty home folder that reaches the exchange) and the instructor's (the
course folder). While the student test runs, a grading round (a reference and an untouched
submission, ``python -m cs231n.grade autograde --feedback``) runs in the background for the
instructor test.

- Student: the Assignments tab lists the released assignment and fetches it; the notebook opens;
  *Run All* runs the given cells and stops at the first TODO's check, which says "not attempted";
  after the answer is typed into the cell through the editor its visible check passes; *Validate*
  reports the result (that TODO no longer listed as not attempted, the others still are); *Submit*
  puts the assignment into the exchange.
- Instructor: formgrader lists exactly assignment1-3, the submissions with the scores of the
  gradebook, the autograded (code) scores in *Manual Grading*, and the feedback page of a submission
  shows verdicts of the hidden tests but none of their source.

Screenshots of every step go to tests/artifacts/browser/ (git-ignored; the path is printed).
Needs ``apt-get install -y chromium`` and ``pip install playwright`` (no ``playwright install``).
"""

import contextlib
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
from browser import ui
from browser.lab import COURSE_ID, Shots, hidden_lines, make_course, release, start_lab

from cs231n.grading.tools import course as C
from cs231n.grading.tools.simulate import read_nb, solution_sources
from cs231n.notebook_cells import BEGIN_HIDDEN, cell_source

pytestmark = pytest.mark.slow

ASSIGNMENT, NOTEBOOK = "assignment1", "knn"
FIRST_TODO = "knn_two_loops"              # grade_id of the notebook's first answer cell
FIRST_FUNCTION = "compute_distances_two_loops"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "browser"
INSTALL = "apt-get install -y chromium && .venv/bin/pip install playwright"
UI_TIMEOUT = 60_000      # ms: one UI step on a loaded 2-core machine
RUN_TIMEOUT = 150_000    # ms: a kernel running cells, validation


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip(f"Chromium is not installed (Debian: {INSTALL})")
    return path


@pytest.fixture(scope="module")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"playwright is not installed ({INSTALL})")
    return sync_playwright


@pytest.fixture(scope="module")
def kit(tmp_path_factory, playwright_api, request):
    """The scratch course, both servers, the background grading round and a browser."""
    chromium = _chromium()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    base = tmp_path_factory.mktemp("browser")
    with contextlib.ExitStack() as stack:
        # Ordered so that slow steps overlap: the student's server and the browser start while
        # nbgrader generates; the grading round and the instructor's server start while it releases.
        course = make_course(base, [NOTEBOOK])
        student = start_lab(course.student_home, base, "student")
        stack.callback(student.stop)
        pw = playwright_api().start()
        stack.callback(pw.stop)
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        stack.callback(browser.close)
        C.generate(course.root, ASSIGNMENT)
        C.submit_class(course.root, ASSIGNMENT, [C.Student("reference"), C.Student("untouched", None)])
        round_log = base / "round.log"
        with open(round_log, "w") as out:
            grading = subprocess.Popen(
                [sys.executable, "-m", "cs231n.grade", "autograde", ASSIGNMENT, "--workers", "2", "--feedback"],
                cwd=course.root, env={**C.nbgrader_env(), "CS231N_DATASET": "synthetic"},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(_stop_group, grading)
        instructor = start_lab(course.root, base, "instructor")
        stack.callback(instructor.stop)
        release(course, ASSIGNMENT)
        student.wait_ready()
        yield {"course": course, "student": student, "instructor": instructor, "browser": browser,
               "grading": grading, "round_log": round_log}
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nbrowser test screenshots: {ARTIFACTS}")


def _stop_group(proc: subprocess.Popen) -> None:
    """Kill a process started in its own session, and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _page(kit, name: str):
    context = kit["browser"].new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(UI_TIMEOUT)
    return context, context.new_page(), Shots(ARTIFACTS / name)


def _prompts(page) -> list[str]:
    """The execution prompts of the code cells, in order: "[3]:", "[ ]:", "[*]:"."""
    return [p.strip() for p in page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()]


def test_student_fetches_runs_fills_and_validates(kit):
    """A student's session in JupyterLab: fetch, Run All, fill the first TODO, Validate, Submit."""
    context, page, shots = _page(kit, "student")
    server = kit["student"]
    try:
        # The Assignments tab lists the assignment released to the local exchange; fetch it.
        page.goto(server.page("/lab"))
        page.locator(".jp-LabShell").wait_for()
        ui.fetch(page, shots, ASSIGNMENT, COURSE_ID)
        assert (kit["course"].student_home / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists()
        shots.take(page, "fetched")

        # Open the fetched notebook; Run All stops at the first TODO's check.
        page.goto(server.page(f"/lab/tree/{ASSIGNMENT}/{NOTEBOOK}.ipynb"))
        # Run All before the kernel is connected would clear the cells without running them.
        kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
        kernel_idle.wait_for(timeout=RUN_TIMEOUT)
        ui.menu(page, "Run", "Run All Cells")
        not_attempted = page.locator(".jp-OutputArea-output", has_text=f"{FIRST_FUNCTION}: not attempted yet")
        not_attempted.wait_for(timeout=RUN_TIMEOUT)
        kernel_idle.wait_for(timeout=RUN_TIMEOUT)  # Run All has stopped
        not_attempted.scroll_into_view_if_needed()
        shots.take(page, "run-all-stops-at-first-todo")
        check = ui.code_cell(page, 'checks.section("kNN"')
        message = check.locator(".jp-OutputArea-output").inner_text()
        assert "NotImplementedError" in message and "Replace the" in message
        prompts = _prompts(page)
        cells = page.locator(".jp-CodeCell")
        stop = next(i for i in range(cells.count()) if 'checks.section("kNN"' in
                    cells.nth(i).locator(".cm-content").inner_text())
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts[:stop + 1]), prompts[:stop + 1]
        assert all(p == "[ ]:" for p in prompts[stop + 1:]), "Run All went on after the failed check"
        given_output = ui.code_cell(page, "get_cifar10_data(").locator(".jp-OutputArea-output").inner_text()
        assert "Dataset: synthetic" in given_output

        # Type the answer into the first TODO's cell through the editor, run it and its check.
        source = solution_sources(read_nb(kit["course"].root / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))[FIRST_TODO]
        answer = ui.code_cell(page, f"def {FIRST_FUNCTION}(")
        editor = answer.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(source)
        typed = editor.inner_text()
        assert "raise NotImplementedError" not in typed and "np.sqrt" in typed
        shots.take(page, "answer-typed")
        page.keyboard.press("Shift+Enter")
        check.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        passed = check.locator(".jp-OutputArea-output", has_text=f"[ok] {FIRST_FUNCTION}")
        passed.wait_for(timeout=RUN_TIMEOUT)
        assert "not attempted" not in check.locator(".jp-OutputArea").inner_text()
        shots.take(page, "visible-check-passes")

        # Validate: nbgrader runs the whole notebook and lists what still fails.
        dialog = ui.validate(page, RUN_TIMEOUT)
        result = dialog.inner_text()
        shots.take(page, "validate-result")
        assert "not attempted yet" in result                  # the other TODOs
        assert f"{FIRST_FUNCTION}: not attempted" not in result
        assert dialog.locator(".validation-failed").count() == 1
        saved = json.loads((kit["course"].student_home / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
        assert any("np.sqrt" in cell_source(c) and FIRST_FUNCTION in cell_source(c)
                   for c in saved["cells"]), "Validate did not save the typed answer first"

        # Submit from the Assignments tab: the submission lands in the exchange's inbound folder.
        ui.close_dialog(dialog)
        ui.submit(page, ASSIGNMENT)
        shots.take(page, "submitted")
        inbound = kit["course"].exchange / COURSE_ID / "inbound"
        assert [p for p in inbound.iterdir() if f"+{ASSIGNMENT}+" in p.name], "no submission in the exchange"
        cached = list((kit["course"].exchange.parent / "nbgrader_cache" / COURSE_ID).iterdir())
        assert len(cached) == 1, f"the student's submission cache should hold this run's one submission: {cached}"
    except Exception:
        shots.take(page, "failure")
        raise
    finally:
        context.close()


def _wait_for_round(kit, timeout: float = 420.0) -> None:
    grading, deadline = kit["grading"], time.monotonic() + timeout
    while grading.poll() is None and time.monotonic() < deadline:
        time.sleep(1)
    log = kit["round_log"].read_text(errors="replace")[-3000:]
    assert grading.returncode == 0, f"grading round failed or timed out:\n{log}"


def test_instructor_formgrader_after_a_round(kit):
    """The instructor's formgrader after a grading round: assignments, scores, manual grading,
    and a feedback page without hidden-test code."""
    kit["instructor"].wait_ready()
    _wait_for_round(kit)
    root = kit["course"].root
    context, page, shots = _page(kit, "instructor")
    server = kit["instructor"]
    try:
        # Manage Assignments: exactly the three assignments.
        page.goto(server.page("/formgrader"))
        rows = page.locator("#main-table tr")
        page.locator("#main-table tr", has_text=ASSIGNMENT).first.wait_for()
        names = sorted(r.locator("td").first.inner_text().strip() for r in rows.all()
                       if r.locator("td").count() > 1)
        shots.take(page, "formgrader-assignments")
        assert names == ["assignment1", "assignment2", "assignment3"]

        # Manage Submissions: both students, with the gradebook's scores.
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            scores = {s.student.id: (s.score, s.max_score) for s in gb.assignment_submissions(ASSIGNMENT)}
        assert set(scores) == {"reference", "untouched"}
        assert scores["untouched"][0] == 0 < scores["reference"][0]
        page.goto(server.page(f"/formgrader/manage_submissions/{ASSIGNMENT}"))
        for student, (score, max_score) in scores.items():
            shown = page.locator("#main-table tr", has_text=student).locator(".score")
            shown.filter(has_text="/").wait_for()
            assert shown.inner_text().strip() == f"{score:g} / {max_score:g}"
        shots.take(page, "formgrader-submissions")

        # Manual Grading > assignment1 > knn: the autograded (code) score of each submission.
        code = {student: (f"{sum(g.auto_score or 0 for g in rows_ if not g.manual):g} / "
                          f"{sum(g.max_score for g in rows_ if not g.manual):g}")
                for student, rows_ in C.grades(root, ASSIGNMENT).items()}
        page.goto(server.page(f"/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}"))
        code_scores = page.locator("#main-table .code-score")
        code_scores.filter(has_text="/").first.wait_for()
        assert sorted(t.strip() for t in code_scores.all_inner_texts()) == sorted(code.values())
        shots.take(page, "formgrader-autograded-scores")

        # Grading an inline question by hand: the reference's notebook in formgrader.
        page.locator("#main-table tr", has_text=code["reference"]).locator("a", has_text="Submission").click()
        question = page.locator(".cell", has_text="Inline question 1").first
        question.wait_for()
        question.scroll_into_view_if_needed()
        assert question.locator("input.score").count() == 1
        shots.take(page, "formgrader-manual-grading")

        # The feedback page of the reference submission: hidden-test verdicts, no hidden-test code.
        feedback = root / "feedback" / "reference" / ASSIGNMENT / f"{NOTEBOOK}.html"
        assert feedback.exists()
        page.goto(server.page(f"/files/feedback/reference/{ASSIGNMENT}/{NOTEBOOK}.html"))
        verdict = page.get_by_text("Hidden tests: passed.").first
        verdict.wait_for()
        text = page.locator("body").inner_text()
        verdict.scroll_into_view_if_needed()
        shots.take(page, "feedback-page")
        hidden = hidden_lines(read_nb(root / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))
        assert hidden, "the instructor notebook has no hidden tests to look for"
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"hidden-test source in the feedback page: {leaked[:3]}"
        assert BEGIN_HIDDEN not in text and "their code is not shown" in text
        assert "tiny_knn" in text  # the visible tests are shown
    except Exception:
        shots.take(page, "failure")
        raise
    finally:
        context.close()
