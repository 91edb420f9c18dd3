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
