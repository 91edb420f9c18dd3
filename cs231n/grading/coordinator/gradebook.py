"""The course gradebook, read through its configured URL (SQLite or PostgreSQL): the URL itself, an
assignment's notebooks, submission totals (the class coordinator) and every grade cell's score (the
instructor's tools: ``cs231n.grading.tools.course.grades``)."""

from dataclasses import dataclass
from pathlib import Path

from .report import SubmissionResult


def resolve_db_url(course: Path, db_url: str | None = None) -> str:
    """The gradebook URL: ``db_url`` if given, else ``CourseDirectory.db_url`` of the configuration an
    nbgrader run in ``course`` loads (by default ``sqlite:///<course>/gradebook.db``)."""
    if db_url:
        return db_url
    from nbgrader.coursedir import CourseDirectory

    from ..settings import course_config

    course = Path(course).resolve()
    return CourseDirectory(config=course_config(course), root=str(course)).db_url


def assignment_notebooks(db_url: str, assignment: str) -> list[str]:
    """The assignment's notebook names as the gradebook knows them (``generate_assignment`` must have
    run); raises ``LookupError`` if the assignment is not in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise LookupError(f"assignment {assignment!r} is not in the gradebook {db_url}: "
                              "run `nbgrader generate_assignment` first") from None


def fill_scores(db_url: str, assignment: str, results: list[SubmissionResult]) -> None:
    """Read each graded student's total score and maximum from the gradebook into the results."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for r in results:
            try:
                sub = gb.find_submission(assignment, r.student)
            except MissingEntry:
                continue
            r.score, r.max_score = float(sub.score), float(sub.max_score)


@dataclass
class CellGrade:
    """One grade cell of one student's submitted notebook."""

    notebook: str
    grade_id: str
    auto_score: float | None
    max_score: float
    manual: bool  # a manually graded answer (a Markdown cell)


def cell_grades(db_url: str, assignment: str) -> dict[str, list[CellGrade]]:
    """student -> the grade of every grade cell of their submission of ``assignment``, read from the
    gradebook at ``db_url`` (``resolve_db_url`` gives a course's)."""
    from nbgrader.api import Gradebook

    out: dict[str, list[CellGrade]] = {}
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = [CellGrade(nb.name, g.name, g.auto_score, g.max_score, g.cell.cell_type == "markdown")
                                   for nb in sub.notebooks for g in nb.grades]
    return out
