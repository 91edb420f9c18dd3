"""Unpacking a downloaded archive safely and atomically.

    extract_archive(archive, dest_parent, "cifar-10-batches-py", required_files)

Unsafe members (absolute paths, `..`, links, devices) are refused, and the files are extracted into a
temporary folder that is renamed into place only when complete, so a half-extracted folder never
exists under its final name.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from .errors import DownloadError


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Refuse members that could write outside the target folder or are not plain files/folders."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or member.name.startswith(("/", "\\")):
        raise DownloadError(f"{archive}: refusing unsafe member path {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise DownloadError(f"{archive}: refusing member {member.name!r} (links and devices are not allowed)")


def _extract_tar(archive: Path, tmp: Path) -> None:
    """Unpack a .tar.gz into tmp after checking every member (see _check_member)."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            _check_member(m, archive)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp, members=members, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            tar.extractall(tmp, members=members)


def _extract_zip(archive: Path, tmp: Path) -> None:
    """Unpack a zip after the same checks as tar members: no absolute or `..` paths, no symlinks."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for m in members:
            name = PurePosixPath(m.filename)
            if name.is_absolute() or ".." in name.parts or m.filename.startswith(("/", "\\")) or ":" in m.filename:
                raise DownloadError(f"{archive}: refusing unsafe member path {m.filename!r}")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise DownloadError(f"{archive}: refusing member {m.filename!r} (links are not allowed)")
        zf.extractall(tmp, members=members)


def extract_archive(archive: Path, dest_parent: Path, folder: str, required: tuple[str, ...]) -> Path:
    """
    Unpack `folder/` from a .tar.gz (or a .zip) into dest_parent atomically.

    Inputs:
    - archive: the verified .tar.gz, or a .zip (recognised by its content, not its name).
    - dest_parent: where `folder` will appear.
    - folder: the top-level folder the archive holds (e.g. "cifar-10-batches-py").
    - required: files that must be inside `folder` for the extraction to count as complete.

    Returns:
    - dest_parent / folder, which is complete when it exists: the files are extracted into a
      temporary folder beside it first and renamed into place in one step (an existing folder
      there is replaced).
    """
    dest_parent.mkdir(parents=True, exist_ok=True)
    final = dest_parent / folder
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder}-extract-", dir=dest_parent))
    try:
        try:
            if zipfile.is_zipfile(archive):
                _extract_zip(archive, tmp)
            else:
                _extract_tar(archive, tmp)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
            if isinstance(e, DownloadError):
                raise
            raise DownloadError(f"{archive} could not be unpacked ({e}); delete it and download again.") from e
        unpacked = tmp / folder
        absent = [name for name in required if not (unpacked / name).is_file()]
        if absent:
            raise DownloadError(f"{archive} does not hold {folder}/{', '.join(absent)}: not the expected archive.")
        if final.exists():  # replace an older copy: move it aside first, then swap in the new one
            os.replace(final, tmp / "previous")
        os.replace(unpacked, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
