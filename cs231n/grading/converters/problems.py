"""The problems found in a notebook (``cs231n.grading.converters.repair``) as the gradebook's comments.

``RecordProblems`` runs after nbgrader's ``SaveAutoGrades``: it writes the notebook's problems (an
unreadable or missing notebook, instructor cells put back) into the automatic comment of each of the
notebook's answer cells, where formgrader shows them next to the score.
"""

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from ...notebook_cells import grade_id, is_solution_cell


def notebook_problems(nb) -> list[str]:
    return [str(p) for p in nb.get("metadata", {}).get("cs231n", {}).get("problems", [])]


class RecordProblems(NbGraderPreprocessor):
    """Write a notebook's problems into the gradebook's comments of its answer cells."""

    def preprocess(self, nb, resources):
        problems = notebook_problems(nb)
        info = resources.get("nbgrader", {})
        if not problems or not info.get("db_url"):
            return nb, resources
        text = "Grading note: " + "; ".join(problems)
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                if not is_solution_cell(cell):
                    continue
                try:
                    comment = gb.find_comment(grade_id(cell), info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                comment.auto_comment = text
            gb.db.commit()
        return nb, resources
