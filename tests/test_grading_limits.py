"""Resource limits of grading kernels (cs231n.grading.limits)."""

import subprocess
import sys

ALLOCATE_1GIB = "import numpy as np; a = np.ones(2**27); print(a.nbytes)"


def run_limited(memory_mb: int, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cs231n.grading.limits", "--memory-mb", str(memory_mb),
                           "--cpu-seconds", "60", "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120)


def test_memory_limit_turns_a_big_allocation_into_memory_error():
    res = run_limited(512, ALLOCATE_1GIB)
    assert res.returncode != 0 and "MemoryError" in res.stderr


def test_no_limit_allows_it():
    res = run_limited(0, ALLOCATE_1GIB)
    assert res.returncode == 0 and res.stdout.strip() == str(2**30)


def test_cpu_limit_kills_a_runaway_process():
    res = subprocess.run([sys.executable, "-m", "cs231n.grading.limits", "--memory-mb", "0", "--cpu-seconds", "1",
                          "--", sys.executable, "-c", "while True: pass"], capture_output=True, timeout=60)
    assert res.returncode != 0


def test_kernel_command_is_wrapped(monkeypatch):
    from cs231n.grading.limits import LimitedKernelManager

    monkeypatch.setenv("CS231N_KERNEL_MEMORY_MB", "1234")
    km = LimitedKernelManager(kernel_name="python3")
    cmd = km.format_kernel_cmd()
    assert cmd[1:5] == ["-m", "cs231n.grading.limits", "--memory-mb", "1234"] and "--" in cmd


def test_grading_kernels_use_one_blas_thread_by_default(monkeypatch):
    monkeypatch.delenv("CS231N_KERNEL_THREADS", raising=False)
    res = run_limited(0, "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert res.stdout.split() == ["1", "1"]


def test_threads_per_kernel_reaches_the_grading_kernel(monkeypatch):
    """``cs231n.grade --threads-per-kernel N`` (Options.threads_per_kernel) sets the kernel launcher's
    CS231N_KERNEL_THREADS, which then decides the kernel's BLAS threads."""
    from cs231n.grading.parallel import Options, nbgrader_env

    monkeypatch.delenv("CS231N_KERNEL_THREADS", raising=False)
    assert "CS231N_KERNEL_THREADS" not in nbgrader_env(Options())
    env = nbgrader_env(Options(threads_per_kernel=3))
    assert env["CS231N_KERNEL_THREADS"] == "3"
    monkeypatch.setenv("CS231N_KERNEL_THREADS", env["CS231N_KERNEL_THREADS"])
    res = run_limited(0, "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert res.stdout.split() == ["3", "3"]
