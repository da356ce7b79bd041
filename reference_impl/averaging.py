"""Single rotation averaging: L2 means under three metrics, and the L1 (geodesic) median.

Reference: R. Hartley, J. Trumpf, Y. Dai, H. Li (2013), "Rotation averaging", IJCV 103(3),
267–305, doi:10.1007/s11263-012-0601-0, §5 "Single rotation averaging": §5.1 (quaternion L2
mean), §5.2 (chordal L2 mean), §5.3 Algorithm 1 (geodesic L2 mean, the Karcher mean),
§5.4 / Algorithm 3 of Hartley, Aftab & Trumpf (2011) (geodesic L1 median by Weiszfeld).

Shapes: a set of N rotations is the axis ``-3`` of ``Rs`` (..., N, 3, 3) (``-2`` of ``qs``
(..., N, 4)); leading axes are independent problems. ``weights`` (..., N) are non-negative,
not all zero, default equal. Results are (..., 3, 3) or (..., 4) in the input's dtype; the
arithmetic is done in float64 whatever the input (float32 data get a float64-accurate answer,
rounded once at the end).

Each function minimises ``Σᵢ wᵢ d(R, Rᵢ)^p`` for its metric:

* ``chordal_mean``: d_chord, p = 2 — the projection of ``Σ wᵢ Rᵢ`` onto SO(3) (SVD). Equal to
  the rotation of the top eigenvector of ``Σ wᵢ qᵢ qᵢᵀ`` (scipy's ``Rotation.mean``).
* ``quaternion_mean``: d_quat, p = 2 — ``Σ wᵢ |q·qᵢ|`` maximised: the normalised sum of the
  sign-aligned ``qᵢ``, re-aligned and re-summed until the signs stop changing. Not the
  eigenvector (that one is the chordal mean).
* ``geodesic_mean``: d∠, p = 2 — Algorithm 1: ``R ← R exp(Σ wᵢ log(Rᵀ Rᵢ) / Σ wᵢ)`` from the
  chordal mean, until the step is below ``tol``; at the answer ``Σ wᵢ log(R̄ᵀ Rᵢ) = 0``.
* ``geodesic_median``: d∠, p = 1 — Weiszfeld: ``R ← R exp(Σ wᵢ vᵢ/‖vᵢ‖ / Σ wᵢ/‖vᵢ‖)``,
  ``vᵢ = log(Rᵀ Rᵢ)``, with the Vardi–Zhang (2000) modification when the iterate sits on a data
  point (its term is dropped and the step shortened, or the iteration stops there when that point
  satisfies the subgradient condition ``‖Σ_{vᵢ≠0} wᵢ vᵢ/‖vᵢ‖‖ ≤ Σ_{vᵢ=0} wᵢ``).

The iterations run on unit quaternions (``q̄* ⊗ qᵢ`` is 16 multiplications against 27 for a
matrix product); the answer is the same rotation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import ConventionError, FloatArray, as_float_array, result_dtype
from reference_impl.quaternion import (
    matrix_to_quat,
    quat_conjugate,
    quat_multiply,
    quat_to_matrix,
    quat_to_rotvec,
    rotvec_to_quat,
)

__all__ = ["chordal_mean", "geodesic_mean", "geodesic_median", "quaternion_mean"]


def _weights(weights: ArrayLike | None, batch: tuple[int, ...], dtype: np.dtype) -> FloatArray:
    """Validate weights and broadcast them to ``batch`` (..., N)."""
    if batch[-1] == 0:
        raise ConventionError("cannot average an empty set of rotations")
    if weights is None:
        return np.ones(batch, dtype=dtype)
    w = np.asarray(weights, dtype=dtype)
    try:
        w = np.broadcast_to(w, batch)
    except ValueError:
        raise ConventionError(f"weights of shape {w.shape} do not fit rotations {batch}") from None
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ConventionError("weights must be finite and non-negative")
    if np.any(np.sum(w, axis=-1) == 0):
        raise ConventionError("weights must not all be zero")
    return w


def _canonical(q: FloatArray) -> FloatArray:
    return np.where(q[..., :1] < 0, -q, q)


def _chordal_mean_quat(qs: FloatArray, w: FloatArray) -> FloatArray:
    """Top eigenvector of Σ wᵢ qᵢ qᵢᵀ (..., 4), w ≥ 0: the chordal L2 mean as a quaternion."""
    M = np.einsum("...n,...ni,...nj->...ij", w, qs, qs)
    _, vecs = np.linalg.eigh(M.astype(np.float64))
    return _canonical(vecs[..., :, -1]).astype(qs.dtype, copy=False)


def _tangent(qbar: FloatArray, qs: FloatArray) -> FloatArray:
    """vᵢ = log(R̄ᵀ Rᵢ) as rotation vectors (..., N, 3)."""
    return quat_to_rotvec(quat_multiply(quat_conjugate(qbar)[..., None, :], qs))


def chordal_mean(Rs: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """Chordal L2 mean ``argmin_R Σ wᵢ ‖R − Rᵢ‖²_F`` (Hartley et al. §5.2, Theorem 5).

    Shapes: ``Rs`` (..., N, 3, 3), ``weights`` (..., N) → (..., 3, 3). Identity: with
    ``M = Σ wᵢ Rᵢ = U S Vᵀ``, ``R̄ = U diag(1, 1, det(U Vᵀ)) Vᵀ`` (projection onto SO(3)).
    """
    dt = result_dtype(Rs)
    Rs = as_float_array(Rs, (3, 3), "Rs", np.dtype(np.float64))
    if Rs.ndim < 3:
        raise ConventionError(f"Rs must have shape (..., N, 3, 3); got {Rs.shape}")
    w = _weights(weights, Rs.shape[:-2], np.dtype(np.float64))
    M = np.einsum("...n,...nij->...ij", w, Rs)
    U, _, Vt = np.linalg.svd(M)
    d = np.sign(np.linalg.det(U @ Vt))
    d = np.where(d == 0, 1, d)
    U = U * np.stack([np.ones_like(d), np.ones_like(d), d], axis=-1)[..., None, :]
    return (U @ Vt).astype(dt, copy=False)


def quaternion_mean(
    qs: ArrayLike, weights: ArrayLike | None = None, max_iter: int = 100
) -> FloatArray:
    """Quaternion L2 mean ``argmin_q Σ wᵢ d_quat(q, qᵢ)²`` (Hartley et al. §5.1, Theorem 4).

    Shapes: ``qs`` (..., N, 4) unit quaternions, ``weights`` (..., N) → (..., 4), ``w ≥ 0``.
    For unit ``q``, ``d_quat(q, qᵢ)² = 2 − 2|q·qᵢ|``: the mean maximises ``Σ wᵢ |q·qᵢ|`` and is
    the normalised sum ``Σ wᵢ sᵢ qᵢ`` with signs ``sᵢ = sign(q·qᵢ)`` that agree with it. Starting
    from the chordal mean's hemisphere, sum, re-align signs, and repeat until they settle (each
    round increases the objective, so it terminates).
    """
    dt = result_dtype(qs)
    qs = as_float_array(qs, (4,), "qs", np.dtype(np.float64))
    if qs.ndim < 2:
        raise ConventionError(f"qs must have shape (..., N, 4); got {qs.shape}")
    w = _weights(weights, qs.shape[:-1], np.dtype(np.float64))
    qbar = _chordal_mean_quat(qs, w)
    signs = np.sign(np.einsum("...i,...ni->...n", qbar, qs))
    signs = np.where(signs == 0, 1, signs)
    for _ in range(max_iter):
        s = np.einsum("...n,...n,...ni->...i", w, signs, qs)
        qbar = s / np.sqrt(np.sum(s * s, axis=-1, keepdims=True))
        new = np.sign(np.einsum("...i,...ni->...n", qbar, qs))
        new = np.where(new == 0, 1, new)
        if np.array_equal(new, signs):
            break
        signs = new
    return _canonical(qbar).astype(dt, copy=False)


def geodesic_mean(
    Rs: ArrayLike, weights: ArrayLike | None = None, tol: float = 1e-12, max_iter: int = 100
) -> FloatArray:
    """Geodesic L2 (Karcher) mean ``argmin_R Σ wᵢ d∠(R, Rᵢ)²`` (Hartley et al. Algorithm 1).

    Shapes: ``Rs`` (..., N, 3, 3), ``weights`` (..., N) → (..., 3, 3). Starts at the chordal
    mean and repeats ``r = Σ wᵢ log(R̄ᵀ Rᵢ)/Σ wᵢ``, ``R̄ ← R̄ exp(r)`` until ``‖r‖ < tol``
    (radians; the default 1e-12 is reached for data within a hemisphere). The update is
    multiplied on the right: the tangent vectors live at ``R̄``.
    """
    dt = result_dtype(Rs)
    Rs = as_float_array(Rs, (3, 3), "Rs", np.dtype(np.float64))
    if Rs.ndim < 3:
        raise ConventionError(f"Rs must have shape (..., N, 3, 3); got {Rs.shape}")
    w = _weights(weights, Rs.shape[:-2], np.dtype(np.float64))
    qs = matrix_to_quat(Rs)
    qbar = _chordal_mean_quat(qs, w)
    wsum = np.sum(w, axis=-1, keepdims=True)
    for _ in range(max_iter):
        r = np.einsum("...n,...ni->...i", w, _tangent(qbar, qs)) / wsum
        qbar = quat_multiply(qbar, rotvec_to_quat(r))
        qbar = qbar / np.sqrt(np.sum(qbar * qbar, axis=-1, keepdims=True))
        if np.sqrt(np.sum(r * r, axis=-1)).max(initial=0.0) < tol:
            break
    return quat_to_matrix(_canonical(qbar)).astype(dt, copy=False)


def geodesic_median(
    Rs: ArrayLike,
    weights: ArrayLike | None = None,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> FloatArray:
    """Geodesic L1 median ``argmin_R Σ wᵢ d∠(R, Rᵢ)`` by Weiszfeld's algorithm on SO(3).

    Shapes: ``Rs`` (..., N, 3, 3), ``weights`` (..., N) → (..., 3, 3). Hartley, Aftab & Trumpf
    (2011) "L1 rotation averaging using the Weiszfeld algorithm", CVPR, Algorithm 1; Hartley et al.
    (2013) §5.4. Starts at the chordal mean. With ``vᵢ = log(R̄ᵀ Rᵢ)``, the terms with
    ``‖vᵢ‖ ≤ 1e-12`` (the iterate is on a data point) are dropped from the step
    ``δ = Σ wᵢ vᵢ/‖vᵢ‖ / Σ wᵢ/‖vᵢ‖``, which is then scaled by ``max(0, 1 − η/‖ρ‖)`` with
    ``η`` the dropped weight and ``ρ = Σ wᵢ vᵢ/‖vᵢ‖`` (Vardi & Zhang 2000): it is 0 exactly when
    that data point satisfies the subgradient condition and is the median. Stops at ``‖δ‖ < tol``.
    """
    dt = result_dtype(Rs)
    Rs = as_float_array(Rs, (3, 3), "Rs", np.dtype(np.float64))
    if Rs.ndim < 3:
        raise ConventionError(f"Rs must have shape (..., N, 3, 3); got {Rs.shape}")
    w = _weights(weights, Rs.shape[:-2], np.dtype(np.float64))
    on_point = 1e-12
    qs = matrix_to_quat(Rs)
    qbar = _chordal_mean_quat(qs, w)
    for _ in range(max_iter):
        v = _tangent(qbar, qs)
        n = np.sqrt(np.sum(v * v, axis=-1))
        far = n > on_point
        inv = np.where(far, w / np.where(far, n, 1), 0)
        rho = np.einsum("...n,...ni->...i", inv, v)
        delta = rho / np.maximum(np.sum(inv, axis=-1, keepdims=True), np.finfo(np.float64).tiny)
        eta = np.sum(np.where(far, 0, w), axis=-1, keepdims=True)
        rho_norm = np.sqrt(np.sum(rho * rho, axis=-1, keepdims=True))
        # (1 − η/‖ρ‖)⁺, written so that ‖ρ‖ = 0 (a symmetric set around the iterate) is no 0/0
        shrink = np.where(rho_norm > eta, 1 - eta / np.where(rho_norm > 0, rho_norm, 1), 0)
        delta = delta * shrink
        qbar = quat_multiply(qbar, rotvec_to_quat(delta))
        qbar = qbar / np.sqrt(np.sum(qbar * qbar, axis=-1, keepdims=True))
        if np.sqrt(np.sum(delta * delta, axis=-1)).max(initial=0.0) < tol:
            break
    return quat_to_matrix(_canonical(qbar)).astype(dt, copy=False)
