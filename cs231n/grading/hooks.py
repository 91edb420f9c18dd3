"""nbgrader hooks for the course (wired up in ``nbgrader_config.py``)."""

import shutil
from pathlib import Path


def copy_siblings_before_grading(assignment=None, student=None, notebooks=(), **_):
    """Pre-convert hook of ``nbgrader autograde``: put every submitted notebook of the assignment in
    the autograded folder before any of them runs.

    nbgrader grades a submission's notebooks one at a time in name order and writes each into
    ``autograded/<student>/<assignment>/`` just before running it, so a notebook that loads a sibling
    (``cs231n.notebook_import.load_notebook``) would not find one that sorts after it. The hook
    receives the submitted notebooks' paths (``.../submitted/<student>/<assignment>/<name>.ipynb``).
    """
    for path in map(Path, notebooks):
        parts = path.resolve().parts
        try:
            i = len(parts) - 1 - parts[::-1].index("submitted")
        except ValueError:
            continue
        dest = Path(*parts[:i], "autograded", *parts[i + 1 : -1])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / path.name)
