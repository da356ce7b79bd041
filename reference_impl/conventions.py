"""The conventions every function of ``reference_impl`` follows, and the checks that enforce them.

Written out once for people in ``book/conventions.md``; this module is the executable half.

* Quaternions are scalar-first ``[w, x, y, z]`` and multiply with the Hamilton product
  (``i j = k``). ``q`` and ``-q`` encode the same rotation.
* Rotations are *active*: ``R @ v`` is the vector ``v`` after it has been rotated.
* A rotation matrix left-multiplies *column* vectors of ``xyz`` coordinates; a batch of points
  ``(..., N, 3)`` is rotated with ``points @ R.swapaxes(-1, -2)``.
* Angles are radians.
* A volume array is indexed ``[z, y, x]`` (see ``reference_impl.projection``).
* Every function accepts any leading batch shape, e.g. ``(..., 4)``, ``(..., 3)``,
  ``(..., 3, 3)``, and float32 or float64 arrays, and returns the input's floating dtype.
  Python scalars, lists and integer arrays are promoted to float64; other dtypes are refused.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ConventionError",
    "FloatArray",
    "as_float_array",
    "check_rotation_matrix",
    "result_dtype",
]

#: The arrays every function takes and returns: float32 or float64, any shape.
FloatArray = NDArray[np.floating]

_ALLOWED = (np.float32, np.float64)


class ConventionError(ValueError):
    """An input breaks the conventions above (wrong trailing shape, dtype or not a rotation)."""


def result_dtype(*arrays: ArrayLike) -> np.dtype:
    """The floating dtype a function returns for these inputs (float32 only if all are)."""
    dtypes = []
    for a in arrays:
        dt = np.asarray(a).dtype
        if dt.kind in "biu":
            dt = np.dtype(np.float64)
        elif dt.type not in _ALLOWED:
            raise ConventionError(
                f"arrays must be float32 or float64 (or integers, promoted to float64); got {dt}"
            )
        dtypes.append(dt)
    return np.result_type(*dtypes) if dtypes else np.dtype(np.float64)


def as_float_array(
    x: ArrayLike,
    trailing: tuple[int, ...],
    name: str,
    dtype: np.dtype | None = None,
) -> FloatArray:
    """Return ``x`` as a float32/float64 array whose last dimensions are ``trailing``.

    Parameters
    ----------
    x : array_like, shape (..., *trailing)
    trailing : the required trailing shape, e.g. ``(4,)`` for quaternions, ``(3, 3)`` for matrices.
    name : the argument's name, used in the error message.
    dtype : cast to this dtype (normally ``result_dtype`` of all the function's inputs).

    Raises
    ------
    ConventionError
        if the trailing shape is wrong or the dtype is not float32/float64 (integers promote).
    """
    arr = np.asarray(x)
    dt = result_dtype(arr) if dtype is None else np.dtype(dtype)
    if arr.ndim < len(trailing) or arr.shape[arr.ndim - len(trailing) :] != trailing:
        want = "(..., " + ", ".join(str(t) for t in trailing) + ")"
        hint = ""
        if trailing == (4,) and arr.shape[-1:] == (3,):
            hint = " (a 3-vector where a quaternion [w, x, y, z] is expected?)"
        elif trailing == (3, 3) and arr.shape[-1:] == (4,):
            hint = " (a quaternion where a rotation matrix is expected?)"
        raise ConventionError(f"{name} must have shape {want}; got {arr.shape}{hint}")
    return arr.astype(dt, copy=False)


def check_rotation_matrix(R: ArrayLike, atol: float | None = None) -> FloatArray:
    """Raise ``ConventionError`` unless every ``R`` (..., 3, 3) is a proper rotation.

    Checks ``R Rᵀ = I`` and ``det R = +1`` to ``atol`` (default 1e-5 for float32, 1e-9 for
    float64). A determinant of −1 is the mirrored hand, a classic sign error in cryo-EM code.
    Returns ``R`` as an array.
    """
    Rm = as_float_array(R, (3, 3), "R")
    if atol is None:
        atol = 1e-5 if Rm.dtype == np.float32 else 1e-9
    gram = np.einsum("...ij,...kj->...ik", Rm, Rm)
    ortho_err = np.abs(gram - np.eye(3, dtype=Rm.dtype)).max(axis=(-2, -1), initial=0.0)
    det = np.linalg.det(Rm) if Rm.size else np.ones(Rm.shape[:-2])
    if np.any(ortho_err > atol) or np.any(np.abs(det - 1) > atol) or not np.all(np.isfinite(Rm)):
        bad = np.flatnonzero((ortho_err > atol) | (np.abs(det - 1) > atol))
        mirrored = bool(np.any(det < 0))
        raise ConventionError(
            "not a rotation matrix (R Rᵀ = I and det R = +1 required)"
            + (" — det R = −1: a reflection, the mirrored hand" if mirrored else "")
            + (f"; first bad index {np.unravel_index(bad[0], Rm.shape[:-2])}" if bad.size else "")
        )
    return Rm
