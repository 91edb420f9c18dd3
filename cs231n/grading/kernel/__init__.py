"""What launches and runs the grading kernel: the process where a student's code runs while graded.

``limits`` is the launcher (``python -I -m cs231n.grading.kernel.limits``, started by the executor's
kernel manager): it sets the memory and CPU limits, isolates the process (``sandbox``) and starts the
kernel itself (``guard``). ``isolation`` asks, once per grading process, how much isolation this
machine allows.
"""
