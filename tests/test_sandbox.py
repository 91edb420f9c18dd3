"""The grading kernel's sandbox (cs231n.grading.kernel.sandbox via cs231n.grading.kernel.limits): no network, a
working directory with the submission only, no view of the course's files, no capabilities, no other
processes, resource limits; and the documented fallback where namespaces are not available.
"""

import asyncio
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cs231n.grading.kernel.limits import LimitedKernelManager, package_repository

ROOT = Path(__file__).resolve().parents[1]


def namespaces_available() -> bool:
    """Whether this machine lets a process unshare mount, PID and network namespaces (as the launcher does)."""
    code = ("from cs231n.grading.kernel import sandbox as s\n"
            "try:\n    print(s._enter_namespaces(False))\nexcept OSError:\n    print('no')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    return out in ("root", "userns")


PROBE = """
import json, os, resource, socket
result = {"cwd_files": sorted(os.listdir(".")),
          "pid": os.getpid(), "kernel": type(get_ipython().kernel).__name__}
def readable(path):  # something to read there (a covered file reads as empty)
    try:
        with open(path, "rb") as f:
            return f.read(1) != b""
    except OSError:
        return False
result["read"] = {p: readable(p) for p in PATHS}
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    result["network"] = True
except OSError:
    result["network"] = False
try:
    os.kill(TEST_PID, 0)
    result["sees_grader"] = True
except OSError:
    result["sees_grader"] = False
status = open("/proc/self/status").read()
result["cap_eff"] = [ln.split()[1] for ln in status.splitlines() if ln.startswith("CapEff")][0]
result["rlimit_as"] = resource.getrlimit(resource.RLIMIT_AS)[0]
result["uid"] = os.getuid()
result["home"] = os.environ.get("HOME")
result["tmpdir"] = os.environ.get("TMPDIR")
def writable(path):  # try to create a file there (removed again if it worked)
    path = os.path.expanduser(path)
    try:
        with open(path, "w") as f:
            f.write("x")
    except OSError:
        return False
    os.remove(path)
    return True
result["write"] = {p: writable(p) for p in WRITES}
print("RESULT" + json.dumps(result))
"""


def site_packages() -> str:
    import numpy

    return str(Path(numpy.__file__).resolve().parents[1])


def write_targets() -> list[str]:
    """Places a kernel must not write to (its venv, the package, the real HOME, the host's /tmp and the
    course are tried by the probe; the last three entries are its own private places, which it may)."""
    import cs231n

    package = Path(cs231n.__file__).resolve().parent
    return [f"{site_packages()}/zz_cs231n_probe.pth", str(package / "grading" / "guard.py.probe"),
            str(package / "checks" / "__init__.py.probe"), str(Path.home() / ".cs231n-probe"), "/root/.cs231n-probe",
            str(ROOT / "cs231n-probe.txt"), "/etc/cs231n-probe", "/var/tmp/cs231n-probe",
            "probe-in-workdir.txt", "/tmp/probe-in-tmp.txt", "~/probe-in-home.txt"]


OWN_PLACES = ["probe-in-workdir.txt", "/tmp/probe-in-tmp.txt", "~/probe-in-home.txt"]


@pytest.fixture(scope="module")
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def run_probe(cwd: Path, paths: list[str], port: int, settings: dict[str, object]) -> dict:
    """Start a grading kernel as nbgrader does (cwd = the submission folder), with these grading
    settings (``GradingSettings`` traits), and run PROBE in it. ``sandbox`` in the result: the isolation
    the kernel's launcher recorded ("off" when it ran without the sandbox and recorded none)."""
    from traitlets.config import Config

    async def main():
        km = LimitedKernelManager(kernel_name="python3", config=Config({"GradingSettings": settings}))
        await km.start_kernel(cwd=str(cwd))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            texts = []
            code = f"PATHS = {paths!r}\nWRITES = {write_targets()!r}\nPORT = {port}\nTEST_PID = {os.getpid()}\n" + PROBE
            await kc.execute_interactive(code, timeout=60,
                                         output_hook=lambda m: texts.append(m["content"].get("text", "")))
            isolation = km.isolation()
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        line = [t for t in "".join(texts).splitlines() if t.startswith("RESULT")][0]
        return {**json.loads(line[len("RESULT"):]), "sandbox": isolation["isolation"] if isolation else "off"}

    return asyncio.run(main())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with instructor material and two students' submissions."""
    root = tmp_path_factory.mktemp("sandbox") / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "source" / "a1" / "nb.ipynb").write_text('{"secret": "reference solution"}')
    (root / "gradebook.db").write_text("grades")
    for student in ("alice", "bob"):
        folder = root / "autograded" / student / "a1"
        folder.mkdir(parents=True)
        (folder / "nb.ipynb").write_text(json.dumps({"student": student}))
    return root


def secret_paths(course: Path) -> list[str]:
    return [str(course / "source" / "a1" / "nb.ipynb"), str(course / "gradebook.db"),
            str(course / "autograded" / "bob" / "a1" / "nb.ipynb"),
            str(package_repository() / "assignment1" / "knn.ipynb"), str(package_repository() / "nbgrader_config.py")]


@pytest.fixture(scope="module")
def sandboxed(course, server):
    cwd = course / "autograded" / "alice" / "a1"
    paths = [*secret_paths(course), "nb.ipynb", str(package_repository() / "cs231n" / "checks" / "__init__.py")]
    return run_probe(cwd, paths, server, {"sandbox": True, "kernel_memory_mb": 3000})


def test_the_probe_paths_exist_outside_the_sandbox(course):
    assert all(Path(p).exists() for p in secret_paths(course))


def test_grading_kernel_is_the_guarded_kernel(sandboxed):
    assert sandboxed["kernel"] == "GuardedKernel"


def test_working_directory_holds_the_submission_only(sandboxed):
    assert sandboxed["cwd_files"] == ["nb.ipynb"]
    assert sandboxed["read"]["nb.ipynb"] is True


def test_kernel_can_import_the_package_but_not_read_instructor_files(sandboxed, course):
    assert sandboxed["read"][str(package_repository() / "cs231n" / "checks" / "__init__.py")] is True
    if namespaces_available():
        assert sandboxed["sandbox"] == "full"
        assert {p: sandboxed["read"][p] for p in secret_paths(course)} == {p: False for p in secret_paths(course)}
    else:  # documented fallback: working directory only
        assert sandboxed["sandbox"] == "partial"


def test_kernel_writes_nowhere_but_its_own_private_places(sandboxed):
    if not namespaces_available():
        pytest.skip("no namespaces on this machine")
    write = {p.replace("~", "HOME"): ok for p, ok in sandboxed["write"].items()}
    own = {p.replace("~", "HOME") for p in OWN_PLACES}
    assert {p: ok for p, ok in write.items() if p in own} == dict.fromkeys(own, True)
    assert {p: ok for p, ok in write.items() if p not in own} == {p: False for p in write if p not in own}
    assert sandboxed["home"] == "/tmp/home" and sandboxed["tmpdir"] == "/tmp"


def test_kernel_runs_unprivileged(sandboxed):
    if not namespaces_available():
        pytest.skip("no namespaces on this machine")
    if os.geteuid() == 0:
        import pwd

        assert sandboxed["uid"] == pwd.getpwnam("nobody").pw_uid
    else:
        assert sandboxed["uid"] != 0


def test_nothing_is_left_behind_by_the_kernel(sandboxed):
    """Its private places vanish with it, and nothing it tried reached the machine."""
    import cs231n

    leftovers = [p for p in ("/tmp/probe-in-tmp.txt", str(Path.home() / ".cs231n-probe"), "/root/.cs231n-probe",
                             f"{site_packages()}/zz_cs231n_probe.pth", "/var/tmp/cs231n-probe",
                             str(Path(cs231n.__file__).parent / "grading" / "guard.py.probe"))
                 if os.path.exists(p)]
    assert leftovers == []
    assert not list(Path("/tmp").glob("cs231n-kernel-*/work/probe-in-workdir.txt"))


def test_isolation_probe_agrees_with_the_kernel(sandboxed):
    from cs231n.grading.kernel.sandbox import probe

    if not namespaces_available():
        pytest.skip("no namespaces on this machine")
    assert probe()["isolation"] == "full" == sandboxed["sandbox"]


def test_no_network_no_other_processes_no_capabilities(sandboxed):
    if namespaces_available():
        assert sandboxed["network"] is False
        assert sandboxed["sees_grader"] is False
        assert sandboxed["pid"] == 1
        assert int(sandboxed["cap_eff"], 16) == 0
    else:
        assert sandboxed["sandbox"].startswith("workdir only")


def test_memory_limit_applies_inside_the_sandbox(sandboxed):
    assert sandboxed["rlimit_as"] == 3000 * 1024 * 1024


def test_sandbox_off_gives_the_plain_kernel_with_network(course, server):
    cwd = course / "autograded" / "alice" / "a1"
    result = run_probe(cwd, [str(course / "gradebook.db")], server, {"sandbox": False})
    assert result["sandbox"] == "off" and result["network"] is True  # no sandbox, so no sandbox report
    assert result["read"][str(course / "gradebook.db")] is True


def test_fallback_without_namespaces_is_recorded_as_partial(tmp_path):
    submission = tmp_path / "submitted"
    submission.mkdir()
    (submission / "mine.ipynb").write_text("{}")
    code = ("import os, json\nfrom cs231n.grading.kernel import sandbox as s\n"
            "def refuse(network):\n    raise OSError(1, 'unshare: Operation not permitted')\n"
            "s._enter_namespaces = refuse\n"
            f"info = s.isolate({str(tmp_path / 'kernel')!r}, [])\n"
            "print(json.dumps(info))\nprint(os.getcwd())\nprint(sorted(os.listdir('.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=submission,
                         timeout=60).stdout.splitlines()
    info = json.loads(out[0])
    assert info["isolation"] == "partial" and "Operation not permitted" in info["reason"]
    assert json.loads((tmp_path / "kernel" / "isolation.json").read_text()) == info
    assert out[1] == str(tmp_path / "kernel" / "work") and out[2] == "['mine.ipynb']"


def test_kernel_copy_of_a_notebook_holds_only_its_answer_cells():
    from cs231n.grading.kernel.sandbox import answers_only

    nb = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"solution": True}}},
                    {"cell_type": "code", "source": "expected = 2", "metadata": {"nbgrader": {"grade": True}}},
                    {"cell_type": "markdown", "source": "text", "metadata": {}}], "metadata": {}}
    assert [c["source"] for c in json.loads(answers_only(json.dumps(nb).encode()))["cells"]] == ["x = 1"]
    assert answers_only(b"not json") == b""


def test_kernel_starts_when_the_kit_lies_under_a_covered_folder(course, server):
    """A clone of the kit (its .venv and package included) under /tmp: /tmp is covered, so the
    kernel's Python and the package must be bound back. Simulated by covering the whole repository."""
    if not namespaces_available():
        pytest.skip("no namespaces on this machine: nothing is covered, see the fallback test")
    cwd = course / "autograded" / "alice" / "a1"
    checks_py = str(package_repository() / "cs231n" / "checks" / "__init__.py")
    result = run_probe(cwd, [*secret_paths(course), checks_py], server,
                       {"sandbox": True, "sandbox_hide": [str(package_repository())]})
    assert result["sandbox"] == "full" and result["kernel"] == "GuardedKernel"
    assert result["read"][checks_py] is True
    assert {p: result["read"][p] for p in secret_paths(course)} == {p: False for p in secret_paths(course)}
