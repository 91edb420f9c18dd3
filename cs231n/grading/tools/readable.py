"""Readable numbers in source notebooks: round long float literals, move large expected arrays to a data file.

    python -m cs231n.grading.tools.readable assignment3/LSTM_Captioning.ipynb ...   # rewrite them in place
    python -m cs231n.grading.tools.readable                                       # every source notebook

What it does to each code cell (the rules ``cs231n.grading.tools.lint`` checks, docs/AUTHORING.md):

- every float literal with more than ``SIGNIFICANT_DIGITS`` (8) significant digits is rounded to 8
  (``%.8g``, still a float literal);
- an ``np.array(...)`` of a nested list of numbers that held such a literal is written again, one row per
  line, columns aligned, at most ``WIDTH`` (110) columns;
- inside a ``### BEGIN EXPECTED`` block, an ``np.array(...)`` literal of more than ``MAX_INLINE_NUMBERS``
  (12) numbers moves to ``expected/<notebook>.json`` beside the notebook, under a name made of the name it
  is bound to (and the dict keys or positions on the way: ``step_grads.Wx``); the block then loads the
  file once, first thing (``expected_values = checks.load_expected("expected/<notebook>.json")``), and
  reads ``expected_values["step_grads.Wx"]`` where the literal was. The load stays inside the block, so
  while grading it is withheld with the rest and the file is never read.

Rounding an expected value changes it by at most 5e-8 of itself: a visible check with a tighter ``rtol``
must be loosened to 1e-7 by hand (running the notebook shows which). Rounding a test *input* changes
the results computed from it: the tool reports literals it rounded outside EXPECTED blocks and judge
blocks, to be checked by hand. Running it again on a converted notebook changes nothing.
"""

import ast
import json
import sys
from pathlib import Path

from ...notebook_cells import cell_source, marked_blocks
from ..judge.cells import BEGIN_EXPECTED, BEGIN_JUDGE, END_EXPECTED, END_JUDGE
from .lint import source_notebooks
from .lint_numbers import (
    MAX_INLINE_NUMBERS,
    SIGNIFICANT_DIGITS,
    is_float_literal,
    long_floats,
    numbers_in,
    significant_digits,
)
from .percent import write_notebook

WIDTH = 110
LOADER = "expected_values"
ARRAY_CALLS = {"np.array", "numpy.array"}


def rounded(literal: str) -> str:
    """A float literal with at most SIGNIFICANT_DIGITS significant digits (unchanged if it has no more)."""
    if not is_float_literal(literal) or significant_digits(literal) <= SIGNIFICANT_DIGITS:
        return literal
    return repr(float(f"{float(literal.replace('_', '')):.{SIGNIFICANT_DIGITS}g}"))


def _number_text(node: ast.AST, source_lines: list[str], json_number: bool) -> str:
    text = _segment(source_lines, node).replace(" ", "")
    sign = ""
    if text[0] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    text = rounded(text)
    if json_number:  # JSON wants 0.5, not .5 or 5. or 1_000
        value = ast.literal_eval(text)
        text = repr(float(value)) if isinstance(value, float) else str(int(value))
    return sign + text


def _nested(node: ast.AST, source_lines: list[str], json_number: bool = False):
    """The texts of a numeric literal's numbers, nested as the literal (rounded)."""
    if isinstance(node, ast.List | ast.Tuple):
        return [_nested(e, source_lines, json_number) for e in node.elts]
    return _number_text(node, source_lines, json_number)


def _depth(x) -> int:
    return 1 + max(map(_depth, x)) if isinstance(x, list) and x and isinstance(x[0], list) else 1


def _leaves(x) -> list[str]:
    return [t for e in x for t in _leaves(e)] if isinstance(x, list) else [x]


def _aligned(texts: list[str]) -> dict[str, str]:
    """Each number text padded so that the decimal points line up (as NumPy prints arrays); numbers in
    exponent notation are right-aligned instead."""
    if any("e" in t.lower() for t in texts):
        width = max(map(len, texts))
        return {t: t.rjust(width) for t in texts}
    parts = {t: (t.split(".") + [""])[:2] if "." in t else [t, None] for t in texts}
    left = max(len(a) for a, _ in parts.values())
    right = max(len(b) + 1 for _, b in parts.values() if b is not None) if any(
        b is not None for _, b in parts.values()) else 0
    return {t: a.rjust(left) + ("." + b if b is not None else "").ljust(right) for t, (a, b) in parts.items()}


def render(x, column: int, width: int = WIDTH) -> str:
    """A nested list of number texts as an array literal starting at ``column``: one innermost row per line
    (a blank line between blocks of three or more dimensions), decimal points aligned (two or more
    dimensions), rows wrapped at ``width``."""
    if not isinstance(x, list):
        return x
    aligned = _aligned(_leaves(x)) if _depth(x) > 1 else {}

    def rows(x, column: int, tail: int) -> str:
        """``tail``: how many characters follow the list on its last line (closing brackets, a comma)."""
        if not any(isinstance(e, list) for e in x):
            out, line, used = [], "[", column + 1
            for i, item in enumerate(aligned.get(t, t) for t in x):
                last = i == len(x) - 1
                piece = item + ("]" if last else ",")
                if i and used + 1 + len(piece) + (tail if last else 0) > width:
                    out.append(line)
                    line, used = " " * (column + 1) + piece, column + 1 + len(piece)
                else:
                    line, used = line + ("" if i == 0 else " ") + piece, used + (i > 0) + len(piece)
            out.append(line)
            return "\n".join(out)
        gap = ",\n\n" if _depth(x) > 2 else ",\n"
        parts = [rows(e, column + 1, tail + 1 if i == len(x) - 1 else 1) for i, e in enumerate(x)]
        return "[" + (gap + " " * (column + 1)).join(parts) + "]"

    return rows(x, column, 2)  # e.g. '),' after an array literal


def _segment(lines: list[str], node: ast.AST) -> str:
    return ast.get_source_segment("\n".join(lines), node)


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8"))


def _span(lines: list[str], node: ast.AST) -> tuple[int, int, int, int]:
    """(line, column, end line, end column) of a node, 0-based lines, character columns."""
    return (node.lineno - 1, _char_col(lines[node.lineno - 1], node.col_offset),
            node.end_lineno - 1, _char_col(lines[node.end_lineno - 1], node.end_col_offset))


def _array_literal(node: ast.AST) -> ast.AST | None:
    """The numeric literal of ``np.array(<literal>)``, or None."""
    if isinstance(node, ast.Call) and ast.unparse(node.func) in ARRAY_CALLS and node.args \
            and numbers_in(node.args[0]) is not None and isinstance(node.args[0], ast.List | ast.Tuple):
        return node.args[0]
    return None


def _key_path(stmt: ast.stmt, target: ast.AST) -> str:
    """The name a value inside an assignment is stored under: 'name', 'name.key', 'name.0.key' ..."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        raise ValueError(f"line {stmt.lineno}: an expected array outside a plain assignment")

    def walk(node: ast.AST, path: list[str]) -> list[str] | None:
        if node is target:
            return path
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and isinstance(k, ast.Constant):
                    found = walk(v, [*path, str(k.value)])
                    if found is not None:
                        return found
            return None
        if isinstance(node, ast.List | ast.Tuple):
            for i, e in enumerate(node.elts):
                found = walk(e, [*path, str(i)])
                if found is not None:
                    return found
        return None

    names = stmt.targets[0]
    if isinstance(names, ast.Name):
        found = walk(stmt.value, [names.id])
    elif isinstance(names, ast.Tuple) and isinstance(stmt.value, ast.Tuple) and \
            len(names.elts) == len(stmt.value.elts) and all(isinstance(n, ast.Name) for n in names.elts):
        found = next((f for n, v in zip(names.elts, stmt.value.elts, strict=True)
                      if (f := walk(v, [n.id])) is not None), None)
    else:
        found = None
    if found is None:
        raise ValueError(f"line {stmt.lineno}: an expected array in an expression this tool cannot name "
                         f"({ast.unparse(stmt)[:60]!r}); move it by hand")
    return ".".join(found)


def _reshaped(node: ast.AST, parents: dict) -> tuple[int, ...] | None:
    """The shape of ``np.array([...]).reshape(<ints>)`` when ``node`` is the np.array call of one, else None."""
    attribute = parents.get(node)
    call = parents.get(attribute)
    if not (isinstance(attribute, ast.Attribute) and attribute.attr == "reshape" and isinstance(call, ast.Call)
            and call.func is attribute and not call.keywords):
        return None
    args = call.args[0].elts if len(call.args) == 1 and isinstance(call.args[0], ast.Tuple) else call.args
    try:
        shape = tuple(ast.literal_eval(a) for a in args)
    except ValueError:
        return None
    return shape if all(isinstance(n, int) and n > 0 for n in shape) else None


def _shaped(flat: list[str], shape: tuple[int, ...]):
    """A flat list of number texts nested by ``shape`` (row-major, as reshape)."""
    if len(shape) == 1:
        if len(flat) != shape[0]:
            raise ValueError(f"cannot reshape {len(flat)} numbers to {shape}")
        return list(flat)
    step = len(flat) // shape[0]
    if step * shape[0] != len(flat):
        raise ValueError(f"cannot reshape {len(flat)} numbers to {shape}")
    return [_shaped(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _in_lines(node: ast.AST, ranges: list[range]) -> bool:
    return any(node.lineno - 1 in r and node.end_lineno - 1 in r for r in ranges)


def convert_source(source: str, data_file: str, stored: dict[str, str]) -> tuple[str, dict]:
    """One code cell, converted.

    Inputs:
    - source: the cell's source; data_file: the data file's path relative to the notebook.
    - stored: name -> rendered JSON array of the data file so far (new arrays are added to it).
    Returns: (the new source, counts: 'rounded' literals, 'moved' arrays, 'inputs' = the lines of rounded
    literals outside EXPECTED and judge blocks, perhaps test inputs).
    """
    lines = source.splitlines()
    blocks = list(marked_blocks(source, BEGIN_EXPECTED, END_EXPECTED))
    inside = [range(start + 1, end) for start, end, _ in blocks]
    inside += [range(start + 1, end) for start, end, _ in marked_blocks(source, BEGIN_JUDGE, END_JUDGE)]
    long = long_floats(source)
    counts = {"rounded": len(long), "moved": 0,
              "inputs": sorted({ln for ln, _, _ in long if not any(ln - 1 in r for r in inside)})}
    if not long and not blocks:
        return source, counts
    try:
        tree = ast.parse("\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines))
    except SyntaxError:
        tree = None
    edits: list[tuple[tuple[int, int, int, int], str]] = []  # (span, new text)
    loads_in: set[int] = set()  # EXPECTED blocks (by start line) that read the data file
    covered: list[tuple[int, int, int, int]] = []
    statements = [s for s in ast.walk(tree) if isinstance(s, ast.stmt)] if tree else []
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)} if tree else {}
    for node in ast.walk(tree) if tree else ():
        literal = _array_literal(node)
        if literal is None:
            continue
        block = next((b for b in blocks if _in_lines(node, [range(b[0] + 1, b[1])])), None)
        if block is not None and numbers_in(literal) > MAX_INLINE_NUMBERS:
            if len(node.args) > 1 or node.keywords:
                raise ValueError(f"line {node.lineno}: np.array with arguments besides the literal; move it by hand")
            values, shape = _nested(literal, lines, json_number=True), _reshaped(node, parents)
            if shape is not None:  # np.array([...]).reshape(2, 3): stored with its shape
                node, values = parents[parents[node]], _shaped(_leaves(values), shape)
            stmt = min((s for s in statements if s.lineno <= node.lineno and s.end_lineno >= node.end_lineno
                        and not isinstance(s, ast.FunctionDef | ast.ClassDef | ast.For | ast.If | ast.With)),
                       key=lambda s: s.end_lineno - s.lineno)
            key = _key_path(stmt, node)
            if key in stored:
                raise ValueError(f"line {node.lineno}: the name {key!r} is already in {data_file}; rename")
            prefix = f'"{key}": '
            stored[key] = prefix + render(values, len(prefix))
            span = _span(lines, node)
            edits.append((span, f'{LOADER}["{key}"]'))
            covered.append(span)
            loads_in.add(block[0])
            counts["moved"] += 1
        elif any(ln - 1 >= literal.lineno - 1 and ln - 1 <= literal.end_lineno - 1 for ln, _, _ in long):
            span = _span(lines, literal)
            edits.append((span, render(_nested(literal, lines), span[1])))
            covered.append(span)
    for ln, col, text in long:  # the literals not in an array written again
        here = (ln - 1, col)
        if not any((s[0], s[1]) <= here <= (s[2], s[3]) for s in covered):
            edits.append(((ln - 1, col, ln - 1, col + len(text)), rounded(text)))
    for (l0, c0, l1, c1), text in sorted(edits, key=lambda e: e[0], reverse=True):
        new = (lines[l0][:c0] + text + lines[l1][c1:]).split("\n")
        lines[l0:l1 + 1] = new
    source_lines = lines
    for start in sorted(loads_in, reverse=True):  # line numbers of the markers did not move above them
        begin = _marker_line(source_lines, start, blocks)
        load = f'{LOADER} = checks.load_expected("{data_file}")'
        if source_lines[begin + 1].strip() != load:
            source_lines.insert(begin + 1, load)
    return "\n".join(source_lines) + ("\n" if source.endswith("\n") else ""), counts


def _marker_line(lines: list[str], start: int, blocks: list) -> int:
    """Where the BEGIN EXPECTED marker that was on line ``start`` is after the edits (edits above it can
    change the line count)."""
    index = [b[0] for b in blocks].index(start)
    return [i for i, ln in enumerate(lines) if ln.strip() == BEGIN_EXPECTED][index]


def convert_notebook(path: Path) -> dict:
    """Convert one source notebook in place (and write its data file). Returns the counts per notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    data_file = f"expected/{path.stem}.json"
    data_path = path.parent / data_file
    stored: dict[str, str] = {}
    if data_path.exists():
        stored = {k: f'"{k}": ' + render(_as_texts(v), len(k) + 4)
                  for k, v in json.loads(data_path.read_text(encoding="utf-8")).items()}
    total, changed = {"rounded": 0, "moved": 0, "inputs": []}, False
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell_source(cell)
        try:
            new, counts = convert_source(source, data_file, stored)
        except ValueError as exc:
            raise ValueError(f"{path}: cell {i + 1}: {exc}") from None
        total["rounded"] += counts["rounded"]
        total["moved"] += counts["moved"]
        if counts["inputs"]:
            total["inputs"].append((i + 1, counts["inputs"]))
        if new != source:
            cell["source"], changed = new.splitlines(keepends=True), True
    if changed:
        write_notebook(nb, path)
    if stored:
        data_path.parent.mkdir(exist_ok=True)
        data_path.write_text("{\n" + ",\n".join(stored.values()) + "\n}\n", encoding="utf-8")
    return total


def _as_texts(value):
    return [_as_texts(v) for v in value] if isinstance(value, list) else repr(value)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or source_notebooks(Path.cwd())
    for path in paths:
        counts = convert_notebook(path)
        moved = f", {counts['moved']} array(s) moved to expected/{path.stem}.json" if counts["moved"] else ""
        print(f"{path}: {counts['rounded']} literal(s) rounded{moved}")
        for cell, lines in counts["inputs"]:
            print(f"  cell {cell}: rounded outside EXPECTED and judge blocks on line(s) "
                  f"{', '.join(map(str, lines))}: if these are test inputs, check the expected values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
