"""Check the authoring conventions (docs/AUTHORING.md) on instructor source notebooks.

    python -m cs231n.grading.tools.lint                    # every assignment*/ *.ipynb under the course root
    python -m cs231n.grading.tools.lint path/to/nb.ipynb   # some notebooks

Prints one line per problem (``file: cell N 'grade_id': message``) and exits 1 if there is any.

This module checks a notebook's structure (nbgrader metadata, the order of answer and test cells, seeds,
budgets); the rules for readable numbers are in ``lint_numbers`` and the trusted-grading rules for test
cells in ``lint_test_cells``.
"""

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ...notebook_cells import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    cell_source,
    grade_id,
    kind,
    nbgrader_metadata,
    parse_cell,
    without_hidden_tests,
)
from .lint_numbers import readability_problems
from .lint_test_cells import expected_names, observing_helpers, trusted_test_problems, unwithheld_expected

__all__ = ["Problem", "kind", "lint_notebook", "main", "source_notebooks"]

GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
HEAVY = re.compile(r"\b(num_iters|num_epochs|num_folds)\b")
UNSEEDED = re.compile(r"np\.random\.(rand|randn|randint|choice|permutation|shuffle|normal|uniform)\(")
SEEDED = re.compile(r"np\.random\.seed\(\s*\d|default_rng\(\s*\d")


@dataclass
class Problem:
    path: Path
    cell: int | None
    grade_id: str | None
    message: str

    def __str__(self) -> str:
        where = "" if self.cell is None else f" cell {self.cell + 1}"
        gid = f" '{self.grade_id}'" if self.grade_id else ""
        return f"{self.path}:{where}{gid}: {self.message}"


def _code_lines(source: str) -> list[str]:
    return [ln for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _last_statement_is_value(source: str) -> bool:
    """nbgrader reads a number shown by a test cell as partial credit: test cells must end in a
    statement, or in a call (the check helpers return None)."""
    tree = parse_cell(source)
    body = tree.body if tree is not None else []
    return bool(body) and isinstance(body[-1], ast.Expr) and not isinstance(body[-1].value, ast.Call)


def _has_points(meta: dict) -> bool:
    return isinstance(meta.get("points"), int | float) and meta["points"] > 0


class _NotebookLint:
    """One pass over a notebook's cells, in order, collecting problems (``lint_notebook``)."""

    def __init__(self, path: Path, cells: list[dict]):
        self.path, self.cells = path, cells
        self.problems: list[Problem] = []
        self.seen: dict[str, int] = {}          # grade_id -> the first cell that has it
        self.pending_answer: int | None = None  # an answer cell still waiting for its test cell
        self.hidden_seen = self.visible_seen = False  # among the tests of the latest answer cell
        self.any_graded = False
        self.helpers = observing_helpers(cells, path.parent)
        self.withheld = expected_names(cells)

    def report(self, i: int | None, cell: dict | None, message: str) -> None:
        self.problems.append(Problem(self.path, i, grade_id(cell) if cell else None, message))

    def check_format(self, nb: dict) -> None:
        if nb.get("nbformat") != 4:
            self.report(None, None, "must be nbformat 4")
        if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
            self.report(None, None, "kernelspec must be python3")

    def check_cell(self, i: int, cell: dict) -> None:
        src, k = cell_source(cell), kind(cell)
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            self.report(i, cell, "has outputs or an execution count: commit notebooks cleared")
        if cell.get("cell_type") == "code":
            for message in readability_problems(src):
                self.report(i, cell, message)
        if k == "plain":
            self._plain(i, cell, src)
            return
        self._identity(i, cell)
        if k == "answer":
            self._answer(i, cell, src)
        elif k == "test":
            self._test(i, cell, src)
        elif k == "manual":
            self._manual(i, cell)

    def _plain(self, i: int, cell: dict, src: str) -> None:
        if BEGIN_SOLUTION in src or BEGIN_HIDDEN in src:
            self.report(i, cell, "has solution or hidden-test markers but no nbgrader metadata")
        tree = parse_cell(src) if cell.get("cell_type") == "code" else None
        for message in unwithheld_expected(tree, self.withheld) if tree else ():
            self.report(i, cell, message)

    def _identity(self, i: int, cell: dict) -> None:
        meta = nbgrader_metadata(cell)
        gid = meta.get("grade_id", "")
        if not GRADE_ID.match(gid or "") or gid.startswith("cell"):
            self.report(i, cell, "grade_id must be a descriptive snake_case name (what it grades)")
        if gid in self.seen:
            self.report(i, cell, f"duplicate grade_id (also cell {self.seen[gid] + 1})")
        self.seen[gid] = i
        if meta.get("schema_version") != 3:
            self.report(i, cell, "nbgrader schema_version must be 3")

    def _answer(self, i: int, cell: dict, src: str) -> None:
        self.any_graded = True
        if cell.get("cell_type") != "code":
            self.report(i, cell, "answer cells must be code cells (free-text answers are manually graded)")
        elif src.count(BEGIN_SOLUTION) != src.count(END_SOLUTION) or BEGIN_SOLUTION not in src:
            self.report(i, cell, "answer cell needs matching ### BEGIN SOLUTION / ### END SOLUTION")
        self._close_answer()
        self.pending_answer, self.hidden_seen, self.visible_seen = i, False, False

    def _close_answer(self) -> None:
        if self.pending_answer is not None:
            self.report(self.pending_answer, self.cells[self.pending_answer],
                        "answer cell is not followed by a test cell")

    def _test(self, i: int, cell: dict, src: str) -> None:
        self.any_graded = True
        meta = nbgrader_metadata(cell)
        if cell.get("cell_type") != "code":
            self.report(i, cell, "test cells must be code cells")
        if not meta.get("locked"):
            self.report(i, cell, "test cells must be locked")
        if not _has_points(meta):
            self.report(i, cell, "test cells need points > 0")
        if BEGIN_SOLUTION in src:
            self.report(i, cell, "test cells must not contain solution markers")
        if self.pending_answer is None and not self.hidden_seen and i > 0 and all(
            kind(c) != "answer" for c in self.cells[:i]
        ):
            self.report(i, cell, "test cell comes before any answer cell")
        if BEGIN_HIDDEN in src:
            self._hidden_test(i, cell, src)
        else:
            self._visible_test(i, cell, src)
        if _last_statement_is_value(src):
            self.report(i, cell, "ends in a bare value, which nbgrader would read as partial credit")
        for message in trusted_test_problems(src, BEGIN_HIDDEN in src, self.helpers, self.withheld):
            self.report(i, cell, message)
        if re.search(r"sys\.stderr|warnings\.warn\(", src):
            self.report(i, cell, "test cells must not write to stderr")
        self.pending_answer = None

    def _hidden_test(self, i: int, cell: dict, src: str) -> None:
        if src.count(BEGIN_HIDDEN) != src.count(END_HIDDEN):
            self.report(i, cell, "unbalanced hidden-test markers")
        if _code_lines(without_hidden_tests(src)):
            self.report(i, cell, "hidden tests go in their own cell (code found outside the hidden region)")
        if not self.visible_seen and not self.hidden_seen:
            self.report(i, cell, "visible tests must come first: this answer's first test cell is hidden")
        self.hidden_seen = True

    def _visible_test(self, i: int, cell: dict, src: str) -> None:
        if self.hidden_seen:
            self.report(i, cell, "visible tests must come before the hidden tests of the same answer")
        if not _code_lines(src):
            self.report(i, cell, "test cell has no code")
        self.visible_seen = True

    def _manual(self, i: int, cell: dict) -> None:
        if cell.get("cell_type") != "markdown":
            self.report(i, cell, "manually graded answers must be markdown cells (inline questions)")
        if not _has_points(nbgrader_metadata(cell)):
            self.report(i, cell, "manually graded cells need points > 0")

    def check_notebook(self) -> None:
        """The notebook-wide rules, after every cell."""
        self._close_answer()
        if not self.any_graded:
            self.report(None, None, "has no graded cells")
        text = "\n".join(cell_source(c) for c in self.cells)
        if UNSEEDED.search(text) and not SEEDED.search(text):
            self.report(None, None, "uses np.random without a fixed seed")
        if HEAVY.search(text) and "budget(" not in text:
            self.report(None, None, "has training loops but no budget(...): heavy cells must shrink in autograde mode")


def lint_notebook(path: Path) -> list[Problem]:
    """The problems of one source notebook: cell by cell, then the notebook-wide ones."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [Problem(path, None, None, f"not a readable notebook: {exc}")]
    lint = _NotebookLint(path, nb.get("cells", []))
    lint.check_format(nb)
    for i, cell in enumerate(lint.cells):
        lint.check_cell(i, cell)
    lint.check_notebook()
    return lint.problems


def source_notebooks(root: Path) -> list[Path]:
    """The instructor's source notebooks under a course root (``assignment*/*.ipynb``)."""
    return sorted(p for p in root.glob("assignment*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or source_notebooks(Path.cwd())
    problems = [p for path in paths for p in lint_notebook(path)]
    for problem in problems:
        print(problem)
    print(f"lint: {len(paths)} notebook(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
