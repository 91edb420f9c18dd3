"""Simulated students for the demo grading round and the pipeline tests.

A simulated submission starts from the *released* notebook (what a student downloads) and fills its
answer cells:

- ``reference``: every answer cell gets the instructor's solution (markers removed);
- ``untouched``: the release as it is (every autograded test must score zero);
- a *mutant*: the reference with one classic bug planted in one answer cell (see ``Mutant``);
- a *variant*: the reference with one answer cell written another correct way (another vectorisation,
  loop order or dtype); it must keep every autograded point.

Mutants and variants are instructor material (they contain pieces of solutions), so they live in the
course's ``simulated_submissions/mutants/`` and ``simulated_submissions/variants/`` folders, never in this
package: ``load_mutants`` reads them from there.
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from ...notebook_cells import cell_source, grade_id, is_solution_cell, strip_solution_markers

#: The course's folder of made-up submissions that test the grading (instructor material, never released):
#: ``mutants/`` and ``variants/`` (read here) and ``attacks/`` (read by ``attack_submissions``).
SIMULATED_SUBMISSIONS = "simulated_submissions"


def solution_sources(source_nb: dict) -> dict[str, str]:
    """grade_id -> solved source of every answer cell (code or free text) of a source notebook."""
    return {grade_id(cell): strip_solution_markers(cell_source(cell))
            for cell in source_nb["cells"] if is_solution_cell(cell)}


def fill_answers(release_nb: dict, answers: dict[str, str]) -> dict:
    """A copy of a released notebook with the given answer cells replaced (by grade_id)."""
    nb = copy.deepcopy(release_nb)
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in answers and is_solution_cell(cell):
            cell["source"] = answers[gid]
    return nb


@dataclass(frozen=True)
class Mutant:
    """One classic bug: in answer cell ``cell`` of ``notebook``, replace ``find`` with ``replace``.

    ``loses`` lists the grade_ids of the test cells that must lose points because of it; every other
    autograded test must keep its points (one bug, one loss). ``kind`` is "mutant" for a bug, or
    "variant" for a correct but different implementation (``loses`` is then empty).
    """

    name: str
    notebook: str
    cell: str
    find: str
    replace: str
    loses: tuple[str, ...]
    description: str = ""
    kind: str = "mutant"
    also: tuple[dict, ...] = ()  # further edits {"cell", "find", "replace"} (a change that spans cells)

    @property
    def edits(self) -> list[dict]:
        """Every edit, in order: {"cell", "find", "replace"}."""
        return [{"cell": self.cell, "find": self.find, "replace": self.replace}, *self.also]

    def apply(self, answers: dict[str, str]) -> dict[str, str]:
        out = dict(answers)
        for edit in self.edits:
            source = out[edit["cell"]]
            if edit["find"] not in source:
                raise ValueError(f"mutant {self.name}: text to replace not found in {self.notebook}:{edit['cell']}")
            out[edit["cell"]] = source.replace(edit["find"], edit["replace"], 1)
        return out


def load_mutants(
    course_root: Path, assignment: str, folders: tuple[str, ...] = ("mutants", "variants")
) -> list[Mutant]:
    """The mutants, then the variants, of an assignment, from the course's
    ``simulated_submissions/mutants/<assignment>/<notebook>.json`` and
    ``simulated_submissions/variants/<assignment>/<notebook>.json``.

    Each file holds a list of objects with the fields of ``Mutant`` except ``notebook`` (``kind``
    defaults to "mutant"). ``folders``: which of the two folders to read.
    """
    mutants = []
    for name in folders:
        folder = Path(course_root) / SIMULATED_SUBMISSIONS / name / assignment
        for path in sorted(folder.glob("*.json")):
            for m in json.loads(path.read_text()):
                mutants.append(Mutant(**{**m, "notebook": path.stem, "loses": tuple(m["loses"]),
                                         "also": tuple(m.get("also", ()))}))
    return mutants


def read_nb(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_nb(nb: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
