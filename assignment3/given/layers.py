"""Layers, losses and update rules from assignment 2, given for assignment 3.

Every layer follows the course's convention: ``forward(...) -> (out, cache)`` and
``backward(dout, cache) -> gradients``. Convolution and pooling use the package's fast layers.
"""

import numpy as np

from cs231n.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

# --------------------------------------------------------------------------------------------------
# Affine and ReLU
# --------------------------------------------------------------------------------------------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """
    Fully-connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k) with D = d_1 * ... * d_k
    - w: (D, M)
    - b: (M,)

    Returns:
    - out: (N, M)
    - cache: (x, w, b)
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Inputs:
    - dout: (N, M) upstream gradient
    - cache: from affine_forward

    Returns:
    - dx: (N, d_1, ..., d_k), dw: (D, M), db: (M,)
    """
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    Inputs:
    - x: array of any shape

    Returns:
    - out: max(0, x), same shape
    - cache: x
    """
    return np.maximum(0, x), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Gradient of max(0, x): dout where x > 0, else 0."""
    return dout * (cache > 0)


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Affine followed by ReLU. Returns (out, cache)."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (dx, dw, db) of affine_relu_forward."""
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


# --------------------------------------------------------------------------------------------------
# Convolution sandwiches (fast layers from the package)
# --------------------------------------------------------------------------------------------------


def conv_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict) -> tuple[np.ndarray, tuple]:
    """
    Convolution followed by ReLU.

    Inputs:
    - x: (N, C, H, W); w: (F, C, HH, WW); b: (F,)
    - conv_param: {"stride": int, "pad": int}

    Returns:
    - out: (N, F, H', W'); cache for conv_relu_backward
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (dx, dw, db) of conv_relu_forward."""
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict, pool_param: dict
) -> tuple[np.ndarray, tuple]:
    """
    Convolution, ReLU, then max pooling.

    Inputs:
    - x, w, b, conv_param: as conv_relu_forward
    - pool_param: {"pool_height": int, "pool_width": int, "stride": int}

    Returns:
    - out: pooled activations; cache for conv_relu_pool_backward
    """
    a, conv_relu_cache = conv_relu_forward(x, w, b, conv_param)
    out, pool_cache = max_pool_forward_fast(a, pool_param)
    return out, (conv_relu_cache, pool_cache)


def conv_relu_pool_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (dx, dw, db) of conv_relu_pool_forward."""
    conv_relu_cache, pool_cache = cache
    return conv_relu_backward(max_pool_backward_fast(dout, pool_cache), conv_relu_cache)


# --------------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------------


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict) -> tuple[np.ndarray, tuple]:
    """
    Batch normalisation of features (columns), with running averages for test time.

    Inputs:
    - x: (N, D); gamma, beta: (D,)
    - bn_param: "mode" ("train" or "test"), optional "eps" (1e-5), "momentum" (0.9),
      "running_mean" and "running_var" (D,) (created and updated in place in the dict)

    Returns:
    - out: (N, D); cache for batchnorm_backward (None in test mode)
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        x_hat = (x - mean) / np.sqrt(var + eps)
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, np.sqrt(var + eps))
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = None
    else:
        raise ValueError(f'batchnorm mode must be "train" or "test", not {mode!r}')
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Inputs:
    - dout: (N, D); cache: from batchnorm_forward in train mode

    Returns:
    - dx: (N, D), dgamma: (D,), dbeta: (D,)
    """
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------------------------------
# Layer normalisation
# --------------------------------------------------------------------------------------------------


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict) -> tuple[np.ndarray, tuple]:
    """
    Layer normalisation: every vector along the last axis is normalised to zero mean and unit variance
    over its own D features, then scaled and shifted. The same in training and at test time.

    Inputs:
    - x: (..., D), e.g. (N, D) or (N, T, D); gamma, beta: (D,)
    - ln_param: optional "eps" (1e-5); other keys are ignored

    Returns:
    - out: like x; cache for layernorm_backward: (x_hat, gamma, inv_std) with x_hat like x and
      inv_std = 1 / sqrt(var + eps) of shape (..., 1)
    """
    eps = ln_param.get("eps", 1e-5)
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Inputs:
    - dout: upstream gradient, like the input x of layernorm_forward; cache: from layernorm_forward

    Returns:
    - dx: like x, dgamma: (D,), dbeta: (D,) (summed over all leading axes)
    """
    x_hat, gamma, inv_std = cache
    D = dout.shape[-1]
    dbeta = dout.reshape(-1, D).sum(axis=0)
    dgamma = (dout * x_hat).reshape(-1, D).sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=-1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=-1, keepdims=True)) * inv_std
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------------------------------
# Loss and update rules
# --------------------------------------------------------------------------------------------------


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """
    Mean cross-entropy of the softmax of the scores.

    Inputs:
    - x: (N, C) scores; y: (N,) labels in [0, C)

    Returns:
    - loss: float; dx: (N, C) gradient of the loss with respect to x
    """
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return float(loss), dx / N


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Plain gradient descent: w - learning_rate * dw. config: "learning_rate" (1e-2)."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """
    Adam with bias correction.

    config: "learning_rate" (1e-3), "beta1" (0.9), "beta2" (0.999), "epsilon" (1e-8), and the state
    "m", "v" (like w) and "t" (steps taken), created on the first call.

    Returns:
    - next_w: like w; config: the updated state
    """
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = config["m"] / (1 - beta1 ** config["t"])
    v_hat = config["v"] / (1 - beta2 ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config
