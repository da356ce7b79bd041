"""Property tests of ``reference_impl.quaternion`` against ``scipy.spatial.transform.Rotation``.

Quaternions are scalar-first ``[w, x, y, z]`` with the Hamilton product; scipy is always called
with ``scalar_first=True``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rotation_strategies import (
    EXACT_QUATS,
    PI,
    angles,
    haar_quats,
    hamilton,
    matrices,
    one_quat,
    paired_quat_batches,
    quat_batch_shapes,
    quat_batches,
    quat_from_axis_angle,
    rot,
    same_rotation_quats,
    seeds,
    unit_axes,
)
from scipy import stats
from scipy.spatial.transform import Rotation, Slerp

from reference_impl.conventions import ConventionError
from reference_impl.quaternion import (
    axis_angle_to_quat,
    matrix_to_quat,
    quat_canonical,
    quat_conjugate,
    quat_inverse,
    quat_multiply,
    quat_normalize,
    quat_rotate,
    quat_slerp,
    quat_to_axis_angle,
    quat_to_matrix,
    quat_to_rotvec,
    random_quat,
    rotvec_to_quat,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EPS = np.finfo(np.float64).eps
TOL = 1e-14  # float64 results that are a handful of roundings away from the oracle
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


scales = hnp.arrays(np.float64, 1, elements=st.floats(1e-3, 1e3)).map(lambda a: a[0])

# --- the Hamilton product -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    # i² = j² = k² = ijk = −1 gives the whole table; each entry checks one sign of the product.
    [
        ("i", "j", "k"),
        ("j", "k", "i"),
        ("k", "i", "j"),
        ("j", "i", "-k"),
        ("k", "j", "-i"),
        ("i", "k", "-j"),
        ("i", "i", "-1"),
        ("j", "j", "-1"),
        ("k", "k", "-1"),
    ],
)
def test_hamilton_table(a: str, b: str, expected: str) -> None:
    basis = {"1": IDENTITY, "i": EXACT_QUATS[2], "j": EXACT_QUATS[3], "k": EXACT_QUATS[4]}
    sign = -1.0 if expected.startswith("-") else 1.0
    np.testing.assert_array_equal(quat_multiply(basis[a], basis[b]), sign * basis[expected[-1]])


@given(paired_quat_batches(), st.data())
def test_multiply_matches_independent_formula_and_scales(pq, data) -> None:
    p, q = pq
    a = data.draw(scales)
    b = data.draw(scales)
    got = quat_multiply(a * p, b * q)
    np.testing.assert_allclose(got, a * b * hamilton(p, q), rtol=0, atol=4 * EPS * a * b)
    # |p ⊗ q| = |p| |q|
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), a * b, rtol=1e-14)


@given(paired_quat_batches())
def test_homomorphism_against_scipy(pq) -> None:
    """R(p ⊗ q) = R(p) R(q), and equals scipy's composition ``Rotation(p) * Rotation(q)``."""
    p, q = pq
    pq_mat = quat_to_matrix(quat_multiply(p, q))
    np.testing.assert_allclose(pq_mat, quat_to_matrix(p) @ quat_to_matrix(q), atol=TOL)
    np.testing.assert_allclose(pq_mat, (rot(p) * rot(q)).as_matrix(), atol=TOL)


@given(quat_batches(), quat_batches(), quat_batches())
def test_multiply_associative(a, b, c) -> None:
    n = min(len(a), len(b), len(c))
    a, b, c = a[:n], b[:n], c[:n]
    np.testing.assert_allclose(
        quat_multiply(quat_multiply(a, b), c), quat_multiply(a, quat_multiply(b, c)), atol=TOL
    )


@given(paired_quat_batches())
def test_conjugate_reverses_products(pq) -> None:
    p, q = pq
    np.testing.assert_allclose(
        quat_conjugate(quat_multiply(p, q)),
        quat_multiply(quat_conjugate(q), quat_conjugate(p)),
        atol=TOL,
    )


@given(quat_batches(), st.data())
def test_inverse_and_normalize(q, data) -> None:
    s = data.draw(scales)
    qs = s * q
    np.testing.assert_allclose(
        quat_multiply(qs, quat_inverse(qs)), np.broadcast_to(IDENTITY, q.shape), atol=TOL
    )
    np.testing.assert_allclose(quat_inverse(q), quat_conjugate(q), atol=0)
    np.testing.assert_allclose(quat_normalize(qs), q, atol=TOL)
    np.testing.assert_array_equal(quat_conjugate(q)[..., 0], q[..., 0])
    np.testing.assert_array_equal(quat_conjugate(q)[..., 1:], -q[..., 1:])


def test_zero_quaternion_is_refused() -> None:
    for f in (quat_inverse, quat_normalize, quat_to_matrix):
        with pytest.raises(ConventionError):
            f(np.zeros((2, 4)))


@given(quat_batches())
def test_canonical(q) -> None:
    c = quat_canonical(q)
    assert np.all(c[..., 0] >= 0)
    assert np.all(same_rotation_quats(c, q) == 0)


# --- action on vectors and matrices ---------------------------------------------------------


@given(quat_batches(), st.integers(0, 2**32 - 1), st.data())
def test_rotate_matches_scipy_and_matrix(q, seed, data) -> None:
    v = np.random.default_rng(seed).normal(size=(q.shape[0], 3)) * 10
    expected = rot(q).apply(v)
    s = data.draw(scales)
    np.testing.assert_allclose(quat_rotate(q, v), expected, atol=1e-13)
    # independent of |q|, and of the sign of q
    np.testing.assert_allclose(quat_rotate(s * q, v), expected, atol=1e-13)
    np.testing.assert_allclose(quat_rotate(-q, v), expected, atol=1e-13)
    # q v q⁻¹ literally, with the pure quaternion (0, v)
    pure = np.concatenate([np.zeros((len(v), 1)), v], axis=-1)
    np.testing.assert_allclose(
        hamilton(hamilton(q, pure), quat_inverse(q))[..., 1:], expected, atol=1e-13
    )
    np.testing.assert_allclose(
        np.linalg.norm(quat_rotate(q, v), axis=-1), np.linalg.norm(v, axis=-1), rtol=1e-14
    )


@given(quat_batches(), st.data())
def test_to_matrix_matches_scipy(q, data) -> None:
    R = quat_to_matrix(q)
    np.testing.assert_allclose(R, rot(q).as_matrix(), atol=TOL)
    np.testing.assert_allclose(quat_to_matrix(-q), R, atol=0)
    np.testing.assert_allclose(quat_to_matrix(data.draw(scales) * q), R, atol=TOL)
    np.testing.assert_allclose(
        R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=TOL
    )
    np.testing.assert_allclose(np.linalg.det(R), 1, atol=TOL)


@given(quat_batches())
def test_matrix_to_quat_every_shepperd_branch_is_accurate(q) -> None:
    """Exact to a few ε for every rotation, including θ = π (w = 0), where the trace-only formula
    ``x = (R₂₁ − R₁₂)/(4w)`` divides by zero; w ≥ 0 and unit norm."""
    R = matrices(q)
    got = matrix_to_quat(R)
    assert np.all(got[..., 0] >= 0)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1, atol=4 * EPS)
    assert same_rotation_quats(got, q).max() <= 8 * EPS
    assert same_rotation_quats(got, Rotation.from_matrix(R).as_quat(scalar_first=True)).max() <= (
        8 * EPS
    )
    np.testing.assert_allclose(quat_to_matrix(got), R, atol=TOL)


@pytest.mark.parametrize("branch", [0, 1, 2, 3])
def test_matrix_to_quat_branches_near_pi(branch: int) -> None:
    """Rotations by π − δ whose largest component is each of w, x, y, z in turn."""
    rng = np.random.default_rng(branch)
    q = rng.normal(size=(200, 4)) * 0.05
    q[:, branch] = 1.0
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    got = matrix_to_quat(matrices(q))
    assert same_rotation_quats(got, q).max() <= 8 * EPS


# --- axis-angle and rotation vectors ---------------------------------------------------------


@given(unit_axes(), angles(), st.data())
def test_axis_angle_matches_scipy(axis, angle, data) -> None:
    s = data.draw(scales)
    q = axis_angle_to_quat(s * axis, angle)
    expected = Rotation.from_rotvec(angle * axis).as_quat(scalar_first=True)
    assert same_rotation_quats(q, expected) <= 4 * EPS
    np.testing.assert_allclose(q, quat_from_axis_angle(axis, angle), atol=4 * EPS)


@given(quat_batch_shapes(), quat_batch_shapes(), seeds())
def test_axis_angle_broadcasts(axis_shape, angle_shape, seed) -> None:
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(*axis_shape, 3))
    angle = rng.uniform(-PI, PI, size=angle_shape)
    try:
        shape = np.broadcast_shapes(axis_shape, angle_shape)
    except ValueError:
        with pytest.raises(ValueError):
            axis_angle_to_quat(axis, angle)
        return
    q = axis_angle_to_quat(axis, angle)
    assert q.shape == (*shape, 4)
    a, t = np.broadcast_to(axis, (*shape, 3)), np.broadcast_to(angle, shape)
    expected = Rotation.from_rotvec(
        (t[..., None] * a / np.linalg.norm(a, axis=-1, keepdims=True)).reshape(-1, 3)
    ).as_quat(scalar_first=True)
    assert same_rotation_quats(q.reshape(-1, 4), expected).max() <= 8 * EPS


def test_axis_angle_zero_axis() -> None:
    np.testing.assert_array_equal(axis_angle_to_quat([0, 0, 0], 0.0), IDENTITY)
    with pytest.raises(ConventionError):
        axis_angle_to_quat([[0, 0, 0], [1, 0, 0]], 0.5)


@given(quat_batches(), st.data())
def test_to_axis_angle_round_trip(q, data) -> None:
    s = data.draw(scales)
    axis, angle = quat_to_axis_angle(s * q)
    assert np.all((angle >= 0) & (angle <= PI))
    np.testing.assert_allclose(np.linalg.norm(axis, axis=-1), 1, atol=4 * EPS)
    assert same_rotation_quats(axis_angle_to_quat(axis, angle), q).max() <= 8 * EPS
    np.testing.assert_allclose(angle, rot(q).magnitude(), atol=1e-15, rtol=1e-14)


@given(unit_axes(), angles())
def test_to_axis_angle_accurate_at_small_angles(axis, angle) -> None:
    """θ = 2·atan2(|u|, |w|) keeps full relative precision where 2·acos(w) returns 0."""
    _, got = quat_to_axis_angle(quat_from_axis_angle(axis, angle))
    np.testing.assert_allclose(got, angle, rtol=4 * EPS, atol=4 * EPS)


@given(quat_batches())
def test_rotvec_round_trips_and_matches_scipy(q) -> None:
    rv = quat_to_rotvec(q)
    np.testing.assert_allclose(quat_to_rotvec(-q), rv, atol=0)
    assert np.all(np.linalg.norm(rv, axis=-1) <= PI + 4 * EPS)
    expected = rot(q).as_rotvec()
    # at θ = π both ±π n are rotation vectors of the same rotation
    near_pi = np.linalg.norm(expected, axis=-1) > PI - 1e-6
    np.testing.assert_allclose(rv[~near_pi], expected[~near_pi], atol=1e-14)
    assert same_rotation_quats(rotvec_to_quat(rv), q).max() <= 8 * EPS


@given(hnp.arrays(np.float64, (5, 3), elements=st.floats(-10, 10)))
def test_rotvec_to_quat_matches_scipy(rv) -> None:
    expected = Rotation.from_rotvec(rv).as_quat(scalar_first=True)
    assert same_rotation_quats(rotvec_to_quat(rv), expected).max() <= 1e-14


@given(unit_axes(), st.sampled_from([1e-310, 1e-300, 1e-200, 1e-20, 1e-12, 1e-8, 1e-4]))
def test_rotvec_small_angles_are_exact(axis, angle) -> None:
    """Relative accuracy ~ε of the whole vector, down to subnormal angles (max-norms: squaring
    a subnormal vector would underflow to 0)."""
    tiny = 2 * np.finfo(np.float64).smallest_subnormal
    q = rotvec_to_quat(angle * axis)
    expected = np.sin(angle / 2) * axis
    assert np.abs(q[1:] - expected).max() <= 4 * EPS * np.abs(expected).max() + tiny
    assert np.abs(quat_to_rotvec(q) - angle * axis).max() <= 4 * EPS * angle + tiny


# --- random_quat: Haar measure ----------------------------------------------------------------


@given(st.one_of(st.none(), st.integers(0, 5), st.tuples(st.integers(0, 3), st.integers(1, 3))))
def test_random_quat_shape_unit_and_seeded(n) -> None:
    q = random_quat(n, rng=7)
    expected = () if n is None else ((n,) if isinstance(n, int) else n)
    assert q.shape == (*expected, 4)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1, atol=4 * EPS)
    assert np.all(q[..., 0] >= 0)
    np.testing.assert_array_equal(random_quat(n, rng=np.random.default_rng(7)), q)
    assert random_quat(n, rng=7, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("seed", [0, 1])
def test_random_quat_is_haar(seed: int) -> None:
    """Haar measure on SO(3): the angle has density (1 − cos θ)/π on [0, π] (mean π/2 + 2/π,
    variance π²/3 + 2 − (π/2 + 2/π)²), the axis is uniform and independent of the angle, and the
    distribution is invariant under left and right multiplication."""
    n = 100_000
    rng = np.random.default_rng(seed)
    q = random_quat(n, rng)
    angle = 2 * np.arctan2(np.linalg.norm(q[:, 1:], axis=-1), np.abs(q[:, 0]))
    mean = PI / 2 + 2 / PI
    sd = np.sqrt(PI**2 / 3 + 2 - mean**2)
    assert abs(angle.mean() - mean) < 5 * sd / np.sqrt(n)
    assert stats.kstest(angle, lambda t: (t - np.sin(t)) / PI).pvalue > 1e-4
    # axis: each component uniform on [−1, 1]
    axis = q[:, 1:] / np.linalg.norm(q[:, 1:], axis=-1, keepdims=True)
    for c in range(3):
        assert stats.kstest(axis[:, c], stats.uniform(-1, 2).cdf).pvalue > 1e-4
    # invariance: the angle of g ⊗ q ⊗ h is again Haar-distributed
    g, h = haar_quats(rng, 2)
    moved = hamilton(hamilton(g, q), h)
    angle2 = 2 * np.arctan2(np.linalg.norm(moved[:, 1:], axis=-1), np.abs(moved[:, 0]))
    assert stats.kstest(angle2, lambda t: (t - np.sin(t)) / PI).pvalue > 1e-4


# --- slerp ------------------------------------------------------------------------------------


@given(paired_quat_batches(max_random=8), st.floats(0.0, 1.0))
def test_slerp_matches_scipy_and_moves_at_constant_speed(pq, t) -> None:
    p, q = pq
    got = quat_slerp(p, q, t)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1, atol=8 * EPS)
    theta = (rot(p).inv() * rot(q)).magnitude()
    # the angle from p grows linearly in t, and the rest of the way is (1 − t)θ
    np.testing.assert_allclose((rot(p).inv() * rot(got)).magnitude(), t * theta, atol=1e-12)
    np.testing.assert_allclose((rot(got).inv() * rot(q)).magnitude(), (1 - t) * theta, atol=1e-12)
    unique = theta < PI - 1e-6  # at θ = π both arcs are shortest
    for i in np.flatnonzero(unique):
        expected = Slerp([0.0, 1.0], rot(np.stack([p[i], q[i]])))([t]).as_matrix()[0]
        np.testing.assert_allclose(quat_to_matrix(got[i]), expected, atol=1e-12)
    # the same rotation whichever sign of q is given (unless θ = π: then both arcs are shortest)
    np.testing.assert_allclose(
        quat_to_matrix(quat_slerp(p, -q, t))[unique], quat_to_matrix(got)[unique], atol=1e-13
    )


@given(paired_quat_batches(max_random=8))
def test_slerp_endpoints(pq) -> None:
    p, q = pq
    np.testing.assert_allclose(quat_slerp(p, q, 0.0), p, atol=4 * EPS)
    assert same_rotation_quats(quat_slerp(p, q, 1.0), q).max() <= 1e-15 * 8
    np.testing.assert_allclose(quat_slerp(p, p, 0.3), p, atol=4 * EPS)


@given(one_quat(), one_quat(), hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(0, 1)))
def test_slerp_broadcasts_over_t(p, q, t) -> None:
    got = quat_slerp(p, q, t)
    assert got.shape == (*t.shape, 4)
    for i, ti in enumerate(t):
        np.testing.assert_allclose(got[i], quat_slerp(p, q, ti), atol=0)


# --- q ≡ −q -----------------------------------------------------------------------------------


@given(quat_batches())
def test_sign_of_q_is_irrelevant(q) -> None:
    """Every function that reads a rotation off q gives the same answer for −q."""
    np.testing.assert_array_equal(quat_to_matrix(-q), quat_to_matrix(q))
    np.testing.assert_array_equal(quat_to_rotvec(-q), quat_to_rotvec(q))
    a1, t1 = quat_to_axis_angle(q)
    a2, t2 = quat_to_axis_angle(-q)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(quat_canonical(-q)[q[:, 0] != 0], quat_canonical(q)[q[:, 0] != 0])


# --- conventions: shapes, dtypes --------------------------------------------------------------

Q4 = np.array([0.5, 0.5, 0.5, 0.5])
V3 = np.array([0.1, -0.2, 0.3])
R33 = np.eye(3)
# (function, arguments with the right shapes); the shape tests replace one array at a time.
FUNCTIONS = [
    (quat_multiply, (Q4, Q4)),
    (quat_conjugate, (Q4,)),
    (quat_inverse, (Q4,)),
    (quat_normalize, (Q4,)),
    (quat_canonical, (Q4,)),
    (quat_rotate, (Q4, V3)),
    (quat_to_matrix, (Q4,)),
    (matrix_to_quat, (R33,)),
    (axis_angle_to_quat, (V3, np.array(0.3))),
    (quat_to_axis_angle, (Q4,)),
    (rotvec_to_quat, (V3,)),
    (quat_to_rotvec, (Q4,)),
    (quat_slerp, (Q4, Q4 * [1, -1, 1, 1], np.array(0.25))),
]
IDS = [f.__name__ for f, _ in FUNCTIONS]


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


def _wrong_shape(a: np.ndarray) -> np.ndarray:
    """The same data with a wrong trailing shape: a quaternion as a 3-vector, and so on."""
    if a.shape == (4,):
        return a[:3]
    if a.shape == (3,):
        return np.append(a, 0.0)
    return a[:, :2]


@pytest.mark.parametrize(("f", "args"), FUNCTIONS, ids=IDS)
def test_wrong_trailing_shape_is_refused(f, args) -> None:
    for k, a in enumerate(args):
        if a.ndim == 0:
            continue
        bad = list(args)
        bad[k] = _wrong_shape(a)
        with pytest.raises(ConventionError):
            f(*bad)
        bad[k] = np.broadcast_to(a, (2, *a.shape))[..., None]  # extra trailing axis
        with pytest.raises(ConventionError):
            f(*bad)


@pytest.mark.parametrize("dtype", [np.float16, np.complex128, object, np.str_])
@pytest.mark.parametrize(("f", "args"), FUNCTIONS, ids=IDS)
def test_wrong_dtype_is_refused(f, args, dtype) -> None:
    bad = [np.asarray(args[0]).astype(dtype), *args[1:]]
    with pytest.raises(ConventionError):
        f(*bad)


@pytest.mark.parametrize(("f", "args"), FUNCTIONS, ids=IDS)
@given(shape=quat_batch_shapes())
def test_float32_in_float32_out_and_batch_shapes(f, args, shape) -> None:
    """float32 in → float32 out (Python-number parameters do not promote), float64 and integers
    → float64, and any leading batch shape is kept."""
    batched = [np.broadcast_to(a, shape + a.shape) for a in args]
    out64 = _outputs(f(*batched))
    out32 = _outputs(f(*[a.astype(np.float32) for a in batched]))
    for o64, o32 in zip(out64, out32, strict=True):
        assert o64.dtype == np.float64
        assert o32.dtype == np.float32
        assert o64.shape[: len(shape)] == shape
        np.testing.assert_allclose(o32, o64, atol=2e-6)
    # a Python float parameter keeps float32
    if f is quat_slerp:
        assert f(*[a.astype(np.float32) for a in batched[:2]], 0.25).dtype == np.float32
    if f is axis_angle_to_quat:
        assert f(batched[0].astype(np.float32), 0.3).dtype == np.float32
    # integer arrays are promoted to float64
    if f in (quat_multiply, quat_conjugate, quat_to_matrix):
        ints = [np.ones(a.shape, dtype=np.int64) for a in batched]
        assert _outputs(f(*ints))[0].dtype == np.float64


@given(quat_batch_shapes(), seeds())
def test_batch_shapes_agree_with_flat(shape, seed) -> None:
    """A batch (..., 4) gives the same numbers as the flattened batch, element by element."""
    q = haar_quats(np.random.default_rng(seed), int(np.prod(shape))).reshape((*shape, 4))
    v = np.random.default_rng(seed + 1).normal(size=(*shape, 3))
    flat_q, flat_v = q.reshape(-1, 4), v.reshape(-1, 3)
    np.testing.assert_array_equal(quat_to_matrix(q).reshape(-1, 3, 3), quat_to_matrix(flat_q))
    np.testing.assert_array_equal(quat_rotate(q, v).reshape(-1, 3), quat_rotate(flat_q, flat_v))
    np.testing.assert_array_equal(
        matrix_to_quat(quat_to_matrix(q)).reshape(-1, 4), matrix_to_quat(quat_to_matrix(flat_q))
    )
    np.testing.assert_array_equal(quat_multiply(q, q).reshape(-1, 4), quat_multiply(flat_q, flat_q))


def test_broadcasting_one_rotation_against_many() -> None:
    q = random_quat(None, 3)
    v = np.random.default_rng(4).normal(size=(6, 3))
    np.testing.assert_allclose(quat_rotate(q, v), v @ quat_to_matrix(q).T, atol=1e-15)
    p = random_quat(6, 5)
    np.testing.assert_allclose(
        quat_multiply(q, p), hamilton(np.broadcast_to(q, p.shape), p), atol=4 * EPS
    )
