"""nbgrader hooks for the course (wired up in ``nbgrader_config.py``)."""

import shutil
from pathlib import Path

from ..settings import GradingSettings
from .repair import repair_submission


def _locate(path: Path) -> tuple[Path, str, str] | None:
    """(course root, student, assignment) of ``<root>/submitted/<student>/<assignment>/<nb>.ipynb``."""
    parts = path.resolve().parts
    try:
        i = len(parts) - 1 - parts[::-1].index("submitted")
    except ValueError:
        return None
    if len(parts) < i + 4:
        return None
    return Path(*parts[:i]), parts[i + 1], parts[i + 2]


def prepare_submission(assignment=None, student=None, notebooks=(), **_):
    """Pre-convert hook of ``nbgrader autograde``, run before any notebook of a submission is graded.

    1. Makes every notebook of the assignment gradable on its own (``cs231n.grading.converters.repair``): an
       unreadable, missing or renamed notebook is replaced by the release marked *not graded* (0 points,
       with the reason), deleted or renamed instructor cells are put back; nbgrader's list of the
       submission's notebooks (``notebooks``, changed in place) then holds exactly the assignment's.
       A file other than a notebook over ``GradingSettings.submission_file_mb`` (of nbgrader's
       configuration) is kept aside.
    2. Puts every submitted notebook in the autograded folder before any of them runs: nbgrader grades
       them one at a time in name order and writes each into ``autograded/<student>/<assignment>/`` just
       before running it, so a notebook that loads a sibling (``cs231n.notebook_import.load_notebook``)
       would not find one that sorts after it.
    """
    located = next((loc for loc in map(_locate, map(Path, notebooks)) if loc), None)
    if located is None:
        return
    root, who, what = located
    folder = root / "submitted" / who / what
    release = root / "release" / what
    expected = sorted(p.stem for p in release.glob("*.ipynb"))
    if expected:
        repair_submission(folder, expected, release, root / ".cs231n" / "originals" / who / what,
                          GradingSettings.current(root).submission_file_mb)
        if isinstance(notebooks, list):
            notebooks[:] = [str(folder / f"{name}.ipynb") for name in expected if (folder / f"{name}.ipynb").exists()]
    dest = root / "autograded" / who / what
    dest.mkdir(parents=True, exist_ok=True)
    for path in map(Path, notebooks):
        shutil.copy2(path, dest / path.name)


#: The hook's earlier name, kept for course configurations written before it repaired submissions.
copy_siblings_before_grading = prepare_submission
