"""What the grader reads in notebook cells beyond nbgrader's roles: judge and expected-value blocks,
functions in answer cells, and student code that reaches for the grading machinery (the cells' source,
metadata, roles and marked blocks in general: ``cs231n.notebook_cells``).

A test cell may hold *judge blocks*, code between ``### BEGIN JUDGE`` and ``### END JUDGE`` lines at
the left margin. In a student's notebook they run in place; while grading, the grader strips them from
the code the student's kernel receives and runs them itself over the cell's observations
(``cs231n.grading.judge.judging``).

Visible test cells and given cells keep the expected values of visible checks between
``### BEGIN EXPECTED`` and ``### END EXPECTED``. In a student's notebook they run in place (instant
verdicts); while grading, every name such a block binds is bound to ``checks.WITHHELD`` instead, so
that no expected value reaches the student's kernel (the grader takes them from the reference run).
"""

import ast
import re

from ...notebook_cells import CellFormatError, marked_blocks, parse_cell

BEGIN_JUDGE = "### BEGIN JUDGE"
END_JUDGE = "### END JUDGE"
BEGIN_EXPECTED = "### BEGIN EXPECTED"
END_EXPECTED = "### END EXPECTED"

#: Code in student cells that reaches for the grading machinery rather than computing an answer.
SUSPICIOUS = re.compile(
    r"get_ipython|__builtins__|\bbuiltins\b|sys\.(settrace|setprofile|excepthook|displayhook|modules|_getframe|exit)"
    r"|os\._exit|\bctypes\b|\bgc\.|\bf_(lineno|trace|locals|globals|back|code)\b|__del__|set_custom_exc"
    r"|input_transformers|ast_transformers|events\.register|__import__|\bimportlib\b|\bsetattr\s*\("
    r"|\b(np|numpy|checks|cs231n)\.[\w.]+\s*=[^=]|gradebook|\bsource/|\bsignal\."
    r"|\binspect\b|\b_getframe\b|\btb_frame\b|\bvars\s*\([^)]*\)\s*\[[^]]*\]\s*=[^=]|__dict__\s*\["
    r"|\bnp\.ndarray\s*\)|\bndarray\s*\)\s*:|__array_ufunc__|__array_function__|__array_finalize__"
    r"|__array_wrap__|\bsite-packages\b|\.pth\b|\.ipython\b|\bthreading\b|\bos\.(fork|setuid|chmod|chown)")


def split_judge(source: str) -> tuple[str, str | None]:
    """Split a test cell into the code the kernel runs and the judge code.

    Inputs:
    - source: the cell's source.
    Returns:
    - (kernel code with every judge block replaced by blank lines, so line numbers stay;
       the judge blocks joined in order, or None when there is none).
    """
    lines, judge = source.splitlines(), []
    for start, end, block in list(marked_blocks(source, BEGIN_JUDGE, END_JUDGE)):
        lines[start:end + 1] = [""] * (end + 1 - start)
        judge += block
    return "\n".join(lines), ("\n".join(judge) if judge else None)


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
        tree = parse_cell(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                found = node
    return found


def bound_by(code: str) -> list[str]:
    """The names a block of code binds at its top level, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise CellFormatError(f"an expected-value block does not parse: {exc.msg}") from None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
        for target in targets:
            for n in ast.walk(target):
                if isinstance(n, ast.Name) and n.id not in names:
                    names.append(n.id)
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name not in names:
            names.append(node.name)
    return names


def withhold_expected(source: str) -> tuple[str, list[str]]:
    """The cell as the student's kernel receives it while grading: every expected-value block replaced
    by ``NAME = checks.WITHHELD`` for each name it binds (line numbers kept).

    Returns: (the code, the withheld names)."""
    lines = source.splitlines()
    withheld: list[str] = []
    for start, end, block in list(marked_blocks(source, BEGIN_EXPECTED, END_EXPECTED)):
        names = bound_by("\n".join(block))
        withheld += names
        replacement = ["import cs231n.checks as _checks_; " + " = ".join(names) + " = _checks_.WITHHELD"
                       if names else ""] + [""] * (end - start)
        lines[start:end + 1] = replacement
    return "\n".join(lines), withheld


def tamper_scan(source: str) -> list[str]:
    """The lines of a student cell that use the grading machinery (empty for ordinary NumPy code)."""
    return [line.strip() for line in source.splitlines() if SUSPICIOUS.search(line)]
