"""Benchmark: students autograded per minute, serial nbgrader against ``python -m cs231n.grade``.

Each configuration grades the same simulated class (reference, untouched release, every classic bug,
repeated to ``--students``) in a fresh copy of the course:

- serial: one ``nbgrader autograde ASSIGNMENT`` process for the whole class (what an instructor runs);
- workers=N: ``python -m cs231n.grade autograde ASSIGNMENT --workers N`` (local worker processes);
- dask=N: the same on a local Dask cluster of N worker processes (``--dask``).

Only the grading step is timed (generation and submission are set-up, done once; each run grades a
fresh copy). With ``--repeat R`` the configurations take turns, R rounds, and the table gives the
median time and the speed-up of each round (serial time of the round / its time). Prints the load
average before and after each run: on a shared machine, quote the load with the figures.

    python benchmarks/bench_grading.py --students 12 --repeat 3 --configs serial workers=2 dask=2
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs231n.grading.tools import course as C

ASSIGNMENT = "assignment1"


def build_course(dest: Path, notebooks: list[str], n_students: int) -> list[str]:
    """A fresh course copy with ``n_students`` simulated submissions; returns the student names."""
    course = C.prepare_course(C.repo_root(), dest, [ASSIGNMENT], notebooks)
    C.generate(course, ASSIGNMENT)
    base = C.demo_class(course, ASSIGNMENT, all_mutants=True)
    students = [C.Student(f"s{i:03d}_{base[i % len(base)].name}", base[i % len(base)].mutants)
                for i in range(n_students)]
    C.submit_class(course, ASSIGNMENT, students)
    return [s.name for s in students]


def run_config(config: str, course: Path) -> subprocess.CompletedProcess:
    """Grade the class in ``course`` as ``config`` says (serial, workers=N, dask=N)."""
    if config == "serial":
        return C.nbgrader(course, "autograde", ASSIGNMENT)
    kind, n = config.split("=")
    cmd = [sys.executable, "-m", "cs231n.grade", "autograde", ASSIGNMENT, "--course", str(course),
           "--workers", n, "--quiet"] + (["--dask"] if kind == "dask" else [])
    return subprocess.run(cmd, capture_output=True, text=True)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--notebook", action="append", help="notebooks of assignment1 to grade (default: knn)")
    parser.add_argument("--configs", nargs="+", default=["serial", "workers=2", "dask=2"])
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds; each round runs every configuration once, in turn (median reported)")
    args = parser.parse_args(argv)
    notebooks = args.notebook or ["knn"]

    print(f"bench_grading: {args.students} students, {ASSIGNMENT} notebooks {', '.join(notebooks)}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}")
    times: dict[str, list[float]] = {config: [] for config in args.configs}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        pristine = Path(tmp) / "pristine"
        build_course(pristine, notebooks, args.students)
        # Rounds interleave the configurations, so that a slow spell of a shared machine hits all of
        # them alike; each run grades a fresh copy of the same generated and submitted course.
        for r in range(args.repeat):
            for config in args.configs:
                course = Path(tmp) / f"{config.replace('=', '')}-{r}"
                shutil.copytree(pristine, course, symlinks=True)
                before = load()
                tic = time.perf_counter()
                res = run_config(config, course)
                seconds = time.perf_counter() - tic
                graded = len(C.grades(course, ASSIGNMENT))
                print(f"  round {r + 1} {config}: {seconds:.1f} s, {graded} graded, exit {res.returncode}, "
                      f"load {before} -> {load()}", flush=True)
                if graded != args.students:
                    print(res.stdout[-3000:] + res.stderr[-3000:])
                times[config].append(seconds)
                shutil.rmtree(course, ignore_errors=True)
    medians = {config: statistics.median(ts) for config, ts in times.items()}
    serial = times.get("serial")
    print(f"\n| configuration | seconds (median of {args.repeat}) | students/min | speed-up vs serial "
          "(median) | speed-up per round |")
    print("|---|---|---|---|---|")
    for config, seconds in medians.items():
        speedup = f"{medians['serial'] / seconds:.2f}x" if serial else "-"
        rounds = ", ".join(f"{a / b:.2f}x" for a, b in zip(serial, times[config], strict=True)) if serial else "-"
        print(f"| {config} | {seconds:.1f} | {args.students / seconds * 60:.1f} | {speedup} | {rounds} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
