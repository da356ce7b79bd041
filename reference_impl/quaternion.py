"""Unit quaternions as rotations: scalar-first ``[w, x, y, z]``, Hamilton product, active.

Every function takes any leading batch shape and float32/float64 arrays and returns the input's
dtype (see ``reference_impl.conventions``). A unit quaternion ``q = [cos(θ/2), sin(θ/2) n]``
rotates vectors by the angle θ (radians, right-hand rule) about the unit axis ``n``; ``q`` and
``−q`` are the same rotation (SU(2) double-covers SO(3)).

How to read it: each batched function states its identity in its docstring and is followed by
its formula on a block of component rows, ``<function>_rows(c, o)`` (``c``: the inputs'
components, one row each, e.g. ``w, x, y, z``; ``o``: the result's). The function itself only
checks its inputs and hands that formula to ``blockwise.map_rows``, which runs it over the batch
in cache-sized blocks (``reference_impl.blockwise`` says why that is fast). The largest batches
of ``quat_rotate`` and ``quat_to_matrix`` run the same formula as one compiled loop
(``reference_impl.compiled``). ``so3`` and ``averaging`` reuse the ``*_rows`` formulas.

References
----------
* W. R. Hamilton (1844); the product table ``i² = j² = k² = ijk = −1``.
* S. W. Shepperd (1978), "Quaternion from rotation matrix", J. Guidance and Control 1(3), 223–224:
  pick the largest of ``4w², 4x², 4y², 4z²`` to avoid cancellation (``matrix_to_quat``).
* K. Shoemake (1985), "Animating rotation with quaternion curves", SIGGRAPH: slerp; and (1992)
  "Uniform random rotations", Graphics Gems III: Haar-uniform sampling (``random_quat``).
* R. Hartley, J. Trumpf, Y. Dai, H. Li (2013), "Rotation averaging", IJCV 103, §3.3 (quaternions).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reference_impl import compiled
from reference_impl.blockwise import map_rows, sincos
from reference_impl.conventions import ConventionError, FloatArray, as_float_array, result_dtype

# The array functions. The formulas on rows (``<function>_rows``) are public names too (``so3`` and
# ``averaging`` import them) but are not listed: in the rotation modules ``__all__`` is the
# learner-facing API (problem set 2's stubs are tested against ``so3.__all__``).
__all__ = [
    "axis_angle_to_quat",
    "matrix_to_quat",
    "quat_canonical",
    "quat_conjugate",
    "quat_inverse",
    "quat_multiply",
    "quat_normalize",
    "quat_rotate",
    "quat_slerp",
    "quat_to_axis_angle",
    "quat_to_matrix",
    "quat_to_rotvec",
    "random_quat",
    "rotvec_to_quat",
]

# The ``*_rows`` formulas accumulate into their output rows in place (``o[0] -= px * qx``): the
# same operations in the same order as the formula in one expression, without a temporary and a
# copy for each result.


def quat_multiply(p: ArrayLike, q: ArrayLike) -> FloatArray:
    """Hamilton product ``p ⊗ q``.

    Shapes: ``p`` (..., 4), ``q`` (..., 4), broadcast → (..., 4). As rotations, ``p ⊗ q`` applies
    ``q`` first, then ``p``: ``quat_to_matrix(p ⊗ q) == quat_to_matrix(p) @ quat_to_matrix(q)``.

    Identity: ``(p₀, p⃗)(q₀, q⃗) = (p₀q₀ − p⃗·q⃗, p₀q⃗ + q₀p⃗ + p⃗ × q⃗)``.
    """
    dt = result_dtype(p, q)
    p = as_float_array(p, (4,), "p", dt)
    q = as_float_array(q, (4,), "q", dt)
    return map_rows(quat_multiply_rows, [(p, (4,)), (q, (4,))], (4,), dt)


def quat_multiply_rows(c: FloatArray, o: FloatArray) -> None:
    """``quat_multiply`` on a block: rows ``pw, px, py, pz, qw, qx, qy, qz`` → ``w, x, y, z``."""
    pw, px, py, pz, qw, qx, qy, qz = c
    w, x, y, z = o
    np.multiply(pw, qw, out=w)  # w = pw qw − px qx − py qy − pz qz
    w -= px * qx
    w -= py * qy
    w -= pz * qz
    np.multiply(pw, qx, out=x)  # x = pw qx + px qw + py qz − pz qy
    x += px * qw
    x += py * qz
    x -= pz * qy
    np.multiply(pw, qy, out=y)  # y = pw qy − px qz + py qw + pz qx
    y -= px * qz
    y += py * qw
    y += pz * qx
    np.multiply(pw, qz, out=z)  # z = pw qz + px qy − py qx + pz qw
    z += px * qy
    z -= py * qx
    z += pz * qw


def quat_conjugate(q: ArrayLike) -> FloatArray:
    """Conjugate ``q* = [w, −x, −y, −z]``. Shape (..., 4) → (..., 4)."""
    q = as_float_array(q, (4,), "q")
    return q * np.array([1, -1, -1, -1], dtype=q.dtype)


def quat_inverse(q: ArrayLike) -> FloatArray:
    """Inverse ``q⁻¹ = q* / |q|²`` (equal to the conjugate for unit ``q``). (..., 4) → (..., 4).

    Raises ``ConventionError`` for a zero quaternion, which has no inverse.
    """
    q = as_float_array(q, (4,), "q")
    n2 = np.sum(q * q, axis=-1, keepdims=True)
    if np.any(n2 == 0):
        raise ConventionError("the zero quaternion has no inverse")
    return quat_conjugate(q) / n2


def quat_normalize(q: ArrayLike) -> FloatArray:
    """``q / |q|``. Shape (..., 4) → (..., 4). Raises ``ConventionError`` on a zero quaternion."""
    q = as_float_array(q, (4,), "q")
    n = np.sqrt(np.sum(q * q, axis=-1, keepdims=True))
    if np.any(n == 0):
        raise ConventionError("cannot normalise the zero quaternion")
    return q / n


def quat_canonical(q: ArrayLike) -> FloatArray:
    """The representative of ``±q`` with ``w ≥ 0``. Shape (..., 4) → (..., 4).

    Unique: when ``w = 0`` (a rotation by exactly π) the sign makes the first non-zero of
    ``x, y, z`` positive, so ``quat_canonical(q) == quat_canonical(−q)`` always.
    """
    q = as_float_array(q, (4,), "q")
    return np.where(_flip_mask(q)[..., None], -q, q)


def quat_rotate(q: ArrayLike, v: ArrayLike) -> FloatArray:
    """Rotate the points ``v`` by ``q``: the vector part of ``q ⊗ (0, v) ⊗ q⁻¹``.

    Shapes: ``q`` (..., 4), ``v`` (..., 3), broadcast → (..., 3). ``q`` need not be unit: the
    map ``v ↦ q v q⁻¹`` does not depend on ``|q|``.

    Identity (expanding the two Hamilton products, with ``q = (w, u)``, ``s = 2/|q|²``)::

        t = s (u × v);   q v q⁻¹ = v + w t + u × t

    which costs 18 multiplications against 27 for forming the matrix and 9 for applying it — the
    cheaper choice when each point has its own rotation; when one rotation acts on many points,
    ``quat_to_matrix`` once and a matrix product is cheaper (syllabus 4 Feb 2022, question 5).
    Batches of ``compiled.MIN_ROWS`` or more pairs of the same batch shape (nothing broadcast)
    run the same formula as one compiled loop.
    """
    dt = result_dtype(q, v)
    q = as_float_array(q, (4,), "q", dt)
    v = as_float_array(v, (3,), "v", dt)
    if q.shape[:-1] == v.shape[:-1] and compiled.takes(v.size // 3):
        return compiled.quat_rotate(q, v)
    return map_rows(quat_rotate_rows, [(q, (4,)), (v, (3,))], (3,), dt)


def quat_rotate_rows(c: FloatArray, o: FloatArray) -> None:
    """``quat_rotate`` on a block: rows ``w, x, y, z, vx, vy, vz`` → the rotated ``x, y, z``."""
    w, x, y, z, vx, vy, vz = c
    s = w * w
    s += x * x
    s += y * y
    s += z * z
    np.divide(2.0, s, out=s)  # s = 2/|q|²
    tx = y * vz  # t = s (u × v)
    tx -= z * vy
    tx *= s
    ty = z * vx
    ty -= x * vz
    ty *= s
    tz = x * vy
    tz -= y * vx
    tz *= s
    ox, oy, oz = o  # v + w t + u × t
    np.multiply(w, tx, out=ox)
    ox += vx
    ox += y * tz
    ox -= z * ty
    np.multiply(w, ty, out=oy)
    oy += vy
    oy += z * tx
    oy -= x * tz
    np.multiply(w, tz, out=oz)
    oz += vz
    oz += x * ty
    oz -= y * tx


def quat_to_matrix(q: ArrayLike) -> FloatArray:
    """The rotation matrix of ``q``: ``R @ v == quat_rotate(q, v)``. (..., 4) → (..., 3, 3).

    ``q`` need not be unit (``s = 2/|q|²`` normalises). Identity::

        R = I + 2w [u]ₓ + 2 [u]ₓ²   (unit q = (w, u))

    written out entry by entry, e.g. ``R₀₀ = 1 − s(y² + z²)``, ``R₀₁ = s(xy − wz)``.
    Raises ``ConventionError`` for a zero quaternion. Batches of ``compiled.MIN_ROWS`` or more
    quaternions run the same formula as one compiled loop (``reference_impl.compiled``).
    """
    q = as_float_array(q, (4,), "q")
    if compiled.takes(q.size // 4):
        return compiled.quat_to_matrix(q)
    return map_rows(quat_to_matrix_rows, [(q, (4,))], (3, 3), q.dtype)


def quat_to_matrix_rows(c: FloatArray, o: FloatArray) -> None:
    """``quat_to_matrix`` on a block: rows ``w, x, y, z`` → ``R₀₀, R₀₁, R₀₂, R₁₀, …, R₂₂``."""
    w, x, y, z = c
    n2 = w * w + x * x + y * y + z * z
    if not np.all(n2):
        raise ConventionError("the zero quaternion is not a rotation")
    s = np.divide(2.0, n2, out=n2)
    xs, ys, zs = x * s, y * s, z * s
    wx, wy, wz = w * xs, w * ys, w * zs
    xx, xy, xz = x * xs, x * ys, x * zs
    yy, yz, zz = y * ys, y * zs, z * zs
    np.subtract(1.0, yy + zz, out=o[0])
    np.subtract(xy, wz, out=o[1])
    np.add(xz, wy, out=o[2])
    np.add(xy, wz, out=o[3])
    np.subtract(1.0, xx + zz, out=o[4])
    np.subtract(yz, wx, out=o[5])
    np.subtract(xz, wy, out=o[6])
    np.add(yz, wx, out=o[7])
    np.subtract(1.0, xx + yy, out=o[8])


def matrix_to_quat(R: ArrayLike) -> FloatArray:
    """The unit quaternion of a rotation matrix, with ``w ≥ 0``. (..., 3, 3) → (..., 4).

    Shepperd's method: the four quantities ``4w² = 1 + tr R``, ``4x² = 1 + R₀₀ − R₁₁ − R₂₂``,
    ``4y²``, ``4z²`` are computed, and the quaternion is read off the row of the symmetric
    4×4 matrix ``4 q qᵀ`` with the largest diagonal entry, so nothing is divided by a small number.
    ``R`` is assumed to be a rotation (see ``conventions.check_rotation_matrix``); for a slightly
    non-orthogonal ``R`` the result is normalised. The sign is that of ``quat_canonical`` (also
    unique at θ = π).
    """
    R = as_float_array(R, (3, 3), "R")
    return map_rows(matrix_to_quat_rows, [(R, (3, 3))], (4,), R.dtype)


def matrix_to_quat_rows(c: FloatArray, o: FloatArray) -> None:
    """``matrix_to_quat`` on a block: rows ``R₀₀, R₀₁, …, R₂₂`` → the canonical unit ``w, x, y, z``
    (Shepperd)."""
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = c
    p, m = 1.0 + r00, 1.0 - r00
    s, d = r11 + r22, r11 - r22
    d0, d1, d2, d3 = p + s, p - s, m + d, m - d  # 4w², 4x², 4y², 4z²
    a, b, cc = r21 - r12, r02 - r20, r10 - r01  # 4w·(x, y, z)
    e, f, g = r01 + r10, r02 + r20, r12 + r21  # 4x·y, 4x·z, 4y·z
    # the row of 4 q qᵀ with the largest diagonal entry (the first of equal ones, as argmax)
    k1 = d1 > d0
    best = np.maximum(d0, d1)
    k2 = d2 > best
    k3 = d3 > np.maximum(best, d2, out=best)
    rows = ((d0, a, b, cc), (a, d1, e, f), (b, e, d2, g), (cc, f, g, d3))
    for comp in range(4):  # a later (larger) branch takes precedence
        o[comp] = np.where(
            k3,
            rows[3][comp],
            np.where(k2, rows[2][comp], np.where(k1, rows[1][comp], rows[0][comp])),
        )
    w, x, y, z = o
    scale = 1.0 / np.sqrt(w * w + x * x + y * y + z * z)
    o *= np.where(_flip_rows(w, x, y, z), -scale, scale)


def axis_angle_to_quat(axis: ArrayLike, angle: ArrayLike) -> FloatArray:
    """``[cos(θ/2), sin(θ/2) n]`` for the rotation by ``angle`` θ (radians) about ``axis`` n.

    Shapes: ``axis`` (..., 3), need not be unit; ``angle`` (...) broadcast with it → (..., 4).
    A zero axis is accepted only with a zero angle (the identity). A Python number ``angle``
    takes the dtype of ``axis``.
    """
    dt = result_dtype(axis) if _is_python_number(angle) else result_dtype(axis, angle)
    axis = as_float_array(axis, (3,), "axis", dt)
    angle = np.asarray(angle, dtype=dt)
    norm = np.sqrt(np.sum(axis * axis, axis=-1))
    zero = norm == 0
    shape = np.broadcast_shapes(zero.shape, angle.shape)
    if np.any(zero & (np.broadcast_to(angle, shape) != 0)):
        raise ConventionError("a rotation by a non-zero angle needs a non-zero axis")
    n = axis / np.where(zero, 1, norm)[..., None]
    half = angle / 2
    out = np.empty((*shape, 4), dtype=dt)
    out[..., 0] = np.cos(half)
    out[..., 1:] = np.sin(half)[..., None] * n
    return out


def quat_to_axis_angle(q: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The axis (..., 3) and angle (...) in [0, π] of ``q`` (..., 4), which need not be unit.

    ``θ = 2·atan2(|u|, |w|)`` (accurate at every angle, unlike ``2·acos(w)`` near 0) and
    ``n = ±u / |u|`` with the sign of ``quat_canonical``, so the answer is the same for ``q`` and
    ``−q`` (at θ = π too) and the angle is in [0, π]. For the identity (``u = 0``) the axis is
    ``[1, 0, 0]`` by convention.
    """
    q = as_float_array(q, (4,), "q")
    w = q[..., 0]
    u = q[..., 1:]
    s = np.sqrt(np.sum(u * u, axis=-1))
    angle = 2 * np.arctan2(s, np.abs(w))
    sign = np.where(_flip_mask(q), -1, 1).astype(q.dtype)
    safe = np.where(s == 0, 1, s)
    axis = np.where((s == 0)[..., None], np.array([1, 0, 0], q.dtype), u * (sign / safe)[..., None])
    return axis, angle


def rotvec_to_quat(v: ArrayLike) -> FloatArray:
    """Unit quaternion of the rotation vector ``v`` = angle × axis. (..., 3) → (..., 4).

    ``[cos(θ/2), sin(θ/2)/θ · v]``, with ``sin(θ/2)/θ`` replaced by its limit ½ at θ ≤ 1e-300, so
    it is exact as θ → 0. This is the exponential map of SO(3) written in quaternions
    (Hartley et al. 2013, §3.3).
    """
    v = as_float_array(v, (3,), "v")
    return map_rows(rotvec_to_quat_rows, [(v, (3,))], (4,), v.dtype)


def rotvec_to_quat_rows(c: FloatArray, o: FloatArray) -> None:
    """``rotvec_to_quat`` on a block: rows ``x, y, z`` → ``w, x, y, z``."""
    x, y, z = c
    theta = np.sqrt(x * x + y * y + z * z)
    sin_half, o[0] = sincos(0.5 * theta)
    # sin(θ/2)/θ, whose limit 1/2 is exact for θ ≤ 1e-300 (and θ/2 would lose bits below that;
    # float32: 1e-30)
    tiny = 1e-300 if theta.dtype == np.float64 else 1e-30
    f = np.where(theta > tiny, sin_half / np.maximum(theta, tiny), 0.5)
    np.multiply(f, c, out=o[1:])


def quat_to_rotvec(q: ArrayLike) -> FloatArray:
    """Rotation vector (angle × axis, angle in [0, π]) of a unit quaternion. (..., 4) → (..., 3).

    ``2·atan2(|u|, |w|) · sign(w) u/|u|``: accurate at every angle, including θ → 0 (the factor
    tends to 2/|w|) and θ = π (``w = 0``), where ``2·acos(w)`` based formulas lose digits. ``q`` and
    ``−q`` give the same vector; at exactly θ = π it is the one of ``±π n`` that
    ``quat_canonical`` picks.
    """
    q = as_float_array(q, (4,), "q")
    return map_rows(quat_to_rotvec_rows, [(q, (4,))], (3,), q.dtype)


def quat_to_rotvec_rows(c: FloatArray, o: FloatArray) -> None:
    """``quat_to_rotvec`` on a block: rows ``w, x, y, z`` → ``x, y, z``."""
    w, x, y, z = c
    flip = _flip_rows(w, x, y, z)
    aw = np.abs(w)
    s = np.sqrt(x * x + y * y + z * z)
    # 2·atan2(|u|, |w|)/|u|, and its limit 2/|w| where |u|² underflows to 0 (|u| < 1e-154)
    pos = s > 0
    limit = 2.0 / np.maximum(aw, np.finfo(aw.dtype).tiny)
    f = np.where(pos, 2.0 * np.arctan2(s, aw) / np.where(pos, s, 1.0), limit)
    f = np.where(flip, -f, f)
    np.multiply(f, c[1:], out=o)


def random_quat(
    n: int | tuple[int, ...] | None = None,
    rng: np.random.Generator | int | None = None,
    dtype: type = np.float64,
) -> FloatArray:
    """Haar-uniform random rotations as unit quaternions with ``w ≥ 0``.

    Shape: ``n`` → (n, 4); a tuple → (*n, 4); ``None`` → (4,). ``rng`` is a NumPy
    ``Generator`` or a seed. A 4-vector of i.i.d. standard normals, normalised, is uniform on S³,
    and the uniform measure on S³ pushes forward to the Haar measure on SO(3) (Shoemake 1992).
    The mean rotation angle of Haar-random rotations is π/2 + 2/π.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    shape = () if n is None else ((n,) if isinstance(n, int | np.integer) else tuple(n))
    g = gen.standard_normal((*shape, 4))
    norm = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
    while np.any(norm < 1e-12):  # probability ~0, but never divide by zero
        redo = (norm < 1e-12)[..., 0]
        g[redo] = gen.standard_normal((int(redo.sum()), 4))
        norm = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
    q = g / norm
    return np.where(_flip_mask(q)[..., None], -q, q).astype(dtype, copy=False)


def quat_slerp(p: ArrayLike, q: ArrayLike, t: ArrayLike) -> FloatArray:
    """Spherical linear interpolation from ``p`` (t = 0) to ``q`` (t = 1) along the shorter arc.

    Shapes: ``p``, ``q`` (..., 4) unit quaternions, ``t`` (...) — all broadcast → (..., 4); a
    Python number ``t`` takes the dtype of ``p`` and ``q``.
    Identity: ``slerp(p, q, t) = p ⊗ (p* ⊗ q)^t``, with ``(p* ⊗ q)`` sign-flipped to ``w ≥ 0``
    (the shorter of the two arcs between the rotations; either one at exactly π apart) and the
    power taken as ``[cos(tΩ), sin(tΩ) n]`` with ``Ω = atan2(|u|, w)`` half the relative angle and
    ``n = u/|u|`` (nothing to rotate about when ``u = 0``), so ``t = 0`` gives ``p`` exactly.
    The rotation angle varies linearly in ``t`` (Shoemake 1985).
    """
    dt = result_dtype(p, q) if _is_python_number(t) else result_dtype(p, q, t)
    p = as_float_array(p, (4,), "p", dt)
    q = as_float_array(q, (4,), "q", dt)
    t = np.asarray(t, dtype=dt)
    return map_rows(quat_slerp_rows, [(p, (4,)), (q, (4,)), (t, ())], (4,), dt)


def quat_slerp_rows(c: FloatArray, o: FloatArray) -> None:
    """``quat_slerp`` on a block: rows ``pw, px, py, pz, qw, qx, qy, qz, t`` → ``w, x, y, z``."""
    pw, px, py, pz, qw, qx, qy, qz, t = c
    # d = p* ⊗ q, the rotation from p to q
    dw = pw * qw + px * qx + py * qy + pz * qz
    dx = pw * qx - px * qw - py * qz + pz * qy
    dy = pw * qy - py * qw - pz * qx + px * qz
    dz = pw * qz - pz * qw - px * qy + py * qx
    sv = np.sqrt(dx * dx + dy * dy + dz * dz)
    omega = np.arctan2(sv, np.abs(dw))  # half the angle from p to q, in [0, π/2]
    # power (p* ⊗ q)^t of the representative with w ≥ 0 (the shorter arc): [cos tΩ, sin tΩ n̂]
    sin_tw, ew = sincos(t * omega)
    pos = sv > 0
    scale = np.where(pos, sin_tw / np.where(pos, sv, 1.0), 0.0)
    scale = np.where(dw < 0, -scale, scale)
    ex, ey, ez = scale * dx, scale * dy, scale * dz
    # p ⊗ e
    o[0] = pw * ew - px * ex - py * ey - pz * ez
    o[1] = pw * ex + px * ew + py * ez - pz * ey
    o[2] = pw * ey - px * ez + py * ew + pz * ex
    o[3] = pw * ez + px * ey - py * ex + pz * ew


# --- helpers --------------------------------------------------------------------------------------


def _flip_rows(w: FloatArray, x: FloatArray, y: FloatArray, z: FloatArray) -> NDArray[np.bool_]:
    """Where ``−q`` rather than ``q`` is the canonical representative of ``±q``: ``w < 0``, or
    ``w = 0`` (a rotation by exactly π) and the first non-zero of ``x, y, z`` is negative."""
    flip = w < 0
    zero = w == 0
    if np.any(zero):
        lead = np.where(x != 0, x, np.where(y != 0, y, z))
        flip |= zero & (lead < 0)
    return flip


def _flip_mask(q: FloatArray) -> NDArray[np.bool_]:
    """``_flip_rows`` for quaternions (..., 4) → (...)."""
    return _flip_rows(q[..., 0], q[..., 1], q[..., 2], q[..., 3])


def _is_python_number(x: object) -> bool:
    """A plain Python int/float/bool (not a NumPy scalar): it takes the arrays' dtype (NumPy's
    "weak scalar" rule), so ``quat_slerp(p32, q32, 0.5)`` stays float32."""
    return type(x) in (int, float, bool)
