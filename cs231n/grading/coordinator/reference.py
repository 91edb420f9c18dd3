"""The reference run: what the instructor's solution observes in every test cell, made once and cached.

The grader never takes a student's process at its word. For each notebook it runs the instructor's
*source* notebook (reference solutions, hidden tests) once, in a grading kernel of its own that no
student code ever enters, exactly as a submission is run while graded (``NBGRADER_EXECUTION`` set,
same data, same budgets). What each test cell observed there (values, the rules to judge them by, the
inputs the reference prepared for the kernel) is the *reference record*. Grading a submission then
compares the student's observations with it (``cs231n.grading.judge.judging``).

The record is made by ``RobustExecute`` in reference mode (``cs231n.grading.converters.execute.make_reference``)
and cached by ``cs231n.grading.judge.records`` under a key that covers everything that can change it: the
assignment's source folder, the ``cs231n`` package, the dataset in use and the data settings. Only the
grader writes the cache; grading kernels can neither see nor change it (it lives in the course folder
or the grader's cache folder, both hidden from them). A reference solution that fails
one of its own tests is an instructor's error: ``ReferenceFailed`` stops grading that notebook and
names the test.

    python -m cs231n.grading.coordinator.reference assignment1 [--course .]     # make every record ahead of grading
"""

import argparse
import sys
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from traitlets.config import Config

from ..judge.records import ReferenceFailed, cache_folder, load_or_make, record_path
from ..settings import GradingSettings, course_config


def make_all(course: Path, assignment: str, notebooks: Iterable[str], cache: Path | None = None,
             progress=print, config: Config | None = None) -> dict[str, float]:
    """Make (or find) the records of an assignment's notebooks before a class is graded.

    ``config``: the nbgrader configuration to grade with (default: the course's, ``course_config``);
    its grading settings say where the records are kept and how the reference kernels are limited.
    Returns: notebook -> seconds spent (0 for a cached record). Raises ReferenceFailed."""
    from nbgrader.coursedir import CourseDirectory

    from ..converters.execute import make_reference

    course = Path(course).resolve()
    config = config if config is not None else course_config(course)
    coursedir = CourseDirectory(config=config, root=str(course))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    cache = cache or cache_folder(course, GradingSettings(config=config).reference_cache)
    make = partial(make_reference, config=config)
    out = {}
    for nb in notebooks:
        tic = time.perf_counter()
        cached = record_path(cache, source, nb).is_file()
        load_or_make(source, nb, cache, make)
        out[nb] = 0.0 if cached else time.perf_counter() - tic
        if not cached:
            progress(f"reference run of {assignment}/{nb}.ipynb: {out[nb]:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cs231n.grading.coordinator.reference",
                                     description="Make the reference records of an assignment ahead of grading.")
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=Path("."))
    parser.add_argument("--notebook", action="append", help="only this notebook (name without .ipynb)")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    notebooks = args.notebook or sorted(p.stem for p in (course / "source" / args.assignment).glob("*.ipynb"))
    try:
        make_all(course, args.assignment, notebooks)
    except ReferenceFailed as exc:
        print(f"cs231n.grading.coordinator.reference: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
