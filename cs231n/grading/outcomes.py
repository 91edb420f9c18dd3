"""Names of the error outputs that the grading machinery writes into graded notebooks.

Kept apart from ``execute`` (which needs nbclient and nbgrader) so that the class-grading coordinator
can read autograded notebooks without importing either.
"""

#: A cell that ``RobustExecute`` did not run (the kernel died, or the notebook's time ran out).
NOT_RUN = "CellNotRun"
#: A test cell whose pass could not be verified by the guard.
NOT_VERIFIED = "TestNotVerified"
#: A test cell whose results the grader found wrong (judged outside the student's kernel).
CHECK_FAILED = "CheckFailed"
#: Every cell of a notebook that could not be graded (unreadable, missing: cs231n.grading.repair).
NOT_GRADED = "NotGraded"
#: nbclient's error names, as they appear in the outputs.
DEAD_KERNEL = "DeadKernelError"
CELL_TIMEOUT = "CellTimeoutError"
