"""Expected values of visible checks: read from a notebook's data file, and withheld while grading.

While a notebook is graded, every name bound in a ``### BEGIN EXPECTED`` block is bound to ``WITHHELD``
instead (``cs231n.grading.judge.cells``): the grader has the expected values, the student's kernel not.
"""

import json
import os
from typing import Any

import numpy as np


class _Withheld:
    """What an expected value of a visible check is while grading: the grader has it, the kernel not."""

    def __repr__(self) -> str:
        return "checks.WITHHELD"

    def __bool__(self) -> bool:
        raise TypeError("an expected value is withheld while grading: keep every use of it in the "
                        "### BEGIN EXPECTED block or in checks")


#: Bound, while grading, to every name of a ``### BEGIN EXPECTED`` block (see cs231n.grading.judge.cells).
WITHHELD = _Withheld()


def load_expected(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The expected arrays a notebook keeps in its data file (too large to read well in a test cell).

    Written in a ``### BEGIN EXPECTED`` block, so that while grading the file is never read (every name
    the block binds is withheld)::

        ### BEGIN EXPECTED
        expected_values = checks.load_expected("expected/LSTM_Captioning.json")
        lstm_h = expected_values["lstm_h"]
        ### END EXPECTED

    Inputs:
    - path: the JSON file, relative to the notebook's folder (where Jupyter runs the notebook): an object
      mapping each name to a number or a nested list of numbers.
    Returns:
    - name -> array (integers stay integers, as ``np.array`` of the same literal).
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the expected values file {os.fspath(path)!r} is missing (looked for {os.path.abspath(path)}): it comes "
            f"with the notebook, in the expected/ folder beside it; run the notebook from its own folder") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the expected values file {os.fspath(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the expected values file {os.fspath(path)!r} must hold a JSON object (name -> array)")
    return {name: np.array(value) for name, value in data.items()}


def withheld(value: Any) -> bool:
    """Whether an expected value is, or holds, ``WITHHELD`` (e.g. a dict of withheld gradients)."""
    if value is WITHHELD:
        return True
    if isinstance(value, dict):
        return any(withheld(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(withheld(v) for v in value)
    return False
