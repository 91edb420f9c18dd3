"""Autograde a whole class in parallel with nbgrader's own ``autograde``, one process per submission.

The coordinator (``grade_class``) lists the submitted students, keeps those that nbgrader itself would
grade (everything with ``force``; otherwise submissions never graded or submitted again since), and
hands them one at a time to a pool of workers: threads that each run ``nbgrader autograde A --student
S`` in a subprocess (``LocalPool``), or tasks on a Dask cluster (``cs231n.grading.coordinator.cluster``). Every
worker writes straight into the course gradebook, so scores, comments and manual grades end up exactly
as a serial ``nbgrader autograde`` leaves them:

- SQLite: the gradebook URL gets a busy timeout (``?timeout=``), so concurrent writers wait for each
  other instead of failing with "database is locked"; a run that fails on a locked database anyway is
  retried;
- PostgreSQL (``CourseDirectory.db_url``): concurrent writers need nothing special.

Each submission runs under limits: ``submission_timeout`` (wall time of the whole nbgrader process,
which is killed with its kernels; the student is reported as "timeout" and graded again next time),
and the grading settings (``cs231n.grading.settings``) that ``Options`` sets: ``notebook_timeout``,
``memory_mb``, ``cpu_seconds``, ``threads_per_kernel``, ``allow_unisolated``. They reach every nbgrader
run as ``--GradingSettings.<name>=<value>`` options (``Options.settings``); what they leave unset comes
from the course's ``nbgrader_config.py``.
"""

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..outcomes import STOPPED, stop_problem
from ..settings import command_line
from .gradebook import assignment_notebooks, fill_scores, resolve_db_url
from .procs import run_nbgrader, start_fork_server, without_noise
from .report import ClassReport, SubmissionResult, last_seconds, progress_line

SUBMITTED, AUTOGRADED, FEEDBACK = "submitted", "autograded", "feedback"
LOCKED = "database is locked"


@dataclass
class Options:
    """How to grade each submission (the same for every worker)."""

    force: bool = False                  # grade again even if unchanged (nbgrader's --force)
    db_url: str | None = None            # gradebook URL; None = the course's nbgrader configuration
    submission_timeout: float | None = None  # wall time of one submission's nbgrader run, seconds
    notebook_timeout: int | None = None  # wall time of one notebook, seconds
    memory_mb: int | None = None         # kernel address-space limit
    cpu_seconds: int | None = None       # kernel CPU-time limit
    threads_per_kernel: int | None = None  # BLAS/OpenMP threads in each grading kernel
    feedback: bool = False               # also run generate_feedback for each graded student
    retries: int = 2                     # extra attempts after a "database is locked" failure
    fork: bool = True                    # start nbgrader from a fork server with nbgrader imported
    ship_files: bool = False             # send submissions to the workers and their results back
    allow_unisolated: bool = False       # grade even where kernels cannot be fully isolated
    extra_args: list[str] = field(default_factory=list)  # more nbgrader options, e.g. --Execute.timeout=60

    def settings(self) -> dict[str, object]:
        """The grading settings these options set (``GradingSettings`` trait -> value); the others keep
        the course configuration's values."""
        values: dict[str, object] = {"kernel_memory_mb": self.memory_mb, "kernel_cpu_seconds": self.cpu_seconds,
                                     "notebook_timeout": self.notebook_timeout,
                                     "kernel_threads": self.threads_per_kernel or None,
                                     "require_isolation": False if self.allow_unisolated else None}
        return {name: value for name, value in values.items() if value is not None}


def submitted_students(course: Path, assignment: str) -> list[str]:
    """Students with a submission folder ``submitted/<student>/<assignment>/``, sorted."""
    return sorted(p.parent.name for p in Path(course).glob(f"{SUBMITTED}/*/{assignment}") if p.is_dir())


def longest_first(course: Path, assignment: str, students: list[str],
                  previous: Mapping[str, float] | None = None) -> list[str]:
    """The order to grade ``students`` in, so that no long submission is left for the end of the round
    while the other workers sit idle: by ``previous`` seconds (the last grading report), longest first,
    students without one before everyone; among those, the submissions with the fewest answer cells left
    unattempted (``NotImplementedError`` still in the source: such cells run in no time) first; then by
    name."""
    previous = previous or {}

    def unattempted(student: str) -> int:
        folder = Path(course) / SUBMITTED / student / assignment
        return sum(p.read_bytes().count(b"NotImplementedError") for p in folder.glob("*.ipynb"))

    def key(student: str) -> tuple[float, int, str]:
        if student in previous:
            return -previous[student], 0, student
        return -float("inf"), unattempted(student), student

    return sorted(students, key=key)


def read_timestamp(folder: Path) -> str | None:
    path = folder / "timestamp.txt"
    if not path.exists():
        return None
    return path.read_text().strip() or None


def needs_grading(course: Path, assignment: str, student: str) -> bool:
    """nbgrader's own rule without --force: grade if never graded, or submitted again since."""
    from nbgrader.utils import parse_utc

    dest = Path(course) / AUTOGRADED / student / assignment
    if not dest.exists():
        return True
    new, old = read_timestamp(Path(course) / SUBMITTED / student / assignment), read_timestamp(dest)
    return new is not None and old is not None and parse_utc(new) > parse_utc(old)


def isolation_of(folder: Path) -> str:
    """The isolation the grading kernels of a student's autograded notebooks had, as one string."""
    seen = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            info = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("cs231n", {}).get("isolation")
        except (OSError, ValueError):
            continue
        if isinstance(info, dict):
            level = str(info.get("isolation", "unknown"))
            seen[path.stem] = level if level == "full" else f"{level} ({info.get('reason', '')})"
    if not seen:
        return ""
    if set(seen.values()) == {"full"}:
        return "full"
    return "; ".join(f"{nb}: {level}" for nb, level in seen.items())


def execution_problems(folder: Path) -> list[str]:
    """Dead kernels and timeouts that ``RobustExecute`` recorded in a student's autograded notebooks
    (``metadata.cs231n.stopped``, see ``outcomes``), and the problems ``cs231n.grading.converters.repair`` found (a
    notebook not graded, instructor cells put back)."""
    problems: list[str] = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        meta = nb.get("metadata", {}).get("cs231n", {})
        if meta.get("not_graded"):
            problems.append(f"not graded: {path.name}: {meta['not_graded']}")
        else:
            problems += [f"repaired: {path.name}: {p}" for p in meta.get("problems", [])]
        problem = stop_problem(meta.get(STOPPED), path.name)
        if problem and problem not in problems:
            problems.append(problem)
    return problems


def nbgrader_env(options: Options | None = None) -> dict[str, str]:
    """The environment of an nbgrader process: this interpreter's bin folder first on PATH (nbgrader
    runs `alembic` and kernels from PATH), no NBGRADER_EXECUTION inherited from a notebook, and as many
    BLAS threads for nbgrader's own NumPy as its kernels get. The grading settings are not in it: they
    are options of nbgrader's command line (``nbgrader_args``)."""
    options = options or Options()
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    env.pop("NBGRADER_EXECUTION", None)
    # Dask's nannies set this for their workers; NumPy code with large temporaries (most notebooks) runs
    # 2-3 times slower under it, as glibc then returns and page-faults memory on every call
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    if options.threads_per_kernel:
        # the kernels' own threads are the launcher's --threads (GradingSettings.kernel_threads)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, str(options.threads_per_kernel))
    return env


def sqlite_with_timeout(db_url: str, seconds: int = 120) -> str:
    """A SQLite URL whose connections wait up to ``seconds`` for a lock (other URLs unchanged)."""
    if not db_url.startswith("sqlite") or "timeout=" in db_url:
        return db_url
    return db_url + ("&" if "?" in db_url else "?") + f"timeout={seconds}"


def nbgrader_args(command: str, assignment: str, student: str, options: Options, force: bool) -> list[str]:
    """nbgrader's command line for one student: ``command`` (autograde, generate_feedback), the
    gradebook, and for autograde the grading settings of ``options`` (``--GradingSettings.*``)."""
    args = [command, assignment, "--student", student]
    if force:
        args.append("--force")
    if options.db_url:
        args.append(f"--CourseDirectory.db_url={sqlite_with_timeout(options.db_url)}")
    if command == "autograde":
        args += command_line(options.settings())
    return args + list(options.extra_args)


def pack(course: Path, folders: Iterable[str]) -> dict[str, bytes]:
    """Every file under the given course-relative folders: relative path -> content."""
    out = {}
    for folder in folders:
        for path in sorted((Path(course) / folder).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(course))] = path.read_bytes()
    return out


def unpack(course: Path, files: dict[str, bytes], folders: Iterable[str]) -> None:
    """Replace the given course-relative folders with the shipped ``files``."""
    for folder in folders:
        shutil.rmtree(Path(course) / folder, ignore_errors=True)
    for rel, data in files.items():
        path = Path(course) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def result_folders(assignment: str, student: str, feedback: bool) -> list[str]:
    """The course-relative folders a grading run writes for a student."""
    return [f"{AUTOGRADED}/{student}/{assignment}"] + ([f"{FEEDBACK}/{student}/{assignment}"] if feedback else [])


def grade_submission(course: str | Path, assignment: str, student: str, options: Options,
                     expected: Iterable[str] = (), shipped: dict[str, bytes] | None = None) -> SubmissionResult:
    """Autograde one student's submission with nbgrader in a subprocess (this runs on a worker).

    Inputs:
    - course: the course folder (holds nbgrader_config.py); assignment, student: ids
    - options: limits and nbgrader options; ``options.db_url`` must be set (see ``resolve_db_url``)
    - expected: the assignment's notebook names
    - shipped: the submission's files (``pack``) when this worker has its own copy of the course; the
      results then come back in ``SubmissionResult.files``
    Returns: a ``SubmissionResult`` (score not filled in; the coordinator reads it from the gradebook).
    """
    import socket

    course = Path(course)
    if shipped is not None:
        unpack(course, shipped, [f"{SUBMITTED}/{student}/{assignment}"])
        options = replace(options, force=True)  # this copy's earlier results say nothing: grade it
    result = SubmissionResult(student, "graded", worker=f"{socket.gethostname()}:{os.getpid()}")
    # notebooks missing or unreadable are replaced before grading by the course's pre-convert hook
    # (cs231n.grading.converters.repair); the reasons come back from the autograded notebooks (execution_problems)
    env = nbgrader_env(options)
    logs = []
    tic = time.perf_counter()
    for attempt in range(1 + max(0, options.retries)):
        result.attempts = attempt + 1
        left = None
        if options.submission_timeout is not None:
            left = max(1.0, options.submission_timeout - (time.perf_counter() - tic))
        force = options.force or attempt > 0
        run = run_nbgrader(nbgrader_args("autograde", assignment, student, options, force), course, env, left,
                           options.fork)
        logs.append(run.output)
        if run.timed_out or run.returncode == 0 or LOCKED not in run.output:
            break
    if run.timed_out:
        result.status = "failed"
        result.problems.append(f"timeout: grading took over {options.submission_timeout:g} s and was stopped")
        # as nbgrader does with a failed submission: remove it, so that the next run grades it again
        shutil.rmtree(course / AUTOGRADED / student / assignment, ignore_errors=True)
    elif run.returncode != 0:
        result.status = "failed"
        if LOCKED in run.output:
            result.problems.append(f"nbgrader error: {LOCKED} after {result.attempts} attempts")
        else:
            lines = [ln for ln in without_noise(run.output).splitlines() if "ERROR" in ln or "Error" in ln]
            result.problems.append(f"nbgrader error: exit {run.returncode}: {(lines or ['no message'])[-1][:200]}")
    if result.status == "graded":
        result.problems += execution_problems(course / AUTOGRADED / student / assignment)
        result.isolation = isolation_of(course / AUTOGRADED / student / assignment)
        if options.feedback:
            fb = run_nbgrader(nbgrader_args("generate_feedback", assignment, student, options, True), course, env,
                              options.submission_timeout, options.fork)
            logs.append(fb.output)
            if fb.returncode != 0:
                result.problems.append(f"nbgrader error: generate_feedback exited {fb.returncode}")
    result.seconds = time.perf_counter() - tic
    result.log = "\n".join(logs)[-20000:]
    if shipped is not None:
        result.files = pack(course, result_folders(assignment, student, options.feedback))
    return result


class LocalPool:
    """Workers on this machine: ``workers`` threads, each running one nbgrader subprocess at a time."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)

    def map_unordered(self, fn: Callable, jobs: Iterable[tuple]) -> Iterator[SubmissionResult]:
        """``fn(*job)`` for every job, results as they finish; jobs are taken from the iterable only
        when a worker is about to need them (at most two per worker in flight)."""
        jobs = iter(jobs)
        self._executor = pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            running = set()
            while True:
                while len(running) < 2 * self.workers and (job := next(jobs, None)) is not None:
                    running.add(pool.submit(fn, *job))
                if not running:
                    return
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Interrupted: cancel the jobs not started, kill the runs going on (they end within a second)."""
        from .procs import kill_active

        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        kill_active()
        if executor is not None:
            executor.shutdown(wait=True)

    def close(self) -> None:
        pass


def grade_class(course: Path, assignment: str, options: Options, pool=None, students: list[str] | None = None,
                progress: Callable[[str], None] = print, report_dir: Path | None = None) -> ClassReport:
    """Autograde every (changed) submission of ``assignment`` with ``pool``'s workers.

    Inputs:
    - course: the course folder; assignment: its id
    - options: see ``Options``; pool: ``LocalPool`` (default: 1 worker) or a Dask pool
    - students: only these (default: every submitted student)
    - progress: called with one line per finished submission (done/total, failures, ETA)
    - report_dir: where the last grading report is (default: the course); its times set the order
    Returns: a ``ClassReport``, scores filled in from the gradebook.
    """
    from ..kernel.isolation import check_isolation
    from ..settings import GradingSettings, course_config
    from .reference import make_all

    course = Path(course).resolve()
    pool = pool or LocalPool(1)
    if isinstance(pool, LocalPool) and options.fork:
        start_fork_server()  # its imports overlap with the coordinator's own reading of the gradebook
    config = course_config(course, options.settings())  # what the workers' nbgrader runs will have
    check_isolation(GradingSettings(config=config))
    from ...data.paths import check_settings

    check_settings()  # a data setting that cannot be honoured stops grading before it starts
    options.db_url = resolve_db_url(course, options.db_url)
    expected = assignment_notebooks(options.db_url, assignment)
    if isinstance(pool, LocalPool):  # workers on this machine share the course's reference records
        make_all(course, assignment, expected, progress=progress, config=config)
    everyone = students if students is not None else submitted_students(course, assignment)
    todo = [s for s in everyone if options.force or needs_grading(course, assignment, s)]
    todo = longest_first(course, assignment, todo, last_seconds(report_dir or course, assignment))
    results = [SubmissionResult(s, "skipped") for s in everyone if s not in todo]
    tic = time.perf_counter()
    progress(f"grading {len(todo)} of {len(everyone)} submissions of {assignment} "
             f"({len(results)} unchanged) with {getattr(pool, 'workers', '?')} workers")
    jobs = ((str(course), assignment, s, options, expected,
             pack(course, [f"{SUBMITTED}/{s}/{assignment}"]) if options.ship_files else None) for s in todo)
    failures, interrupted, finished = 0, False, set()
    try:
        for done, result in enumerate(pool.map_unordered(grade_submission, jobs), 1):
            if result.files is not None:
                unpack(course, result.files, result_folders(assignment, result.student, options.feedback))
                result.files = None
            results.append(result)
            finished.add(result.student)
            failures += result.needs_attention
            progress(progress_line(result, done, len(todo), failures, time.perf_counter() - tic))
    except KeyboardInterrupt:
        interrupted = True
        progress("interrupted: stopping the submissions being graded ...")
        pool.stop()
        for student in todo:
            if student not in finished:  # partly graded or not started: graded again by the next run
                shutil.rmtree(course / AUTOGRADED / student / assignment, ignore_errors=True)
                results.append(SubmissionResult(student, "not graded", problems=["not graded: interrupted"]))
    elapsed = time.perf_counter() - tic
    from ..kernel.limits import remove_stale

    remove_stale()  # folders of grading runs that were killed (an interruption, a timeout)
    fill_scores(options.db_url, assignment, [r for r in results if r.status != "not graded"])
    results.sort(key=lambda r: r.student)
    return ClassReport(assignment, results, elapsed, getattr(pool, "workers", 1), type(pool).__name__, interrupted)
