"""The grader's judging, done in the nbgrader process and never in the student's kernel.

``cells`` reads test cells' judge and expected-value blocks (cells in general: ``cs231n.notebook_cells``),
``records`` keeps the reference records, ``judging`` decides a test cell from the observations the kernel handed out.
"""
