"""PLACEHOLDER (being replaced): the embedded synthetic CIFAR-like dataset."""

import numpy as np


def make_synthetic_cifar(num_train, num_test, seed=0):
    rng = np.random.default_rng(seed)
    n = num_train + num_test
    y = np.arange(n) % 10
    X = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    return X[:num_train], y[:num_train], X[num_train:], y[num_train:]
