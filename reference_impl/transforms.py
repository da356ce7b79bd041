"""Rotations from an axis and an angle, rigid 4×4 transforms, and conversions between the Euler
conventions of the cryo-EM packages.

P. R. Baldwin & P. A. Penczek (2007), "The Transform Class in SPARX and EMAN2", J. Struct. Biol.
157(1), 250–261: §2.1 (eq. 7, Rodrigues' formula with the dyadic ``n̂n̂``, and eq. 8, the same
matrix in the quaternion's components), §2.1.1 (eq. 16–17, the 4×4 matrix of a rotation and a
translation) and Table 1 (the Euler conventions). Written here in this project's conventions
(``reference_impl.conventions``): rotations are active, a matrix left-multiplies column vectors,
angles are radians. The paper writes the matrices of the packages, which rotate the coordinate
frame clockwise: its eq. 7 and 8 have the opposite sign in front of the skew-symmetric term (they
are the transposes of the matrices here). Every function takes any leading batch shape.

Identities
----------
* Rodrigues (eq. 7), ``n̂`` a unit axis, ``θ`` the angle, ``n̂n̂ = n̂ n̂ᵀ`` the dyadic (outer)
  product, the projector onto the axis::

      R = cos θ I + (1 − cos θ) n̂n̂ + sin θ [n̂]ₓ

* Euler–Rodrigues (eq. 8), ``e₀ = cos(θ/2)``, ``e = sin(θ/2) n̂``: with ``cos θ = e₀² − e·e``,
  ``sin θ n̂ = 2e₀e`` and ``(1 − cos θ) n̂n̂ = 2 eeᵀ``, eq. 7 becomes::

      R = (e₀² − e·e) I + 2 eeᵀ + 2e₀ [e]ₓ

* Rigid transforms (eq. 16) ``M = [[R, t], [0ᵀ, 1]]`` act on homogeneous points ``(x, 1)`` as
  ``x ↦ R x + t``. Products keep the form (question 3)::

      M₂ M₁ = [[R₂R₁, R₂t₁ + t₂], [0ᵀ, 1]],     M⁻¹ = [[Rᵀ, −Rᵀt], [0ᵀ, 1]]

  and EMAN2's transform ``v̂ = T(t_post) R T(t_pre) v`` (a pre-translation, a rotation, a
  post-translation; eq. 17 as a product of such matrices) is ``[[R, R t_pre + t_post], [0ᵀ, 1]]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl import euler
from reference_impl.conventions import (
    ConventionError,
    FloatArray,
    as_float_array,
    result_dtype,
)

__all__ = [
    "apply_transform",
    "axis_angle_to_matrix",
    "compose_rt",
    "compose_transforms",
    "convert_euler",
    "dyadic",
    "euler_rodrigues_to_matrix",
    "invert_transform",
    "pre_post_transform",
    "rigid_transform",
    "split_transform",
]


def _skew(v: FloatArray) -> FloatArray:
    x, y, z = np.moveaxis(v, -1, 0)
    zero = np.zeros_like(x)
    return np.stack(
        [
            np.stack([zero, -z, y], axis=-1),
            np.stack([z, zero, -x], axis=-1),
            np.stack([-y, x, zero], axis=-1),
        ],
        axis=-2,
    )


def dyadic(a: ArrayLike, b: ArrayLike | None = None) -> FloatArray:
    """The dyadic (outer) product ``a bᵀ``, entries ``aᵢ bⱼ``. (..., 3) [× (..., 3)] → (..., 3, 3).

    With ``b`` omitted, ``n̂n̂ = n̂ n̂ᵀ`` of Baldwin & Penczek's eq. 7: for a unit ``n̂`` it is the
    orthogonal projector onto the axis, ``(n̂n̂) v = (n̂·v) n̂``; symmetric, of rank 1, trace 1.
    """
    dt = result_dtype(a) if b is None else result_dtype(a, b)
    a = as_float_array(a, (3,), "a", dt)
    b = a if b is None else as_float_array(b, (3,), "b", dt)
    return a[..., :, None] * b[..., None, :]


def axis_angle_to_matrix(axis: ArrayLike, angle: ArrayLike) -> FloatArray:
    """Rodrigues' formula (Baldwin & Penczek eq. 7, active): the rotation by ``angle`` about ``axis``.

    Shapes: ``axis`` (..., 3), normalised here (a zero axis only with a zero angle); ``angle``
    (...) radians, broadcast with it → (..., 3, 3). ``R = cos θ I + (1 − cos θ) n̂n̂ + sin θ [n̂]ₓ``
    with ``n̂n̂ = dyadic(n̂)``; ``R v`` turns ``v`` by θ about ``n̂`` by the right-hand rule.
    """
    dt = result_dtype(axis, angle)
    axis = as_float_array(axis, (3,), "axis", dt)
    angle = np.asarray(angle, dtype=dt)
    norm = np.sqrt(np.sum(axis * axis, axis=-1))
    zero = norm == 0
    if np.any(zero & (np.broadcast_to(angle, np.broadcast_shapes(zero.shape, angle.shape)) != 0)):
        raise ConventionError("a rotation by a non-zero angle needs a non-zero axis")
    n = axis / np.where(zero, 1, norm)[..., None]
    c = np.cos(angle)[..., None, None]
    s = np.sin(angle)[..., None, None]
    return c * np.eye(3, dtype=dt) + (1 - c) * dyadic(n) + s * _skew(n)


def euler_rodrigues_to_matrix(q: ArrayLike) -> FloatArray:
    """Baldwin & Penczek's eq. 8 (active): ``R = (e₀² − e·e) I + 2 eeᵀ + 2e₀ [e]ₓ``.

    ``q = [e₀, e₁, e₂, e₃]`` (..., 4) a unit quaternion ``[cos(θ/2), sin(θ/2) n̂]`` → (..., 3, 3),
    the same matrix as ``axis_angle_to_matrix(n̂, θ)`` and ``quaternion.quat_to_matrix(q)``.
    """
    q = as_float_array(q, (4,), "q")
    e0 = q[..., 0][..., None, None]
    e = q[..., 1:]
    ee = np.sum(e * e, axis=-1)[..., None, None]
    return (e0 * e0 - ee) * np.eye(3, dtype=q.dtype) + 2 * dyadic(e) + 2 * e0 * _skew(e)


def rigid_transform(R: ArrayLike, t: ArrayLike) -> FloatArray:
    """The 4×4 matrix of eq. 16, ``[[R, t], [0ᵀ, 1]]``: ``x ↦ R x + t``.

    Shapes: ``R`` (..., 3, 3), ``t`` (..., 3), batch shapes broadcast → (..., 4, 4).
    """
    dt = result_dtype(R, t)
    R = as_float_array(R, (3, 3), "R", dt)
    t = as_float_array(t, (3,), "t", dt)
    batch = np.broadcast_shapes(R.shape[:-2], t.shape[:-1])
    M = np.zeros((*batch, 4, 4), dtype=dt)
    M[..., :3, :3] = R
    M[..., :3, 3] = t
    M[..., 3, 3] = 1
    return M


def split_transform(M: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``(R, t)`` of a 4×4 transform ``[[R, t], [0ᵀ, 1]]``. (..., 4, 4) → (..., 3, 3), (..., 3).

    Raises ``ConventionError`` when the last row is not ``[0, 0, 0, 1]`` (not of eq. 16's form).
    """
    M = as_float_array(M, (4, 4), "M")
    bottom = np.array([0, 0, 0, 1], dtype=M.dtype)
    if not np.allclose(M[..., 3, :], bottom, rtol=0, atol=1e-12 if M.dtype == np.float64 else 1e-6):
        raise ConventionError("a rigid transform's last row must be [0, 0, 0, 1] (eq. 16)")
    return M[..., :3, :3].copy(), M[..., :3, 3].copy()


def apply_transform(M: ArrayLike, points: ArrayLike) -> FloatArray:
    """``R x + t`` for each row ``x`` of ``points``: (..., 4, 4) × (..., N, 3) → (..., N, 3).

    The homogeneous product ``M (x, 1)ᵀ`` without forming the homogeneous coordinates.
    """
    dt = result_dtype(M, points)
    R, t = split_transform(as_float_array(M, (4, 4), "M", dt))
    pts = np.asarray(points, dtype=dt)
    if pts.ndim < 2 or pts.shape[-1] != 3:
        raise ConventionError(f"points must have shape (..., N, 3); got {pts.shape}")
    return pts @ np.swapaxes(R, -1, -2) + t[..., None, :]


def compose_rt(
    R2: ArrayLike, t2: ArrayLike, R1: ArrayLike, t1: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """The rotation and translation of ``M₂ M₁`` (``M₁`` first): ``(R₂R₁, R₂t₁ + t₂)``.

    Question 3 of the meeting: the product of two matrices of eq. 16's form has that form, and its
    translation is ``R₂t₁ + t₂`` — the first translation is rotated by the second rotation.
    Shapes: (..., 3, 3), (..., 3) twice, broadcast → (..., 3, 3), (..., 3).
    """
    dt = result_dtype(R2, t2, R1, t1)
    R2 = as_float_array(R2, (3, 3), "R2", dt)
    R1 = as_float_array(R1, (3, 3), "R1", dt)
    t2 = as_float_array(t2, (3,), "t2", dt)
    t1 = as_float_array(t1, (3,), "t1", dt)
    return R2 @ R1, np.einsum("...ij,...j->...i", R2, t1) + t2


def compose_transforms(M2: ArrayLike, M1: ArrayLike) -> FloatArray:
    """``M₂ M₁`` (apply ``M₁`` first) from ``compose_rt``. (..., 4, 4) × (..., 4, 4) → (..., 4, 4)."""
    dt = result_dtype(M2, M1)
    R2, t2 = split_transform(as_float_array(M2, (4, 4), "M2", dt))
    R1, t1 = split_transform(as_float_array(M1, (4, 4), "M1", dt))
    return rigid_transform(*compose_rt(R2, t2, R1, t1))


def invert_transform(M: ArrayLike) -> FloatArray:
    """``M⁻¹ = [[Rᵀ, −Rᵀt], [0ᵀ, 1]]`` for a rotation ``R``. (..., 4, 4) → (..., 4, 4).

    Exact for rigid transforms (``R⁻¹ = Rᵀ``); no general matrix inverse.
    """
    R, t = split_transform(M)
    Rt = np.swapaxes(R, -1, -2)
    return rigid_transform(Rt, -np.einsum("...ij,...j->...i", Rt, t))


def pre_post_transform(R: ArrayLike, t_pre: ArrayLike, t_post: ArrayLike) -> FloatArray:
    """EMAN2's ``T(t_post) R T(t_pre)``: translate by ``t_pre``, rotate, translate by ``t_post``.

    ``= [[R, R t_pre + t_post], [0ᵀ, 1]]`` (eq. 16–17). Shapes (..., 3, 3), (..., 3), (..., 3)
    → (..., 4, 4).
    """
    dt = result_dtype(R, t_pre, t_post)
    R = as_float_array(R, (3, 3), "R", dt)
    t_pre = as_float_array(t_pre, (3,), "t_pre", dt)
    t_post = as_float_array(t_post, (3,), "t_post", dt)
    return rigid_transform(R, np.einsum("...ij,...j->...i", R, t_pre) + t_post)


def convert_euler(angles: ArrayLike, source: str, target: str) -> FloatArray:
    """Euler angles of one convention → the same rotation's angles in another, through the matrix.

    ``angles`` (..., 3) radians; ``source`` and ``target`` are conventions of
    ``euler.euler_to_matrix`` (``"relion"``, ``"spider"``, ``"eman"`` or an axis sequence).
    ``euler_to_matrix(convert_euler(a, s, t), t) == euler_to_matrix(a, s)``; at gimbal lock the
    angles follow ``euler.matrix_to_euler``'s choice (last angle 0). Between SPIDER/RELION and EMAN
    this is ``az = φ + π/2``, ``alt = θ``, ``phi = ψ − π/2`` (up to 2π and the choices at gimbal lock).
    """
    return euler.matrix_to_euler(euler.euler_to_matrix(angles, source), target)
