"""Given layers for the captioning models: an affine layer and a softmax loss applied at every time step.

A minibatch of sequences has shape (N, T, ...): N sequences of T time steps each. The recurrent layers
themselves (vanilla RNN, LSTM) and the word embedding are written by the students in the notebooks;
these two layers sit around them:

    h (N, T, H) --temporal_affine_forward--> scores (N, T, V) --temporal_softmax_loss--> loss

    scores, cache = temporal_affine_forward(h, W_vocab, b_vocab)
    loss, dscores = temporal_softmax_loss(scores, captions_out, mask)
    dh, dW_vocab, db_vocab = temporal_affine_backward(dscores, cache)
"""

from __future__ import annotations

import numpy as np


def temporal_affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """
    The same affine layer applied at every time step of every sequence.

    Inputs:
    - x: input of shape (N, T, D).
    - w: weights of shape (D, M).
    - b: biases of shape (M,).

    Returns a tuple of:
    - out: output of shape (N, T, M), out[n, t] = x[n, t] @ w + b.
    - cache: (x, w, b, out), for temporal_affine_backward.
    """
    N, T, D = x.shape
    M = b.shape[0]
    out = (x.reshape(N * T, D) @ w).reshape(N, T, M) + b
    cache = (x, w, b, out)
    return out, cache


def temporal_affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Backward pass of temporal_affine_forward.

    Inputs:
    - dout: upstream gradient of shape (N, T, M).
    - cache: from temporal_affine_forward.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, T, D).
    - dw: gradient with respect to w, shape (D, M) (summed over all N * T positions).
    - db: gradient with respect to b, shape (M,).
    """
    x, w, _, _ = cache
    N, T, D = x.shape
    M = w.shape[1]
    dout2 = dout.reshape(N * T, M)
    dx = (dout2 @ w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T @ dout2
    db = dout2.sum(axis=0)
    return dx, dw, db


def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, verbose: bool = False
) -> tuple[float, np.ndarray]:
    """
    Softmax loss at every time step, summed over time and averaged over the minibatch.

    Captions have different lengths, so the shorter ones are padded with <NULL> tokens; the mask
    says which positions hold a real target word. Masked-out positions add nothing to the loss and
    get a zero gradient:

        loss = -(1 / N) * sum_{n, t} mask[n, t] * log softmax(x[n, t])[y[n, t]]

    Inputs:
    - x: scores of shape (N, T, V) over a vocabulary of V words.
    - y: target word indices of shape (N, T), each in 0 <= y[n, t] < V.
    - mask: bool array of shape (N, T); mask[n, t] says whether the score x[n, t] counts.
    - verbose: if True, print the shape of dx (for debugging).

    Returns a tuple of:
    - loss: the scalar loss (a Python float).
    - dx: gradient of the loss with respect to x, shape (N, T, V).
    """
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T).astype(x.dtype)

    shifted = x_flat - np.max(x_flat, axis=1, keepdims=True)  # the maximum shift keeps exp() finite
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -np.sum(mask_flat * log_probs[rows, y_flat]) / N

    dx_flat = np.exp(log_probs)
    dx_flat[rows, y_flat] -= 1
    dx_flat *= mask_flat[:, None] / N
    if verbose:
        print("dx_flat:", dx_flat.shape)
    return float(loss), dx_flat.reshape(N, T, V)
