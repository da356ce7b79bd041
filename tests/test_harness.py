"""The data boundary between a learner's kernel and the grader: only plain data crosses it.

Property-based: every plain value survives the round trip bit for bit. Refusals: pickles,
object arrays, oversized or malformed payloads, sympy classes outside the allow-list, huge
exponents. And the symbolic comparison accepts equal forms and rejects different ones.
"""

from __future__ import annotations

import base64
import io
import json
import pickle

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks import Case, rational_points, rebuild_sympy, sympy_equal
from autograder.harness import DecodeError, SympyTree, decode_value, encode_value
from autograder.harness.in_kernel import run_requests

settings.register_profile("ci", deadline=None, max_examples=60)
settings.load_profile("ci")

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=50)
    | hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int64, np.complex128, np.bool_]),
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


def same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )  # type: ignore[arg-type]
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(plain)
def test_plain_values_round_trip_exactly(value: object) -> None:
    wire = json.loads(json.dumps(encode_value(value)))
    assert same(value, decode_value(wire))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float_survives(x: float) -> None:
    back = decode_value(json.loads(json.dumps(encode_value(x))))
    assert (np.isnan(x) and np.isnan(back)) or back == x


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return base64.b64encode(buf.getvalue()).decode()


class Evil:
    def __reduce__(self) -> tuple:
        return (print, ("unpickled!",))


@pytest.mark.parametrize(
    "wire",
    [
        {"t": "nd", "npy": _npy(np.array([Evil()], dtype=object), allow_pickle=True)},
        {"t": "nd", "npy": base64.b64encode(pickle.dumps(Evil())).decode()},
        {"t": "nd", "npy": "not base64!"},
        {"t": "nd", "npy": _npy(np.zeros(3, dtype=[("a", "f8")]))},
        {"t": "int", "v": "9" * 1000},
        {"t": "float", "v": "1" * 100},
        {"t": "str", "v": "x" * 200_000},
        {"t": "list", "v": [{"t": "none"}] * 20_000},
        {"t": "pickle", "v": "..."},
        {"t": "list"},
        "not a dict",
    ],
)
def test_decode_refuses(wire: object) -> None:
    with pytest.raises(DecodeError):
        decode_value(wire)


def test_decode_refuses_deep_nesting() -> None:
    wire: dict = {"t": "none"}
    for _ in range(100):
        wire = {"t": "list", "v": [wire]}
    with pytest.raises(DecodeError):
        decode_value(wire)


def test_encode_refuses_objects() -> None:
    for bad in (object(), np.array([object()], dtype=object), {1: 2}, lambda: 0):
        with pytest.raises((TypeError, ValueError)):
            encode_value(bad)


def test_run_requests_isolates_each_call() -> None:
    ns = {"f": lambda x: x * 2, "g": lambda x: 1 / 0, "ANSWER": "matrix"}
    payload = json.dumps(
        {
            "nonce": "n1",
            "requests": [
                {"id": 0, "mode": "call", "fn": "f", "args": [encode_value(np.arange(3.0))]},
                {"id": 1, "mode": "call", "fn": "g", "args": [encode_value(1.0)]},
                {"id": 2, "mode": "call", "fn": "missing", "args": []},
                {"id": 3, "mode": "value", "name": "ANSWER"},
            ],
        }
    )
    out = run_requests(payload, ns)
    a0, a1, a2, a3 = out["answers"]
    assert out["nonce"] == "n1"
    assert np.array_equal(decode_value(a0["value"]), [0.0, 2.0, 4.0])
    assert not a1["ok"] and a1["error"].startswith("ZeroDivisionError")
    assert not a2["ok"] and "NameError" in a2["error"]
    assert decode_value(a3["value"]) == "matrix"


W, X, Y, Z = sympy.symbols("w x y z", real=True)
SYMS = {"w": W, "x": X, "y": Y, "z": Z}


def tree_of(expr: object) -> SympyTree:
    return decode_value(json.loads(json.dumps(encode_value(expr))))


@given(st.integers(-50, 50), st.integers(1, 50), st.integers(0, 5))
def test_sympy_expressions_rebuild_exactly(p: int, q: int, n: int) -> None:
    expr = sympy.Rational(p, q) * W**n + sympy.sin(X) * Y - sympy.sqrt(Z) + sympy.pi
    assert sympy.simplify(rebuild_sympy(tree_of(expr), SYMS) - expr) == 0


@pytest.mark.parametrize(
    "tree",
    [
        {"fn": "Function", "a": []},
        {"fn": "eval", "a": [{"s": "x"}]},
        {"s": "__import__"},
        {"s": "os"},
        {"fn": "Pow", "a": [{"i": "10"}, {"i": "1000000"}]},
        {"fn": "Pow", "a": [{"s": "x"}, {"s": "y"}]},
        {"i": "1" * 100},
        {"q": ["1", "0"]},
        {"m": [[{"s": "x"}], [{"s": "x"}, {"s": "y"}]]},
    ],
)
def test_rebuild_refuses(tree: dict) -> None:
    with pytest.raises(DecodeError):
        rebuild_sympy(SympyTree(tree), SYMS)


@given(st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_rational_points_lie_on_the_sphere(k: int, seed: int) -> None:
    unit = [f"u{i}" for i in range(k)]
    points = rational_points([*unit, "p"], unit=unit, n=4, seed=seed)
    assert len(points) == 4
    for pt in points:
        assert sum(pt[u] ** 2 for u in unit) == 1
        assert all(isinstance(v, sympy.Rational) for v in pt.values())
    with pytest.raises(ValueError):
        rational_points(["a", "b"], unit=["a"])


def test_sympy_equal_on_the_two_sphere() -> None:
    """A unit axis n (three names): forms equal only when |n| = 1 are accepted."""
    t, n1, n2, n3 = sympy.symbols("t n1 n2 n3", real=True)
    symbols = {"t": t, "n1": n1, "n2": n2, "n3": n3}
    a = sympy.Matrix([[sympy.cos(t) * (1 - n3**2)]])
    b = sympy.Matrix([[sympy.cos(t) * (n1**2 + n2**2)]])
    case = Case(key=(0, 0))
    assert sympy_equal(symbols, unit=("n1", "n2", "n3"))(tree_of(b), a, case) is None
    assert sympy_equal(symbols)(tree_of(b), a, case) is not None


def test_sympy_equal_uses_the_constraint() -> None:
    on_sphere = sympy_equal(SYMS, unit=("w", "x", "y", "z"))
    anywhere = sympy_equal(SYMS)
    a = sympy.Matrix([[1 - 2 * (Y**2 + Z**2)]])
    b = sympy.Matrix([[W**2 + X**2 - Y**2 - Z**2]])  # equal only when |q| = 1
    case = Case(key=(0, 0))
    assert on_sphere(tree_of(b), a, case) is None
    assert anywhere(tree_of(b), a, case) is not None
    assert (
        on_sphere(tree_of(sympy.Matrix([[2 * X * Y]])), a, case)
        == "is not equal to the expected expression"
    )
    assert "shape" in on_sphere(tree_of(sympy.Matrix([[1, 2]])), a, case)
    assert on_sphere(np.eye(1), a, case) == "did not return a SymPy expression"


def test_sympy_equal_also_at_special_points() -> None:
    """A form equal to the expected one on the sphere but 0/0 at the identity passes the random
    points and fails at the identity when ``also_at`` names it, with the name in the reason; a
    point where the answer is defined but different fails too."""
    expected = sympy.Matrix([[2 * Y**2]])
    dot = X**2 + Y**2 + Z**2
    divided = tree_of(sympy.Matrix([[sympy.expand((1 - W**2 + dot) * Y**2) / dot]]))
    unit = ("w", "x", "y", "z")
    identity = {"the identity": [{"w": 1, "x": 0, "y": 0, "z": 0}]}
    case = Case(key=(0, 0))
    assert sympy_equal(SYMS, unit=unit)(divided, expected, case) is None
    reason = sympy_equal(SYMS, unit=unit, also_at=identity)(divided, expected, case)
    assert reason == "is undefined or wrong at the identity"
    right = tree_of(expected)
    assert sympy_equal(SYMS, unit=unit, also_at=identity)(right, expected, case) is None
    shifted = tree_of(sympy.Matrix([[2 * Y**2 + 1 - W**2 - dot]]))  # equal on S³ only
    origin = {"the origin": [{"w": 0, "x": 0, "y": 0, "z": 0}]}
    assert sympy_equal(SYMS, unit=unit, also_at=identity)(shifted, expected, case) is None
    assert sympy_equal(SYMS, unit=unit, also_at=origin)(shifted, expected, case) == (
        "is undefined or wrong at the origin"
    )


def _answers(requests: list[dict], ns: dict) -> list[dict]:
    payload = json.dumps(
        {"nonce": "n", "requests": [{**r, "id": i} for i, r in enumerate(requests)]}
    )
    return run_requests(payload, ns)["answers"]


def test_vjp_returns_the_gradients_of_the_real_inner_product() -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(1.0, 4.0)
    c = np.array([1.0 + 2j, -1.0, 0.5j])
    (ans,) = _answers(
        [
            {
                "mode": "vjp",
                "fn": "f",
                "args": [encode_value(torch.tensor(x)), encode_value(2.0)],
                "wrt": [0],
                "cotangent": encode_value(c),
            }
        ],
        {"f": lambda t, s: (1j * s) * t**2},
    )
    value = decode_value(ans["value"])
    assert value["device"] == "cpu" and value["dtype"] == "torch.complex128"
    assert np.allclose(value["out"], 2j * x**2)
    # Re Σ conj(2i x²) c = Σ 2 x² Im c, so the gradient is 4 x Im c
    assert np.allclose(value["grads"][0], 4 * x * c.imag)


def test_method_mode_constructs_with_keywords_and_returns_parameter_gradients() -> None:
    torch = pytest.importorskip("torch")

    class Scale(torch.nn.Module):
        def __init__(self, n: int, *, start: float = 1.0) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.full((n,), start, dtype=torch.float64))
            self.register_buffer("unused", torch.zeros(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.weight * x

    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    base = {"mode": "method", "cls": "Scale", "init": [encode_value(3)], "method": "__call__"}
    plain, with_grad, not_a_module = _answers(
        [
            {**base, "init_kwargs": {"start": encode_value(2.0)}, "args": [encode_value(x)]},
            {**base, "args": [encode_value(x)], "cotangent": encode_value(np.array([1.0, 0, 2]))},
            {**base, "cls": "f", "args": [], "cotangent": encode_value(1.0)},
        ],
        {"Scale": Scale, "f": lambda n: n},
    )
    assert np.allclose(decode_value(plain["value"]), [2.0, 4.0, 6.0])
    value = decode_value(with_grad["value"])
    assert set(value["grads"]) == {"weight"}
    assert np.allclose(value["grads"]["weight"], [1.0, 0.0, 6.0])
    assert value["dtype"] == "torch.float64" and value["device"] == "cpu"
    assert not not_a_module["ok"] and "AttributeError" in not_a_module["error"]
