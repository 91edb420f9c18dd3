"""Each notebook of a submission is graded on its own: what nbgrader cannot grade is repaired or replaced
before grading starts, and the reason is recorded.

nbgrader grades a submission's notebooks in one go: one notebook it cannot read (invalid JSON, an empty
file), or whose instructor cells were renamed or deleted, stops the whole submission, removes what was
graded, and leaves the student without scores or feedback for their other notebooks. Before nbgrader
starts on a submission, ``repair_submission`` looks at every notebook the assignment has:

- **unreadable** (not JSON, empty, not a version-4 notebook): replaced by the released notebook (every
  answer a stub) marked *not graded*, so it scores 0 with the reason, and the others are graded;
- **missing** (not submitted, or submitted under another name such as ``svm (1).ipynb``): the same, the
  reason naming the file found instead; a notebook that is not part of the assignment is moved aside;
- **instructor cells deleted**: put back from the release where they were (nbgrader then restores their
  source and grades them as usual), noted;
- **a grade_id changed or invented**: the cell loses its nbgrader metadata (it becomes an ordinary cell)
  and the instructor cell it replaced is put back, noted.

The submitted files that were changed are kept, as they were, in ``.cs231n/originals/<student>/
<assignment>/`` of the course folder. The reasons travel in the notebook's metadata
(``metadata.cs231n.problems``, ``metadata.cs231n.not_graded``) to the autograded notebook, the grading
report, the gradebook's comments and the student's feedback.
"""

import copy
import json
import shutil
from pathlib import Path

from ...notebook_cells import grade_id, is_instructor_cell
from ..settings import DEFAULT_SUBMISSION_FILE_MB

PROBLEMS, NOT_GRADED = "problems", "not_graded"


def read_notebook(path: Path) -> tuple[dict | None, str | None]:
    """The notebook at ``path``, or None and why it cannot be graded."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read ({exc.__class__.__name__})"
    if not text.strip():
        return None, "is empty"
    try:
        nb = json.loads(text)
    except ValueError as exc:
        return None, f"is not a notebook: its JSON is broken ({exc})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return None, "is not a version-4 Jupyter notebook"
    if not all(isinstance(c, dict) and isinstance(c.get("metadata", {}), dict) for c in nb["cells"]):
        return None, "is not a valid notebook (a cell is malformed)"
    return nb, None


def not_graded(release: dict, reason: str) -> dict:
    """The released notebook, marked so that ``RobustExecute`` scores it 0 with ``reason`` without
    running it."""
    nb = copy.deepcopy(release)
    meta = nb.setdefault("metadata", {}).setdefault("cs231n", {})
    meta[NOT_GRADED] = reason
    meta[PROBLEMS] = [reason]
    return nb


def restore_cells(nb: dict, release: dict) -> list[str]:
    """Put back the release's instructor cells missing from ``nb`` (after the cell that precedes them in
    the release) and strip nbgrader metadata from cells with a grade_id the release does not have.
    Returns what was done, one sentence each (nothing when the notebook was intact)."""
    notes = []
    known = {grade_id(c) for c in release["cells"] if is_instructor_cell(c)}
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid and gid not in known:
            del cell["metadata"]["nbgrader"]
            notes.append(f"a cell's nbgrader id was changed to '{gid}'; that cell was graded as ordinary code")
    present = {grade_id(c) for c in nb["cells"]}
    previous = None
    for cell in release["cells"]:
        gid = grade_id(cell)
        if gid and is_instructor_cell(cell) and gid not in present:
            at = 0 if previous is None else next(
                (i + 1 for i, c in enumerate(nb["cells"]) if grade_id(c) == previous), len(nb["cells"]))
            nb["cells"].insert(at, copy.deepcopy(cell))
            present.add(gid)
            notes.append(f"the instructor cell '{gid}' was missing and was put back")
        if gid:
            previous = gid
    return notes


def repair_submission(folder: Path, expected: list[str], release_dir: Path, originals: Path,
                      max_file_mb: int = DEFAULT_SUBMISSION_FILE_MB) -> dict[str, list[str]]:
    """Make every expected notebook of a submission gradable on its own (see the module's docstring).

    Inputs:
    - folder: the submission, ``submitted/<student>/<assignment>/``; expected: the assignment's
      notebook names (without .ipynb); release_dir: ``release/<assignment>/``; originals: where changed
      submitted files are kept.
    - max_file_mb: the largest file other than a notebook that is handed on to grading and feedback
      (``GradingSettings.submission_file_mb``); larger ones are kept aside with the originals.
    Returns: notebook name -> what was wrong with it (only notebooks with a problem).
    """
    found = {p.stem: p for p in sorted(folder.glob("*.ipynb"))}
    strangers = [name for name in found if name not in expected]
    problems: dict[str, list[str]] = {}

    def keep_original(path: Path) -> None:
        originals.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, originals / path.name)

    for name in expected:
        release_path = release_dir / f"{name}.ipynb"
        if not release_path.is_file():
            continue
        release = json.loads(release_path.read_text(encoding="utf-8"))
        path = folder / f"{name}.ipynb"
        if not path.exists():
            instead = ", ".join(f"'{s}.ipynb'" for s in strangers)
            reason = f"{name}.ipynb was not submitted" + (f" (found {instead} instead)" if instead else "")
            nb = not_graded(release, reason)
        else:
            nb, problem = read_notebook(path)
            if problem:
                keep_original(path)
                nb = not_graded(release, f"the submitted {name}.ipynb {problem}")
            else:
                notes = restore_cells(nb, release)
                if not notes:
                    continue
                keep_original(path)
                nb.setdefault("metadata", {}).setdefault("cs231n", {})[PROBLEMS] = notes
        problems[name] = nb["metadata"]["cs231n"][PROBLEMS]
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in strangers:
        keep_original(found[name])
        found[name].unlink()
    limit = max_file_mb
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".ipynb" and path.name != "timestamp.txt" and \
                path.stat().st_size > limit * 1024 * 1024:
            size = path.stat().st_size / 1024 ** 2
            originals.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), originals / path.name)
            note = (f"the extra file {path.relative_to(folder)} ({size:.0f} MB) is over the {limit} MB limit for files "
                    f"handed in with a notebook: it was kept aside, not copied into grading or feedback")
            first = next((n for n in expected if (folder / f"{n}.ipynb").is_file()), None)
            if first is not None:
                _add_problem(folder / f"{first}.ipynb", note)
                problems.setdefault(first, []).append(note)
    return problems


def _add_problem(path: Path, note: str) -> None:
    nb, problem = read_notebook(path)
    if nb is None:
        return
    meta = nb.setdefault("metadata", {}).setdefault("cs231n", {})
    meta[PROBLEMS] = [*meta.get(PROBLEMS, []), note]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
