"""Use your own functions from another notebook of the same assignment.

``load_notebook("svm.ipynb")`` reads a sibling notebook with plain ``json`` (no nbformat, so it is
fast inside a kernel), keeps only the *definitions* of its answer cells (imports, functions, classes
and constant assignments) and runs them in a fresh module. Experiments, prints and training loops in
those cells are skipped, so loading is instant and has no side effects.

    svm = load_notebook("svm.ipynb")
    classifier = svm.LinearSVM()

``from_notebook`` is the notebook's ``from ... import ...``: it binds the named definitions in the
notebook that calls it, and a name that cannot be loaded becomes a stand-in that says why when used.

    from_notebook("FullyConnectedNets.ipynb", "affine_forward", "affine_backward")

During autograding the grader copies every submitted notebook of the assignment next to the one
being graded before any of them runs, so the same line works there.
"""

import ast
import json
import os
import sys
import types
from pathlib import Path

from .notebook_cells import cell_source, grade_id, is_answer_cell, without_magics

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class NotebookImportError(ImportError):
    """A sibling notebook could not be loaded; the message names the notebook and the cell."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows the message alone: the loader's frames would tell a student nothing."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


def _is_constant_assignment(node: ast.stmt) -> bool:
    """``NAME = <literal>`` or ``NAME: type = <literal>`` with only plain names as targets."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    if not all(isinstance(t, ast.Name) for t in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _cell_label(cell: dict, index: int) -> str:
    gid = grade_id(cell)
    return f"cell {index + 1}" + (f" ('{gid}')" if gid else "")


def answer_cells(notebook: dict) -> list[tuple[int, dict]]:
    """The code cells of a notebook that students write in (nbgrader ``solution`` cells)."""
    return [(i, cell) for i, cell in enumerate(notebook.get("cells", [])) if is_answer_cell(cell)]


def definitions_of(source: str, where: str) -> ast.Module:
    """Parse one cell and keep only its top-level definitions."""
    try:
        tree = ast.parse(without_magics(source), filename=where)
    except SyntaxError as exc:
        raise NotebookImportError(f"{where} has a syntax error on line {exc.lineno}: {exc.msg}") from None
    tree.body = [n for n in tree.body if isinstance(n, _DEFINITIONS) or _is_constant_assignment(n)]
    return tree


def load_notebook(path: str | os.PathLike, name: str | None = None,
                  using: dict[str, object] | None = None) -> types.ModuleType:
    """Load the definitions of a sibling notebook's answer cells as a module.

    Inputs:
    - path: the notebook file, relative to the current working directory (the notebook's folder).
    - name: module name to register in ``sys.modules`` (default: ``notebook_<file stem>``, so that
      a notebook called e.g. ``features`` never shadows a real package).
    - using: definitions the loaded notebook takes from the calling one, by name, in place of its own
      (e.g. the batch-norm layers written in BatchNormalization.ipynb for the network of
      FullyConnectedNets.ipynb, whose cells hold only their stubs): its code that calls these names
      calls the given functions.

    Returns a module whose attributes are the functions, classes, imports and constants defined in
    the notebook's answer cells, in cell order.

    Raises NotebookImportError when the file is missing or is not a notebook. A cell that does not
    parse or fails while defining its functions is reported once (stdout, naming the notebook and the
    cell) and skipped; using a name it would have defined raises NotebookImportError with the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise NotebookImportError(
            f"{path.name} was not found in {Path.cwd()}. It must sit in the same folder as this notebook "
            f"(keep the assignment's notebooks together)."
        )
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookImportError(f"{path.name} is not a readable notebook: {exc}") from None

    module_name = name or "notebook_" + "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    module = types.ModuleType(module_name, f"Definitions from the answer cells of {path.name}")
    module.__file__ = str(path)
    problems = []
    for index, cell in answer_cells(notebook):
        source = cell_source(cell)
        where = f"{path.name}, {_cell_label(cell, index)}"
        try:
            code = compile(definitions_of(source, where), where, "exec")
            exec(code, module.__dict__)
        except NotebookImportError as exc:
            problems.append(str(exc))
        except Exception as exc:
            problems.append(f"{where} failed while loading: {type(exc).__name__}: {exc}")
    if problems:
        # One broken cell must not take the sibling's other definitions down with it: report it once,
        # and fail only when a name that the broken cell would have defined is used.
        print("Note: " + "; ".join(problems) + ". Definitions from that cell are missing.")

        def missing(attr: str):
            if attr.startswith("__"):
                raise AttributeError(attr)
            raise NotebookImportError(f"{attr} is not defined by {path.name}: " + "; ".join(problems))

        module.__getattr__ = missing
    module.__dict__.update(using or {})
    sys.modules[module_name] = module
    return module


def _unavailable(name: str, reason: str):
    """A stand-in for a definition that could not be loaded: calling it raises with the reason."""
    def unavailable(*args, **kwargs):
        raise NotebookImportError(f"{name} is not available here: {reason}")
    unavailable.__name__ = unavailable.__qualname__ = name
    return unavailable


def from_notebook(path: str | os.PathLike, *names: str) -> None:
    """Bind definitions of a sibling notebook's answer cells in the calling notebook, like
    ``from <notebook> import <names>``.

    Inputs:
    - path: the sibling notebook, relative to the notebook's folder, e.g. ``"FullyConnectedNets.ipynb"``.
    - names: the functions, classes or constants to bind, under the same names.

    Run the cell again after changing the sibling notebook (and saving it) to load the new version.
    When the notebook cannot be loaded, or does not define a name, one line says so and that name is
    bound to a stand-in that raises NotebookImportError with the reason when it is called, so the cells
    that do not need it still run.
    """
    namespace = sys._getframe(1).f_globals
    try:
        module = load_notebook(path)
    except NotebookImportError as exc:
        module, reason = None, str(exc)
    missing = []
    for name in names:
        try:
            namespace[name] = getattr(module, name)
        except (AttributeError, NotebookImportError) as exc:
            if module is not None:
                reason = (str(exc) if isinstance(exc, NotebookImportError)
                          else f"{Path(path).name} does not define {name} (is its cell written and saved?)")
            namespace[name] = _unavailable(name, reason)
            missing.append(name)
    if missing:
        print(f"Not loaded from {Path(path).name}: {', '.join(missing)}. {reason}")
