"""Benchmark: how long nbgrader takes to autograde each notebook of a reference submission.

The autograde budget (``cs231n.budget``) promises at most 60 s per notebook on a 2-core machine.
This script measures it the way an instructor grades: a fresh course copy, the student release
generated, the reference solutions submitted as one student, then one serial ``nbgrader autograde``
process per assignment, twice (the first grading also makes each notebook's reference record, the
second finds it cached), exactly as configured in ``nbgrader_config.py`` (sandboxed, limited grading
kernels). nbgrader's log lines carry timestamps, so each notebook's time is read from them: from
"Sanitizing <notebook>" to the next notebook's (or the end of the run), i.e. sanitising, starting the
kernel, executing every cell and saving the grades. Data: whatever the kit uses by default (real
CIFAR-10 when present, else the synthetic set); ``--dataset`` forces one, or several (one column each).

    python benchmarks/bench_autograde.py                          # every assignment
    python benchmarks/bench_autograde.py --dataset synthetic cifar10 --write   # also update docs/RESULTS.md
"""

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from cs231n.grading.tools import course as C

LIMIT = 60.0  # seconds per notebook (the autograde budget's promise)
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+"  # starts every log line (the log format below)
STAMP = re.compile(rf"^({TIME}) .*?Sanitizing (\S+\.ipynb)")
MARK_BEGIN, MARK_END = "<!-- autograde-times:begin -->", "<!-- autograde-times:end -->"


def notebook_seconds(log: str, end: datetime) -> dict[str, float]:
    """Per-notebook grading time from an nbgrader log with timestamps: notebook -> seconds."""
    starts: list[tuple[str, datetime]] = []
    for line in log.splitlines():
        m = STAMP.match(line)
        if m:
            starts.append((Path(m.group(2)).stem, datetime.fromisoformat(m.group(1))))
    bounds = [t for _, t in starts[1:]] + [end]
    return {name: (stop - start).total_seconds() for (name, start), stop in zip(starts, bounds, strict=True)}


def grade_reference(course: Path, assignment: str, generate: bool = True) -> tuple[dict[str, float], float, int]:
    """Submit the reference solutions of ``assignment`` and autograde them with one nbgrader process.
    Returns (notebook -> seconds, whole run in seconds, autograded score)."""
    if generate:
        C.generate(course, assignment)
        C.submit_class(course, assignment, [C.Student("reference")])
    tic = time.perf_counter()
    res = C.nbgrader(course, "autograde", assignment, "--student", "reference", "--force",
                     "--Application.log_format=%(asctime)s.%(msecs)03d %(message)s",
                     "--Application.log_datefmt=%Y-%m-%d %H:%M:%S")
    seconds = time.perf_counter() - tic
    if res.returncode != 0:
        raise RuntimeError(f"nbgrader autograde {assignment} failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
    log = res.stdout + res.stderr
    end = datetime.fromisoformat(re.findall(rf"^{TIME}", log, re.M)[-1])
    times = notebook_seconds(log, end)
    score = sum(g.auto_score or 0 for g in C.grades(course, assignment)["reference"])
    return times, seconds, score


def table(times: dict[str, dict[tuple[str, str], float]], totals: dict[str, dict[str, tuple[float, float]]]) -> str:
    """Markdown: one row per notebook, one column per dataset and pass; then each assignment's whole run."""
    datasets = list(times)
    lines = ["| assignment | notebook | " + " | ".join(f"{d}, s" for d in datasets) + " |",
             "|---|---|" + "---|" * len(datasets)]
    for assignment, notebook in times[datasets[0]]:
        seconds = [times[d][assignment, notebook] for d in datasets]
        cells = [f"{s:.1f}" + ("" if s <= LIMIT else " **over**") for s in seconds]
        lines.append(f"| {assignment} | {notebook} | " + " | ".join(cells) + " |")
    for assignment in totals[datasets[0]]:
        cells = [f"{totals[d][assignment][0]:.1f} (score {totals[d][assignment][1]:g})" for d in datasets]
        lines.append(f"| {assignment} | whole nbgrader run, start-up included | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(text_table: str, header: str) -> None:
    page = C.repo_root() / "docs" / "RESULTS.md"
    text = page.read_text()
    block = f"{MARK_BEGIN}\n{header}\n\n{text_table}\n{MARK_END}"
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Autograde time per notebook\n\n" + block + "\n"
    page.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", help="assignments to grade (default: all)")
    parser.add_argument("--dataset", nargs="+", choices=["auto", "cifar10", "synthetic"], default=["auto"])
    parser.add_argument("--write", action="store_true", help="update docs/RESULTS.md")
    args = parser.parse_args(argv)
    root = C.repo_root()
    assignments = args.assignment or C.assignments_with_notebooks(root)
    load_before = os.getloadavg()[0]
    times: dict[str, dict[tuple[str, str], float]] = {}
    totals: dict[str, dict[str, tuple[float, float]]] = {}
    for dataset in args.dataset:
        os.environ["CS231N_DATASET"] = dataset  # read by the grading kernels
        with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
            course = C.prepare_course(root, Path(tmp) / "course", assignments)
            for assignment in assignments:
                for label, generate in ((f"{dataset}, first grading", True), (f"{dataset}, graded again", False)):
                    per_notebook, seconds, score = grade_reference(course, assignment, generate)
                    times.setdefault(label, {})
                    totals.setdefault(label, {})
                    for notebook, s in per_notebook.items():
                        print(f"{label} {assignment}/{notebook}: {s:.1f} s", flush=True)
                        times[label][assignment, notebook] = s
                    totals[label][assignment] = (seconds, score)
    header = (f"Measured by `benchmarks/bench_autograde.py --dataset {' '.join(args.dataset)}` on "
              f"{time.strftime('%Y-%m-%d %H:%M')} UTC: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
              f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after. Seconds per notebook "
              f"(limit {LIMIT:g} s); the score is the reference's autograded points. *First grading*: the grader "
              f"also makes the notebook's reference record (a trusted run of the source notebook, once per "
              f"notebook); *graded again*: the record is cached, as for every later submission of a class.")
    text_table = table(times, totals)
    print("\n" + header + "\n\n" + text_table)
    if args.write:
        write_results(text_table, header)
    return 0 if all(s <= LIMIT for per in times.values() for s in per.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
