"""Shared pytest settings: say which slow test is starting (a full grading round takes minutes), and
share the instructor's reference records between the test session's course copies."""

import os
import shutil
import tempfile
from pathlib import Path


def pytest_configure(config):
    """Every grading round of the session finds the reference records another round made: a record's
    key is the digest of what the reference run depends on (cs231n.grading.judge.records.digest), so
    sharing them changes no verdict, only how often the reference notebooks run.

    The folder is a grading setting (``GradingSettings.reference_cache``) in the nbgrader_config.py of a
    Jupyter configuration folder of the session's own, put on ``JUPYTER_CONFIG_PATH``: every nbgrader
    run of the session loads it besides the course's configuration, and so does the class coordinator
    (``cs231n.grading.settings.course_config``)."""
    folder = Path(tempfile.mkdtemp(prefix="cs231n-test-reference-"))
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.GradingSettings.reference_cache = {str(folder / 'records')!r}\n")
    config._cs231n_reference_cache = str(folder)
    config._cs231n_jupyter_path = os.environ.get("JUPYTER_CONFIG_PATH")
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(folder), config._cs231n_jupyter_path]))


def pytest_unconfigure(config):
    folder = getattr(config, "_cs231n_reference_cache", None)
    if folder:
        old = config._cs231n_jupyter_path
        os.environ.pop("JUPYTER_CONFIG_PATH") if old is None else os.environ.__setitem__("JUPYTER_CONFIG_PATH", old)
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    config._cs231n_slow = {item.nodeid for item in items if item.get_closest_marker("slow") is not None}
    # The course-server test runs last: by then the session has made the synthetic data sets, which
    # its install copies instead of making them again, and a failure there stops nothing else.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_course_server.py"))


def pytest_runtest_setup(item):
    if item.nodeid not in getattr(item.config, "_cs231n_slow", ()):
        return
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")
    capture = item.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write("\n")  # after the progress dots of the tests before
        reporter.write_line(f"[slow test] {item.nodeid}")
