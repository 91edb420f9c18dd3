"""What runs inside nbgrader's converters, in the nbgrader process that grades one submission.

``nbgrader autograde`` (started by the class coordinator, or by hand) loads these through
``nbgrader_config.py``: the pre-convert hook that repairs a submission (``hooks``, ``repair``), the
sanitising steps (``sanitize``), the executor that runs each notebook in a grading kernel and judges
its tests (``execute``), the gradebook comments (``problems``); ``nbgrader generate_feedback`` loads
``feedback``. Student code never runs here: it runs in the grading kernel (``cs231n.grading.kernel``).
"""
