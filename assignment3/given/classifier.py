"""A small pretrained CIFAR-10 ConvNet for the visualisation notebooks (given code, assignment 3).

    from given.classifier import load_pretrained_classifier, CIFAR10_CLASSES
    model = load_pretrained_classifier()            # weights shipped in cs231n/pretrained; float64
    X = model.preprocess(images_uint8)              # (N, 32, 32, 3) uint8 -> (N, 3, 32, 32) float64
    scores, caches = model.forward(X)               # (N, 10) class scores
    dX = model.backward(dscores, caches)            # gradient of sum(scores * dscores) w.r.t. X

Architecture (every convolution 3x3, stride 1, pad 1; every pooling 2x2 max, stride 2):

    conv1 (3 -> C1) - relu1 - pool1 - conv2 (C1 -> C2) - relu2 - pool2 - conv3 (C2 -> C3) - relu3 - pool3
    - fc (C3 * 4 * 4 -> 10)

with (C1, C2, C3) = (32, 64, 128) for the shipped weights. Everything up to pool3 is convolutional,
so `forward(X, upto="relu3")` works on any image size divisible by 8; only the final `fc` layer needs
32x32 inputs. There is no batch normalisation and no dropout: the network is exactly the list above.

The model is a list of layer objects (`model.layers`, named by `model.layer_names`), each with
`.forward(x) -> (out, cache)` and `.backward(dout, cache) -> dx`, so that a notebook can walk the
layers itself (guided backpropagation, for instance, changes what happens at the ReLUs).
Layers read their parameters from `model.params` at call time. The module computes in the dtype of
the input X (float64 for the visualisations; float32 is used for training, see train_classifier.py).

The weights live in the course package (`cs231n.pretrained`), which holds data only; this module
holds the model code because it is built from assignment 2's solutions (given.layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cs231n.data import CIFAR10_CLASSES  # the ten class names in label order ("airplane", ..., "truck")
from cs231n.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast

from .layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss

__all__ = [
    "CIFAR10_CLASSES",
    "DEFAULT_WIDTHS",
    "LAYER_NAMES",
    "ConvLayer",
    "ConvNetClassifier",
    "FCLayer",
    "PoolLayer",
    "ReLULayer",
    "initial_params",
    "load_pretrained_classifier",
]

#: Channel widths (C1, C2, C3) of the three convolutions of the shipped weights.
DEFAULT_WIDTHS: tuple[int, int, int] = (32, 64, 128)

#: The layers in order. Parameters are named "<layer>_W" and "<layer>_b" (conv1_W, ..., fc_b).
LAYER_NAMES: tuple[str, ...] = (
    "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "pool3", "fc",
)  # fmt: skip

CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}
IMAGE_SIZE = 32  # the fc layer expects 32x32 inputs (4x4 after three poolings)


# --------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------


class Layer:
    """
    One layer of the network. Subclasses set `kind` and implement `forward` and `backward_all`.

    Attributes:
    - name: the layer's name ("conv1", "relu1", ...)
    - kind: "conv", "relu", "pool" or "fc"
    - param_names: names of its parameters in the model's params dict (empty for relu and pool)
    """

    kind = ""

    def __init__(self, name: str, params: dict[str, np.ndarray] | None = None) -> None:
        self.name = name
        self._params = params if params is not None else {}
        self.param_names: tuple[str, ...] = ()

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        """
        Inputs:
        - x: the layer's input

        Returns:
        - out: the layer's output
        - cache: what backward needs
        """
        raise NotImplementedError

    def backward_all(self, dout: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """
        Inputs:
        - dout: upstream gradient, shaped like the forward output
        - cache: from forward

        Returns:
        - dx: gradient with respect to the input x
        - grads: gradients of the layer's parameters, keyed by their names in the params dict
        """
        raise NotImplementedError

    def backward(self, dout: np.ndarray, cache: object) -> np.ndarray:
        """
        Inputs:
        - dout: upstream gradient, shaped like the forward output
        - cache: from forward

        Returns:
        - dx: gradient with respect to the input x (parameter gradients are discarded)
        """
        return self.backward_all(dout, cache)[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r})"


class ConvLayer(Layer):
    """3x3 convolution, stride 1, pad 1: (N, C, H, W) -> (N, F, H, W).

    Parameters: <name>_W (F, C, 3, 3) and <name>_b (F,).
    """

    kind = "conv"

    def __init__(self, name: str, params: dict[str, np.ndarray]) -> None:
        super().__init__(name, params)
        self.param_names = (f"{name}_W", f"{name}_b")

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        w, b = (self._params[k] for k in self.param_names)
        return conv_forward_fast(x, w, b, CONV_PARAM)

    def backward_all(self, dout: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        dx, dw, db = conv_backward_fast(dout, cache)
        return dx, dict(zip(self.param_names, (dw, db), strict=True))


class ReLULayer(Layer):
    """Elementwise max(0, x), any shape."""

    kind = "relu"

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        return relu_forward(x)

    def backward_all(self, dout: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return relu_backward(dout, cache), {}


class PoolLayer(Layer):
    """2x2 max pooling, stride 2: (N, C, H, W) -> (N, C, H / 2, W / 2); H and W must be even."""

    kind = "pool"

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        return max_pool_forward_fast(x, POOL_PARAM)

    def backward_all(self, dout: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return max_pool_backward_fast(dout, cache), {}


class FCLayer(Layer):
    """Fully connected: (N, C, 4, 4) -> (N, 10) class scores.

    Parameters: <name>_W (C * 16, 10) and <name>_b (10,).
    """

    kind = "fc"

    def __init__(self, name: str, params: dict[str, np.ndarray]) -> None:
        super().__init__(name, params)
        self.param_names = (f"{name}_W", f"{name}_b")

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, object]:
        w, b = (self._params[k] for k in self.param_names)
        if x.ndim != 4 or x[0].size != w.shape[0]:
            raise ValueError(
                f"layer {self.name!r} needs (N, {w.shape[0] // 16}, 4, 4) activations, i.e. 32x32 images; "
                f"got {x.shape}. The layers before it work on any size divisible by 8 (use forward(X, upto=...))."
            )
        return affine_forward(x, w.astype(x.dtype, copy=False), b.astype(x.dtype, copy=False))

    def backward_all(self, dout: np.ndarray, cache: object) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        dx, dw, db = affine_backward(dout, cache)
        return dx, dict(zip(self.param_names, (dw, db), strict=True))


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------


def initial_params(
    widths: Sequence[int] = DEFAULT_WIDTHS, seed: int = 0, dtype: np.dtype | type = np.float32
) -> dict[str, np.ndarray]:
    """
    Random initial parameters (He initialisation: normal with std sqrt(2 / fan_in), zero biases).

    Inputs:
    - widths: channel widths (C1, C2, C3) of the three convolutions
    - seed: seed of the random generator
    - dtype: dtype of the arrays

    Returns:
    - params: conv1_W (C1, 3, 3, 3), conv1_b (C1,), conv2_W (C2, C1, 3, 3), conv2_b (C2,),
      conv3_W (C3, C2, 3, 3), conv3_b (C3,), fc_W (C3 * 16, 10), fc_b (10,)
    """
    if len(widths) != 3:
        raise ValueError(f"widths must hold three channel counts (C1, C2, C3); got {widths!r}")
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    c_in = 3
    for i, c_out in enumerate(widths, start=1):
        fan_in = c_in * 9
        params[f"conv{i}_W"] = (rng.standard_normal((c_out, c_in, 3, 3)) * np.sqrt(2.0 / fan_in)).astype(dtype)
        params[f"conv{i}_b"] = np.zeros(c_out, dtype=dtype)
        c_in = c_out
    fan_in = c_in * 16
    params["fc_W"] = (rng.standard_normal((fan_in, 10)) * np.sqrt(1.0 / fan_in)).astype(dtype)
    params["fc_b"] = np.zeros(10, dtype=dtype)
    return params


def _widths_of(params: dict[str, np.ndarray]) -> tuple[int, int, int]:
    """The (C1, C2, C3) of a params dict, after checking that every shape fits the architecture."""
    expected = _param_keys()
    missing = sorted(expected - set(params))
    if missing:
        raise ValueError(f"the parameters lack {missing}; expected exactly {sorted(expected)}")
    widths = tuple(int(params[f"conv{i}_W"].shape[0]) for i in (1, 2, 3))
    c_in = 3
    for i, c_out in enumerate(widths, start=1):
        for key, shape in ((f"conv{i}_W", (c_out, c_in, 3, 3)), (f"conv{i}_b", (c_out,))):
            if params[key].shape != shape:
                raise ValueError(f"{key} has shape {params[key].shape}; expected {shape}")
        c_in = c_out
    for key, shape in (("fc_W", (c_in * 16, 10)), ("fc_b", (10,))):
        if params[key].shape != shape:
            raise ValueError(f"{key} has shape {params[key].shape}; expected {shape}")
    return widths  # type: ignore[return-value]


class ConvNetClassifier:
    """
    The CIFAR-10 ConvNet of this module (see the module docstring for the architecture).

    Attributes:
    - params: dict of parameter arrays (conv1_W, conv1_b, ..., fc_W, fc_b); read only by convention
    - pixel_mean, pixel_std: (3,) per-channel mean and standard deviation (pixel units 0..255) used
      by preprocess / deprocess
    - widths: (C1, C2, C3)
    - layers: list of layer objects, with .name, .kind, .forward(x), .backward(dout, cache)
    - layer_names: list of their names
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        pixel_mean: Sequence[float] | np.ndarray = (127.5, 127.5, 127.5),
        pixel_std: Sequence[float] | np.ndarray = (64.0, 64.0, 64.0),
        dtype: np.dtype | type = np.float64,
    ) -> None:
        """
        Inputs:
        - params: parameter arrays as returned by initial_params (copied, cast to dtype)
        - pixel_mean, pixel_std: per-channel preprocessing statistics, 3 values each (pixel units)
        - dtype: dtype of the parameters (float64 for the notebooks, float32 for training)
        """
        self.widths = _widths_of(params)
        self.dtype = np.dtype(dtype)
        self.params = {k: np.array(v, dtype=self.dtype) for k, v in params.items() if k in _param_keys()}
        self.pixel_mean = np.asarray(pixel_mean, dtype=np.float64).reshape(3)
        self.pixel_std = np.asarray(pixel_std, dtype=np.float64).reshape(3)
        if np.any(self.pixel_std <= 0):
            raise ValueError(f"pixel_std must be positive; got {self.pixel_std}")
        self.layers: list[Layer] = []
        for name in LAYER_NAMES:
            if name.startswith("conv"):
                self.layers.append(ConvLayer(name, self.params))
            elif name.startswith("relu"):
                self.layers.append(ReLULayer(name))
            elif name.startswith("pool"):
                self.layers.append(PoolLayer(name))
            else:
                self.layers.append(FCLayer(name, self.params))
        self.layer_names: list[str] = [layer.name for layer in self.layers]

    # ---------------------------------------------------------------------------------------------
    # Images <-> network inputs

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        """
        Images to network inputs: channels first, minus the per-channel mean, divided by the std.

        Inputs:
        - images: (N, H, W, 3) pixel values in 0..255 (uint8 or any real dtype); a single (H, W, 3)
          image is treated as a batch of one

        Returns:
        - X: (N, 3, H, W) in the model's dtype (float64 for load_pretrained_classifier)
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"preprocess needs images of shape (N, H, W, 3); got {images.shape}")
        X = (images.astype(np.float64) - self.pixel_mean) / self.pixel_std
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2), dtype=self.dtype)

    def deprocess(self, X: np.ndarray) -> np.ndarray:
        """
        Network inputs back to images (the inverse of preprocess), rounded and clipped to 0..255.

        Inputs:
        - X: (N, 3, H, W); a single (3, H, W) input is treated as a batch of one

        Returns:
        - images: uint8 (N, H, W, 3)
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 3:
            X = X[None]
        if X.ndim != 4 or X.shape[1] != 3:
            raise ValueError(f"deprocess needs X of shape (N, 3, H, W); got {X.shape}")
        images = X.transpose(0, 2, 3, 1) * self.pixel_std + self.pixel_mean
        return np.clip(np.rint(images), 0, 255).astype(np.uint8)

    # ---------------------------------------------------------------------------------------------
    # Forward and backward

    def _stop_index(self, upto: str | None) -> int:
        if upto is None:
            return len(self.layers)
        if upto not in self.layer_names:
            raise ValueError(f"unknown layer {upto!r}; the layers are {self.layer_names}")
        return self.layer_names.index(upto) + 1

    def forward(self, X: np.ndarray, upto: str | None = None) -> tuple[np.ndarray, list]:
        """
        Run the layers in order, from the first up to and including `upto`.

        Inputs:
        - X: (N, 3, H, W) preprocessed images (H = W = 32 when the fc layer runs; otherwise any
          size divisible by 8). Computed in X's dtype if float32/float64.
        - upto: name of the last layer to run (one of layer_names); None runs them all

        Returns:
        - out: the output of layer `upto`: (N, 10) class scores by default, (N, C, H', W') otherwise
        - caches: list with one cache per layer run, in order (for backward)
        """
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 4 or X.shape[1] != 3:
            raise ValueError(f"forward needs X of shape (N, 3, H, W); got {X.shape}")
        out = X
        caches = []
        for layer in self.layers[: self._stop_index(upto)]:
            out, cache = layer.forward(out)
            caches.append(cache)
        return out, caches

    def backward_all(self, dout: np.ndarray, caches: list) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """
        Backpropagate through the layers that produced `caches` (the last one first).

        Inputs:
        - dout: gradient with respect to the output of that forward call, shaped like it
        - caches: the caches returned by forward

        Returns:
        - dX: (N, 3, H, W) gradient with respect to X of sum(out * dout)
        - grads: gradients of the parameters of the layers that ran, keyed like params
        """
        if not 1 <= len(caches) <= len(self.layers):
            raise ValueError(f"caches must come from forward (1 to {len(self.layers)} layers); got {len(caches)}")
        grads: dict[str, np.ndarray] = {}
        d = dout
        for layer, cache in zip(reversed(self.layers[: len(caches)]), reversed(caches), strict=True):
            d, layer_grads = layer.backward_all(d, cache)
            grads.update(layer_grads)
        return d, grads

    def backward(self, dout: np.ndarray, caches: list) -> np.ndarray:
        """
        Gradient with respect to the input X of sum(out * dout), where out, caches = forward(X, upto).

        Inputs:
        - dout: shaped like that out
        - caches: the caches returned by forward

        Returns:
        - dX: (N, 3, H, W)
        """
        return self.backward_all(dout, caches)[0]

    def scores(self, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """
        Class scores, computed in batches.

        Inputs:
        - X: (N, 3, 32, 32) preprocessed images
        - batch_size: images per forward pass

        Returns:
        - scores: (N, 10) float64
        """
        X = np.asarray(X)
        parts = [self.forward(X[i : i + batch_size])[0] for i in range(0, X.shape[0], batch_size)]
        if not parts:
            return np.zeros((0, 10))
        return np.concatenate(parts).astype(np.float64, copy=False)

    def predict(self, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """
        Inputs:
        - X: (N, 3, 32, 32) preprocessed images

        Returns:
        - y_pred: (N,) int64 predicted labels (indices into CIFAR10_CLASSES)
        """
        return np.argmax(self.scores(X, batch_size), axis=1)

    def loss(self, X: np.ndarray, y: np.ndarray, reg: float = 0.0) -> tuple[float, dict[str, np.ndarray]]:
        """
        Softmax cross-entropy loss plus L2 regularisation of the weights, and its parameter gradients
        (for training).

        Inputs:
        - X: (N, 3, 32, 32) preprocessed images
        - y: (N,) labels in 0..9
        - reg: L2 strength; adds 0.5 * reg * sum(W ** 2) over the four weight arrays (not the biases)

        Returns:
        - loss: float
        - grads: dict like params
        """
        scores, caches = self.forward(X)
        loss, dscores = softmax_loss(scores, y)
        _, grads = self.backward_all(dscores, caches)
        for key, w in self.params.items():
            if key.endswith("_W") and reg:
                loss += 0.5 * reg * float(np.sum(w.astype(np.float64) ** 2))
                grads[key] = grads[key] + reg * w
        return float(loss), grads

    def state(self) -> dict[str, np.ndarray]:
        """
        Returns:
        - arrays: float32 copies of the parameters plus "pixel_mean" and "pixel_std" (3,), i.e. what
          cs231n.pretrained stores in the weights file
        """
        arrays = {k: v.astype(np.float32) for k, v in self.params.items()}
        arrays["pixel_mean"] = self.pixel_mean.astype(np.float32)
        arrays["pixel_std"] = self.pixel_std.astype(np.float32)
        return arrays

    def __repr__(self) -> str:
        c1, c2, c3 = self.widths
        return f"ConvNetClassifier(widths=({c1}, {c2}, {c3}), dtype={self.dtype.name}, layers={self.layer_names})"


def _param_keys() -> set[str]:
    return {f"{n}_{p}" for n in LAYER_NAMES if n.startswith(("conv", "fc")) for p in "Wb"}


def load_pretrained_classifier(path: str | None = None, dtype: np.dtype | type = np.float64) -> ConvNetClassifier:
    """
    The ConvNet with the weights shipped in the course package (no network access).

    Inputs:
    - path: a weights file to load instead of the shipped one (as written by
      `python -m given.train_classifier --out PATH`); its digest is not checked
    - dtype: dtype of the parameters and of preprocess's output (float64 by default)

    Returns:
    - model: a ConvNetClassifier

    Raises cs231n.pretrained.WeightsError (naming the training command) if the file is missing or corrupt.
    """
    from cs231n.pretrained import load_weights

    arrays = load_weights(path)
    return ConvNetClassifier(arrays, arrays["pixel_mean"], arrays["pixel_std"], dtype=dtype)
