"""Tests of ``reference_impl.uniformity``, the measures the grader applies to learners' grids.

Oracles: brute force with scipy (``Rotation.magnitude`` of every relative rotation; angles
between vectors with ``arctan2`` of the cross and dot products), ``scipy.stats.kstest`` for the
KS statistic, the known covering radius of a single rotation (π, reached by the half turns), and
the expectation of the close-pair fraction of i.i.d. points.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import PI, haar_quats, seeds
from scipy import stats
from scipy.spatial.transform import Rotation

from reference_impl.conventions import ConventionError
from reference_impl.haar import ball_volume_fraction
from reference_impl.sampling import fibonacci_sphere, orientation_grid_quat, super_fibonacci_quat
from reference_impl.uniformity import (
    angle_ks_statistic,
    ball_count_ratios,
    cap_count_ratios,
    close_pair_fraction,
    covering_density,
    covering_radius,
    nearest_distances,
    separation,
    sphere_covering_radius,
    sphere_nearest_distances,
    sphere_separation,
)


def pairwise_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) rotation angles of aᵢ⁻¹ bⱼ, by scipy."""
    ra = Rotation.from_quat(a, scalar_first=True)
    rb = Rotation.from_quat(b, scalar_first=True)
    return np.stack([(ra[i].inv() * rb).magnitude() for i in range(len(a))])


def signs(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    return q * rng.choice([-1.0, 1.0], size=(len(q), 1))


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def vector_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cross = np.linalg.norm(np.cross(a[:, None], b[None]), axis=-1)
    return np.arctan2(cross, a @ b.T)


@settings(max_examples=30)
@given(seed=seeds(), n=st.integers(1, 40), p=st.integers(1, 40))
def test_nearest_distances_brute_force(seed, n, p) -> None:
    rng = np.random.default_rng(seed)
    grid, probes = signs(rng, haar_quats(rng, n)), signs(rng, haar_quats(rng, p))
    expected = pairwise_angles(probes, grid).min(axis=1)
    np.testing.assert_allclose(nearest_distances(grid, probes), expected, atol=1e-7)
    assert covering_radius(grid, probes) == pytest.approx(expected.max(), abs=1e-7)


def test_covering_radius_of_one_rotation_is_pi() -> None:
    half_turns = np.array([[0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0.6, 0, 0.8]])
    assert covering_radius(np.array([[1.0, 0, 0, 0]]), half_turns) == pytest.approx(PI)


@settings(max_examples=30)
@given(seed=seeds(), n=st.integers(2, 60))
def test_separation_brute_force_and_duplicates(seed, n) -> None:
    rng = np.random.default_rng(seed)
    q = signs(rng, haar_quats(rng, n))
    angles = pairwise_angles(q, q)
    np.fill_diagonal(angles, np.inf)
    assert separation(q) == pytest.approx(angles.min(), abs=1e-7)
    duplicated = np.concatenate([q, -q[:1]])  # −q is the same rotation
    assert separation(duplicated) == pytest.approx(0.0, abs=1e-7)


def test_separation_needs_two() -> None:
    with pytest.raises(ConventionError):
        separation(np.array([[1.0, 0, 0, 0]]))


@settings(max_examples=20)
@given(seed=seeds(), radius=st.floats(0.05, 3.0))
def test_ball_count_ratios_brute_force(seed, radius) -> None:
    rng = np.random.default_rng(seed)
    grid, centres = signs(rng, haar_quats(rng, 300)), haar_quats(rng, 12)
    counts = (pairwise_angles(centres, grid) < radius).sum(axis=1)
    expected = counts / (300 * ball_volume_fraction(radius))
    # a point within 1e-9 of the boundary may fall on either side
    near = np.abs(pairwise_angles(centres, grid) - radius).min() < 1e-9
    if not near:
        np.testing.assert_allclose(ball_count_ratios(grid, centres, radius), expected, rtol=1e-12)


def test_covering_density_of_good_and_random_sets() -> None:
    probes = Rotation.random(20000, random_state=4).as_quat(scalar_first=True)
    grid = orientation_grid_quat(np.deg2rad(20.0))
    for good in (grid, super_fibonacci_quat(len(grid))):
        assert 1.0 < covering_density(len(good), covering_radius(good, probes)) < 3.5
    random = Rotation.random(len(grid), random_state=5).as_quat(scalar_first=True)
    assert covering_density(len(random), covering_radius(random, probes)) > 5.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_angle_ks_statistic_is_scipys(seed) -> None:
    q = signs(np.random.default_rng(seed), haar_quats(np.random.default_rng(seed), 500))
    omega = Rotation.from_quat(q, scalar_first=True).magnitude()
    expected = stats.kstest(omega, lambda w: (w - np.sin(w)) / PI).statistic
    assert angle_ks_statistic(q) == pytest.approx(expected, abs=1e-12)


def test_close_pair_fraction_brute_force_and_expectation() -> None:
    rng = np.random.default_rng(3)
    q = haar_quats(rng, 400)
    angles = pairwise_angles(q, q)
    np.fill_diagonal(angles, np.inf)
    r = 0.3
    assert close_pair_fraction(q, r) == pytest.approx(np.mean(angles.min(axis=1) < r))
    n = 2000
    r = 0.2
    expected = 1 - (1 - ball_volume_fraction(r)) ** (n - 1)
    observed = np.mean([close_pair_fraction(haar_quats(rng, n), r) for _ in range(5)])
    assert observed == pytest.approx(expected, abs=0.03)
    assert close_pair_fraction(super_fibonacci_quat(n), r / 3) == 0.0


@settings(max_examples=20)
@given(seed=seeds(), m=st.integers(2, 50))
def test_sphere_measures_brute_force(seed, m) -> None:
    rng = np.random.default_rng(seed)
    pts, probes = unit_vectors(rng, m), unit_vectors(rng, 30)
    angles = vector_angles(probes, pts)
    np.testing.assert_allclose(sphere_nearest_distances(pts, probes), angles.min(axis=1), atol=1e-7)
    assert sphere_covering_radius(pts, probes) == pytest.approx(angles.min(axis=1).max(), abs=1e-7)
    own = vector_angles(pts, pts)
    np.fill_diagonal(own, np.inf)
    assert sphere_separation(pts) == pytest.approx(own.min(), abs=1e-7)
    r = 0.7  # the probes as cap centres: how many of the points lie within r of each
    ratios = cap_count_ratios(pts, probes, r)
    np.testing.assert_allclose(ratios, (angles < r).sum(axis=1) / (m * (1 - np.cos(r)) / 2))


def test_cap_counts_of_the_fibonacci_sphere() -> None:
    u = fibonacci_sphere(2000)
    centres = unit_vectors(np.random.default_rng(0), 200)
    ratios = cap_count_ratios(u, centres, 0.3)
    assert 0.9 < ratios.min() and ratios.max() < 1.1
