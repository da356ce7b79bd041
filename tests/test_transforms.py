"""Property tests of ``reference_impl.transforms`` (Baldwin & Penczek 2007, §2.1–2.1.1).

Oracles: scipy's ``Rotation.from_rotvec`` / ``from_quat`` for Rodrigues' formula (eq. 7) and its
quaternion form (eq. 8); NumPy's general ``matmul`` and ``linalg.inv`` for the 4×4 transforms
(eq. 16–17); the rotation of explicit points; and scipy's ``from_euler`` with the packages' own
matrix formulas (clockwise elementary rotations, SPIDER ZYZ and EMAN ZXZ) for the conversions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rotation_strategies import (
    PI,
    angles,
    haar_quats,
    matrices,
    quat_batches,
    seeds,
    unit_axes,
)
from scipy.spatial.transform import Rotation

from reference_impl import euler
from reference_impl.conventions import ConventionError
from reference_impl.transforms import (
    apply_transform,
    axis_angle_to_matrix,
    compose_rt,
    compose_transforms,
    convert_euler,
    dyadic,
    euler_rodrigues_to_matrix,
    invert_transform,
    pre_post_transform,
    rigid_transform,
    split_transform,
)

vectors = hnp.arrays(np.float64, 3, elements=st.floats(-10, 10))


def rigid(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random rotations (n, 3, 3) and translations (n, 3), by scipy."""
    R = Rotation.random(n, random_state=int(rng.integers(2**31))).as_matrix()
    return R, rng.normal(scale=5.0, size=(n, 3))


# -- eq. 7 and the dyadic ------------------------------------------------------------------------


@given(a=vectors, b=vectors, v=vectors)
def test_dyadic_is_the_outer_product(a, b, v) -> None:
    D = dyadic(a, b)
    np.testing.assert_allclose(D, np.outer(a, b), rtol=1e-15, atol=0)
    np.testing.assert_allclose(D @ v, a * np.dot(b, v), rtol=1e-12, atol=1e-9)


@given(n=unit_axes(), v=vectors)
def test_dyadic_of_a_unit_axis_projects_onto_it(n, v) -> None:
    P = dyadic(n)
    np.testing.assert_allclose(P @ P, P, atol=1e-14)  # a projector
    np.testing.assert_allclose(P, P.T, atol=0)
    np.testing.assert_allclose(np.trace(P), 1.0, atol=1e-14)  # of rank 1
    np.testing.assert_allclose(P @ v, np.dot(n, v) * n, atol=1e-12)


@given(axis=unit_axes(), angle=angles(), scale=st.floats(1e-3, 1e3), sign=st.sampled_from([-1, 1]))
def test_rodrigues_matches_scipy_rotvec(axis, angle, scale, sign) -> None:
    """Eq. 7 (active) = scipy's rotation vector, for any scaling of the axis and both turns."""
    R = axis_angle_to_matrix(scale * axis, sign * angle)
    expected = Rotation.from_rotvec(sign * angle * axis).as_matrix()
    np.testing.assert_allclose(R, expected, atol=1e-15)


@given(axis=unit_axes(), angle=angles())
def test_rodrigues_is_the_wikipedia_axis_angle_matrix(axis, angle) -> None:
    """The entry-by-entry matrix of 'Rotation matrix from axis and angle' (Wikipedia)."""
    x, y, z = axis
    c, s = np.cos(angle), np.sin(angle)
    C = 1 - c
    wiki = np.array(
        [
            [c + x * x * C, x * y * C - z * s, x * z * C + y * s],
            [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
            [z * x * C - y * s, z * y * C + x * s, c + z * z * C],
        ]
    )
    np.testing.assert_allclose(axis_angle_to_matrix(axis, angle), wiki, atol=1e-15)


@given(q=quat_batches())
def test_eq8_is_eq7_in_the_quaternion(q) -> None:
    """Eq. 8 from eq. 7: e₀ = cos(θ/2), e = sin(θ/2) n̂ give the same matrix, either sign of q."""
    R8 = euler_rodrigues_to_matrix(q)
    np.testing.assert_allclose(R8, matrices(q), atol=1e-14)
    np.testing.assert_allclose(euler_rodrigues_to_matrix(-q), R8, atol=0)
    w = np.clip(q[:, 0], -1, 1)
    theta = 2 * np.arctan2(np.linalg.norm(q[:, 1:], axis=1), w)
    axis = np.where(
        np.linalg.norm(q[:, 1:], axis=1, keepdims=True) > 0, q[:, 1:], np.array([1.0, 0, 0])
    )
    np.testing.assert_allclose(axis_angle_to_matrix(axis, theta), R8, atol=1e-14)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), seed=seeds())
def test_rodrigues_broadcasts(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=(*shape, 3))
    angle = rng.uniform(-PI, PI, size=shape[-1:] if shape else ())
    R = axis_angle_to_matrix(axis, angle)
    assert R.shape == (*np.broadcast_shapes(shape, np.shape(angle)), 3, 3)


def test_rodrigues_keeps_float32_and_refuses_a_zero_axis_with_an_angle() -> None:
    R = axis_angle_to_matrix(np.array([0, 0, 1], np.float32), np.float32(0.5))
    assert R.dtype == np.float32
    np.testing.assert_allclose(axis_angle_to_matrix(np.zeros(3), 0.0), np.eye(3), atol=0)
    with pytest.raises(ConventionError):
        axis_angle_to_matrix(np.zeros(3), 0.1)


# -- eq. 16–17 -----------------------------------------------------------------------------------


@given(seed=seeds(), n=st.integers(1, 8))
def test_rigid_transform_moves_points_as_homogeneous_coordinates(seed, n) -> None:
    rng = np.random.default_rng(seed)
    R, t = rigid(rng, 1)
    M = rigid_transform(R[0], t[0])
    pts = rng.normal(size=(n, 3))
    homogeneous = np.concatenate([pts, np.ones((n, 1))], axis=1) @ M.T
    np.testing.assert_allclose(homogeneous[:, 3], 1.0, atol=0)
    np.testing.assert_allclose(apply_transform(M, pts), homogeneous[:, :3], atol=1e-12)
    R2, t2 = split_transform(M)
    np.testing.assert_array_equal(R2, R[0])
    np.testing.assert_array_equal(t2, t[0])


@given(seed=seeds(), n=st.integers(1, 6))
def test_compose_is_the_matrix_product_and_applies_the_first_first(seed, n) -> None:
    """Question 3: M₂M₁ keeps eq. 16's form, with translation R₂t₁ + t₂."""
    rng = np.random.default_rng(seed)
    (R1, t1), (R2, t2) = rigid(rng, n), rigid(rng, n)
    M1, M2 = rigid_transform(R1, t1), rigid_transform(R2, t2)
    product = np.matmul(M2, M1)
    np.testing.assert_allclose(compose_transforms(M2, M1), product, atol=1e-12)
    np.testing.assert_allclose(product[:, 3], np.tile([0, 0, 0, 1.0], (n, 1)), atol=0)
    R, t = compose_rt(R2, t2, R1, t1)
    np.testing.assert_allclose(R, product[:, :3, :3], atol=1e-12)
    np.testing.assert_allclose(t, product[:, :3, 3], atol=1e-12)
    pts = rng.normal(size=(n, 4, 3))
    np.testing.assert_allclose(
        apply_transform(compose_transforms(M2, M1), pts),
        apply_transform(M2, apply_transform(M1, pts)),
        atol=1e-11,
    )


@given(seed=seeds(), n=st.integers(1, 6))
def test_invert_transform_is_the_inverse(seed, n) -> None:
    rng = np.random.default_rng(seed)
    M = rigid_transform(*rigid(rng, n))
    inv = invert_transform(M)
    np.testing.assert_allclose(inv, np.linalg.inv(M), atol=1e-12)
    np.testing.assert_allclose(
        compose_transforms(inv, M), np.broadcast_to(np.eye(4), M.shape), atol=1e-12
    )


@given(seed=seeds())
def test_pre_post_transform_is_the_product_of_three(seed) -> None:
    """EMAN2's T(t_post) R T(t_pre), as a product of three matrices of eq. 16's form."""
    rng = np.random.default_rng(seed)
    (R, _), t_pre, t_post = rigid(rng, 1), rng.normal(size=3), rng.normal(size=3)
    expected = (
        rigid_transform(np.eye(3), t_post)
        @ rigid_transform(R[0], np.zeros(3))
        @ rigid_transform(np.eye(3), t_pre)
    )
    np.testing.assert_allclose(pre_post_transform(R[0], t_pre, t_post), expected, atol=1e-12)


def test_split_refuses_a_matrix_that_is_not_rigid() -> None:
    M = np.eye(4)
    M[3, 0] = 0.5
    with pytest.raises(ConventionError):
        split_transform(M)


# -- Euler conventions ---------------------------------------------------------------------------


def clockwise(axis: str, a: np.ndarray) -> np.ndarray:
    """The packages' elementary rotation of the frame: scipy's active rotation by −a."""
    return Rotation.from_euler(axis, -np.asarray(a)[..., None]).as_matrix()


def package_matrix(angles: np.ndarray, convention: str) -> np.ndarray:
    """SPIDER/RELION ``R_z(ψ) R_y(θ) R_z(φ)`` and EMAN ``R_z(phi) R_x(alt) R_z(az)`` of clockwise
    rotations (Baldwin & Penczek Table 1; RELION's ``Euler_angles2matrix``)."""
    a, b, c = np.moveaxis(angles, -1, 0)
    middle = "x" if convention == "eman" else "y"
    return clockwise("z", c) @ clockwise(middle, b) @ clockwise("z", a)


euler_rows = hnp.arrays(
    np.float64,
    st.integers(1, 8).map(lambda n: (n, 3)),
    elements=st.one_of(
        st.floats(-2 * PI, 2 * PI), st.sampled_from([0.0, PI / 2, -PI / 2, PI, 1e-12])
    ),
)
CONVENTIONS = ["spider", "relion", "eman"]


@pytest.mark.parametrize("source", CONVENTIONS)
@pytest.mark.parametrize("target", CONVENTIONS)
@given(a=euler_rows)
def test_convert_euler_keeps_the_rotation(source, target, a) -> None:
    b = convert_euler(a, source, target)
    np.testing.assert_allclose(package_matrix(b, target), package_matrix(a, source), atol=1e-13)


@given(a=euler_rows)
def test_spider_to_eman_is_the_90_degree_offsets(a) -> None:
    """az = φ + π/2, alt = θ, phi = ψ − π/2 describe the same rotation (Baldwin & Penczek)."""
    shifted = a + np.array([PI / 2, 0.0, -PI / 2])
    np.testing.assert_allclose(
        package_matrix(shifted, "eman"), package_matrix(a, "spider"), atol=1e-13
    )
    np.testing.assert_allclose(
        euler.euler_to_matrix(shifted, "eman"), euler.euler_to_matrix(a, "spider"), atol=1e-13
    )


@given(seed=seeds())
def test_relion_matrix_is_the_inverse_of_scipys_active_zyz(seed) -> None:
    """The domain note: RELION's A = Rotation.from_euler('ZYZ', (rot, tilt, psi)).inv()."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-PI, PI, size=(5, 3))
    np.testing.assert_allclose(
        euler.euler_to_matrix(a, "relion"),
        Rotation.from_euler("ZYZ", a).inv().as_matrix(),
        atol=1e-14,
    )
    q = haar_quats(rng, 5)
    R = matrices(q)
    np.testing.assert_allclose(
        euler.euler_to_matrix(
            convert_euler(euler.matrix_to_euler(R, "eman"), "eman", "relion"), "relion"
        ),
        R,
        atol=1e-13,
    )
