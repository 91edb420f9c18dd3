"""Write and read instructor notebooks as plain text ("percent" format with nbgrader roles).

Notebooks are edited in Jupyter with nbgrader's "Create Assignment" toolbar, or as text with this
module, which keeps the nbgrader metadata in one readable header line per cell::

    # %% md
    Some explanation in Markdown.
    # %% code
    import numpy as np
    # %% answer: knn_two_loops
    def f(x):
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION
    # %% test: knn_two_loops_visible points=2
    assert f(1) == 1
    # %% manual: inline_question_1 points=2
    **Your answer:** ...

Roles: ``md`` and ``code`` (given, locked), ``answer`` (autograded code answer), ``test`` (locked
test cell with points), ``manual`` (manually graded Markdown answer), ``task`` (manually graded
Markdown task). ``python -m cs231n.grading.tools.percent to-ipynb FILE.py OUT.ipynb`` and
``to-text NB.ipynb OUT.py`` convert both ways.
"""

import json
import re
import sys
from pathlib import Path

from ...notebook_cells import cell_source, grade_id, kind, points

HEADER = re.compile(r"^# %% (md|code|answer|test|manual|task)(?::\s*([A-Za-z0-9_]+))?((?:\s+\w+=\S+)*)\s*$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _meta(role: str, grade_id: str | None, options: dict[str, str], index: int) -> dict:
    if role in ("md", "code"):
        return {"nbgrader": {"grade": False, "solution": False, "locked": True, "schema_version": 3,
                             "grade_id": grade_id or f"given_{index:03d}"}}
    if grade_id is None:
        raise ValueError(f"cell {index + 1}: a '{role}' cell needs a grade_id ('# %% {role}: name')")
    points = float(options.get("points", 0)) if role != "answer" else None
    m = {"answer": dict(grade=False, solution=True, locked=False),
         "test": dict(grade=True, solution=False, locked=True, points=points),
         "manual": dict(grade=True, solution=True, locked=False, points=points),
         "task": dict(grade=False, solution=False, locked=True, task=True, points=points)}[role]
    m.update(schema_version=3, grade_id=grade_id)
    return {"nbgrader": {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in m.items()}}


def from_text(text: str) -> dict:
    """Build a notebook (as a JSON-ready dict) from percent text."""
    cells: list[dict] = []
    current: tuple[str, str | None, dict] | None = None
    lines: list[str] = []

    def flush():
        if current is None:
            return
        role, gid, opts = current
        body = "\n".join(lines).strip("\n")
        cell_type = "markdown" if role in ("md", "manual", "task") else "code"
        cell = {"cell_type": cell_type, "metadata": _meta(role, gid, opts, len(cells)),
                "source": body.splitlines(keepends=True)}
        if cell_type == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            flush()
            opts = dict(kv.split("=", 1) for kv in m.group(3).split())
            current, lines = (m.group(1), m.group(2), opts), []
        elif current is None:
            if line.strip():
                raise ValueError(f"text before the first cell header: {line!r}")
        else:
            lines.append(line)
    flush()
    return {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def to_text(nb: dict) -> str:
    """Percent text of a notebook (outputs dropped)."""
    out = []
    for cell in nb["cells"]:
        role = kind(cell)
        if role == "plain":
            role = "md" if cell["cell_type"] == "markdown" else "code"
        header = f"# %% {role}"
        if role not in ("md", "code"):
            header += f": {grade_id(cell)}"
            if points(cell) is not None and role != "answer":
                header += f" points={points(cell):g}"
        out.append(header + "\n" + cell_source(cell).rstrip("\n"))
    return "\n".join(out) + "\n"


def write_notebook(nb: dict, path: Path) -> None:
    """Write a notebook with Jupyter's own layout (indent 1, trailing newline)."""
    for i, cell in enumerate(nb["cells"]):  # cell ids, as nbformat 4.5 wants them
        cell.setdefault("id", (grade_id(cell) or f"c{i}").replace("_", "-"))
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("to-ipynb", "to-text"):
        print(__doc__)
        return 2
    src, dst = Path(argv[1]), Path(argv[2])
    if argv[0] == "to-ipynb":
        write_notebook(from_text(src.read_text(encoding="utf-8")), dst)
    else:
        dst.write_text(to_text(json.loads(src.read_text(encoding="utf-8"))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
