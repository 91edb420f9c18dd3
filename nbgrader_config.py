"""nbgrader configuration of the course kit. Run every nbgrader command from this folder.

Instructor sources live in assignment1/ .. assignment3/; source/assignmentN are links to them, so
nbgrader finds them and formgrader lists exactly the three assignments.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    GetGrades,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from cs231n.grading.converters.execute import RobustExecute
from cs231n.grading.converters.feedback import HideHiddenTests, NoteGrading
from cs231n.grading.converters.hooks import prepare_submission
from cs231n.grading.converters.problems import RecordProblems
from cs231n.grading.converters.sanitize import DeduplicateCells, RestoreCellRoles

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cs231n-kit"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))  # this folder, absolute: no warning
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Grading settings of the kit, all in one class (cs231n/grading/settings.py). Shown here with the kit's
# values. `python -m cs231n.grade` overrides some of them for the runs it starts (--memory-mb,
# --cpu-seconds, --threads-per-kernel, --notebook-timeout, --allow-unisolated), and nbgrader's command
# line any of them: `nbgrader autograde a1 --GradingSettings.kernel_memory_mb=4096`.
c.GradingSettings.kernel_memory_mb = 6144  # address space of each grading kernel, MB (0 = none)
c.GradingSettings.kernel_cpu_seconds = 1800  # CPU time of each grading kernel, s (0 = none), then killed
c.GradingSettings.kernel_threads = 1  # BLAS threads of each grading kernel (cs231n.grade: CPUs / workers)
c.GradingSettings.notebook_timeout = 0  # wall time of one notebook, s (0 = none; cs231n.grade: 900)
c.GradingSettings.submission_file_mb = 20  # larger extra files of a submission are kept aside
# The grading kernel's sandbox (docs/GRADING_SECURITY.md). sandbox = False is for debugging only.
c.GradingSettings.sandbox = True
c.GradingSettings.require_isolation = True  # refuse to grade where kernels cannot be fully isolated
# c.GradingSettings.sandbox_hide = ["/srv/secrets"]  # more folders grading kernels must not see
# c.GradingSettings.kernel_user = "grader-kernel"  # when grading as root; default: nobody
# Reference records (the instructor's solution's observations): <course>/.cs231n/reference by default.
# Left unset here so that a Jupyter configuration folder may set it (the test suite shares one folder).
# c.GradingSettings.reference_cache = "/var/cache/cs231n/reference"

# Execution: one cell may take at most this long (a correct solution in autograde mode takes far less,
# see cs231n.budget); a dead or hung kernel ends that notebook's run, not the whole batch.
c.Execute.timeout = 300
# Sanitising: nbgrader's own steps (locked cells get the instructor's source back), with duplicated
# cells handled without aborting the submission. See docs/GRADING_SECURITY.md.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateCells,
    OverwriteKernelspec,
    RestoreCellRoles,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    RobustExecute,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    RecordProblems,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.Autograde.pre_convert_hook = prepare_submission

# Feedback: scores and visible-test results; hidden tests show a verdict only.
c.GenerateFeedback.preprocessors = [HideHiddenTests, NoteGrading, GetGrades, CSSHTMLHeaderPreprocessor]

# Student-facing release: solutions replaced with this stub, so every check reports "not attempted".
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
