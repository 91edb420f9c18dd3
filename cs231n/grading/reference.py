"""The reference run: what the instructor's solution observes in every test cell, made once and cached.

The grader never takes a student's process at its word. For each notebook it runs the instructor's
*source* notebook (reference solutions, hidden tests) once, in a grading kernel of its own that no
student code ever enters, exactly as a submission is run while graded (``NBGRADER_EXECUTION`` set,
same data, same budgets). What each test cell observed there (values, the rules to judge them by, the
inputs the reference prepared for the kernel) is the *reference record*. Grading a submission then
compares the student's observations with it (``cs231n.grading.judging``).

The record is cached as JSON under a key that covers everything that can change it: the assignment's
source folder (every notebook, ``given/``), the ``cs231n`` package, the dataset in use and the data
settings. Only the grader writes the cache; grading kernels can neither see nor change it (it lives in
the course folder or the grader's cache folder, both hidden from them). A reference solution that fails
one of its own tests is an instructor's error: ``ReferenceFailed`` stops grading that notebook and
names the test.

    python -m cs231n.grading.reference assignment1 [--course .]     # make every record ahead of grading
"""

import argparse
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

#: Bump when the record's format or meaning changes: old records are then made anew.
FORMAT = 1
#: Settings that change what a notebook loads or how much it trains.
DATA_SETTINGS = ("CS231N_DATASET", "CS231N_DATA_DIR", "CS231N_CIFAR10_DIR", "CS231N_CAPTIONS_DATASET",
                 "CS231N_COCO_DIR", "CS231N_BUDGET", "CS231N_FAST_BACKEND")
_SKIP = {".ipynb_checkpoints", "__pycache__", "datasets", "build"}


class ReferenceFailed(RuntimeError):
    """The reference solution does not pass its own tests (or its run failed)."""


def cache_folder(course_root: Path) -> Path:
    """Where reference records are kept: ``$CS231N_REFERENCE_CACHE``, else ``<course>/.cs231n/reference``."""
    env = os.environ.get("CS231N_REFERENCE_CACHE", "").strip()
    return Path(env).expanduser() if env else Path(course_root) / ".cs231n" / "reference"


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (_SKIP & set(path.relative_to(folder).parts)) and path.suffix not in (".pyc",):
            yield path


def _hash_folder(h, folder: Path, suffixes: tuple[str, ...] | None = None) -> None:
    for path in _files(folder):
        if suffixes is None or path.suffix in suffixes:
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")


def data_fingerprint() -> dict:
    """The datasets the notebooks would load now, and the settings that steer them."""
    from ..captioning.dataset import coco_dir, resolve_captions_dataset
    from ..data.dataset import resolve_dataset
    from ..data.paths import CIFAR10_BATCH_FILES, cifar10_dir

    out: dict = {name: os.environ.get(name, "") for name in DATA_SETTINGS}
    try:
        out["images"] = resolve_dataset("auto", quiet=True)
    except Exception as exc:  # noqa: BLE001 - a broken setting is part of the fingerprint, not an error here
        out["images"] = f"error: {exc}"
    if out["images"] == "cifar10":
        folder = cifar10_dir()
        out["cifar10"] = [(n, (folder / n).stat().st_size, (folder / n).stat().st_mtime_ns)
                          for n in CIFAR10_BATCH_FILES if (folder / n).is_file()]
    try:
        out["captions"] = resolve_captions_dataset("auto", quiet=True)
    except Exception as exc:  # noqa: BLE001
        out["captions"] = f"error: {exc}"
    if out["captions"] == "coco":
        folder = coco_dir()
        out["coco"] = [(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                       for p in sorted(folder.glob("*")) if p.is_file()]
    return out


def digest(source: Path, notebook: str) -> str:
    """The cache key of a notebook's reference record: what its run can depend on, which is the notebook,
    the sibling notebooks it loads, every other file of its folder (``given/``, data files), the package
    and the data it would load. Other notebooks of the folder are left out, so that a copy of the course
    holding only some notebooks shares the records of the whole course."""
    import cs231n

    from .course import with_siblings

    source = Path(source).resolve()
    h = hashlib.sha256(f"format {FORMAT}\n{notebook}\n".encode())
    needed = {f"{name}.ipynb" for name in with_siblings(source, [notebook])}
    for path in _files(source):
        name = str(path.relative_to(source))
        if path.parent != source or path.suffix != ".ipynb" or name in needed:
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    _hash_folder(h, Path(cs231n.__file__).resolve().parent, (".py", ".pyx", ".npz", ".json", ".so"))
    h.update(json.dumps(data_fingerprint(), sort_keys=True).encode())
    return h.hexdigest()


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_path(cache: Path, source: Path, notebook: str) -> Path:
    return Path(cache) / Path(source).resolve().name / f"{notebook}-{digest(source, notebook)[:32]}.json"


def load_or_make(source: Path, notebook: str, cache: Path, log: logging.Logger | None = None) -> dict:
    """The reference record of ``source/<notebook>.ipynb``: from the cache, else made now and cached.

    Inputs:
    - source: the assignment's folder of instructor source notebooks; notebook: its name without .ipynb.
    - cache: the folder of records (``cache_folder``).
    Returns: the record (``make``). Raises ReferenceFailed when the reference fails its own tests.
    """
    path = record_path(cache, source, notebook)
    with _locked(path.with_suffix(".lock")):
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError:
                pass  # a damaged record is made again
        record = make(source, notebook, log)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, allow_nan=True))
        os.replace(tmp, path)
        return record


def make(source: Path, notebook: str, log: logging.Logger | None = None, timeout: int = 300) -> dict:
    """Run the source notebook in a grading kernel in reference mode and collect what its tests observe.

    The notebook runs in a scratch copy of its assignment folder (its siblings and ``given/`` beside
    it), with ``NBGRADER_EXECUTION=autograde`` as in grading. Returns the record: ``cells`` maps each
    test cell's grade_id to its observations, the inputs it prepared (``supplies``), its judge block and
    a digest of its source.
    """
    import nbformat

    from .execute import RobustExecute

    log = log or logging.getLogger("cs231n.reference")
    source = Path(source).resolve()
    tic = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"cs231n-reference-{os.getpid()}-"))
    saved = os.environ.get("NBGRADER_EXECUTION")
    try:
        work = scratch / source.name
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        nb = nbformat.read(work / f"{notebook}.ipynb", as_version=4)
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        log.info("reference run of %s/%s.ipynb ...", source.name, notebook)
        # the instructor's own solution: sandboxed where the machine allows it, never refused for less
        ep = RobustExecute(mode="reference", timeout=timeout, require_isolation=False)
        ep.preprocess(nb, {"metadata": {"path": str(work)}})
        failures = list(ep.reference_failures)
        if ep._failure:
            failures.insert(0, ep._failure)
        if failures:
            raise ReferenceFailed(f"the reference solution of {source.name}/{notebook}.ipynb fails its own tests: "
                                  + "; ".join(failures[:5]))
    finally:
        if saved is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - tic
    log.info("reference run of %s/%s.ipynb: %d test cells in %.1f s", source.name, notebook, len(ep.recorded), seconds)
    return {"format": FORMAT, "assignment": source.name, "notebook": notebook, "seconds": round(seconds, 2),
            "cells": ep.recorded}


def make_all(course: Path, assignment: str, notebooks: Iterable[str], cache: Path | None = None,
             progress=print) -> dict[str, float]:
    """Make (or find) the records of an assignment's notebooks before a class is graded.

    Returns: notebook -> seconds spent (0 for a cached record). Raises ReferenceFailed."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course).resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    coursedir = CourseDirectory(config=config, root=str(course))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    cache = cache or cache_folder(course)
    out = {}
    for nb in notebooks:
        tic = time.perf_counter()
        cached = record_path(cache, source, nb).is_file()
        load_or_make(source, nb, cache)
        out[nb] = 0.0 if cached else time.perf_counter() - tic
        if not cached:
            progress(f"reference run of {assignment}/{nb}.ipynb: {out[nb]:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cs231n.grading.reference",
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
        print(f"cs231n.grading.reference: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
