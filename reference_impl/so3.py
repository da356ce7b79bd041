"""The Lie group SO(3): hat/vee, exponential and logarithm maps, and the metrics between rotations.

All functions take any leading batch shape and float32/float64 arrays, and return the input's
dtype. Rotation vectors ``w`` (..., 3) are axis × angle (radians); matrices are (..., 3, 3) and
act on column vectors (active rotations).

Reference: R. Hartley, J. Trumpf, Y. Dai, H. Li (2013), "Rotation averaging", International
Journal of Computer Vision 103(3), 267–305, doi:10.1007/s11263-012-0601-0 —
§3 (angle–axis, quaternions, exp/log), §4 (distances), Table 2 (their relations), with
θ = d∠(R, S) the rotation angle of ``Rᵀ S``::

    d_chord(R, S) = ‖R − S‖_F = 2√2 sin(θ/2)
    d_quat(r, s)  = min(‖r − s‖, ‖r + s‖) = 2 sin(θ/4)
    d_chord       = d_quat √(8 − 2 d_quat²)

Numerics: angles are always computed with ``atan2`` of a sine and a cosine that are both formed
without cancellation, never with a bare ``acos`` of the trace, which is 0 for θ < 2e-8 in float64
(θ < 3e-4 in float32) and loses half its digits near π.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import FloatArray, as_float_array, result_dtype
from reference_impl.quaternion import matrix_to_quat, quat_to_matrix, quat_to_rotvec, rotvec_to_quat

__all__ = [
    "chordal_distance",
    "geodesic_distance",
    "hat",
    "quat_geodesic_distance",
    "quaternion_distance",
    "rotation_angle",
    "so3_exp",
    "so3_log",
    "vee",
]


def hat(w: ArrayLike) -> FloatArray:
    """Skew-symmetric matrix ``[w]ₓ`` with ``[w]ₓ v = w × v``. (..., 3) → (..., 3, 3)."""
    w = as_float_array(w, (3,), "w")
    x, y, z = np.moveaxis(w, -1, 0)
    zero = np.zeros_like(x)
    return np.stack(
        [
            np.stack([zero, -z, y], axis=-1),
            np.stack([z, zero, -x], axis=-1),
            np.stack([-y, x, zero], axis=-1),
        ],
        axis=-2,
    )


def vee(W: ArrayLike) -> FloatArray:
    """Inverse of ``hat``: the vector of the skew-symmetric part of ``W``. (..., 3, 3) → (..., 3).

    Uses ``(W − Wᵀ)/2``, so a matrix that is only nearly skew gives its closest skew vector.
    """
    W = as_float_array(W, (3, 3), "W")
    return 0.5 * np.stack(
        [W[..., 2, 1] - W[..., 1, 2], W[..., 0, 2] - W[..., 2, 0], W[..., 1, 0] - W[..., 0, 1]],
        axis=-1,
    )


def so3_exp(w: ArrayLike) -> FloatArray:
    """Exponential map: the rotation by angle ``|w|`` about ``w/|w|``. (..., 3) → (..., 3, 3).

    Identity (Rodrigues, Hartley et al. §3.2): ``exp[w]ₓ = I + sinθ/θ [w]ₓ + (1−cosθ)/θ² [w]ₓ²``.
    Evaluated through the unit quaternion ``[cos(θ/2), sin(θ/2)/θ · w]`` (``rotvec_to_quat``),
    exact as θ → 0 and orthogonal to rounding error.
    """
    return quat_to_matrix(rotvec_to_quat(as_float_array(w, (3,), "w")))


def so3_log(R: ArrayLike) -> FloatArray:
    """Logarithm map: the rotation vector ``w`` with ``so3_exp(w) = R`` and ``|w| ∈ [0, π]``.

    Shape (..., 3, 3) → (..., 3). Goes through the quaternion (Shepperd's method, which reads the
    axis off the largest diagonal entry) and ``θ = 2·atan2(|u|, w)``, so it is accurate near θ = 0
    and exact at θ = π about any axis, where the textbook ``(R − Rᵀ)/(2 sin θ)`` is 0/0. At θ = π
    both ``±π n`` are logarithms; one of them is returned.
    """
    return quat_to_rotvec(matrix_to_quat(as_float_array(R, (3, 3), "R")))


def rotation_angle(R: ArrayLike) -> FloatArray:
    """Rotation angle θ ∈ [0, π] of ``R`` (..., 3, 3) → (...), accurate at both ends.

    ``θ = atan2(|vee(R − Rᵀ)|, (tr R − 1)/2)``: ``sin θ`` from the skew part and ``cos θ`` from the
    trace, each with absolute error ~ε, so θ has absolute error ~ε everywhere.
    """
    R = as_float_array(R, (3, 3), "R")
    sx = R[..., 2, 1] - R[..., 1, 2]
    sy = R[..., 0, 2] - R[..., 2, 0]
    sz = R[..., 1, 0] - R[..., 0, 1]
    sin2 = np.sqrt(sx * sx + sy * sy + sz * sz)  # 2 sin θ
    cos2 = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2] - 1  # 2 cos θ
    return np.arctan2(sin2, cos2)


def geodesic_distance(R1: ArrayLike, R2: ArrayLike) -> FloatArray:
    """Angular (geodesic) distance ``d∠(R1, R2) = θ(R1ᵀ R2) ∈ [0, π]``. (..., 3, 3) ×2 → (...).

    Hartley et al. §4.1.1: the length of the shortest geodesic, ``‖log(R1ᵀ R2)‖``; bi-invariant.
    With ``M = R1ᵀ R2``: ``tr M = Σᵢⱼ R1ᵢⱼ R2ᵢⱼ`` and the skew part ``vee(M − Mᵀ) = Σᵢ r1ᵢ × r2ᵢ``
    (rows), so no matrix product is formed; then ``θ = atan2(|Σ r1ᵢ × r2ᵢ|, tr M − 1)``, accurate
    near 0 and near π (see ``rotation_angle``).
    """
    dt = result_dtype(R1, R2)
    A = as_float_array(R1, (3, 3), "R1", dt)
    B = as_float_array(R2, (3, 3), "R2", dt)
    ax, ay, az = A[..., 0], A[..., 1], A[..., 2]  # columns: x, y, z components of the rows
    bx, by, bz = B[..., 0], B[..., 1], B[..., 2]
    cx = np.sum(ay * bz - az * by, axis=-1)
    cy = np.sum(az * bx - ax * bz, axis=-1)
    cz = np.sum(ax * by - ay * bx, axis=-1)
    trace = np.sum(ax * bx + ay * by + az * bz, axis=-1)
    return np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), trace - 1)


def chordal_distance(R1: ArrayLike, R2: ArrayLike) -> FloatArray:
    """Chordal distance ``d_chord = ‖R1 − R2‖_F = 2√2 sin(θ/2)``. (..., 3, 3) ×2 → (...).

    Hartley et al. §4.1.2; bi-invariant, in [0, 2√2].
    """
    dt = result_dtype(R1, R2)
    D = as_float_array(R1, (3, 3), "R1", dt) - as_float_array(R2, (3, 3), "R2", dt)
    return np.sqrt(np.sum(D * D, axis=(-2, -1)))


def quaternion_distance(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Quaternion distance ``d_quat = min(‖q1 − q2‖, ‖q1 + q2‖) = 2 sin(θ/4)``. (..., 4) ×2 → (...).

    Hartley et al. §4.1.3. The minimum over the two signs makes it a metric on rotations rather
    than on quaternions (``q`` and ``−q`` are the same rotation). Inputs are unit quaternions.
    """
    dt = result_dtype(q1, q2)
    a = as_float_array(q1, (4,), "q1", dt)
    b = as_float_array(q2, (4,), "q2", dt)
    dm = a - b
    dp = a + b
    return np.sqrt(np.minimum(np.sum(dm * dm, axis=-1), np.sum(dp * dp, axis=-1)))


def quat_geodesic_distance(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Angular distance between the rotations of unit quaternions: ``θ = 4·atan2(d₋, d₊)`` with
    ``d₋ = min(‖q1 ∓ q2‖)`` and ``d₊`` the other one. (..., 4) ×2 → (...) in [0, π].

    ``‖q1 − q2‖ = 2 sin(θ/4)`` and ``‖q1 + q2‖ = 2 cos(θ/4)`` for sign-aligned unit quaternions,
    so the ratio gives θ accurately at every angle.
    """
    dt = result_dtype(q1, q2)
    a = as_float_array(q1, (4,), "q1", dt)
    b = as_float_array(q2, (4,), "q2", dt)
    dm = np.sqrt(np.sum((a - b) ** 2, axis=-1))
    dp = np.sqrt(np.sum((a + b) ** 2, axis=-1))
    return 4 * np.arctan2(np.minimum(dm, dp), np.maximum(dm, dp))
