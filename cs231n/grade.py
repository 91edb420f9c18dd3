"""Grade a whole class in parallel with nbgrader: ``python -m cs231n.grade autograde ASSIGNMENT``.

Runs nbgrader's own ``autograde`` once per submitted student, several at a time, on this machine
(``--workers N``) or on a Dask cluster (``--dask`` for a local one, ``--scheduler ADDRESS`` for a
real one), and records every score in the course gradebook as a serial ``nbgrader autograde`` would.
Unchanged submissions are skipped unless ``--force``. Prints progress, then a report that is also
written as ``grading_report_<assignment>.csv`` / ``.json`` in the course folder.

Exit status: 0 when every submission was graded cleanly, 1 when something needs the instructor's
attention (a failed grading, a timeout, a dead kernel, a notebook not graded), 2 when grading could
not start (no such assignment in the gradebook, bad options, no isolation, a reference solution that
fails its tests, an unreachable scheduler or gradebook), 130 when interrupted (Ctrl-C: finished
submissions are kept, the report says what was done, and the same command grades the rest).

See docs/INSTRUCTOR_SCALE.md for a course server with PostgreSQL and Dask workers.
"""

import argparse
import os
import re
import sys
from pathlib import Path

from .data.errors import DatasetSettingError
from .grading.coordinator.parallel import LocalPool, Options, grade_class
from .grading.coordinator.report import read_report, summary, write_report
from .grading.judge.records import ReferenceFailed
from .grading.kernel.isolation import IsolationUnavailable
from .grading.settings import retired_variables_note


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cs231n.grade", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("autograde", help="autograde every changed submission of an assignment in parallel")
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=Path("."), help="course folder with nbgrader_config.py (default: .)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at once (default: the number of CPUs)")
    p.add_argument("--dask", action="store_true", help="run the workers on a local Dask cluster")
    p.add_argument("--scheduler", help="address of a Dask scheduler (tcp://host:8786): grade on its workers")
    p.add_argument("--worker-course", help="the course folder as the Dask workers see it (default: same path)")
    p.add_argument("--ship-files", action="store_true",
                   help="send each submission to the worker and its autograded notebooks and feedback back "
                        "(workers with their own copy of the course instead of a shared file system)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--force", action="store_true", help="grade again even submissions that did not change")
    p.add_argument("--db-url", help="gradebook URL (default: the course's CourseDirectory.db_url)")
    p.add_argument("--submission-timeout", type=float, default=3600,
                   help="wall-time limit of one submission, seconds (default 3600; 0 = none)")
    # these set grading settings (cs231n/grading/settings.py) of every nbgrader run: --GradingSettings.<name>
    p.add_argument("--notebook-timeout", type=int, default=900,
                   help="wall-time limit of one notebook, seconds (GradingSettings.notebook_timeout; default 900; "
                        "0 = none)")
    p.add_argument("--memory-mb", type=int, help="memory limit of each grading kernel (GradingSettings."
                                                  "kernel_memory_mb; default: the course configuration's)")
    p.add_argument("--cpu-seconds", type=int, help="CPU-time limit of each grading kernel (GradingSettings."
                                                    "kernel_cpu_seconds; default: the course configuration's)")
    p.add_argument("--threads-per-kernel", type=int,
                   help="BLAS threads per grading kernel (GradingSettings.kernel_threads; default: CPUs / "
                        "workers, unless --scheduler)")
    p.add_argument("--feedback", action="store_true", help="also generate feedback for each graded student")
    p.add_argument("--allow-unisolated", action="store_true",
                   help="grade even where grading kernels cannot be fully isolated (read-only, namespaces, an "
                        "unprivileged user; GradingSettings.require_isolation = False); the report records "
                        "what each submission had")
    p.add_argument("--report-dir", type=Path, help="where to write the CSV/JSON report (default: the course)")
    p.add_argument("--nbgrader-arg", action="append", default=[],
                   help="extra option passed to nbgrader, e.g. --nbgrader-arg=--Execute.timeout=60 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    course = args.course.resolve()
    if not (course / "nbgrader_config.py").exists():
        print(f"cs231n.grade: no nbgrader_config.py in {course}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("cs231n.grade: --workers must be at least 1", file=sys.stderr)
        return 2
    local = not (args.dask or args.scheduler)
    threads = args.threads_per_kernel
    if threads is None and not args.scheduler:  # all workers on this machine
        threads = max(1, (os.cpu_count() or 1) // args.workers)
    options = Options(
        force=args.force, db_url=args.db_url,
        submission_timeout=args.submission_timeout or None, notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds, threads_per_kernel=threads,
        feedback=args.feedback, extra_args=args.nbgrader_arg, ship_files=args.ship_files,
        allow_unisolated=args.allow_unisolated,
    )
    if args.scheduler and not SCHEDULER.match(args.scheduler):
        return fail(f"--scheduler needs the scheduler's address with its port, e.g. tcp://{args.scheduler}:8786")
    try:
        pool = LocalPool(args.workers) if local else dask_pool(args)
    except Exception as exc:  # noqa: BLE001 - any way of not reaching the cluster is one sentence
        return fail(f"cannot reach the Dask scheduler at {args.scheduler} ({first_line(exc)}); is it running, "
                    "and is the address right?" if args.scheduler else f"cannot start a local Dask cluster "
                    f"({first_line(exc)})")
    progress = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if note := retired_variables_note():
        print(f"cs231n.grade: warning: {note}", file=sys.stderr)
    try:
        report = grade_class(course, args.assignment, options, pool, students=args.student, progress=progress,
                             report_dir=args.report_dir)
    except (LookupError, IsolationUnavailable, ReferenceFailed, DatasetSettingError) as exc:
        return fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - a gradebook that cannot be opened, in one sentence
        if type(exc).__module__.startswith("sqlalchemy"):
            return fail(f"cannot open the gradebook at {options.db_url or 'the course folder'} ({first_line(exc)})")
        raise
    finally:
        pool.close()
    print(summary(report))
    csv_path, json_path = write_report(report, args.report_dir or course)
    mine = {r.student for r in report.results}
    still_open = [s for s in read_report(json_path).get("needs_attention", []) if s not in mine]
    if still_open:
        print(f"Still open from earlier runs: {len(still_open)} need your attention: {', '.join(still_open)}")
    print(f"Report: {csv_path} and {json_path.name}")
    if report.interrupted:
        done = sum(r.status == "graded" for r in report.results)
        print(f"Interrupted: {done} submissions graded before the interruption are kept. Run the same command "
              "again to grade the rest (graded submissions are skipped).", file=sys.stderr)
        return 130
    return 1 if report.needs_attention else 0


#: A Dask scheduler address: an optional protocol, a host and a port.
SCHEDULER = re.compile(r"^([a-z]+://)?[^:/\s]+:\d+$")


def fail(message: str) -> int:
    """Print one sentence and return the exit status of "grading could not start"."""
    print(f"cs231n.grade: {message}", file=sys.stderr)
    return 2


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def dask_pool(args):
    from .grading.coordinator.cluster import DaskPool

    return DaskPool(args.scheduler, args.workers, args.worker_course)


if __name__ == "__main__":
    raise SystemExit(main())
