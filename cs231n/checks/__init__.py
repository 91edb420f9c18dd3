"""Checks in test cells: instant feedback for students, observed results for the grader.

Each check calls the student's code and *observes* its result under a rule (``cs231n.verdicts``). Its
three outcomes in a notebook:

- **not attempted**: the function still raises ``NotImplementedError`` (the release stub);
- **wrong**, with a message that points at the likely mistake (wrong shape, a transposed result,
  right up to a constant factor, no return value, a gradient wrong in one parameter only ...) and
  never prints the expected values;
- **correct**, with a one-line confirmation.

A failed check raises ``CheckFailed`` (an ``AssertionError``), so nbgrader scores the test cell zero.

Visible checks carry the expected values written in the test cell and judge the result right there.
Hidden checks carry none: they only observe. While a notebook is graded, neither counts by itself: the
grading kernel hands every observation out as plain data, and the grader judges it *outside* the
student's process against the result of the instructor's reference solution on the same inputs (see
docs/GRADING_SECURITY.md). Properties that need more than one value (a chosen hyperparameter is the
best of the student's own results, minibatches are rows of X) go in a *judge block* of the test cell::

    checks.observe("cv_accuracies", cv_accuracies)
    checks.observe("best", (best_distance, best_k))
    ### BEGIN JUDGE
    means = ...  # from checks.observed["cv_accuracies"]
    checks.require(checks.observed["best"] == ..., "best_k is not the best k")
    ### END JUDGE

A judge block sees only ``checks.observed`` (this cell's observations, as plain data),
``checks.expected`` (hidden tests: the reference run's observations) and ``np``. In a student's
notebook it runs right where it is; while grading, the grader runs it outside the student's process. In a notebook::

    from cs231n import checks
    checks.section("kNN distances")
    checks.array("compute_distances_two_loops", lambda: knn.compute_distances_two_loops(X), expected)
    ...
    checks.summary()   # in the section's last visible test cell

The modules: ``observations`` (the running cell: observe, judge in the notebook, the section's count),
``calling`` (calling the student's code: ``run``, ``with_stand_ins``, ``either``, ``supplied``),
``results`` (checks of results: ``array``, ``value``, ``equal``, ``gradients``, ``backward_pass`` ...),
``source_rules`` (``no_loops``, ``not_using``) and ``expected_values`` (``load_expected``, ``WITHHELD``).
This package is their public face: notebooks use ``checks.<name>`` only.
"""

import sys
import types

from .. import verdicts
from ..check_messages import CheckFailed, NotAttempted, short_traceback, show_unfinished
from . import observations
from .calling import either, run, supplied, with_stand_ins
from .expected_values import WITHHELD, load_expected
from .observations import begin_cell, finish_cell, observe, require, section, summary
from .results import array, at_least, at_most, backward_pass, close_to, equal, gradients, holds, returned, value
from .source_rules import no_loops, not_using, source_problem

#: Kept for notebooks written before ``cs231n.verdicts``.
diagnose = verdicts.diagnose

__all__ = [
    "WITHHELD", "CheckFailed", "NotAttempted", "array", "at_least", "at_most", "backward_pass", "begin_cell",
    "close_to", "diagnose", "either", "equal", "expected", "finish_cell", "gradients", "holds", "load_expected",
    "no_loops", "not_using", "observe", "observed", "require", "returned", "run", "section", "short_traceback",
    "show_unfinished", "source_problem", "summary", "supplied", "value", "with_stand_ins",
]


def _running_cell_attribute(name: str) -> property:
    """A module attribute that reads and sets ``observations.<name>`` (rebound for every cell)."""
    return property(lambda _module: getattr(observations, name),
                    lambda _module, value: setattr(observations, name, value))


class _ChecksModule(types.ModuleType):
    """``checks.observed`` and ``checks.expected`` are always the running cell's: ``begin_cell`` makes new
    ones in ``observations`` for every cell, and the grader's judge sets them here (a module's class may
    be a subclass of ModuleType for properties: Python's reference, "Customizing module attribute access")."""

    observed = _running_cell_attribute("observed")
    expected = _running_cell_attribute("expected")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), "observed", "expected"})


sys.modules[__name__].__class__ = _ChecksModule
