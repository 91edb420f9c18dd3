"""
Given helpers for the checks of the Transformer notebooks (Transformer_Captioning and VisionTransformer).

Nothing here is a solution: a made-up stand-in for multi-head attention (not attention, the same
signature) and the code that runs a layer's checks in several ways, with the student's own attention or
with the stand-in swapped in by name, so that a bug in the attention costs points in the attention's
checks only.
"""

import sys

import numpy as np

from cs231n import checks

from .transformer_layers import ATTENTION_KEYS


def made_up_multihead_forward(x_q, x_kv, params, num_heads, mask=None):
    """
    A stand-in for multihead_attention_forward in the checks. Not attention: each query's
    tanh(x_q Wq + bq) times the plain mean of (x_kv Wv + bv) over the keys it may see, then Wo, bo.

    Inputs and outputs as multihead_attention_forward: x_q (N, Tq, D), x_kv (N, Tk, D), params (the
    ATTENTION_KEYS), mask None or broadcasting to (N, h, Tq, Tk); returns (out, weights, cache) with out
    (N, Tq, D) and weights (N, h, Tq, Tk) (the same for every head).
    """
    N, Tq = x_q.shape[:2]
    Tk = x_kv.shape[1]
    keep = np.ones((N, Tq, Tk)) if mask is None else np.broadcast_to(mask, (N, num_heads, Tq, Tk))[:, 0].astype(float)
    weights = keep / keep.sum(axis=-1, keepdims=True)
    q = np.tanh(x_q @ params["Wq"] + params["bq"])
    v = x_kv @ params["Wv"] + params["bv"]
    mixed = q * (weights @ v)
    out = mixed @ params["Wo"] + params["bo"]
    return out, np.repeat(weights[:, None], num_heads, axis=1), (x_q, x_kv, params, weights, q, v, mixed)


def made_up_multihead_backward(dout, cache):
    """The backward pass of made_up_multihead_forward: (dx_q, dx_kv, grads), zero gradients for Wk and bk
    (which it ignores)."""
    x_q, x_kv, params, weights, q, v, mixed = cache
    D = dout.shape[-1]
    grads = {key: np.zeros_like(params[key]) for key in ATTENTION_KEYS}
    grads["Wo"], grads["bo"] = mixed.reshape(-1, D).T @ dout.reshape(-1, D), dout.reshape(-1, D).sum(axis=0)
    dmixed = dout @ params["Wo"].T
    dz = dmixed * (weights @ v) * (1 - q**2)
    dv = np.swapaxes(weights, -1, -2) @ (dmixed * q)
    grads["Wq"], grads["bq"] = x_q.reshape(-1, D).T @ dz.reshape(-1, D), dz.reshape(-1, D).sum(axis=0)
    grads["Wv"], grads["bv"] = x_kv.reshape(-1, D).T @ dv.reshape(-1, D), dv.reshape(-1, D).sum(axis=0)
    return dz @ params["Wq"].T, dv @ params["Wv"].T, grads


def made_up_positional_embedding_forward(x, P):
    """A stand-in for positional_embedding_forward in the checks, not the sum asked for: x + tanh(P[:T]),
    with x (N, T, D) and P (T_max, D); returns (out, cache)."""
    T = x.shape[1]
    return x + np.tanh(P[:T]), (P, T)


def made_up_positional_embedding_backward(dout, cache):
    """The backward pass of made_up_positional_embedding_forward: (dx, dP)."""
    P, T = cache
    dP = np.zeros_like(P)
    dP[:T] = dout.sum(axis=0) * (1 - np.tanh(P[:T]) ** 2)
    return dout, dP


MADE_UP_MHA = {"multihead_attention_forward": made_up_multihead_forward,
               "multihead_attention_backward": made_up_multihead_backward}
#: The ways a layer built on multi-head attention is checked: label -> the stand-ins swapped in by name.
LAYER_WAYS = {"with your multi-head attention": {}, "with a made-up multi-head attention": MADE_UP_MHA}


def copied(params):
    """A copy of a dict of arrays."""
    return {key: value.copy() for key, value in params.items()}


def check_ways(name, ways, expected=None, check=None, **tolerances):
    """
    checks.either over ways, pairs (label, function returning a result). Each result is observed with
    check (checks.array by default): against expected[i] in a visible check (a list in the order of the
    ways), against the reference run's result of the same way while grading.
    """
    check = check or checks.array
    expected = [checks.WITHHELD] * len(ways) if expected is None else expected
    checks.either(name, *((label, lambda label=label, run=run, want=want: check(f"{name}, {label}", run, want,
                                                                                 **tolerances))
                          for (label, run), want in zip(ways, expected)))


def layer_ways(namespace=None):
    """
    The two helpers that list the ways of checking a layer, for the notebook that calls this (or whose
    names are ``namespace``): the stand-ins of LAYER_WAYS are swapped in there, by name.

    - layer_forward_ways(forward): pairs (label, function returning the layer's out), forward() being the
      layer's forward pass returning (out, cache);
    - layer_backward_ways(name, forward, backward, keys): for each way, two ways of checking the backward
      pass, with the cache of the student's forward pass and with the recommended cache (made by a correct
      forward pass while grading, by the student's in their notebook); pairs (label, function returning
      the gradients by keys).
    """
    if namespace is None:
        namespace = sys._getframe(1).f_globals

    def layer_forward_ways(forward):
        def run(label):
            result = checks.with_stand_ins(LAYER_WAYS[label], forward, namespace)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise checks.CheckFailed("the layer's forward pass must return (out, cache)")
            return result[0]
        return [(label, lambda label=label: run(label)) for label in LAYER_WAYS]

    def layer_backward_ways(name, forward, backward, keys):
        def gradients(label, recommended):
            stand_ins = LAYER_WAYS[label]
            if recommended:
                cache = checks.supplied(f"{name}: recommended cache, {label}",
                                        lambda: checks.with_stand_ins(stand_ins, forward, namespace)[1])
            else:
                result = checks.run(f"{name} (your forward pass, for its cache)",
                                    lambda: checks.with_stand_ins(stand_ins, forward, namespace))
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise checks.CheckFailed("the layer's forward pass must return (out, cache)")
                cache = result[1]
            result = checks.run(name, lambda: checks.with_stand_ins(stand_ins, lambda: backward(cache), namespace))
            return checks.returned(name, result, keys)

        return [(f"{label}, {which}", lambda label=label, recommended=recommended: gradients(label, recommended))
                for label in LAYER_WAYS for recommended, which in ((False, "your cache"), (True, "the recommended cache"))]

    return layer_forward_ways, layer_backward_ways


def random_directions(params, seed):
    """One fixed random direction (an array of the parameter's shape) per parameter of a dict."""
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(value.shape) for name, value in sorted(params.items())}


def along(grads, directions):
    """The directional derivatives of a gradient dict, sum(grads[name] * directions[name]) per parameter."""
    return {name: float(np.sum(np.asarray(grads[name]) * direction)) for name, direction in directions.items()}


def numerical_gradients_along(loss, params, directions, h=1e-5):
    """
    Numerical directional derivatives of a model's loss: (L(p + h d) - L(p - h d)) / 2h for each parameter
    name and direction d of directions.

    Inputs:
    - loss: a function of no arguments returning the loss of the model whose parameter dict is params.
    - params: that dict; each parameter is replaced while its derivative is taken, then put back.
    - directions: dict name -> array of the parameter's shape; h: the step.

    Returns: dict name -> float, or None if the loss raised (the check of that way then fails on its own).
    """
    numeric = {}
    try:
        for name, direction in directions.items():
            value = params[name].copy()
            params[name] = value + h * direction
            plus = loss()
            params[name] = value - h * direction
            minus = loss()
            params[name] = value
            numeric[name] = (plus - minus) / (2 * h)
    except Exception:  # noqa: BLE001 - the check of this way then fails on its own
        return None
    return numeric
