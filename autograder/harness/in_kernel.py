"""The only grader code that runs inside a learner's kernel, and the data format both sides share.

Its *source text* is sent to the sandboxed kernel after the learner's notebook has run; the
kernel then receives requests — "call ``quat_multiply`` on these arrays", "read the variable
``ANSWER_Q5``" — and answers with plain data. Nothing in here knows an expected value: hidden
checks are evaluated in the grader process (``autograder.checks.function``), which imports this same
module to decode the answers.

Wire format (JSON): a value is one of
``{"t": "none"}``, ``{"t": "bool", "v": b}``, ``{"t": "int", "v": "123"}``,
``{"t": "float", "v": "1.5"}`` (``repr``, so ``nan``/``inf`` survive),
``{"t": "complex", "re": "…", "im": "…"}``, ``{"t": "str", "v": s}``,
``{"t": "list" | "tuple", "v": [...]}``, ``{"t": "dict", "v": {key: value}}``,
``{"t": "nd", "npy": base64}`` (a NumPy ``.npy`` file, read with ``allow_pickle=False``),
``{"t": "torch", "npy": base64, "grad": bool}`` (a tensor, sent as its array),
``{"t": "sympy", "tree": …}`` (an expression tree, rebuilt by ``autograder.checks.sympy_tree`` from an
allow-list of sympy classes — never ``sympify``/``parse_expr``).

Requests: ``{"id": n, "mode": "call", "fn": name, "args": [...], "kwargs": {...}}``;
``{"mode": "value", "name": name}``; ``{"mode": "vjp", "fn": name, "args": [...], "wrt": [i, ...],
"cotangent": value}`` (calls with torch tensors, returns the output and the gradients of
``Re⟨cotangent, output⟩`` with respect to the arguments ``wrt``); ``{"mode": "method",
"cls": name, "init": [...], "init_kwargs": {...}, "method": name, "args": [...]}`` (constructs
``cls(*init, **init_kwargs)`` and calls the method; with a ``"cotangent"`` it returns, like
``vjp``, the output and the gradients of ``Re⟨cotangent, output⟩`` with respect to the object's
``named_parameters()``, as a dict by name — e.g. a ``torch.nn.Module``'s learnable weights).
Answers: ``{"id": n, "ok": true, "value": …, "seconds": s}`` or
``{"id": n, "ok": false, "error": "TypeError: …"}``.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np

MIME = "application/vnd.cryoem-course.results+json"

#: Limits on what either side accepts.
MAX_ELEMENTS = 1 << 24
MAX_DEPTH = 32
MAX_ITEMS = 10_000
MAX_STR = 100_000
MAX_INT_DIGITS = 400
_NUMERIC_KINDS = "biufc"


class DecodeError(ValueError):
    """A value on the wire is malformed, too large, or of a forbidden type."""


def _npy_bytes(arr: np.ndarray) -> str:
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"arrays of dtype {arr.dtype} cannot be sent (numbers only)")
    if arr.size > MAX_ELEMENTS:
        raise ValueError(f"array of {arr.size} elements is too large to send")
    buf = io.BytesIO()
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    np.save(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _npy_array(b64: Any) -> np.ndarray:
    if not isinstance(b64, str) or len(b64) > 4 * MAX_ELEMENTS * 16 // 3 + 1024:
        raise DecodeError("array payload missing or too large")
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # ValueError for pickled/object arrays, among others
        raise DecodeError(f"not a plain .npy array ({type(exc).__name__})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in _NUMERIC_KINDS:
        raise DecodeError("only numeric arrays are accepted")
    if arr.size > MAX_ELEMENTS:
        raise DecodeError("array too large")
    return arr


def encode_value(obj: Any, depth: int = 0) -> dict[str, Any]:
    """Encode plain data (see the module docstring). Raises ``TypeError`` for anything else."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool | np.bool_):
        return {"t": "bool", "v": bool(obj)}
    if isinstance(obj, int | np.integer):
        s = str(int(obj))
        if len(s) > MAX_INT_DIGITS:
            raise ValueError("integer too large")
        return {"t": "int", "v": s}
    if isinstance(obj, np.float32 | np.float16):  # keep the dtype: float32 results are checked
        return {"t": "nd", "npy": _npy_bytes(np.asarray(obj))}
    if isinstance(obj, float | np.floating):
        return {"t": "float", "v": repr(float(obj))}
    if isinstance(obj, complex | np.complexfloating):
        c = complex(obj)
        return {"t": "complex", "re": repr(c.real), "im": repr(c.imag)}
    if isinstance(obj, str):
        if len(obj) > MAX_STR:
            raise ValueError("string too long")
        return {"t": "str", "v": str(obj)}
    if type(obj) is np.ndarray:
        return {"t": "nd", "npy": _npy_bytes(obj)}
    if isinstance(obj, list | tuple):
        if len(obj) > MAX_ITEMS:
            raise ValueError("sequence too long")
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"t": kind, "v": [encode_value(x, depth + 1) for x in obj]}
    if isinstance(obj, dict):
        if len(obj) > MAX_ITEMS or not all(isinstance(k, str) for k in obj):
            raise TypeError("only dicts with string keys can be sent")
        return {"t": "dict", "v": {str(k): encode_value(v, depth + 1) for k, v in obj.items()}}
    mod = type(obj).__module__ or ""
    if mod.startswith("torch") and type(obj).__name__ in ("Tensor", "Parameter"):
        t = obj.detach().cpu()
        if t.is_conj():
            t = t.resolve_conj()
        return {"t": "torch", "npy": _npy_bytes(t.numpy()), "grad": bool(obj.requires_grad)}
    if mod.startswith("sympy"):
        return {"t": "sympy", "tree": _sympy_tree(obj, 0)}
    raise TypeError(f"cannot send a value of type {type(obj).__name__}")


def _sympy_tree(e: Any, depth: int) -> Any:
    import sympy

    if depth > 200:
        raise ValueError("expression nested too deeply")
    if isinstance(e, sympy.MatrixBase):
        return {
            "m": [[_sympy_tree(e[i, j], depth + 1) for j in range(e.cols)] for i in range(e.rows)]
        }
    if not isinstance(e, sympy.Basic):
        if isinstance(e, int | float):
            return _sympy_tree(sympy.sympify(e), depth + 1)
        raise TypeError(f"{type(e).__name__} inside a sympy expression")
    if e.is_Symbol:
        return {"s": str(e.name)}
    if e.is_Integer:
        return {"i": str(int(e))}
    if e.is_Rational:
        return {"q": [str(e.p), str(e.q)]}
    if e.is_Float:
        return {"f": str(e)}
    if e is sympy.pi:
        return {"c": "pi"}
    if e is sympy.E:
        return {"c": "E"}
    if e is sympy.I:
        return {"c": "I"}
    return {"fn": type(e).__name__, "a": [_sympy_tree(a, depth + 1) for a in e.args]}


def decode_value(obj: Any, depth: int = 0, torch_args: bool = False) -> Any:
    """Decode a wire value into Python/NumPy data; sympy trees stay trees (see codec).

    Raises ``DecodeError`` for anything malformed, oversized or not plain data. With
    ``torch_args`` (kernel side), ``torch`` values become tensors.
    """
    if depth > MAX_DEPTH or not isinstance(obj, dict):
        raise DecodeError("malformed value")
    t = obj.get("t")
    v = obj.get("v")
    if t == "none":
        return None
    if t == "bool" and isinstance(v, bool):
        return v
    if t == "int" and isinstance(v, str) and len(v) <= MAX_INT_DIGITS:
        try:
            return int(v)
        except ValueError:
            raise DecodeError("malformed int") from None
    if t == "float" and isinstance(v, str) and len(v) < 64:
        try:
            return float(v)
        except ValueError:
            raise DecodeError("malformed float") from None
    if t == "complex":
        try:
            return complex(float(obj["re"]), float(obj["im"]))
        except (KeyError, TypeError, ValueError):
            raise DecodeError("malformed complex") from None
    if t == "str" and isinstance(v, str) and len(v) <= MAX_STR:
        return v
    if t in ("list", "tuple") and isinstance(v, list) and len(v) <= MAX_ITEMS:
        items = [decode_value(x, depth + 1, torch_args) for x in v]
        return items if t == "list" else tuple(items)
    if t == "dict" and isinstance(v, dict) and len(v) <= MAX_ITEMS:
        return {str(k): decode_value(x, depth + 1, torch_args) for k, x in v.items()}
    if t == "nd":
        return _npy_array(obj.get("npy"))
    if t == "torch":
        arr = _npy_array(obj.get("npy"))
        if torch_args:
            import torch

            tensor = torch.from_numpy(arr.copy())
            if obj.get("grad"):
                tensor.requires_grad_(True)
            return tensor
        return arr
    if t == "sympy":
        return SympyTree(obj.get("tree"))
    raise DecodeError(f"unknown or malformed value type {t!r}")


class SympyTree:
    """An undecoded sympy expression tree (rebuilt only by ``codec.rebuild_sympy``)."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree

    def __repr__(self) -> str:
        return "SympyTree(...)"


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def _run_one(req: dict[str, Any], ns: dict[str, Any]) -> dict[str, Any]:
    import time

    mode = req.get("mode")
    t0 = time.perf_counter()
    if mode == "value":
        name = req["name"]
        if name not in ns:
            return {"ok": False, "error": f"NameError: name '{name}' is not defined"}
        return {"ok": True, "value": encode_value(ns[name])}
    if mode in ("call", "vjp", "method"):
        name = req["cls"] if mode == "method" else req["fn"]
        if name not in ns:
            return {"ok": False, "error": f"NameError: name '{name}' is not defined"}
        target = ns[name]
        if not callable(target):
            return {"ok": False, "error": f"TypeError: '{name}' is not callable"}
        args = [decode_value(a, torch_args=True) for a in req.get("args", [])]
        kwargs = {k: decode_value(a, torch_args=True) for k, a in req.get("kwargs", {}).items()}
        if mode == "method":
            init = [decode_value(a, torch_args=True) for a in req.get("init", [])]
            init_kwargs = {
                k: decode_value(a, torch_args=True) for k, a in req.get("init_kwargs", {}).items()
            }
            obj = target(*init, **init_kwargs)
            method = getattr(obj, req["method"])
            if "cotangent" not in req:
                out = method(*args, **kwargs)
                return {"ok": True, "value": encode_value(out), "seconds": time.perf_counter() - t0}
            params = dict(obj.named_parameters())
            out = method(*args, **kwargs)
            value = _vjp(out, req["cotangent"], list(params.values()))
            if "grads" in value:
                value["grads"] = dict(zip(params, value["grads"], strict=True))
            return _vjp_answer(value, t0)
        if mode == "call":
            out = target(*args, **kwargs)
            return {"ok": True, "value": encode_value(out), "seconds": time.perf_counter() - t0}
        import torch

        wrt = [int(i) for i in req.get("wrt", [])]
        for i in wrt:
            if not isinstance(args[i], torch.Tensor):
                args[i] = torch.as_tensor(args[i])
            args[i] = args[i].detach().clone().requires_grad_(True)
        out = target(*args, **kwargs)
        return _vjp_answer(_vjp(out, req["cotangent"], [args[i] for i in wrt]), t0)
    return {"ok": False, "error": f"unknown request mode {mode!r}"}


def _vjp(out: Any, cotangent: Any, inputs: list[Any]) -> dict[str, Any]:
    """The output, the gradients of ``Re⟨cotangent, out⟩`` w.r.t. ``inputs``, device and dtype
    (or ``{"error": …}`` when ``out`` is not a tensor)."""
    import torch

    if not isinstance(out, torch.Tensor):
        return {"error": f"TypeError: expected a torch.Tensor, got {type(out).__name__}"}
    cot = torch.as_tensor(decode_value(cotangent, torch_args=True), device=out.device)
    loss = (
        (out.conj() * cot.to(out.dtype)).real.sum()
        if out.is_complex()
        else (out * cot.to(out.dtype)).sum()
    )
    grads = torch.autograd.grad(loss, inputs, allow_unused=True) if inputs else ()
    return {
        "out": out,
        "grads": [None if g is None else g for g in grads],
        "device": str(out.device),
        "dtype": str(out.dtype),
    }


def _vjp_answer(value: dict[str, Any], t0: float) -> dict[str, Any]:
    import time

    if "error" in value:
        return {"ok": False, "error": value["error"]}
    return {"ok": True, "value": encode_value(value), "seconds": time.perf_counter() - t0}


def run_requests(payload: str, ns: dict[str, Any]) -> dict[str, Any]:
    """Kernel side: answer every request in ``payload`` (JSON) against the namespace ``ns``.

    Each request is isolated: an exception in the learner's code becomes that request's
    ``error``; ``KeyboardInterrupt`` (the grader's interrupt) propagates.
    """
    req = json.loads(payload)
    answers = []
    for r in req["requests"]:
        try:
            ans = _run_one(r, ns)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the learner's code failed: that is the answer
            ans = {"ok": False, "error": _error_text(exc)}
        ans["id"] = r.get("id")
        answers.append(ans)
    return {"nonce": req.get("nonce"), "answers": answers}


def answer(payload: str, ns: dict[str, Any]) -> None:
    """Kernel side: answer the requests and publish the answers as one ``display_data``."""
    from IPython.display import display

    display({MIME: run_requests(payload, ns)}, raw=True)
