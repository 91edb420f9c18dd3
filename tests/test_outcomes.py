"""Outcomes travel as data: the executor's record of a stopped run is what the class report reads."""

import json

from cs231n.grading import outcomes
from cs231n.grading.converters.feedback import verdict
from cs231n.grading.coordinator.parallel import execution_problems


def autograded(folder, name: str, stopped=None, outputs=()) -> None:
    meta = {"cs231n": {outcomes.STOPPED: stopped} if stopped else {}}
    cell = {"cell_type": "code", "metadata": {}, "source": "", "outputs": list(outputs), "execution_count": None}
    (folder / name).write_text(json.dumps({"cells": [cell], "metadata": meta, "nbformat": 4, "nbformat_minor": 5}))


def test_the_report_reads_how_a_run_stopped_from_the_record(tmp_path):
    autograded(tmp_path, "a.ipynb", outcomes.stopped(outcomes.DEAD_KERNEL, 7, "the kernel died while running cell 7"))
    autograded(tmp_path, "b.ipynb", outcomes.stopped(outcomes.NOTEBOOK_TIMEOUT, 3, "the notebook's time limit ..."))
    autograded(tmp_path, "c.ipynb", outcomes.stopped(outcomes.CELL_TIMEOUT, 2, "the kernel stopped responding"))
    assert execution_problems(tmp_path) == ["dead kernel: a.ipynb cell 7",
                                            "timeout: b.ipynb ran out of its notebook time limit",
                                            "timeout: c.ipynb cell 2"]


def test_an_error_message_is_not_an_outcome(tmp_path):
    """A cell whose error merely says 'time limit' (or is named like nbclient's) is no timeout."""
    fake = [{"output_type": "error", "ename": outcomes.NOT_RUN, "evalue": "the notebook's time limit ran out",
             "traceback": []},
            {"output_type": "error", "ename": outcomes.DEAD_KERNEL, "evalue": "", "traceback": []}]
    autograded(tmp_path, "a.ipynb", outputs=fake)
    assert execution_problems(tmp_path) == []


def test_feedback_names_the_outcome_of_a_hidden_test():
    def cell(ename, evalue=""):
        return {"outputs": [{"output_type": "error", "ename": ename, "evalue": evalue}]}

    assert verdict({"outputs": []}) == "Hidden tests: passed."
    assert verdict(cell(outcomes.NOT_RUN)) == "Hidden tests: not run (CellNotRun)."
    assert verdict(cell(outcomes.CHECK_FAILED, "add: wrong\nmore")) == "Hidden tests: failed: add: wrong"
    assert verdict(cell("NotAttempted")) == "Hidden tests: failed (the function is not implemented yet)."
    assert verdict(cell("ValueError")) == "Hidden tests: failed (ValueError)."
