"""Given code for the course kit: data, gradient checking, fast layers and grading helpers.

Nothing in this package is a solution to an assignment: students write their answers in the
notebooks, and the notebooks import only the helpers defined here.
"""

__version__ = "0.1.0"
