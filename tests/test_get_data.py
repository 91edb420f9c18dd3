"""get_cifar10_data: the standard split, preprocessing, and the dataset policy (auto / forced / missing).

CIFAR-10 is replaced by tiny batches written in the official format, and the synthetic generator by
a fast stand-in (except in one integration test), so the split logic is checked exactly and quickly.
"""

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import cs231n.data.dataset as ds
import cs231n.data.synthetic as synthetic
from cs231n.data import (
    CIFAR10_CLASSES,
    DOWNLOAD_COMMAND,
    DatasetNotFoundError,
    get_cifar10_data,
    load_cifar10,
    load_dataset,
)
from cs231n.data.__main__ import main as data_main

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
N_PER_BATCH, N_TEST = 60, 40  # 300 training images, 40 test images
SMALL = dict(num_training=200, num_validation=50, num_test=30, num_dev=20)


def write_fake_cifar(root, seed=0):
    """Tiny batches in the official format (pickle protocol 2, bytes keys, (N, 3072) uint8 rows)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name in BATCHES:
        n = N_TEST if name == "test_batch" else N_PER_BATCH
        batch = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": list(rng.integers(0, 10, n)),
        }
        with open(root / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return root


class FakeGenerator:
    """Stands in for make_synthetic_cifar: fast, deterministic in seed, and counts its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, num_train, num_test, seed=0):
        self.calls.append((num_train, num_test, seed))
        rng = np.random.default_rng(seed)
        X = rng.integers(0, 256, (num_train + num_test, 32, 32, 3), dtype=np.uint8)
        y = np.arange(num_train + num_test) % 10
        return X[:num_train], y[:num_train], X[num_train:], y[num_train:]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty data dir, no CIFAR-10, no forced dataset, small synthetic sizes, fake generator."""
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CS231N_CIFAR10_DIR", raising=False)
    monkeypatch.delenv("CS231N_DATASET", raising=False)
    monkeypatch.setattr(ds, "SYNTHETIC_SIZES", (300, 40))
    fake = FakeGenerator()
    monkeypatch.setattr(synthetic, "make_synthetic_cifar", fake)
    return tmp_path, fake


@pytest.fixture
def fake_cifar(env, monkeypatch):
    tmp_path, _ = env
    root = write_fake_cifar(tmp_path / "data" / "cifar-10-batches-py")
    return root


def test_split_contents_are_exact(fake_cifar, capsys):
    X_all, y_all, X_test_all, y_test_all = load_cifar10(fake_cifar)
    data = get_cifar10_data(**SMALL)
    assert data["dataset"] == "cifar10" and data["class_names"] == list(CIFAR10_CLASSES)
    assert capsys.readouterr().out == ""  # no notice when CIFAR-10 is there

    mean = X_all[:200].mean(axis=0)
    expected = {
        "train": (X_all[:200], y_all[:200]),
        "val": (X_all[200:250], y_all[200:250]),  # right after the training images
        "test": (X_test_all[:30], y_test_all[:30]),
    }
    for split, (X, y) in expected.items():
        got = data[f"X_{split}"]
        assert got.shape == (len(y), 3, 32, 32) and got.dtype == np.float64 and got.flags.c_contiguous
        assert np.allclose(got, (X - mean).transpose(0, 3, 1, 2))
        assert data[f"y_{split}"].dtype == np.int64 and np.array_equal(data[f"y_{split}"], y)
    assert np.abs(data["X_train"].mean(axis=0)).max() < 1e-9


def test_dev_is_a_fixed_subset_of_train(fake_cifar):
    data = get_cifar10_data(**SMALL)
    X_dev, y_dev = data["X_dev"], data["y_dev"]
    assert X_dev.shape == (20, 3, 32, 32) and y_dev.shape == (20,) and X_dev.dtype == np.float64
    flat_train = data["X_train"].reshape(200, -1)
    idx = [int(np.flatnonzero((flat_train == x.ravel()).all(axis=1))[0]) for x in X_dev]
    assert len(set(idx)) == 20  # distinct training images
    assert np.array_equal(y_dev, data["y_train"][idx])
    again = get_cifar10_data(**SMALL)
    assert np.array_equal(again["X_dev"], X_dev)  # fixed seed


def test_channels_last_and_no_mean(fake_cifar):
    X_all = load_cifar10(fake_cifar)[0]
    data = get_cifar10_data(subtract_mean=False, channels_first=False, **SMALL)
    assert data["X_train"].shape == (200, 32, 32, 3) and data["X_dev"].shape == (20, 32, 32, 3)
    assert np.array_equal(data["X_val"], X_all[200:250]) and data["X_val"].dtype == np.float64
    # channels_first without mean subtraction: the raw pixels in (3, 32, 32) order.
    assert np.array_equal(get_cifar10_data(subtract_mean=False, **SMALL)["X_train"][0], X_all[0].transpose(2, 0, 1))


def test_split_size_errors(fake_cifar):
    with pytest.raises(ValueError, match="exceeds"):
        get_cifar10_data(num_training=280, num_validation=50)
    with pytest.raises(ValueError, match="num_test"):
        get_cifar10_data(num_training=10, num_validation=10, num_test=41, num_dev=5)
    with pytest.raises(ValueError, match="num_dev"):
        get_cifar10_data(num_training=10, num_validation=10, num_test=10, num_dev=11)


def test_auto_falls_back_to_synthetic_with_one_line_on_stdout(env, capsys):
    data = get_cifar10_data(**SMALL)
    captured = capsys.readouterr()
    assert data["dataset"] == "synthetic"
    assert captured.err == ""  # graded notebook cells must not write to stderr
    lines = captured.out.splitlines()
    assert len(lines) == 1 and DOWNLOAD_COMMAND in lines[0] and "synthetic" in lines[0]
    assert data["X_train"].shape == (200, 3, 32, 32) and np.abs(data["X_train"].mean(axis=0)).max() < 1e-9


def test_explicit_synthetic_prints_nothing(env, capsys):
    assert get_cifar10_data(dataset="synthetic", **SMALL)["dataset"] == "synthetic"
    assert capsys.readouterr().out == ""


def test_forced_cifar10_when_absent(env, monkeypatch):
    with pytest.raises(DatasetNotFoundError, match=DOWNLOAD_COMMAND):
        get_cifar10_data(dataset="cifar10", **SMALL)
    monkeypatch.setenv("CS231N_DATASET", "cifar10")  # the env var overrides the argument
    with pytest.raises(DatasetNotFoundError, match="CS231N_DATASET") as info:
        get_cifar10_data(dataset="synthetic", **SMALL)
    assert DOWNLOAD_COMMAND in str(info.value)


def test_env_override_when_cifar_present(fake_cifar, monkeypatch, capsys):
    monkeypatch.setenv("CS231N_DATASET", "synthetic")
    assert get_cifar10_data(dataset="cifar10", **SMALL)["dataset"] == "synthetic"
    monkeypatch.setenv("CS231N_DATASET", "auto")
    assert get_cifar10_data(dataset="synthetic", **SMALL)["dataset"] == "cifar10"
    assert capsys.readouterr().out == ""


def test_cifar10_dir_env_points_at_the_folder(env, monkeypatch):
    tmp_path, _ = env
    root = write_fake_cifar(tmp_path / "somewhere" / "my-cifar")
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(root))
    assert get_cifar10_data(**SMALL)["dataset"] == "cifar10"


def test_unknown_dataset_name(env, monkeypatch):
    with pytest.raises(ValueError, match="mnist"):
        get_cifar10_data(dataset="mnist")
    monkeypatch.setenv("CS231N_DATASET", "imagenet")
    with pytest.raises(ValueError, match="CS231N_DATASET"):
        get_cifar10_data()


def test_load_dataset_raw(fake_cifar):
    X_train, y_train, X_test, y_test = load_dataset("cifar10")
    assert X_train.shape == (300, 32, 32, 3) and X_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert np.array_equal(X_train, load_cifar10(fake_cifar)[0])
    X_train, y_train, X_test, y_test = load_dataset("synthetic")
    assert X_train.shape == (300, 32, 32, 3) and X_test.shape == (40, 32, 32, 3) and X_test.dtype == np.uint8


def test_synthetic_is_cached_and_regenerated_when_corrupt(env, monkeypatch):
    tmp_path, fake = env
    first = load_dataset("synthetic")
    assert fake.calls == [(300, 40, 0)]
    cache = ds.synthetic_cache_path()
    assert cache.parent == tmp_path / "data" and cache.is_dir() and "seed0" in cache.name
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{name}.npy" for name in ds.CACHE_ARRAYS)
    second = load_dataset("synthetic")
    assert fake.calls == [(300, 40, 0)]  # loaded from the cache, not regenerated
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))

    x_file = cache / "X_train.npy"
    x_file.write_bytes(x_file.read_bytes()[:1000])  # truncated: regenerated, then cached again
    third = load_dataset("synthetic")
    assert len(fake.calls) == 2 and all(np.array_equal(a, b) for a, b in zip(first, third, strict=True))
    load_dataset("synthetic")
    assert len(fake.calls) == 2
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temporary or damaged folders left


def test_half_written_synthetic_cache_is_not_used(env):
    """A cache is only read under its final name, which the writer gives a complete folder in one rename:
    a writer's leftover temporary folder is ignored, and a folder missing a file is made again."""
    tmp_path, fake = env
    cache = ds.synthetic_cache_path()
    X_train, y_train, X_test, y_test = FakeGenerator()(300, 40, 0)
    leftover = cache.with_name(f".{cache.name}-abc123.part")  # a writer that died after one file
    leftover.mkdir(parents=True)
    np.save(leftover / "X_train.npy", X_train)
    load_dataset("synthetic")
    assert len(fake.calls) == 1  # not taken for a cache
    shutil.rmtree(cache)
    cache.mkdir()
    for name, array in (("X_train", X_train), ("y_train", y_train), ("X_test", X_test)):  # no y_test.npy
        np.save(cache / f"{name}.npy", array)
    load_dataset("synthetic")
    assert len(fake.calls) == 2 and (cache / "y_test.npy").is_file()


def test_synthetic_cache_is_memory_mapped_read_only(env):
    """The cache is mapped, not read: the arrays are read-only views of its .npy files, equal to what
    np.load reads, and get_cifar10_data still returns writable copies."""
    first = load_dataset("synthetic")
    X_train = load_dataset("synthetic")[0]
    assert isinstance(X_train, np.ndarray) and not X_train.flags.writeable
    assert isinstance(X_train.base, np.memmap)
    assert Path(X_train.base.filename) == ds.synthetic_cache_path() / "X_train.npy"
    for name, array in zip(ds.CACHE_ARRAYS, first, strict=True):
        stored = np.load(ds.synthetic_cache_path() / f"{name}.npy")
        assert np.array_equal(stored, array) and stored.dtype == array.dtype
    data = get_cifar10_data(num_training=20, num_validation=0, num_test=5, num_dev=0, subtract_mean=False,
                            dataset="synthetic")
    assert data["X_train"].flags.writeable and np.array_equal(data["X_train"].transpose(0, 2, 3, 1), first[0][:20])


def test_old_npz_cache_is_ignored_and_named_by_info(env, capsys):
    """A cache of the single-.npz layout is never read; `python -m cs231n.data info` names it for deletion."""
    tmp_path, fake = env
    old = tmp_path / "data" / "synthetic-cifar10-v1-0123abcd-seed0-300-40.npz"
    old.parent.mkdir(parents=True)
    np.savez(old, **dict(zip(ds.CACHE_ARRAYS, FakeGenerator()(300, 40, 0), strict=True)))
    load_dataset("synthetic")
    assert len(fake.calls) == 1 and "layout2" in ds.synthetic_cache_path().name
    capsys.readouterr()
    assert data_main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"synthetic cache: {ds.synthetic_cache_path()}" in out and f"old synthetic cache: {old}" in out


def test_synthetic_cache_is_keyed_by_generator_version(env, monkeypatch):
    _, fake = env
    monkeypatch.setattr(synthetic, "SYNTHETIC_VERSION", "test-a", raising=False)
    path_a = ds.synthetic_cache_path()
    load_dataset("synthetic")
    monkeypatch.setattr(synthetic, "SYNTHETIC_VERSION", "test-b", raising=False)
    assert ds.synthetic_cache_path() != path_a and "test-b" in ds.synthetic_cache_path().name
    load_dataset("synthetic")
    assert len(fake.calls) == 2
    monkeypatch.delattr(synthetic, "SYNTHETIC_VERSION", raising=False)
    assert "-v0-" in ds.synthetic_cache_path().name


def test_default_synthetic_sizes_match_cifar10(tmp_path, monkeypatch):
    """Without the test's small sizes, the generator is asked for CIFAR-10's 50000 / 10000, seed 0."""
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    calls = []

    def spy(num_train, num_test, seed=0):
        calls.append((num_train, num_test, seed))
        return FakeGenerator()(20, 10, seed)

    monkeypatch.setattr(synthetic, "make_synthetic_cifar", spy)
    load_dataset("synthetic")
    assert calls == [(50000, 10000, 0)]


def test_real_synthetic_generator_small(tmp_path, monkeypatch):
    """The real generator (not the stand-in) through the whole pipeline, at a small size."""
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CS231N_DATASET", raising=False)
    monkeypatch.setattr(ds, "SYNTHETIC_SIZES", (120, 40))
    data = get_cifar10_data(num_training=100, num_validation=20, num_test=40, num_dev=10, dataset="synthetic")
    assert data["X_train"].shape == (100, 3, 32, 32) and data["X_test"].shape == (40, 3, 32, 32)
    assert data["X_train"].dtype == np.float64 and data["y_train"].dtype == np.int64
    assert data["y_train"].min() >= 0 and data["y_train"].max() <= 9


@pytest.mark.slow
def test_real_cifar10_default_split(monkeypatch):
    monkeypatch.delenv("CS231N_DATASET", raising=False)
    root = os.environ.get("CS231N_CIFAR10_DIR")
    if not root:
        pytest.skip("real CIFAR-10 not configured: set CS231N_CIFAR10_DIR to a cifar-10-batches-py folder")
    data = get_cifar10_data(dataset="cifar10")
    assert data["dataset"] == "cifar10"
    shapes = {k: data[k].shape for k in data if k.startswith("X_")}
    assert shapes == {
        "X_train": (49000, 3, 32, 32),
        "X_val": (1000, 3, 32, 32),
        "X_test": (1000, 3, 32, 32),
        "X_dev": (500, 3, 32, 32),
    }
    assert np.abs(data["X_train"].mean(axis=0)).max() < 1e-9
    assert set(np.unique(data["y_val"])) == set(range(10))
