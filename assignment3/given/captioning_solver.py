"""The given training loop for the captioning models.

A captioning model is any object with
- ``model.params``: a dict name -> NumPy array of parameters;
- ``model.loss(features, captions)``: returns ``(loss, grads)`` where ``grads`` has the keys of ``params``.

The solver draws random minibatches of captions with `cs231n.captioning.sample_coco_minibatch`, applies
an update rule to every parameter, decays the learning rate after every epoch and, if asked, clips the
gradients by their global norm. Example::

    solver = CaptioningSolver(model, data, update_rule="adam", optim_config={"learning_rate": 5e-3},
                              lr_decay=0.95, num_epochs=20, batch_size=25, grad_clip=5.0)
    solver.train()
    solver.loss_history, solver.grad_norm_history

Gradient clipping by global norm: with g the vector of all gradients of all parameters together and
``grad_clip = c``, when ||g|| > c every gradient is multiplied by c / ||g||. The direction of the step
is unchanged, only its length is bounded, which tames the rare huge gradients ("exploding gradients")
of recurrent networks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cs231n.captioning import sample_coco_minibatch
from cs231n.solver import progress_line

from .layers import adam, sgd

UpdateRule = Callable[[np.ndarray, np.ndarray, dict | None], tuple[np.ndarray, dict]]
UPDATE_RULES: dict[str, UpdateRule] = {"adam": adam, "sgd": sgd}


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """
    The L2 norm of all gradients taken together as one long vector.

    Inputs:
    - grads: dict name -> gradient array.

    Returns:
    - float: sqrt(sum over all arrays of the sum of their squared entries).
    """
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """
    Rescale all gradients together so that their global norm is at most max_norm.

    Inputs:
    - grads: dict name -> gradient array (not modified).
    - max_norm: the largest global L2 norm allowed (> 0).

    Returns a tuple of:
    - clipped: dict with the same keys; every gradient multiplied by min(1, max_norm / norm).
    - norm: the global norm before clipping.
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


class CaptioningSolver:
    """Trains a captioning model with minibatch updates (no validation accuracy: we watch the loss)."""

    def __init__(
        self,
        model: Any,
        data: dict,
        update_rule: str | UpdateRule = "adam",
        optim_config: dict | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        print_every: int = 10,
        verbose: bool = True,
        grad_clip: float | None = None,
    ) -> None:
        """
        Inputs:
        - model: an object with ``params`` and ``loss(features, captions)`` (see the module docstring).
        - data: a captioning dict from `cs231n.captioning.load_coco_data` (train_captions,
          train_image_idxs, train_features, ...).
        - update_rule: "adam", "sgd" (from given.layers) or an update function
          ``next_w, config = rule(w, dw, config)``.
        - optim_config: hyperparameters of the update rule (e.g. {"learning_rate": 5e-3}); every
          parameter gets its own copy, where the rule keeps its state.
        - lr_decay: multiply the learning rate by this after every epoch.
        - batch_size: captions per minibatch.
        - num_epochs: passes over the training captions (an epoch is max(1, N_train // batch_size)
          iterations).
        - print_every: print the loss every that many iterations (when verbose).
        - verbose: whether to print progress.
        - grad_clip: None (no clipping) or the largest global L2 norm of all gradients together.
        """
        if isinstance(update_rule, str):
            if update_rule not in UPDATE_RULES:
                raise ValueError(f'unknown update rule "{update_rule}" (use {", ".join(UPDATE_RULES)} or a function)')
            update_rule = UPDATE_RULES[update_rule]
        if grad_clip is not None and grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive or None, got {grad_clip}")
        self.model = model
        self.data = data
        self.update_rule = update_rule
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.print_every = print_every
        self.verbose = verbose
        self.grad_clip = grad_clip
        self._reset()

    def _reset(self) -> None:
        """Fresh bookkeeping and a fresh optimiser state for every parameter."""
        self.epoch = 0
        self.loss_history: list[float] = []
        self.grad_norm_history: list[float] = []
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self) -> None:
        """One update: a random minibatch, its loss and gradients, clipping, and the update rule."""
        captions, features, _ = sample_coco_minibatch(self.data, batch_size=self.batch_size, split="train")
        loss, grads = self.model.loss(features, captions)
        self.loss_history.append(float(loss))
        if self.grad_clip is None:
            norm = global_norm(grads)
        else:
            grads, norm = clip_by_global_norm(grads, self.grad_clip)
        self.grad_norm_history.append(norm)
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w

    def train(self) -> None:
        """Run num_epochs epochs of updates, filling loss_history and grad_norm_history (norms before
        clipping)."""
        num_train = self.data["train_captions"].shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                progress_line(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:.6f}",
                              keep=t + self.print_every >= num_iterations)
            if (t + 1) % iterations_per_epoch == 0:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:  # the rules store their default rate on the first call
                        config["learning_rate"] *= self.lr_decay
