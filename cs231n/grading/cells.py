"""Reading instructor cells: judge blocks in test cells, and functions in answer cells.

A test cell may hold *judge blocks*, code between ``### BEGIN JUDGE`` and ``### END JUDGE`` lines at
the left margin. In a student's notebook they run in place; while grading, the grader strips them from
the code the student's kernel receives and runs them itself over the cell's observations
(``cs231n.grading.judging``).
"""

import ast
import re

BEGIN_JUDGE = "### BEGIN JUDGE"
END_JUDGE = "### END JUDGE"
_MAGIC = re.compile(r"^\s*[%!]")


class CellFormatError(ValueError):
    """A test cell whose judge markers do not pair up."""


def split_judge(source: str) -> tuple[str, str | None]:
    """Split a test cell into the code the kernel runs and the judge code.

    Inputs:
    - source: the cell's source.
    Returns:
    - (kernel code with every judge block replaced by blank lines, so line numbers stay;
       the judge blocks joined in order, or None when there is none).
    """
    kernel, judge, inside = [], [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN_JUDGE:
            if inside or line != line.lstrip():
                raise CellFormatError(f"'{BEGIN_JUDGE}' must start a line at the left margin, outside any block")
            inside = True
            kernel.append("")
            continue
        if marker == END_JUDGE:
            if not inside:
                raise CellFormatError(f"'{END_JUDGE}' without '{BEGIN_JUDGE}'")
            inside = False
            kernel.append("")
            continue
        (judge if inside else kernel).append(line)
        if inside:
            kernel.append("")
    if inside:
        raise CellFormatError(f"'{BEGIN_JUDGE}' without '{END_JUDGE}'")
    return "\n".join(kernel), ("\n".join(judge) if judge else None)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse("\n".join("" if _MAGIC.match(line) else line for line in source.splitlines()))
    except SyntaxError:
        return None


def function_tree(sources: list[str], name: str) -> ast.FunctionDef | None:
    """The last definition of function ``name`` in the given cells (top level or a class method).

    Inputs:
    - sources: cell sources in notebook order (answer cells).
    - name: the function's name.
    Returns:
    - its syntax tree, or None when no cell defines it.
    """
    found = None
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                found = node
    return found
