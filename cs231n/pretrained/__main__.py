"""Command line of the pretrained weights.

    python -m cs231n.pretrained info [--path PATH]
    python -m cs231n.pretrained train [--course-dir DIR] [--epochs N] [--out PATH] [--seed S]

`train` imports the model and training code from DIR/assignment3/given (classifier.py and
train_classifier.py; default DIR: the repository this package lives in when it has assignment3/,
else the current directory), trains on real CIFAR-10 (env CS231N_CIFAR10_DIR or
`python -m cs231n.data download cifar10`) and writes the weights file. When it overwrites the shipped
file it also re-pins WEIGHTS_SHA256 in cs231n/pretrained/__init__.py.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import re
import sys
from pathlib import Path

from . import TRAIN_COMMAND, WeightsError, file_sha256, load_metadata, save_weights, weights_path

GIVEN_FILES = ("classifier.py", "train_classifier.py", "layers.py")


def find_course_dir(course_dir: str | None) -> Path:
    """
    The course folder whose assignment3/given holds the model code.

    Inputs:
    - course_dir: the folder given on the command line, or None for the default (the repository
      that holds this package if it has assignment3/, else the current directory)

    Returns:
    - Path of the course folder

    Raises SystemExit with a clear message when assignment3/given lacks the model code.
    """
    if course_dir is not None:
        candidates = [Path(course_dir)]
    else:
        repo = Path(__file__).resolve().parents[2]
        candidates = [repo] if (repo / "assignment3").is_dir() else [Path.cwd()]
    root = candidates[0].resolve()
    given = root / "assignment3" / "given"
    missing = [name for name in GIVEN_FILES if not (given / name).is_file()]
    if missing:
        raise SystemExit(
            f"error: {given} does not hold the model code ({', '.join(missing)} missing). Run "
            f"`{TRAIN_COMMAND} --course-dir DIR` with DIR the course repository (the folder that holds "
            f"assignment3/given/classifier.py), or run it from that folder."
        )
    return root


def _import_trainer(root: Path):
    """given.train_classifier from root/assignment3 (refusing a `given` package imported from elsewhere)."""
    assignment3 = str(root / "assignment3")
    loaded = sys.modules.get("given")
    if loaded is not None and Path(loaded.__file__).resolve().parent != root / "assignment3" / "given":
        raise SystemExit(f"error: a different `given` package is already imported ({loaded.__file__})")
    sys.path.insert(0, assignment3)
    return importlib.import_module("given.train_classifier")


def pin_digest(digest: str) -> None:
    """Rewrite the WEIGHTS_SHA256 line of this package's __init__.py."""
    init = Path(__file__).resolve().parent / "__init__.py"
    text = init.read_text()
    new, count = re.subn(r'^WEIGHTS_SHA256 = "[0-9a-f]{64}"$', f'WEIGHTS_SHA256 = "{digest}"', text, flags=re.M)
    if count != 1:
        raise SystemExit(f"error: could not find the WEIGHTS_SHA256 line in {init}; set it to {digest} by hand")
    init.write_text(new)


def cmd_train(args: argparse.Namespace) -> int:
    root = find_course_dir(args.course_dir)
    trainer = _import_trainer(root)
    out = Path(args.out) if args.out else weights_path()
    print(f"model code: {root / 'assignment3' / 'given'}; weights will be written to {out}")
    arrays, metadata = trainer.train_pretrained(epochs=args.epochs, seed=args.seed)
    metadata["date"] = datetime.date.today().isoformat()
    metadata["command"] = f"{TRAIN_COMMAND} --epochs {args.epochs} --seed {args.seed}"
    digest = save_weights(out, arrays, metadata)
    print(f"wrote {out} ({out.stat().st_size} bytes), SHA-256 {digest}")
    if out.resolve() == weights_path():
        pin_digest(digest)
        print("pinned the new digest in cs231n/pretrained/__init__.py (commit both files)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
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
    parser = argparse.ArgumentParser(prog="python -m cs231n.pretrained", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="print what a weights file holds (default: the shipped one)")
    p_info.add_argument("--path", help="a weights file other than the shipped one (its digest is not checked)")
    p_train = sub.add_parser("train", help="train the classifier on CIFAR-10 and write the weights file")
    p_train.add_argument("--course-dir", help="the course repository (holds assignment3/given/classifier.py)")
    p_train.add_argument("--epochs", type=int, default=8, help="passes over the training set (default 8)")
    p_train.add_argument("--out", help="where to write the weights (default: the shipped file, re-pinned)")
    p_train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.command == "train" and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return cmd_train(args) if args.command == "train" else cmd_info(args)


if __name__ == "__main__":
    sys.exit(main())
