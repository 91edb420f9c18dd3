"""Resource limits for grading kernels.

``LimitedKernelManager`` starts each grading kernel through this module, which lowers the kernel's
own limits before it becomes the kernel::

    python -m cs231n.grading.limits --memory-mb 6144 --cpu-seconds 1800 -- <kernel command ...>

- memory (RLIMIT_AS): a submission that allocates too much gets a ``MemoryError`` in its cell instead of
  exhausting the grading machine;
- CPU time (RLIMIT_CPU): a runaway submission is killed; the robust executor grades it as far as it ran.

Defaults come from ``CS231N_KERNEL_MEMORY_MB`` and ``CS231N_KERNEL_CPU_SECONDS`` (0 = no limit).
BLAS libraries in the kernel use ``CS231N_KERNEL_THREADS`` threads (default 1): grading runs several
kernels side by side, and BLAS threads that spin against each other make a loaded machine crawl.
Where ``resource`` is missing (Windows) the kernel starts without limits.
"""

import os
import sys

from jupyter_client.manager import AsyncKernelManager

DEFAULT_MEMORY_MB = 6144
DEFAULT_CPU_SECONDS = 1800


def configured(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


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


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run under the limits above."""

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        memory = configured("CS231N_KERNEL_MEMORY_MB", DEFAULT_MEMORY_MB)
        cpu = configured("CS231N_KERNEL_CPU_SECONDS", DEFAULT_CPU_SECONDS)
        return [sys.executable, "-m", "cs231n.grading.limits", "--memory-mb", str(memory),
                "--cpu-seconds", str(cpu), "--", *cmd]


def main(argv: list[str]) -> None:
    memory, cpu = DEFAULT_MEMORY_MB, DEFAULT_CPU_SECONDS
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], int(argv[1]), argv[2:]
        if flag == "--memory-mb":
            memory = value
        elif flag == "--cpu-seconds":
            cpu = value
        else:
            sys.exit(f"cs231n.grading.limits: unknown option {flag}")
    cmd = argv[1:]
    if not cmd:
        sys.exit("usage: python -m cs231n.grading.limits [--memory-mb N] [--cpu-seconds N] -- COMMAND ...")
    apply_limits(memory, cpu)
    threads = str(configured("CS231N_KERNEL_THREADS", 1))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
