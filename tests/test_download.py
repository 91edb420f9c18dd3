"""The CIFAR-10 downloader, against a local HTTP server on 127.0.0.1 serving a small archive in the
official layout (never the network): checksums, resume, servers without Range, offline, unsafe tars,
and that no half-extracted folder is ever left behind."""

import hashlib
import io
import os
import pickle
import socket
import subprocess
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import cs231n.data.download as dl
from cs231n.data import ChecksumError, DownloadError, load_cifar10
from cs231n.data.__main__ import main

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
SCRIPT = Path(dl.__file__).resolve().parent.parent / "datasets" / "get_datasets.sh"


def build_archive(members=None, n=12, seed=0):
    """A .tar.gz in the official layout: cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}.
    `members` overrides it: a list of (name, bytes), where bytes None makes a symlink to /etc/passwd."""
    rng = np.random.default_rng(seed)
    if members is None:
        members = []
        for name in BATCHES:
            batch = {
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"labels": [i % 10 for i in range(n)],
            }
            members.append((f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2)))
        members.append(("cifar-10-batches-py/batches.meta", pickle.dumps({b"num_cases_per_batch": n}, protocol=2)))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            if isinstance(payload, bytes):
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
                tar.addfile(info)
    return buf.getvalue()


ARCHIVE = build_archive()  # about 220 KB: random pixels do not compress


def digests(blob):
    return {
        "size": len(blob),
        "md5": hashlib.md5(blob).hexdigest(),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


class Server:
    """A local HTTP server for one test. Modes:
    "range"      - honours `Range: bytes=N-` with 206;
    "norange"    - ignores Range, always sends the whole file with 200;
    "drop_first" - the first response announces the full length, sends half, and closes the
                   connection; later ones honour Range."""

    def __init__(self, blob, mode="range"):
        self.blob, self.mode, self.requests = blob, mode, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append(rng)
                if self.path != "/cifar-10-python.tar.gz":
                    self.send_error(404)
                    return
                blob, start = server.blob, 0
                if rng and server.mode != "norange":
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(blob):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(blob) - 1}/{len(blob)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(blob) - start))
                self.end_headers()
                body = blob[start:]
                if server.mode == "drop_first" and len(server.requests) == 1:
                    body = body[: len(body) // 2]
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cifar-10-python.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(blob=ARCHIVE, mode="range"):
        servers.append(Server(blob, mode))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"  # nothing listens there any more


def fetch(dest, url, blob=ARCHIVE, **kw):
    return dl.download_cifar10(dest, url=url, **{**digests(blob), "progress": False, **kw})


def assert_nothing_half_done(dest):
    """Only finished things may exist: no extraction folder, no cifar-10-batches-py."""
    names = sorted(p.name for p in Path(dest).iterdir()) if Path(dest).exists() else []
    assert "cifar-10-batches-py" not in names
    assert not [n for n in names if n.startswith(".cifar-10-batches-py-extract")]


def test_success(tmp_path, serve):
    server = serve()
    root = fetch(tmp_path, server.url)
    assert root == tmp_path / "cifar-10-batches-py"
    X_train, y_train, X_test, y_test = load_cifar10(root)
    assert X_train.shape == (60, 32, 32, 3) and X_test.shape == (12, 32, 32, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]  # archive removed
    assert server.requests == [None]
    # Already present: returns at once, no request (the URL is not even contacted).
    assert fetch(tmp_path, server.url) == root and server.requests == [None]


def test_keep_archive_and_force(tmp_path, serve):
    server = serve()
    fetch(tmp_path, server.url, keep_archive=True)
    assert (tmp_path / "cifar-10-python.tar.gz").read_bytes() == ARCHIVE
    (tmp_path / "cifar-10-batches-py" / "stale").write_text("old copy")
    other = build_archive(seed=1)
    fetch(tmp_path, serve(other).url, blob=other, force=True)  # replaced in one step
    assert not (tmp_path / "cifar-10-batches-py" / "stale").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]


@pytest.mark.parametrize("field", ["md5", "sha256"])
def test_checksum_mismatch_deletes_the_file(tmp_path, serve, field):
    server = serve()
    with pytest.raises(ChecksumError) as info:
        fetch(tmp_path, server.url, **{field: "0" * (32 if field == "md5" else 64)})
    message = str(info.value)
    assert ("MD5" if field == "md5" else "SHA-256") in message and "deleted" in message
    assert "python -m cs231n.data download cifar10" in message
    assert list(tmp_path.iterdir()) == []  # neither the archive nor a .part nor a folder


def test_size_mismatch(tmp_path, serve):
    server = serve()
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(ARCHIVE[:1000])  # resumed, then refused
    with pytest.raises(ChecksumError, match="expected"):
        fetch(tmp_path, server.url, size=len(ARCHIVE) - 1)
    assert server.requests == ["bytes=1000-"]
    assert list(tmp_path.iterdir()) == []  # the partial file of the wrong download is gone too


def test_interrupted_download_resumes_in_the_same_call(tmp_path, serve):
    server = serve(mode="drop_first")
    root = fetch(tmp_path, server.url)
    half = len(ARCHIVE) // 2
    assert server.requests == [None, f"bytes={half}-"]
    assert load_cifar10(root)[0].shape == (60, 32, 32, 3)


def test_interrupted_download_resumes_on_the_next_call(tmp_path, serve):
    server = serve(mode="drop_first")
    with pytest.raises(DownloadError, match="after 1 attempts"):
        fetch(tmp_path, server.url, attempts=1)
    part = tmp_path / "cifar-10-python.tar.gz.part"
    assert part.stat().st_size == len(ARCHIVE) // 2
    assert_nothing_half_done(tmp_path)
    fetch(tmp_path, server.url, attempts=1)
    assert server.requests == [None, f"bytes={len(ARCHIVE) // 2}-"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]


def test_server_without_range_restarts_cleanly(tmp_path, serve):
    server = serve(mode="norange")
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"x" * 1000)  # a stale partial download
    fetch(tmp_path, server.url)  # would fail the checksum if the 1000 bytes were kept
    assert server.requests == ["bytes=1000-"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]


def test_partial_file_bigger_than_expected_restarts(tmp_path, serve):
    server = serve()
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"x" * (len(ARCHIVE) + 10))
    fetch(tmp_path, server.url)
    assert server.requests == [None]


def test_range_not_satisfiable_restarts(tmp_path, serve):
    """Size unknown (None) and a .part longer than the file: the server answers 416, we restart."""
    server = serve()
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"x" * (len(ARCHIVE) + 10))
    fetch(tmp_path, server.url, size=None)
    assert server.requests == [f"bytes={len(ARCHIVE) + 10}-", None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]


def test_complete_but_wrong_part_is_deleted(tmp_path, serve):
    """A .part exactly as long as the file but with wrong bytes: verification deletes it."""
    server = serve()
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"x" * len(ARCHIVE))
    with pytest.raises(ChecksumError):
        fetch(tmp_path, server.url)
    assert list(tmp_path.iterdir()) == []
    fetch(tmp_path, server.url)  # the next run starts from scratch and succeeds
    assert server.requests == [None]


def test_offline_gives_a_clear_error(tmp_path, closed_port_url):
    with pytest.raises(DownloadError) as info:
        fetch(tmp_path, closed_port_url)
    message = str(info.value)
    assert "Could not download" in message and closed_port_url in message
    assert "by hand" in message and str(tmp_path / "cifar-10-python.tar.gz") in message
    assert "\n" not in message  # one paragraph
    assert_nothing_half_done(tmp_path)


def test_http_error(tmp_path, serve):
    server = serve()
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(tmp_path, server.url.replace("cifar-10-python", "missing"))


def test_archive_placed_by_hand_needs_no_network(tmp_path, closed_port_url):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(ARCHIVE)
    root = fetch(tmp_path, closed_port_url)
    assert load_cifar10(root)[1].shape == (60,)


def test_url_from_environment(tmp_path, serve, monkeypatch):
    server = serve()
    monkeypatch.setenv("CS231N_CIFAR10_URL", server.url)
    dl.download_cifar10(tmp_path, **digests(ARCHIVE), progress=False)
    assert server.requests == [None]


@pytest.mark.parametrize(
    "bad",
    [
        [("cifar-10-batches-py/../../evil", b"x")],
        [("/tmp/evil-absolute", b"x")],
        [("cifar-10-batches-py/link", None)],
    ],
    ids=["dotdot", "absolute", "symlink"],
)
def test_unsafe_members_are_refused(tmp_path, serve, bad):
    members = [(f"cifar-10-batches-py/{name}", b"data") for name in BATCHES] + bad
    blob = build_archive(members)
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match="refusing"):
        fetch(dest, serve(blob).url, blob=blob)
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil-absolute").exists()
    assert_nothing_half_done(dest)


def test_incomplete_archive_leaves_no_folder(tmp_path, serve):
    blob = build_archive([(f"cifar-10-batches-py/{name}", b"data") for name in BATCHES[:-1]])
    with pytest.raises(DownloadError, match="test_batch"):
        fetch(tmp_path, serve(blob).url, blob=blob)
    assert_nothing_half_done(tmp_path)


def test_corrupt_gzip_is_a_clear_error(tmp_path, serve):
    blob = ARCHIVE[: len(ARCHIVE) // 2]  # verified against its own digests, but not a whole tar.gz
    with pytest.raises(DownloadError, match="could not be unpacked"):
        fetch(tmp_path, serve(blob).url, blob=blob)
    assert_nothing_half_done(tmp_path)


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_output(tmp_path, serve):
    server = serve()
    log = io.StringIO()
    dl.download_cifar10(tmp_path / "a", url=server.url, **digests(ARCHIVE), stream=log)
    lines = log.getvalue().splitlines()
    assert any("100.0%" in line for line in lines) and "\r" not in log.getvalue()
    assert len([line for line in lines if "%" in line]) <= 11  # sparse: at most one line per 10%
    tty = FakeTTY()
    dl.download_cifar10(tmp_path / "b", url=server.url, **digests(ARCHIVE), stream=tty)
    assert tty.getvalue().count("\r") >= 2 and "100.0%" in tty.getvalue()


def test_cli_info_and_errors(tmp_path, monkeypatch, capsys, closed_port_url):
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CS231N_CIFAR10_DIR", raising=False)
    monkeypatch.delenv("CS231N_DATASET", raising=False)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "not present" in out and "python -m cs231n.data download cifar10" in out
    assert main(["download", "cifar10", "--url", closed_port_url, "--quiet"]) == 1
    assert "Could not download" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0 and "download" in capsys.readouterr().out


def test_get_datasets_script(tmp_path, closed_port_url):
    """The shell wrapper runs the module with the data dir and arguments passed through."""
    env = {**os.environ, "CS231N_DATA_DIR": str(tmp_path), "CS231N_CIFAR10_URL": closed_port_url}
    done = subprocess.run(["bash", str(SCRIPT), "--quiet"], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "Could not download" in done.stderr and closed_port_url in done.stderr
    assert str(tmp_path) in done.stderr
    done = subprocess.run(["bash", str(SCRIPT), "--help"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "--keep-archive" in done.stdout
