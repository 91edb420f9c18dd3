"""An nbgrader ``Execute`` preprocessor that grades a notebook as far as it runs.

Stock nbgrader aborts the whole submission when the kernel dies (``os._exit``, a segfault, running
out of memory) or stops answering, deletes what it had graded, and leaves the scores of later
notebooks empty. ``RobustExecute`` instead:

- keeps the outputs (and so the credit) of every cell that ran before the failure;
- records the failure as an error output in the cell where it happened, where the instructor sees it
  in formgrader and the student in the feedback;
- gives every cell that never ran an error output too, so an unexecuted test cell scores zero
  (nbgrader would count a test cell with no output as passed);
- runs the kernel under memory and CPU-time limits (``cs231n.grading.kernel.limits``, set by the grading settings:
  ``cs231n.grading.settings``), so a runaway submission fails in its own cell instead of exhausting the grading machine;
- turns stderr text in graded cells into ordinary output: only a raised exception fails a test, so a
  library warning never zeroes a test cell;
- optionally bounds the wall time of the notebook's cells (``GradingSettings.notebook_timeout``, counted
  from the first code cell; ``Execute.timeout`` bounds one cell): the cell running when the time is up
  is interrupted and every later cell counts as not run;
- runs the grading kernel (``cs231n.grading.kernel.guard``): tells it which cells are instructor code (from
  nbgrader's sanitised metadata) and sends every test cell a fresh random nonce; a test cell whose
  output lacks the kernel's proof carrying that nonce fails (``TestNotVerified``);
- decides every test outside the student's process: the kernel hands out what the cell's checks
  observed (plain data), and the grader compares it with what the instructor's reference solution
  produced for the same cell in a trusted run (``cs231n.grading.coordinator.reference``, cached per notebook),
  under the reference's rules, then runs the cell's judge block itself (``cs231n.grading.judge.judging``);
  judge blocks never reach the student's kernel;
- flags student cells that reach for the grading machinery (``tamper_scan``) with a note in the cell's
  output, for the instructor to review.
"""

import hashlib
import json
import logging
import math
import os
import secrets
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum
from traitlets.config import Config

from ...notebook_cells import cell_role, grade_id, is_graded_code_cell
from ..judge.cells import split_judge, tamper_scan, withhold_expected
from ..judge.judging import answer_sources, judge_cell, parse_observations, run_judge
from ..judge.records import FORMAT, ReferenceFailed, cache_folder, load_or_make
from ..kernel.isolation import IsolationUnavailable, check_isolation, isolation_message
from ..kernel.limits import LimitedKernelManager
from ..outcomes import (
    CELL_TIMEOUT,
    CHECK_FAILED,
    DEAD_KERNEL,
    NOT_GRADED,
    NOT_RUN,
    NOT_VERIFIED,
    NOTEBOOK_TIMEOUT,
    PROOF_MIME,
    STOPPED,
    stopped,
)
from ..settings import GradingSettings


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output with a one-line traceback (shown in red by the notebook front ends)."""
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]
    )


def prepare_data() -> None:
    """Make the synthetic datasets' caches now, as the grader: grading kernels cannot write them."""
    from ...captioning.dataset import ensure_synthetic_captions, resolve_captions_dataset
    from ...data.dataset import load_synthetic, resolve_dataset

    if resolve_dataset("auto", quiet=True) == "synthetic":
        load_synthetic()
    if resolve_captions_dataset("auto", quiet=True) == "synthetic":
        ensure_synthetic_captions()


class ReferenceMismatch(RuntimeError):
    """The notebook being graded does not match its reference run (an instructor's problem)."""


def source_sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _error_text(cell: NotebookNode) -> str:
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    return f"{errors[0].get('ename')}: {errors[0].get('evalue')}"[:500] if errors else ""


def note_output(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=f"[grading] {text}\n")


class RobustExecute(Execute):
    """Execute a notebook cell by cell; a dead or unresponsive kernel ends the run, not the grading.

    Limits, sandbox, reference cache: the grading settings of its configuration (``self.settings``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)
        self.settings = GradingSettings(parent=self)

    relabel_stderr = Bool(
        True, help="Show stderr text of graded cells as ordinary output instead of failing the test."
    ).tag(config=True)

    mode = Enum(
        ["grade", "reference"], "grade",
        help="'grade': judge every test cell against the reference run's record; 'reference': this is the "
             "trusted run of the instructor's source notebook that makes that record.",
    ).tag(config=True)

    @property
    def notebook_timeout(self) -> int:
        """Wall-time limit of the notebook, s (0 = none): ``GradingSettings.notebook_timeout``; a reference has none."""
        return max(0, self.settings.notebook_timeout) if self.mode == "grade" else 0

    @property
    def isolation_required(self) -> bool:
        """Whether less than full isolation stops grading (``GradingSettings.require_isolation``); the instructor's
        own solution is run sandboxed where the machine allows it, never refused for less."""
        return self.settings.require_isolation and self.mode == "grade"

    def preprocess(self, nb, resources=None, km=None):
        reason = nb.metadata.get("cs231n", {}).get("not_graded")
        if reason and self.mode == "grade":
            return self._not_graded(nb, resources, str(reason))
        self._failure: str | None = None  # why the run stopped early (every later cell says it)
        self._stopped: dict | None = None  # the same as data (outcomes.stopped), for the class report
        self._deadline = None  # the notebook's clock starts at its first code cell, once the kernel is up
        self._answers = answer_sources(nb.cells)
        self.recorded: dict[str, dict] = {}  # reference mode: grade_id -> what the test cell observed
        self.reference_failures: list[str] = []
        self.isolation: dict | None = None
        check_isolation(self.settings, self.isolation_required)
        prepare_data()
        self._reference = self._load_reference(resources) if self.mode == "grade" else None
        nb, resources = super().preprocess(nb, resources, km)
        meta = nb.metadata.setdefault("cs231n", {})
        meta["isolation"] = self.isolation or {"isolation": "unknown"}
        meta.pop(STOPPED, None)
        if self._failure:
            self.log.error("%s", self._failure)
            meta[STOPPED] = self._stopped
        return nb, resources

    def _not_graded(self, nb, resources, reason: str):
        """A notebook that could not be graded (``cs231n.grading.converters.repair``): nothing runs; every code cell
        says why, so every test scores 0 with the reason."""
        self.log.warning("not graded: %s", reason)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [error_output(NOT_GRADED, f"not graded: {reason}")]
                cell.execution_count = None
        meta = nb.metadata.setdefault("cs231n", {})
        meta["isolation"] = {"isolation": "not run", "reason": reason}
        meta.pop(STOPPED, None)
        return nb, resources

    def _stop(self, outcome: str, index: int, reason: str) -> None:
        """The run stops early at cell ``index``: every later cell is marked not run, with ``reason``."""
        self._failure = reason
        self._stopped = stopped(outcome, index + 1, reason)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._deadline is None and self.notebook_timeout > 0:
            self._deadline = time.monotonic() + self.notebook_timeout
        if not self._failure and self._time_left() == 0:
            self._stop(NOTEBOOK_TIMEOUT, index,
                       f"the notebook's time limit ({self.notebook_timeout} s) ran out before cell {index + 1}")
        if self._failure:
            cell.outputs = [error_output(NOT_RUN, f"this cell did not run: {self._failure}")]
            cell.execution_count = None
            return cell, resources
        if self.isolation is None:
            self.isolation = self._kernel_isolation()
        role = cell_role(cell)
        self._request_meta = {"role": role, "nonce": secrets.token_hex(16), "mode": self.mode}
        source, judge = cell.source, None
        if role in ("test", "given"):
            kernel_code, judge = split_judge(source) if role == "test" else (source, None)
            supplies = self._reference_cell(cell).get("supplies") if self._reference is not None else None
            if self.mode == "grade":
                kernel_code, _ = withhold_expected(kernel_code)
            cell.source = kernel_code  # judge blocks and expected values never reach the student's kernel
            if supplies:
                self._request_meta["supplies_json"] = json.dumps(supplies, allow_nan=True)
        self._send_roles()
        try:
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            finally:
                cell.source = source
            observations = self._verify(cell, role, self._request_meta["nonce"])
            if role == "test":
                self._decide(cell, observations, judge)
            if self._time_left() == 0:
                self._stop(NOTEBOOK_TIMEOUT, index,
                           f"the notebook's time limit ({self.notebook_timeout} s) ran out in cell {index + 1}")
        except DeadKernelError:
            self._stop(DEAD_KERNEL, index, f"the kernel died while running cell {index + 1}")
            cell.execution_count = None  # whether the dying kernel numbered this cell is down to timing
            cell.outputs.append(error_output(DEAD_KERNEL, self._failure + " (exit, crash or out of memory)"))
        except CellTimeoutError:
            self._stop(CELL_TIMEOUT, index,
                       f"the kernel stopped responding in cell {index + 1} (timeout, interrupt ignored)")
            cell.outputs.append(error_output(CELL_TIMEOUT, self._failure))
            self._stop_kernel()
        if self.relabel_stderr and is_graded_code_cell(cell):
            for output in cell.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources

    def _kernel_isolation(self) -> dict:
        """What the kernel's launcher recorded; a kernel with less than full isolation stops grading
        unless the instructor opted out."""
        km = getattr(self, "km", None)
        info = km.isolation() if km is not None and hasattr(km, "isolation") else None
        info = info or {"isolation": "none", "reason": "the kernel was started without the sandbox"}
        if info.get("isolation") != "full" and self.isolation_required:
            raise IsolationUnavailable(isolation_message(info))
        return info

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

    def _verify(self, cell: NotebookNode, role: str, nonce: str) -> dict | None:
        """Check a test cell's proof, drop proofs from the outputs, and note tampering for the instructor.

        Returns: the observations the test cell handed out (None when it failed or has no proof)."""
        proofs = [o for o in cell.outputs
                  if o.get("output_type") == "display_data" and PROOF_MIME in o.get("data", {})]
        cell.outputs = [o for o in cell.outputs if not any(o is p for p in proofs)]
        if role == "student":
            flagged = tamper_scan(cell.source)
            if flagged:
                cell.outputs.append(note_output("this cell uses the grading machinery; an instructor will review "
                                                "it: " + " | ".join(flagged[:5])))
            return None
        reports = [p["data"][PROOF_MIME] for p in proofs]
        mine = [r for r in reports if isinstance(r, dict) and r.get("nonce") == nonce]
        undone = sorted({str(item) for r in mine for item in r.get("restored", [])})
        if undone:
            cell.outputs.append(note_output("undone before this cell ran: " + ", ".join(undone[:10])))
        if role != "test" or any(o.get("output_type") == "error" for o in cell.outputs):
            return None
        if len(mine) != 1 or len(reports) != 1:
            cell.outputs.append(error_output(NOT_VERIFIED, "the grader could not verify that this test ran to the "
                                                           "end (its proof is missing or forged)"))
            return None
        return parse_observations(mine[0].get("observations_json"))

    # -- verdicts ---------------------------------------------------------------------------------------
    def _decide(self, cell: NotebookNode, observations: dict | None, judge: str | None) -> None:
        """Grade mode: judge the test cell against the reference record. Reference mode: record it."""
        if any(o.get("output_type") == "error" for o in cell.outputs):
            if self.mode == "reference":
                self.reference_failures.append(f"{grade_id(cell)}: {_error_text(cell)}")
            return
        if self.mode == "reference":
            record = {"source_sha": source_sha(cell.source), "judge": judge,
                      "observations": (observations or {}).get("observations", []),
                      "supplies": (observations or {}).get("supplies", {})}
            problem = run_judge(judge, record["observations"]) if judge else None
            if observations is None or problem:
                self.reference_failures.append(f"{grade_id(cell)}: {problem or 'no observations'}")
            self.recorded[grade_id(cell)] = record
            return
        problem = judge_cell(self._reference_cell(cell), observations, self._answers)
        if problem:
            cell.outputs.append(error_output(CHECK_FAILED, problem))

    def _reference_cell(self, cell: NotebookNode) -> dict:
        if cell_role(cell) != "test":
            return {}
        gid = grade_id(cell)
        record = self._reference["cells"].get(gid)
        if record is None:
            raise ReferenceMismatch(f"test cell {gid!r} is not in the reference run of this notebook: the source "
                                    f"notebook changed since `nbgrader generate_assignment`; run it again")
        if record["source_sha"] != source_sha(cell.source):
            raise ReferenceMismatch(f"test cell {gid!r} differs from the source notebook's: the source notebook "
                                    f"changed since `nbgrader generate_assignment`; run it again")
        return record

    def _load_reference(self, resources) -> dict:
        """The reference record of the notebook being graded (made now if it is not cached)."""
        from nbgrader.coursedir import CourseDirectory

        info = (resources or {}).get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if not assignment or not notebook:
            raise ReferenceMismatch("RobustExecute grades only inside nbgrader autograde (no assignment given)")
        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        cache = cache_folder(Path(coursedir.root), self.settings.reference_cache)
        return load_or_make(source, notebook, cache, partial(make_reference, config=self.config), log=self.log)

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


def make_reference(source: Path, notebook: str, log: logging.Logger | None = None, timeout: int = 300,
                   config: Config | None = None) -> dict:
    """Run the source notebook in a grading kernel in reference mode and collect what its tests observe.

    The notebook runs in a scratch copy of its assignment folder (its siblings and ``given/`` beside
    it), with ``NBGRADER_EXECUTION=autograde`` as in grading, under the grading settings of ``config``
    (the kernel's limits and sandbox; default: the kit's defaults). Returns the record: ``cells`` maps each
    test cell's grade_id to its observations, the inputs it prepared (``supplies``), its judge block and
    a digest of its source.
    """
    import nbformat

    log = log or logging.getLogger("cs231n.reference")
    source = Path(source).resolve()
    tic = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"cs231n-reference-{os.getpid()}-"))
    saved = os.environ.get("NBGRADER_EXECUTION")
    try:
        work = scratch / source.name
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        nb = nbformat.read(work / f"{notebook}.ipynb", as_version=4)
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        log.info("reference run of %s/%s.ipynb ...", source.name, notebook)
        ep = RobustExecute(config=config or Config(), mode="reference", timeout=timeout)
        ep.preprocess(nb, {"metadata": {"path": str(work)}})
        failures = list(ep.reference_failures)
        if ep._failure:
            failures.insert(0, ep._failure)
        if failures:
            raise ReferenceFailed(f"the reference solution of {source.name}/{notebook}.ipynb fails its own tests: "
                                  + "; ".join(failures[:5]))
    finally:
        if saved is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - tic
    log.info("reference run of %s/%s.ipynb: %d test cells in %.1f s", source.name, notebook, len(ep.recorded), seconds)
    return {"format": FORMAT, "assignment": source.name, "notebook": notebook, "seconds": round(seconds, 2),
            "cells": ep.recorded}
