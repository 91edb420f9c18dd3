"""Training of the pretrained CIFAR-10 ConvNet (given code, assignment 3; the instructor runs it once).

    cd assignment3 && python -m given.train_classifier [--epochs N] [--out PATH] [--seed S]

trains with train_pretrained() below on real CIFAR-10 (env CS231N_CIFAR10_DIR or
`python -m cs231n.data download cifar10`) and writes the weights file with its digest file (by
default the shipped cs231n/pretrained/cifar10_convnet.npz; commit both files).

Recipe: the course's standard split (the first 49,000 training images to train, the next 1,000 to
validate, the 10,000 test images to report), per-channel normalisation with the training split's
mean and standard deviation, random horizontal flips and random 32x32 crops of the image padded by
4 pixels of zeros (the mean colour after normalisation), minibatches of 128, Adam with a linear
warm-up and a cosine decay of the learning rate, L2 weight decay, float32 arithmetic.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .classifier import DEFAULT_WIDTHS, ConvNetClassifier, initial_params
from .layers import adam

#: The training recipe of the shipped weights (recorded in the weights' metadata).
RECIPE: dict = {
    "num_training": 49000,
    "num_validation": 1000,
    "batch_size": 128,
    "optimizer": "adam",
    "learning_rate": 2e-3,
    "warmup_iterations": 200,
    "schedule": "linear warm-up, then cosine decay to 0 over all iterations",
    "weight_decay_l2": 5e-4,
    "augmentation": "random horizontal flip; random 32x32 crop of the image zero-padded by 4 pixels",
    "dtype": "float32",
    "init": "He normal (conv), std sqrt(1 / fan_in) (fc), zero biases; seed 0",
}


def augment_batch(X: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """
    Random horizontal flips and random crops (translations by up to `pad` pixels) of a batch.

    Inputs:
    - X: (N, C, H, W) preprocessed images (zero is the mean colour)
    - rng: random generator
    - pad: zeros added on each side before cropping back to H x W

    Returns:
    - X_aug: (N, C, H, W), a new array
    """
    N, C, H, W = X.shape
    flip = rng.random(N) < 0.5
    X = np.where(flip[:, None, None, None], X[:, :, :, ::-1], X)
    padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=X.dtype)
    padded[:, :, pad : pad + H, pad : pad + W] = X
    dy, dx = rng.integers(0, 2 * pad + 1, size=(2, N))
    out = np.empty_like(X)
    for i in range(N):
        out[i] = padded[i, :, dy[i] : dy[i] + H, dx[i] : dx[i] + W]
    return out


def accuracy(model: ConvNetClassifier, X: np.ndarray, y: np.ndarray) -> float:
    """
    Inputs:
    - model: the classifier; X: (N, 3, 32, 32) preprocessed; y: (N,) labels

    Returns:
    - the fraction of correct predictions
    """
    return float(np.mean(model.predict(X) == y))


def train(
    model: ConvNetClassifier,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    epochs: int,
    batch_size: int = RECIPE["batch_size"],
    learning_rate: float = RECIPE["learning_rate"],
    warmup_iterations: int = RECIPE["warmup_iterations"],
    reg: float = RECIPE["weight_decay_l2"],
    augment: bool = True,
    seed: int = 0,
    log: Callable[[str], None] | None = print,
) -> dict[str, list[float]]:
    """
    Train the model's parameters in place with Adam.

    Inputs:
    - model: a ConvNetClassifier (float32 for speed)
    - X_train: (N, 3, 32, 32) preprocessed images, y_train: (N,) labels; X_val, y_val likewise
    - epochs: passes over the training set
    - batch_size, learning_rate, warmup_iterations, reg: see RECIPE
    - augment: random flips and crops (augment_batch)
    - seed: seed of the shuffling and augmentation
    - log: called with one line per epoch (None: silent)

    Returns:
    - history: "loss" (mean training loss per epoch), "val_acc" (per epoch), "epoch_seconds"
    """
    rng = np.random.default_rng(seed)
    N = X_train.shape[0]
    per_epoch = max(1, N // batch_size)  # the last incomplete batch is dropped
    total = epochs * per_epoch
    configs: dict[str, dict] = {k: {"learning_rate": learning_rate} for k in model.params}
    history: dict[str, list[float]] = {"loss": [], "val_acc": [], "epoch_seconds": []}
    step = 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(N)
        losses = []
        for b in range(per_epoch):
            idx = order[b * batch_size : (b + 1) * batch_size]
            X = augment_batch(X_train[idx], rng) if augment else X_train[idx]
            loss, grads = model.loss(X, y_train[idx], reg=reg)
            warm = min(1.0, (step + 1) / warmup_iterations) if warmup_iterations else 1.0
            lr = learning_rate * warm * 0.5 * (1.0 + math.cos(math.pi * step / total))
            for key, w in model.params.items():
                configs[key]["learning_rate"] = lr
                # In place, so that the layers (which hold the params dict) see the new values.
                w[...], configs[key] = adam(w, grads[key], configs[key])
            losses.append(loss)
            step += 1
        seconds = time.perf_counter() - start
        val_acc = accuracy(model, X_val, y_val)
        history["loss"].append(float(np.mean(losses)))
        history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(seconds)
        if log is not None:
            log(
                f"epoch {epoch}/{epochs}: loss {np.mean(losses):.4f}, val acc {val_acc:.3f}, "
                f"lr {lr:.2e}, {seconds:.0f} s"
            )
    return history


def train_pretrained(
    epochs: int = 8,
    seed: int = 0,
    cifar10_root: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[dict[str, np.ndarray], dict]:
    """
    Train the classifier on real CIFAR-10 with RECIPE and measure its accuracy.

    Inputs:
    - epochs: passes over the 49,000 training images
    - seed: seed of the initialisation, shuffling and augmentation
    - cifar10_root: the cifar-10-batches-py folder; default cs231n.data's (env CS231N_CIFAR10_DIR)
    - log: progress lines (None: silent)

    Returns:
    - arrays: float32 parameters plus pixel_mean and pixel_std, for cs231n.pretrained.save_weights
    - metadata: architecture, preprocessing, training recipe and time, accuracies (float64 model
      built from the float32 arrays, i.e. exactly what is shipped)
    """
    from cs231n.data import load_cifar10_uint8

    n_train, n_val = RECIPE["num_training"], RECIPE["num_validation"]
    images, labels, test_images, y_test = load_cifar10_uint8(cifar10_root)
    train_images, y_train = images[:n_train], labels[:n_train]
    val_images, y_val = images[n_train : n_train + n_val], labels[n_train : n_train + n_val]
    pixels = train_images.reshape(-1, 3).astype(np.float64)
    mean, std = pixels.mean(axis=0), pixels.std(axis=0)

    params = initial_params(DEFAULT_WIDTHS, seed=seed, dtype=np.float32)
    model = ConvNetClassifier(params, mean, std, dtype=np.float32)
    X_train, X_val = model.preprocess(train_images), model.preprocess(val_images)
    if log is not None:
        log(f"training on {n_train} CIFAR-10 images for {epochs} epochs ({model!r})")
    start = time.perf_counter()
    history = train(model, X_train, y_train, X_val, y_val, epochs=epochs, seed=seed, log=log)
    train_seconds = time.perf_counter() - start

    arrays = model.state()
    shipped = ConvNetClassifier(arrays, arrays["pixel_mean"], arrays["pixel_std"], dtype=np.float64)
    val_acc = accuracy(shipped, shipped.preprocess(val_images), y_val)
    test_acc = accuracy(shipped, shipped.preprocess(test_images), y_test)
    if log is not None:
        log(f"final: val acc {val_acc:.4f}, test acc {test_acc:.4f}, training {train_seconds:.0f} s")

    c1, c2, c3 = model.widths
    metadata = {
        "architecture": {
            "description": (
                f"conv3x3({c1})-relu-maxpool2x2 - conv3x3({c2})-relu-maxpool2x2 - conv3x3({c3})-relu-maxpool2x2 "
                "- fc(10); convs stride 1 pad 1, pools stride 2; input (N, 3, 32, 32)"
            ),
            "layers": list(model.layer_names),
            "widths": [c1, c2, c3],
            "parameters": int(sum(v.size for v in model.params.values())),
            "model_code": "assignment3/given/classifier.py (ConvNetClassifier)",
        },
        "preprocessing": {
            "pixel_mean": [float(v) for v in arrays["pixel_mean"]],
            "pixel_std": [float(v) for v in arrays["pixel_std"]],
            "formula": "X = (image - pixel_mean) / pixel_std per channel, pixels 0..255, then NHWC -> NCHW",
            "computed_on": f"the first {n_train} CIFAR-10 training images",
        },
        "training": {
            **RECIPE,
            "epochs": epochs,
            "seed": seed,
            "seconds": round(train_seconds, 1),
            "history": {k: [round(v, 4) for v in vals] for k, vals in history.items()},
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, NumPy {np.__version__}",
            "threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        },
        "accuracy": {
            "dataset": "CIFAR-10",
            "val": round(val_acc, 4),
            "val_images": len(y_val),
            "test": round(test_acc, 4),
            "test_images": len(y_test),
        },
    }
    return arrays, metadata


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of `python -m given.train_classifier` (run in assignment3/): train the classifier and
    write the weights file and its digest file.

    Inputs:
    - argv: arguments without the program name; default sys.argv[1:]

    Returns:
    - int: the exit status (0)
    """
    from cs231n.pretrained import TRAIN_COMMAND, save_weights, weights_path

    parser = argparse.ArgumentParser(prog="python -m given.train_classifier", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=8, help="passes over the training set (default 8)")
    parser.add_argument("--out", help="where to write the weights (default: the shipped file of cs231n.pretrained)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    out = Path(args.out) if args.out else weights_path()
    print(f"weights will be written to {out}")
    arrays, metadata = train_pretrained(epochs=args.epochs, seed=args.seed)
    metadata["date"] = datetime.date.today().isoformat()
    metadata["command"] = f"{TRAIN_COMMAND} --epochs {args.epochs} --seed {args.seed}"
    digest = save_weights(out, arrays, metadata)
    print(f"wrote {out} ({out.stat().st_size} bytes), SHA-256 {digest}, and its digest file beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
