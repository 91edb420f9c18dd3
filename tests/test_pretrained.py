"""The pretrained classifier: model code (assignment3/given/classifier.py) and weights (cs231n.pretrained)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "assignment3"))

from given.classifier import (  # noqa: E402
    CIFAR10_CLASSES,
    ConvNetClassifier,
    initial_params,
    load_pretrained_classifier,
)
from given.train_classifier import augment_batch, train  # noqa: E402
from given.train_classifier import main as train_main  # noqa: E402

import cs231n.pretrained as pretrained  # noqa: E402
from cs231n.data import cifar10_present, load_cifar10_batch  # noqa: E402
from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error  # noqa: E402


def _small_model(seed: int = 0, widths=(3, 4, 5)) -> ConvNetClassifier:
    """A float64 model with few channels and random (non-zero) biases."""
    params = initial_params(widths, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    for key in params:
        if key.endswith("_b"):
            params[key] = 0.1 * rng.standard_normal(params[key].shape)
    return ConvNetClassifier(params, pixel_mean=(120.0, 115.0, 100.0), pixel_std=(60.0, 62.0, 65.0))


@pytest.fixture(scope="module")
def model() -> ConvNetClassifier:
    return load_pretrained_classifier()


# ------------------------------------------------------------------------------------------------
# Gradients


@pytest.mark.parametrize("upto", ["pool3", "relu2", "conv1"])
def test_backward_matches_numerical_gradient_conv_part(upto):
    model = _small_model()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 3, 8, 8))
    out, caches = model.forward(X, upto=upto)
    dout = rng.standard_normal(out.shape)
    dX = model.backward(dout, caches)
    num = eval_numerical_gradient_array(lambda x: model.forward(x, upto=upto)[0], X, dout)
    assert dX.shape == X.shape
    assert rel_error(num, dX) < 1e-6


def test_backward_of_scores_matches_numerical_gradient():
    model = _small_model(seed=2)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1, 3, 32, 32))
    scores, caches = model.forward(X)
    dscores = rng.standard_normal(scores.shape)
    dX = model.backward(dscores, caches)
    # Centred differences on a fixed random sample of 150 input entries (all 3072 take too long).
    h = 1e-5
    for flat in rng.choice(X.size, size=150, replace=False):
        ix = np.unravel_index(flat, X.shape)
        old = X[ix]
        X[ix] = old + h
        plus = np.sum(model.forward(X)[0] * dscores)
        X[ix] = old - h
        minus = np.sum(model.forward(X)[0] * dscores)
        X[ix] = old
        num = (plus - minus) / (2 * h)
        assert abs(num - dX[ix]) <= 1e-6 * max(1.0, abs(num)), ix


def test_loss_parameter_gradients_match_numerical_gradients():
    model = _small_model(seed=4, widths=(2, 3, 2))
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 3, 32, 32))
    y = np.array([0, 3, 9])
    reg = 0.05
    _, grads = model.loss(X, y, reg=reg)
    assert set(grads) == set(model.params)
    for key, param in model.params.items():
        num = eval_numerical_gradient(lambda _: model.loss(X, y, reg=reg)[0], param, verbose=False)
        assert grads[key].shape == param.shape
        # Some entries are tiny (saturated softmax), so an absolute floor for finite-difference noise.
        np.testing.assert_allclose(grads[key], num, rtol=1e-5, atol=1e-9, err_msg=key)


# ------------------------------------------------------------------------------------------------
# Forward, layers, pre/deprocessing


def test_forward_upto_is_consistent_with_the_full_forward(model):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((4, 3, 32, 32))
    scores, caches = model.forward(X)
    assert scores.shape == (4, 10) and scores.dtype == np.float64
    assert len(caches) == len(model.layers) == len(model.layer_names)
    out = X
    for i, layer in enumerate(model.layers):
        out, _ = layer.forward(out)
        partial, partial_caches = model.forward(X, upto=layer.name)
        assert len(partial_caches) == i + 1
        np.testing.assert_array_equal(partial, out)
    np.testing.assert_array_equal(out, scores)
    np.testing.assert_allclose(model.scores(X, batch_size=3), scores, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), np.argmax(scores, axis=1))


def test_layers_interface(model):
    assert model.layer_names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                 "conv3", "relu3", "pool3", "fc"]  # fmt: skip
    kinds = [layer.kind for layer in model.layers]
    assert kinds == ["conv", "relu", "pool"] * 3 + ["fc"]
    assert [layer.name for layer in model.layers] == model.layer_names
    assert all(v.dtype == np.float64 for v in model.params.values())
    assert len(CIFAR10_CLASSES) == 10 and CIFAR10_CLASSES[0] == "airplane"
    # Walking the layers by hand (what guided backpropagation does) gives the model's gradient.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 3, 32, 32))
    scores, caches = model.forward(X)
    dscores = rng.standard_normal(scores.shape)
    d = dscores
    for layer, cache in zip(reversed(model.layers), reversed(caches), strict=True):
        d = layer.backward(d, cache)
    np.testing.assert_array_equal(d, model.backward(dscores, caches))


def test_fully_convolutional_up_to_pool3(model):
    X = np.random.default_rng(8).standard_normal((1, 3, 48, 64))
    features, caches = model.forward(X, upto="pool3")
    assert features.shape == (1, model.widths[2], 6, 8)
    assert model.backward(np.ones_like(features), caches).shape == X.shape
    with pytest.raises(ValueError, match="32x32"):
        model.forward(X)
    with pytest.raises(ValueError, match="unknown layer"):
        model.forward(X, upto="conv4")


def test_params_are_read_at_call_time(model):
    small = _small_model()
    X = np.random.default_rng(9).standard_normal((2, 3, 32, 32))
    before = small.scores(X)
    small.params["fc_b"] = small.params["fc_b"] + 1.0
    np.testing.assert_allclose(small.scores(X), before + 1.0, rtol=1e-12, atol=1e-12)


def test_preprocess_deprocess_round_trip(model):
    images = np.random.default_rng(10).integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    X = model.preprocess(images)
    assert X.shape == (5, 3, 32, 32) and X.dtype == np.float64
    # Per-channel normalisation: channel c is (pixel - mean[c]) / std[c].
    np.testing.assert_allclose(X[:, 1], (images[..., 1] - model.pixel_mean[1]) / model.pixel_std[1])
    back = model.deprocess(X)
    assert back.dtype == np.uint8 and back.shape == images.shape
    np.testing.assert_array_equal(back, images)
    # Out-of-range inputs are clipped; a single image is a batch of one.
    clipped = model.deprocess(np.stack([X[0] + 100.0, X[0] - 100.0]))
    assert (clipped[0] == 255).all() and (clipped[1] == 0).all()
    assert model.preprocess(images[0]).shape == (1, 3, 32, 32)


# ------------------------------------------------------------------------------------------------
# Weights file


def test_shipped_weights_match_the_pinned_digest():
    path = pretrained.weights_path()
    assert path.is_file()
    assert pretrained.digest_path(path) == path.with_name("cifar10_convnet.npz.sha256")
    assert pretrained.file_sha256(path) == pretrained.pinned_sha256()
    arrays = pretrained.load_weights()
    assert all(v.dtype == np.float32 for v in arrays.values())
    assert arrays["pixel_mean"].shape == arrays["pixel_std"].shape == (3,)
    assert arrays["fc_W"].shape == (16 * arrays["conv3_W"].shape[0], 10)
    meta = pretrained.load_metadata()
    n_params = sum(v.size for k, v in arrays.items() if not k.startswith("pixel_"))
    assert meta["architecture"]["parameters"] == n_params
    assert 0.1 < meta["accuracy"]["test"] <= 1.0
    assert 100_000 < path.stat().st_size < 2_000_000


def test_corrupt_or_missing_weights_raise_a_clear_error(tmp_path, monkeypatch):
    corrupt = tmp_path / "weights.npz"
    shutil.copyfile(pretrained.weights_path(), corrupt)
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(pretrained.WeightsError, match="SHA-256") as info:
        pretrained.load_weights(corrupt, sha256=pretrained.pinned_sha256())
    assert pretrained.TRAIN_COMMAND in str(info.value)
    # The default (shipped) location is checked against the pinned digest.
    monkeypatch.setattr(pretrained, "weights_path", lambda: corrupt)
    with pytest.raises(pretrained.WeightsError, match=pretrained.TRAIN_COMMAND):
        pretrained.load_weights()
    with pytest.raises(pretrained.WeightsError, match=pretrained.TRAIN_COMMAND):
        load_pretrained_classifier()
    # Missing file; unreadable file (no digest requested).
    with pytest.raises(pretrained.WeightsError, match="not found") as info:
        pretrained.load_weights(tmp_path / "absent.npz")
    assert pretrained.TRAIN_COMMAND in str(info.value)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(pretrained.WeightsError, match="not a readable"):
        pretrained.load_weights(tmp_path / "junk.npz")


def test_save_weights_round_trip(tmp_path):
    arrays = _small_model().state()
    digest = pretrained.save_weights(tmp_path / "w.npz", arrays, {"accuracy": {"test": 0.5}})
    assert (tmp_path / "w.npz.sha256").read_text() == f"{digest}  w.npz\n"  # the format of sha256sum
    assert pretrained.pinned_sha256(tmp_path / "w.npz") == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz", "w.npz.sha256"]  # no temporary files left
    loaded = pretrained.load_weights(tmp_path / "w.npz", sha256=digest)
    assert set(loaded) == set(arrays)
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key])
    assert pretrained.load_metadata(tmp_path / "w.npz") == {"accuracy": {"test": 0.5}}
    restored = load_pretrained_classifier(tmp_path / "w.npz")
    assert restored.widths == (3, 4, 5)


@pytest.mark.skipif(
    not cifar10_present(),
    reason="real CIFAR-10 not found (set CS231N_CIFAR10_DIR or run `python -m cs231n.data download cifar10`)",
)
def test_shipped_weights_classify_real_cifar10_test_images(model):
    from cs231n.data import cifar10_dir

    images, labels = load_cifar10_batch(cifar10_dir() / "test_batch")
    accuracy = np.mean(model.predict(model.preprocess(images[:300])) == labels[:300])
    assert accuracy > 0.4  # chance is 0.1


def test_info_command_runs():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "cs231n.pretrained", "info"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    meta = pretrained.load_metadata()
    assert f"test {meta['accuracy']['test']:.4f}" in result.stdout
    assert pretrained.pinned_sha256() in result.stdout


def test_shipped_file_is_checked_against_the_digest_file_beside_it(tmp_path, monkeypatch):
    """Retraining writes a new digest file; the package reads it at load time (no source rewritten)."""
    arrays = _small_model().state()
    shipped = tmp_path / pretrained.WEIGHTS_FILENAME
    pretrained.save_weights(shipped, arrays, {"accuracy": {"test": 0.5}})
    monkeypatch.setattr(pretrained, "weights_path", lambda: shipped)
    assert set(pretrained.load_weights()) == set(arrays)
    pretrained.save_weights(shipped, {**arrays, "fc_b": arrays["fc_b"] + 1}, {})  # retrained: re-pinned
    assert pretrained.load_weights()["fc_b"][0] == np.float32(arrays["fc_b"][0] + 1)
    pretrained.digest_path(shipped).write_text("0" * 64 + "  cifar10_convnet.npz\n")
    with pytest.raises(pretrained.WeightsError, match="SHA-256"):
        pretrained.load_weights()
    pretrained.digest_path(shipped).unlink()
    with pytest.raises(pretrained.WeightsError, match="digest file"):
        pretrained.load_weights()


def test_package_does_not_reach_into_the_course_material():
    """The package neither puts assignment3/ on sys.path to import the training code nor rewrites its source."""
    for source in Path(pretrained.__file__).resolve().parent.glob("*.py"):
        text = source.read_text()
        assert "sys.path" not in text and "import_module" not in text and "__init__.py" not in text, source.name


def test_old_train_command_names_the_new_one(capsys):
    from cs231n.pretrained.__main__ import main as pretrained_main

    assert pretrained_main(["train", "--epochs", "8"]) == 2
    assert pretrained.TRAIN_COMMAND in capsys.readouterr().err


def test_train_command_refuses_zero_epochs(capsys):
    with pytest.raises(SystemExit):
        train_main(["--epochs", "0"])
    assert "--epochs must be at least 1" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# Training code


def test_augment_batch_flips_and_shifts():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((64, 3, 8, 8)).astype(np.float32)
    out = augment_batch(X, rng, pad=2)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert sum(np.array_equal(out[i], X[i]) for i in range(64)) < 8
    # Every output is the input, maybe flipped, translated by at most 2 pixels with zeros coming in.
    for i in range(64):
        found = False
        for img in (X[i], X[i][:, :, ::-1]):
            padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
            found |= any(np.array_equal(out[i], padded[:, a : a + 8, b : b + 8]) for a in range(5) for b in range(5))
        assert found, i


def test_train_reduces_the_loss_on_a_tiny_problem():
    rng = np.random.default_rng(12)
    y = np.arange(40) % 2
    X = rng.standard_normal((40, 3, 32, 32)).astype(np.float32) * 0.3
    X[:, 0] += np.where(y == 1, 1.0, -1.0)[:, None, None]  # the class is the red channel's sign
    model = ConvNetClassifier(initial_params((4, 4, 4), seed=0), dtype=np.float32)
    history = train(model, X, y, X[:10], y[:10], epochs=6, batch_size=20, learning_rate=5e-3,
                    warmup_iterations=0, augment=False, log=None)  # fmt: skip
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_acc"][-1] == 1.0
