"""What a check asks the learner's kernel, and the shape of what a gradient request answers.

A check plans requests as values of this module — ``Call``, ``Vjp``, ``MethodCall``,
``ReadValue`` — and ``to_wire`` writes them in the harness's wire format
(``autograder.harness.in_kernel``): nothing else in a problem set's hidden checks touches that
format. The kernel's answers come back decoded into plain data (NumPy arrays for arrays and
tensors); a ``Vjp`` answer, or a ``MethodCall`` with a cotangent, is read with ``vjp_answer``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.harness.in_kernel import encode_value

__all__ = [
    "Call",
    "MethodCall",
    "ReadValue",
    "Request",
    "Vjp",
    "VjpAnswer",
    "to_wire",
    "vjp_answer",
]


@dataclass(frozen=True)
class Call:
    """Call the learner's ``fn(*args, **kwargs)``; the answer is its value."""

    fn: str
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Vjp:
    """Call ``fn(*args, **kwargs)`` with torch tensors; the answer (``vjp_answer``) holds the
    output and the gradients of ``Re⟨cotangent, output⟩`` for the arguments at ``wrt``."""

    fn: str
    args: Sequence[Any]
    wrt: Sequence[int]
    cotangent: Any
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodCall:
    """Construct ``cls(*init, **init_kwargs)`` and call its ``method(*args, **kwargs)``. With a
    ``cotangent``, the answer (``vjp_answer``) holds the output and the gradients of
    ``Re⟨cotangent, output⟩`` for the object's ``named_parameters()``, by name."""

    cls: str
    method: str
    init: Sequence[Any] = ()
    init_kwargs: Mapping[str, Any] = field(default_factory=dict)
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    cotangent: Any = None


@dataclass(frozen=True)
class ReadValue:
    """Read the learner's variable ``name``."""

    name: str


Request = Call | Vjp | MethodCall | ReadValue


def _args(values: Sequence[Any]) -> list[dict[str, Any]]:
    return [encode_value(v) for v in values]


def _kwargs(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: encode_value(v) for k, v in values.items()}


def to_wire(request: Request) -> dict[str, Any]:
    """``request`` in the harness's wire format (JSON-ready; ``plan_part`` adds its ``id``)."""
    if isinstance(request, Call):
        return {
            "mode": "call",
            "fn": request.fn,
            "args": _args(request.args),
            "kwargs": _kwargs(request.kwargs),
        }
    if isinstance(request, Vjp):
        return {
            "mode": "vjp",
            "fn": request.fn,
            "args": _args(request.args),
            "kwargs": _kwargs(request.kwargs),
            "wrt": [int(i) for i in request.wrt],
            "cotangent": encode_value(request.cotangent),
        }
    if isinstance(request, MethodCall):
        wire = {
            "mode": "method",
            "cls": request.cls,
            "init": _args(request.init),
            "init_kwargs": _kwargs(request.init_kwargs),
            "method": request.method,
            "args": _args(request.args),
            "kwargs": _kwargs(request.kwargs),
        }
        if request.cotangent is not None:
            wire["cotangent"] = encode_value(request.cotangent)
        return wire
    if isinstance(request, ReadValue):
        return {"mode": "value", "name": request.name}
    raise TypeError(f"not a request: {request!r}")


@dataclass(frozen=True)
class VjpAnswer:
    """A decoded gradient answer: the output, the gradients (a list in ``wrt`` order for a
    ``Vjp``, a dict by parameter name for a ``MethodCall``; ``None`` where there is none), and
    the output's device and dtype as torch writes them (``"cpu"``, ``"torch.float32"``)."""

    out: Any
    grads: Any
    device: str
    dtype: str


def vjp_answer(value: Any) -> VjpAnswer:
    """Read a decoded ``Vjp`` (or ``MethodCall`` with cotangent) answer; ``TypeError`` when
    ``value`` is not one (a comparison that raises counts the answer as wrong)."""
    if not isinstance(value, dict) or not {"out", "grads", "device", "dtype"} <= set(value):
        raise TypeError("not a vjp answer")
    return VjpAnswer(value["out"], value["grads"], str(value["device"]), str(value["dtype"]))
