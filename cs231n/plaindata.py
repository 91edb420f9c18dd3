"""Plain data across a process boundary: numbers, strings, lists, tuples, dicts and NumPy arrays.

The grading kernel hands the results of a student's code to the grader as plain data, and the grader
hands reference inputs to the kernel the same way. Both directions use this codec: JSON text in which
arrays travel as base64 bytes with their dtype and shape. Decoding builds nothing but ``None``,
``bool``, ``int``, ``float``, ``complex``, ``str``, ``list``, ``tuple``, ``dict`` and ``np.ndarray``
of a builtin numeric dtype: no pickle, no object arrays, no custom classes, and the text is bounded
in size and nesting depth before it is parsed.

    text = encode({"dx": dx, "loss": 1.25})
    value = decode(text)            # equal values, plain types only
"""

import base64
import json
from typing import Any

import numpy as np

#: dtypes an array may have on the wire (bool, integers, floats, complex numbers).
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
#: Largest encoded text accepted by ``decode`` (bytes of JSON).
MAX_BYTES = 256 * 1024 * 1024
#: Deepest nesting accepted (lists in dicts in tuples ...).
MAX_DEPTH = 40

_ARRAY, _TUPLE, _DICT, _COMPLEX = "__array__", "__tuple__", "__dict__", "__complex__"


class NotPlainData(TypeError):
    """A value that cannot travel as plain data (an object, a set, an array of objects ...)."""


def to_plain(value: Any, _depth: int = 0) -> Any:
    """The JSON-ready form of ``value`` (raises NotPlainData for anything else).

    Inputs:
    - value: None, bool, int, float, complex, str, NumPy scalars and arrays of a builtin numeric
      dtype, and lists, tuples and dicts of these (dict keys: str, int, float, bool, None or tuples).
    Returns:
    - nested lists, dicts, strings and numbers that ``json.dumps`` writes.
    """
    if _depth > MAX_DEPTH:
        raise NotPlainData("nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, complex):
        return {_COMPLEX: [value.real, value.imag]}
    if isinstance(value, np.generic):
        if value.dtype.kind in "fc" and value.dtype.name not in DTYPES:  # extended precision: as float64
            value = value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)
        if value.dtype.name not in DTYPES:
            raise NotPlainData(f"a NumPy scalar of dtype {value.dtype}")
        return to_plain(value.item(), _depth)
    if isinstance(value, np.ndarray):
        arr = np.asarray(value).view(np.ndarray)
        arr = arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
        if arr.dtype.kind in "fc" and arr.dtype.name not in DTYPES:  # extended precision: as float64
            arr = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)
        if arr.dtype.name not in DTYPES:
            raise NotPlainData(f"an array of dtype {arr.dtype}")
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        return {_ARRAY: {"dtype": arr.dtype.name, "shape": list(arr.shape),
                         "data": base64.b64encode(arr.tobytes()).decode("ascii")}}
    if isinstance(value, tuple):
        return {_TUPLE: [to_plain(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [to_plain(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {_DICT: [[_key(k, _depth + 1), to_plain(v, _depth + 1)] for k, v in value.items()]}
    raise NotPlainData(f"a {type(value).__name__}")


def _key(key: Any, depth: int) -> Any:
    if key is None or isinstance(key, bool | int | float | str):
        return key
    if isinstance(key, np.generic) and key.dtype.name in DTYPES:
        return key.item()
    if isinstance(key, tuple):
        return {_TUPLE: [_key(k, depth + 1) for k in key]}
    raise NotPlainData(f"a dict key of type {type(key).__name__}")


def encode(value: Any) -> str:
    """``value`` as JSON text (see ``to_plain`` for what it may hold)."""
    return json.dumps(to_plain(value), separators=(",", ":"))


def from_plain(obj: Any, _depth: int = 0) -> Any:
    """Inverse of ``to_plain`` on parsed JSON; rejects anything ``to_plain`` cannot produce."""
    if _depth > MAX_DEPTH:
        raise ValueError("plain data nested too deeply")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, list):
        return [from_plain(v, _depth + 1) for v in obj]
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError("not plain data: an object that is no array, tuple, dict or complex number")
    (tag, body), = obj.items()
    if tag == _ARRAY:
        return _array(body)
    if tag == _TUPLE and isinstance(body, list):
        return tuple(from_plain(v, _depth + 1) for v in body)
    if tag == _DICT and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError("not plain data: a malformed dict entry")
            key = from_plain(pair[0], _depth + 1)
            if isinstance(key, list | dict | np.ndarray):
                raise ValueError("not plain data: an unhashable dict key")
            out[key] = from_plain(pair[1], _depth + 1)
        return out
    if tag == _COMPLEX and isinstance(body, list) and len(body) == 2 and all(isinstance(v, int | float)
                                                                               for v in body):
        return complex(body[0], body[1])
    raise ValueError(f"not plain data: unknown tag {tag!r}")


def _array(body: Any) -> np.ndarray:
    if not (isinstance(body, dict) and set(body) == {"dtype", "shape", "data"}):
        raise ValueError("not plain data: a malformed array")
    dtype, shape, data = body["dtype"], body["shape"], body["data"]
    if dtype not in DTYPES:
        raise ValueError(f"not plain data: an array of dtype {dtype!r}")
    if not (isinstance(shape, list) and len(shape) <= 32
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise ValueError("not plain data: a malformed array shape")
    if not isinstance(data, str):
        raise ValueError("not plain data: array bytes are not text")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    dt = np.dtype(dtype).newbyteorder("<")
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
        raise ValueError("not plain data: array bytes do not match its shape")
    return np.frombuffer(raw, dtype=dt).astype(np.dtype(dtype), copy=True).reshape(shape)


def decode(text: str | bytes, max_bytes: int = MAX_BYTES) -> Any:
    """Parse text written by ``encode``; raises ValueError for anything else or anything too large."""
    if len(text) > max_bytes:
        raise ValueError(f"plain data larger than {max_bytes} bytes")
    try:
        parsed = json.loads(text)
    except RecursionError:
        raise ValueError("plain data nested too deeply") from None
    return from_plain(parsed)


def roundtrip(value: Any) -> Any:
    """``decode(encode(value))`` without the text: what the other side of the boundary will see."""
    return from_plain(json.loads(json.dumps(to_plain(value))))
