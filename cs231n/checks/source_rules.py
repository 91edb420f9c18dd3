"""Checks of the source the student wrote (no Python loops, not using given names): judged on the
function's source in a notebook, and on the notebook file by the grader (``source_problem``)."""

import ast
import inspect
import textwrap
from collections.abc import Callable, Sequence

from .observations import fail, observe, passed

_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)


def source_problem(rule: dict, tree: ast.AST) -> str | None:
    """What a function's syntax tree breaks of a source rule (``no_loops``, ``not_using``), or None."""
    if rule["kind"] == "no_loops" and any(isinstance(node, _LOOPS) for node in ast.walk(tree)):
        return f"{rule['function']} must not use a Python loop (for, while or a comprehension)."
    if rule["kind"] == "not_using":
        used = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in rule["names"]}
                      | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in rule["names"]})
        if used:
            return f"{rule['function']} must not use {', '.join(used)}" + (f": {rule['why']}" if rule["why"] else ".")
    return None


def _source_rule(name: str, function: Callable, rule: dict) -> None:
    __tracebackhide__ = True
    observe(name, None, rule)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return  # judged by the grader on the notebook file
    problem = source_problem(rule, tree)
    if problem:
        fail(name, problem)
    passed(name)


def no_loops(function: Callable) -> None:
    """Check that a function has no Python loop (judged on the source the student wrote)."""
    __tracebackhide__ = True
    _source_rule(f"{function.__name__} has no loops", function, {"kind": "no_loops", "function": function.__name__})


def not_using(function: Callable, names: Sequence[str], why: str = "") -> None:
    """Check that a function's source does not use the given names (e.g. the fast layers in naive code)."""
    __tracebackhide__ = True
    _source_rule(f"{function.__name__} does not use {', '.join(names)}", function,
                 {"kind": "not_using", "function": function.__name__, "names": list(names), "why": why})
