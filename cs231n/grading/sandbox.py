"""Isolation of a grading kernel from the grading machine (Linux namespaces, with a fallback).

The kernel launcher (``python -m cs231n.grading.limits``) calls ``isolate`` just before it becomes the
kernel. ``isolate`` gives the kernel:

- a working directory that holds a copy of the submission only (``<kernel dir>/work``);
- a private mount namespace in which the course's folders (sources, release, submitted, autograded,
  feedback, gradebook, grading material), the repository the ``cs231n`` package comes from (all but
  the package and the virtual environment), ``/tmp``, ``/var/tmp``, ``/dev/shm`` and the Jupyter runtime
  folder are covered by empty file systems: instructor notebooks, reference code, the gradebook and
  other students' work cannot be read (the kernel's own folder, its Python and the package are bound
  back where they lie under a covered folder, e.g. a clone of the kit in /tmp);
- a private network namespace with no interface up: no connection anywhere, not even to 127.0.0.1
  (the kernel talks to nbgrader through Unix sockets in its kernel dir, ``transport = "ipc"``);
- a private PID namespace: the kernel cannot see or signal nbgrader or other students' kernels;
- no capabilities (``PR_CAPBSET_DROP``, ``PR_SET_NO_NEW_PRIVS``): root in the kernel cannot undo the
  mounts, enter other namespaces or raise its limits.

It uses ``unshare(2)`` directly when the launcher has CAP_SYS_ADMIN (root on a course server or in a
container), else an unprivileged user namespace when the system allows them
(``kernel.unprivileged_userns_clone``). Where neither works (other systems, locked-down containers),
``isolate`` falls back to the working-directory copy only and says so in the kernel's log and in
``CS231N_SANDBOX`` inside the kernel; docs/GRADING_SECURITY.md describes the fallback's gaps and how
to close them (a dedicated grading user, or a container per grading run).
"""

import ctypes
import ctypes.util
import os
import shutil
import signal
import sys
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38

#: Entries of the course and repository folders the kernel still sees: the package and its Python.
KEEP = {"cs231n", ".venv", "venv", "env"}
#: Largest submission folder copied into the kernel's working directory.
MAX_COPY_BYTES = 512 * 1024 * 1024

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def hidden_paths(roots: list[str], extra: list[str] | None = None) -> list[str]:
    """What the kernel must not see: every entry of each root but KEEP, plus shared scratch folders.

    Inputs:
    - roots: the course folder and the repository the package was installed from.
    - extra: more paths (files or folders) to cover.

    Returns:
    - existing absolute paths, parents before children, without duplicates.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    out = ["/tmp", "/var/tmp", "/dev/shm", jupyter_runtime_dir(), "/srv/nbgrader/exchange", *(extra or [])]
    for root in roots:
        root_path = Path(root)
        if root_path.is_dir():
            out += [str(p) for p in sorted(root_path.iterdir()) if p.name not in KEEP]
    seen, result = set(), []
    for p in out:
        p = os.path.abspath(p)
        if p not in seen and os.path.lexists(p):
            seen.add(p)
            result.append(p)
    return sorted(result, key=lambda p: p.count(os.sep))


def copy_submission(src: Path, dest: Path) -> None:
    """Copy the submission folder (the kernel's original working directory) into ``dest``."""
    total = 0
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            continue
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        total += path.stat().st_size
        if total > MAX_COPY_BYTES:
            break
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _enter_namespaces(network: bool) -> str:
    """unshare mount, PID and (unless ``network``) network namespaces; returns "root" or "userns"
    (raises OSError if neither works)."""
    flags = CLONE_NEWNS | CLONE_NEWPID | (0 if network else CLONE_NEWNET)
    if libc().unshare(flags) == 0:
        return "root"
    uid, gid = os.getuid(), os.getgid()
    _check(libc().unshare(flags | CLONE_NEWUSER), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    return "userns"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _cover(paths: list[str], keep: list[str]) -> list[str]:
    """Cover each path with an empty tmpfs (folders) or /dev/null (files); then bind the folders of
    ``keep`` that a cover hid back to their place (the kernel's folder, and its Python and package when
    the course kit lives under a covered folder such as /tmp)."""
    kept = {k: os.open(k, os.O_RDONLY | os.O_DIRECTORY) for k in sorted(set(keep), key=len) if os.path.isdir(k)}
    covered = []
    for p in paths:
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
            elif os.path.isfile(p):
                mount("/dev/null", p, None, MS_BIND)
            else:
                continue
            covered.append(p)
        except OSError:
            continue
    for k, fd in kept.items():
        if any(_inside(k, c) for c in covered):
            os.makedirs(k, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", k, None, MS_BIND)
        os.close(fd)
    return covered


def _drop_capabilities() -> None:
    """Empty the capability bounding set: after exec the kernel runs without any capability."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        libc().prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _check(libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _become_init_child() -> None:
    """Fork after unsharing the PID namespace: the child (PID 1 there) goes on to become the kernel;
    this process waits for it, ignores interrupts (they reach the kernel through its process group)
    and exits with its status."""
    pid = os.fork()
    if pid == 0:
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def isolate(kernel_dir: str, hide: list[str], network: bool = False) -> str:
    """Move this process (about to exec the kernel) into its sandbox; returns what was achieved.

    Inputs:
    - kernel_dir: the kernel's private folder (connection file, Unix sockets); the submission is
      copied into ``kernel_dir/work``, which becomes the working directory.
    - hide: paths to cover (``hidden_paths``).
    - network: keep the host's network (no network namespace).

    Returns:
    - "namespaces (root)" / "namespaces (userns)" or "workdir only (<reason>)" (the fallback).
    """
    work = Path(kernel_dir) / "work"
    work.mkdir(parents=True, exist_ok=True)
    copy_submission(Path.cwd(), work)
    try:
        if not sys.platform.startswith("linux"):
            raise OSError("not Linux")
        how = _enter_namespaces(network)
    except OSError as exc:
        os.chdir(work)
        return f"workdir only ({exc})"
    _become_init_child()
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    package = str(Path(__file__).resolve().parents[1])
    _cover(hide, [kernel_dir, sys.prefix, sys.exec_prefix, sys.base_prefix, package])
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # the host's /proc stays: other processes are listed but cannot be signalled
    os.chdir(work)
    _drop_capabilities()
    return f"namespaces ({how})"
