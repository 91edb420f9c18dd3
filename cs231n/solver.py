"""The given training loop: minibatch gradient descent for any model with ``params`` and ``loss``.

A model is any object with
- ``model.params``: a dict name -> NumPy array of parameters;
- ``model.loss(X, y=None)``: with labels, returns ``(loss, grads)`` where ``grads`` has the keys of
  ``params``; without labels (test time), returns class scores of shape (N, C).

An update rule is a function ``next_w, config = rule(w, dw, config)``; plain SGD is given here
(``sgd``), the others are written in the notebooks and passed in. Example::

    solver = Solver(model, data, update_rule=sgd_momentum, optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100)
    solver.train()
    solver.best_val_acc, solver.loss_history, solver.train_acc_history, solver.val_acc_history
"""

import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

UpdateRule = Callable[[np.ndarray, np.ndarray, dict | None], tuple[np.ndarray, dict]]


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """
    Vanilla stochastic gradient descent: w -= learning_rate * dw.

    Inputs:
    - w: parameters, any shape.
    - dw: gradient of the loss with respect to w, same shape.
    - config: dict with "learning_rate" (default 1e-2).

    Returns:
    - next_w: the updated parameters.
    - config: the config, to pass to the next call.
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def step_decay(epoch: int, every: int = 5, factor: float = 0.5) -> float:
    """Learning-rate multiplier of a step schedule: ``factor`` every ``every`` epochs."""
    return factor ** (epoch // every)


def exponential_decay(epoch: int, rate: float = 0.95) -> float:
    """Multiplier of an exponential schedule: ``rate ** epoch``."""
    return rate**epoch


def inverse_time_decay(epoch: int, k: float = 0.5) -> float:
    """Multiplier of a 1/t schedule: ``1 / (1 + k * epoch)``."""
    return 1.0 / (1.0 + k * epoch)



def progress_line(text: str, keep: bool = False) -> None:
    """Print progress on one line that the next call overwrites (a notebook shows one updating line, not
    a scroll of them); ``keep=True`` leaves the line in place (an epoch's summary)."""
    print(f"\r{text:<78}", end="\n" if keep else "", flush=True)


class Solver:
    """Trains a classification model with minibatch updates and keeps the best validation parameters."""

    def __init__(self, model: Any, data: dict, **kwargs: Any) -> None:
        """
        Inputs:
        - model: an object with ``params`` and ``loss`` as described in the module docstring.
        - data: dict with "X_train", "y_train", "X_val", "y_val".

        Optional keyword arguments:
        - update_rule: an update function (default ``sgd``).
        - optim_config: hyperparameters of the update rule (e.g. {"learning_rate": 1e-3}); each
          parameter gets its own copy, which the rule may use to store state (momentum, caches).
        - lr_decay: multiply the learning rate by this after every epoch (default 1.0).
        - lr_schedule: alternatively, a function epoch -> multiplier of the initial learning rate
          (e.g. ``step_decay``); overrides lr_decay.
        - batch_size: minibatch size (default 100).
        - num_epochs: passes over the training data (default 10).
        - grad_clip: if set, rescale each parameter's gradient to at most this L2 norm (helps RNNs).
        - polyak: if set (e.g. 0.999), also keep an exponential average of the parameters in
          ``self.averaged_params``.
        - num_train_samples: training examples used to estimate training accuracy (default 1000).
        - num_val_samples: validation examples used for validation accuracy (default None = all).
        - checkpoint_name: if set, pickle a checkpoint after every epoch to "<name>_epoch_<e>.pkl".
        - print_every: print the loss every this many iterations (default 10).
        - verbose: print progress (default True).
        - seed: seed of the minibatch sampling (default 0), so runs are reproducible.
        """
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        self.update_rule: UpdateRule = kwargs.pop("update_rule", sgd)
        if isinstance(self.update_rule, str):
            if self.update_rule != "sgd":
                raise ValueError(f'update_rule "{self.update_rule}": pass the function itself (only "sgd" is built in)')
            self.update_rule = sgd
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.lr_schedule = kwargs.pop("lr_schedule", None)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.grad_clip = kwargs.pop("grad_clip", None)
        self.polyak = kwargs.pop("polyak", None)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.rng = np.random.default_rng(kwargs.pop("seed", 0))
        if kwargs:
            raise TypeError(f"unrecognised arguments: {', '.join(sorted(kwargs))}")
        self._reset()

    def _reset(self) -> None:
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.lr_history: list[float] = []
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}
        self.base_lr = {p: c.get("learning_rate") for p, c in self.optim_configs.items()}
        self.averaged_params = {k: v.copy() for k, v in self.model.params.items()} if self.polyak else None

    def _step(self) -> None:
        """One minibatch update."""
        idx = self.rng.choice(self.X_train.shape[0], self.batch_size, replace=self.batch_size > self.X_train.shape[0])
        loss, grads = self.model.loss(self.X_train[idx], self.y_train[idx])
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            dw = grads[p]
            if self.grad_clip is not None:
                norm = np.linalg.norm(dw)
                if norm > self.grad_clip:
                    dw = dw * (self.grad_clip / norm)
            next_w, self.optim_configs[p] = self.update_rule(w, dw, self.optim_configs[p])
            self.model.params[p] = next_w
            if self.averaged_params is not None:
                self.averaged_params[p] = self.polyak * self.averaged_params[p] + (1 - self.polyak) * next_w

    def _end_epoch(self) -> None:
        self.epoch += 1
        for p, config in self.optim_configs.items():
            if "learning_rate" not in config:
                continue
            if self.lr_schedule is not None:
                base = self.base_lr[p] if self.base_lr[p] is not None else config["learning_rate"]
                config["learning_rate"] = base * self.lr_schedule(self.epoch)
            else:
                config["learning_rate"] *= self.lr_decay

    def _save_checkpoint(self) -> None:
        if self.checkpoint_name is None:
            return
        state = {"model": self.model, "epoch": self.epoch, "loss_history": self.loss_history,
                 "train_acc_history": self.train_acc_history, "val_acc_history": self.val_acc_history}
        with open(f"{self.checkpoint_name}_epoch_{self.epoch}.pkl", "wb") as f:
            pickle.dump(state, f)

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """
        Accuracy of the model on (a random subset of) the data.

        Inputs:
        - X: data of shape (N, ...); y: labels of shape (N,).
        - num_samples: if set and smaller than N, evaluate on this many random examples.
        - batch_size: evaluate in batches of this size to limit memory.

        Returns the fraction of correctly classified examples.
        """
        if num_samples is not None and X.shape[0] > num_samples:
            idx = self.rng.choice(X.shape[0], num_samples, replace=False)
            X, y = X[idx], y[idx]
        preds = [np.argmax(self.model.loss(X[i:i + batch_size]), axis=1) for i in range(0, X.shape[0], batch_size)]
        return float(np.mean(np.concatenate(preds) == y))

    def train(self) -> None:
        """Run the optimisation; afterwards model.params holds the best parameters seen on validation."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                progress_line(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.lr_history.append(next(iter(self.optim_configs.values()), {}).get("learning_rate", 0.0))
                self._end_epoch()
            if t == 0 or t == num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._save_checkpoint()
                if self.verbose:
                    progress_line(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; "
                                  f"val_acc: {val_acc:f}", keep=True)
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = copy.deepcopy(self.model.params)
        self.model.params = self.best_params
