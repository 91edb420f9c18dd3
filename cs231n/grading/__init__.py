"""Grading machinery for nbgrader, one folder per process that runs it.

- ``converters``: inside nbgrader's autograde and feedback converters (the executor, feedback, hooks);
- ``kernel``: the grading kernel's launcher, sandbox and guard (where student code runs);
- ``coordinator``: grading a whole class (``python -m cs231n.grade``) and its workers;
- ``judge``: the grader's verdict on a test cell, and the reference records it compares with;
- ``tools``: instructor and test tools (the simulated class, the notebook lint);
- ``outcomes``: the names that travel between them (outcomes, the proof's MIME type);
- ``settings``: the grading settings, all traits of ``GradingSettings`` (``c.GradingSettings.*``).

Instructors use it through ``nbgrader_config.py`` at the course root; students never need it. The
processes and what crosses between them: docs/ARCHITECTURE.md.
"""
