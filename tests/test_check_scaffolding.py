"""The hidden checks' shared scaffolding (``autograder.checks``), property by property.

* ``float32_variant``: single-precision arrays of the same shapes, the float64 values rounded,
  everything else untouched, tagged once; ``reference64`` sees those values exactly, in double.
* ``close``: accepts what its tolerance accepts and rejects what it does not (inside and outside
  the tolerance by a margin), in the precision the case asks for; NaN and infinity never pass;
  a wrong shape is reported with both shapes.
* ``ProbeCheck``: a probe passes only when every one of its answers came back and is right;
  its feedback never holds an expected value; the mistake that explains most wrong probes is
  named.
* Requests: what ``to_wire`` writes is what the kernel's harness calls.
* ``OneThread``: torch on one thread inside, the caller's thread count after.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks import (
    FLOAT32,
    NO_ANSWER,
    Call,
    Case,
    CheckResult,
    Elementwise,
    FunctionCheck,
    MethodCall,
    Mistake,
    OfLargest,
    OneThread,
    Probe,
    ProbeCheck,
    ReadValue,
    Vjp,
    allclose,
    answer_in_namespace,
    answer_of,
    any_of,
    close,
    decode_answers,
    float32_variant,
    reference64,
    to_wire,
    vjp_answer,
)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


def float64_arrays(shape=shapes) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=finite)


def complex128_arrays() -> st.SearchStrategy[np.ndarray]:
    pairs = shapes.flatmap(
        lambda s: st.tuples(float64_arrays(st.just(s)), float64_arrays(st.just(s)))
    )
    return pairs.map(lambda ri: np.asarray(ri[0] + 1j * ri[1]))


others = st.one_of(
    st.integers(-5, 5),
    finite,
    st.none(),
    st.text(max_size=3),
    hnp.arrays(np.int64, shapes, elements=st.integers(-9, 9)),
)
arguments = st.one_of(
    float64_arrays(),
    complex128_arrays(),
    float64_arrays().map(lambda a: torch.tensor(a)),
    complex128_arrays().map(lambda a: torch.tensor(a)),
    others,
)
tag_words = st.lists(st.sampled_from(["tiny", "pi", "near", "far"]), max_size=2, unique=True)


def _is_single(x: object) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype in (np.float32, np.complex64)
    return isinstance(x, torch.Tensor) and x.dtype in (torch.float32, torch.complex64)


def _rounded(x: object) -> object:
    """What float32 rounding makes of a float64 (complex128) array or tensor."""
    a = x.numpy() if isinstance(x, torch.Tensor) else x
    assert isinstance(a, np.ndarray)
    return a.astype(np.complex64 if a.dtype.kind == "c" else np.float32)


# -- float32 variants and the float64 reference ---------------------------------------------------


@given(
    st.lists(arguments, max_size=4),
    st.dictionaries(st.sampled_from(["w", "pad", "out"]), arguments, max_size=2),
    tag_words,
    st.text(max_size=5),
)
def test_a_float32_variant_has_single_precision_arrays_of_the_same_shapes(
    args: list, kwargs: dict, tags: list, label: str
) -> None:
    case = Case(tuple(args), kwargs, label=label, key=("k", 1), tags=tuple(tags))
    variant = float32_variant(case)
    assert variant.tags.count(FLOAT32) == 1 and set(variant.tags) == {*tags, FLOAT32}
    assert (variant.label, variant.key, variant.visible) == (label, ("k", 1), False)
    pairs = list(zip(case.args, variant.args, strict=True))
    pairs += [(case.kwargs[k], variant.kwargs[k]) for k in case.kwargs]
    assert set(variant.kwargs) == set(case.kwargs)
    for before, after in pairs:
        is_float = (isinstance(before, np.ndarray) and before.dtype.kind in "fc") or (
            isinstance(before, torch.Tensor)
        )
        if not is_float:
            assert after is before  # integers, Python numbers, text, None: untouched
            continue
        assert _is_single(after) and type(after) is type(before)
        assert tuple(after.shape) == tuple(before.shape)
        got = after.numpy() if isinstance(after, torch.Tensor) else after
        np.testing.assert_array_equal(got, _rounded(before))
    assert float32_variant(variant).tags == variant.tags  # tagged once


@given(st.lists(st.one_of(float64_arrays(), complex128_arrays()), min_size=1, max_size=3))
def test_reference64_sees_the_float32_values_exactly_in_double(args: list) -> None:
    variant = float32_variant(Case(tuple(args)))
    seen: list = []

    def fn(*xs: np.ndarray) -> np.ndarray:
        seen.extend(xs)
        return xs[0]

    out = reference64(fn)(*variant.args)
    for x, single in zip(seen, variant.args, strict=True):
        assert x.dtype == (np.complex128 if single.dtype.kind == "c" else np.float64)
        np.testing.assert_array_equal(x, single)  # float32 → float64 is exact
    assert out.dtype in (np.float64, np.complex128)


@given(float64_arrays())
def test_reference64_of_a_torch_function_gives_numpy_without_a_graph(a: np.ndarray) -> None:
    t = torch.tensor(a, dtype=torch.float32, requires_grad=True)
    out = reference64(lambda x: 2 * x)(t)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, 2 * a.astype(np.float32).astype(np.float64))


# -- close ----------------------------------------------------------------------------------------

tolerances = st.one_of(
    st.builds(Elementwise, st.sampled_from([0.0, 1e-9, 1e-3]), st.sampled_from([1e-8, 1e-3])),
    st.builds(OfLargest, st.sampled_from([1e-9, 1e-7, 2e-4])),
)


def _bound(tol: Elementwise | OfLargest, expected: np.ndarray) -> np.ndarray:
    """The largest |a − b| ``tol`` allows at each entry."""
    if isinstance(tol, Elementwise):
        return tol.atol + tol.rtol * np.abs(expected)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return np.full(expected.shape, tol.tol * scale)


@given(
    hnp.arrays(np.float64, shapes, elements=st.floats(-1e3, 1e3)),
    tolerances,
    st.data(),
)
def test_close_accepts_within_its_tolerance_and_rejects_beyond_it(
    expected: np.ndarray, tol: Elementwise | OfLargest, data: st.DataObject
) -> None:
    bound = _bound(tol, expected)
    assume(np.all(bound > 1e-12 * (1 + np.abs(expected))))  # a perturbation float64 can hold
    compare = close(tol, tol)
    signs = data.draw(hnp.arrays(np.float64, expected.shape, elements=st.sampled_from([-1, 1])))
    inside = expected + 0.5 * signs * bound
    assert compare(inside, expected, Case()) is None
    where = data.draw(st.integers(0, expected.size - 1))
    outside = inside.copy().reshape(-1)
    outside[where] = expected.reshape(-1)[where] + 2.0 * bound.reshape(-1)[where]
    reason = compare(outside.reshape(expected.shape), expected, Case())
    assert reason is not None and reason.startswith("wrong values")


@given(float64_arrays(), st.data(), st.sampled_from([np.nan, np.inf, -np.inf]), tolerances)
def test_close_rejects_nan_and_infinity(
    expected: np.ndarray, data: st.DataObject, bad: float, tol: Elementwise | OfLargest
) -> None:
    answer = expected.copy().reshape(-1)
    answer[data.draw(st.integers(0, answer.size - 1))] = bad
    reason = close(tol, tol)(answer.reshape(expected.shape), expected, Case())
    assert reason == "returned NaN or infinity"
    assert close(tol, tol)(expected.copy(), expected, Case()) is None


@given(float64_arrays(), shapes)
def test_close_reports_a_shape_mismatch(expected: np.ndarray, shape: tuple) -> None:
    assume(shape != expected.shape)
    reason = allclose()(np.zeros(shape), expected, Case())
    assert reason == f"returned shape {shape} where {expected.shape} was expected"


@given(float64_arrays(), st.booleans())
def test_close_asks_the_case_for_its_precision(expected: np.ndarray, complex_: bool) -> None:
    if complex_:
        expected = np.asarray(expected + 0.5j)
    tol32, tol64 = OfLargest(1e-3), OfLargest(1e-12)
    single = Case(tags=(FLOAT32,))
    as32 = expected.astype(np.complex64 if complex_ else np.float32)
    as64 = expected.copy()
    for dtypes in ("float32", "all"):
        compare = close(tol64, tol32, dtypes=dtypes)
        assert compare(as32, expected, single) is None  # float32 rounding is within tol32
        assert "keep the input's dtype" in (compare(as64, expected, single) or "")
    # a float64 case: float64 required by "all" only
    assert close(tol64, tol32, dtypes="all")(as64, expected, Case()) is None
    rounding = float(np.abs(as32.astype(as64.dtype) - as64).max(initial=0.0))
    if rounding > 1e-12 * max(1.0, float(np.abs(expected).max(initial=0.0))):
        assert close(tol64, tol32, dtypes="float32")(as32, expected, Case()) is not None
    # "none" never looks at the dtype
    assert close(tol32, tol32, dtypes="none")(as64, expected, single) is None
    assert close(tol32, tol32, dtypes="none")(as32, expected, Case()) is None
    wrong_kind = as64.real if complex_ else as64 + 0j
    reason = close(tol64, tol32, dtypes="all")(wrong_kind, expected, Case())
    assert reason is not None and ("complex" in reason)


@given(st.lists(float64_arrays(st.just((3,))), min_size=1, max_size=4), st.data())
def test_any_of_matches_when_one_form_matches(forms: list, data: st.DataObject) -> None:
    compare = any_of(allclose(0.0, 1e-9))
    pick = data.draw(st.integers(0, len(forms) - 1))
    assert compare(forms[pick].copy(), forms, Case()) is None
    other = np.full(3, 1e7)
    assert compare(other, forms, Case()) is not None
    assert compare(forms[0], [], Case()) is not None


# -- probe checks ---------------------------------------------------------------------------------

answers_kind = st.sampled_from(["right", "wrong", "none", "error"])


def _answer(kind: str, right: float) -> dict | None:
    if kind == "none":
        return None
    if kind == "error":
        return {"ok": False, "error": "ValueError: learner's bug"}
    value = right if kind == "right" else right + 1.0
    return answer_of(np.array([value]))


@given(st.lists(st.lists(answers_kind, min_size=1, max_size=3), min_size=1, max_size=6))
def test_a_probe_passes_only_when_every_answer_is_right(kinds: list[list[str]]) -> None:
    """Each probe sends len(kinds[i]) calls; the right answer to call j of probe i is 10·i + j."""

    def probes(rng: np.random.Generator) -> list[Probe]:
        return [
            Probe(Case((i,)), [Call("f", (i, j)) for j in range(len(k))])
            for i, k in enumerate(kinds)
        ]

    def judge(values: list, probe: Probe) -> str | None:
        (i,) = probe.case.args
        right = [10.0 * i + j for j in range(len(values))]
        return None if [float(v[0]) for v in values] == right else "wrong values"

    plan = ProbeCheck("probes", probes, judge).plan(np.random.default_rng(0))
    assert len(plan.requests) == sum(len(k) for k in kinds)
    answers = [_answer(k, 10.0 * i + j) for i, ks in enumerate(kinds) for j, k in enumerate(ks)]
    result = plan.evaluate(answers)
    assert result.total == len(kinds)
    assert result.passed == sum(all(k == "right" for k in ks) for ks in kinds)
    failed = [ks for ks in kinds if any(k != "right" for k in ks)]
    if not failed:
        assert result.lines == []
        return
    (line,) = result.lines
    assert line.startswith(f"✗ {len(failed)} hidden case")
    # the first failed probe's reason: its first missing or failed call, else its wrong values
    first = next((k for k in failed[0] if k in ("none", "error")), "wrong")
    assert {"none": NO_ANSWER, "error": "raised ValueError", "wrong": "wrong values"}[first] in line


@given(
    st.lists(
        hnp.arrays(np.float64, (3,), elements=st.floats(1.0, 1e4), unique=True),
        min_size=1,
        max_size=5,
    ),
    st.floats(0.01, 100.0),
)
def test_a_probes_failure_line_never_holds_the_expected_value(
    expected: list[np.ndarray], shift: float
) -> None:
    """Probes judged by ``close`` against hidden expected values, answered wrongly: no expected
    entry appears in the feedback, in any of the ways NumPy or Python print it."""
    compare = close(Elementwise(1e-9, 1e-12), Elementwise(1e-5, 1e-6))

    def probes(rng: np.random.Generator) -> list[Probe]:
        return [Probe(Case(key=e), [Call("f", (i,))]) for i, e in enumerate(expected)]

    def judge(values: list, probe: Probe) -> str | None:
        return compare(values[0], probe.case.key, probe.case)

    plan = ProbeCheck("hidden", probes, judge).plan(np.random.default_rng(0))
    answers = [answer_of(e + shift) for e in expected]
    lines = "\n".join(plan.evaluate(answers).lines)
    assert lines
    printed = {text for e in expected for text in (np.array2string(e, precision=4), str(e))}
    for x in np.concatenate(expected):
        printed |= {repr(float(x)), str(float(x)), f"{x:.6g}", f"{x:.8g}"}
    for text in printed:
        if len(re.sub(r"\D", "", text)) >= 5:  # a short number could appear by coincidence
            assert text not in lines, text


def test_a_probe_checks_mistakes_need_their_own_comparison() -> None:
    with pytest.raises(ValueError, match="needs a compare"):
        ProbeCheck("x", lambda rng: [], lambda v, p: None, [Mistake("m", "msg", lambda: None)])


@given(st.lists(st.sampled_from(["sign", "scale", "other"]), min_size=1, max_size=8))
def test_the_mistake_that_explains_most_wrong_probes_is_named(made: list[str]) -> None:
    """Probe i's right answer is i + 1; a learner's answer is −(i + 1) ("sign"), 2(i + 1)
    ("scale") or 1000 ("other", no known mistake)."""

    def probes(rng: np.random.Generator) -> list[Probe]:
        return [Probe(Case((i + 1.0,)), [Call("f", (i,))]) for i in range(len(made))]

    def judge(values: list, probe: Probe) -> str | None:
        return allclose()(values[0], probe.case.args[0], probe.case)

    def matches(values: list, answer: float, case: Case) -> str | None:
        return allclose()(values[0], answer, case)

    mistakes = [
        Mistake("sign", "flipped", lambda x: -x, compare=matches),
        Mistake("scale", "doubled", lambda x: 2 * x, compare=matches),
    ]
    plan = ProbeCheck("m", probes, judge, mistakes).plan(np.random.default_rng(0))
    wrong = {"sign": lambda x: -x, "scale": lambda x: 2 * x, "other": lambda x: 1000.0}
    answers = [answer_of(float(wrong[m](i + 1.0))) for i, m in enumerate(made)]
    result = plan.evaluate(answers)
    assert result.passed == 0
    counts = {name: made.count(name) for name in ("sign", "scale")}
    best = max(counts, key=lambda n: (counts[n], n == "sign"))  # ties: the first listed
    if 2 * counts[best] >= len(made):
        assert result.diagnosis is not None and result.diagnosis.name == best
    else:
        assert result.diagnosis is None


# -- requests, through the harness ----------------------------------------------------------------


@given(st.lists(float64_arrays(), min_size=1, max_size=3), finite)
def test_a_call_on_the_wire_calls_the_function_on_the_same_values(
    arrays: list[np.ndarray], scale: float
) -> None:
    seen: list = []

    def f(*args: np.ndarray, scale: float = 1.0) -> np.ndarray:
        seen.append((args, scale))
        return args[0] * scale

    (answer,) = answer_in_namespace([to_wire(Call("f", arrays, {"scale": scale}))], {"f": f})
    assert answer is not None and answer["ok"]
    ((args, got_scale),) = seen
    assert got_scale == scale
    for a, b in zip(args, arrays, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)


def test_vjp_and_method_requests_answer_outputs_and_gradients() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, dtype=torch.float64, generator=gen)
    w = torch.randn(3, dtype=torch.float64, generator=gen)
    cot = torch.randn(4, dtype=torch.float64, generator=gen)

    class Scale(torch.nn.Module):
        def __init__(self, w: torch.Tensor) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(w.clone())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.weight

    namespace = {"f": lambda x, w: x @ w, "Scale": Scale, "ANSWER": 42}
    requests = [
        Vjp("f", (x, w), (1,), cot),
        MethodCall("Scale", "__call__", (w,), {}, (x,), cotangent=cot),
        ReadValue("ANSWER"),
    ]
    answers = answer_in_namespace([to_wire(r) for r in requests], namespace)
    values, problem = decode_answers(answers)
    assert problem is None
    vjp, method = vjp_answer(values[0]), vjp_answer(values[1])
    np.testing.assert_allclose(vjp.out, (x @ w).numpy())
    (grad_w,) = vjp.grads
    np.testing.assert_allclose(grad_w, (cot @ x).numpy())  # ∂⟨c, x w⟩/∂w = xᵀ c
    assert (vjp.device, vjp.dtype) == ("cpu", "torch.float64")
    np.testing.assert_allclose(method.grads["weight"], (cot @ x).numpy())
    assert values[2] == 42
    with pytest.raises(TypeError):
        vjp_answer({"out": 1})


# -- one thread -----------------------------------------------------------------------------------


def test_one_thread_plans_and_evaluates_on_one_torch_thread() -> None:
    seen: list[int] = []

    def cases(rng: np.random.Generator) -> list[Case]:
        seen.append(torch.get_num_threads())
        return [Case((1.0,))]

    def expected(x: float) -> float:
        seen.append(torch.get_num_threads())
        return x

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        check = OneThread(FunctionCheck("f", cases, expected, allclose(), weight=0.5))
        plan = check.plan(np.random.default_rng(0))
        assert torch.get_num_threads() == 2
        result = plan.evaluate([answer_of(1.0)])
        assert isinstance(result, CheckResult) and result.passed == 1
        assert seen == [1, 1] and torch.get_num_threads() == 2
        assert check.weight == 0.5
    finally:
        torch.set_num_threads(before)
