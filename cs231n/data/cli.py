"""Pieces shared by the data command lines (`python -m cs231n.data`, `python -m cs231n.captioning`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import DatasetError


def add_download_options(parser: argparse.ArgumentParser, archive: str, url_default: str) -> None:
    """The options every `download` sub-command takes: where, from where, force, keep, quiet."""
    parser.add_argument("--dir", type=Path, default=None, help="data dir (default: CS231N_DATA_DIR or cs231n/datasets)")
    parser.add_argument("--url", default=None, help=f"archive URL (default: {url_default})")
    parser.add_argument("--force", action="store_true", help="fetch and unpack again even if present")
    parser.add_argument("--keep-archive", action="store_true", help=f"keep the {archive} after unpacking")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run_command(command: Callable[[], object]) -> int:
    """
    Run one sub-command and turn the data layer's errors into an exit code with a one-line message.

    Returns:
    - int: 0 on success, 1 on a DatasetError (its message printed), 130 when interrupted.
    """
    try:
        command()
        return 0
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume the download", file=sys.stderr)
        return 130
