"""Tests of the embedded synthetic CIFAR-like dataset (cs231n.data.synthetic)."""

import numpy as np
import pytest

from cs231n.data.synthetic import SYNTHETIC_CLASSES, SYNTHETIC_VERSION, make_synthetic_cifar

NUM_CLASSES = 10


@pytest.fixture(scope="module")
def data():
    """A moderate split, shared by the statistical tests: (X_train, y_train, X_test, y_test)."""
    return make_synthetic_cifar(3000, 1000, seed=0)


def _mean_colour_ncm(X_train, y_train, X_test, y_test, classes):
    """Accuracy of a nearest-class-mean classifier on mean RGB colour, restricted to `classes`."""
    keep_tr, keep_te = np.isin(y_train, classes), np.isin(y_test, classes)
    f_tr = X_train[keep_tr].reshape(keep_tr.sum(), -1, 3).mean(1)
    f_te = X_test[keep_te].reshape(keep_te.sum(), -1, 3).mean(1)
    ytr, yte = y_train[keep_tr], y_test[keep_te]
    means = np.stack([f_tr[ytr == c].mean(0) for c in classes])
    pred = np.asarray(classes)[np.argmin(((f_te[:, None] - means[None]) ** 2).sum(-1), 1)]
    return float(np.mean(pred == yte))


def test_metadata():
    assert isinstance(SYNTHETIC_VERSION, str) and SYNTHETIC_VERSION
    assert len(SYNTHETIC_CLASSES) == NUM_CLASSES
    assert len(set(SYNTHETIC_CLASSES)) == NUM_CLASSES
    assert all(isinstance(name, str) and name for name in SYNTHETIC_CLASSES)


def test_shapes_dtypes_and_label_range():
    X_train, y_train, X_test, y_test = make_synthetic_cifar(123, 45, seed=3)
    assert X_train.shape == (123, 32, 32, 3) and X_test.shape == (45, 32, 32, 3)
    assert X_train.dtype == np.uint8 and X_test.dtype == np.uint8
    assert y_train.shape == (123,) and y_test.shape == (45,)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    for y in (y_train, y_test):
        assert y.min() >= 0 and y.max() < NUM_CLASSES


def test_empty_splits_and_bad_sizes():
    X_train, y_train, X_test, y_test = make_synthetic_cifar(0, 7, seed=0)
    assert X_train.shape == (0, 32, 32, 3) and y_train.shape == (0,)
    assert X_test.shape == (7, 32, 32, 3)
    with pytest.raises(ValueError):
        make_synthetic_cifar(-1, 5)


def test_deterministic_per_seed():
    a = make_synthetic_cifar(250, 60, seed=7)
    b = make_synthetic_cifar(250, 60, seed=7)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_different_seeds_differ():
    a = make_synthetic_cifar(200, 50, seed=0)
    b = make_synthetic_cifar(200, 50, seed=1)
    assert not np.array_equal(a[0], b[0])
    assert not np.array_equal(a[2], b[2])
    assert not np.array_equal(a[1], b[1])  # label order is shuffled per seed too
    # Not merely a few pixels: most images differ substantially.
    diff = np.abs(a[0].astype(int) - b[0].astype(int)).mean(axis=(1, 2, 3))
    assert np.mean(diff > 10) > 0.95


def test_test_split_independent_of_train_size():
    _, _, X_test_a, y_test_a = make_synthetic_cifar(100, 40, seed=5)
    _, _, X_test_b, y_test_b = make_synthetic_cifar(350, 40, seed=5)
    assert np.array_equal(X_test_a, X_test_b) and np.array_equal(y_test_a, y_test_b)


@pytest.mark.parametrize("n", [10, 95, 1003])
def test_classes_balanced(n):
    _, y_train, _, y_test = make_synthetic_cifar(n, n // 3, seed=2)
    for y in (y_train, y_test):
        counts = np.bincount(y, minlength=NUM_CLASSES)
        assert counts.sum() == y.shape[0]
        assert counts.max() - counts.min() <= 1


def test_labels_shuffled(data):
    _, y_train, _, _ = data
    assert not np.array_equal(y_train, np.arange(y_train.shape[0]) % NUM_CLASSES)
    assert not np.all(np.diff(y_train) >= 0)


def test_train_and_test_images_differ(data):
    X_train, _, X_test, _ = data
    train_set = {x.tobytes() for x in X_train}
    assert len(train_set) == X_train.shape[0]  # no duplicates within train
    assert not any(x.tobytes() in train_set for x in X_test)
    # Not near-duplicates either: every test image is far (in mean absolute difference) from train.
    a = X_test[:200].reshape(200, -1).astype(np.float32)
    b = X_train.reshape(X_train.shape[0], -1).astype(np.float32)
    d2 = (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None]
    nearest_rms = np.sqrt(np.maximum(d2.min(1), 0) / a.shape[1])
    assert nearest_rms.min() > 10.0


def test_same_distribution_for_train_and_test(data):
    X_train, _, X_test, _ = data
    m_tr = X_train.reshape(-1, 3).mean(0)
    m_te = X_test.reshape(-1, 3).mean(0)
    assert np.abs(m_tr - m_te).max() < 5.0
    s_tr, s_te = X_train.astype(np.float32).std(), X_test.astype(np.float32).std()
    assert abs(s_tr - s_te) < 3.0


def test_pixel_statistics_not_degenerate(data):
    X_train, y_train, _, _ = data
    X = X_train.astype(np.float32)
    # The full dynamic range is used, but not saturated.
    assert X.min() == 0 and X.max() == 255
    saturated = np.mean((X_train == 0) | (X_train == 255))
    assert saturated < 0.1
    assert 60 < X.mean() < 190
    for c in range(NUM_CLASSES):
        Xc = X[y_train == c]
        # Images of a class vary a lot from one to the next (colour, position, background, ...).
        assert Xc.std(axis=0).mean() > 30.0
        # And each image has internal structure (not flat colour fields).
        assert np.median(Xc.std(axis=(1, 2, 3))) > 15.0


def test_mean_colour_alone_is_weak(data):
    """No class is trivially separable by mean colour (bounds set from the measured figures noted)."""
    X_train, y_train, X_test, y_test = data
    acc = _mean_colour_ncm(X_train, y_train, X_test, y_test, list(range(NUM_CLASSES)))
    assert acc < 0.22  # measured 0.146 on this split (chance 0.10)
    worst_pair = max(
        _mean_colour_ncm(X_train, y_train, X_test, y_test, [a, b])
        for a in range(NUM_CLASSES)
        for b in range(a + 1, NUM_CLASSES)
    )
    assert worst_pair < 0.78  # measured 0.69 for the most colour-separable pair (chance 0.5)


def test_labels_carry_signal(data):
    """A nearest-class-mean template on raw pixels beats chance clearly: the classes are learnable."""
    X_train, y_train, X_test, y_test = data
    f_tr = X_train.reshape(X_train.shape[0], -1).astype(np.float32)
    f_te = X_test.reshape(X_test.shape[0], -1).astype(np.float32)
    f_tr -= f_tr.mean(1, keepdims=True)
    f_te -= f_te.mean(1, keepdims=True)
    means = np.stack([f_tr[y_train == c].mean(0) for c in range(NUM_CLASSES)])
    pred = np.argmax(f_te @ means.T - 0.5 * (means**2).sum(1)[None], 1)
    assert np.mean(pred == y_test) > 0.25  # measured 0.351 (chance 0.10)
