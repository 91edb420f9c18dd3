"""Shared pytest settings: say which slow test is starting (a full grading round takes minutes)."""


def pytest_collection_modifyitems(config, items):
    config._cs231n_slow = {item.nodeid for item in items if item.get_closest_marker("slow") is not None}


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
