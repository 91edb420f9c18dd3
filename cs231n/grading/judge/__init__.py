"""The grader's judging, done in the nbgrader process and never in the student's kernel.

``cells`` reads notebook cells (roles, judge and expected-value blocks), ``records`` keeps the
reference records, ``judging`` decides a test cell from the observations the kernel handed out.
"""
