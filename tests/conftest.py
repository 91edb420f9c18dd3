"""Shared pytest settings: say which slow test is starting (a full grading round takes minutes), and
share the instructor's reference records between the test session's course copies; and the PostgreSQL
fixtures of the tests that read or write a gradebook on a server."""

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


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


# ---------------------------------------------------------------------------------------------------
# PostgreSQL: the server .ci/run starts (CS231N_TEST_POSTGRES_URL), or a throwaway one started here
# from Debian's postgresql package.

def postgres_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_server():
    """A URL (without database name) of a PostgreSQL server on 127.0.0.1 that allows creating databases."""
    url = os.environ.get("CS231N_TEST_POSTGRES_URL")
    if url:
        yield url.rstrip("/").rsplit("/", 1)[0] if url.count("/") > 2 else url
        return
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql; .ci/run installs it)")
    # in /tmp itself: the postgres user cannot enter pytest's private folders
    data = Path(tempfile.mkdtemp(prefix="cs231n-pg-")) / "data"
    run_as = []
    if os.geteuid() == 0:  # initdb refuses to run as root: use the package's postgres user
        shutil.chown(data.parent, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data.parent / "log"),
                    "-o", f"-h 127.0.0.1 -p {port} -k {data.parent}", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_server):
    """A fresh database on the server, dropped afterwards: its URL."""
    import psycopg

    name = f"cs231n_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{postgres_server}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
