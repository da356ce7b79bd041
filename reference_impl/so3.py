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

How to read it: as in ``reference_impl.quaternion``, each batched map states its identity in its
docstring and is followed by its formula on a block of component rows (``<function>_rows``), which
``blockwise.map_rows`` runs over the batch; the distances between row pairs are
``blockwise.row_norms`` (``‖aᵢ ± bᵢ‖``). The largest batches of ``so3_exp`` and
``geodesic_distance`` run the same formulas as one compiled loop (``reference_impl.compiled``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl import compiled
from reference_impl.blockwise import map_rows, row_norms
from reference_impl.conventions import FloatArray, as_float_array, result_dtype
from reference_impl.quaternion import matrix_to_quat_rows, quat_to_rotvec_rows, rotvec_to_quat_rows

# The array functions, also the names problem set 2's stubs must have (test_ps23_hidden_checks);
# the formulas on rows (``<function>_rows``) are public names too, not listed.
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
    Evaluated through the unit quaternion ``[cos(θ/2), sin(θ/2)/θ · w]`` (``rotvec_to_quat``)
    and ``R = I + 2w[u]ₓ + 2[u]ₓ²``, exact as θ → 0 and orthogonal to rounding error. Batches of
    ``compiled.MIN_ROWS`` or more run the same formulas as one compiled loop.
    """
    w = as_float_array(w, (3,), "w")
    if compiled.takes(w.size // 3):
        return compiled.so3_exp(w)
    return map_rows(so3_exp_rows, [(w, (3,))], (3, 3), w.dtype)


def so3_exp_rows(c: FloatArray, o: FloatArray) -> None:
    """``so3_exp`` on a block: rows ``x, y, z`` of ``w`` → ``R₀₀, R₀₁, …, R₂₂``, through the unit
    quaternion."""
    q = np.empty((4, c.shape[1]), dtype=c.dtype)
    rotvec_to_quat_rows(c, q)
    w, x, y, z = q
    # R = I + 2w[u]ₓ + 2[u]ₓ² for the unit q = (w, u) (quat_to_matrix_rows with s = 2)
    x2, y2, z2 = x + x, y + y, z + z
    wx, wy, wz = w * x2, w * y2, w * z2
    xx, xy, xz = x * x2, x * y2, x * z2
    yy, yz, zz = y * y2, y * z2, z * z2
    np.subtract(1.0, yy + zz, out=o[0])
    np.subtract(xy, wz, out=o[1])
    np.add(xz, wy, out=o[2])
    np.add(xy, wz, out=o[3])
    np.subtract(1.0, xx + zz, out=o[4])
    np.subtract(yz, wx, out=o[5])
    np.subtract(xz, wy, out=o[6])
    np.add(yz, wx, out=o[7])
    np.subtract(1.0, xx + yy, out=o[8])


def so3_log(R: ArrayLike) -> FloatArray:
    """Logarithm map: the rotation vector ``w`` with ``so3_exp(w) = R`` and ``|w| ∈ [0, π]``.

    Shape (..., 3, 3) → (..., 3). Goes through the quaternion (Shepperd's method, which reads the
    axis off the largest diagonal entry) and ``θ = 2·atan2(|u|, w)``, so it is accurate near θ = 0
    and exact at θ = π about any axis, where the textbook ``(R − Rᵀ)/(2 sin θ)`` is 0/0. At θ = π
    both ``±π n`` are logarithms; the one of ``quaternion.quat_canonical`` is returned.
    """
    R = as_float_array(R, (3, 3), "R")
    return map_rows(so3_log_rows, [(R, (3, 3))], (3,), R.dtype)


def so3_log_rows(c: FloatArray, o: FloatArray) -> None:
    """``so3_log`` on a block: rows ``R₀₀, R₀₁, …, R₂₂`` → ``x, y, z``, as
    ``quat_to_rotvec(matrix_to_quat(R))``."""
    q = np.empty((4, c.shape[1]), dtype=c.dtype)
    matrix_to_quat_rows(c, q)
    quat_to_rotvec_rows(q, o)


def rotation_angle(R: ArrayLike) -> FloatArray:
    """Rotation angle θ ∈ [0, π] of ``R`` (..., 3, 3) → (...), accurate at both ends.

    ``θ = atan2(|vee(R − Rᵀ)|, (tr R − 1)/2)``: ``sin θ`` from the skew part and ``cos θ`` from the
    trace, each with absolute error ~ε, so θ has absolute error ~ε everywhere.
    """
    R = as_float_array(R, (3, 3), "R")
    return map_rows(rotation_angle_rows, [(R, (3, 3))], (), R.dtype)


def rotation_angle_rows(c: FloatArray, o: FloatArray) -> None:
    """``rotation_angle`` on a block: rows ``R₀₀, R₀₁, …, R₂₂`` → θ (one row)."""
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = c
    sx, sy, sz = r21 - r12, r02 - r20, r10 - r01  # 2 sin θ · n
    o[0] = np.arctan2(np.sqrt(sx * sx + sy * sy + sz * sz), r00 + r11 + r22 - 1.0)


#: ‖R1 − R2‖_F / 2√2 = sin(θ/2) above which θ > π − 0.02: there asin's condition number
#: exceeds 100 and the exact formula takes over.
_NEAR_PI = float(np.cos(0.01))


def geodesic_distance(R1: ArrayLike, R2: ArrayLike) -> FloatArray:
    """Angular (geodesic) distance ``d∠(R1, R2) = θ(R1ᵀ R2) ∈ [0, π]``. (..., 3, 3) ×2 → (...).

    Hartley et al. §4.1.1: the length of the shortest geodesic, ``‖log(R1ᵀ R2)‖``; bi-invariant.
    Mostly ``θ = 2·asin(‖R1 − R2‖_F / 2√2)`` (Table 2: ``d_chord = 2√2 sin(θ/2)``), accurate
    near 0 and well-conditioned up to π − 0.1; the pairs beyond use the exact
    ``θ = atan2(|Σᵢ r1ᵢ × r2ᵢ|, tr(R1ᵀR2) − 1)`` (rows; ``tr M = Σᵢⱼ R1ᵢⱼ R2ᵢⱼ`` and
    ``vee(M − Mᵀ) = −Σᵢ r1ᵢ × r2ᵢ`` for ``M = R1ᵀ R2``, no matrix product formed), which
    ``asin`` cannot match there. Accurate at both ends (see ``rotation_angle``). Batches of
    ``compiled.MIN_ROWS`` or more pairs run the same formulas as one compiled loop.
    """
    a, b, batch, dt = _pair_rows(R1, R2, (3, 3), ("R1", "R2"))
    if compiled.takes(a.shape[0]):
        return compiled.geodesic_distance(a, b, _NEAR_PI).reshape(batch)
    half = row_norms(a, b, -1.0, dt)  # ‖R1 − R2‖_F, and sin(θ/2) after the scaling below
    half *= 1.0 / (2.0 * np.sqrt(2.0))
    near = np.flatnonzero(half > _NEAR_PI)
    np.minimum(half, 1.0, out=half)
    theta = np.arcsin(half, out=half)
    theta *= 2.0
    if near.size:
        theta[near] = map_rows(
            relative_angle_rows,
            [(a[near].reshape(-1, 3, 3), (3, 3)), (b[near].reshape(-1, 3, 3), (3, 3))],
            (),
            dt,
        )
    return theta.reshape(batch)


def relative_angle_rows(c: FloatArray, o: FloatArray) -> None:
    """The exact ``geodesic_distance`` on a block: rows ``R1₀₀, …, R1₂₂, R2₀₀, …, R2₂₂`` → θ,
    ``atan2(|Σᵢ r1ᵢ × r2ᵢ|, tr(R1ᵀR2) − 1)`` with ``rᵢ`` the matrices' rows."""
    a, b = c[:9], c[9:]  # the rows of R1 are a[0:3], a[3:6], a[6:9]; of R2, b[…]
    cos2 = a[0] * b[0]  # tr(R1ᵀR2) − 1 = 2 cos θ
    for k in range(1, 9):
        cos2 += a[k] * b[k]
    cos2 -= 1.0
    sx = np.zeros_like(cos2)  # Σᵢ r1ᵢ × r2ᵢ, of norm 2 sin θ
    sy = np.zeros_like(cos2)
    sz = np.zeros_like(cos2)
    for i in (0, 3, 6):
        a0, a1, a2, b0, b1, b2 = a[i], a[i + 1], a[i + 2], b[i], b[i + 1], b[i + 2]
        sx += a1 * b2
        sx -= a2 * b1
        sy += a2 * b0
        sy -= a0 * b2
        sz += a0 * b1
        sz -= a1 * b0
    sx *= sx
    sx += sy * sy
    sx += sz * sz
    np.arctan2(np.sqrt(sx, out=sx), cos2, out=o[0])


def chordal_distance(R1: ArrayLike, R2: ArrayLike) -> FloatArray:
    """Chordal distance ``d_chord = ‖R1 − R2‖_F = 2√2 sin(θ/2)``. (..., 3, 3) ×2 → (...).

    Hartley et al. §4.1.2; bi-invariant, in [0, 2√2].
    """
    a, b, batch, dt = _pair_rows(R1, R2, (3, 3), ("R1", "R2"))
    return row_norms(a, b, -1.0, dt).reshape(batch)  # ‖R1 − R2‖_F


def quaternion_distance(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Quaternion distance ``d_quat = min(‖q1 − q2‖, ‖q1 + q2‖) = 2 sin(θ/4)``. (..., 4) ×2 → (...).

    Hartley et al. §4.1.3. The minimum over the two signs makes it a metric on rotations rather
    than on quaternions (``q`` and ``−q`` are the same rotation). Inputs are unit quaternions.
    """
    a, b, batch, dt = _pair_rows(q1, q2, (4,), ("q1", "q2"))
    dm = row_norms(a, b, -1.0, dt)  # ‖q1 − q2‖
    return np.minimum(dm, row_norms(a, b, 1.0, dt), out=dm).reshape(batch)


def quat_geodesic_distance(q1: ArrayLike, q2: ArrayLike) -> FloatArray:
    """Angular distance between the rotations of unit quaternions: ``θ = 4·atan(d₋/d₊)`` with
    ``d₋ = min(‖q1 ∓ q2‖)`` and ``d₊`` the other one. (..., 4) ×2 → (...) in [0, π].

    ``‖q1 − q2‖ = 2 sin(θ/4)`` and ``‖q1 + q2‖ = 2 cos(θ/4)`` for sign-aligned unit quaternions,
    so the ratio gives θ accurately at every angle.
    """
    a, b, batch, dt = _pair_rows(q1, q2, (4,), ("q1", "q2"))
    dm = row_norms(a, b, -1.0, dt)  # ‖q1 − q2‖
    dp = row_norms(a, b, 1.0, dt)  # ‖q1 + q2‖
    lo, hi = np.minimum(dm, dp), np.maximum(dm, dp)
    ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 0.0)
    return (4.0 * np.arctan(ratio)).reshape(batch)


def _pair_rows(
    x1: ArrayLike, x2: ArrayLike, trailing: tuple[int, ...], names: tuple[str, str]
) -> tuple[FloatArray, FloatArray, tuple[int, ...], np.dtype]:
    """Two arrays (..., *trailing) broadcast together and viewed as (n, k) rows."""
    dt = result_dtype(x1, x2)
    a = as_float_array(x1, trailing, names[0], dt)
    b = as_float_array(x2, trailing, names[1], dt)
    nd = len(trailing)
    batch = np.broadcast_shapes(a.shape[: a.ndim - nd], b.shape[: b.ndim - nd])
    k = int(np.prod(trailing))
    rows = [np.broadcast_to(x, batch + trailing).reshape(-1, k) for x in (a, b)]
    return rows[0], rows[1], batch, dt
