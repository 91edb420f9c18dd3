"""Whether grading kernels can be isolated here, asked once per process (``sandbox.probe`` in a child).

Kept apart from ``execute`` (which needs nbclient and nbgrader) so that the class-grading coordinator
can check before it starts anything.
"""

import json
import os

from .limits import configured


class IsolationUnavailable(RuntimeError):
    """Grading kernels cannot be isolated here and the instructor did not opt out."""


def isolation_message(info: dict) -> str:
    return (f"grading kernels cannot be fully isolated on this machine ({info.get('reason') or info}). A grading "
            "kernel needs Linux mount, PID and network namespaces, read-only mounts (Linux 5.12 or newer), and, "
            "when the grader runs as root, an unprivileged user to run as ('nobody', or CS231N_KERNEL_USER). "
            "Grade as root (a course server, or a container with CAP_SYS_ADMIN), or allow unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1), or accept unisolated grading explicitly: "
            "`python -m cs231n.grade ... --allow-unisolated`, or c.RobustExecute.require_isolation = False in "
            "nbgrader_config.py (each submission's report then records what it had)")


_probed: dict | None = None


def check_isolation(required: bool) -> dict:
    """What isolation grading kernels get here (probed once per process); raises IsolationUnavailable
    when it is not full and ``required``."""
    global _probed
    if _probed is None:
        import subprocess
        import sys

        if configured("CS231N_SANDBOX", 1) == 0:
            _probed = {"isolation": "none", "reason": "the sandbox is switched off (CS231N_SANDBOX=0)"}
        else:
            args = [sys.executable, "-I", "-m", "cs231n.grading.kernel.limits", "--probe"]
            user = os.environ.get("CS231N_KERNEL_USER", "").strip()
            res = subprocess.run(args + ([user] if user else []), capture_output=True, text=True, timeout=60)
            try:
                _probed = json.loads(res.stdout)
            except ValueError:
                _probed = {"isolation": "none", "reason": (res.stderr.strip().splitlines() or ["probe failed"])[-1]}
    if required and _probed.get("isolation") != "full":
        raise IsolationUnavailable(isolation_message(_probed))
    return _probed


