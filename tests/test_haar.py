"""Property tests of ``reference_impl.haar``: the metric and volume element of SO(3)
(Baldwin & Penczek 2007, §2.2.2–2.2.3).

Oracles: finite differences of scipy's rotation angle (``Rotation.magnitude`` of the relative
rotation) for the line elements; the determinant of the metric built from a finite-difference
Jacobian of the quaternion for the volume element; ``scipy.integrate`` for normalisation and the
ball's volume; and sampling statistics of scipy's ``Rotation.random`` (Kolmogorov–Smirnov tests
with fixed seeds) for the densities.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rotation_strategies import PI, seeds, unit_axes
from scipy import integrate, stats
from scipy.spatial.transform import Rotation

from reference_impl.haar import (
    SO3_VOLUME,
    ball_volume_fraction,
    euler_haar_density,
    haar_angle_density,
    sphere_line_element_sq,
    spin_line_element,
    spin_volume_element,
)


def spin_rotation(omega: float, axis: np.ndarray) -> Rotation:
    return Rotation.from_rotvec(omega * axis / np.linalg.norm(axis))


def angle_between(a: Rotation, b: Rotation) -> float:
    return float((a.inv() * b).magnitude())


def tangent(axis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random vector normal to the unit ``axis``."""
    v = rng.normal(size=3)
    return v - np.dot(v, axis) * axis


@given(omega=st.floats(0.05, PI - 0.05), axis=unit_axes(), seed=seeds())
def test_spin_line_element_is_the_geodesic_distance_of_a_small_step(omega, axis, seed) -> None:
    """Eq. 23: d∠((Ω, n̂), (Ω + ε dΩ, n̂ + ε dn̂)) / ε → ds, with scipy's angle as the oracle."""
    rng = np.random.default_rng(seed)
    d_omega, d_axis = rng.normal(), tangent(axis, rng)
    eps = 1e-6
    a = spin_rotation(omega, axis)
    b = spin_rotation(omega + eps * d_omega, axis + eps * d_axis)
    numeric = angle_between(a, b) / eps
    assert spin_line_element(omega, d_omega, d_axis) == pytest.approx(numeric, rel=1e-4, abs=1e-6)


@given(theta=st.floats(0.05, PI - 0.05), phi=st.floats(-PI, PI), seed=seeds())
def test_sphere_line_element_is_the_angle_between_nearby_directions(theta, phi, seed) -> None:
    rng = np.random.default_rng(seed)
    d_theta, d_phi = rng.normal(size=2)
    eps = 1e-6

    def unit(t: float, p: float) -> np.ndarray:
        return np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])

    u, v = unit(theta, phi), unit(theta + eps * d_theta, phi + eps * d_phi)
    numeric = np.arctan2(np.linalg.norm(np.cross(u, v)), np.dot(u, v)) / eps
    assert np.sqrt(sphere_line_element_sq(theta, d_theta, d_phi)) == pytest.approx(
        numeric, rel=1e-4, abs=1e-6
    )


def quat_of_spin(omega: float, theta: float, phi: float) -> np.ndarray:
    n = np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
    return np.concatenate([[np.cos(omega / 2)], np.sin(omega / 2) * n])


@given(omega=st.floats(0.1, PI - 0.1), theta=st.floats(0.1, PI - 0.1), phi=st.floats(-PI, PI))
def test_spin_volume_element_is_the_root_determinant_of_the_metric(omega, theta, phi) -> None:
    """√det g with g = 4 JᵀJ, J the Jacobian of the unit quaternion (the angle between rotations
    is twice the angle between their quaternions)."""
    h = 1e-6
    x = np.array([omega, theta, phi])
    J = np.stack(
        [(quat_of_spin(*(x + h * e)) - quat_of_spin(*(x - h * e))) / (2 * h) for e in np.eye(3)],
        axis=1,
    )
    g = 4 * J.T @ J
    assert spin_volume_element(omega, theta) == pytest.approx(np.sqrt(np.linalg.det(g)), rel=1e-6)


def test_volume_elements_integrate_to_8_pi_squared() -> None:
    spin, _ = integrate.dblquad(lambda t, o: spin_volume_element(o, t), 0, PI, 0, PI)
    assert 2 * PI * spin == pytest.approx(SO3_VOLUME, rel=1e-10)
    euler, _ = integrate.quad(lambda t: euler_haar_density(np.array([0.0, t, 0.0])), 0, PI)
    assert (2 * PI) ** 2 * euler == pytest.approx(1.0, rel=1e-10)
    angle, _ = integrate.quad(haar_angle_density, 0, PI)
    assert angle == pytest.approx(1.0, rel=1e-12)


@given(rho=st.floats(0.0, PI))
def test_ball_volume_fraction_is_the_integral_of_the_angle_density(rho) -> None:
    expected, _ = integrate.quad(haar_angle_density, 0, rho, epsabs=1e-15, epsrel=1e-12)
    assert ball_volume_fraction(rho) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_ball_volume_fraction_ends_and_small_balls() -> None:
    assert ball_volume_fraction(PI) == pytest.approx(1.0)
    assert ball_volume_fraction(4.0) == pytest.approx(1.0)  # a ball beyond π is everything
    assert ball_volume_fraction(0.0) == 0.0
    for r in (1e-8, 1e-5, 1e-3, 1.001e-3):  # both sides of the series switch
        assert ball_volume_fraction(r) == pytest.approx(
            r**3 / (6 * PI) * (1 - r**2 / 20), rel=1e-12
        )
    assert ball_volume_fraction(np.float32(0.5)).dtype == np.float32


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_haar_samples_follow_the_angle_law(seed) -> None:
    omega = Rotation.random(20000, random_state=seed).magnitude()
    assert stats.kstest(omega, ball_volume_fraction).pvalue > 1e-3


@pytest.mark.parametrize("seed", [0, 1])
def test_haar_samples_follow_the_euler_density(seed) -> None:
    """θ of uniform rotations has the density sin θ / 2; φ and ψ are uniform."""
    a = Rotation.random(20000, random_state=seed).inv().as_euler("ZYZ")  # SPIDER angles
    theta = a[:, 1]
    assert stats.kstest(theta, lambda t: (1 - np.cos(t)) / 2).pvalue > 1e-3
    density = euler_haar_density(np.stack([a[:, 0], theta, a[:, 2]], axis=-1))
    np.testing.assert_allclose(density * SO3_VOLUME, np.sin(theta), atol=1e-15)
    assert stats.kstest(a[:, 0], stats.uniform(-PI, 2 * PI).cdf).pvalue > 1e-3


@pytest.mark.parametrize("rho", [0.3, 1.0, 2.5])
def test_ball_volume_fraction_against_monte_carlo(rho) -> None:
    rng = np.random.default_rng(7)
    centre = Rotation.random(random_state=3)
    samples = Rotation.random(40000, random_state=int(rng.integers(2**31)))
    frac = np.mean((centre.inv() * samples).magnitude() < rho)
    p = ball_volume_fraction(rho)
    assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / 40000)


def test_densities_are_zero_outside_their_range() -> None:
    np.testing.assert_array_equal(haar_angle_density(np.array([-0.1, 3.2])), [0.0, 0.0])
    assert euler_haar_density(np.array([0.0, -0.1, 0.0])) == 0.0
