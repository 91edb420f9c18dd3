"""Calibrate the embedded synthetic dataset against the course's methods.

Generates the synthetic CIFAR-like dataset (timing it), then measures on it:

1. k-nearest neighbours (k=1, L2, raw pixels, 5000 train / 500 test), as in assignment 1;
2. a linear softmax classifier on mean-subtracted raw pixels (bias trick), trained with minibatch SGD
   on 49000 images, learning rate and regularisation picked on a 1000-image validation split;
3. a small ConvNet (conv-relu-pool x2 - fc), trained a few epochs with PyTorch on the CPU if PyTorch
   is importable (it is not a dependency of the kit); skipped with a note otherwise;
4. a nearest-class-mean classifier on each image's mean colour (a check that colour alone is weak).

The targets (so that methods rank as on CIFAR-10 and none is trivial): kNN roughly 25-50%, linear at
least kNN + 5 points and below 70%, ConvNet at least 80%.

Usage:
    python benchmarks/calibrate_synthetic.py [--seed 0] [--epochs 6] [--write-results]

--write-results replaces the "Synthetic dataset calibration" section of docs/RESULTS.md with the table.
The kNN, linear and mean-colour classifiers here are small NumPy implementations written for this script
only (the kit's students write their own in assignment 1).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import time
from pathlib import Path

import numpy as np

from cs231n.data.synthetic import SYNTHETIC_CLASSES, SYNTHETIC_VERSION, make_synthetic_cifar

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md"
SECTION = "## Synthetic dataset calibration"


def knn_accuracy(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> float:
    """
    1-nearest-neighbour accuracy with L2 distance on raw pixels.

    Inputs:
    - X_train: (N, D) float array; y_train: (N,) labels.
    - X_test: (M, D) float array; y_test: (M,) labels.

    Returns:
    - Accuracy in [0, 1].
    """
    d2 = (X_test**2).sum(1)[:, None] - 2.0 * X_test @ X_train.T + (X_train**2).sum(1)[None, :]
    pred = y_train[np.argmin(d2, axis=1)]
    return float(np.mean(pred == y_test))


def softmax_sgd(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    reg: float,
    iters: int,
    batch: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """
    Train a linear softmax classifier with minibatch SGD.

    Inputs:
    - X: (N, D) features, last column the constant 1 (bias trick).
    - y: (N,) labels in [0, C).
    - lr: learning rate; reg: L2 regularisation strength; iters: SGD steps; batch: minibatch size.
    - seed: seed of the minibatch sampling and the initial weights.

    Returns:
    - W: (D, C) weights.
    """
    rng = np.random.default_rng(seed)
    num_classes = int(y.max()) + 1
    W = 1e-4 * rng.standard_normal((X.shape[1], num_classes)).astype(X.dtype)
    for _ in range(iters):
        idx = rng.integers(0, X.shape[0], batch)
        xb, yb = X[idx], y[idx]
        scores = xb @ W
        scores -= scores.max(1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(1, keepdims=True)
        p[np.arange(batch), yb] -= 1.0
        grad = xb.T @ p / batch + 2.0 * reg * W
        W -= lr * grad
    return W


def linear_experiment(X_train, y_train, X_test, y_test, iters: int) -> dict:
    """
    Assignment-1 style linear softmax: 49000 train / 1000 val, mean subtraction, small lr/reg search.

    Inputs:
    - X_train: (N, 32, 32, 3) uint8, N >= 50000; y_train: (N,).
    - X_test: (M, 32, 32, 3) uint8; y_test: (M,).
    - iters: SGD iterations per setting.

    Returns:
    - dict with the best lr, reg, validation and test accuracy and the training time.
    """
    Xtr = X_train[:49000].reshape(49000, -1).astype(np.float32)
    Xval = X_train[49000:50000].reshape(1000, -1).astype(np.float32)
    Xte = X_test.reshape(X_test.shape[0], -1).astype(np.float32)
    mean = Xtr.mean(0)

    def prep(A):
        return np.hstack([A - mean, np.ones((A.shape[0], 1), np.float32)])

    Xtr, Xval, Xte = prep(Xtr), prep(Xval), prep(Xte)
    ytr, yval = y_train[:49000], y_train[49000:50000]
    best = None
    t0 = time.perf_counter()
    for lr in (1e-7, 3e-7, 1e-6):
        for reg in (1e2, 1e3, 1e4):
            W = softmax_sgd(Xtr, ytr, lr, reg, iters)
            val = float(np.mean(np.argmax(Xval @ W, 1) == yval))
            if best is None or val > best["val"]:
                best = {"lr": lr, "reg": reg, "val": val, "W": W}
    W = best.pop("W")
    best["test"] = float(np.mean(np.argmax(Xte @ W, 1) == y_test))
    best["train"] = float(np.mean(np.argmax(Xtr @ W, 1) == ytr))
    best["seconds"] = time.perf_counter() - t0
    best["iters"] = iters
    return best


def mean_colour_accuracy(X_train, y_train, X_test, y_test) -> float:
    """
    Nearest-class-mean classifier on each image's mean RGB colour.

    Inputs:
    - X_train: (N, 32, 32, 3) uint8; y_train: (N,); X_test: (M, 32, 32, 3) uint8; y_test: (M,).

    Returns:
    - Test accuracy in [0, 1].
    """
    f_tr = X_train.reshape(X_train.shape[0], -1, 3).mean(1)
    f_te = X_test.reshape(X_test.shape[0], -1, 3).mean(1)
    means = np.stack([f_tr[y_train == c].mean(0) for c in range(len(SYNTHETIC_CLASSES))])
    pred = np.argmin(((f_te[:, None, :] - means[None]) ** 2).sum(-1), 1)
    return float(np.mean(pred == y_test))


def convnet_experiment(X_train, y_train, X_test, y_test, epochs: int, seed: int) -> dict | None:
    """
    Train a small ConvNet with PyTorch on the CPU: conv3x3(32)-relu-pool - conv3x3(64)-relu-pool - fc.

    Inputs:
    - X_train: (N, 32, 32, 3) uint8; y_train: (N,); X_test: (M, 32, 32, 3) uint8; y_test: (M,).
    - epochs: passes over the training set; seed: torch seed.

    Returns:
    - dict with framework, epochs, train seconds, test accuracy; None when PyTorch is missing.
    """
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)

    def to_tensor(X):
        t = torch.from_numpy(X).permute(0, 3, 1, 2).float().div_(255.0)
        return t

    xtr, xte = to_tensor(X_train), to_tensor(X_test)
    mean = xtr.mean((0, 2, 3), keepdim=True)
    std = xtr.std((0, 2, 3), keepdim=True)
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    ytr, yte = torch.from_numpy(y_train), torch.from_numpy(y_test)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    history = []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0])
        for i in range(0, xtr.shape[0], 128):
            idx = perm[i : i + 128]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        history.append(_torch_accuracy(model, xte, yte)[0])
        print(f"  ConvNet epoch {len(history)}: test {100 * history[-1]:.1f}%", flush=True)
    seconds = time.perf_counter() - t0
    return {
        "framework": f"PyTorch {torch.__version__} (CPU, {torch.get_num_threads()} threads)",
        "epochs": epochs,
        "seconds": seconds,
        "test": history[-1],
        "history": history,
        "train": _torch_accuracy(model, xtr[:10000], ytr[:10000])[0],
        "per_class": _torch_accuracy(model, xte, yte)[1],
    }


def _torch_accuracy(model, x, y) -> tuple[float, np.ndarray]:
    """
    Accuracy of a torch model, evaluated in batches.

    Inputs:
    - model: torch module; x: tensor (N, 3, 32, 32); y: tensor (N,) of labels.

    Returns a tuple of:
    - accuracy in [0, 1];
    - per-class accuracy, array of shape (10,).
    """
    import torch

    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, x.shape[0], 1000)]).numpy()
    y = y.numpy()
    per_class = np.array([np.mean(pred[y == c] == c) for c in range(len(SYNTHETIC_CLASSES))])
    return float(np.mean(pred == y)), per_class


def build_table(r: dict) -> str:
    """Format the measured results as the Markdown body of the RESULTS.md section."""
    lin, cnn = r["linear"], r["convnet"]
    lines = [
        f"Measured by `benchmarks/calibrate_synthetic.py --seed {r['seed']}` on {r['date']}, machine: "
        f"{r['machine']}. SYNTHETIC_VERSION {SYNTHETIC_VERSION}; classes: {', '.join(SYNTHETIC_CLASSES)}.",
        "",
        f"Generation of 60,000 images (50,000 train + 10,000 test): {r['gen_seconds']:.1f} s wall, "
        f"{r['gen_cpu']:.1f} s CPU, one process (NumPy, single-threaded rendering).",
        "",
        "| method | protocol | synthetic (this kit) | CIFAR-10 reference |",
        "|---|---|---|---|",
        f"| kNN, k=1, L2, raw pixels | 5000 train / 500 test | {100 * r['knn']:.1f}% | ~27% |",
        f"| linear softmax, raw pixels, mean-subtracted | 49000 train, SGD {lin['iters']} iters x batch 200, "
        f"lr {lin['lr']:g}, reg {lin['reg']:g} (best of 3x3 on 1000 val) | "
        f"{100 * lin['test']:.1f}% test ({100 * lin['val']:.1f}% val) | ~38-40% |",
    ]
    if cnn is None:
        lines.append("| small ConvNet | not run: PyTorch not importable | n/a | 65-80% |")
    else:
        lines.append(
            f"| small ConvNet conv3x3(32)-relu-pool-conv3x3(64)-relu-pool-fc | 50000 train, Adam 1e-3, "
            f"batch 128, {cnn['epochs']} epochs, {cnn['framework']}, {cnn['seconds']:.0f} s | "
            f"{100 * cnn['test']:.1f}% test | 65-80% |"
        )
    lines += [
        f"| nearest class mean on mean colour (sanity) | 50000 train / 10000 test | "
        f"{100 * r['mean_colour']:.1f}% | n/a |",
        "",
        "Chance is 10%. Targets: kNN 25-50%, linear >= kNN + 5 points and < 70%, ConvNet >= 80%.",
    ]
    if cnn is not None:
        hist = ", ".join(f"{100 * a:.1f}" for a in cnn["history"])
        per = ", ".join(f"{n} {100 * a:.0f}" for n, a in zip(SYNTHETIC_CLASSES, cnn["per_class"], strict=True))
        lines.append(f"ConvNet test accuracy after each epoch (%): {hist}. Per class (%): {per}.")
    return "\n".join(lines) + "\n"


def write_results(body: str) -> None:
    """Replace the body of the synthetic-calibration section of docs/RESULTS.md (up to the next '## ')."""
    text = RESULTS.read_text()
    pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"section {SECTION!r} not found in {RESULTS}")
    RESULTS.write_text(pattern.sub(lambda _: f"{SECTION}\n\n{body}", text, count=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=8, help="ConvNet epochs")
    parser.add_argument("--linear-iters", type=int, default=1500, help="SGD iterations per lr/reg setting")
    parser.add_argument("--no-convnet", action="store_true", help="skip the ConvNet")
    parser.add_argument("--write-results", action="store_true", help="write the table into docs/RESULTS.md")
    args = parser.parse_args()

    r: dict = {"seed": args.seed, "date": datetime.date.today().isoformat()}
    r["machine"] = f"{os.cpu_count()} vCPU {platform.machine()}, NumPy {np.__version__}"
    t0, c0 = time.perf_counter(), time.process_time()
    X_train, y_train, X_test, y_test = make_synthetic_cifar(50000, 10000, seed=args.seed)
    r["gen_seconds"], r["gen_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    print(f"generated 60,000 images in {r['gen_seconds']:.1f} s wall ({r['gen_cpu']:.1f} s CPU)", flush=True)

    f32 = np.float32
    r["knn"] = knn_accuracy(
        X_train[:5000].reshape(5000, -1).astype(f32),
        y_train[:5000],
        X_test[:500].reshape(500, -1).astype(f32),
        y_test[:500],
    )
    print(f"kNN k=1 (5000/500): {100 * r['knn']:.1f}%")
    r["mean_colour"] = mean_colour_accuracy(X_train, y_train, X_test, y_test)
    print(f"mean-colour nearest class mean: {100 * r['mean_colour']:.1f}%")
    r["linear"] = linear_experiment(X_train, y_train, X_test, y_test, args.linear_iters)
    lin = r["linear"]
    print(
        f"linear softmax: test {100 * lin['test']:.1f}% val {100 * lin['val']:.1f}% "
        f"train {100 * lin['train']:.1f}% (lr {lin['lr']:g}, reg {lin['reg']:g}, {lin['seconds']:.0f} s)"
    )
    r["convnet"] = None
    if not args.no_convnet:
        r["convnet"] = convnet_experiment(X_train, y_train, X_test, y_test, args.epochs, args.seed)
        cnn = r["convnet"]
        if cnn is None:
            print("ConvNet: skipped (PyTorch not importable)")
        else:
            print(
                f"ConvNet ({cnn['framework']}, {cnn['epochs']} epochs, {cnn['seconds']:.0f} s): "
                f"test {100 * cnn['test']:.1f}% train {100 * cnn['train']:.1f}% "
                f"per epoch {[round(100 * a, 1) for a in cnn['history']]} "
                f"per class {np.round(100 * cnn['per_class']).astype(int).tolist()}"
            )
    body = build_table(r)
    print()
    print(body)
    if args.write_results:
        write_results(body)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
