"""Command line of the data layer.

python -m cs231n.data download cifar10     # fetch, verify and unpack the official archive
python -m cs231n.data info                 # what is present, where, and what "auto" would use
python -m cs231n.data --help
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from . import download as dl
from .cli import add_download_options, run_command
from .dataset import CACHE_ARRAYS
from .paths import CIFAR10_BATCH_FILES, DOWNLOAD_COMMAND, cifar10_dir, cifar10_present, data_dir, setting_problems


def _info() -> int:
    """Print where data lives and what is there; problems last, each as a problem (exit status 1)."""
    problems = setting_problems()
    print(f"data dir:       {data_dir()}" + ("  (CS231N_DATA_DIR)" if os.environ.get("CS231N_DATA_DIR") else ""))
    root = cifar10_dir()
    from_env = "  (CS231N_CIFAR10_DIR)" if os.environ.get("CS231N_CIFAR10_DIR") else ""
    if cifar10_present(root):
        mb = sum((root / n).stat().st_size for n in CIFAR10_BATCH_FILES) / 1e6
        print(f"CIFAR-10:       present at {root}{from_env} ({mb:.0f} MB in batch files)")
    else:
        print(f"CIFAR-10:       not present (looked in {root}{from_env}); run `{DOWNLOAD_COMMAND}`")
    part = data_dir() / (dl.CIFAR10_ARCHIVE + ".part")
    if part.is_file():
        print(f"partial download: {part} ({part.stat().st_size / 1e6:.1f} MB; the download command resumes it)")
    found = sorted(data_dir().glob("synthetic-cifar10-*")) if data_dir().is_dir() else []
    caches = [path for path in found if path.is_dir()]
    for cache in caches:
        mb = sum(f.stat().st_size for f in cache.glob("*.npy")) / 1e6
        print(f"synthetic cache: {cache} ({mb:.0f} MB)")
    if not caches:
        print("synthetic cache: none yet (made on first use)")
    for old in (path for path in found if path.suffix == ".npz"):
        print(f"old synthetic cache: {old} (a single .npz, no longer read: delete it to free the space)")
    forced = os.environ.get("CS231N_DATASET", "").strip()
    auto = "cifar10" if cifar10_present(root) else "synthetic"
    if forced:
        print(f"dataset used:   CS231N_DATASET={forced}")
    else:
        print(f"dataset used:   {auto} (dataset='auto'; set CS231N_DATASET to force one)")
    folder = data_dir()
    probe = folder if folder.is_dir() else folder.parent
    if probe.is_dir() and not os.access(probe, os.W_OK):
        problems.append(f"the data folder {folder} is not writable: downloads and the synthetic cache cannot be "
                        f"kept (set CS231N_DATA_DIR to a writable folder)")
    for cache in caches:
        try:
            _ = [np.load(cache / f"{name}.npy", mmap_mode="r").shape for name in CACHE_ARRAYS]
        except Exception as exc:  # noqa: BLE001 - any unreadable cache is a problem to show
            problems.append(f"the synthetic cache {cache} is damaged ({type(exc).__name__}): delete it, it is "
                            f"made again on first use")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of `python -m cs231n.data`.

    Inputs:
    - argv: arguments without the program name; default sys.argv[1:].

    Returns:
    - int: the process exit code (0 on success, 1 on a data-layer error).
    """
    parser = argparse.ArgumentParser(
        prog="python -m cs231n.data",
        description="Fetch and inspect the course datasets.",
        epilog="Environment: CS231N_DATA_DIR (data dir), CS231N_CIFAR10_DIR (an existing "
        "cifar-10-batches-py folder), CS231N_DATASET (auto|cifar10|synthetic), "
        "CS231N_CIFAR10_URL (download mirror).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_dl = sub.add_parser("download", help="download, verify and unpack a dataset")
    p_dl.add_argument("name", choices=["cifar10"], help="dataset to fetch")
    add_download_options(p_dl, ".tar.gz", "CS231N_CIFAR10_URL or the official one")
    sub.add_parser("info", help="show where the data lives and what is present")
    args = parser.parse_args(argv)

    if args.command == "info":
        return _info()
    return run_command(
        lambda: dl.download_cifar10(
            dest_dir=args.dir,
            url=args.url,
            force=args.force,
            keep_archive=args.keep_archive,
            progress=not args.quiet,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
