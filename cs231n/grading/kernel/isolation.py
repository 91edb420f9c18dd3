"""Whether grading kernels can be isolated here, asked once per process (``sandbox.probe`` in a child).

Kept apart from ``execute`` (which needs nbclient and nbgrader) so that the class-grading coordinator
can check before it starts anything.
"""

import json

from ..settings import GradingSettings


class IsolationUnavailable(RuntimeError):
    """Grading kernels cannot be isolated here and the instructor did not opt out."""


def isolation_message(info: dict) -> str:
    return (f"grading kernels cannot be fully isolated on this machine ({info.get('reason') or info}). A grading "
            "kernel needs Linux mount, PID and network namespaces, read-only mounts (Linux 5.12 or newer), and, "
            "when the grader runs as root, an unprivileged user to run as ('nobody', or GradingSettings.kernel_user). "
            "Grade as root (a course server, or a container with CAP_SYS_ADMIN), or allow unprivileged user "
            "namespaces (sysctl kernel.unprivileged_userns_clone=1), or accept unisolated grading explicitly: "
            "`python -m cs231n.grade ... --allow-unisolated`, or c.GradingSettings.require_isolation = False in "
            "nbgrader_config.py (each submission's report then records what it had)")


#: What the probe found, per (sandbox on, kernel user): asked once per process.
_probed: dict[tuple[bool, str], dict] = {}


def check_isolation(settings: GradingSettings, required: bool | None = None) -> dict:
    """What isolation grading kernels get here with these settings (``sandbox``, ``kernel_user``; probed
    once per process); raises IsolationUnavailable when it is not full and isolation is ``required``
    (default: ``settings.require_isolation``)."""
    required = settings.require_isolation if required is None else required
    key = (bool(settings.sandbox), settings.kernel_user.strip())
    if key not in _probed:
        import subprocess
        import sys

        if not settings.sandbox:
            _probed[key] = {"isolation": "none",
                            "reason": "the sandbox is switched off (GradingSettings.sandbox = False)"}
        else:
            args = [sys.executable, "-I", "-m", "cs231n.grading.kernel.limits", "--probe"]
            res = subprocess.run(args + ([key[1]] if key[1] else []), capture_output=True, text=True, timeout=60)
            try:
                _probed[key] = json.loads(res.stdout)
            except ValueError:
                _probed[key] = {"isolation": "none",
                                "reason": (res.stderr.strip().splitlines() or ["probe failed"])[-1]}
    info = _probed[key]
    if required and info.get("isolation") != "full":
        raise IsolationUnavailable(isolation_message(info))
    return info
