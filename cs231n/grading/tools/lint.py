"""Check the authoring conventions (docs/AUTHORING.md) on instructor source notebooks.

    python -m cs231n.grading.tools.lint                    # every assignment*/ *.ipynb under the course root
    python -m cs231n.grading.tools.lint path/to/nb.ipynb   # some notebooks

Prints one line per problem (``file: cell N 'grade_id': message``) and exits 1 if there is any.
"""

import ast
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
HEAVY = re.compile(r"\b(num_iters|num_epochs|num_folds)\b")
#: Float literals in code cells carry at most this many significant digits (what a visible test shows).
SIGNIFICANT_DIGITS = 8
#: A numeric array literal in a ``### BEGIN EXPECTED`` block holds at most this many numbers; larger expected
#: arrays live in the notebook's data file, ``expected/<notebook>.json``, read with ``checks.load_expected``.
MAX_INLINE_NUMBERS = 12
_MAGIC_LINE = re.compile(r"^\s*[%!]")


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


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def kind(cell: dict) -> str:
    """'answer' (autograded code), 'manual' (graded free text), 'test', 'task' or 'plain'."""
    m = _nbgrader(cell)
    if not m:
        return "plain"
    if m.get("task"):
        return "task"
    if m.get("solution") and m.get("grade"):
        return "manual"
    if m.get("solution"):
        return "answer"
    if m.get("grade"):
        return "test"
    return "plain"


def _strip_hidden(source: str) -> str:
    """The source of a test cell without its hidden region."""
    return re.sub(rf"{re.escape(BEGIN_HIDDEN)}.*?{re.escape(END_HIDDEN)}", "", source, flags=re.S)


def _code_lines(source: str) -> list[str]:
    return [ln for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _last_statement_is_value(source: str) -> bool:
    """nbgrader reads a number shown by a test cell as partial credit: test cells must end in a
    statement, or in a call (the check helpers return None)."""
    try:
        body = ast.parse("\n".join("" if ln.lstrip().startswith(("%", "!")) else ln
                                   for ln in source.splitlines())).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[-1], ast.Expr) and not isinstance(body[-1].value, ast.Call)


def significant_digits(literal: str) -> int:
    """The significant digits a float literal's text carries: '0.0012300' -> 3, '6.0221e23' -> 5."""
    mantissa = re.split("[eE]", literal.replace("_", ""))[0]
    return len(mantissa.replace(".", "").strip("0"))


def is_float_literal(token: str) -> bool:
    """Whether a NUMBER token is a real float literal (not an int, a hex/octal/binary int or imaginary)."""
    t = token.lower()
    return not t.startswith(("0x", "0o", "0b")) and not t.endswith("j") and ("." in t or "e" in t)


def long_floats(source: str) -> list[tuple[int, int, str]]:
    """The float literals of a code cell with more than SIGNIFICANT_DIGITS significant digits.

    Returns: (line, column, text) of each, lines counted from 1 (empty for code that does not tokenize).
    """
    code = "\n".join("" if _MAGIC_LINE.match(ln) else ln for ln in source.splitlines())
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.NUMBER
            and is_float_literal(t.string) and significant_digits(t.string) > SIGNIFICANT_DIGITS]


def numbers_in(node: ast.AST) -> int | None:
    """How many numbers a literal holds if it is a number or a (nested) list or tuple of numbers, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    if isinstance(node, ast.Constant):
        return 1 if isinstance(node.value, int | float) and not isinstance(node.value, bool) else None
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        counts = [numbers_in(e) for e in node.elts]
        return None if None in counts else sum(counts)
    return None


def large_array_literals(code: str) -> list[tuple[int, int]]:
    """The numeric list or tuple literals (outermost) with more than MAX_INLINE_NUMBERS numbers in a piece of
    code: (line, how many numbers)."""
    tree = _parse_code(code)
    found: list[tuple[int, int]] = []

    def visit(node: ast.AST) -> None:
        count = numbers_in(node) if isinstance(node, ast.List | ast.Tuple) else None
        if count is not None:
            if count > MAX_INLINE_NUMBERS:
                found.append((node.lineno, count))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    if tree is not None:
        visit(tree)
    return found


def readability_problems(source: str) -> list[str]:
    """What makes a code cell's numbers hard to read (docs/AUTHORING.md, "Expected values"): float literals
    with more than SIGNIFICANT_DIGITS digits, and expected arrays of more than MAX_INLINE_NUMBERS numbers
    written inline."""
    from ..judge.cells import CellFormatError, _blocks

    problems = []
    long = long_floats(source)
    if long:
        line, _, text = long[0]
        problems.append(f"{len(long)} float literal(s) with more than {SIGNIFICANT_DIGITS} significant digits "
                        f"(first: line {line}, {text}): python -m cs231n.grading.tools.readable rounds them")
    try:
        blocks = list(_blocks(source, "### BEGIN EXPECTED", "### END EXPECTED"))
    except CellFormatError:
        blocks = []
    for start, _, block in blocks:
        for line, count in large_array_literals("\n".join(block)):
            problems.append(f"line {start + 1 + line}: an expected array of {count} numbers written inline (at most "
                            f"{MAX_INLINE_NUMBERS}): python -m cs231n.grading.tools.readable moves it to expected/")
    return problems


#: The check helpers that hand a result to the grader (a test cell must call at least one).
OBSERVING = re.compile(r"\bchecks\.(array|value|equal|gradients|close_to|at_least|at_most|observe|either|"
                       r"backward_pass|no_loops|not_using)\(")
#: Names a judge block may use besides its own: the observations and NumPy (a notebook imports both).
JUDGE_NAMES = {"checks", "np"}
REFERENCE_NAME = re.compile(r"^_*(ref|reference)(_|$)|expected|want", re.I)


def _parse_code(source: str) -> ast.Module | None:
    try:
        return ast.parse("\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()))
    except SyntaxError:
        return None


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
    import builtins

    return loads - bound - set(dir(builtins))


def observing_helpers(cells: list[dict], folder: Path | None = None) -> set[str]:
    """Functions defined in given or test cells that call a check (a test cell may observe through them),
    and those that given or test cells import from the assignment's own ``given/`` modules in folder."""
    names = set()
    for cell in cells:
        if cell.get("cell_type") != "code" or kind(cell) == "answer":
            continue
        tree = _parse_code(_source(cell))
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.FunctionDef) and OBSERVING.search(ast.unparse(node)):
                names.add(node.name)
            elif isinstance(node, ast.ImportFrom) and folder is not None and (node.module or "").startswith("given."):
                module = folder.joinpath(*node.module.split(".")).with_suffix(".py")
                try:
                    defined = ast.parse(module.read_text(encoding="utf-8")).body
                except (OSError, SyntaxError, ValueError):
                    continue
                observing = {n.name for n in defined
                             if isinstance(n, ast.FunctionDef) and OBSERVING.search(ast.unparse(n))}
                names |= {alias.asname or alias.name for alias in node.names if alias.name in observing}
    return names


#: Check helpers and where their expected value goes: (positional index, keyword).
EXPECTED_ARG = {"array": (2, "expected"), "value": (2, "expected"), "equal": (2, "expected"),
                "gradients": (2, "numeric"), "backward_pass": (None, "expected")}


def expected_names(cells: list[dict]) -> set[str]:
    """Names bound in ``### BEGIN EXPECTED`` blocks anywhere in the notebook, and names bound to numerical
    gradients (computed from the student's own code, nothing to withhold)."""
    from ..judge.cells import CellFormatError, _blocks, bound_by

    names: set[str] = set()
    for cell in cells:
        src = _source(cell)
        try:
            for _, _, block in _blocks(src, "### BEGIN EXPECTED", "### END EXPECTED"):
                names |= set(bound_by("\n".join(block)))
        except CellFormatError:
            continue
        tree = _parse_code(src)
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


def trusted_test_problems(source: str, hidden: bool, helpers: set[str] = frozenset(),
                          expected: set[str] | None = None) -> list[str]:
    """What breaks the trusted-grading rules in a test cell (docs/AUTHORING.md, "Tests")."""
    from ..judge.cells import CellFormatError, split_judge

    try:
        kernel, judge = split_judge(source)
    except CellFormatError as exc:
        return [str(exc)]
    problems = []
    tree = _parse_code(kernel)
    if tree is not None:
        if any(isinstance(n, ast.Assert) for n in ast.walk(tree)):
            problems.append("asserts belong in a judge block: the code the student's kernel runs only observes")
        if re.search(r"\bchecks\.holds\(", kernel):
            problems.append("checks.holds belongs in a judge block")
        if not hidden and expected is not None:
            problems += unwithheld_expected(tree, expected)
        if hidden:
            for node in ast.walk(tree):
                names = [t.id for t in (node.targets if isinstance(node, ast.Assign) else [])
                         if isinstance(t, ast.Name)]
                if isinstance(node, ast.FunctionDef):
                    names.append(node.name)
                bad = [n for n in names if REFERENCE_NAME.search(n)]
                if bad:
                    problems.append(f"hidden tests compute no expected values or reference code in the kernel "
                                    f"({', '.join(bad)}): the grader takes them from the reference run")
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} \
        if tree is not None else set()
    if not OBSERVING.search(kernel) and not calls & set(helpers):
        problems.append("observes nothing: call a check (checks.array, checks.equal, checks.observe ...)")
    if "checks.expected" in kernel:
        problems.append("checks.expected is for judge blocks")
    if judge is not None:
        if "checks.expected" in judge and not hidden:
            problems.append("checks.expected in a visible test: in a student's notebook it is the student's own "
                            "result, so the check could not fail")
        judge_tree = _parse_code(judge)
        if judge_tree is None:
            problems.append("the judge block does not parse")
        else:
            free = _free_names(judge_tree) - JUDGE_NAMES
            if free:
                problems.append(f"the judge block uses {', '.join(sorted(free))}: it sees only checks.observed, "
                                f"checks.expected and np (observe what it needs)")
    return problems


def lint_notebook(path: Path) -> list[Problem]:
    problems: list[Problem] = []

    def report(i, cell, message):
        problems.append(Problem(path, i, _nbgrader(cell).get("grade_id") if cell else None, message))

    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [Problem(path, None, None, f"not a readable notebook: {exc}")]
    if nb.get("nbformat") != 4:
        report(None, None, "must be nbformat 4")
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        report(None, None, "kernelspec must be python3")
    cells = nb.get("cells", [])
    seen: dict[str, int] = {}
    pending_answer: int | None = None
    hidden_seen_in_block = visible_seen_in_block = False
    any_graded = False
    text = "\n".join(_source(c) for c in cells)
    helpers = observing_helpers(cells, path.parent)
    withheld = expected_names(cells)

    for i, cell in enumerate(cells):
        src, meta, k = _source(cell), _nbgrader(cell), kind(cell)
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            report(i, cell, "has outputs or an execution count: commit notebooks cleared")
        if cell.get("cell_type") == "code":
            for message in readability_problems(src):
                report(i, cell, message)
        if k == "plain" and (BEGIN_SOLUTION in src or BEGIN_HIDDEN in src):
            report(i, cell, "has solution or hidden-test markers but no nbgrader metadata")
        if k == "plain":
            tree = _parse_code(src) if cell.get("cell_type") == "code" else None
            for message in unwithheld_expected(tree, withheld) if tree else ():
                report(i, cell, message)
            continue
        gid = meta.get("grade_id", "")
        if not GRADE_ID.match(gid or "") or gid.startswith("cell"):
            report(i, cell, "grade_id must be a descriptive snake_case name (what it grades)")
        if gid in seen:
            report(i, cell, f"duplicate grade_id (also cell {seen[gid] + 1})")
        seen[gid] = i
        if meta.get("schema_version") != 3:
            report(i, cell, "nbgrader schema_version must be 3")

        if k == "answer":
            any_graded = True
            if cell.get("cell_type") != "code":
                report(i, cell, "answer cells must be code cells (free-text answers are manually graded)")
            elif src.count(BEGIN_SOLUTION) != src.count(END_SOLUTION) or BEGIN_SOLUTION not in src:
                report(i, cell, "answer cell needs matching ### BEGIN SOLUTION / ### END SOLUTION")
            if pending_answer is not None:
                report(pending_answer, cells[pending_answer], "answer cell is not followed by a test cell")
            pending_answer, hidden_seen_in_block, visible_seen_in_block = i, False, False
        elif k == "test":
            any_graded = True
            if cell.get("cell_type") != "code":
                report(i, cell, "test cells must be code cells")
            if not meta.get("locked"):
                report(i, cell, "test cells must be locked")
            if not (isinstance(meta.get("points"), int | float) and meta["points"] > 0):
                report(i, cell, "test cells need points > 0")
            if BEGIN_SOLUTION in src:
                report(i, cell, "test cells must not contain solution markers")
            if pending_answer is None and not hidden_seen_in_block and i > 0 and all(
                kind(c) != "answer" for c in cells[:i]
            ):
                report(i, cell, "test cell comes before any answer cell")
            if BEGIN_HIDDEN in src:
                if src.count(BEGIN_HIDDEN) != src.count(END_HIDDEN):
                    report(i, cell, "unbalanced hidden-test markers")
                if _code_lines(_strip_hidden(src)):
                    report(i, cell, "hidden tests go in their own cell (code found outside the hidden region)")
                if not visible_seen_in_block and not hidden_seen_in_block:
                    report(i, cell, "visible tests must come first: this answer's first test cell is hidden")
                hidden_seen_in_block = True
            else:
                if hidden_seen_in_block:
                    report(i, cell, "visible tests must come before the hidden tests of the same answer")
                if not _code_lines(src):
                    report(i, cell, "test cell has no code")
                visible_seen_in_block = True
            if _last_statement_is_value(src):
                report(i, cell, "ends in a bare value, which nbgrader would read as partial credit")
            for message in trusted_test_problems(src, BEGIN_HIDDEN in src, helpers, withheld):
                report(i, cell, message)
            if re.search(r"sys\.stderr|warnings\.warn\(", src):
                report(i, cell, "test cells must not write to stderr")
            pending_answer = None
        elif k == "manual":
            if cell.get("cell_type") != "markdown":
                report(i, cell, "manually graded answers must be markdown cells (inline questions)")
            if not (isinstance(meta.get("points"), int | float) and meta["points"] > 0):
                report(i, cell, "manually graded cells need points > 0")

    if pending_answer is not None:
        report(pending_answer, cells[pending_answer], "answer cell is not followed by a test cell")
    if not any_graded:
        report(None, None, "has no graded cells")
    unseeded = re.search(r"np\.random\.(rand|randn|randint|choice|permutation|shuffle|normal|uniform)\(", text)
    if unseeded and not re.search(r"np\.random\.seed\(\s*\d|default_rng\(\s*\d", text):
        report(None, None, "uses np.random without a fixed seed")
    if HEAVY.search(text) and "budget(" not in text:
        report(None, None, "has training loops but no budget(...): heavy cells must shrink in autograde mode")
    return problems


def source_notebooks(root: Path) -> list[Path]:
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
