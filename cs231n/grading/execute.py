"""An nbgrader ``Execute`` preprocessor that grades a notebook as far as it runs.

Stock nbgrader aborts the whole submission when the kernel dies (``os._exit``, a segfault, running
out of memory) or stops answering, deletes what it had graded, and leaves the scores of later
notebooks empty. ``RobustExecute`` instead:

- keeps the outputs (and so the credit) of every cell that ran before the failure;
- records the failure as an error output in the cell where it happened, where the instructor sees it
  in formgrader and the student in the feedback;
- gives every cell that never ran an error output too, so an unexecuted test cell scores zero
  (nbgrader would count a test cell with no output as passed);
- runs the kernel under memory and CPU-time limits (``cs231n.grading.limits``), so a runaway
  submission fails in its own cell instead of exhausting the grading machine;
- turns stderr text in graded cells into ordinary output: only a raised exception fails a test, so a
  library warning never zeroes a test cell;
- optionally bounds the wall time of the notebook's cells (``RobustExecute.notebook_timeout``, default
  from ``CS231N_NOTEBOOK_SECONDS``, counted from the first code cell; ``Execute.timeout`` bounds one
  cell): the cell running when the time is up is interrupted and every later cell counts as not run.
"""

import math
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, default

from .limits import LimitedKernelManager, configured

NOT_RUN = "CellNotRun"


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output with a one-line traceback (shown in red by the notebook front ends)."""
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]
    )


def is_graded_code_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade"))


class RobustExecute(Execute):
    """Execute a notebook cell by cell; a dead or unresponsive kernel ends the run, not the grading."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)

    relabel_stderr = Bool(
        True, help="Show stderr text of graded cells as ordinary output instead of failing the test."
    ).tag(config=True)

    notebook_timeout = Integer(
        0, help="Wall-time limit in seconds for the whole notebook (0 = none); Execute.timeout bounds one cell."
    ).tag(config=True)

    @default("notebook_timeout")
    def _notebook_timeout_default(self) -> int:
        return max(0, configured("CS231N_NOTEBOOK_SECONDS", 0))

    def preprocess(self, nb, resources=None, km=None):
        self._failure: str | None = None
        self._deadline = None  # the notebook's clock starts at its first code cell, once the kernel is up
        nb, resources = super().preprocess(nb, resources, km)
        if self._failure:
            self.log.error("%s", self._failure)
            resources.setdefault("cs231n", {})["execution_failure"] = self._failure
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._deadline is None and self.notebook_timeout > 0:
            self._deadline = time.monotonic() + self.notebook_timeout
        if not self._failure and self._time_left() == 0:
            self._failure = f"the notebook's time limit ({self.notebook_timeout} s) ran out before cell {index + 1}"
        if self._failure:
            cell.outputs = [error_output(NOT_RUN, f"this cell did not run: {self._failure}")]
            cell.execution_count = None
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            if self._time_left() == 0:
                self._failure = f"the notebook's time limit ({self.notebook_timeout} s) ran out in cell {index + 1}"
        except DeadKernelError:
            self._failure = f"the kernel died while running cell {index + 1}"
            cell.execution_count = None  # whether the dying kernel numbered this cell is down to timing
            cell.outputs.append(error_output("DeadKernelError", self._failure + " (exit, crash or out of memory)"))
        except CellTimeoutError:
            self._failure = f"the kernel stopped responding in cell {index + 1} (timeout, interrupt ignored)"
            cell.outputs.append(error_output("CellTimeoutError", self._failure))
            self._stop_kernel()
        if self.relabel_stderr and is_graded_code_cell(cell):
            for output in cell.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources

    def _time_left(self) -> float | None:
        """Seconds left of the notebook's time limit (None = no limit, 0 = none left)."""
        if getattr(self, "_deadline", None) is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def _get_timeout(self, cell):
        """nbclient's per-cell timeout, shortened to what is left of the notebook's time limit."""
        timeout = super()._get_timeout(cell)
        left = self._time_left()
        if left is None:
            return timeout
        left = max(1, math.ceil(left))
        return left if timeout is None else min(timeout, left)

    def _stop_kernel(self):
        """Kill a kernel that ignores interrupts, so no later cell waits for it."""
        try:
            if self.km is not None:
                self._run_sync(self.km.shutdown_kernel(now=True))
        except Exception as exc:  # noqa: BLE001 - best effort; the run is over anyway
            self.log.warning("could not stop the unresponsive kernel: %s", exc)

    @staticmethod
    def _run_sync(awaitable):
        from jupyter_core.utils import run_sync

        return run_sync(lambda: awaitable)()
