"""Shared pytest settings: say which slow test is starting (a full grading round takes minutes), and
share the instructor's reference records between the test session's course copies."""

import os
import shutil
import tempfile


def pytest_configure(config):
    """Every grading round of the session finds the reference records another round made: a record's
    key is the digest of what the reference run depends on (cs231n.grading.judge.records.digest), so
    sharing them changes no verdict, only how often the reference notebooks run."""
    if not os.environ.get("CS231N_REFERENCE_CACHE"):
        config._cs231n_reference_cache = tempfile.mkdtemp(prefix="cs231n-test-reference-")
        os.environ["CS231N_REFERENCE_CACHE"] = config._cs231n_reference_cache


def pytest_unconfigure(config):
    folder = getattr(config, "_cs231n_reference_cache", None)
    if folder:
        os.environ.pop("CS231N_REFERENCE_CACHE", None)
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
