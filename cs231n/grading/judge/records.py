"""Reference records on disk: their cache key, where they are kept, and reading or writing one under a lock.

A reference record is what the instructor's solution observes in every test cell of a notebook
(``cs231n.grading.coordinator.reference`` says how it is made and used). It is cached as JSON under a key that
covers everything that can change it: the assignment's source folder (the notebook, the sibling
notebooks it loads, ``given/``), the ``cs231n`` package, the dataset in use and the data settings.
Only the grader writes the cache; grading kernels can neither see nor change it.
"""

import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from ...notebook_cells import cell_source

#: Bump when the record's format or meaning changes: old records are then made anew.
FORMAT = 1
#: Settings that change what a notebook loads or how much it trains.
DATA_SETTINGS = ("CS231N_DATASET", "CS231N_DATA_DIR", "CS231N_CIFAR10_DIR", "CS231N_CAPTIONS_DATASET",
                 "CS231N_COCO_DIR", "CS231N_BUDGET", "CS231N_FAST_BACKEND")
_SKIP = {".ipynb_checkpoints", "__pycache__", "datasets", "build"}


LOADS_SIBLING = re.compile(r"""(?:load|from)_notebook\(\s*["']([\w.-]+)\.ipynb["']""")


def with_siblings(folder: Path, names: list[str]) -> set[str]:
    """The notebooks ``names`` of an assignment folder plus every sibling they load with
    ``load_notebook("X.ipynb")`` or ``from_notebook("X.ipynb", ...)``, directly or through another
    sibling (names without .ipynb)."""
    keep, todo = set(), list(names)
    while todo:
        name = todo.pop()
        path = folder / f"{name}.ipynb"
        if name in keep or not path.is_file():
            continue
        keep.add(name)
        cells = json.loads(path.read_text()).get("cells", [])
        source = "\n".join(cell_source(c) for c in cells)
        todo += LOADS_SIBLING.findall(source)
    return keep


class ReferenceFailed(RuntimeError):
    """The reference solution does not pass its own tests (or its run failed)."""


def cache_folder(course_root: Path, configured: str = "") -> Path:
    """Where reference records are kept: the folder ``configured`` (``GradingSettings.reference_cache``)
    if one is, else ``<course>/.cs231n/reference``."""
    configured = configured.strip()
    return Path(configured).expanduser() if configured else Path(course_root) / ".cs231n" / "reference"


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
    from ...captioning.dataset import coco_dir, resolve_captions_dataset
    from ...data.dataset import resolve_dataset
    from ...data.paths import CIFAR10_BATCH_FILES, cifar10_dir

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


def load_or_make(source: Path, notebook: str, cache: Path, make: Callable[..., dict],
                 log: logging.Logger | None = None) -> dict:
    """The reference record of ``source/<notebook>.ipynb``: from the cache, else made now and cached.

    Inputs:
    - source: the assignment's folder of instructor source notebooks; notebook: its name without .ipynb.
    - cache: the folder of records (``cache_folder``).
    - make: ``make(source, notebook, log)`` runs the reference and returns its record
      (``cs231n.grading.converters.execute.make_reference``).
    Returns: the record. Raises ReferenceFailed when the reference fails its own tests.
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
