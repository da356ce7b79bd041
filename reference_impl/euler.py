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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import ConventionError, FloatArray, as_float_array

__all__ = ["elementary_rotation", "euler_to_matrix", "matrix_to_euler"]

_AXES = {"x": 0, "y": 1, "z": 2}
_NAMED = {"relion": "ZYZ", "spider": "ZYZ", "eman": "ZXZ"}


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
    if convention.islower() and convention.lower() not in _NAMED:
        angles = angles[..., ::-1]
    i, j, k = (_AXES[c] for c in seq.lower())
    R = elementary_rotation(i, angles[..., 0])
    R = R @ elementary_rotation(j, angles[..., 1])
    R = R @ elementary_rotation(k, angles[..., 2])
    return np.swapaxes(R, -1, -2).copy() if transpose else R


def _parity(i: int, j: int, k: int) -> int:
    """+1 when (i, j, k) is a cyclic order of (0, 1, 2) (right-handed), −1 otherwise."""
    return 1 if (j - i) % 3 == 1 else -1


def matrix_to_euler(R: ArrayLike, convention: str = "ZYZ") -> FloatArray:
    """Euler angles of rotation matrices, the inverse of ``euler_to_matrix``.

    Shapes: ``R`` (..., 3, 3) → (..., 3) radians. For a proper Euler sequence ``iji`` the middle
    angle is in [0, π]; for a Tait–Bryan sequence ``ijk`` in [−π/2, π/2]. At gimbal lock (middle
    angle 0 or π, resp. ±π/2) the angles are not unique: the last is set to 0 and the first
    chosen so that ``euler_to_matrix(matrix_to_euler(R)) == R`` to rounding error.
    """
    seq, transpose = _parse(convention)
    R = as_float_array(R, (3, 3), "R")
    if transpose:
        R = np.swapaxes(R, -1, -2)
    i, j, k = (_AXES[c] for c in seq.lower())
    proper = i == k
    if proper:
        k = 3 - i - j
    s = _parity(i, j, k)
    eps = np.finfo(R.dtype).eps
    if proper:
        # R = Ri(a) Rj(b) Ri(c): R[i,i] = cos b, |(R[i,j], R[i,k])| = sin b ≥ 0
        sin_b = np.hypot(R[..., i, j], R[..., i, k])
        b = np.arctan2(sin_b, R[..., i, i])
        c = np.arctan2(R[..., i, j], s * R[..., i, k])
        locked = sin_b < 16 * eps
    else:
        # R = Ri(a) Rj(b) Rk(c): R[i,k] = s sin b, |(R[i,i], R[i,j])| = cos b ≥ 0
        cos_b = np.hypot(R[..., i, i], R[..., i, j])
        b = np.arctan2(s * R[..., i, k], cos_b)
        c = np.arctan2(-s * R[..., i, j], R[..., i, i])
        locked = cos_b < 16 * eps
    c = np.where(locked, 0, c).astype(R.dtype, copy=False)
    last = elementary_rotation(i if proper else k, c)
    # residual M = R · R_last(c)ᵀ · Rj(b)ᵀ = Ri(a); read a off its (v, u) and (u, u) entries
    M = R @ np.swapaxes(last, -1, -2) @ np.swapaxes(elementary_rotation(j, b), -1, -2)
    u, v = (i + 1) % 3, (i + 2) % 3
    a = np.arctan2(M[..., v, u], M[..., u, u])
    out = np.stack([a, b, c], axis=-1).astype(R.dtype, copy=False)
    if convention.islower() and convention.lower() not in _NAMED:
        out = out[..., ::-1].copy()
    return out
