"""Resource limits of grading kernels (cs231n.grading.kernel.limits)."""

import json
import subprocess
import sys

ALLOCATE_1GIB = "import numpy as np; a = np.ones(2**27); print(a.nbytes)"


def run_limited(memory_mb: int, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cs231n.grading.kernel.limits", "--memory-mb", str(memory_mb),
                           "--cpu-seconds", "60", "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=120)


def test_memory_limit_turns_a_big_allocation_into_memory_error():
    res = run_limited(512, ALLOCATE_1GIB)
    assert res.returncode != 0 and "MemoryError" in res.stderr


def test_no_limit_allows_it():
    res = run_limited(0, ALLOCATE_1GIB)
    assert res.returncode == 0 and res.stdout.strip() == str(2**30)


def test_cpu_limit_kills_a_runaway_process():
    res = subprocess.run([sys.executable, "-m", "cs231n.grading.kernel.limits", "--memory-mb", "0",
                          "--cpu-seconds", "1", "--", sys.executable, "-c", "while True: pass"],
                         capture_output=True, timeout=60)
    assert res.returncode != 0


def test_kernel_command_is_wrapped(monkeypatch):
    from cs231n.grading.kernel.limits import LimitedKernelManager

    monkeypatch.setenv("CS231N_KERNEL_MEMORY_MB", "1234")
    km = LimitedKernelManager(kernel_name="python3")
    cmd = km.format_kernel_cmd()
    # isolated mode (-I): neither the working folder nor PYTHON* variables nor user site-packages count
    assert cmd[1:6] == ["-I", "-m", "cs231n.grading.kernel.limits", "--memory-mb", "1234"] and "--" in cmd


def test_grading_kernels_use_one_blas_thread_by_default(monkeypatch):
    monkeypatch.delenv("CS231N_KERNEL_THREADS", raising=False)
    res = run_limited(0, "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert res.stdout.split() == ["1", "1"]


def test_threads_per_kernel_reaches_the_grading_kernel(monkeypatch):
    """``cs231n.grade --threads-per-kernel N`` (Options.threads_per_kernel) sets the kernel launcher's
    CS231N_KERNEL_THREADS, which then decides the kernel's BLAS threads."""
    from cs231n.grading.coordinator.parallel import Options, nbgrader_env

    monkeypatch.delenv("CS231N_KERNEL_THREADS", raising=False)
    assert "CS231N_KERNEL_THREADS" not in nbgrader_env(Options())
    env = nbgrader_env(Options(threads_per_kernel=3))
    assert env["CS231N_KERNEL_THREADS"] == "3"
    monkeypatch.setenv("CS231N_KERNEL_THREADS", env["CS231N_KERNEL_THREADS"])
    res = run_limited(0, "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert res.stdout.split() == ["3", "3"]


def test_longest_first_orders_by_last_report_then_attempted_answers(tmp_path):
    from cs231n.grading.coordinator.parallel import longest_first
    from cs231n.grading.coordinator.report import last_seconds

    def submit(student, unattempted):
        folder = tmp_path / "submitted" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "nb.ipynb").write_text('"raise NotImplementedError()"\n' * unattempted + "{}")

    for student, unattempted in (("ann", 3), ("bob", 0), ("cid", 1), ("dee", 0)):
        submit(student, unattempted)
    students = ["ann", "bob", "cid", "dee"]
    # no report yet: the most attempted submissions first (unattempted cells run in no time), then by name
    assert longest_first(tmp_path, "a1", students, last_seconds(tmp_path, "a1")) == ["bob", "dee", "cid", "ann"]
    report = {"students": [{"student": "ann", "status": "graded", "seconds": 30.0},
                           {"student": "bob", "status": "graded", "seconds": 5.0},
                           {"student": "cid", "status": "failed", "seconds": 99.0}]}
    (tmp_path / "grading_report_a1.json").write_text(json.dumps(report))
    # students without a graded time come first, then the longest graded ones
    assert longest_first(tmp_path, "a1", students, last_seconds(tmp_path, "a1")) == ["dee", "cid", "ann", "bob"]
