"""The notebook lint's rules for readable numbers (docs/AUTHORING.md, "Expected values").

Float literals in code cells carry at most ``SIGNIFICANT_DIGITS`` significant digits, and an expected
array written inline holds at most ``MAX_INLINE_NUMBERS`` numbers. ``cs231n.grading.tools.readable``
rewrites notebooks to follow both rules; ``cs231n.grading.tools.lint`` reports what breaks them.
"""

import ast
import io
import re
import tokenize

from ...notebook_cells import CellFormatError, marked_blocks, parse_cell, without_magics
from ..judge.cells import BEGIN_EXPECTED, END_EXPECTED

#: Float literals in code cells carry at most this many significant digits (what a visible test shows).
SIGNIFICANT_DIGITS = 8
#: A numeric array literal in a ``### BEGIN EXPECTED`` block holds at most this many numbers; larger expected
#: arrays live in the notebook's data file, ``expected/<notebook>.json``, read with ``checks.load_expected``.
MAX_INLINE_NUMBERS = 12


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
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(without_magics(source)).readline))
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
    tree = parse_cell(code)
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
    """What makes a code cell's numbers hard to read: float literals with more than SIGNIFICANT_DIGITS
    digits, and expected arrays of more than MAX_INLINE_NUMBERS numbers written inline."""
    problems = []
    long = long_floats(source)
    if long:
        line, _, text = long[0]
        problems.append(f"{len(long)} float literal(s) with more than {SIGNIFICANT_DIGITS} significant digits "
                        f"(first: line {line}, {text}): python -m cs231n.grading.tools.readable rounds them")
    try:
        blocks = list(marked_blocks(source, BEGIN_EXPECTED, END_EXPECTED))
    except CellFormatError:
        blocks = []
    for start, _, block in blocks:
        for line, count in large_array_literals("\n".join(block)):
            problems.append(f"line {start + 1 + line}: an expected array of {count} numbers written inline (at most "
                            f"{MAX_INLINE_NUMBERS}): python -m cs231n.grading.tools.readable moves it to expected/")
    return problems
