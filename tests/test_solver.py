"""The given Solver: it trains, decays the learning rate, clips, averages, checkpoints, reproduces."""

import numpy as np
import pytest

from cs231n.solver import Solver, exponential_decay, inverse_time_decay, sgd, step_decay


class Linear:
    """A softmax classifier, small enough to check the Solver with (test-only code)."""

    def __init__(self, dim, classes, seed=0):
        self.params = {"W": 0.01 * np.random.default_rng(seed).normal(size=(dim, classes)), "b": np.zeros(classes)}

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probs[np.arange(len(y)), y]))
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def blobs(n=600, dim=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = 3 * rng.normal(size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    X = centres[y] + rng.normal(size=(n, dim))
    return {"X_train": X[:500], "y_train": y[:500], "X_val": X[500:], "y_val": y[500:]}


def test_solver_learns_and_keeps_best_params():
    model = Linear(5, 3)
    solver = Solver(model, blobs(), optim_config={"learning_rate": 0.5}, num_epochs=5, batch_size=50, verbose=False)
    solver.train()
    assert solver.best_val_acc > 0.9
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert len(solver.val_acc_history) == len(solver.train_acc_history) == 6  # start + 5 epochs
    assert solver.check_accuracy(solver.X_val, solver.y_val) == pytest.approx(solver.best_val_acc)


def test_lr_decay_and_schedules():
    solver = Solver(Linear(5, 3), blobs(), optim_config={"learning_rate": 1.0}, lr_decay=0.5, num_epochs=3,
                    batch_size=100, verbose=False)
    solver.train()
    assert solver.lr_history == [1.0, 0.5, 0.25]
    assert solver.optim_configs["W"]["learning_rate"] == 0.125
    solver = Solver(Linear(5, 3), blobs(), optim_config={"learning_rate": 1.0}, lr_schedule=step_decay,
                    num_epochs=6, batch_size=100, verbose=False)
    solver.train()
    assert solver.optim_configs["W"]["learning_rate"] == 0.5  # halved after epoch 5
    assert exponential_decay(2, 0.9) == pytest.approx(0.81) and inverse_time_decay(2, 0.5) == 0.5


def test_grad_clip_bounds_every_update():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(np.linalg.norm(dw))
        return sgd(w, dw, config)

    model = Linear(5, 3)
    model.params["W"] *= 1000  # huge gradients
    Solver(model, blobs(), update_rule=recording_sgd, grad_clip=0.1, num_epochs=1, verbose=False).train()
    assert max(seen) <= 0.1 + 1e-12


def test_polyak_average_and_checkpoints(tmp_path):
    solver = Solver(Linear(5, 3), blobs(), polyak=0.9, num_epochs=2, verbose=False,
                    checkpoint_name=str(tmp_path / "ckpt"))
    solver.train()
    assert set(solver.averaged_params) == {"W", "b"}
    assert sorted(p.name for p in tmp_path.iterdir())[-1] == "ckpt_epoch_2.pkl"


def test_same_seed_same_run_and_bad_arguments():
    runs = []
    for _ in range(2):
        s = Solver(Linear(5, 3), blobs(), num_epochs=1, verbose=False, seed=3)
        s.train()
        runs.append(s.loss_history)
    assert runs[0] == runs[1]
    with pytest.raises(TypeError, match="unrecognised"):
        Solver(Linear(5, 3), blobs(), learning_rate=1.0)
    with pytest.raises(ValueError, match="pass the function"):
        Solver(Linear(5, 3), blobs(), update_rule="adam")


def test_prints_progress_to_stdout(capsys):
    Solver(Linear(5, 3), blobs(), num_epochs=1, print_every=1).train()
    out = capsys.readouterr()
    assert "(Iteration 1 / 5)" in out.out and "(Epoch 1 / 1)" in out.out and out.err == ""
