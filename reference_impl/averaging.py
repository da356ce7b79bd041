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

The iterations run on unit quaternions, stored as four contiguous rows ``Q`` (..., 4, N): the
relative rotations ``q̄* ⊗ qᵢ`` of all the data are one 4×4 matrix product ``L(q̄*) Q`` (the
Hamilton product is linear in its right factor), and the weighted sums of tangent vectors are
matrix–vector products (``np.einsum``). The answer is the same rotation as with matrices.
An iteration that reaches ``max_iter`` without meeting ``tol`` warns (``RuntimeWarning``).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.blockwise import map_blocks
from reference_impl.conventions import ConventionError, FloatArray, as_float_array, result_dtype
from reference_impl.quaternion import (
    matrix_to_quat_rows,
    quat_multiply,
    quat_to_matrix,
    rotvec_to_quat,
)

__all__ = ["chordal_mean", "geodesic_mean", "geodesic_median", "quaternion_mean"]

F64 = np.dtype(np.float64)
TINY = float(np.finfo(np.float64).tiny)


def _weights(weights: ArrayLike | None, batch: tuple[int, ...]) -> FloatArray | None:
    """Validate weights and broadcast them to ``batch`` (..., N); ``None`` means equal weights."""
    if batch[-1] == 0:
        raise ConventionError("cannot average an empty set of rotations")
    if weights is None:
        return None
    wa = np.asarray(weights)
    if wa.dtype.kind not in "biuf":
        raise ConventionError(f"weights must be real numbers; got dtype {wa.dtype}")
    w = wa.astype(np.float64)
    try:
        w = np.broadcast_to(w, batch)
    except ValueError:
        raise ConventionError(f"weights of shape {w.shape} do not fit rotations {batch}") from None
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ConventionError("weights must be finite and non-negative")
    if np.any(np.sum(w, axis=-1) == 0):
        raise ConventionError("weights must not all be zero")
    return w


# The sums over the data are written with np.einsum, which runs NumPy's own
# single-threaded loops: BLAS calls on these skinny shapes are no faster, and a multithreaded BLAS
# can stall for milliseconds per call on a busy machine.


def _weighted_sum(X: FloatArray, w: FloatArray | None) -> FloatArray:
    """Σᵢ wᵢ X[..., :, i] for X (..., k, N) → (..., k)."""
    if w is None:
        return np.einsum("...kn->...k", X)
    return np.einsum("...kn,...n->...k", X, w)


def _canonical(q: FloatArray) -> FloatArray:
    return np.where(q[..., :1] < 0, -q, q)


def _left_conj(p: FloatArray) -> FloatArray:
    """L (..., 4, 4) with ``L q = p* ⊗ q`` for the quaternion p (..., 4)."""
    w, x, y, z = (p[..., k] for k in range(4))
    return np.stack(
        [
            np.stack([w, x, y, z], axis=-1),
            np.stack([-x, w, z, -y], axis=-1),
            np.stack([-y, -z, w, x], axis=-1),
            np.stack([-z, y, -x, w], axis=-1),
        ],
        axis=-2,
    )


def _relative(qbar: FloatArray, Q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The rotations ``q̄* ⊗ qᵢ`` for Q (..., 4, N): their vector parts (..., 3, N), the norms
    ``s = |u|`` and the angles ``θ = 2·atan2(|u|, |w|)`` (..., N), and the signs of w."""
    r = np.einsum("...ij,...jn->...in", _left_conj(qbar), Q)
    rw, rv = r[..., 0, :], r[..., 1:, :]
    s = np.sqrt(np.sum(rv * rv, axis=-2))
    theta = 2.0 * np.arctan2(s, np.abs(rw))
    # the log vector is vᵢ = θ sign(w) u/|u| (θ ∈ [0, π]); 0 where |u|² underflows (|u| < 1e-154)
    coef = np.copysign(theta / np.maximum(s, TINY), rw)
    return rv, theta, coef


def _quat_rows(qs: FloatArray) -> FloatArray:
    """(..., N, 4) → (..., 4, N), contiguous."""
    return np.ascontiguousarray(np.swapaxes(qs, -1, -2))


def _matrix_quat_rows(R: FloatArray) -> FloatArray:
    """``matrix_to_quat`` of Rs (..., N, 3, 3), written straight into rows Q (..., 4, N)."""
    rows = map_blocks(matrix_to_quat_rows, [R.reshape(-1, 9)], 4, F64, rows_out=True)
    return np.moveaxis(rows.reshape((4, *R.shape[:-2])), 0, -2)


def _chordal_start(Q: FloatArray, w: FloatArray | None) -> FloatArray:
    """Top eigenvector of Σ wᵢ qᵢ qᵢᵀ (..., 4): the chordal L2 mean as a quaternion."""
    Qw = Q if w is None else Q * w[..., None, :]
    M = np.empty((*Q.shape[:-2], 4, 4))
    for i in range(4):  # Σᵢ wᵢ qᵢ qᵢᵀ, its 10 distinct entries as dot products of rows
        for j in range(i, 4):
            M[..., i, j] = M[..., j, i] = np.einsum("...n,...n->...", Qw[..., i, :], Q[..., j, :])
    _, vecs = np.linalg.eigh(M)
    return _canonical(vecs[..., :, -1])


def _step(qbar: FloatArray, delta: FloatArray) -> FloatArray:
    """q̄ ⊗ exp(δ), normalised."""
    q = quat_multiply(qbar, rotvec_to_quat(delta))
    return q / np.sqrt(np.sum(q * q, axis=-1, keepdims=True))


def _rotation_sets(Rs: ArrayLike) -> tuple[FloatArray, np.dtype]:
    dt = result_dtype(Rs)
    R = as_float_array(Rs, (3, 3), "Rs", F64)
    if R.ndim < 3:
        raise ConventionError(f"Rs must have shape (..., N, 3, 3); got {R.shape}")
    return R, dt


def _not_converged(name: str, tol: float, max_iter: int, last: float) -> None:
    warnings.warn(
        f"{name} did not converge to tol={tol:g} in max_iter={max_iter} iterations "
        f"(last step {last:.1e} rad)",
        RuntimeWarning,
        stacklevel=3,
    )


def chordal_mean(Rs: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """Chordal L2 mean ``argmin_R Σ wᵢ ‖R − Rᵢ‖²_F`` (Hartley et al. §5.2, Theorem 5).

    Shapes: ``Rs`` (..., N, 3, 3), ``weights`` (..., N) → (..., 3, 3). Identity: with
    ``M = Σ wᵢ Rᵢ = U S Vᵀ``, ``R̄ = U diag(1, 1, det(U Vᵀ)) Vᵀ`` (projection onto SO(3)).
    """
    R, dt = _rotation_sets(Rs)
    w = _weights(weights, R.shape[:-2])
    if w is None:
        M = np.einsum("...nij->...ij", R)
    else:
        M = np.einsum("...n,...nij->...ij", w, R)
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
    round increases the objective, so it terminates). The signs cannot have changed, and no
    re-alignment pass is needed, when every ``|q·qᵢ|`` exceeds twice the last move of ``q``.

    Implementation: the data stay (..., N, 4); ``Σ wᵢ qᵢ qᵢᵀ``, the dot products ``q·qᵢ`` and the
    signed sums are matrix products (BLAS), as in scipy's ``Rotation.mean``.
    """
    dt = result_dtype(qs)
    qa = as_float_array(qs, (4,), "qs", F64)
    if qa.ndim < 2:
        raise ConventionError(f"qs must have shape (..., N, 4); got {qa.shape}")
    w = _weights(weights, qa.shape[:-1])
    ww = np.ones(qa.shape[:-1]) if w is None else w
    qw = qa if w is None else qa * w[..., None]
    _, vecs = np.linalg.eigh(np.matmul(np.swapaxes(qw, -1, -2), qa))  # Σ wᵢ qᵢ qᵢᵀ
    qbar = vecs[..., :, -1]
    dots = np.matmul(qa, qbar[..., None])[..., 0]  # q·qᵢ
    signed = np.copysign(ww, dots)  # wᵢ sᵢ
    for _ in range(max_iter):
        total = np.matmul(signed[..., None, :], qa)[..., 0, :]
        new = total / np.sqrt(np.sum(total * total, axis=-1, keepdims=True))
        moved = float(np.sqrt(np.sum((new - qbar) ** 2, axis=-1)).max(initial=0.0))
        qbar = new
        if np.abs(dots).min(initial=np.inf) > 2 * moved:
            break  # each q·qᵢ changed by at most ‖Δq‖ < |q·qᵢ|: no sign can have changed
        dots = np.matmul(qa, qbar[..., None])[..., 0]
        new_signed = np.copysign(ww, dots)
        if np.array_equal(new_signed, signed):
            break
        signed = new_signed
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
    R, dt = _rotation_sets(Rs)
    w = _weights(weights, R.shape[:-2])
    Q = _matrix_quat_rows(R)
    wsum = float(R.shape[-3]) if w is None else np.sum(w, axis=-1, keepdims=True)
    qbar = _chordal_start(Q, w)
    step = np.inf
    for _ in range(max_iter):
        rv, _, coef = _relative(qbar, Q)
        r = _weighted_sum(rv, coef if w is None else w * coef) / wsum
        qbar = _step(qbar, r)
        step = float(np.sqrt(np.sum(r * r, axis=-1)).max(initial=0.0))
        if step < tol:
            break
    else:
        _not_converged("geodesic_mean", tol, max_iter, step)
    return quat_to_matrix(_canonical(qbar)).astype(dt, copy=False)


def _data_point_is_median(
    j: np.ndarray, Q: FloatArray, w: FloatArray | None, on_point: float
) -> tuple[np.ndarray, FloatArray]:
    """Does the data point ``j`` (...) satisfy the subgradient condition
    ``‖Σ_{i: vᵢ≠0} wᵢ vᵢ/‖vᵢ‖‖ ≤ Σ_{i: vᵢ=0} wᵢ`` (``vᵢ = log(R_jᵀ Rᵢ)``)? Returns the answer
    (...) and the quaternions q_j (..., 4)."""
    qj = np.take_along_axis(Q, j[..., None, None], axis=-1)[..., 0]
    rv, theta, coef = _relative(qj, Q)
    far = theta > on_point
    ww = np.ones(theta.shape) if w is None else w
    unit = np.where(far, ww * coef / np.where(far, theta, 1.0), 0.0)  # wᵢ vᵢ/‖vᵢ‖ = unit·u
    rho = _weighted_sum(rv, unit)
    eta = np.sum(np.where(far, 0.0, ww), axis=-1)
    return np.sqrt(np.sum(rho * rho, axis=-1)) <= eta, qj


def _newton_candidate(
    qbar: FloatArray,
    rv: FloatArray,
    theta: FloatArray,
    coef: FloatArray,
    ww: FloatArray,
    far: np.ndarray,
    rho: FloatArray,
) -> FloatArray:
    """q̄ exp(H⁻¹ρ): a Newton step for Σ wᵢ d∠(R, Rᵢ), whose gradient at q̄ is −ρ = −Σ wᵢ uᵢ
    (uᵢ = vᵢ/‖vᵢ‖) and whose Hessian is H = Σ wᵢ ½cot(θᵢ/2)(I − uᵢuᵢᵀ) (SO(3) with the angle
    metric has constant curvature 1/4)."""
    a = np.where(far, ww * 0.5 / np.tan(0.5 * np.where(far, theta, 1.0)), 0.0)
    U = rv * np.where(far, coef / np.where(far, theta, 1.0), 0.0)[..., None, :]
    H = np.sum(a, axis=-1)[..., None, None] * np.eye(3) - np.einsum(
        "...in,...jn->...ij", U * a[..., None, :], U
    )
    H = H + 1e-14 * np.trace(H, axis1=-2, axis2=-1)[..., None, None] * np.eye(3)
    delta = np.linalg.solve(H, rho[..., None])[..., 0]
    return _step(qbar, np.where(np.isfinite(delta), delta, 0.0))


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

    Weiszfeld's iteration converges linearly, and can crawl: towards a median that is a data
    point at the rate ``‖ρ‖/w`` of that point, along a flat valley of the cost (a median on the
    geodesic between two heavy points) at a rate within 1e-3 of 1. So whenever a step is more
    than half the previous one, (1) the data point nearest to the iterate is tested once for the
    subgradient condition, and the iteration jumps to it if it holds; (2) a Newton step on the
    cost (Hessian ``Σ wᵢ ½cot(θᵢ/2)(I − uᵢuᵢᵀ)``, ``uᵢ = vᵢ/‖vᵢ‖``) replaces the Weiszfeld step
    when it lowers the cost. Both leave the answer unchanged and make the 1e-12 reachable.
    """
    R, dt = _rotation_sets(Rs)
    w = _weights(weights, R.shape[:-2])
    Q = _matrix_quat_rows(R)
    on_point = 1e-12
    qbar = _chordal_start(Q, w)
    batch = qbar.shape[:-1]
    ww = np.ones(Q.shape[:-2] + Q.shape[-1:]) if w is None else w
    done = np.zeros(batch, dtype=bool)
    tested = np.full(batch, -1)
    prev = np.full(batch, np.inf)
    step = np.inf
    for _ in range(max_iter):
        rv, theta, coef = _relative(qbar, Q)
        far = theta > on_point
        inv = np.where(far, ww / np.where(far, theta, 1.0), 0.0)  # wᵢ/‖vᵢ‖
        rho = _weighted_sum(rv, inv * coef)  # Σ wᵢ vᵢ/‖vᵢ‖
        delta = rho / np.maximum(np.sum(inv, axis=-1), TINY)[..., None]
        eta = np.sum(np.where(far, 0.0, ww), axis=-1)
        rho_norm = np.sqrt(np.sum(rho * rho, axis=-1))
        # (1 − η/‖ρ‖)⁺, written so that ‖ρ‖ = 0 (a symmetric set around the iterate) is no 0/0
        shrink = np.where(rho_norm > eta, 1 - eta / np.where(rho_norm > 0, rho_norm, 1), 0)
        delta = np.where(done[..., None], 0.0, delta * shrink[..., None])
        norm = np.sqrt(np.sum(delta * delta, axis=-1))
        step = float(norm.max(initial=0.0))
        if step < tol:
            break
        new = _step(qbar, delta)
        slow = ~done & (norm > 0.5 * prev)
        prev = norm
        if np.any(slow):
            # (1) is the nearest data point the median?
            nearest = np.argmin(np.where(ww > 0, theta, np.inf), axis=-1)
            test = slow & (nearest != tested)
            if np.any(test):
                is_median, qj = _data_point_is_median(nearest, Q, w, on_point)
                tested = np.where(test, nearest, tested)
                jump = test & is_median
                new = np.where(jump[..., None], qj, new)
                done |= jump
                slow &= ~jump
            # (2) a Newton step, where it lowers the cost (off the data points, where it is smooth)
            trial = slow & (eta == 0)
            if np.any(trial):
                qn = _newton_candidate(qbar, rv, theta, coef, ww, far, rho)
                _, theta_n, _ = _relative(qn, Q)
                better = trial & (np.sum(ww * theta_n, axis=-1) <= np.sum(ww * theta, axis=-1))
                new = np.where(better[..., None], qn, new)
        qbar = new
    else:
        _not_converged("geodesic_median", tol, max_iter, step)
    return quat_to_matrix(_canonical(qbar)).astype(dt, copy=False)
