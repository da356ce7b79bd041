"""Euler angles ↔ rotation matrices, including the cryo-EM conventions of RELION, SPIDER and EMAN.

Sequences
---------
A ``convention`` is three axis letters. **Upper case is intrinsic** (each rotation about the
already-rotated body axes), **lower case is extrinsic** (about the fixed axes), exactly as in
``scipy.spatial.transform.Rotation.from_euler``::

    euler_to_matrix([a, b, c], "ZYZ") == Rz(a) @ Ry(b) @ Rz(c)      # intrinsic
    euler_to_matrix([a, b, c], "zyz") == Rz(c) @ Ry(b) @ Rz(a)      # extrinsic

with ``Rz(a)`` the active right-handed rotation by ``a`` radians. Proper Euler sequences
(``ZYZ``, ``ZXZ``, …) return the middle angle in [0, π]; Tait–Bryan sequences (``XYZ``, ``ZYX``,
…) in [−π/2, π/2]; the outer angles are in (−π, π].

Cryo-EM conventions (P. R. Baldwin & P. A. Penczek 2007, "The Transform Class in SPARX and
EMAN2", J. Struct. Biol. 157(1), 250–261, §2.1 and Table 1)
---------------------------------------------------------------------------------------------
The packages write their matrices with *clockwise* elementary rotations, i.e. they describe the
rotation of the coordinate frame. The matrix returned here is always the active rotation ``R`` of
this project's projection convention (``P(x, y) = Σ_z V(Rᵀ [x, y, z]ᵀ)``), which is the
package's own matrix:

* ``"relion"`` — angles ``(rot, tilt, psi)``: ``R = (Rz(rot) Ry(tilt) Rz(psi))ᵀ``, RELION's
  matrix ``A`` that takes the reference (volume) frame to the particle (image) frame.
* ``"spider"`` — angles ``(phi, theta, psi)``: the same matrix as RELION (both are ZYZ):
  ``phi = rot``, ``theta = tilt``, ``psi = psi``.
* ``"eman"`` — angles ``(az, alt, phi)``, ZXZ: ``R = (Rz(az) Rx(alt) Rz(phi))ᵀ``. Since
  ``Ry(b) = Rz(π/2) Rx(b) Rz(−π/2)``, EMAN and SPIDER/RELION describe the same rotation when
  ``az = phi_spider + π/2``, ``alt = theta``, ``phi_eman = psi_spider − π/2``.

All angles are radians (RELION's STAR files store degrees: convert with ``np.deg2rad``).

Matrix → angles
---------------
The middle angle is taken with ``atan2`` of a sine and a cosine that are both read off the
matrix (accurate near 0 and π, unlike ``acos``/``asin``), the last angle from its row/column, and
the first angle as the residual rotation ``R Rₖ(c)ᵀ Rⱼ(b)ᵀ = Rᵢ(a)``. This is the algorithm of
G. G. Slabaugh, "Computing Euler angles from a rotation matrix" (Figure 1), generalised to every
axis order; as in Slabaugh's gimbal-lock branch, when the middle angle makes the first and last
axes coincide the last angle is set to 0, and computing the first as the residual makes the
answer's matrix round-trip to rounding error at (and near) gimbal lock.

How to read it: each direction is a public function followed by its formula on a block of
component rows, built for the axis sequence (``_euler_to_matrix_kernel``,
``_matrix_to_euler_kernel``), which ``blockwise.map_rows`` runs over the batch (as in
``reference_impl.quaternion``).
The three elementary rotations are multiplied entry by entry, skipping the products with their
constant 0 and 1 entries, with ``sin`` and ``cos`` from one vectorised ``tan``
(``blockwise.sincos``). In the inverse direction no trigonometric function but ``arctan2`` is
called: the residual first angle is read off ``R (J L)ᵀ``, with ``J L`` the product of the middle
and last elementary rotations built from the cosines and sines of ``b`` and ``c`` as they are read
off the matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.blockwise import Kernel, map_rows, sincos
from reference_impl.conventions import ConventionError, FloatArray, as_float_array

__all__ = ["elementary_rotation", "euler_to_matrix", "matrix_to_euler"]

_AXES = {"x": 0, "y": 1, "z": 2}
_NAMED = {"relion": "ZYZ", "spider": "ZYZ", "eman": "ZXZ"}


def elementary_rotation(axis: int, angle: ArrayLike) -> FloatArray:
    """Active right-handed rotation by ``angle`` (...) about coordinate ``axis`` (0, 1, 2 =
    x, y, z) → (..., 3, 3). The dtype follows ``angle`` (float64 for Python numbers)."""
    angle = np.asarray(angle)
    if angle.dtype.kind in "biu":
        angle = angle.astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    u, v = (axis + 1) % 3, (axis + 2) % 3
    out = np.zeros((*angle.shape, 3, 3), dtype=angle.dtype)
    out[..., axis, axis] = 1
    out[..., u, u] = c
    out[..., v, v] = c
    out[..., v, u] = s
    out[..., u, v] = -s
    return out


def euler_to_matrix(angles: ArrayLike, convention: str = "ZYZ") -> FloatArray:
    """Rotation matrices from Euler angles.

    Shapes: ``angles`` (..., 3) radians → (..., 3, 3). ``convention``: an intrinsic
    (``"ZYZ"``) or extrinsic (``"zyz"``) axis sequence, or ``"relion"``, ``"spider"``,
    ``"eman"`` (see the module docstring). Agrees with scipy's ``Rotation.from_euler``.
    """
    seq, transpose = _parse(convention)
    angles = as_float_array(angles, (3,), "angles")
    reverse = convention.islower() and convention.lower() not in _NAMED
    axes = (_AXES[seq[0].lower()], _AXES[seq[1].lower()], _AXES[seq[2].lower()])
    kernel = _euler_to_matrix_kernel(axes, reverse, transpose)
    return map_rows(kernel, [(angles, (3,))], (3, 3), angles.dtype)


def _euler_to_matrix_kernel(axes: tuple[int, int, int], reverse: bool, transpose: bool) -> Kernel:
    """``euler_to_matrix`` on a block, for the intrinsic sequence ``axes`` (0, 1, 2 = x, y, z):
    rows ``a, b, c`` → ``R₀₀, R₀₁, …, R₂₂`` of ``Rᵢ(a) Rⱼ(b) Rₖ(c)`` (angles taken in reverse
    order for an extrinsic sequence, the product transposed for a cryo-EM convention)."""

    def kernel(c: FloatArray, o: FloatArray) -> None:
        angles = c[::-1] if reverse else c
        factors = [
            _sym_elementary(ax, *sincos(t)[::-1]) for ax, t in zip(axes, angles, strict=True)
        ]
        M = _sym_matmul(_sym_matmul(factors[0], factors[1]), factors[2])
        for r in range(3):
            for col in range(3):
                o[3 * r + col] = M[col][r] if transpose else M[r][col]

    return kernel


def matrix_to_euler(R: ArrayLike, convention: str = "ZYZ") -> FloatArray:
    """Euler angles of rotation matrices, the inverse of ``euler_to_matrix``.

    Shapes: ``R`` (..., 3, 3) → (..., 3) radians. For a proper Euler sequence ``iji`` the middle
    angle is in [0, π]; for a Tait–Bryan sequence ``ijk`` in [−π/2, π/2]. At gimbal lock (middle
    angle 0 or π, resp. ±π/2) the angles are not unique: the last is set to 0 and the first
    chosen so that ``euler_to_matrix(matrix_to_euler(R)) == R`` to rounding error.
    """
    seq, transpose = _parse(convention)
    R = as_float_array(R, (3, 3), "R")
    reverse = convention.islower() and convention.lower() not in _NAMED
    axes = (_AXES[seq[0].lower()], _AXES[seq[1].lower()], _AXES[seq[2].lower()])
    eps = float(np.finfo(R.dtype).eps)
    kernel = _matrix_to_euler_kernel(axes, reverse, transpose, eps)
    return map_rows(kernel, [(R, (3, 3))], (3,), R.dtype)


def _matrix_to_euler_kernel(
    axes: tuple[int, int, int], reverse: bool, transpose: bool, eps: float
) -> Kernel:
    """``matrix_to_euler`` on a block, for the intrinsic sequence ``axes``: rows
    ``R₀₀, R₀₁, …, R₂₂`` → ``a, b, c`` (Slabaugh's algorithm; see the module docstring), with
    gimbal lock where the middle angle's cosine (Tait–Bryan) or sine (proper) is below ``16 eps``.
    """
    i, j, k = axes
    proper = i == k
    if proper:
        k = 3 - i - j
    s = float(_parity(i, j, k))
    u, v = (i + 1) % 3, (i + 2) % 3

    def kernel(c: FloatArray, o: FloatArray) -> None:
        def R(r: int, col: int) -> FloatArray:
            return c[3 * col + r] if transpose else c[3 * r + col]

        if proper:
            # R = Ri(a) Rj(b) Ri(c): R[i,i] = cos b, |(R[i,j], R[i,k])| = sin b ≥ 0
            sin_b = np.sqrt(R(i, j) * R(i, j) + R(i, k) * R(i, k))
            cos_b = R(i, i)
            yc, xc = R(i, j), s * R(i, k)
            rc = sin_b
        else:
            # R = Ri(a) Rj(b) Rk(c): R[i,k] = s sin b, |(R[i,i], R[i,j])| = cos b ≥ 0
            cos_b = np.sqrt(R(i, i) * R(i, i) + R(i, j) * R(i, j))
            sin_b = s * R(i, k)
            yc, xc = -s * R(i, j), R(i, i)
            rc = cos_b
        locked = rc < 16 * eps
        b = np.arctan2(sin_b, cos_b)
        cang = np.arctan2(yc, xc)
        cang = np.where(locked, 0.0, cang)
        rc_safe = np.where(locked, 1.0, rc)
        cos_c = np.where(locked, 1.0, xc / rc_safe)
        sin_c = np.where(locked, 0.0, yc / rc_safe)
        rb = np.sqrt(sin_b * sin_b + cos_b * cos_b)
        J = _sym_elementary(j, cos_b / rb, sin_b / rb)
        L = _sym_elementary(i if proper else k, cos_c, sin_c)
        # g = row u of J·L; the residual R (J L)ᵀ = Ri(a) has (v, u) entry sin a, (u, u) cos a
        g = _sym_matmul(J, L)[u]
        sin_a: Entry = 0.0
        cos_a: Entry = 0.0
        for col in range(3):
            sin_a = _add(sin_a, _mul(R(v, col), g[col]))
            cos_a = _add(cos_a, _mul(R(u, col), g[col]))
        a = np.arctan2(np.asarray(sin_a, dtype=c.dtype), np.asarray(cos_a, dtype=c.dtype))
        o[0], o[1], o[2] = (cang, b, a) if reverse else (a, b, cang)

    return kernel


# --- helpers --------------------------------------------------------------------------------------


def _parse(convention: str) -> tuple[str, bool]:
    """Return (upper-case sequence, transpose?) for a convention name; validate it."""
    if not isinstance(convention, str):
        raise ConventionError(f"convention must be a string, got {convention!r}")
    named = _NAMED.get(convention.lower())
    if named is not None:
        return named, True
    if len(convention) != 3 or not (convention.isupper() or convention.islower()):
        raise ConventionError(
            f"unknown Euler convention {convention!r}: use three axis letters, upper case for "
            "intrinsic ('ZYZ'), lower case for extrinsic ('zyz'), or one of "
            f"{sorted(_NAMED)}"
        )
    if any(c not in _AXES for c in convention.lower()):
        raise ConventionError(f"axes must be x, y or z; got {convention!r}")
    seq = convention.lower()
    if seq[0] == seq[1] or seq[1] == seq[2]:
        raise ConventionError(f"consecutive axes must differ; got {convention!r}")
    if convention.islower():  # extrinsic abc == intrinsic CBA with the angles reversed
        return seq[::-1].upper(), False
    return convention, False


def _parity(i: int, j: int, k: int) -> int:
    """+1 when (i, j, k) is a cyclic order of (0, 1, 2) (right-handed), −1 otherwise."""
    return 1 if (j - i) % 3 == 1 else -1


# A 3×3 matrix whose entries are rows of a block (arrays) or the constants 0.0 and 1.0, so that
# products of elementary rotations cost only the multiplications that are not by 0 or 1.
Entry = FloatArray | float
SymMatrix = list[list[Entry]]


def _mul(x: Entry, y: Entry) -> Entry:
    if isinstance(x, float):
        return 0.0 if x == 0.0 else (y if x == 1.0 else x * y)
    if isinstance(y, float):
        return 0.0 if y == 0.0 else (x if y == 1.0 else x * y)
    return x * y


def _add(x: Entry, y: Entry) -> Entry:
    if isinstance(x, float) and x == 0.0:
        return y
    if isinstance(y, float) and y == 0.0:
        return x
    return x + y


def _sym_elementary(axis: int, cos: Entry, sin: Entry) -> SymMatrix:
    """``elementary_rotation(axis, ·)`` with the given cosine and sine."""
    m: SymMatrix = [[0.0] * 3 for _ in range(3)]
    u, v = (axis + 1) % 3, (axis + 2) % 3
    m[axis][axis] = 1.0
    m[u][u] = m[v][v] = cos
    m[v][u] = sin
    m[u][v] = -sin
    return m


def _sym_matmul(A: SymMatrix, B: SymMatrix) -> SymMatrix:
    out: SymMatrix = [[0.0] * 3 for _ in range(3)]
    for r in range(3):
        for c in range(3):
            acc: Entry = 0.0
            for k in range(3):
                acc = _add(acc, _mul(A[r][k], B[k][c]))
            out[r][c] = acc
    return out
