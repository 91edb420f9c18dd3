"""A course on a local machine as a student and an instructor see it in JupyterLab.

``make_course`` copies the course into a scratch folder (``cs231n.grading.tools.course.prepare_course``)
with a local nbgrader exchange; ``release`` releases a generated assignment there; ``start_lab``
runs a JupyterLab server on 127.0.0.1 (a free port, a random token, isolated Jupyter settings) in a
folder; ``Shots`` saves numbered screenshots.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cs231n.grading.tools import course as C
from cs231n.notebook_cells import cell_source, hidden_tests, without_hidden_tests

COURSE_ID = "cs231n-kit"

# JupyterLab settings for a quiet, deterministic UI: no news/update toasts, every cell in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class Course:
    """A scratch course: the instructor's folder, the exchange, and a student's home folder."""

    root: Path
    exchange: Path
    student_home: Path


def exchange_config(exchange: Path) -> str:
    """nbgrader configuration lines that put the exchange in ``exchange``, and nbgrader's local cache of
    submissions beside it (by default it is in the user's Jupyter data folder, which would keep the
    submissions of earlier test runs)."""
    return (f"\nc.Exchange.root = {str(exchange)!r}\n"
            f"c.Exchange.cache = {str(exchange.parent / 'nbgrader_cache')!r}\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n")


def make_course(base: Path, notebooks: list[str]) -> Course:
    """Copy the course into ``base/course`` (every assignment folder, only ``notebooks`` of them) and
    point it and a student's home folder ``base/student`` at an exchange in ``base/exchange``.

    Inputs:
    - base: an empty scratch folder.
    - notebooks: notebook names (without .ipynb) to keep, e.g. ["knn"].

    Returns:
    - the Course; both folders hold an nbgrader_config.py that reaches the same exchange.
    """
    root = C.repo_root()
    course = C.prepare_course(root, base / "course", C.assignments_with_notebooks(root), notebooks)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's exchange is world-writable, as on a shared server
    (base / "nbgrader_cache").mkdir()
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(exchange_config(exchange))
    student = base / "student"
    student.mkdir()
    (student / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + exchange_config(exchange))
    return Course(course, exchange, student)


def release(course: Course, assignment: str) -> None:
    """``nbgrader release_assignment`` in the course folder: the generated assignment goes to the
    exchange (``nbgrader generate_assignment`` must have run)."""
    res = C.nbgrader(course.root, "release_assignment", assignment, "--force")
    if res.returncode != 0:
        raise RuntimeError(f"nbgrader release_assignment failed:\n{res.stdout}\n{res.stderr}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A JupyterLab server started by ``start_lab``."""

    url: str
    token: str
    proc: subprocess.Popen
    log: Path

    def page(self, path: str) -> str:
        """The URL of ``path`` on this server, logged in with the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}token={self.token}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until the server answers /api/status; raise with its log if it does not."""
        wait_until_answers(self.page("/api/status"), self.proc, self.log, "JupyterLab", timeout)

    def log_tail(self, chars: int = 3000) -> str:
        return log_tail(self.log, chars)

    def stop(self) -> None:
        """Stop the server and every kernel it started (its own process group)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # kernels left behind, if any
        except (ProcessLookupError, PermissionError):
            pass


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def wait_until_answers(url: str, proc: subprocess.Popen, log: Path, name: str, timeout: float) -> None:
    """Wait until ``url`` answers 200; raise with the tail of ``log`` if ``proc`` (the server ``name``)
    exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{name} did not answer within {timeout:.0f} s:\n{log_tail(log)}")


def start_lab(folder: Path, scratch: Path, name: str) -> LabServer:
    """Start JupyterLab in ``folder`` (its root and working directory, so nbgrader reads the
    nbgrader_config.py there) on a free port of 127.0.0.1 with a random token. Returns at once;
    call ``wait_ready``.

    Inputs:
    - folder: the server's root folder (the course folder, or a student's home).
    - scratch: a folder for this server's Jupyter settings, runtime files and log.
    - name: a short name for the log file.
    """
    home = scratch / f"jupyter-{name}"
    settings = home / "lab-settings"
    for rel, values in LAB_SETTINGS.items():
        target = settings / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = C.nbgrader_env()
    env.update({
        "JUPYTER_CONFIG_DIR": str(home / "config"),      # no user configuration
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "CS231N_DATASET": "synthetic",                   # the built-in data set: offline, deterministic
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    })
    port, token = free_port(), secrets.token_hex(16)
    log = scratch / f"jupyter-{name}.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={folder}"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return LabServer(f"http://127.0.0.1:{port}", token, proc, log)


@dataclass
class Shots:
    """Numbered screenshots of the steps of a test, saved as PNG files in ``folder``."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page, name: str, **kwargs) -> Path:
        """Save a screenshot of ``page`` (a Playwright page) as NN-name.png; returns its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), **kwargs)
        self.taken.append(path)
        return path


def hidden_lines(source_nb: dict) -> list[str]:
    """Distinctive lines of the hidden tests of an instructor notebook (lines that also stand outside
    the hidden tests, e.g. in a visible test, are public)."""
    lines, public = [], set()
    for cell in source_nb["cells"]:
        src = cell_source(cell)
        for body in hidden_tests(src):
            lines += [line.strip() for line in body.splitlines() if len(line.strip()) > 20]
        public.update(line.strip() for line in without_hidden_tests(src).splitlines())
    return [line for line in lines if line not in public]
