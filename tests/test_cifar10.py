"""The CIFAR-10 loader: the official python-batch format, its errors, and (when available) real data.

Real CIFAR-10 tests run when env CS231N_CIFAR10_DIR points at a `cifar-10-batches-py` folder
(.ci/run sets it); they are skipped only when that variable is unset.
"""

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from cs231n.data import (
    CIFAR10_CLASSES,
    DOWNLOAD_COMMAND,
    DatasetError,
    DatasetFormatError,
    DatasetNotFoundError,
    load_cifar10,
    load_cifar10_batch,
    load_cifar10_uint8,
)

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class Py2StylePickler(pickle._Pickler):
    """Writes bytes as Python 2 `str` opcodes and NumPy globals under `numpy.core`, like the
    official files (pickled by Python 2 with NumPy 1.x)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes_as_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes_as_py2_str

    def save_global(self, obj, name=None):
        module = getattr(obj, "__module__", "")
        if module.startswith("numpy._core"):
            module = "numpy.core" + module[len("numpy._core") :]
            self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
            self.memoize(obj)
            return
        super().save_global(obj, name)


def write_batch(path, data, labels, style="py2"):
    """Write one batch dict ({b"data": (N, 3072) uint8, b"labels": list}) in the official format."""
    batch = {b"batch_label": b"testing batch", b"data": data, b"labels": [int(v) for v in labels]}
    with open(path, "wb") as f:
        if style == "py2":
            Py2StylePickler(f, protocol=2).dump(batch)
        else:  # Python 3, protocol 2: bytes keys are pickled through _codecs.encode
            pickle.dump(batch, f, protocol=2)


def make_fake_cifar(root, n_train=4, n_test=3, seed=0, style="py2"):
    """A complete cifar-10-batches-py folder with tiny batches; returns the raw rows and labels."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    raw = {}
    for name in BATCHES:
        n = n_test if name == "test_batch" else n_train
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        write_batch(root / name, data, labels, style)
        raw[name] = (data, labels)
    return raw


def test_class_names():
    assert CIFAR10_CLASSES[0] == "airplane" and CIFAR10_CLASSES[9] == "truck"
    assert len(CIFAR10_CLASSES) == 10 == len(set(CIFAR10_CLASSES))


@pytest.mark.parametrize("style", ["py2", "py3"])
def test_batch_layout(tmp_path, style):
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, size=(7, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7)
    write_batch(tmp_path / "b", data, labels, style)
    X, y = load_cifar10_batch(tmp_path / "b")
    assert X.shape == (7, 32, 32, 3) and X.dtype == np.uint8
    assert y.dtype == np.int64 and np.array_equal(y, labels)
    # Row i holds 1024 red values, then 1024 green, then 1024 blue, each plane row-major.
    for i, r, c, ch in [(0, 0, 0, 0), (3, 5, 17, 1), (6, 31, 31, 2), (2, 0, 31, 2)]:
        assert X[i, r, c, ch] == data[i, ch * 1024 + r * 32 + c]


def test_py2_pickle_really_has_str_keys(tmp_path):
    """The test writer produces Python 2 str opcodes (not _codecs calls), as the official files do."""
    write_batch(tmp_path / "b", np.zeros((1, 3072), np.uint8), [0], "py2")
    blob = (tmp_path / "b").read_bytes()
    assert b"_codecs" not in blob and b"numpy.core.multiarray" in blob
    with open(tmp_path / "b", "rb") as f:
        assert "data" in pickle.load(f, encoding="latin1")


def test_load_cifar10_concatenates_in_order(tmp_path):
    raw = make_fake_cifar(tmp_path / "cifar-10-batches-py", n_train=4, n_test=3)
    X_train, y_train, X_test, y_test = load_cifar10(tmp_path / "cifar-10-batches-py")
    assert X_train.shape == (20, 32, 32, 3) and X_test.shape == (3, 32, 32, 3)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    expected = np.concatenate([raw[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert np.array_equal(X_train, expected.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert np.array_equal(y_train, np.concatenate([raw[f"data_batch_{i}"][1] for i in range(1, 6)]))
    assert np.array_equal(X_test.reshape(3, -1, 3).transpose(0, 2, 1).reshape(3, -1), raw["test_batch"][0])
    Xu, yu, Xtu, ytu = load_cifar10_uint8(tmp_path / "cifar-10-batches-py")
    assert Xu.dtype == np.uint8 and np.array_equal(Xu, X_train) and np.array_equal(ytu, y_test)


def test_default_root_from_env(tmp_path, monkeypatch):
    make_fake_cifar(tmp_path / "data" / "cifar-10-batches-py", n_train=2, n_test=2, seed=3)
    make_fake_cifar(tmp_path / "elsewhere", n_train=1, n_test=1, seed=4)
    monkeypatch.delenv("CS231N_CIFAR10_DIR", raising=False)
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path / "data"))
    assert load_cifar10()[0].shape[0] == 10
    monkeypatch.setenv("CS231N_CIFAR10_DIR", str(tmp_path / "elsewhere"))  # takes precedence
    assert load_cifar10()[0].shape[0] == 5


def test_missing_folder_names_the_download_command(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_cifar10(tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DatasetError)
    assert DOWNLOAD_COMMAND in str(info.value) and "nowhere" in str(info.value)


def test_missing_batch_file(tmp_path):
    make_fake_cifar(tmp_path)
    os.remove(tmp_path / "data_batch_4")
    with pytest.raises(DatasetNotFoundError, match="data_batch_4") as info:
        load_cifar10(tmp_path)
    assert DOWNLOAD_COMMAND in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="data_batch_4"):
        load_cifar10_batch(tmp_path / "data_batch_4")


@pytest.mark.parametrize("keep", [0, 10, 200, 5000])
def test_truncated_file(tmp_path, keep):
    make_fake_cifar(tmp_path)
    path = tmp_path / "data_batch_2"
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(DatasetFormatError) as info:
        load_cifar10(tmp_path)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert str(path) in message and "truncated" in message and '"data"' in message


def foreign(tmp_path, obj, name="data_batch_1"):
    make_fake_cifar(tmp_path)
    with open(tmp_path / name, "wb") as f:
        pickle.dump(obj, f, protocol=2)
    with pytest.raises(DatasetFormatError) as info:
        load_cifar10(tmp_path)
    assert str(tmp_path / name) in str(info.value)
    return str(info.value)


def test_foreign_wrong_keys(tmp_path):
    message = foreign(tmp_path, {b"images": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})
    assert "'data'" in message and "images" in message


def test_foreign_wrong_shape(tmp_path):
    message = foreign(tmp_path, {b"data": np.zeros((2, 784), np.uint8), b"labels": [0, 1]}, "test_batch")
    assert "(2, 784)" in message and "3072" in message


def test_foreign_wrong_dtype_labels_and_type(tmp_path):
    assert "uint8" in foreign(tmp_path, {"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]})
    assert "0..9" in foreign(tmp_path, {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]})
    assert "one label per image" in foreign(tmp_path, {"data": np.zeros((2, 3072), np.uint8), "labels": [0]})
    assert "not a dict" in foreign(tmp_path, [1, 2, 3])


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_pickle_with_other_globals_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = foreign(tmp_path, {b"data": Evil(), b"labels": [0]})
    assert "not allowed" in message and not (tmp_path / "pwned.txt").exists()


# ------------------------------------------------------------------------------------------------
# Real CIFAR-10 (env CS231N_CIFAR10_DIR)
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_cifar():
    root = os.environ.get("CS231N_CIFAR10_DIR")
    if not root:
        pytest.skip("real CIFAR-10 not configured: set CS231N_CIFAR10_DIR to a cifar-10-batches-py folder")
    return load_cifar10(root)


@pytest.mark.slow
def test_real_cifar10_shapes_and_labels(real_cifar):
    X_train, y_train, X_test, y_test = real_cifar
    assert X_train.shape == (50000, 32, 32, 3) and X_test.shape == (10000, 32, 32, 3)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.shape == (50000,) and y_test.shape == (10000,)
    assert np.array_equal(np.bincount(y_train, minlength=10), np.full(10, 5000))
    assert np.array_equal(np.bincount(y_test, minlength=10), np.full(10, 1000))
    assert X_train.min() == 0 and X_train.max() == 255
    assert np.array_equal(X_train[:100], np.round(X_train[:100]))  # whole pixel values


@pytest.mark.slow
def test_real_cifar10_knn_k1(real_cifar):
    """Nearest neighbour on raw pixels (5000 train / 500 test): about 27% on the official data."""
    X_train, y_train, X_test, y_test = real_cifar
    tr = X_train[:5000].reshape(5000, -1)
    te = X_test[:500].reshape(500, -1)
    d2 = (te**2).sum(1)[:, None] + (tr**2).sum(1)[None, :] - 2 * te @ tr.T
    accuracy = np.mean(y_train[:5000][np.argmin(d2, axis=1)] == y_test[:500])
    assert accuracy >= 0.24
