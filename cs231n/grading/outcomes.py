"""What can happen to a graded cell or notebook, by name: written where it happens, read by the report
and the feedback.

- A cell's outcome is the name of its error output (none: it passed). ``RobustExecute`` writes the
  names below into the autograded notebook; the student's code and the checks write their own
  exceptions' names.
- A notebook's run that stopped before its end is recorded by ``RobustExecute`` in the notebook's
  metadata (``metadata.cs231n.stopped``: the outcome, the cell, the reason); the class coordinator
  reads it from there, never from an error message.
- ``PROOF_MIME`` is the output type of the grading kernel's proof that a test cell ran to its end.

Plain names only: the grading kernel, the nbgrader converters and the class coordinator all import
this module, and it imports nothing.
"""

# -- cell outcomes: the names of the error outputs in graded notebooks ----------------------------------
#: A cell that ``RobustExecute`` did not run (the kernel died, or the notebook's time ran out).
NOT_RUN = "CellNotRun"
#: A test cell whose pass could not be verified by the guard.
NOT_VERIFIED = "TestNotVerified"
#: A test cell whose results the grader found wrong (judged outside the student's kernel).
CHECK_FAILED = "CheckFailed"
#: Every cell of a notebook that could not be graded (unreadable, missing: cs231n.grading.converters.repair).
NOT_GRADED = "NotGraded"
#: nbclient's error names, as they appear in the outputs.
DEAD_KERNEL = "DeadKernelError"
CELL_TIMEOUT = "CellTimeoutError"
#: What an answer that is still a stub raises.
NOT_IMPLEMENTED = ("NotImplementedError", "NotAttempted")
#: The outcomes of cells whose code never ran to the end because of how grading went, not the answer.
NEVER_RAN = (NOT_RUN, DEAD_KERNEL, CELL_TIMEOUT, NOT_GRADED)

# -- how a notebook's run stopped early (metadata.cs231n.stopped["outcome"]) ------------------------------
#: The notebook's own wall-time limit ran out (later cells: ``NOT_RUN``). The others are ``DEAD_KERNEL``
#: and ``CELL_TIMEOUT`` (the kernel stopped answering).
NOTEBOOK_TIMEOUT = "NotebookTimeout"
#: The key of the record in the notebook's ``metadata.cs231n``.
STOPPED = "stopped"

#: The grading kernel's proof that a test cell ran to its end (a display output of this type).
PROOF_MIME = "application/vnd.cs231n.test-proof+json"


def stopped(outcome: str, cell: int, reason: str) -> dict:
    """The record of a notebook's run that stopped at ``cell`` (counted from 1 over all cells)."""
    return {"outcome": outcome, "cell": cell, "reason": reason}


def stop_problem(record: object, notebook: str) -> str | None:
    """The class report's line for a notebook whose run stopped early (None: it ran to its end)."""
    if not isinstance(record, dict):
        return None
    outcome, cell = record.get("outcome"), record.get("cell")
    if outcome == DEAD_KERNEL:
        return f"dead kernel: {notebook} cell {cell}"
    if outcome == CELL_TIMEOUT:
        return f"timeout: {notebook} cell {cell}"
    if outcome == NOTEBOOK_TIMEOUT:
        return f"timeout: {notebook} ran out of its notebook time limit"
    return None
