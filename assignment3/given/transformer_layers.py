"""Given pieces of the Transformer notebooks (Transformer_Captioning, VisionTransformer).

The attention layers, the positional encodings, the decoder and encoder layers and the models are
written by the students in the notebooks; this module holds what sits around them and is not an
exercise of its own:

- the position-wise feed-forward block of a Transformer layer, ``ReLU(x W1 + b1) W2 + b2`` applied to
  every token (assignment 2's affine and ReLU layers, on the last axis of an array of any rank);
- the names of the parameters of an attention layer, and two helpers that cut a layer's parameters
  (or gradients) out of a model's flat parameter dict and put them back, so that a model can keep
  every parameter in one flat dict ``params`` as the given solvers expect.

Example::

    out, cache = feedforward_forward(x, W1, b1, W2, b2)          # x (N, T, D) -> out (N, T, D)
    dx, dW1, db1, dW2, db2 = feedforward_backward(dout, cache)
    attn = sub_params(params, "layer0_self_")                     # {"Wq": ..., ..., "bo": ...}
    grads.update(with_prefix(attn_grads, "layer0_self_"))         # {"layer0_self_Wq": ..., ...}
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: The parameters of one multi-head attention layer: query, key, value and output projections.
ATTENTION_KEYS: tuple[str, ...] = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


def feedforward_forward(
    x: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """
    The feed-forward block of a Transformer layer, applied to every token on its own.

    Inputs:
    - x: (..., D), e.g. (N, T, D)
    - W1: (D, F); b1: (F,); W2: (F, D); b2: (D,)

    Returns:
    - out: (..., D), out = max(0, x @ W1 + b1) @ W2 + b2
    - cache: (x, W1, W2, hidden) for feedforward_backward, hidden = max(0, x @ W1 + b1) of shape (..., F)
    """
    hidden = np.maximum(0, x @ W1 + b1)
    return hidden @ W2 + b2, (x, W1, W2, hidden)


def feedforward_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Inputs:
    - dout: (..., D) upstream gradient; cache: from feedforward_forward

    Returns:
    - dx: (..., D), dW1: (D, F), db1: (F,), dW2: (F, D), db2: (D,) (summed over all leading axes)
    """
    x, W1, W2, hidden = cache
    D, F = W1.shape
    dout2 = dout.reshape(-1, D)
    hidden2 = hidden.reshape(-1, F)
    dW2 = hidden2.T @ dout2
    db2 = dout2.sum(axis=0)
    dhidden = (dout2 @ W2.T) * (hidden2 > 0)
    dW1 = x.reshape(-1, D).T @ dhidden
    db1 = dhidden.sum(axis=0)
    dx = (dhidden @ W1.T).reshape(x.shape)
    return dx, dW1, db1, dW2, db2


def sub_params(params: Mapping[str, np.ndarray], prefix: str, keys: tuple[str, ...] = ATTENTION_KEYS) -> dict:
    """
    The parameters of one part of a model, without their prefix.

    Inputs:
    - params: a flat dict name -> array, e.g. with "layer0_self_Wq", "layer0_self_bq", ...
    - prefix: e.g. "layer0_self_"
    - keys: the names to take (default: the attention layer's ATTENTION_KEYS)

    Returns:
    - dict key -> params[prefix + key] (the same arrays, not copies)
    """
    return {key: params[prefix + key] for key in keys}


def with_prefix(grads: Mapping[str, np.ndarray], prefix: str) -> dict:
    """
    Inputs:
    - grads: dict key -> array, e.g. the gradients of an attention layer {"Wq": ..., ...}
    - prefix: e.g. "layer0_self_"

    Returns:
    - dict prefix + key -> array
    """
    return {prefix + key: value for key, value in grads.items()}


def layer_of(params: Mapping[str, np.ndarray], l: int) -> dict:
    """
    Inputs:
    - params: a model's flat parameter dict, with the parameters of layer l named "layer{l}_..."
    - l: the layer

    Returns:
    - dict name -> array of layer l's parameters, without the prefix "layer{l}_" (the same arrays)
    """
    prefix = f"layer{l}_"
    return {name[len(prefix):]: value for name, value in params.items() if name.startswith(prefix)}


def init_layer(D: int, F: int, num_norms: int, attention_parts: tuple[str, ...]) -> dict:
    """
    The parameters of one pre-norm Transformer layer, without a layer prefix, with small random values
    drawn from np.random (in this order: the attention parts, then the feed-forward block).

    Inputs:
    - D: the size of the tokens; F: the hidden size of the feed-forward block
    - num_norms: the layer norms, ln1_gamma/ln1_beta ... (gamma ones, beta zeros, each (D,))
    - attention_parts: the prefixes of the attention layers, e.g. ("self_", "cross_"); each gets the
      ATTENTION_KEYS (weights (D, D) of scale 1 / sqrt(D), biases (D,) zero)

    Returns:
    - dict name -> float64 array, also ffn_W1 (D, F) of scale sqrt(2 / D), ffn_b1 (F,), ffn_W2 (F, D) of
      scale 1 / sqrt(F), ffn_b2 (D,)
    """
    params = {}
    for i in range(1, num_norms + 1):
        params[f"ln{i}_gamma"], params[f"ln{i}_beta"] = np.ones(D), np.zeros(D)
    for part in attention_parts:
        for key in ATTENTION_KEYS:
            params[part + key] = np.random.randn(D, D) / np.sqrt(D) if key.startswith("W") else np.zeros(D)
    params["ffn_W1"], params["ffn_b1"] = np.random.randn(D, F) * np.sqrt(2 / D), np.zeros(F)
    params["ffn_W2"], params["ffn_b2"] = np.random.randn(F, D) / np.sqrt(F), np.zeros(D)
    return params
