"""Tests of ``reference_impl.sampling`` (Baldwin & Penczek 2007 §2.3; Shoemake 1992; Alexa 2022).

The grids and samplers are judged by what they are for, measured independently of
``reference_impl.uniformity``: distances to dense Haar-random probes computed by scipy
(``Rotation.magnitude`` of the relative rotation, through a k-d tree on quaternions for speed),
counts in balls against the volume ``(ρ − sin ρ)/π``, Kolmogorov–Smirnov tests (scipy.stats)
against the Haar law, and scipy's ``from_euler`` for the grid's matrices.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import PI
from scipy import stats
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from reference_impl.conventions import ConventionError
from reference_impl.sampling import (
    angular_step_for_radius,
    direction_vectors,
    fibonacci_sphere,
    orientation_grid_euler,
    orientation_grid_matrix,
    orientation_grid_quat,
    projection_directions,
    shoemake_quat,
    super_fibonacci_quat,
)

STEPS_DEG = [12.0, 15.0, 20.0, 30.0, 45.0]


def haar_angle_cdf(omega: np.ndarray) -> np.ndarray:
    return (omega - np.sin(omega)) / PI


def nearest_angles(grid_q: np.ndarray, probes_q: np.ndarray) -> np.ndarray:
    """Distance from each probe to the grid, by a k-d tree on ±q (chord ‖p − q‖ = 2 sin(θ/4))
    and scipy's angle of the relative rotation."""
    both = np.concatenate([grid_q, -grid_q])
    _, idx = cKDTree(both).query(probes_q)
    nearest = Rotation.from_quat(both[idx], scalar_first=True)
    return (Rotation.from_quat(probes_q, scalar_first=True).inv() * nearest).magnitude()


@pytest.fixture(scope="module")
def probes() -> np.ndarray:
    return Rotation.random(30000, random_state=11).as_quat(scalar_first=True)


@given(radius=st.floats(0.5, 1e4))
def test_angular_step_moves_the_rim_by_one_pixel(radius) -> None:
    step = angular_step_for_radius(radius)
    assert radius * np.tan(step) == pytest.approx(1.0, rel=1e-12)
    assert step <= 1.0 / radius  # arctan(x) ≤ x


def test_angular_step_refuses_a_non_positive_radius() -> None:
    with pytest.raises(ConventionError):
        angular_step_for_radius(0.0)


@pytest.mark.parametrize("deg", STEPS_DEG)
def test_projection_directions_are_rings_spaced_by_the_step(deg) -> None:
    """Eq. 28–29: rings of constant θ a step apart, φ stepping by about step / sin θ."""
    step = np.deg2rad(deg)
    d = projection_directions(step)
    phi, theta = d[:, 0], d[:, 1]
    rings = np.unique(theta)
    assert rings[0] == 0.0 and rings[-1] == pytest.approx(PI)
    np.testing.assert_allclose(np.diff(rings), PI / round(PI / step))
    for t in rings[1:-1]:
        on_ring = np.sort(phi[theta == t])
        spacing = 2 * PI / on_ring.size
        np.testing.assert_allclose(np.diff(on_ring), spacing, atol=1e-12)
        assert spacing * np.sin(t) == pytest.approx(step, rel=0.5)  # arc between neighbours
    assert np.sum(theta == 0) == 1 and np.sum(theta == rings[-1]) == 1
    assert d.shape[0] == pytest.approx(4 * PI / step**2, rel=0.2)


@pytest.mark.parametrize("deg", STEPS_DEG)
def test_projection_directions_cover_the_sphere_uniformly(deg) -> None:
    step = np.deg2rad(deg)
    u = direction_vectors(projection_directions(step))
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-15)
    probe = Rotation.random(20000, random_state=5).apply([0, 0, 1.0])
    dist, _ = cKDTree(u).query(probe)
    covering = 2 * np.arcsin(dist.max() / 2)
    assert 0.55 * step < covering < 0.75 * step
    centres = probe[:200]
    r = 2.5 * step
    counts = (centres @ u.T > np.cos(r)).sum(axis=1)
    ratio = counts / (u.shape[0] * (1 - np.cos(r)) / 2)
    assert 0.75 < ratio.min() and ratio.max() < 1.25


def test_direction_vectors_are_the_spider_projection_axis() -> None:
    """The direction (φ, θ) is the third row of SPIDER's matrix: R d = ẑ, the beam."""
    a = np.array([[0.3, 1.1, -0.4], [2.0, 0.0, 1.0], [-1.0, PI, 0.2]])
    R = Rotation.from_euler("ZYZ", a).inv().as_matrix()
    d = direction_vectors(a[:, :2])
    np.testing.assert_allclose(R[:, 2, :], d, atol=1e-15)
    np.testing.assert_allclose(
        np.einsum("nij,nj->ni", R, d), np.tile([0, 0, 1.0], (3, 1)), atol=1e-15
    )


@pytest.mark.parametrize("deg", [15.0, 20.0, 30.0])
def test_orientation_grid_matrices_and_quaternions(deg) -> None:
    step = np.deg2rad(deg)
    e = orientation_grid_euler(step)
    R = orientation_grid_matrix(step)
    q = orientation_grid_quat(step)
    np.testing.assert_allclose(R, Rotation.from_euler("ZYZ", e).inv().as_matrix(), atol=1e-14)
    np.testing.assert_allclose(Rotation.from_quat(q, scalar_first=True).as_matrix(), R, atol=1e-14)
    assert np.all(q[:, 0] >= 0)
    n_psi = round(2 * PI / step)
    assert e.shape[0] == projection_directions(step).shape[0] * n_psi
    assert e.shape[0] == pytest.approx(8 * PI**2 / step**3, rel=0.2)


@pytest.mark.parametrize("deg", [15.0, 20.0, 30.0])
def test_orientation_grid_covers_so3_uniformly(deg, probes) -> None:
    """Covering radius about 0.8 step; every ball of radius 2.5 step holds N·V(ρ) ± 15 %."""
    step = np.deg2rad(deg)
    q = orientation_grid_quat(step)
    d = nearest_angles(q, probes)
    assert 0.7 * step < d.max() < 0.9 * step
    r = 2.5 * step
    centres = Rotation.random(300, random_state=8)
    grid = Rotation.from_quat(q, scalar_first=True)
    counts = np.array([np.sum((c.inv() * grid).magnitude() < r) for c in centres])
    ratio = counts / (q.shape[0] * haar_angle_cdf(r))
    assert 0.85 < ratio.min() and ratio.max() < 1.15


@settings(max_examples=20)
@given(deg=st.floats(5.0, 180.0))
def test_grid_sizes_follow_the_step(deg) -> None:
    step = np.deg2rad(deg)
    assert projection_directions(step).shape[1] == 2
    assert orientation_grid_euler(step).shape[1] == 3
    with pytest.raises(ConventionError):
        projection_directions(-step)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shoemake_is_haar_uniform(seed) -> None:
    q = shoemake_quat(20000, seed)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-15)
    assert np.all(q[:, 0] >= 0)
    omega = Rotation.from_quat(q, scalar_first=True).magnitude()
    assert stats.kstest(omega, haar_angle_cdf).pvalue > 1e-3
    reference = Rotation.random(20000, random_state=100 + seed).as_quat(scalar_first=True)
    for k in range(1, 4):  # each vector component, against scipy's Haar sampler
        assert stats.ks_2samp(np.abs(q[:, k]), np.abs(reference[:, k])).pvalue > 1e-3
    # the rotation axis is uniform on the sphere: its z component is uniform on [−1, 1]
    axis = q[:, 1:] / np.linalg.norm(q[:, 1:], axis=1, keepdims=True)
    assert stats.kstest(axis[:, 2], stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_shoemake_is_reproducible_and_seeded() -> None:
    np.testing.assert_array_equal(shoemake_quat(10, 3), shoemake_quat(10, np.random.default_rng(3)))
    assert not np.allclose(shoemake_quat(10, 3), shoemake_quat(10, 4))


@pytest.mark.parametrize("n", [300, 1000, 5000])
def test_super_fibonacci_has_low_dispersion(n, probes) -> None:
    q = super_fibonacci_quat(n)
    assert q.shape == (n, 4)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-15)
    rho = nearest_angles(q, probes).max()
    density = n * haar_angle_cdf(rho)  # ≥ 1 for any covering; Haar-random sets reach 7–10
    assert 1.0 < density < 3.5
    random = Rotation.random(n, random_state=n).as_quat(scalar_first=True)
    assert nearest_angles(random, probes).max() > 1.2 * rho
    # no two points closer than a third of the covering radius (a random set has near-duplicates)
    chord, _ = cKDTree(np.concatenate([q, -q])).query(q, k=2)
    assert 4 * np.arcsin(chord[:, 1].min() / 2) > rho / 3


@pytest.mark.parametrize("n", [50, 500, 5000])
def test_fibonacci_sphere_is_uniform(n) -> None:
    u = fibonacci_sphere(n)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-15)
    probe = Rotation.random(20000, random_state=2).apply([0, 0, 1.0])
    dist, _ = cKDTree(u).query(probe)
    covering = 2 * np.arcsin(dist.max() / 2)
    assert covering * np.sqrt(n) < 2.7  # a hexagonal packing has about 1.9
    assert np.mean(u[:, 2]) == pytest.approx(0.0, abs=1e-12)  # equal-area bands
