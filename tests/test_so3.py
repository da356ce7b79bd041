"""Property tests of ``reference_impl.so3``: the exp/log maps against scipy's rotation vectors,
and the three metrics of Hartley, Trumpf, Dai & Li (2013), §4 and Table 2."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rotation_strategies import (
    EXACT_QUATS,
    GENERAL_AXIS,
    PI,
    haar_quats,
    hamilton,
    matrices,
    paired_quat_batches,
    quat_batch_shapes,
    quat_batches,
    relative_pairs,
    rot,
    same_rotation_quats,
    seeds,
    unit_axes,
)
from scipy.spatial.transform import Rotation

from reference_impl.conventions import ConventionError
from reference_impl.so3 import (
    chordal_distance,
    geodesic_distance,
    hat,
    quat_geodesic_distance,
    quaternion_distance,
    rotation_angle,
    so3_exp,
    so3_log,
    vee,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EPS = np.finfo(np.float64).eps
SQRT2 = np.sqrt(2.0)

vectors = hnp.arrays(
    np.float64, st.integers(1, 6).map(lambda n: (n, 3)), elements=st.floats(-10, 10)
)


# --- hat / vee ----------------------------------------------------------------------------------


@given(vectors, vectors)
def test_hat_is_the_cross_product(w, v) -> None:
    n = min(len(w), len(v))
    w, v = w[:n], v[:n]
    W = hat(w)
    np.testing.assert_array_equal(W, -np.swapaxes(W, -1, -2))
    np.testing.assert_allclose((W @ v[..., None])[..., 0], np.cross(w, v), atol=1e-12)
    np.testing.assert_array_equal(vee(W), w)


@given(hnp.arrays(np.float64, (4, 3, 3), elements=st.floats(-10, 10)))
def test_vee_takes_the_skew_part(M) -> None:
    np.testing.assert_allclose(vee(M), vee((M - np.swapaxes(M, -1, -2)) / 2), atol=1e-14)
    np.testing.assert_allclose(hat(vee(M)), (M - np.swapaxes(M, -1, -2)) / 2, atol=1e-14)


# --- exp / log -----------------------------------------------------------------------------------


@given(vectors)
def test_exp_matches_scipy(w) -> None:
    np.testing.assert_allclose(so3_exp(w), Rotation.from_rotvec(w).as_matrix(), atol=1e-14)


@given(quat_batches())
def test_log_matches_scipy_and_inverts_exp(q) -> None:
    R = matrices(q)
    w = so3_log(R)
    theta = np.linalg.norm(w, axis=-1)
    assert np.all(theta <= PI + 4 * EPS)
    np.testing.assert_allclose(so3_exp(w), R, atol=1e-14)
    expected = rot(q).as_rotvec()
    unique = np.linalg.norm(expected, axis=-1) < PI - 1e-7  # at θ = π, ±π n are both logs
    np.testing.assert_allclose(w[unique], expected[unique], atol=1e-14)


@given(unit_axes(), st.sampled_from([1e-300, 1e-100, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3]))
def test_log_accurate_near_zero(axis, angle) -> None:
    """Full relative precision for tiny angles (θ read off the skew part, not acos of the trace)."""
    w = angle * axis
    assert np.linalg.norm(so3_log(so3_exp(w)) - w) <= 1e-14 * angle


@pytest.mark.parametrize(
    "axis", [np.eye(3)[0], np.eye(3)[1], np.eye(3)[2], GENERAL_AXIS, -GENERAL_AXIS], ids=str
)
@given(offset=st.sampled_from([0.0, 1e-15, 1e-12, 1e-9, 1e-6]))
def test_log_at_and_near_pi(axis, offset: float) -> None:
    """θ = π about x, y, z and a general axis, where (R − Rᵀ)/(2 sin θ) is 0/0: the log has
    length π − offset, lies along ±axis, and exp(log R) = R."""
    for R in (
        so3_exp((PI - offset) * axis),
        2 * np.outer(axis, axis) - np.eye(3) if offset == 0 else None,
    ):
        if R is None:
            continue
        w = so3_log(R)
        np.testing.assert_allclose(np.linalg.norm(w), PI - offset, atol=1e-14)
        np.testing.assert_allclose(np.abs(w @ axis), PI - offset, atol=1e-14)
        np.testing.assert_allclose(so3_exp(w), R, atol=1e-14)


@given(hnp.arrays(np.float64, (6, 3), elements=st.floats(-PI, PI)))
def test_log_exp_round_trip(w) -> None:
    inside = np.linalg.norm(w, axis=-1) < PI - 1e-6
    np.testing.assert_allclose(so3_log(so3_exp(w))[inside], w[inside], atol=1e-13)


@given(hnp.arrays(np.float64, (6, 3), elements=st.floats(-20, 20)))
def test_exp_is_a_rotation(w) -> None:
    R = so3_exp(w)
    np.testing.assert_allclose(
        R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-14
    )
    np.testing.assert_allclose(np.linalg.det(R), 1, atol=1e-14)
    np.testing.assert_allclose(rotation_angle(R), Rotation.from_rotvec(w).magnitude(), atol=1e-13)


# --- metrics -------------------------------------------------------------------------------------


@given(relative_pairs())
def test_geodesic_distance_matches_scipy(pairs) -> None:
    q1, q2, _r = pairs
    R1, R2 = matrices(q1), matrices(q2)
    d = geodesic_distance(R1, R2)
    np.testing.assert_allclose(d, (rot(q1).inv() * rot(q2)).magnitude(), atol=1e-14)
    assert np.all((d >= 0) & (d <= PI))
    np.testing.assert_allclose(quat_geodesic_distance(q1, q2), d, atol=1e-14)
    np.testing.assert_allclose(rotation_angle(np.swapaxes(R1, -1, -2) @ R2), d, atol=1e-14)


@given(unit_axes(), st.sampled_from([1e-300, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3]), seeds())
def test_geodesic_distance_accurate_at_both_ends(axis, delta, seed) -> None:
    """|d − θ| ~ ε at θ = δ and at θ = π − δ; ``acos((tr − 1)/2)`` is off by ~1e-8 at each end."""
    R1 = matrices(haar_quats(np.random.default_rng(seed), 1))[0]
    for theta in (delta, PI - delta, PI):
        R2 = R1 @ Rotation.from_rotvec(theta * axis).as_matrix()
        assert abs(geodesic_distance(R1, R2) - theta) <= 8 * EPS
        assert abs(geodesic_distance(R2, R1) - theta) <= 8 * EPS


@pytest.mark.parametrize("exact", list(EXACT_QUATS[2:]), ids=str)
def test_geodesic_distance_exact_half_turns(exact) -> None:
    R = matrices(exact)
    assert geodesic_distance(np.eye(3), R) == PI
    assert rotation_angle(R) == PI


METRICS = {
    "geodesic": lambda q1, q2: geodesic_distance(matrices(q1), matrices(q2)),
    "chordal": lambda q1, q2: chordal_distance(matrices(q1), matrices(q2)),
    "quaternion": quaternion_distance,
    "quat_geodesic": quat_geodesic_distance,
}


@pytest.mark.parametrize("metric", list(METRICS))
@given(paired_quat_batches(max_random=8), seeds())
def test_bi_invariance(metric: str, pq, seed) -> None:
    """d(G R1 H, G R2 H) = d(R1, R2) for rotations G, H (g ⊗ q ⊗ h for quaternions)."""
    q1, q2 = pq
    g, h = haar_quats(np.random.default_rng(seed), 2)
    d = METRICS[metric]
    moved = d(hamilton(hamilton(g, q1), h), hamilton(hamilton(g, q2), h))
    np.testing.assert_allclose(moved, d(q1, q2), atol=1e-13)
    # left only, right only, and inverses: d(R1ᵀ, R2ᵀ) = d(R1, R2)
    np.testing.assert_allclose(d(hamilton(g, q1), hamilton(g, q2)), d(q1, q2), atol=1e-13)
    conj = np.array([1.0, -1.0, -1.0, -1.0])
    np.testing.assert_allclose(d(q1 * conj, q2 * conj), d(q1, q2), atol=1e-13)


@pytest.mark.parametrize("metric", list(METRICS))
@given(quat_batches(max_random=8), quat_batches(max_random=8), quat_batches(max_random=8))
def test_metric_axioms(metric: str, a, b, c) -> None:
    """d(R, R) = 0, symmetry, the triangle inequality, and d(q, −q) = 0 for quaternions."""
    n = min(len(a), len(b), len(c))
    a, b, c = a[:n], b[:n], c[:n]
    d = METRICS[metric]
    np.testing.assert_allclose(d(a, a), 0, atol=1e-15)
    np.testing.assert_allclose(d(a, -a), 0, atol=1e-15)
    np.testing.assert_allclose(d(a, b), d(b, a), atol=1e-15)
    assert np.all(d(a, c) <= d(a, b) + d(b, c) + 1e-13)


@given(relative_pairs())
def test_hartley_table_2(pairs) -> None:
    """Hartley et al. 2013, Table 2, with θ = d∠: d_chord = 2√2 sin(θ/2), d_quat = 2 sin(θ/4),
    d_chord = d_quat √(8 − 2 d_quat²); the ranges θ ∈ [0, π], d_chord ∈ [0, 2√2],
    d_quat ∈ [0, √2]; and the comparisons that follow from them: 2 d_quat ≤ d_chord ≤ 2√2 d_quat,
    d_quat ≤ θ/2, and (2√2/π) θ ≤ d_chord ≤ √2 θ."""
    q1, q2, _ = pairs
    R1, R2 = matrices(q1), matrices(q2)
    theta = geodesic_distance(R1, R2)
    chord = chordal_distance(R1, R2)
    dq = quaternion_distance(q1, q2)
    np.testing.assert_allclose(chord, 2 * SQRT2 * np.sin(theta / 2), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dq, 2 * np.sin(theta / 4), rtol=0, atol=1e-12)
    np.testing.assert_allclose(chord, dq * np.sqrt(8 - 2 * dq**2), rtol=0, atol=1e-12)
    assert np.all((theta >= 0) & (theta <= PI))
    assert np.all((chord >= 0) & (chord <= 2 * SQRT2 + 1e-15))
    assert np.all((dq >= 0) & (dq <= SQRT2 + 1e-15))
    assert np.all(2 * dq <= chord + 1e-12) and np.all(chord <= 2 * SQRT2 * dq + 1e-12)
    assert np.all(dq <= theta / 2 + 1e-15)
    assert np.all(2 * SQRT2 / PI * theta <= chord + 1e-12) and np.all(
        chord <= SQRT2 * theta + 1e-15
    )


@given(relative_pairs())
def test_chordal_is_frobenius_and_quaternion_is_min_over_sign(pairs) -> None:
    q1, q2, _ = pairs
    R1, R2 = matrices(q1), matrices(q2)
    np.testing.assert_allclose(
        chordal_distance(R1, R2), np.linalg.norm(R1 - R2, axis=(-2, -1)), rtol=1e-15, atol=0
    )
    d = quaternion_distance(q1, q2)
    expected = np.minimum(np.linalg.norm(q1 - q2, axis=-1), np.linalg.norm(q1 + q2, axis=-1))
    np.testing.assert_allclose(d, expected, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(quaternion_distance(-q1, q2), d)
    np.testing.assert_array_equal(quaternion_distance(q1, -q2), d)


def test_quaternion_distance_at_half_turn_is_sqrt2() -> None:
    q = np.array(EXACT_QUATS[2:])
    np.testing.assert_allclose(
        quaternion_distance(np.broadcast_to(EXACT_QUATS[0], q.shape), q), SQRT2, rtol=1e-15
    )


# --- conventions ---------------------------------------------------------------------------------

FUNCTIONS = [
    (hat, ((3,),)),
    (vee, ((3, 3),)),
    (so3_exp, ((3,),)),
    (so3_log, ((3, 3),)),
    (rotation_angle, ((3, 3),)),
    (geodesic_distance, ((3, 3), (3, 3))),
    (chordal_distance, ((3, 3), (3, 3))),
    (quaternion_distance, ((4,), (4,))),
    (quat_geodesic_distance, ((4,), (4,))),
]
WRONG = {(3,): [(4,), (3, 1)], (3, 3): [(4,), (3,), (4, 4), (3, 3, 1)], (4,): [(3,), (4, 1)]}


def _example(trailing: tuple[int, ...], shape: tuple[int, ...], seed: int) -> np.ndarray:
    q = haar_quats(np.random.default_rng(seed), int(np.prod(shape))).reshape((*shape, 4))
    if trailing == (4,):
        return q
    if trailing == (3, 3):
        return matrices(q)
    return Rotation.from_quat(q.reshape(-1, 4), scalar_first=True).as_rotvec().reshape((*shape, 3))


@pytest.mark.parametrize(("f", "trailing"), FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_wrong_shapes_and_dtypes_are_refused(f, trailing) -> None:
    args = [_example(t, (2,), k) for k, t in enumerate(trailing)]
    for k, t in enumerate(trailing):
        for wrong in WRONG[t]:
            bad = list(args)
            bad[k] = np.zeros((2, *wrong))
            with pytest.raises(ConventionError):
                f(*bad)
        for dt in (np.float16, np.complex128, object):
            bad = list(args)
            bad[k] = args[k].astype(dt)
            with pytest.raises(ConventionError):
                f(*bad)


@pytest.mark.parametrize(("f", "trailing"), FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
@given(shape=quat_batch_shapes(), seed=seeds())
def test_float32_and_batch_shapes(f, trailing, shape, seed) -> None:
    args = [_example(t, shape, seed + k) for k, t in enumerate(trailing)]
    out64 = f(*args)
    out32 = f(*[a.astype(np.float32) for a in args])
    assert out64.dtype == np.float64 and out32.dtype == np.float32
    assert out64.shape[: len(shape)] == shape
    np.testing.assert_allclose(out32, out64, atol=1e-5)
    flat = f(*[a.reshape((-1, *a.shape[len(shape) :])) for a in args])
    np.testing.assert_array_equal(out64.reshape(flat.shape), flat)


def test_broadcasting_one_against_many() -> None:
    q = haar_quats(np.random.default_rng(0), 5)
    R = matrices(q)
    np.testing.assert_allclose(geodesic_distance(np.eye(3), R), rotation_angle(R), atol=1e-15)
    np.testing.assert_allclose(
        chordal_distance(R[0], R), np.linalg.norm(R[0] - R, axis=(-2, -1)), atol=1e-15
    )
    np.testing.assert_allclose(
        quaternion_distance(q[0], q),
        np.minimum(np.linalg.norm(q[0] - q, axis=-1), np.linalg.norm(q[0] + q, axis=-1)),
        atol=1e-15,
    )


def test_same_rotation_helper_sanity() -> None:
    """The helper used throughout must itself detect a wrong rotation."""
    q = haar_quats(np.random.default_rng(1), 3)
    assert same_rotation_quats(q, -q).max() == 0
    assert same_rotation_quats(q, q[::-1]).max() > 0.01
