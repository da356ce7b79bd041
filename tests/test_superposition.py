"""Tests of ``reference_impl.superposition``: Kabsch's SVD and Horn's/Hanson's eigenvector.

Oracles: scipy's ``Rotation.align_vectors`` (an independent solver of the same weighted
problem), a brute-force check of the eigenvector method (the identity ``qᵀKq = tr(R(q) S)`` for
random quaternions, and the top eigenvector against a dense random search of S³), the RMSD's
two forms (residuals and ``λ_max``), and the properties that define the problem: exact
recovery of rigid motions, equivariance, det R = +1 for mirror images, weights as repeated or
dropped points.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rotation_strategies import haar_quats, matrices, seeds
from scipy.spatial.transform import Rotation

from reference_impl.conventions import ConventionError
from reference_impl.superposition import (
    cross_covariance,
    horn_quaternion,
    kabsch,
    profile_matrix,
    superposition_rmsd,
)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def angle_between(R1: np.ndarray, R2: np.ndarray) -> float:
    return float(Rotation.from_matrix(R1.T @ R2).magnitude())


@st.composite
def point_pairs(draw, max_n: int = 30, weighted: bool = True):
    """(P, Q, w, R_true, t_true): N ≥ 3 generic points, Q a rigid motion of P plus noise of a
    drawn size (0 = exact), and weights or None."""
    rng = np.random.default_rng(draw(seeds()))
    n = draw(st.integers(3, max_n))
    scale = draw(st.sampled_from([1e-2, 1.0, 30.0]))
    P = scale * rng.normal(size=(n, 3)) + rng.normal(size=3) * 5 * scale
    R = matrices(haar_quats(rng, 1))[0]
    t = rng.normal(size=3) * 10 * scale
    noise = draw(st.sampled_from([0.0, 1e-6, 0.05, 1.0]))
    Q = P @ R.T + t + noise * scale * rng.normal(size=(n, 3))
    w = None
    if weighted and draw(st.booleans()):
        w = rng.random(n) + 0.05
    return P, Q, w, R, t


def weighted_centroid(X: np.ndarray, w) -> np.ndarray:
    return np.average(X, axis=0, weights=w)


def scipy_superposition(P, Q, w) -> np.ndarray:
    """scipy's answer: align_vectors(a, b) minimises Σ w ‖a − C b‖², so a = centred Q."""
    rot, _ = Rotation.align_vectors(
        Q - weighted_centroid(Q, w), P - weighted_centroid(P, w), weights=w
    )
    return rot.as_matrix()


def cost(R, t, P, Q, w) -> float:
    w = np.ones(len(P)) if w is None else w
    return float(np.sum(w * np.sum((P @ R.T + t - Q) ** 2, axis=-1)))


# --- Kabsch ------------------------------------------------------------------------------------


@given(data=point_pairs())
def test_kabsch_matches_scipy_align_vectors(data) -> None:
    P, Q, w, _, _ = data
    R, t = kabsch(P, Q, w)
    expected = scipy_superposition(P, Q, w)
    np.testing.assert_allclose(R, expected, atol=1e-9)
    np.testing.assert_allclose(
        t, weighted_centroid(Q, w) - expected @ weighted_centroid(P, w), atol=1e-8 * np.abs(Q).max()
    )


@given(data=point_pairs())
def test_kabsch_recovers_exact_rigid_motions(data) -> None:
    P, _, w, R_true, t_true = data
    Q = P @ R_true.T + t_true
    R, t = kabsch(P, Q, w)
    np.testing.assert_allclose(R, R_true, atol=1e-9)
    np.testing.assert_allclose(P @ R.T + t, Q, atol=1e-9 * max(1.0, np.abs(Q).max()))
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)


@given(data=point_pairs(), seed=seeds())
def test_kabsch_is_equivariant(data, seed) -> None:
    """Moving Q by (G, s) moves the answer: R → G R, t → G t + s; moving P by (H, r) gives
    R → R Hᵀ, t → t − R Hᵀ r."""
    P, Q, w, _, _ = data
    rng = np.random.default_rng(seed)
    G, H = matrices(haar_quats(rng, 2))
    s, r = rng.normal(size=(2, 3)) * 10
    R, t = kabsch(P, Q, w)
    R2, t2 = kabsch(P, Q @ G.T + s, w)
    np.testing.assert_allclose(R2, G @ R, atol=1e-8)
    np.testing.assert_allclose(t2, G @ t + s, atol=1e-7 * max(1.0, np.abs(Q).max()))
    R3, _ = kabsch(P @ H.T + r, Q, w)
    np.testing.assert_allclose(R3, R @ H.T, atol=1e-8)


@given(seed=seeds(), n=st.integers(6, 20), noise=st.sampled_from([0.0, 0.01, 0.05]))
def test_mirror_images_get_a_proper_rotation(seed, n, noise) -> None:
    """Q a mirror image of P: the unconstrained Procrustes answer V Uᵀ is a reflection; Kabsch's
    has det +1, is scipy's, and no proper rotation does better (random search)."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, 3)) * [3.0, 2.0, 1.0]
    mirror = np.diag([1.0, 1.0, -1.0])
    G = matrices(haar_quats(rng, 1))[0]
    Q = P @ (G @ mirror).T + noise * rng.normal(size=(n, 3))
    R, t = kabsch(P, Q)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-12)
    S = cross_covariance(P, Q)
    U, _, Vt = np.linalg.svd(S)
    assert np.linalg.det(Vt.T @ U.T) < 0  # the case the fix exists for
    np.testing.assert_allclose(R, scipy_superposition(P, Q, None), atol=1e-8)
    best = cost(R, t, P, Q, None)
    for other in matrices(haar_quats(rng, 2000)):
        to = Q.mean(0) - other @ P.mean(0)
        assert best <= cost(other, to, P, Q, None) + 1e-9


@given(data=point_pairs(weighted=False), seed=seeds())
def test_weights_are_repeated_or_dropped_points(data, seed) -> None:
    """An integer weight k counts a point k times; a zero weight drops it; scaling all weights
    changes nothing."""
    P, Q, _, _, _ = data
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 4, size=len(P))
    k[:3] = np.maximum(k[:3], 1)  # at least three points remain
    rep_P, rep_Q = np.repeat(P, k, axis=0), np.repeat(Q, k, axis=0)
    R, t = kabsch(P, Q, k)
    Rr, tr = kabsch(rep_P, rep_Q)
    tol = 1e-8 * max(1.0, np.abs(Q).max())
    np.testing.assert_allclose(R, Rr, atol=1e-8)
    np.testing.assert_allclose(t, tr, atol=tol)
    np.testing.assert_allclose(
        superposition_rmsd(P, Q, k), superposition_rmsd(rep_P, rep_Q), atol=tol
    )
    np.testing.assert_allclose(kabsch(P, Q, 7.5 * k)[0], R, atol=1e-10)


def test_batches_and_dtypes() -> None:
    rng = np.random.default_rng(0)
    P = rng.normal(size=(2, 3, 10, 3))
    Q = rng.normal(size=(3, 10, 3))  # broadcast over the first batch axis
    w = rng.random(10) + 0.1
    R, t = kabsch(P, Q, w)
    q, _tq = horn_quaternion(P, Q, w)
    rmsd = superposition_rmsd(P, Q, w)
    assert R.shape == (2, 3, 3, 3) and t.shape == (2, 3, 3) and q.shape == (2, 3, 4)
    assert rmsd.shape == (2, 3) and profile_matrix(P, Q, w).shape == (2, 3, 4, 4)
    for i in range(2):
        for j in range(3):
            Rij, tij = kabsch(P[i, j], Q[j], w)
            np.testing.assert_allclose(R[i, j], Rij, atol=1e-12)
            np.testing.assert_allclose(t[i, j], tij, atol=1e-12)
            np.testing.assert_allclose(rmsd[i, j], superposition_rmsd(P[i, j], Q[j], w))
    P32, Q32 = P.astype(np.float32), Q.astype(np.float32)
    assert kabsch(P32, Q32)[0].dtype == np.float32
    assert horn_quaternion(P32, Q32)[0].dtype == np.float32
    assert superposition_rmsd(P32, Q32).dtype == np.float32


@pytest.mark.parametrize(
    ("P", "Q", "w", "match"),
    [
        (np.zeros((4, 3)), np.zeros((5, 3)), None, "same N"),
        (np.zeros((4, 2)), np.zeros((4, 2)), None, r"\(\.\.\., 3\)"),
        (np.zeros((0, 3)), np.zeros((0, 3)), None, "empty"),
        (np.zeros((4, 3)), np.zeros((4, 3)), -np.ones(4), "non-negative"),
        (np.zeros((4, 3)), np.zeros((4, 3)), np.zeros(4), "all be zero"),
        (np.zeros((4, 3)), np.zeros((4, 3)), np.ones(3), "do not fit"),
    ],
)
def test_bad_inputs_are_refused(P, Q, w, match) -> None:
    with pytest.raises(ConventionError, match=match):
        kabsch(P, Q, w)


# --- Horn / Hanson: the profile matrix and its eigenvector -------------------------------------


@given(data=point_pairs(), seed=seeds())
def test_profile_matrix_quadratic_form_is_the_trace(data, seed) -> None:
    """qᵀ K q = tr(R(q) S) for random unit quaternions q (both signs), with R(q) from scipy;
    K is symmetric and traceless."""
    P, Q, w, _, _ = data
    K = profile_matrix(P, Q, w)
    S = cross_covariance(P, Q, w)
    scale = max(1.0, float(np.abs(S).max()))
    np.testing.assert_allclose(K, K.T, atol=0)
    assert abs(np.trace(K)) <= 1e-12 * scale
    qs = haar_quats(np.random.default_rng(seed), 16)
    forms = np.einsum("ni,ij,nj->n", qs, K, qs)
    traces = np.trace(matrices(qs) @ S, axis1=-2, axis2=-1)
    np.testing.assert_allclose(forms, traces, atol=1e-12 * scale)


@given(data=point_pairs(max_n=12))
def test_top_eigenvector_beats_a_dense_random_search(data) -> None:
    """Brute force: no quaternion of 20 000 random ones gives a larger qᵀKq than Horn's, and
    Horn's value is the largest eigenvalue."""
    P, Q, w, _, _ = data
    K = profile_matrix(P, Q, w)
    q, _ = horn_quaternion(P, Q, w)
    best = q @ K @ q
    lam = np.linalg.eigvalsh(K)
    np.testing.assert_allclose(best, lam[-1], atol=1e-10 * max(1.0, np.abs(lam).max()))
    qs = haar_quats(np.random.default_rng(0), 20_000)
    assert np.max(np.einsum("ni,ij,nj->n", qs, K, qs)) <= best + 1e-10 * abs(best)


@given(data=point_pairs())
def test_quaternion_and_svd_agree(data) -> None:
    P, Q, w, _, _ = data
    K = profile_matrix(P, Q, w)
    lam = np.linalg.eigvalsh(K)
    if lam[-1] - lam[-2] < 1e-6 * max(1.0, abs(lam[-1])):
        return  # the optimal rotation is not unique
    q, tq = horn_quaternion(P, Q, w)
    R, t = kabsch(P, Q, w)
    assert q[0] >= 0 and np.linalg.norm(q) == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(matrices(q), R, atol=1e-8)
    np.testing.assert_allclose(tq, t, atol=1e-7 * max(1.0, np.abs(Q).max()))


# --- RMSD --------------------------------------------------------------------------------------


@given(data=point_pairs())
def test_rmsd_two_forms_and_scipy(data) -> None:
    """RMSD from the residuals of scipy's rotation, and from Hanson's eigenvalue form."""
    P, Q, w, _, _ = data
    ww = np.ones(len(P)) if w is None else w
    rmsd = superposition_rmsd(P, Q, w)
    R = scipy_superposition(P, Q, w)
    Pc, Qc = P - weighted_centroid(P, w), Q - weighted_centroid(Q, w)
    direct = np.sqrt(np.sum(ww * np.sum((Pc @ R.T - Qc) ** 2, axis=-1)) / ww.sum())
    scale = max(1.0, float(np.abs(Qc).max()))
    np.testing.assert_allclose(rmsd, direct, atol=1e-9 * scale)
    lam = np.linalg.eigvalsh(profile_matrix(P, Q, w))[-1]
    g = np.sum(ww * (np.sum(Pc**2, -1) + np.sum(Qc**2, -1)))
    from_eig = np.sqrt(max(0.0, g - 2 * lam) / ww.sum())
    np.testing.assert_allclose(rmsd, from_eig, atol=1e-6 * scale)


@given(data=point_pairs(), seed=seeds())
def test_rmsd_invariances(data, seed) -> None:
    """Rigid motions of P or of Q leave the RMSD unchanged; swapping P and Q too; it is zero
    for exact copies."""
    P, Q, w, R_true, t_true = data
    rng = np.random.default_rng(seed)
    G, H = matrices(haar_quats(rng, 2))
    rmsd = superposition_rmsd(P, Q, w)
    tol = 1e-8 * max(1.0, np.abs(Q).max())
    np.testing.assert_allclose(superposition_rmsd(P @ H.T + 3.0, Q @ G.T - 2.0, w), rmsd, atol=tol)
    np.testing.assert_allclose(superposition_rmsd(Q, P, w), rmsd, atol=tol)
    assert superposition_rmsd(P, P @ R_true.T + t_true, w) <= tol
