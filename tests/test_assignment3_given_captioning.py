"""The given captioning code of assignment 3: temporal layers (assignment3/given/rnn_layers.py) and the
CaptioningSolver with gradient clipping (assignment3/given/captioning_solver.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assignment3"))

from given import captioning_solver as CS  # noqa: E402
from given.rnn_layers import (  # noqa: E402
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)

from cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error  # noqa: E402


def _seed_minibatches(seed: int) -> None:
    """sample_coco_minibatch draws from NumPy's global generator (as the original kit), so seed that."""
    np.random.seed(seed)  # noqa: NPY002

# ----------------------------------------------------------------------------------------------
# Temporal layers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 3, 2), (4, 6, 2, 7)])
def test_temporal_affine_forward_is_affine_at_every_step(shape):
    N, T, D, M = shape
    rng = np.random.default_rng(sum(shape))
    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    out, _ = temporal_affine_forward(x, w, b)
    assert out.shape == (N, T, M)
    for t in range(T):
        assert np.allclose(out[:, t], x[:, t] @ w + b, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_temporal_affine_backward_numerical(seed):
    rng = np.random.default_rng(seed)
    N, T, D, M = 2, 3, 4, 5
    args = [rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)]
    dout = rng.standard_normal((N, T, M))
    _, cache = temporal_affine_forward(*args)
    grads = temporal_affine_backward(dout, cache)
    assert len(grads) == 3
    for i, g in enumerate(grads):
        def f(value, i=i):
            new = list(args)
            new[i] = value
            return temporal_affine_forward(*new)[0]
        num = eval_numerical_gradient_array(f, args[i].copy(), dout)
        assert g.shape == args[i].shape
        assert rel_error(num, g) < 1e-8


def _reference_loss(x, y, mask):
    N, T, _ = x.shape
    total = 0.0
    for n in range(N):
        for t in range(T):
            if mask[n, t]:
                s = x[n, t] - x[n, t].max()
                total -= s[y[n, t]] - np.log(np.exp(s).sum())
    return total / N


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_temporal_softmax_loss_value_and_numerical_gradient(seed):
    rng = np.random.default_rng(seed)
    N, T, V = 3, 5, 7
    x = rng.standard_normal((N, T, V)) * 2
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.6
    mask[0, 0] = True
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert isinstance(loss, float)
    assert np.isclose(loss, _reference_loss(x, y, mask), rtol=1e-12)
    num = eval_numerical_gradient(lambda xx: temporal_softmax_loss(xx, y, mask)[0], x.copy(), verbose=False)
    assert dx.shape == x.shape
    assert rel_error(num, dx) < 1e-6  # small entries limit the precision of the numerical gradient


def test_temporal_softmax_loss_ignores_masked_positions():
    rng = np.random.default_rng(5)
    N, T, V = 4, 6, 5
    x, y = rng.standard_normal((N, T, V)), rng.integers(0, V, size=(N, T))
    mask = np.ones((N, T), dtype=bool)
    mask[:, 3:] = False
    loss, dx = temporal_softmax_loss(x, y, mask)
    x2 = x.copy()
    x2[:, 3:] = rng.standard_normal((N, T - 3, V)) * 50  # anything at the masked positions
    y2 = y.copy()
    y2[:, 3:] = 0
    loss2, _ = temporal_softmax_loss(x2, y2, mask)
    assert np.isclose(loss, loss2, rtol=1e-12)
    assert np.all(dx[:, 3:] == 0)
    assert temporal_softmax_loss(x, y, np.zeros((N, T), dtype=bool))[0] == 0.0


def test_temporal_softmax_loss_uniform_scores_cost_log_v_per_counted_word():
    N, T, V = 10, 8, 13
    rng = np.random.default_rng(9)
    mask = rng.random((N, T)) < 0.5
    loss, _ = temporal_softmax_loss(np.zeros((N, T, V)), rng.integers(0, V, size=(N, T)), mask)
    assert np.isclose(loss, mask.sum() * np.log(V) / N, rtol=1e-12)


def test_temporal_softmax_loss_stable_for_huge_scores():
    x = np.array([[[1000.0, 0.0, -1000.0]]])
    loss, dx = temporal_softmax_loss(x, np.array([[1]]), np.array([[True]]))
    assert np.isfinite(loss) and np.isclose(loss, 1000.0)
    assert np.all(np.isfinite(dx))


# ----------------------------------------------------------------------------------------------
# Gradient clipping
# ----------------------------------------------------------------------------------------------


def test_global_norm_is_the_norm_of_all_gradients_together():
    rng = np.random.default_rng(1)
    grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(5), "c": rng.standard_normal((2, 2, 2))}
    flat = np.concatenate([g.ravel() for g in grads.values()])
    assert np.isclose(CS.global_norm(grads), np.linalg.norm(flat), rtol=1e-12)


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 3.0])
def test_clipping_bounds_the_norm_and_keeps_the_direction(max_norm):
    rng = np.random.default_rng(2)
    grads = {"a": rng.standard_normal((4, 4)) * 3, "b": rng.standard_normal(6).astype(np.float32) * 3}
    before = {k: g.copy() for k, g in grads.items()}
    clipped, norm = CS.clip_by_global_norm(grads, max_norm)
    assert np.isclose(norm, CS.global_norm(before))
    assert norm > max_norm  # the test's gradients are large enough to be clipped
    assert CS.global_norm(clipped) <= max_norm * (1 + 1e-6)
    assert np.isclose(CS.global_norm(clipped), max_norm, rtol=1e-6)
    scale = max_norm / norm
    for k in grads:
        assert np.allclose(clipped[k], before[k] * scale, rtol=1e-6)
        assert clipped[k].dtype == before[k].dtype
        assert np.array_equal(grads[k], before[k])  # inputs untouched


def test_clipping_leaves_small_gradients_alone():
    grads = {"a": np.array([0.3, -0.4]), "b": np.zeros(3)}
    clipped, norm = CS.clip_by_global_norm(grads, 1.0)
    assert np.isclose(norm, 0.5)
    assert np.array_equal(clipped["a"], grads["a"]) and np.array_equal(clipped["b"], grads["b"])
    zero, zero_norm = CS.clip_by_global_norm({"a": np.zeros(4)}, 1.0)
    assert zero_norm == 0.0 and np.array_equal(zero["a"], np.zeros(4))
    with pytest.raises(ValueError):
        CS.clip_by_global_norm(grads, 0.0)


# ----------------------------------------------------------------------------------------------
# The solver on a tiny problem
# ----------------------------------------------------------------------------------------------


class TinyCaptioner:
    """A small non-recurrent captioning model: a linear classifier of the image features for every
    position t (the features are placed in block t of an input of size T * D, then one temporal affine)."""

    def __init__(self, input_dim, vocab_size, T, seed=0):
        rng = np.random.default_rng(seed)
        self.T, self.D = T, input_dim
        self.params = {"W": 0.01 * rng.standard_normal((T * input_dim, vocab_size)), "b": np.zeros(vocab_size)}

    def loss(self, features, captions):
        target = captions[:, 1:]
        mask = target != 0
        N, (T, D) = features.shape[0], (self.T, self.D)
        h = np.zeros((N, T, T * D))
        for t in range(T):
            h[:, t, t * D:(t + 1) * D] = features
        scores, cache = temporal_affine_forward(h, self.params["W"], self.params["b"])
        loss, dscores = temporal_softmax_loss(scores, target, mask)
        _, dW, db = temporal_affine_backward(dscores, cache)
        return loss, {"W": dW, "b": db}


def _tiny_data(num_captions=60, num_images=20, D=16, V=6, T=5, seed=0):
    """Captions determined by their image (a learnable problem), in the load_coco_data layout."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((num_images, D)).astype(np.float32)
    image_caption = np.zeros((num_images, T + 1), dtype=np.int32)
    image_caption[:, 0] = 1
    image_caption[:, 1:] = rng.integers(2, V, size=(num_images, T))
    image_caption[rng.random(num_images) < 0.5, -1] = 0  # some padding
    idxs = rng.integers(0, num_images, size=num_captions).astype(np.int32)
    return {"train_captions": image_caption[idxs], "train_image_idxs": idxs, "train_features": features,
            "train_urls": np.array([f"tiny://{i}" for i in range(num_images)]),
            "val_captions": image_caption[:5], "val_image_idxs": np.arange(5, dtype=np.int32),
            "val_features": features, "val_urls": np.array([f"tiny://{i}" for i in range(num_images)]),
            "idx_to_word": [f"w{i}" for i in range(V)], "word_to_idx": {f"w{i}": i for i in range(V)}}


def test_solver_reduces_the_loss_and_records_histories():
    data = _tiny_data()
    model = TinyCaptioner(16, 6, 5)
    _seed_minibatches(0)
    solver = CS.CaptioningSolver(model, data, update_rule="adam", optim_config={"learning_rate": 5e-2},
                                 batch_size=10, num_epochs=30, verbose=False)
    solver.train()
    iterations = 30 * (60 // 10)
    assert len(solver.loss_history) == iterations and len(solver.grad_norm_history) == iterations
    assert all(isinstance(v, float) for v in solver.loss_history)
    first, last = np.mean(solver.loss_history[:5]), np.mean(solver.loss_history[-5:])
    assert last < 0.25 * first, (first, last)
    assert solver.epoch == 30


def test_solver_is_deterministic_given_the_seed():
    histories = []
    for _ in range(2):
        _seed_minibatches(3)
        solver = CS.CaptioningSolver(TinyCaptioner(16, 6, 5), _tiny_data(), optim_config={"learning_rate": 1e-2},
                                     batch_size=10, num_epochs=2, verbose=False)
        solver.train()
        histories.append(solver.loss_history)
    assert histories[0] == histories[1]


def test_solver_clipping_bounds_every_update():
    seen = []

    def recording_sgd(w, dw, config=None):
        seen.append(dw)
        return CS.sgd(w, dw, config)

    data = _tiny_data()
    model = TinyCaptioner(16, 6, 5)
    num_params = len(model.params)
    _seed_minibatches(1)
    solver = CS.CaptioningSolver(model, data, update_rule=recording_sgd, optim_config={"learning_rate": 0.5},
                                 batch_size=10, num_epochs=2, grad_clip=0.05, verbose=False)
    solver.train()
    assert len(seen) == num_params * len(solver.loss_history)
    applied = [np.sqrt(sum(np.sum(g**2) for g in seen[i:i + num_params])) for i in range(0, len(seen), num_params)]
    assert max(applied) <= 0.05 * (1 + 1e-9)
    recorded = np.array(solver.grad_norm_history)
    assert np.all(recorded > 0.05)  # the history holds the norms before clipping
    assert np.allclose(applied, 0.05)


def test_solver_lr_decay_per_epoch_and_update_rule_names():
    _seed_minibatches(2)
    solver = CS.CaptioningSolver(TinyCaptioner(16, 6, 5), _tiny_data(), update_rule="sgd",
                                 optim_config={"learning_rate": 0.1}, lr_decay=0.5, batch_size=20, num_epochs=3,
                                 verbose=False)
    solver.train()
    for config in solver.optim_configs.values():
        assert np.isclose(config["learning_rate"], 0.1 * 0.5**3)
    assert solver.optim_config == {"learning_rate": 0.1}  # the template is not modified
    with pytest.raises(ValueError):
        CS.CaptioningSolver(TinyCaptioner(16, 6, 5), _tiny_data(), update_rule="rmsprop")
    with pytest.raises(ValueError):
        CS.CaptioningSolver(TinyCaptioner(16, 6, 5), _tiny_data(), grad_clip=-1.0)


def test_solver_prints_progress(capsys):
    _seed_minibatches(4)
    solver = CS.CaptioningSolver(TinyCaptioner(16, 6, 5), _tiny_data(), batch_size=10, num_epochs=1, print_every=2)
    solver.train()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("(Iteration 1 / 6) loss:")
