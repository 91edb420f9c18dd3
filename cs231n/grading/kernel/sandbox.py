"""Isolation of a grading kernel from the grading machine (Linux namespaces, an unprivileged uid).

The kernel launcher (``python -I -m cs231n.grading.kernel.limits``) calls ``isolate`` just before it becomes
the kernel. ``isolate`` gives the kernel:

- **a read-only machine**: every file system it can see is mounted read-only in its own mount
  namespace (``mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)``): not the virtual environment, not the
  ``cs231n`` package, not the course, not the grader's HOME. The only writable places are its own,
  on size-limited memory file systems that vanish with it: the working directory (a copy of the
  submission), ``/tmp`` (its private TMPDIR) and ``/tmp/home`` (its private, empty HOME), plus the
  folder of its Unix sockets;
- **nothing to read** of the course: the course's folders (sources, release, submitted, autograded,
  feedback, gradebook, the reference records), the repository the package comes from (all but the
  package and the virtual environment), the grader's HOME, ``/tmp`` of the host, ``/var/tmp``,
  ``/dev/shm``, the Jupyter runtime folder and the nbgrader exchange are covered by empty file systems
  (its Python, the package and the data folders are bound back, read-only, where a cover hid them);
- **an unprivileged user**: when the grader runs as root the kernel runs as ``nobody`` (or the user
  named by ``--kernel-user``); when the grader is an ordinary user it already is one;
- **no network** (a network namespace with no interface up: not even 127.0.0.1), **no other
  processes** (a PID namespace in which it is PID 1), its own System V IPC, and **no capabilities**
  (bounding set emptied, ``no_new_privs``): it cannot undo any of the above.

``isolate`` uses ``unshare(2)`` directly when the launcher has CAP_SYS_ADMIN (root on a course server
or in a container), else an unprivileged user namespace where the system allows them. ``probe`` says in
advance what this machine allows; ``cs231n.grading.converters.execute`` refuses to grade without full isolation
unless the instructor opts out (``GradingSettings.require_isolation = False``), and records what each
kernel had. docs/GRADING_SECURITY.md describes the guarantees and what remains out of scope.
"""

import ctypes
import ctypes.util
import json
import os
import pwd
import signal
import sys
from pathlib import Path

from ...notebook_cells import is_solution_cell

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC = (
    0x00020000, 0x10000000, 0x20000000, 0x40000000, 0x08000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
MS_REMOUNT = 32
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x00000001
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new system calls share numbers)

#: Entries of the course and repository folders the kernel still sees: the package and its Python.
KEEP = {"cs231n", ".venv", "venv", "env"}
#: Largest submission folder copied into the kernel's working directory.
MAX_COPY_BYTES = 512 * 1024 * 1024
#: Sizes of the kernel's writable memory file systems.
WORK_SIZE, TMP_SIZE = "1g", "1g"
#: Name of the file, in the kernel folder, where the launcher records the isolation it achieved.
ISOLATION_FILE = "isolation.json"

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


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def set_read_only(path: str, read_only: bool = True, recursive: bool = False) -> None:
    """Make the mount at ``path`` (and every mount below it if ``recursive``) read-only, or writable."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else MOUNT_ATTR_RDONLY, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    result = libc().syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr),
                            ctypes.sizeof(attr))
    _check(0 if result == 0 else -1, f"mount_setattr {path}")


def hidden_paths(roots: list[str], extra: list[str] | None = None) -> list[str]:
    """What the kernel must not see: every entry of each root but KEEP, plus shared scratch folders and
    the grader's HOME.

    Inputs:
    - roots: the course folder and the repository the package was installed from.
    - extra: more paths (files or folders) to cover (``GradingSettings.sandbox_hide``).

    Returns:
    - existing absolute paths, parents before children, without duplicates (``/tmp`` is not among
      them: the kernel gets a private one).
    """
    from jupyter_core.paths import jupyter_runtime_dir

    out = ["/var/tmp", "/dev/shm", jupyter_runtime_dir(), "/srv/nbgrader/exchange", str(Path.home()), "/root",
           *(extra or [])]
    for root in roots:
        root_path = Path(root)
        if root_path.is_dir():
            out += [str(p) for p in sorted(root_path.iterdir()) if p.name not in KEEP]
    seen, result = set(), []
    for p in out:
        p = os.path.abspath(p)
        if p not in seen and p != "/tmp" and not p.startswith("/tmp/") and os.path.lexists(p):
            seen.add(p)
            result.append(p)
    return sorted(result, key=lambda p: p.count(os.sep))


def answers_only(data: bytes) -> bytes:
    """A notebook reduced to its answer cells (what ``load_notebook`` reads from a sibling): the
    kernel's copy holds no test cell, so no visible expected value (docs/GRADING_SECURITY.md)."""
    try:
        nb = json.loads(data)
        nb["cells"] = [c for c in nb.get("cells", []) if isinstance(c, dict) and is_solution_cell(c)]
    except (ValueError, AttributeError, TypeError):
        return b""
    return json.dumps(nb).encode()


def read_submission(src: Path) -> dict[str, bytes | None]:
    """The submission folder (the kernel's original working directory): relative path -> bytes (None:
    a folder; notebooks reduced to their answer cells), up to MAX_COPY_BYTES; read before the course
    is covered."""
    files: dict[str, bytes | None] = {}
    total = 0
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            continue
        rel = str(path.relative_to(src))
        if path.is_dir():
            files[rel] = None
            continue
        total += path.stat().st_size
        if total > MAX_COPY_BYTES:
            break
        files[rel] = answers_only(path.read_bytes()) if path.suffix == ".ipynb" else path.read_bytes()
    return files


def write_submission(files: dict[str, bytes | None], dest: Path) -> None:
    for rel, data in files.items():
        target = dest / rel
        if data is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _enter_namespaces(network: bool) -> str:
    """unshare mount, PID, IPC and (unless ``network``) network namespaces; returns "root" or
    "userns" (raises OSError if neither works)."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | (0 if network else CLONE_NEWNET)
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


def _cover(paths: list[str]) -> list[str]:
    """Cover each path with an empty tmpfs (folders; made read-only with the rest) or /dev/null (files)."""
    covered = []
    for p in paths:
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")  # read-only later
            elif os.path.isfile(p):
                mount("/dev/null", p, None, MS_BIND)
            else:
                continue
            covered.append(p)
        except OSError:
            continue
    return covered


def _bind_back(kept: dict[str, int], covered: list[str]) -> None:
    """Bind the folders of ``kept`` (path -> an open descriptor taken before covering) back to their
    place where a cover hid them."""
    for k, fd in kept.items():
        if any(_inside(k, c) for c in covered) or _inside(k, "/tmp"):
            os.makedirs(k, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
        os.close(fd)


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

    def stop(*_args) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the kernel is gone already

    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def kernel_user(name: str | None) -> tuple[int, int] | None:
    """(uid, gid) the kernel switches to when the launcher is root (None when it is not)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(name or "nobody")
    return entry.pw_uid, entry.pw_gid


def isolate(kernel_dir: str, hide: list[str], keep: list[str] | None = None, network: bool = False,
            user: str | None = None) -> dict:
    """Move this process (about to exec the kernel) into its sandbox; returns what was achieved.

    Inputs:
    - kernel_dir: the kernel's folder (connection file, ``ipc/`` for its Unix sockets); the working
      directory ``kernel_dir/work`` receives a copy of the current folder (the submission).
    - hide: paths to cover (``hidden_paths``).
    - keep: more folders the kernel must read (data); its Python and the package are always kept.
    - network: keep the host's network (no network namespace).
    - user: the user to run as when the launcher is root (default ``nobody``).

    Returns:
    - {"isolation": "full" | "partial", "namespaces": "root" | "userns" | None, "uid": int,
       "read_only": bool, "reason": str} (also written to ``kernel_dir/isolation.json``); the
      environment variables HOME, TMPDIR, IPYTHONDIR and MPLCONFIGDIR point at the private folders.
    """
    kdir = Path(kernel_dir)
    work = kdir / "work"
    ipc = kdir / "ipc"
    files = read_submission(Path.cwd())
    info = {"isolation": "partial", "namespaces": None, "uid": os.geteuid(), "read_only": False, "reason": ""}
    try:
        if not sys.platform.startswith("linux"):
            raise OSError("not Linux")
        ids = kernel_user(user)
        info["namespaces"] = _enter_namespaces(network)
    except (OSError, KeyError) as exc:
        info["reason"] = f"no namespaces ({exc})"
        work.mkdir(parents=True, exist_ok=True)
        write_submission(files, work)
        os.chdir(work)
        _record(kdir, info)
        return info
    _become_init_child()
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    package = str(Path(__file__).resolve().parents[2])  # the cs231n package (this is cs231n/grading/kernel/)
    wanted = [str(kdir), sys.prefix, sys.exec_prefix, sys.base_prefix, package, *(keep or [])]
    kept = {k: os.open(k, os.O_RDONLY | os.O_DIRECTORY) for k in sorted(set(wanted), key=len) if os.path.isdir(k)}
    covered = _cover(hide)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMP_SIZE},mode=1777")
    _bind_back(kept, covered)
    ipc.mkdir(exist_ok=True)
    work.mkdir(exist_ok=True)  # the mount point of the working directory
    if ids is not None:  # the kernel reads its connection file and makes its sockets as its own user
        for path in (ipc, kdir / "kernel.json"):
            os.lchown(path, *ids)
    mount(str(ipc), str(ipc), None, MS_BIND)  # a mount of its own: writable when all else is not
    try:
        set_read_only("/", recursive=True)
        info["read_only"] = True
    except OSError as exc:
        info["reason"] = f"no read-only mounts ({exc})"
    for writable in ("/tmp", str(ipc)):
        if info["read_only"]:
            set_read_only(writable, False)
    mount("tmpfs", str(work), "tmpfs", MS_NOSUID | MS_NODEV, f"size={WORK_SIZE},mode=0755")
    write_submission(files, work)
    home = Path("/tmp/home")
    home.mkdir(mode=0o700, exist_ok=True)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # the host's /proc stays: other processes are listed but cannot be signalled
    if ids is not None:
        for path in (work, home):
            for p in [path, *path.rglob("*")]:
                os.lchown(p, *ids)
    unprivileged = ids is not None or os.geteuid() != 0 or info["namespaces"] == "userns"
    if info["read_only"] and unprivileged:
        info["isolation"] = "full"
    elif not info["reason"]:
        info["reason"] = "the kernel would run as root"
    info["uid"] = ids[0] if ids is not None else (os.getuid() if info["namespaces"] != "userns" else -1)
    # the record is written before the kernel can run, in its folder, which is read-only for the kernel
    if info["read_only"]:
        set_read_only(str(kdir), False)
    _record(kdir, info)
    if info["read_only"]:
        set_read_only(str(kdir), True)
    os.environ.update(HOME=str(home), TMPDIR="/tmp", IPYTHONDIR=str(home / ".ipython"),
                      MPLCONFIGDIR=str(home / ".matplotlib"), XDG_CACHE_HOME=str(home / ".cache"))
    os.chdir(work)
    _drop_capabilities()
    if ids is not None:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # a change of user clears it: set it again
    return info


def _record(kdir: Path, info: dict) -> None:
    try:
        (kdir / ISOLATION_FILE).write_text(json.dumps(info))
    except OSError:
        pass


def probe(user: str | None = None) -> dict:
    """What isolation a grading kernel would get here, tried in a throw-away child process.

    Returns: {"isolation": "full" | "partial", "namespaces": ..., "uid": ..., "read_only": ..., "reason": ...}.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        result = {"isolation": "partial", "namespaces": None, "uid": os.geteuid(), "read_only": False, "reason": ""}
        try:
            ids = kernel_user(user)
            result["namespaces"] = _enter_namespaces(False)
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            set_read_only("/", recursive=True)
            result["read_only"] = True
            _drop_capabilities()
            if ids is not None:
                os.setgroups([])
                os.setgid(ids[1])
                os.setuid(ids[0])
            result["uid"] = os.geteuid()
            result["isolation"] = "full" if os.geteuid() != 0 or result["namespaces"] == "userns" else "partial"
        except (OSError, KeyError) as exc:
            result["reason"] = str(exc)
        os.write(write_fd, json.dumps(result).encode())
        os._exit(0)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    return json.loads(data or b"{}")
