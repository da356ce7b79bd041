"""The checks package's comparisons and its one grading loop, property by property.

* ``allclose`` is NumPy's ``allclose`` rule (``|a − b| ≤ atol + rtol·|b|``) on finite arrays of
  one shape, and ``OfLargest`` accepts exactly the errors below ``tol · max(1, max |b|)``.
* ``number_close``: one finite number within its tolerance; arrays, bools, NaN, None are not.
* ``quat_close``: any choice of signs of the quaternions is accepted, a perturbation beyond
  ``atol`` is not; a float32 case asks for a float32 answer when told to.
* ``tuple_of``: right only when every element is, a reason naming the first wrong element.
* ``lost_where``: matches an answer that is wrong on the cases of its tag and right elsewhere —
  and nothing else; a check names such a mistake from the answers of a learner who makes it.
* ``answer_of`` is what the kernel's harness answers for a value (decoded back to it), and
  ``check_in_namespace`` — plan, answer, evaluate — passes a right function on every case,
  fails a wrong one on every case, and says which names each check asks for.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks import (
    FLOAT32,
    Call,
    Case,
    Elementwise,
    FunctionCheck,
    Mistake,
    OfLargest,
    Part,
    ProbeCheck,
    ReadValue,
    ValueCheck,
    allclose,
    answer_in_namespace,
    answer_of,
    check_in_namespace,
    decode_answers,
    float32_variant,
    lost_where,
    number_close,
    quat_close,
    to_wire,
    tuple_of,
)
from autograder.checks.compare import UpToSign

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
atols = st.floats(0.0, 1e-2)


def arrays(shape=shapes) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=finite)


def pairs(shape=shapes) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    return shape.flatmap(lambda s: st.tuples(arrays(st.just(s)), arrays(st.just(s))))


# -- tolerances ----------------------------------------------------------------------------------


@given(arrays(), st.floats(0.0, 0.5), atols, st.data())
def test_allclose_is_numpys_rule(b: np.ndarray, rtol: float, atol: float, data: st.DataObject):
    """Answers drawn around the boundary ``atol + rtol·|b|``: every entry well inside it but one,
    which is anywhere up to twice the bound away, on either side: accepted exactly when
    ``numpy.allclose`` accepts them."""
    factors = data.draw(hnp.arrays(np.float64, b.shape, elements=st.floats(-0.99, 0.99)))
    where = data.draw(st.integers(0, b.size - 1))
    factors.reshape(-1)[where] = data.draw(st.floats(-2.0, 2.0))
    a = b + factors * (atol + rtol * np.abs(b))
    numpy_says = bool(np.allclose(a, b, rtol=rtol, atol=atol))
    reason = allclose(rtol, atol)(a, b, Case())
    assert (reason is None) == numpy_says, reason
    assert (Elementwise(rtol, atol).problem(a, b) is None) == numpy_says


@given(pairs(), st.floats(1e-9, 1e-1))
def test_of_largest_bounds_the_largest_error_by_the_largest_value(
    ab: tuple[np.ndarray, np.ndarray], tol: float
) -> None:
    a, b = ab
    err, scale = float(np.abs(a - b).max()), max(1.0, float(np.abs(b).max()))
    assume(abs(err - tol * scale) > 1e-9 * scale)  # not on the boundary's rounding
    assert (OfLargest(tol).problem(a, b) is None) == (err <= tol * scale)


# -- single numbers ------------------------------------------------------------------------------


@given(finite, st.floats(1e-9, 1e-3), st.floats(-0.9, 0.9), st.floats(1.5, 10.0))
def test_number_close_accepts_inside_and_rejects_outside(
    expected: float, rtol: float, inside: float, outside: float
) -> None:
    bound = rtol * abs(expected)
    assume(bound > 1e-9 * (1 + abs(expected)))
    compare = number_close(rtol)
    assert compare(expected + inside * bound, expected, Case()) is None
    assert compare(np.float32(expected), expected, Case()) is None or rtol < 1e-7
    assert compare(np.array(expected + inside * bound), expected, Case()) is None
    assert compare(expected + outside * bound, expected, Case()) == "not the right value"
    assert compare(expected - outside * bound, expected, Case()) == "not the right value"


@given(finite)
def test_number_close_wants_one_finite_real_number(expected: float) -> None:
    compare = number_close(1e-6, 1e-9)
    for not_a_number in (None, True, np.bool_(False), "1.0", [expected], np.array([expected])):
        assert compare(not_a_number, expected, Case()) is not None, not_a_number
    for bad in (np.nan, np.inf, -np.inf):
        assert compare(bad, expected, Case()) == "returned NaN or infinity"
    assert compare(complex(expected, 1.0), expected, Case()) is not None
    whole = round(expected)
    assert compare(whole, float(whole), Case()) is None


# -- quaternions up to sign ----------------------------------------------------------------------


def unit_quaternions() -> st.SearchStrategy[np.ndarray]:
    batch = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
    raw = batch.flatmap(lambda s: hnp.arrays(np.float64, (*s, 4), elements=st.floats(-1, 1)))
    raw = raw.filter(lambda q: bool(np.all(np.linalg.norm(q, axis=-1) > 0.1)))
    return raw.map(lambda q: q / np.linalg.norm(q, axis=-1, keepdims=True))


@given(unit_quaternions(), st.data(), st.floats(1e-9, 1e-3))
def test_quat_close_accepts_any_signs_and_rejects_beyond_atol(
    q: np.ndarray, data: st.DataObject, atol: float
) -> None:
    signs = data.draw(
        hnp.arrays(np.float64, q.shape[:-1] + (1,), elements=st.sampled_from([-1, 1]))
    )
    compare = quat_close(atol)
    assert compare(q * signs, q, Case()) is None
    where = data.draw(st.integers(0, q.size - 1))
    moved = (q * signs).reshape(-1).copy()
    moved[where] += 3 * atol * np.sign(moved[where] or 1.0)
    reason = compare(moved.reshape(q.shape), q, Case())
    assert reason is not None and reason.startswith("wrong values")
    assert UpToSign(atol).problem(moved.reshape(q.shape), q) == reason


@given(unit_quaternions())
def test_quat_close_asks_a_float32_case_for_float32_when_told(q: np.ndarray) -> None:
    single = float32_variant(Case((q,)))
    assert FLOAT32 in single.tags
    q32 = q.astype(np.float32)
    told = quat_close(1e-12, 1e-6, dtypes="float32")
    assert told(-q32, q, single) is None  # float32 rounding is within atol32, either sign
    assert "keep the input's dtype" in (told(q, q, single) or "")
    assert told(q, q, Case()) is None
    assert quat_close(1e-6)(q, q, single) is None  # by default any precision is accepted
    assert quat_close(1e-6)(q[..., :3], q, Case()) is not None  # shape


# -- tuples --------------------------------------------------------------------------------------


@given(arrays(), arrays(), st.sampled_from(["none", "R", "t", "both"]), st.booleans())
def test_tuple_of_is_right_only_when_every_element_is(
    R: np.ndarray, t: np.ndarray, wrong: str, as_list: bool
) -> None:
    compare = tuple_of(R=allclose(0.0, 1e-9), t=allclose(0.0, 1e-9))
    answer = [R + (1.0 if wrong in ("R", "both") else 0.0), t + (wrong in ("t", "both"))]
    reason = compare(answer if as_list else tuple(answer), (R, t), Case())
    if wrong == "none":
        assert reason is None
    else:
        assert reason is not None and reason.startswith("R: " if wrong != "t" else "t: ")
    assert compare((R,), (R, t), Case()) == "did not return a tuple (R, t)"
    assert compare(R, (R, t), Case()) == "did not return a tuple (R, t)"


# -- mistakes that lose the cases of one tag ------------------------------------------------------


@given(arrays(), st.booleans(), st.booleans(), st.sampled_from([(), ("tiny",), ("pi", "tiny")]))
def test_lost_where_matches_wrong_on_the_tag_and_right_elsewhere(
    expected: np.ndarray, right: bool, float32: bool, tags: tuple[str, ...]
) -> None:
    base = allclose(1e-6, 1e-9)
    case = Case(tags=(*tags, FLOAT32) if float32 else tags)
    answer = expected if right else expected + 1.0
    matches = lost_where("tiny", base)(answer, expected, case) is None
    if "tiny" in tags:
        assert matches is not right  # the mistake loses the tagged cases
    else:
        assert matches is right  # and is right on every other case
        assert lost_where("tiny", base)(answer, expected, case) == base(answer, expected, case)


def test_a_check_names_the_mistake_that_loses_the_tagged_cases() -> None:
    cases = [Case((x,), tags=("tiny",) if x < 1e-6 else ()) for x in (1e-9, 2e-9, 0.5, 1.0, 2.0)]
    loses_tiny = Mistake("loses tiny angles", "…", np.sin, compare=lost_where("tiny", allclose()))
    wrong_elsewhere = Mistake("cos", "…", np.cos, compare=allclose())
    check = FunctionCheck(
        "f", lambda rng: cases, np.sin, allclose(1e-9, 0.0), [wrong_elsewhere, loses_tiny]
    )
    part = Part("test_f", "f", [check])
    flushed = {"f": lambda x: 0.0 if x < 1e-6 else np.sin(x)}
    _, result = check_in_namespace(part, flushed, np.random.default_rng(0))
    (res,) = result.checks
    assert (res.passed, res.total) == (3, 5)
    assert res.diagnosis is loses_tiny
    _, result = check_in_namespace(part, {"f": np.sin}, np.random.default_rng(0))
    assert result.checks[0].passed == 5 and result.checks[0].diagnosis is None


# -- the kernel's answers and the one loop -------------------------------------------------------

values = st.one_of(
    arrays(),
    finite,
    st.integers(-(2**31), 2**31),
    st.text(max_size=5),
    st.none(),
    st.lists(finite, max_size=3).map(tuple),
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple | list):
        return isinstance(b, tuple | list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@given(values)
def test_answer_of_is_what_the_harness_answers(value: object) -> None:
    (from_kernel,) = answer_in_namespace([to_wire(ReadValue("X"))], {"X": value})
    assert from_kernel is not None
    assert {k: v for k, v in from_kernel.items() if k != "id"} == answer_of(value)
    decoded, reason = decode_answers([answer_of(value)])
    assert reason is None
    assert _same(decoded[0], value), (decoded[0], value)


def _part(rng_cases: int) -> Part:
    def cases(rng: np.random.Generator) -> list[Case]:
        return [Case((rng.normal(size=3), float(rng.normal()))) for _ in range(rng_cases)]

    def scale(x: np.ndarray, s: float) -> np.ndarray:
        return np.asarray(x) * s

    return Part(
        "test_scale",
        "scale",
        [
            FunctionCheck("scale", cases, scale, allclose(1e-12, 1e-12)),
            ValueCheck("ANSWER", 42, number_close(0.0, 0.0)),
        ],
    )


@given(st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from(["right", "off", "none"]))
def test_check_in_namespace_is_plan_answer_evaluate(n: int, seed: int, learner: str) -> None:
    namespace: dict = {"ANSWER": 42 if learner == "right" else 41}
    if learner == "right":
        namespace["scale"] = lambda x, s: x * s
    elif learner == "off":
        namespace["scale"] = lambda x, s: x * s + 1e-6
    part = _part(n)
    plan, result = check_in_namespace(part, namespace, np.random.default_rng(seed), 3.0)
    assert [plan.asks(i) for i in range(len(part.checks))] == [{"scale"}, {"ANSWER"}]
    fn, value = result.checks
    assert fn.total == n and value.total == 1
    right = learner == "right"
    assert fn.passed == (n if right else 0)
    assert value.passed == (1 if right else 0)
    assert (result.score == 3.0) == right
    # the same generator draws the same cases: the loop is deterministic
    again = check_in_namespace(part, namespace, np.random.default_rng(seed), 3.0)[1]
    assert again.score == result.score and again.checks[0].lines == fn.lines


def test_a_probe_check_is_planned_and_evaluated_by_the_same_loop() -> None:
    """A pair of calls (ps03's equivariance): a ``ProbeCheck`` through ``check_in_namespace``."""
    from autograder.checks import Probe

    def probes(rng: np.random.Generator) -> list[Probe]:
        out = []
        for _ in range(3):
            x = rng.normal(size=4)
            out.append(Probe(Case((x,)), [Call("f", (x,)), Call("f", (2 * x,))]))
        return out

    def linear(values: list, probe: Probe) -> str | None:
        a, b = (np.asarray(v) for v in values)
        return None if np.allclose(b, 2 * a) else "not linear"

    part = Part("test_f", "f", [ProbeCheck("linear", probes, linear)])
    rng = np.random.default_rng(0)
    _, good = check_in_namespace(part, {"f": lambda x: 3 * x}, rng)
    _, bad = check_in_namespace(part, {"f": lambda x: x + 1}, np.random.default_rng(0))
    assert good.checks[0].passed == 3 and bad.checks[0].passed == 0
    assert bad.checks[0].lines
