"""Downloading the original kit's COCO captioning archive (`coco_captioning.zip`, about 1 GB).

    download_coco_captioning()       # -> <data dir>/coco_captioning

It reuses the CIFAR-10 downloader's machinery (`cs231n.data.download`): resumable download through a
`.part` file, verification, atomic and safe extraction, and an archive placed by hand at
`<data dir>/coco_captioning.zip` is used without any network access.

No checksum of this archive is published. When the expected size or SHA-256 is known (arguments, or
env CS231N_COCO_SIZE / CS231N_COCO_SHA256) the archive is verified and a mismatch deletes it and
raises ChecksumError; otherwise the downloader says plainly that it could not verify the archive and
prints the SHA-256 it saw, which is also recorded in `coco_captioning/download.json` so it can be
pinned for the next machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from cs231n.data.download import fetch_archive, file_digests
from cs231n.data.errors import DownloadError
from cs231n.data.extract import extract_archive
from cs231n.data.paths import data_dir

from .coco import required_files
from .dataset import COCO_FOLDER, DOWNLOAD_COMMAND

COCO_URL = "http://cs231n.stanford.edu/coco_captioning.zip"
COCO_ARCHIVE = "coco_captioning.zip"
COCO_SIZE: int | None = None  # not published
COCO_SHA256: str | None = None  # not published
RECORD_FILE = "download.json"


def download_coco_captioning(
    dest_dir: str | os.PathLike | None = None,
    url: str | None = None,
    size: int | None = None,
    sha256: str | None = None,
    force: bool = False,
    keep_archive: bool = False,
    timeout: float = 60.0,
    attempts: int = 5,
    progress: bool = True,
    stream: TextIO | None = None,
) -> Path:
    """
    Fetch, verify (when a checksum is known) and unpack the COCO captioning archive.

    Inputs:
    - dest_dir: the data dir; default `cs231n.data.data_dir()` (env CS231N_DATA_DIR).
    - url: archive URL; default env CS231N_COCO_URL, else COCO_URL (the course site).
    - size, sha256: expected archive size in bytes and SHA-256; default env CS231N_COCO_SIZE /
      CS231N_COCO_SHA256, else COCO_SIZE / COCO_SHA256 (None: not verified, see the module docstring).
    - force: download and unpack again even if the folder is complete.
    - keep_archive: keep the .zip after unpacking (deleted by default).
    - timeout, attempts: network patience (see `cs231n.data.download.download_file`).
    - progress, stream: progress and messages (default on, to stdout).

    Returns:
    - Path of the complete `coco_captioning` folder inside dest_dir.

    Raises:
    - DownloadError (network failure, bad archive), ChecksumError (size or SHA-256 mismatch).
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else data_dir()
    url = url or os.environ.get("CS231N_COCO_URL", "").strip() or COCO_URL
    env_size = os.environ.get("CS231N_COCO_SIZE", "").strip()
    size = size if size is not None else (int(env_size) if env_size else COCO_SIZE)
    sha256 = sha256 or os.environ.get("CS231N_COCO_SHA256", "").strip() or COCO_SHA256 or None
    out = stream if stream is not None else sys.stdout
    final = dest_dir / COCO_FOLDER
    required = required_files(pca_features=True)  # the 4096-d files are in the archive too, but optional
    if not force and all((final / name).is_file() for name in required):
        if progress:
            print(f"COCO captioning data is already at {final} (use --force to fetch it again).", file=out)
        return final

    archive = dest_dir / COCO_ARCHIVE
    fetch_archive(url, archive, size, None, sha256, force, timeout, attempts, progress, stream, DOWNLOAD_COMMAND)
    seen = file_digests(archive)[1]
    verified = sha256 is not None
    if not verified:
        print(
            f"Warning: could not verify {archive.name}: no checksum is published for it. SHA-256 of the "
            f"downloaded file: {seen} ({archive.stat().st_size} bytes); set CS231N_COCO_SHA256 to it to "
            f"verify later downloads.",
            file=out,
            flush=True,
        )
    if progress:
        print(f"Unpacking into {final}", file=out, flush=True)
    try:
        extract_archive(archive, dest_dir, COCO_FOLDER, required)
    except DownloadError as e:  # a bad archive is of no use: delete it so the next try downloads again
        archive.unlink(missing_ok=True)
        raise DownloadError(f"{e} The archive was deleted; run `{DOWNLOAD_COMMAND}` to download it again.") from e
    record = {"url": url, "size": archive.stat().st_size, "sha256": seen, "verified": verified}
    (final / RECORD_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if not keep_archive:
        archive.unlink(missing_ok=True)
    if progress:
        print(f"Done: COCO captioning data is at {final}", file=out, flush=True)
    return final
