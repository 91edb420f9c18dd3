"""Downloading and unpacking the official CIFAR-10 archive, with the standard library only.

    download_cifar10()      # -> <data dir>/cifar-10-batches-py

What it guarantees:
- The archive is written to `<archive>.part` and renamed only once its size, MD5 and SHA-256 match
  the published ones; a mismatch deletes the bad file and raises ChecksumError.
- An interrupted download resumes with an HTTP Range request (within the same call, and on the next
  call from the leftover `.part`); a server that ignores Range, or a `.part` larger than the archive,
  restarts cleanly from byte 0.
- Extraction goes to a temporary folder next to the destination, which is renamed into place only
  when complete, so a half-extracted `cifar-10-batches-py` never exists. Unsafe tar members
  (absolute paths, `..`, links, devices) are refused (module `extract`).
- An archive downloaded by hand and placed at `<data dir>/cifar-10-python.tar.gz` is verified and
  used without any network access.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

from .download_progress import DownloadProgress
from .errors import ChecksumError, DownloadError
from .extract import extract_archive
from .paths import CIFAR10_BATCH_FILES, CIFAR10_FOLDER, DOWNLOAD_COMMAND, data_dir

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_SIZE = 170498071  # bytes, as published on https://www.cs.toronto.edu/~kriz/cifar.html
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # published on the same page
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # as Keras pins it

_CHUNK = 1 << 16
_USER_AGENT = "cs231n-kit-downloader/1.0 (+python urllib)"


class _Interrupted(Exception):
    """The connection ended before the whole file arrived (the .part is kept for resuming)."""


# ----------------------------------------------------------------------------------------------
# Download with resume
# ----------------------------------------------------------------------------------------------


def _offline_message(
    url: str, reason: object, archive: Path, size: int | None, md5: str | None, command: str = DOWNLOAD_COMMAND
) -> str:
    about = f" ({size / 1e6:.0f} MB" + (f", MD5 {md5})" if md5 else ")") if size else ""
    return (
        f"Could not download {url}: {reason}. Check the internet connection (or proxy settings) and "
        f"run `{command}` again; an interrupted download resumes where it stopped. "
        f"Alternatively, download the file by hand from {url}{about} and put it at {archive}; "
        f"the same command then verifies and unpacks it without using the network."
    )


def _request(url: str, offset: int, timeout: float):
    """Open url, asking for bytes from `offset` on when offset > 0. Returns the response."""
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _resume_offset(resp, offset: int) -> int | None:
    """Where the response's body starts: `offset` for a matching 206 answer, 0 for a full (200) one,
    None for a partial answer that does not start where we asked."""
    if resp.status != 206:
        return 0
    content_range = resp.headers.get("Content-Range", "")  # "bytes START-END/TOTAL"
    try:
        start = int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None
    return offset if offset > 0 and start == offset else None


def _fetch_once(url: str, part: Path, size: int | None, timeout: float, progress: DownloadProgress) -> None:
    """
    One HTTP request: append to `part` (resuming) or rewrite it from byte 0.

    Raises _Interrupted when the body ends early or the connection drops, so the caller can retry.
    """
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset >= size:  # complete already (verified later) or oversized
        if offset == size:
            return
        part.unlink()
        offset = 0
    try:
        resp = _request(url, offset, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset > 0:  # range not satisfiable: the .part is unusable
            part.unlink()
            raise _Interrupted("server refused to resume (HTTP 416); restarting") from e
        raise
    with resp:
        start = _resume_offset(resp, offset)
        if start is None:  # a partial answer we cannot use: drop the .part and start over
            part.unlink(missing_ok=True)
            raise _Interrupted(f"unexpected Content-Range {resp.headers.get('Content-Range')!r}; restarting")
        length = resp.headers.get("Content-Length")
        expected_total = start + int(length) if length is not None else size
        if size is not None and expected_total is not None and expected_total != size:
            part.unlink(missing_ok=True)
            raise ChecksumError(f"{url} announces {expected_total} bytes, expected {size}: not the published file.")
        done = start
        progress.update(done)
        try:
            with open(part, "ab" if start else "wb") as f:  # "wb" restarts cleanly from byte 0
                while chunk := resp.read(_CHUNK):
                    f.write(chunk)
                    done += len(chunk)
                    if size is not None and done > size:
                        f.close()
                        part.unlink()
                        raise ChecksumError(f"{url} sent more than the expected {size} bytes; deleted {part}.")
                    progress.update(done)
        except (TimeoutError, http.client.HTTPException, ConnectionError) as e:
            raise _Interrupted(f"connection lost after {done} bytes ({type(e).__name__})") from e
    if expected_total is not None and done < expected_total:
        raise _Interrupted(f"connection closed after {done} of {expected_total} bytes")


def file_digests(path: Path) -> tuple[str, str]:
    """The (MD5, SHA-256) hex digests of a file, read once in 1 MB blocks."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def verify_file(
    path: Path, size: int | None, md5: str | None, sha256: str | None, command: str = DOWNLOAD_COMMAND
) -> None:
    """
    Check a file's size and digests; on mismatch delete it and raise ChecksumError.

    Inputs:
    - path: the file.
    - size, md5, sha256: expected values (hex digests); None skips that check.
    - command: the download command that the error message tells the user to run again.
    """
    actual_size = path.stat().st_size
    problems = []
    if size is not None and actual_size != size:
        problems.append(f"size {actual_size} bytes, expected {size}")
    else:
        actual_md5, actual_sha = file_digests(path)
        if md5 and actual_md5 != md5.lower():
            problems.append(f"MD5 {actual_md5}, expected {md5}")
        if sha256 and actual_sha != sha256.lower():
            problems.append(f"SHA-256 {actual_sha}, expected {sha256}")
    if problems:
        path.unlink()
        raise ChecksumError(
            f"{path} is not the published file ({'; '.join(problems)}); it was deleted. "
            f"Run `{command}` again; if this repeats, something between you and the server "
            f"alters the download."
        )


def download_file(
    url: str,
    dest: Path,
    size: int | None = None,
    md5: str | None = None,
    sha256: str | None = None,
    timeout: float = 60.0,
    attempts: int = 5,
    progress: bool = True,
    stream: TextIO | None = None,
    command: str = DOWNLOAD_COMMAND,
) -> Path:
    """
    Download url to dest through `dest.part`, resuming after interruptions, then verify it.

    Inputs:
    - url: http(s) URL.
    - dest: final path; written only once verified.
    - size, md5, sha256: expected size in bytes and hex digests (None skips a check).
    - timeout: seconds without data before a connection counts as lost.
    - attempts: requests to make in total, each resuming where the previous one stopped.
    - progress: show progress on `stream` (default stdout).
    - command: the download command that error messages tell the user to run again.

    Returns:
    - dest.

    Raises:
    - DownloadError: network failure (message says how to download by hand); ChecksumError: the
      bytes are not the published ones (the bad file is deleted).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    bar = DownloadProgress(size, stream, enabled=progress)
    bar.say(f"Downloading {url}\n  to {dest}")
    for attempt in range(1, attempts + 1):
        try:
            _fetch_once(url, part, size, timeout, bar)
            break
        except _Interrupted as e:
            bar.finish()
            if attempt == attempts:
                reason = f"{e}, after {attempts} attempts"
                raise DownloadError(_offline_message(url, reason, dest, size, md5, command)) from e
            bar.say(f"  {e}; resuming (attempt {attempt + 1} of {attempts})")
            time.sleep(min(0.2 * attempt, 2.0))
        except urllib.error.HTTPError as e:
            bar.finish()
            raise DownloadError(_offline_message(url, f"HTTP {e.code} {e.reason}", dest, size, md5, command)) from e
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            bar.finish()
            if isinstance(e, DownloadError):
                raise
            reason = getattr(e, "reason", e)
            raise DownloadError(_offline_message(url, reason, dest, size, md5, command)) from e
    bar.finish()
    bar.say("  verifying size and checksums")
    verify_file(part, size, md5, sha256, command)
    os.replace(part, dest)
    return dest

def fetch_archive(
    url: str,
    archive: Path,
    size: int | None,
    md5: str | None,
    sha256: str | None,
    force: bool,
    timeout: float,
    attempts: int,
    progress: bool,
    stream: TextIO | None,
    command: str = DOWNLOAD_COMMAND,
) -> None:
    """
    Make sure a verified copy of the archive is at `archive`: the one already there (unless `force`),
    checked against size and digests, or a fresh download (see `download_file` for the arguments).
    """
    if archive.is_file() and not force:
        if progress:
            print(f"Using the archive already at {archive}; verifying it.", file=stream or sys.stdout, flush=True)
        verify_file(archive, size, md5, sha256, command)
    else:
        download_file(url, archive, size, md5, sha256, timeout, attempts, progress, stream, command=command)


# ----------------------------------------------------------------------------------------------
# CIFAR-10
# ----------------------------------------------------------------------------------------------


def download_cifar10(
    dest_dir: str | os.PathLike | None = None,
    url: str | None = None,
    size: int | None = CIFAR10_SIZE,
    md5: str | None = CIFAR10_MD5,
    sha256: str | None = CIFAR10_SHA256,
    force: bool = False,
    keep_archive: bool = False,
    timeout: float = 60.0,
    attempts: int = 5,
    progress: bool = True,
    stream: TextIO | None = None,
) -> Path:
    """
    Fetch, verify and unpack the official CIFAR-10 python archive.

    Inputs:
    - dest_dir: the data dir; default `paths.data_dir()` (env CS231N_DATA_DIR, else cs231n/datasets).
    - url: archive URL; default env CS231N_CIFAR10_URL, else the official CIFAR10_URL.
    - size, md5, sha256: expected archive size and digests (None skips a check; tests pass their own).
    - force: download and unpack again even if the folder exists.
    - keep_archive: keep the .tar.gz after unpacking (it is deleted by default: 170 MB).
    - timeout, attempts: network patience (see `download_file`).
    - progress, stream: progress display (default on, to stdout).

    Returns:
    - Path of the complete `cifar-10-batches-py` folder inside dest_dir.
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else data_dir()
    url = url or os.environ.get("CS231N_CIFAR10_URL", "").strip() or CIFAR10_URL
    final = dest_dir / CIFAR10_FOLDER
    out = stream if stream is not None else sys.stdout
    if not force and all((final / name).is_file() for name in CIFAR10_BATCH_FILES):
        if progress:
            print(f"CIFAR-10 is already at {final} (use --force to fetch it again).", file=out)
        return final

    archive = dest_dir / CIFAR10_ARCHIVE
    fetch_archive(url, archive, size, md5, sha256, force, timeout, attempts, progress, stream)
    if progress:
        print(f"Unpacking into {final}", file=out, flush=True)
    extract_archive(archive, dest_dir, CIFAR10_FOLDER, CIFAR10_BATCH_FILES)
    if not keep_archive:
        archive.unlink(missing_ok=True)
    if progress:
        print(f"Done: CIFAR-10 is at {final}", file=out, flush=True)
    return final
