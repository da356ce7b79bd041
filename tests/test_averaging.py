"""Property tests of ``reference_impl.averaging`` (Hartley, Trumpf, Dai & Li 2013, §5).

Each mean is checked by the condition that defines it rather than against a second
implementation: first-order optimality of the geodesic L2 mean, Weiszfeld's subgradient condition
for the L1 median, the eigenvector of Σ w q qᵀ (and scipy's ``Rotation.mean``) for the chordal
mean, the sign-consistent fixed point for the quaternion mean; plus equivariance, weights and
the degenerate sets (one rotation, copies of one rotation, two rotations, zero weights).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rotation_strategies import (
    PI,
    haar_quats,
    hamilton,
    matrices,
    paired_quat_batches,
    rotation_sets,
    same_rotation_quats,
    seeds,
)
from scipy.spatial.transform import Rotation

from reference_impl.averaging import chordal_mean, geodesic_mean, geodesic_median, quaternion_mean
from reference_impl.conventions import ConventionError

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EPS = np.finfo(np.float64).eps
MATRIX_MEANS = [geodesic_mean, chordal_mean, geodesic_median]
IDS = [f.__name__ for f in MATRIX_MEANS]


def log_map(R: np.ndarray) -> np.ndarray:
    """Rotation vectors of matrices, by scipy (independent of the code under test)."""
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape((*R.shape[:-2], 3))


def tangents(Rbar: np.ndarray, Rs: np.ndarray) -> np.ndarray:
    """vᵢ = log(R̄ᵀ Rᵢ) (N, 3)."""
    return log_map(Rbar.T @ Rs)


def weights_or_ones(w, n: int) -> np.ndarray:
    return np.ones(n) if w is None else np.asarray(w, dtype=np.float64)


def geodesic_cost(R: np.ndarray, Rs: np.ndarray, w: np.ndarray, p: int) -> float:
    return float(np.sum(w * np.linalg.norm(tangents(R, Rs), axis=-1) ** p))


def perturbations(R: np.ndarray, seed: int, size: float) -> np.ndarray:
    xi = np.random.default_rng(seed).normal(size=(6, 3))
    xi *= size / np.linalg.norm(xi, axis=-1, keepdims=True)
    return R @ Rotation.from_rotvec(xi).as_matrix()


def random_rotation(seed: int) -> np.ndarray:
    return matrices(haar_quats(np.random.default_rng(seed), 1))[0]


# --- equivariance, weights, degenerate sets ---------------------------------------------------


@pytest.mark.parametrize("mean", MATRIX_MEANS, ids=IDS)
@given(data=rotation_sets(), seed=seeds())
def test_bi_equivariance(mean, data, seed) -> None:
    """mean(G Rᵢ H) = G mean(Rᵢ) H: every metric is bi-invariant."""
    Rs, _, w = data
    G, H = random_rotation(seed), random_rotation(seed + 1)
    np.testing.assert_allclose(mean(G @ Rs @ H, w), G @ mean(Rs, w) @ H, atol=1e-10)


@given(data=rotation_sets(), seed=seeds())
def test_quaternion_mean_bi_equivariance(data, seed) -> None:
    """The quaternion analogue: mean(g ⊗ qᵢ ⊗ h) = ±g ⊗ mean(qᵢ) ⊗ h (d_quat is bi-invariant)."""
    _, qs, w = data
    g, h = haar_quats(np.random.default_rng(seed), 2)
    moved = quaternion_mean(hamilton(hamilton(g, qs), h), w)
    expected = hamilton(hamilton(g, quaternion_mean(qs, w)), h)
    assert same_rotation_quats(moved, expected) < 1e-12


@pytest.mark.parametrize("mean", [*MATRIX_MEANS, quaternion_mean], ids=[*IDS, "quaternion_mean"])
@given(data=rotation_sets(), seed=seeds(), scale=st.floats(1e-3, 1e3))
def test_weights_scale_permutation_and_zeros(mean, data, seed, scale) -> None:
    """Scaling all weights or permuting the set changes nothing; a zero weight drops its
    rotation."""
    Rs, qs, w = data
    x = qs if mean is quaternion_mean else Rs
    n = len(x)
    w = weights_or_ones(w, n)
    ref = mean(x, w)
    perm = np.random.default_rng(seed).permutation(n)
    tol = 1e-10 if mean is geodesic_median else 1e-12
    assert_same = _same_quat if mean is quaternion_mean else np.testing.assert_allclose
    assert_same(mean(x, scale * w), ref, atol=tol)
    assert_same(mean(x[perm], w[perm]), ref, atol=tol)
    keep = w > 0
    assert_same(mean(x[keep], w[keep]), ref, atol=tol)
    if np.all(w == 1):
        assert_same(mean(x), ref, atol=0)


def _same_quat(a, b, atol) -> None:
    assert same_rotation_quats(a, b) <= atol


@pytest.mark.parametrize("mean", [*MATRIX_MEANS, quaternion_mean], ids=[*IDS, "quaternion_mean"])
@given(seed=seeds(), n=st.integers(1, 8), weighted=st.booleans())
def test_copies_of_one_rotation(mean, seed, n, weighted) -> None:
    """The mean of n copies of R (either quaternion sign) is R."""
    rng = np.random.default_rng(seed)
    q = haar_quats(rng, 1)
    qs = np.repeat(q, n, axis=0) * np.where(rng.random((n, 1)) < 0.5, -1, 1)
    w = rng.random(n) + 0.1 if weighted else None
    if mean is quaternion_mean:
        assert same_rotation_quats(mean(qs, w), q[0]) <= 4 * EPS
    else:
        np.testing.assert_allclose(mean(matrices(qs), w), matrices(q)[0], atol=4 * EPS)


@given(pq=paired_quat_batches(max_drawn=1, max_random=0), t=st.floats(0, 1))
def test_geodesic_mean_of_two_is_slerp(pq, t) -> None:
    """Weights (1 − t, t) on two rotations: the geodesic mean is slerp(p, q, t) — including
    t = 0 and t = 1, where one weight is zero."""
    p, q = pq[0][:1], pq[1][:1]
    theta = (
        Rotation.from_quat(p, scalar_first=True).inv() * Rotation.from_quat(q, scalar_first=True)
    ).magnitude()[0]
    if theta > PI - 1e-3:  # two antipodal rotations have a whole circle of means
        return
    from scipy.spatial.transform import Slerp

    expected = Slerp([0, 1], Rotation.from_quat(np.concatenate([p, q]), scalar_first=True))([t])
    Rs = matrices(np.concatenate([p, q]))
    np.testing.assert_allclose(geodesic_mean(Rs, [1 - t, t]), expected.as_matrix()[0], atol=1e-12)
    if abs(t - 0.5) < 1e-12 or t in (0.0, 1.0):
        # the chordal mean of two is the geodesic midpoint for equal weights
        np.testing.assert_allclose(
            chordal_mean(Rs, [1 - t, t]), expected.as_matrix()[0], atol=1e-12
        )


@given(pq=paired_quat_batches(max_drawn=1, max_random=0), t=st.floats(0, 1))
def test_median_of_two_is_the_heavier(pq, t) -> None:
    if abs(t - 0.5) < 1e-6:
        return  # equal weights: every point of the geodesic between them is a median
    Rs = matrices(np.concatenate([pq[0][:1], pq[1][:1]]))
    np.testing.assert_allclose(geodesic_median(Rs, [1 - t, t]), Rs[int(t > 0.5)], atol=1e-10)


# --- the geodesic L2 mean: Hartley Algorithm 1 -------------------------------------------------


@given(data=rotation_sets(max_n=20), seed=seeds())
def test_geodesic_mean_first_order_optimality(data, seed) -> None:
    """Σ wᵢ log(R̄ᵀ Rᵢ) = 0 at convergence (to 1e-12), and R̄ is a local minimum of Σ wᵢ d∠²."""
    Rs, _, w = data
    w = weights_or_ones(w, len(Rs))
    R = geodesic_mean(Rs, w)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    grad = np.sum(w[:, None] * tangents(R, Rs), axis=0) / w.sum()
    assert np.linalg.norm(grad) < 2e-12
    cost = geodesic_cost(R, Rs, w, 2)
    for other in perturbations(R, seed, 1e-4):
        assert cost <= geodesic_cost(other, Rs, w, 2) + 1e-15


@given(seed=seeds(), n=st.sampled_from([1000, 5000]), spread=st.sampled_from([0.3, 1.0]))
def test_geodesic_mean_converges_on_large_sets(seed, n, spread) -> None:
    rng = np.random.default_rng(seed)
    centre = haar_quats(rng, 1)
    tangent = rng.normal(size=(n, 3)) * spread / 2
    tangent *= np.minimum(1, 1.5 / np.linalg.norm(tangent, axis=-1, keepdims=True))
    Rs = matrices(hamilton(centre, Rotation.from_rotvec(tangent).as_quat(scalar_first=True)))
    R = geodesic_mean(Rs)
    assert np.linalg.norm(tangents(R, Rs).mean(axis=0)) < 2e-12


# --- the chordal L2 mean -------------------------------------------------------------------------


@given(data=rotation_sets(max_spread=2.0), seed=seeds())
def test_chordal_mean_is_the_eigenvector_and_scipys_mean(data, seed) -> None:
    """R̄ = projection of Σ wᵢ Rᵢ onto SO(3) = rotation of the top eigenvector of Σ wᵢ qᵢ qᵢᵀ
    (= scipy's ``Rotation.mean``), and it minimises Σ wᵢ ‖R − Rᵢ‖²."""
    Rs, qs, w = data
    ww = weights_or_ones(w, len(Rs))
    R = chordal_mean(Rs, w)
    vals, vecs = np.linalg.eigh(np.einsum("n,ni,nj->ij", ww, qs, qs))
    if vals[-1] - vals[-2] < 1e-6 * vals[-1]:
        return  # no unique mean
    np.testing.assert_allclose(R, matrices(vecs[:, -1]), atol=1e-10)
    np.testing.assert_allclose(
        R, Rotation.from_quat(qs, scalar_first=True).mean(w).as_matrix(), atol=1e-10
    )
    cost = np.sum(ww * np.linalg.norm(R - Rs, axis=(-2, -1)) ** 2)
    for other in [*perturbations(R, seed, 1e-4), *Rs]:
        assert cost <= np.sum(ww * np.linalg.norm(other - Rs, axis=(-2, -1)) ** 2) + 1e-12


@given(seed=seeds(), n=st.integers(2, 6), weighted=st.booleans())
def test_chordal_mean_of_spread_sets_is_a_proper_rotation(seed, n, weighted) -> None:
    """Haar-random sets, where the polar factor of Σ wᵢ Rᵢ is often a reflection (det −1): the
    chordal mean must still be the rotation of the top eigenvector of Σ wᵢ qᵢ qᵢᵀ."""
    rng = np.random.default_rng(seed)
    qs = haar_quats(rng, n)
    w = rng.random(n) + 0.1 if weighted else np.ones(n)
    R = chordal_mean(matrices(qs), w if weighted else None)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    vals, vecs = np.linalg.eigh(np.einsum("n,ni,nj->ij", w, qs, qs))
    if vals[-1] - vals[-2] > 1e-6 * vals[-1]:
        np.testing.assert_allclose(R, matrices(vecs[:, -1]), atol=1e-8)


# --- the quaternion L2 mean ----------------------------------------------------------------------


def quat_cost(q: np.ndarray, qs: np.ndarray, w: np.ndarray) -> float:
    d = np.minimum(np.linalg.norm(q - qs, axis=-1), np.linalg.norm(q + qs, axis=-1))
    return float(np.sum(w * d**2))


@given(data=rotation_sets(max_spread=PI), seed=seeds())
def test_quaternion_mean_is_the_sign_consistent_fixed_point(data, seed) -> None:
    """q̄ = normalise(Σ wᵢ sᵢ qᵢ) with sᵢ = sign(q̄·qᵢ); unit, w ≥ 0; not worse than scipy's
    (eigenvector) mean in Σ wᵢ d_quat², and a local minimum of it; independent of the signs
    of the qᵢ."""
    _, qs, w = data
    ww = weights_or_ones(w, len(qs))
    q = quaternion_mean(qs, w)
    np.testing.assert_allclose(np.linalg.norm(q), 1, atol=4 * EPS)
    assert q[0] >= 0
    s = np.sign(qs @ q)
    s[s == 0] = 1
    total = (ww * s) @ qs
    np.testing.assert_allclose(q, total / np.linalg.norm(total), atol=1e-14)
    cost = quat_cost(q, qs, ww)
    eig = Rotation.from_quat(qs, scalar_first=True).mean(w).as_quat(scalar_first=True)
    assert cost <= quat_cost(eig, qs, ww) + 1e-14
    for dq in np.random.default_rng(seed).normal(size=(6, 4)) * 1e-4:
        other = (q + dq) / np.linalg.norm(q + dq)
        assert cost <= quat_cost(other, qs, ww) + 1e-14
    flipped = qs * np.where(np.random.default_rng(seed).random((len(qs), 1)) < 0.5, -1, 1)
    assert same_rotation_quats(quaternion_mean(flipped, w), q) < 1e-14


@given(seed=seeds(), n=st.integers(3, 60))
def test_quaternion_mean_of_haar_sets_settles_its_signs(seed, n) -> None:
    """Spread sets (Haar-random), where a quarter of the time some signs change after the first
    sum: the answer is still the sign-consistent fixed point."""
    qs = haar_quats(np.random.default_rng(seed), n)
    q = quaternion_mean(qs)
    s = np.where(qs @ q < 0, -1.0, 1.0)
    total = s @ qs
    np.testing.assert_allclose(q, total / np.linalg.norm(total), atol=1e-14)


def test_quaternion_mean_is_not_the_eigenvector() -> None:
    """For spread data the d_quat mean and the chordal (eigenvector) mean differ."""
    rng = np.random.default_rng(3)
    qs = hamilton(
        haar_quats(rng, 1),
        Rotation.from_rotvec(rng.normal(size=(30, 3))).as_quat(scalar_first=True),
    )
    eig = Rotation.from_quat(qs, scalar_first=True).mean().as_quat(scalar_first=True)
    q = quaternion_mean(qs)
    assert same_rotation_quats(q, eig) > 1e-4
    assert quat_cost(q, qs, np.ones(30)) < quat_cost(eig, qs, np.ones(30))


# --- the geodesic L1 median: Weiszfeld ------------------------------------------------------------


def assert_weiszfeld_optimal(R: np.ndarray, Rs: np.ndarray, w: np.ndarray, tol: float) -> None:
    """Subgradient condition at R: ‖Σ_{vᵢ≠0} wᵢ vᵢ/‖vᵢ‖‖ ≤ Σ_{vᵢ=0} wᵢ, up to what an iterate
    within ``tol`` (radians) of the median leaves: the Weiszfeld step ρ/Σ(wᵢ/‖vᵢ‖) below ``tol``
    (near a data point the gradient turns by wᵢ·tol/‖vᵢ‖)."""
    v = tangents(R, Rs)
    n = np.linalg.norm(v, axis=-1)
    on = n < 1e-11
    rho = np.sum((w[~on] / n[~on])[:, None] * v[~on], axis=0)
    slack = tol * np.sum(w[~on] / n[~on]) + 1e-12 * w.sum()
    assert np.linalg.norm(rho) <= w[on].sum() + slack


@given(data=rotation_sets(max_n=20), seed=seeds())
def test_median_subgradient_condition_and_local_minimum(data, seed) -> None:
    Rs, _, w = data
    w = weights_or_ones(w, len(Rs))
    R = geodesic_median(Rs, w)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    assert_weiszfeld_optimal(R, Rs, w, 1e-10)
    cost = geodesic_cost(R, Rs, w, 1)
    for other in perturbations(R, seed, 1e-5):
        assert cost <= geodesic_cost(other, Rs, w, 1) + 1e-13


@given(
    data=rotation_sets(max_n=12, weighted=False), pick=st.integers(0, 11), extra=st.floats(1e-3, 3)
)
def test_median_at_a_dominant_point(data, pick, extra) -> None:
    """A rotation whose weight exceeds the sum of the others is the median (its subgradient
    condition holds): the iteration must land on it without dividing by zero."""
    Rs, _, _ = data
    n = len(Rs)
    pick %= n
    w = np.ones(n)
    w[pick] = max(n - 1, 1) + extra
    np.testing.assert_allclose(geodesic_median(Rs, w), Rs[pick], atol=1e-10)


@given(
    seed=seeds(),
    gap=st.floats(0.05, 1.2),
    heavy=st.floats(0.5, 1.0),
    light=st.lists(st.floats(0.01, 0.3), min_size=1, max_size=3),
)
def test_median_between_two_heavy_points(seed, gap, heavy, light) -> None:
    """Two heavy rotations and a few light ones off their geodesic: the median lies on (or by) the
    geodesic, in a valley of the cost that is nearly flat along it, where plain Weiszfeld steps
    shrink by less than 1e-3 per iteration. It must still converge to 1e-12."""
    rng = np.random.default_rng(seed)
    G = random_rotation(seed)
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    off = rng.normal(size=(len(light), 3)) * 0.3
    rotvecs = np.concatenate([[np.zeros(3), gap * axis], 0.5 * gap * axis + off])
    Rs = G @ Rotation.from_rotvec(rotvecs).as_matrix()
    w = np.array([1.0, heavy, *light])
    R = geodesic_median(Rs, w)  # a RuntimeWarning (not converged) fails the test
    assert_weiszfeld_optimal(R, Rs, w, 1e-10)
    cost = geodesic_cost(R, Rs, w, 1)
    for other in perturbations(R, seed, 1e-6):
        assert cost <= geodesic_cost(other, Rs, w, 1) + 1e-14


@pytest.mark.parametrize("mean", [geodesic_mean, geodesic_median], ids=lambda f: f.__name__)
def test_no_convergence_warns(mean) -> None:
    rng = np.random.default_rng(5)
    Rs = Rotation.from_rotvec(rng.normal(size=(20, 3))).as_matrix()
    with pytest.warns(RuntimeWarning, match="did not converge"):
        mean(Rs, max_iter=1)


@given(seed=seeds(), a=st.floats(0.05, 1.2), b=st.floats(0.05, 1.2), identity=st.booleans())
def test_median_when_the_start_is_a_data_point(seed, a, b, identity) -> None:
    """{G, G exp(±a x̂), G exp(±b ŷ)}: the chordal mean (Weiszfeld's start) is exactly the data
    point G, where vᵢ = 0; it satisfies the subgradient condition, so it is the median."""
    G = np.eye(3) if identity else random_rotation(seed)
    w = np.array([[0, 0, 0], [a, 0, 0], [-a, 0, 0], [0, b, 0], [0, -b, 0]], dtype=float)
    Rs = G @ Rotation.from_rotvec(w).as_matrix()
    np.testing.assert_allclose(geodesic_median(Rs), G, atol=1e-12)
    np.testing.assert_allclose(geodesic_mean(Rs), G, atol=1e-12)


# --- batches, dtypes, errors --------------------------------------------------------------------


@pytest.mark.parametrize("mean", [*MATRIX_MEANS, quaternion_mean], ids=[*IDS, "quaternion_mean"])
@given(seed=seeds(), batch=st.sampled_from([(2,), (2, 3)]), n=st.integers(1, 6))
def test_batches_are_independent_problems(mean, seed, batch, n) -> None:
    rng = np.random.default_rng(seed)
    centre = haar_quats(rng, 1)
    tangent = rng.normal(size=(*batch, n, 3)) * 0.3
    qs = hamilton(centre, Rotation.from_rotvec(tangent.reshape(-1, 3)).as_quat(scalar_first=True))
    qs = qs.reshape((*batch, n, 4))
    x = qs if mean is quaternion_mean else matrices(qs)
    w = rng.random((*batch, n)) + 0.1
    out = mean(x, w)
    assert out.shape == ((*batch, 4) if mean is quaternion_mean else (*batch, 3, 3))
    for idx in np.ndindex(*batch):
        single = mean(x[idx], w[idx])
        tol = 1e-10 if mean is geodesic_median else 1e-12
        if mean is quaternion_mean:
            assert same_rotation_quats(out[idx], single) <= tol
        else:
            np.testing.assert_allclose(out[idx], single, atol=tol)
    # weights (N,) broadcast over the batch
    np.testing.assert_allclose(
        mean(x, w[(0,) * len(batch)]),
        mean(x, np.broadcast_to(w[(0,) * len(batch)], w.shape)),
        atol=0,
    )


@pytest.mark.parametrize("mean", [*MATRIX_MEANS, quaternion_mean], ids=[*IDS, "quaternion_mean"])
@given(data=rotation_sets(max_spread=1.0))
def test_float32(mean, data) -> None:
    Rs, qs, w = data
    x = qs if mean is quaternion_mean else Rs
    out32 = mean(x.astype(np.float32), w)
    out64 = mean(x, w)
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    if mean is quaternion_mean:
        assert same_rotation_quats(out32, out64) < 1e-5
    else:
        np.testing.assert_allclose(out32, out64, atol=2e-5)


@pytest.mark.parametrize("mean", [*MATRIX_MEANS, quaternion_mean], ids=[*IDS, "quaternion_mean"])
def test_bad_inputs_are_refused(mean) -> None:
    q = haar_quats(np.random.default_rng(0), 3)
    x = q if mean is quaternion_mean else matrices(q)
    bad = [
        (x[:0], None),  # empty set
        (x[0], None),  # one rotation without a set axis
        (x, [1.0, -1.0, 1.0]),  # negative weight
        (x, [0.0, 0.0, 0.0]),  # all zero
        (x, [1.0, np.nan, 1.0]),
        (x, [1.0, 1.0]),  # wrong length
        (x[..., :2], None),  # wrong trailing shape
        (x.astype(np.float16), None),
        (x.astype(np.complex128), None),
    ]
    for args in bad:
        with pytest.raises(ConventionError):
            mean(*args)
