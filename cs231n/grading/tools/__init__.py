"""Instructor and test tools: the simulated class, attacks, the notebook lint and rewriters.

Used by ``make demo``, ``make lint``, the tests and the benchmarks; nothing here runs while a class is
graded.
"""
