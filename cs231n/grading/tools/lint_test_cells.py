"""The notebook lint's trusted-grading rules for test cells (docs/AUTHORING.md, "Tests").

A test cell's kernel code only observes (it calls a check helper), its asserts live in judge blocks, the
expected values of its visible checks are names bound in ``### BEGIN EXPECTED`` blocks (withheld from the
kernel while grading), and its hidden tests compute no expected values or reference code in the kernel.
"""

import ast
import builtins
import re
from pathlib import Path

from ...notebook_cells import CellFormatError, cell_source, kind, marked_blocks, parse_cell
from ..judge.cells import BEGIN_EXPECTED, END_EXPECTED, bound_by, split_judge

#: The check helpers that hand a result to the grader (a test cell must call at least one).
OBSERVING = re.compile(r"\bchecks\.(array|value|equal|gradients|close_to|at_least|at_most|observe|either|"
                       r"backward_pass|no_loops|not_using)\(")
#: Names a judge block may use besides its own: the observations and NumPy (a notebook imports both).
JUDGE_NAMES = {"checks", "np"}
REFERENCE_NAME = re.compile(r"^_*(ref|reference)(_|$)|expected|want", re.I)
#: Check helpers and where their expected value goes: (positional index, keyword).
EXPECTED_ARG = {"array": (2, "expected"), "value": (2, "expected"), "equal": (2, "expected"),
                "gradients": (2, "numeric"), "backward_pass": (None, "expected")}


def _free_names(tree: ast.AST) -> set[str]:
    """Names a piece of code reads but never binds (approximately: any binding anywhere counts)."""
    loads, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loads - bound - set(dir(builtins))


def _observing_imports(node: ast.ImportFrom, folder: Path) -> set[str]:
    """The names an ``from given.<module> import ...`` brings in that are functions calling a check."""
    module = folder.joinpath(*node.module.split(".")).with_suffix(".py")
    try:
        defined = ast.parse(module.read_text(encoding="utf-8")).body
    except (OSError, SyntaxError, ValueError):
        return set()
    observing = {n.name for n in defined if isinstance(n, ast.FunctionDef) and OBSERVING.search(ast.unparse(n))}
    return {alias.asname or alias.name for alias in node.names if alias.name in observing}


def observing_helpers(cells: list[dict], folder: Path | None = None) -> set[str]:
    """Functions defined in given or test cells that call a check (a test cell may observe through them),
    and those that given or test cells import from the assignment's own ``given/`` modules in folder."""
    names = set()
    for cell in cells:
        if cell.get("cell_type") != "code" or kind(cell) == "answer":
            continue
        tree = parse_cell(cell_source(cell))
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.FunctionDef) and OBSERVING.search(ast.unparse(node)):
                names.add(node.name)
            elif isinstance(node, ast.ImportFrom) and folder is not None and (node.module or "").startswith("given."):
                names |= _observing_imports(node, folder)
    return names


def expected_names(cells: list[dict]) -> set[str]:
    """Names bound in ``### BEGIN EXPECTED`` blocks anywhere in the notebook, and names bound to numerical
    gradients (computed from the student's own code, nothing to withhold)."""
    names: set[str] = set()
    for cell in cells:
        src = cell_source(cell)
        try:
            for _, _, block in marked_blocks(src, BEGIN_EXPECTED, END_EXPECTED):
                names |= set(bound_by("\n".join(block)))
        except CellFormatError:
            continue
        tree = parse_cell(src)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    "numerical_gradient" in ast.unparse(node.value.func):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def unwithheld_expected(tree: ast.AST, allowed: set[str]) -> list[str]:
    """Expected values of visible checks written outside an EXPECTED block (they would reach the kernel)."""
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"
                and node.func.attr in EXPECTED_ARG):
            continue
        index, keyword = EXPECTED_ARG[node.func.attr]
        arg = node.args[index] if index is not None and len(node.args) > index else next(
            (k.value for k in node.keywords if k.arg == keyword), None)
        values = arg.values if isinstance(arg, ast.Dict) else [arg] if arg is not None else []
        for v in values:
            if not (isinstance(v, ast.Name) and v.id in allowed):
                out.append(f"checks.{node.func.attr}: its expected value {ast.unparse(v)[:40]!r} must be a name "
                           "bound in a ### BEGIN EXPECTED block (withheld from the kernel while grading)")
    return out


def _reference_code(tree: ast.AST) -> list[str]:
    """What hidden tests compute in the kernel that looks like an expected value or reference code."""
    problems = []
    for node in ast.walk(tree):
        names = [t.id for t in (node.targets if isinstance(node, ast.Assign) else []) if isinstance(t, ast.Name)]
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        bad = [n for n in names if REFERENCE_NAME.search(n)]
        if bad:
            problems.append(f"hidden tests compute no expected values or reference code in the kernel "
                            f"({', '.join(bad)}): the grader takes them from the reference run")
    return problems


def _kernel_code_problems(kernel: str, tree: ast.Module | None, hidden: bool, helpers: set[str],
                          expected: set[str] | None) -> list[str]:
    """What breaks the rules in the code of a test cell that the student's kernel runs."""
    problems = []
    if tree is not None:
        if any(isinstance(n, ast.Assert) for n in ast.walk(tree)):
            problems.append("asserts belong in a judge block: the code the student's kernel runs only observes")
        if re.search(r"\bchecks\.holds\(", kernel):
            problems.append("checks.holds belongs in a judge block")
        if not hidden and expected is not None:
            problems += unwithheld_expected(tree, expected)
        if hidden:
            problems += _reference_code(tree)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} \
        if tree is not None else set()
    if not OBSERVING.search(kernel) and not calls & set(helpers):
        problems.append("observes nothing: call a check (checks.array, checks.equal, checks.observe ...)")
    if "checks.expected" in kernel:
        problems.append("checks.expected is for judge blocks")
    return problems


def _judge_block_problems(judge: str, hidden: bool) -> list[str]:
    """What breaks the rules in a test cell's judge blocks."""
    problems = []
    if "checks.expected" in judge and not hidden:
        problems.append("checks.expected in a visible test: in a student's notebook it is the student's own "
                        "result, so the check could not fail")
    judge_tree = parse_cell(judge)
    if judge_tree is None:
        problems.append("the judge block does not parse")
    else:
        free = _free_names(judge_tree) - JUDGE_NAMES
        if free:
            problems.append(f"the judge block uses {', '.join(sorted(free))}: it sees only checks.observed, "
                            f"checks.expected and np (observe what it needs)")
    return problems


def trusted_test_problems(source: str, hidden: bool, helpers: set[str] = frozenset(),
                          expected: set[str] | None = None) -> list[str]:
    """What breaks the trusted-grading rules in a test cell (docs/AUTHORING.md, "Tests").

    Inputs:
    - source: the test cell's source; hidden: whether it holds hidden tests;
    - helpers: functions that observe for a test cell (``observing_helpers``);
    - expected: names bound in EXPECTED blocks (``expected_names``), or None not to check visible
      checks' expected values.
    Returns: one message per problem.
    """
    try:
        kernel, judge = split_judge(source)
    except CellFormatError as exc:
        return [str(exc)]
    problems = _kernel_code_problems(kernel, parse_cell(kernel), hidden, helpers, expected)
    if judge is not None:
        problems += _judge_block_problems(judge, hidden)
    return problems
