"""Command line of the captioning data.

python -m cs231n.captioning download      # fetch and unpack coco_captioning.zip (verified if a checksum is known)
python -m cs231n.captioning synthetic     # generate (or find) the cached synthetic dataset
python -m cs231n.captioning info          # what is present, where, and what "auto" would use
"""

from __future__ import annotations

import argparse
import os
import sys

from cs231n.data.cli import add_download_options, run_command
from cs231n.data.paths import data_dir

from .dataset import DOWNLOAD_COMMAND, coco_dir, coco_present, ensure_synthetic_captions
from .download import download_coco_captioning


def _info() -> int:
    """Print where the captioning data lives and what is there."""
    print(f"data dir:        {data_dir()}" + ("  (CS231N_DATA_DIR)" if os.environ.get("CS231N_DATA_DIR") else ""))
    root = coco_dir()
    if coco_present(root):
        print(f"COCO captioning: present at {root}")
    else:
        print(f"COCO captioning: not present (looked in {root}); run `{DOWNLOAD_COMMAND}`")
    caches = sorted(data_dir().glob("synthetic-captions-*")) if data_dir().is_dir() else []
    for cache in caches:
        print(f"synthetic cache: {cache}")
    if not caches:
        print("synthetic cache: none yet (made on first use)")
    forced = os.environ.get("CS231N_CAPTIONS_DATASET", "").strip()
    auto = "coco" if coco_present(root) else "synthetic"
    print(f"dataset used:    CS231N_CAPTIONS_DATASET={forced}" if forced else f"dataset used:    {auto} (auto)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of `python -m cs231n.captioning`.

    Inputs:
    - argv: arguments without the program name; default sys.argv[1:].

    Returns:
    - int: the process exit code (0 on success, 1 on a data-layer error).
    """
    parser = argparse.ArgumentParser(
        prog="python -m cs231n.captioning",
        description="Fetch, generate and inspect the captioning data.",
        epilog="Environment: CS231N_DATA_DIR, CS231N_COCO_DIR, CS231N_CAPTIONS_DATASET (auto|coco|synthetic), "
        "CS231N_COCO_URL, CS231N_COCO_SHA256, CS231N_COCO_SIZE.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_dl = sub.add_parser("download", help="download and unpack coco_captioning.zip")
    add_download_options(p_dl, ".zip", "CS231N_COCO_URL or the course site")
    p_dl.add_argument("--sha256", default=None, help="expected SHA-256 of the archive (default: CS231N_COCO_SHA256)")
    p_dl.add_argument("--size", type=int, default=None, help="expected size in bytes (default: CS231N_COCO_SIZE)")
    sub.add_parser("synthetic", help="generate the synthetic captioning dataset (cached)")
    sub.add_parser("info", help="show where the data lives and what is present")
    args = parser.parse_args(argv)

    if args.command == "info":
        return _info()
    if args.command == "synthetic":
        return run_command(lambda: print(ensure_synthetic_captions()))
    return run_command(
        lambda: download_coco_captioning(
            dest_dir=args.dir,
            url=args.url,
            size=args.size,
            sha256=args.sha256,
            force=args.force,
            keep_archive=args.keep_archive,
            progress=not args.quiet,
        )
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
