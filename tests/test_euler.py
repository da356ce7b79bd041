"""Property tests of ``reference_impl.euler``: scipy's ``from_euler``/``as_euler`` are the oracle
for the axis sequences, and the packages' own matrix formulas (RELION's ``Euler_angles2matrix``,
EMAN2's product of clockwise elementary rotations) for the named cryo-EM conventions
(Baldwin & Penczek 2007)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rotation_strategies import PI, matrices, quat_batch_shapes, quat_batches, wrap_angle
from scipy.spatial.transform import Rotation

from reference_impl.conventions import ConventionError
from reference_impl.euler import elementary_rotation, euler_to_matrix, matrix_to_euler

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

INTRINSIC = ["".join(s) for s in itertools.product("XYZ", repeat=3) if s[0] != s[1] != s[2]]
PROPER = [s for s in INTRINSIC if s[0] == s[2]]
SEQUENCES = INTRINSIC + [s.lower() for s in INTRINSIC]
NAMED = ["relion", "spider", "eman"]
TOL = 1e-14

angle_triples = hnp.arrays(
    np.float64,
    st.integers(1, 8).map(lambda n: (n, 3)),
    elements=st.one_of(
        st.floats(-2 * PI, 2 * PI),
        st.sampled_from([0.0, PI / 2, -PI / 2, PI, -PI, 1e-12, PI - 1e-12]),
    ),
)


def is_proper(seq: str) -> bool:
    return seq[0].lower() == seq[2].lower()


@pytest.mark.parametrize("seq", SEQUENCES)
@given(angles=angle_triples)
def test_euler_to_matrix_matches_scipy(seq: str, angles) -> None:
    np.testing.assert_allclose(
        euler_to_matrix(angles, seq), Rotation.from_euler(seq, angles).as_matrix(), atol=TOL
    )


def test_intrinsic_is_product_of_elementary_rotations() -> None:
    a, b, c = 0.3, -1.1, 2.5
    Rz, Ry = elementary_rotation(2, a), elementary_rotation(1, b)
    np.testing.assert_allclose(
        euler_to_matrix([a, b, c], "ZYZ"), Rz @ Ry @ elementary_rotation(2, c), atol=TOL
    )
    np.testing.assert_allclose(
        euler_to_matrix([a, b, c], "zyz"), elementary_rotation(2, c) @ Ry @ Rz, atol=TOL
    )


@given(st.sampled_from([0, 1, 2]), st.floats(-2 * PI, 2 * PI))
def test_elementary_rotation_is_active_right_handed(axis: int, angle: float) -> None:
    """Rₐ(θ) rotates the next axis towards the one after it (x → y for z), and equals scipy."""
    R = elementary_rotation(axis, angle)
    e = np.eye(3)
    u, v = e[(axis + 1) % 3], e[(axis + 2) % 3]
    np.testing.assert_allclose(R @ u, np.cos(angle) * u + np.sin(angle) * v, atol=TOL)
    np.testing.assert_allclose(R, Rotation.from_rotvec(angle * e[axis]).as_matrix(), atol=TOL)


@pytest.mark.parametrize("seq", SEQUENCES)
@given(q=quat_batches(max_random=16))
def test_matrix_to_euler_round_trips_and_ranges(seq: str, q) -> None:
    R = matrices(q)
    ang = matrix_to_euler(R, seq)
    np.testing.assert_allclose(euler_to_matrix(ang, seq), R, atol=1e-13)
    middle = ang[..., 1]
    if is_proper(seq):
        assert np.all((middle >= 0) & (middle <= PI))
    else:
        assert np.all(np.abs(middle) <= PI / 2)
    assert np.all(np.abs(ang) <= PI)


@pytest.mark.parametrize("seq", SEQUENCES)
@given(q=quat_batches(max_random=16))
def test_matrix_to_euler_matches_scipy_away_from_gimbal_lock(seq: str, q) -> None:
    R = matrices(q)
    ang = matrix_to_euler(R, seq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy's gimbal-lock warning
        expected = Rotation.from_matrix(R).as_euler(seq)
    middle = expected[..., 1]
    margin = np.minimum(middle, PI - middle) if is_proper(seq) else PI / 2 - np.abs(middle)
    ok = margin > 1e-6
    assert np.abs(wrap_angle(ang - expected))[ok].max(initial=0) < 1e-9


def gimbal_angles(seq: str, n: int, rng: np.random.Generator, offset: float) -> np.ndarray:
    """Angles whose middle angle is at (offset 0) or within ``offset`` of gimbal lock."""
    ang = rng.uniform(-PI, PI, (n, 3))
    if is_proper(seq):
        locks = rng.choice([0.0, PI], n)
        ang[:, 1] = np.abs(locks - offset * rng.random(n))
    else:
        locks = rng.choice([-PI / 2, PI / 2], n)
        ang[:, 1] = locks - np.sign(locks) * offset * rng.random(n)
    return ang


@pytest.mark.parametrize("seq", SEQUENCES + NAMED)
@given(seed=st.integers(0, 2**32 - 1), offset=st.sampled_from([0.0, 1e-15, 1e-10, 1e-7, 1e-3]))
def test_gimbal_lock_gives_a_valid_answer(seq: str, seed: int, offset: float) -> None:
    """At (and near) gimbal lock the angles are not unique, but the answer is finite, in range,
    its matrix round-trips, and at lock itself the last angle is 0 (Slabaugh's choice)."""
    rng = np.random.default_rng(seed)
    base = seq if seq not in NAMED else {"relion": "ZYZ", "spider": "ZYZ", "eman": "ZXZ"}[seq]
    R = euler_to_matrix(gimbal_angles(base, 20, rng, offset), seq)
    ang = matrix_to_euler(R, seq)
    assert np.all(np.isfinite(ang))
    np.testing.assert_allclose(euler_to_matrix(ang, seq), R, atol=1e-13)
    if offset == 0.0:
        last = ang[..., 0] if seq.islower() and seq not in NAMED else ang[..., 2]
        np.testing.assert_array_equal(last, 0.0)


# --- the named cryo-EM conventions --------------------------------------------------------------


def relion_matrix(rot: float, tilt: float, psi: float) -> np.ndarray:
    """RELION's ``Euler_angles2matrix`` (src/euler.cpp), written out entry by entry."""
    ca, sa, cb, sb, cg, sg = (np.cos(rot), np.sin(rot), np.cos(tilt), np.sin(tilt),
                              np.cos(psi), np.sin(psi))  # fmt: skip
    cc, cs, sc, ss = cb * ca, cb * sa, sb * ca, sb * sa
    return np.array(
        [
            [cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb],
            [-sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb],
            [sc, ss, cb],
        ]
    )


def clockwise(axis: int, a: float) -> np.ndarray:
    """The packages' clockwise elementary rotation, e.g. about z:
    [[cos, sin, 0], [−sin, cos, 0], [0, 0, 1]]."""
    c, s = np.cos(a), np.sin(a)
    u, v = (axis + 1) % 3, (axis + 2) % 3
    m = np.eye(3)
    m[u, u] = m[v, v] = c
    m[u, v] = s
    m[v, u] = -s
    return m


def eman_matrix(az: float, alt: float, phi: float) -> np.ndarray:
    """EMAN2's matrix: Z(phi) · X(alt) · Z(az) with clockwise elementary rotations."""
    return clockwise(2, phi) @ clockwise(0, alt) @ clockwise(2, az)


triples = st.tuples(*[st.floats(-2 * PI, 2 * PI)] * 3)


@given(triples)
def test_relion_and_spider_match_relion_source(angles) -> None:
    expected = relion_matrix(*angles)
    np.testing.assert_allclose(euler_to_matrix(angles, "relion"), expected, atol=TOL)
    np.testing.assert_allclose(euler_to_matrix(angles, "spider"), expected, atol=TOL)
    np.testing.assert_allclose(euler_to_matrix(angles, "RELION"), expected, atol=TOL)
    np.testing.assert_allclose(
        euler_to_matrix(angles, "relion"), euler_to_matrix(angles, "ZYZ").T, atol=0
    )


@given(triples)
def test_eman_matches_eman2_source(angles) -> None:
    np.testing.assert_allclose(euler_to_matrix(angles, "eman"), eman_matrix(*angles), atol=TOL)


@given(triples)
def test_eman_and_spider_map_onto_each_other(angles) -> None:
    """Baldwin & Penczek 2007: az = φ + π/2, alt = θ, phi = ψ − π/2."""
    phi, theta, psi = angles
    np.testing.assert_allclose(
        euler_to_matrix([phi + PI / 2, theta, psi - PI / 2], "eman"),
        euler_to_matrix([phi, theta, psi], "spider"),
        atol=TOL,
    )


@pytest.mark.parametrize("name", NAMED)
@given(q=quat_batches(max_random=16))
def test_named_round_trip_and_ranges(name: str, q) -> None:
    R = matrices(q)
    ang = matrix_to_euler(R, name)
    np.testing.assert_allclose(euler_to_matrix(ang, name), R, atol=1e-13)
    assert np.all((ang[..., 1] >= 0) & (ang[..., 1] <= PI))
    # the angles are those of the transposed (inverse) matrix in the plain sequence
    base = "ZXZ" if name == "eman" else "ZYZ"
    np.testing.assert_array_equal(ang, matrix_to_euler(np.swapaxes(R, -1, -2), base))


# --- conventions: shapes, dtypes, names ----------------------------------------------------------


@pytest.mark.parametrize("bad", ["XXY", "ZYz", "ABC", "ZY", "ZYZX", "zyx ", "", "cryosparc"])
def test_bad_convention_is_refused(bad: str) -> None:
    with pytest.raises(ConventionError):
        euler_to_matrix([0.1, 0.2, 0.3], bad)
    with pytest.raises(ConventionError):
        matrix_to_euler(np.eye(3), bad)


def test_non_string_convention_is_refused() -> None:
    with pytest.raises(ConventionError):
        euler_to_matrix([0.1, 0.2, 0.3], 3)  # type: ignore[arg-type]


def test_wrong_shapes_and_dtypes_are_refused() -> None:
    for bad in (np.zeros(4), np.zeros((2, 2)), np.zeros((3, 1))):
        with pytest.raises(ConventionError):
            euler_to_matrix(bad)
    for bad in (np.zeros(3), np.zeros((4, 4)), np.zeros((3, 3, 1))):
        with pytest.raises(ConventionError):
            matrix_to_euler(bad)
    for dt in (np.float16, np.complex64, object):
        with pytest.raises(ConventionError):
            euler_to_matrix(np.zeros(3, dtype=dt))
        with pytest.raises(ConventionError):
            matrix_to_euler(np.eye(3, dtype=dt))


@pytest.mark.parametrize("seq", ["ZYZ", "xyz", "relion", "eman"])
@given(shape=quat_batch_shapes(), seed=st.integers(0, 2**32 - 1))
def test_float32_and_batch_shapes(seq: str, shape, seed: int) -> None:
    ang = np.random.default_rng(seed).uniform(-PI, PI, (*shape, 3))
    R64 = euler_to_matrix(ang, seq)
    R32 = euler_to_matrix(ang.astype(np.float32), seq)
    assert R64.shape == (*shape, 3, 3) and R64.dtype == np.float64
    assert R32.dtype == np.float32
    np.testing.assert_allclose(R32, R64, atol=2e-6)
    back = matrix_to_euler(R32, seq)
    assert back.dtype == np.float32 and back.shape == (*shape, 3)
    np.testing.assert_allclose(euler_to_matrix(back, seq), R32, atol=5e-6)
    flat = matrix_to_euler(R64.reshape(-1, 3, 3), seq)
    np.testing.assert_array_equal(matrix_to_euler(R64, seq).reshape(-1, 3), flat)
    assert euler_to_matrix(np.zeros(3, dtype=np.int64), seq).dtype == np.float64
