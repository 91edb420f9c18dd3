"""Attack submissions: simulated students who try to earn points their code does not deserve.

The attacks of an assignment live in the course's ``simulated_submissions/attacks/<assignment>.py``
(instructor material, like the mutants), as a list ``ATTACKS`` of dicts with the fields of ``Attack``.
The tamper test (tests/test_tamper.py) grades one student per attack in a real nbgrader round and
checks ``Attack.problems`` on the scores.
"""

import copy
import runpy
from dataclasses import dataclass, field
from pathlib import Path

from ...notebook_cells import cell_source, grade_id, is_solution_cell
from .simulate import SIMULATED_SUBMISSIONS, fill_answers

STUB = "stub"


@dataclass(frozen=True)
class Attack:
    """One attack submission.

    - name, description, notebook: what it is and which notebook of the assignment it attacks;
    - answers: grade_id -> "stub" (keep the release stub) or {"find", "replace"} (a bug in the reference):
      the honest code behind the attack;
    - append: grade_id -> attack code appended to that answer cell;
    - edits: notebook edits, each {"op", "cell", ...}: "replace_source", "delete", "duplicate_after",
      "move_to_top", "set_meta" (with "meta"), "strip_meta"; "source" replaces the (copied) cell's source;
    - rename: submit the notebook under this name instead;
    - loses: tests the honest code fails (must score zero); keeps: tests it passes (must keep full points);
    - flagged: the grader must leave a review note in a student cell;
    - disk: writes aimed at the grading machine (files that would outlive the kernel and change how later
      submissions are graded): honest code behind, later victims must be graded as if it never ran.
    """

    name: str
    notebook: str
    description: str = ""
    answers: dict = field(default_factory=dict)
    append: dict = field(default_factory=dict)
    edits: list = field(default_factory=list)
    rename: str | None = None
    loses: list = field(default_factory=list)
    keeps: list = field(default_factory=list)
    flagged: bool = False
    disk: bool = False  # an attack on the grading machine's files (victims are graded after it)

    def honest_answers(self, reference: dict[str, str], release: dict[str, str]) -> dict[str, str]:
        """The answers behind the attack: the reference with the listed stubs and bugs."""
        out = dict(reference)
        for gid, change in self.answers.items():
            if change == STUB:
                out[gid] = release[gid]
            else:
                if change["find"] not in out[gid]:
                    raise ValueError(f"attack {self.name}: text to replace not found in {gid}")
                out[gid] = out[gid].replace(change["find"], change["replace"], 1)
        return out

    def notebook_json(self, release_nb: dict, reference: dict[str, str]) -> dict:
        """The attacked notebook, built from the released one."""
        release = {grade_id(c): cell_source(c) for c in release_nb["cells"] if is_solution_cell(c)}
        answers = self.honest_answers(reference, release)
        for gid, code in self.append.items():
            answers[gid] = answers[gid].rstrip("\n") + "\n" + code.lstrip("\n")
        nb = fill_answers(release_nb, answers)
        for edit in self.edits:
            _apply_edit(nb, edit)
        return nb

    def problems(self, scores: dict[str, tuple[float, float]], notes: bool) -> list[str]:
        """What the round got wrong for this attack: ``scores`` is grade_id -> (score, max) of the
        attacked notebook (missing = not graded); ``notes``: whether a review note was left."""
        out = []
        for gid in self.loses:
            got = scores.get(gid, (0.0, 0.0))[0] or 0.0
            if got:
                out.append(f"{self.name}: scored {got:g} in {gid}")
        for gid in self.keeps:
            got, mx = scores.get(gid, (0.0, None))
            if got != mx:
                out.append(f"{self.name}: lost points in {gid} ({got}/{mx})")
        if self.flagged and not notes:
            out.append(f"{self.name}: not flagged for review")
        return out


def _index(nb: dict, gid: str) -> int:
    for i, cell in enumerate(nb["cells"]):
        if grade_id(cell) == gid:
            return i
    raise KeyError(gid)


def _apply_edit(nb: dict, edit: dict) -> None:
    i, op = _index(nb, edit["cell"]), edit["op"]
    cell = nb["cells"][i]
    if op == "delete":
        del nb["cells"][i]
        return
    if op == "duplicate_after":
        cell = copy.deepcopy(cell)
        cell["id"] = cell.get("id", "cell") + "-copy"
        nb["cells"].insert(i + 1, cell)
    elif op == "move_to_top":
        nb["cells"].insert(0, nb["cells"].pop(i))
    elif op == "set_meta":
        cell["metadata"]["nbgrader"].update(edit["meta"])
    elif op == "strip_meta":
        del cell["metadata"]["nbgrader"]
    elif op != "replace_source":
        raise ValueError(f"unknown edit {op}")
    if "source" in edit:
        cell["source"] = edit["source"]


def load_attacks(course_root: Path, assignment: str) -> list[Attack]:
    """The attacks of an assignment, from ``simulated_submissions/attacks/<assignment>.py``."""
    path = Path(course_root) / SIMULATED_SUBMISSIONS / "attacks" / f"{assignment}.py"
    if not path.exists():
        return []
    return [Attack(**a) for a in runpy.run_path(str(path))["ATTACKS"]]
