"""What coordinates a class: the process of ``python -m cs231n.grade`` and its workers.

``parallel`` hands each submission to a worker (a thread here, ``procs`` running nbgrader in a
subprocess, or a Dask task: ``cluster``), ``reference`` makes the reference records before a round,
``gradebook`` reads the scores, ``report`` writes what the round found.
"""
