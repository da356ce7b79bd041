r"""Least-squares superposition of two point sets: Kabsch's SVD and Horn's/Hanson's quaternion.

The problem (problem set 6, Part A–C): given corresponding points ``P`` and ``Q`` (..., N, 3)
and non-negative weights ``w`` (..., N), find the rotation ``R`` (det ``R`` = +1) and the
translation ``t`` that minimise

.. math::  E(R, t) = \sum_i w_i \,\lVert R\,p_i + t - q_i \rVert^2 ,

so that ``R`` maps ``P`` onto ``Q`` (active rotation, column vectors: ``q ≈ R p + t``). For any
``R`` the best ``t`` is ``q̄ − R p̄`` (weighted centroids), and with the centred points
``p̃ = p − p̄``, ``q̃ = q − q̄`` and the weighted cross-covariance

.. math::  S = \sum_i w_i\, \tilde p_i \tilde q_i^\mathsf{T} \quad (3 \times 3),

:math:`E = \sum w(\lVert\tilde p\rVert^2 + \lVert\tilde q\rVert^2) - 2\,\mathrm{tr}(R S)`:
the best rotation maximises ``tr(R S)``.

* **Kabsch (1976, 1978) / orthogonal Procrustes** (``kabsch``): with the SVD ``S = U Σ Vᵀ``,
  ``R = V diag(1, 1, d) Uᵀ`` and ``d = sign det(V Uᵀ)``. Without ``d`` the maximiser over the
  orthogonal matrices can be a reflection (det −1) — the mirror image of the answer.
* **Horn (1987) / Hanson (2020)** (``profile_matrix``, ``horn_quaternion``): for a unit
  quaternion ``q = (w, x, y, z)``, ``tr(R(q) S) = qᵀ K q`` with the symmetric, traceless 4×4
  *profile matrix* (Hanson 2020, the 3D spatial-coordinate alignment problem: his
  :math:`M(E)` with :math:`E = S`; Horn 1987, §4: his :math:`N`)

  .. math::

     K = \begin{pmatrix}
     S_{xx}+S_{yy}+S_{zz} & S_{yz}-S_{zy} & S_{zx}-S_{xz} & S_{xy}-S_{yx}\\
     S_{yz}-S_{zy} & S_{xx}-S_{yy}-S_{zz} & S_{xy}+S_{yx} & S_{zx}+S_{xz}\\
     S_{zx}-S_{xz} & S_{xy}+S_{yx} & -S_{xx}+S_{yy}-S_{zz} & S_{yz}+S_{zy}\\
     S_{xy}-S_{yx} & S_{zx}+S_{xz} & S_{yz}+S_{zy} & -S_{xx}-S_{yy}+S_{zz}
     \end{pmatrix},

  so the best rotation is the eigenvector of ``K``'s largest eigenvalue ``λ_max`` (a unit
  quaternion always gives a proper rotation: no reflection to fix), and
  ``E_min = Σ w(‖p̃‖² + ‖q̃‖²) − 2 λ_max`` (Hanson 2020: the minimal RMSD from the maximal
  eigenvalue).
* **RMSD after superposition** (``superposition_rmsd``): ``sqrt(E_min / Σ w)``. The reference
  evaluates it from the residuals of the optimal ``R, t`` (the eigenvalue form cancels
  catastrophically when the fit is nearly exact); the tests check that both forms agree.

Both methods give the same rotation whenever it is unique (``λ_max`` simple, i.e. the points
are not collinear and ``S`` does not have two equal smallest singular values with det ``S`` ≤ 0).

Shapes: ``P``, ``Q`` (..., N, 3) with the same N and broadcastable batch shapes, ``weights``
(..., N) or ``None`` (equal weights). Results keep the inputs' floating dtype (the arithmetic is
float64). References: W. Kabsch, Acta Cryst. A32 (1976) 922 and A34 (1978) 827; B. K. P. Horn,
J. Opt. Soc. Am. A 4 (1987) 629, doi:10.1364/JOSAA.4.000629; A. J. Hanson, Acta Cryst. A76
(2020) 432–457, doi:10.1107/S2053273320002648.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import ConventionError, FloatArray, as_float_array, result_dtype
from reference_impl.quaternion import quat_canonical, quat_to_matrix

__all__ = [
    "cross_covariance",
    "horn_quaternion",
    "kabsch",
    "profile_matrix",
    "superposition_rmsd",
]

F64 = np.dtype(np.float64)


def _prepare(
    P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray, np.dtype]:
    """float64 points (..., N, 3) broadcast to one batch shape, weights (..., N), result dtype."""
    dt = result_dtype(P, Q)
    Pa = as_float_array(P, (3,), "P", F64)
    Qa = as_float_array(Q, (3,), "Q", F64)
    if Pa.ndim < 2 or Qa.ndim < 2 or Pa.shape[-2] != Qa.shape[-2]:
        raise ConventionError(
            f"P and Q must be (..., N, 3) with the same N; got {Pa.shape} and {Qa.shape}"
        )
    if Pa.shape[-2] == 0:
        raise ConventionError("cannot superpose empty point sets")
    batch = np.broadcast_shapes(Pa.shape[:-2], Qa.shape[:-2])
    n = Pa.shape[-2]
    if weights is None:
        w = np.ones((*batch, n))
    else:
        wa = np.asarray(weights)
        if wa.dtype.kind not in "biuf":
            raise ConventionError(f"weights must be real numbers; got dtype {wa.dtype}")
        w = wa.astype(np.float64)
        if w.shape[-1:] != (n,):
            raise ConventionError(f"weights of shape {w.shape} do not fit {n} points")
        batch = np.broadcast_shapes(batch, w.shape[:-1])
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ConventionError("weights must be finite and non-negative")
        if np.any(np.sum(w, axis=-1) == 0):
            raise ConventionError("weights must not all be zero")
    Pa = np.broadcast_to(Pa, (*batch, n, 3))
    Qa = np.broadcast_to(Qa, (*batch, n, 3))
    w = np.broadcast_to(w, (*batch, n))
    return Pa, Qa, w, dt


def _centred(
    P: FloatArray, Q: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Weighted centroids p̄, q̄ (..., 3) and the centred points p̃, q̃ (..., N, 3)."""
    total = np.sum(w, axis=-1)[..., None]
    pbar = np.einsum("...n,...nk->...k", w, P) / total
    qbar = np.einsum("...n,...nk->...k", w, Q) / total
    return pbar, qbar, P - pbar[..., None, :], Q - qbar[..., None, :]


def cross_covariance(P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """``S = Σᵢ wᵢ (pᵢ − p̄)(qᵢ − q̄)ᵀ`` (..., 3, 3), rows indexed by P's axis, columns by Q's.

    ``tr(R S) = Σ wᵢ q̃ᵢᵀ R p̃ᵢ`` is what the best rotation of P onto Q maximises.
    """
    Pa, Qa, w, dt = _prepare(P, Q, weights)
    _, _, Pc, Qc = _centred(Pa, Qa, w)
    return np.einsum("...n,...na,...nb->...ab", w, Pc, Qc).astype(dt, copy=False)


def kabsch(
    P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """The rotation ``R`` (..., 3, 3) and translation ``t`` (..., 3) minimising
    ``Σ wᵢ ‖R pᵢ + t − qᵢ‖²`` (Kabsch 1976/1978; the orthogonal Procrustes problem).

    ``S = U Σ Vᵀ`` (``cross_covariance``), ``R = V diag(1, 1, d) Uᵀ`` with ``d = sign det(V Uᵀ)``
    (the reflection fixed: det R = +1 always), ``t = q̄ − R p̄``.
    """
    Pa, Qa, w, dt = _prepare(P, Q, weights)
    pbar, qbar, Pc, Qc = _centred(Pa, Qa, w)
    S = np.einsum("...n,...na,...nb->...ab", w, Pc, Qc)
    U, _, Vt = np.linalg.svd(S)
    V = np.swapaxes(Vt, -1, -2)
    d = np.sign(np.linalg.det(V @ np.swapaxes(U, -1, -2)))
    d = np.where(d == 0, 1.0, d)
    D = np.ones((*d.shape, 3))
    D[..., 2] = d
    R = (V * D[..., None, :]) @ np.swapaxes(U, -1, -2)
    t = qbar - np.einsum("...ij,...j->...i", R, pbar)
    return R.astype(dt, copy=False), t.astype(dt, copy=False)


def _profile_from_covariance(S: FloatArray) -> FloatArray:
    """Horn's/Hanson's 4×4 profile matrix ``K`` of a cross-covariance ``S`` (..., 3, 3)."""
    Sxx, Sxy, Sxz = S[..., 0, 0], S[..., 0, 1], S[..., 0, 2]
    Syx, Syy, Syz = S[..., 1, 0], S[..., 1, 1], S[..., 1, 2]
    Szx, Szy, Szz = S[..., 2, 0], S[..., 2, 1], S[..., 2, 2]
    return np.stack(
        [
            np.stack([Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx], axis=-1),
            np.stack([Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz], axis=-1),
            np.stack([Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy], axis=-1),
            np.stack([Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz], axis=-1),
        ],
        axis=-2,
    )


def profile_matrix(P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """The symmetric 4×4 profile matrix ``K`` (..., 4, 4) with ``qᵀ K q = tr(R(q) S)``.

    ``S`` is ``cross_covariance(P, Q, weights)`` (centred, weighted); ``K`` is written out in the
    module docstring (Horn 1987, §4 (his N); Hanson 2020 (his M(E))). It is traceless,
    and its largest eigenvalue is ``max_R tr(R S)``.
    """
    Pa, Qa, w, dt = _prepare(P, Q, weights)
    _, _, Pc, Qc = _centred(Pa, Qa, w)
    S = np.einsum("...n,...na,...nb->...ab", w, Pc, Qc)
    return _profile_from_covariance(S).astype(dt, copy=False)


def horn_quaternion(
    P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """The optimal rotation as a unit quaternion ``[w, x, y, z]`` (..., 4), ``w ≥ 0``, and the
    translation ``t = q̄ − R p̄`` (..., 3): the eigenvector of the profile matrix's largest
    eigenvalue (Horn 1987, §4; Hanson 2020). Same minimiser as ``kabsch``.
    """
    Pa, Qa, w, dt = _prepare(P, Q, weights)
    pbar, qbar, Pc, Qc = _centred(Pa, Qa, w)
    K = _profile_from_covariance(np.einsum("...n,...na,...nb->...ab", w, Pc, Qc))
    _, vecs = np.linalg.eigh(K)  # ascending eigenvalues: the last column is the top one
    q = quat_canonical(vecs[..., :, -1])
    t = qbar - np.einsum("...ij,...j->...i", quat_to_matrix(q), pbar)
    return q.astype(dt, copy=False), t.astype(dt, copy=False)


def superposition_rmsd(P: ArrayLike, Q: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """The (weighted) RMSD after the optimal superposition, ``sqrt(min E / Σ w)``. → (...).

    Computed from the residuals ``R p̃ᵢ − q̃ᵢ`` of ``kabsch``'s ``R``; equal to
    ``sqrt(max(0, Σ w(‖p̃‖² + ‖q̃‖²) − 2 λ_max(K)) / Σ w)`` (Hanson 2020) up to rounding.
    """
    Pa, Qa, w, dt = _prepare(P, Q, weights)
    R, _ = kabsch(Pa, Qa, w)
    _, _, Pc, Qc = _centred(Pa, Qa, w)
    res = np.einsum("...ij,...nj->...ni", R, Pc) - Qc
    msd = np.einsum("...n,...n->...", w, np.sum(res * res, axis=-1)) / np.sum(w, axis=-1)
    return np.sqrt(msd).astype(dt, copy=False)
