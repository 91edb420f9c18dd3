"""Sanitising preprocessors that run before nbgrader grades a submission (``Autograde.sanitize_preprocessors``)."""

from nbgrader.api import MissingEntry
from nbgrader.preprocessors import DeduplicateIds, OverwriteCells

from ...notebook_cells import grade_id, nbgrader_metadata


class DeduplicateCells(DeduplicateIds):
    """nbgrader's ``DeduplicateIds`` (the last copy of a duplicated cell keeps its role), minus its bug.

    Upstream turns every earlier copy's metadata into an empty ``nbgrader`` dict, which the metadata
    check then rejects as an "old version of the nbgrader metadata format": the whole submission is not
    graded. Here the earlier copies become plain student cells, and grading goes on.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.get("metadata", {}).get("nbgrader", None) == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class RestoreCellRoles(OverwriteCells):
    """nbgrader's ``OverwriteCells``, which first gives every known cell back its role from the gradebook.

    Upstream restores a locked cell's source and ``locked`` flag but not ``grade``/``solution``: a test
    cell retagged as an answer cell then fails nbgrader's checksum double-check with a RuntimeError and
    the whole notebook goes ungraded. Restoring the flags first lets the source be restored and graded.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if grade_id(cell):
            self._restore_role(nbgrader_metadata(cell))
        return super().preprocess_cell(cell, resources, cell_index)

    def _restore_role(self, meta) -> None:
        gid, nb, assignment = meta["grade_id"], self.notebook_id, self.assignment_id
        try:
            source = self.gradebook.find_source_cell(gid, nb, assignment)
        except MissingEntry:
            return
        meta["grade"] = _has_entry(self.gradebook.find_graded_cell, gid, nb, assignment)
        meta["solution"] = _has_entry(self.gradebook.find_solution_cell, gid, nb, assignment)
        meta["locked"] = bool(source.locked)


def _has_entry(find, *key: str) -> bool:
    """Whether the gradebook has the entry that ``find`` (a ``Gradebook.find_...`` method) looks up."""
    try:
        find(*key)
    except MissingEntry:
        return False
    return True
