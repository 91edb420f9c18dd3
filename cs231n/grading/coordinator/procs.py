"""Run nbgrader (or any command) with a wall-time limit and kill everything it started when the time is up.

A grading process starts kernels in sessions of their own (jupyter_client does so that it can
interrupt them), so killing the grading process's group is not enough: ``kill_tree`` also kills every
descendant, found through ``/proc`` (Linux) before anything is killed.

``run_nbgrader`` starts each nbgrader run as a fresh process forked from a *fork server* that has
already imported nbgrader, nbconvert and the kit (about 3 s of CPU per start saved, more than a small
notebook takes to grade); the child runs exactly what ``python -m nbgrader ...`` runs. Where a fork
server cannot be used (Windows, or inside a daemonic process such as some Dask workers) it runs
``python -m nbgrader`` instead.
"""

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Process ids of the grading runs going on now (killed together when the coordinator is interrupted).
ACTIVE: set[int] = set()


def kill_active() -> None:
    """Kill every grading run started here that is still going, with everything it started."""
    for pid in list(ACTIVE):
        kill_tree(pid)


#: nbgrader log lines that are expected in every grading run and mean nothing to an instructor: the
#: hidden tests of a released notebook are empty, so their checksums differ until nbgrader restores them.
HARMLESS = re.compile(r"Attribute 'checksum' for cell \S+ has changed!|root '\.' is not absolute")


def without_noise(log: str) -> str:
    """nbgrader's log without the lines in HARMLESS (for what the kit shows; the saved logs keep them)."""
    return "\n".join(line for line in log.splitlines() if not HARMLESS.search(line))


@dataclass
class Finished:
    """How a command ended: ``returncode`` (None when it was killed on timeout), its output, duration."""

    returncode: int | None
    output: str
    seconds: float
    timed_out: bool


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...), read from /proc; [] elsewhere."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # the command name (2nd field) may contain spaces: the parent pid follows its closing bracket
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a process, its process group and every descendant (in whatever session they are)."""
    victims = descendants(pid)
    for target in (pid, *victims):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_limited(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float | None) -> Finished:
    """Run ``cmd`` in a new session; after ``timeout`` seconds kill it and all it started.

    Inputs:
    - cmd: the command line; cwd: its folder; env: its whole environment
    - timeout: wall-time limit in seconds, or None for none
    Returns: a ``Finished`` (stdout and stderr together in ``output``).
    """
    tic = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    ACTIVE.add(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
        return Finished(proc.returncode, output, time.perf_counter() - tic, False)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        output, _ = proc.communicate()
        return Finished(None, output or "", time.perf_counter() - tic, True)
    finally:
        ACTIVE.discard(proc.pid)


PRELOAD = ["nbgrader.apps.nbgraderapp", "nbgrader.converters", "nbconvert.exporters",
           "cs231n.grading.converters.execute", "cs231n.grading.converters.feedback",
           "cs231n.grading.converters.hooks", "sqlalchemy"]
_context = None


def fork_server_usable() -> bool:
    return (sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


def _fork_context():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def start_fork_server() -> None:
    """Start the fork server now, if it can be used, so that it imports nbgrader while the caller does
    other work; ``run_nbgrader`` starts it on first use otherwise."""
    if fork_server_usable():
        from multiprocessing import forkserver

        _fork_context()
        forkserver.ensure_running()


def _nbgrader_child(args: list[str], cwd: str, env: dict[str, str], log_path: str) -> None:
    """In the forked child: become a session leader, send output to the log, run nbgrader's main."""
    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["nbgrader", *args]
    from nbgrader.apps.nbgraderapp import NbGraderApp

    NbGraderApp.launch_instance(argv=args)


def run_nbgrader(args: list[str], cwd: Path, env: dict[str, str], timeout: float | None,
                 fork: bool = True) -> Finished:
    """``nbgrader ARGS`` in ``cwd`` with environment ``env``, killed with all it started after
    ``timeout`` seconds; from the fork server when ``fork`` and usable, else ``python -m nbgrader``."""
    if not (fork and fork_server_usable()):
        return run_limited([sys.executable, "-m", "nbgrader", *args], cwd, env, timeout)
    fd, log_path = tempfile.mkstemp(prefix=f"cs231n-nbgrader-{os.getpid()}-", suffix=".log")
    os.close(fd)
    tic = time.perf_counter()
    try:
        proc = _fork_context().Process(target=_nbgrader_child, args=(list(args), str(cwd), dict(env), log_path))
        proc.start()
        ACTIVE.add(proc.pid)
        try:
            proc.join(timeout)
            timed_out = proc.is_alive()
            if timed_out:
                kill_tree(proc.pid)
                proc.join()
        finally:
            ACTIVE.discard(proc.pid)
        output = Path(log_path).read_text(errors="replace")
        return Finished(None if timed_out else proc.exitcode, output, time.perf_counter() - tic, timed_out)
    finally:
        os.unlink(log_path)
