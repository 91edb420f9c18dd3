"""Command line of the pretrained weights.

    python -m cs231n.pretrained info [--path PATH]

Prints what a weights file holds (default: the shipped one, checked against its digest file). The
weights are (re)trained from the course repository, not from this package, because the model code is
built from assignment 2's solutions: `cd assignment3 && python -m given.train_classifier` (see
assignment3/given/train_classifier.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import TRAIN_COMMAND, WeightsError, file_sha256, load_metadata, weights_path


def cmd_info(args: argparse.Namespace) -> int:
    """
    Print the metadata of a weights file.

    Inputs:
    - args: the parsed command line (args.path: a weights file, or None for the shipped one)

    Returns:
    - int: the exit status (1 when the file is missing, corrupt or not the pinned version)
    """
    path = Path(args.path) if args.path else weights_path()
    try:
        meta = load_metadata(args.path)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    arch, prep, train, acc = meta["architecture"], meta["preprocessing"], meta["training"], meta["accuracy"]
    print(f"file: {path} ({path.stat().st_size} bytes), SHA-256 {file_sha256(path)}")
    print(f"architecture: {arch['description']}")
    print(f"parameters: {arch['parameters']} (float32); model code: {arch['model_code']}")
    print(f"preprocessing: mean {prep['pixel_mean']}, std {prep['pixel_std']} ({prep['computed_on']})")
    print(
        f"training: {train['epochs']} epochs, batch {train['batch_size']}, {train['optimizer']} lr "
        f"{train['learning_rate']}, {train['seconds']} s; {train['augmentation']}"
    )
    print(
        f"accuracy on {acc['dataset']}: val {acc['val']:.4f} ({acc['val_images']} images), "
        f"test {acc['test']:.4f} ({acc['test_images']} images)"
    )
    print(f"date: {meta.get('date', '?')}; command: {meta.get('command', '?')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of `python -m cs231n.pretrained`.

    Inputs:
    - argv: arguments without the program name; default sys.argv[1:]

    Returns:
    - int: the exit status
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:  # the command of earlier versions: say where it went
        print(f"error: the weights are trained from the course repository now: {TRAIN_COMMAND}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m cs231n.pretrained", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="print what a weights file holds (default: the shipped one)")
    p_info.add_argument("--path", help="a weights file other than the shipped one (its digest is not checked)")
    args = parser.parse_args(argv)
    return cmd_info(args)


if __name__ == "__main__":
    sys.exit(main())
