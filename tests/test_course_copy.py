"""Copying a course for a grading round: single notebooks bring the siblings they load."""

import json
from pathlib import Path

from cs231n.grading import course as C


def _notebook(path: Path, source: str) -> None:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_with_siblings_follows_load_notebook_transitively(tmp_path):
    _notebook(tmp_path / "a.ipynb", 'b = load_notebook("b.ipynb")\n')
    _notebook(tmp_path / "b.ipynb", "c = load_notebook('c.ipynb')")
    _notebook(tmp_path / "c.ipynb", "x = 1")
    _notebook(tmp_path / "d.ipynb", 'a = load_notebook("a.ipynb")')
    assert C.with_siblings(tmp_path, ["a"]) == {"a", "b", "c"}
    assert C.with_siblings(tmp_path, ["c"]) == {"c"}
    assert C.with_siblings(tmp_path, ["missing"]) == set()


def test_prepare_course_keeps_siblings_and_demo_class_mutates_only_the_chosen(tmp_path):
    root = C.repo_root()
    course = C.prepare_course(root, tmp_path / "course", ["assignment3"], ["LSTM_Captioning"])
    assert sorted(p.stem for p in (course / "assignment3").glob("*.ipynb")) == ["LSTM_Captioning", "RNN_Captioning"]
    assert (course / "assignment3" / "given" / "layers.py").is_file()
    students = C.demo_class(course, "assignment3", all_mutants=True, only=["LSTM_Captioning"])
    mutated = {m.notebook for s in students if s.mutants for m in s.mutants}
    assert mutated == {"LSTM_Captioning"}
