"""Resource limits for grading kernels.

``LimitedKernelManager`` starts each grading kernel through this module, which lowers the kernel's
own limits before it becomes the kernel::

    python -I -m cs231n.grading.kernel.limits --memory-mb 6144 --cpu-seconds 1800 --threads 1 \
        [--sandbox DIR --hide PATH ... --keep PATH ... --user NAME] -- <kernel command ...>

- memory (RLIMIT_AS): a submission that allocates too much gets a ``MemoryError`` in its cell instead of
  exhausting the grading machine;
- CPU time (RLIMIT_CPU): a runaway submission is killed; the robust executor grades it as far as it ran;
- BLAS threads (``OPENBLAS_NUM_THREADS`` and the like, in the kernel): grading runs several kernels side
  by side, and BLAS threads that spin against each other make a loaded machine crawl.

The kernel manager builds these arguments from the grading settings (``cs231n.grading.settings``:
``GradingSettings.kernel_memory_mb``, ``kernel_cpu_seconds``, ``kernel_threads``, ``sandbox``,
``sandbox_hide``, ``kernel_user``); the launcher takes nothing from the environment. A flag left out
means the kit's default (0 = no limit). Where ``resource`` is missing (Windows) the kernel starts
without limits.

With ``--sandbox`` the launcher also isolates the kernel (``cs231n.grading.kernel.sandbox``: a working
directory with the submission only, no network, no view of the course's files) and starts the grading
kernel (``cs231n.grading.kernel.guard``), which hands the checks' observations to the grader.
Sandboxed kernels talk to nbgrader through Unix sockets in a private kernel folder.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..settings import DEFAULT_CPU_SECONDS, DEFAULT_MEMORY_MB, DEFAULT_THREADS, GradingSettings


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: documented fallback, no limits
        return
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


#: Temporary folders of grading runs: kernels' folders, reference runs' scratch copies, nbgrader logs;
#: each name carries the id of the process that made it (``<prefix><pid>-...``).
KERNEL_DIR_PREFIX = "cs231n-kernel-"
SCRATCH_PREFIXES = (KERNEL_DIR_PREFIX, "cs231n-reference-", "cs231n-nbgrader-")


def remove_stale(folder: str | None = None) -> list[str]:
    """Remove the temporary folders and files of grading processes that are gone (killed before they
    could clean up after themselves); returns what was removed."""
    import re

    folder = folder or tempfile.gettempdir()
    pattern = re.compile(r"^(" + "|".join(map(re.escape, SCRATCH_PREFIXES)) + r")(\d+)-")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        try:
            os.kill(int(m.group(2)), 0)
            continue  # its process is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                continue
        removed.append(path)
    return removed


def die_with_parent() -> None:
    """Make this process (the kernel launcher, and the kernel it becomes) die with the process that started
    it: a grader that is killed, or times out, leaves no kernel running (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util
    import signal

    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent is already gone
        os._exit(1)


def package_repository() -> Path:
    """The folder the cs231n package was installed from (a clone of the course kit, sources included)."""
    return Path(__file__).resolve().parents[3]  # this is <repository>/cs231n/grading/kernel/limits.py


def data_folders() -> list[str]:
    """Folders a notebook may read data from (kept readable in the sandbox)."""
    from ...data.paths import cifar10_dir, data_dir

    out = [str(data_dir()), str(cifar10_dir())]
    coco = os.environ.get("CS231N_COCO_DIR", "").strip()
    if coco:
        out.append(coco)
    return [os.path.abspath(os.path.expanduser(p)) for p in out if os.path.isdir(os.path.expanduser(p))]


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run under the limits above, sandboxed and guarded.

    Each kernel gets a private folder (``kernel_dir``: its connection file, ``ipc/`` for its Unix
    sockets, ``isolation.json`` written by the launcher), removed when the kernel's resources are
    cleaned up. Its limits and sandbox come from the grading settings of its configuration
    (``GradingSettings``; nbclient hands the executor's configuration to the kernel manager)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.settings = GradingSettings(parent=self)
        self.sandboxed = self.settings.sandbox and sys.platform.startswith("linux")
        remove_stale()
        self.kernel_dir = tempfile.mkdtemp(prefix=f"{KERNEL_DIR_PREFIX}{os.getpid()}-")
        os.chmod(self.kernel_dir, 0o711)  # an unprivileged kernel may pass through, not list it
        os.makedirs(os.path.join(self.kernel_dir, "ipc"), mode=0o700)
        atexit.register(shutil.rmtree, self.kernel_dir, True)
        if self.sandboxed:
            self.transport = "ipc"
            self.ip = os.path.join(self.kernel_dir, "ipc", "k")
            self.connection_file = os.path.join(self.kernel_dir, "kernel.json")

    def isolation(self) -> dict | None:
        """What the launcher recorded about the kernel's isolation (None if it recorded nothing)."""
        from .sandbox import ISOLATION_FILE

        try:
            return json.loads(Path(self.kernel_dir, ISOLATION_FILE).read_text())
        except (OSError, ValueError):
            return None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self.kernel_dir, ignore_errors=True)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if "ipykernel_launcher" in cmd:
            cmd[cmd.index("ipykernel_launcher")] = "cs231n.grading.kernel.guard"
        if cmd and os.path.basename(cmd[0]).startswith("python") and "-I" not in cmd[1:2]:
            cmd.insert(1, "-I")  # isolated mode: no PYTHON* variables, no user site-packages
        return [*self.launcher_args(), "--", *cmd]

    def launcher_args(self) -> list[str]:
        """The kernel launcher's command line (before ``--``), built from the grading settings."""
        s = self.settings
        launcher = [sys.executable, "-I", "-m", "cs231n.grading.kernel.limits", "--memory-mb", str(s.kernel_memory_mb),
                    "--cpu-seconds", str(s.kernel_cpu_seconds), "--threads", str(max(1, s.kernel_threads))]
        if self.sandboxed:
            from .sandbox import hidden_paths

            launcher += ["--sandbox", self.kernel_dir]
            for path in hidden_paths([os.getcwd(), str(package_repository())], list(s.sandbox_hide)):
                launcher += ["--hide", path]
            for path in data_folders():
                launcher += ["--keep", path]
            if s.kernel_user.strip():
                launcher += ["--user", s.kernel_user.strip()]
        return launcher


def main(argv: list[str]) -> None:
    if argv[:1] == ["--probe"]:
        from .sandbox import probe

        print(json.dumps(probe(argv[1] if len(argv) > 1 else None)))
        return
    die_with_parent()
    memory, cpu, threads = DEFAULT_MEMORY_MB, DEFAULT_CPU_SECONDS, DEFAULT_THREADS
    sandbox, hide, keep, user = None, [], [], None
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--memory-mb":
            memory = int(value)
        elif flag == "--cpu-seconds":
            cpu = int(value)
        elif flag == "--threads":
            threads = max(1, int(value))
        elif flag == "--sandbox":
            sandbox = value
        elif flag == "--hide":
            hide.append(value)
        elif flag == "--keep":
            keep.append(value)
        elif flag == "--user":
            user = value
        else:
            sys.exit(f"cs231n.grading.kernel.limits: unknown option {flag}")
    cmd = argv[1:]
    if not cmd:
        sys.exit("usage: python -m cs231n.grading.kernel.limits [--memory-mb N] [--cpu-seconds N] [--threads N] "
                 "[--sandbox DIR [--hide PATH ...] [--keep PATH ...] [--user NAME]] -- COMMAND ...")
    if sandbox:
        from .sandbox import isolate

        info = isolate(sandbox, hide, keep, user=user)  # recorded in the kernel folder (LimitedKernelManager.isolation)
        if info["isolation"] != "full":
            print(f"cs231n.grading.kernel.limits: partial isolation: {info['reason']}", file=sys.stderr)
    apply_limits(memory, cpu)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
