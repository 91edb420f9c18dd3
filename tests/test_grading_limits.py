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


def test_kernel_command_is_wrapped():
    from traitlets.config import Config

    from cs231n.grading.kernel.limits import LimitedKernelManager

    km = LimitedKernelManager(kernel_name="python3", config=Config({"GradingSettings": {"kernel_memory_mb": 1234}}))
    cmd = km.format_kernel_cmd()
    # isolated mode (-I): neither the working folder nor PYTHON* variables nor user site-packages count
    assert cmd[1:6] == ["-I", "-m", "cs231n.grading.kernel.limits", "--memory-mb", "1234"] and "--" in cmd


def test_grading_kernels_use_one_blas_thread_by_default():
    res = run_limited(0, "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    assert res.stdout.split() == ["1", "1"]


def test_threads_per_kernel_reaches_the_grading_kernel():
    """``cs231n.grade --threads-per-kernel N`` (Options.threads_per_kernel) sets the grading setting
    GradingSettings.kernel_threads of nbgrader's runs, which the kernel manager hands the kernel launcher
    as ``--threads N``, which then decides the kernel's BLAS threads."""
    from traitlets.config import Config

    from cs231n.grading.coordinator.parallel import Options, nbgrader_args
    from cs231n.grading.kernel.limits import LimitedKernelManager

    assert not any("kernel_threads" in a for a in nbgrader_args("autograde", "a1", "s", Options(), False))
    args = nbgrader_args("autograde", "a1", "s", Options(threads_per_kernel=3), False)
    assert "--GradingSettings.kernel_threads=3" in args
    km = LimitedKernelManager(kernel_name="python3", config=Config({"GradingSettings": {"kernel_threads": 3}}))
    launcher = km.launcher_args()
    assert launcher[launcher.index("--threads") + 1] == "3"
    res = subprocess.run([*launcher[:launcher.index("--threads") + 2], "--", sys.executable, "-c",
                          "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"],
                         capture_output=True, text=True, timeout=120)
    assert res.stdout.split() == ["3", "3"]


def test_grade_flags_set_the_grading_settings_of_nbgrader_runs(tmp_path):
    """``python -m cs231n.grade`` flags become ``--GradingSettings.*`` options of nbgrader's command line
    (autograde only), on top of the course's configuration, which the coordinator reads as nbgrader does."""
    from cs231n.grade import build_parser
    from cs231n.grading.coordinator.parallel import Options, nbgrader_args
    from cs231n.grading.settings import GradingSettings, course_config

    args = build_parser().parse_args(["autograde", "a1", "--memory-mb", "512", "--cpu-seconds", "30",
                                      "--notebook-timeout", "60", "--allow-unisolated"])
    options = Options(memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds, notebook_timeout=args.notebook_timeout,
                      allow_unisolated=args.allow_unisolated)
    cmd = nbgrader_args("autograde", "a1", "s", options, False)
    assert {"--GradingSettings.kernel_memory_mb=512", "--GradingSettings.kernel_cpu_seconds=30",
            "--GradingSettings.notebook_timeout=60", "--GradingSettings.require_isolation=False"} <= set(cmd)
    assert not any(a.startswith("--GradingSettings") for a in nbgrader_args("generate_feedback", "a1", "s",
                                                                          options, False))
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.GradingSettings.kernel_memory_mb = 100\n"
                                                 "c.GradingSettings.submission_file_mb = 3\n")
    settings = GradingSettings(config=course_config(tmp_path, options.settings()))
    assert (settings.kernel_memory_mb, settings.submission_file_mb, settings.require_isolation) == (512, 3, False)
    # nbgrader's hooks, handed no configuration, read the course's where no nbgrader application runs
    assert GradingSettings.current(tmp_path).submission_file_mb == 3 and GradingSettings.current().sandbox is True


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


def test_retired_variables_are_named_with_the_settings_that_replace_them():
    from cs231n.grading.settings import retired_variables_note

    assert retired_variables_note({"CS231N_DATA_DIR": "/data"}) is None
    note = retired_variables_note({"CS231N_KERNEL_MEMORY_MB": "100", "CS231N_SANDBOX": "0"})
    assert "CS231N_KERNEL_MEMORY_MB (now c.GradingSettings.kernel_memory_mb)" in note
    assert "CS231N_SANDBOX (now c.GradingSettings.sandbox)" in note
