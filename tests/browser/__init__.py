"""Helpers for the browser tests (tests/test_browser.py): a temporary course with a local nbgrader
exchange, JupyterLab servers on 127.0.0.1, and numbered screenshots."""
