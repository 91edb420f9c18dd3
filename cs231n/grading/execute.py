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
  cell): the cell running when the time is up is interrupted and every later cell counts as not run;
- with the guarded kernel (``cs231n.grading.guard``, on unless ``CS231N_GUARD=0``): tells the kernel
  which cells are instructor code (from nbgrader's sanitised metadata), sends every test cell a fresh
  random nonce, and fails every test cell whose output lacks the kernel's proof carrying that nonce
  (``TestNotVerified``): a test that was skipped, rewritten or had its exception swallowed scores zero;
- flags student cells that reach for the grading machinery (``tamper_scan``) with a note in the cell's
  output, for the instructor to review.
"""

import math
import re
import secrets
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, default

from .limits import LimitedKernelManager, configured
from .outcomes import CELL_TIMEOUT, DEAD_KERNEL, NOT_RUN, NOT_VERIFIED

PROOF_MIME = "application/vnd.cs231n.test-proof+json"  # as cs231n.grading.guard (not imported: no ipykernel here)

#: Code in student cells that reaches for the grading machinery rather than computing an answer.
SUSPICIOUS = re.compile(
    r"get_ipython|__builtins__|\bbuiltins\b|sys\.(settrace|setprofile|excepthook|displayhook|modules|_getframe|exit)"
    r"|os\._exit|\bctypes\b|\bgc\.|\bf_(lineno|trace|locals|globals|back)\b|__del__|set_custom_exc"
    r"|input_transformers|ast_transformers|events\.register|__import__|\bimportlib\b|\bsetattr\s*\("
    r"|\b(np|numpy|checks|cs231n)\.[\w.]+\s*=[^=]|gradebook|\bsource/|\bsignal\.")


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output with a one-line traceback (shown in red by the notebook front ends)."""
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]
    )


def is_graded_code_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade"))


def cell_role(cell: NotebookNode) -> str:
    """"test" (a locked test cell), "given" (locked instructor code) or "student" (anything else).

    Read after nbgrader's sanitising step: a locked cell with a grade_id has the instructor's source
    (OverwriteCells), a duplicated cell has lost its metadata (DeduplicateIds), and a cell whose
    grade_id is unknown to the gradebook has lost its grade_id.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.cell_type != "code" or meta.get("solution") or not meta.get("grade_id"):
        return "student"
    if meta.get("grade"):
        return "test"
    return "given" if meta.get("locked") else "student"


def tamper_scan(source: str) -> list[str]:
    """The lines of a student cell that use the grading machinery (empty for ordinary NumPy code)."""
    return [line.strip() for line in source.splitlines() if SUSPICIOUS.search(line)]


def note_output(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=f"[grading] {text}\n")


class RobustExecute(Execute):
    """Execute a notebook cell by cell; a dead or unresponsive kernel ends the run, not the grading."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)

    relabel_stderr = Bool(
        True, help="Show stderr text of graded cells as ordinary output instead of failing the test."
    ).tag(config=True)

    guard = Bool(
        True, help="Run instructor cells through the guarded kernel and require its proof for every test cell."
    ).tag(config=True)

    @default("guard")
    def _guard_default(self) -> bool:
        return configured("CS231N_GUARD", 1) != 0

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
        role = cell_role(cell) if self.guard else "student"
        self._request_meta = {"role": role, "nonce": secrets.token_hex(16)}
        self._send_roles()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
            if self.guard:
                self._verify(cell, role, self._request_meta["nonce"])
            if self._time_left() == 0:
                self._failure = f"the notebook's time limit ({self.notebook_timeout} s) ran out in cell {index + 1}"
        except DeadKernelError:
            self._failure = f"the kernel died while running cell {index + 1}"
            cell.execution_count = None  # whether the dying kernel numbered this cell is down to timing
            cell.outputs.append(error_output(DEAD_KERNEL, self._failure + " (exit, crash or out of memory)"))
        except CellTimeoutError:
            self._failure = f"the kernel stopped responding in cell {index + 1} (timeout, interrupt ignored)"
            cell.outputs.append(error_output(CELL_TIMEOUT, self._failure))
            self._stop_kernel()
        if self.relabel_stderr and is_graded_code_cell(cell):
            for output in cell.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources

    def _send_roles(self) -> None:
        """Make the kernel client send the cell's role and nonce in the execute request's metadata."""
        kc = getattr(self, "kc", None)
        if kc is None or getattr(kc, "_cs231n_roles", False):
            return

        def execute(code, silent=False, store_history=True, user_expressions=None, allow_stdin=None,
                    stop_on_error=True):
            content = {"code": code, "silent": silent, "store_history": store_history,
                       "user_expressions": user_expressions or {}, "allow_stdin": bool(allow_stdin),
                       "stop_on_error": stop_on_error}
            msg = kc.session.msg("execute_request", content)
            msg["metadata"] = {"cs231n": dict(self._request_meta)}
            kc.shell_channel.send(msg)
            return msg["header"]["msg_id"]

        kc.execute = execute
        kc._cs231n_roles = True

    def _verify(self, cell: NotebookNode, role: str, nonce: str) -> None:
        """Check a test cell's proof, drop proofs from the outputs, and note tampering for the instructor."""
        proofs = [o for o in cell.outputs
                  if o.get("output_type") == "display_data" and PROOF_MIME in o.get("data", {})]
        cell.outputs = [o for o in cell.outputs if not any(o is p for p in proofs)]
        if role == "student":
            flagged = tamper_scan(cell.source)
            if flagged:
                cell.outputs.append(note_output("this cell uses the grading machinery; an instructor will review "
                                                "it: " + " | ".join(flagged[:5])))
            return
        reports = [p["data"][PROOF_MIME] for p in proofs]
        mine = [r for r in reports if isinstance(r, dict) and r.get("nonce") == nonce]
        undone = sorted({item for r in mine for item in r.get("restored", [])})
        if undone:
            cell.outputs.append(note_output("undone before this cell ran: " + ", ".join(undone[:10])))
        if role != "test" or any(o.get("output_type") == "error" for o in cell.outputs):
            return
        if len(mine) != 1 or len(reports) != 1:
            cell.outputs.append(error_output(NOT_VERIFIED, "the grader could not verify that this test ran to the "
                                                           "end (its proof is missing or forged)"))

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
