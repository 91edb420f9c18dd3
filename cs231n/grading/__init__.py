"""Grading machinery for nbgrader: robust execution, safe feedback, sibling-notebook hooks, the
notebook lint and the simulated class used by ``make demo`` and the tests.

Instructors use it through ``nbgrader_config.py`` at the course root; students never need it.
"""
