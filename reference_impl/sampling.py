"""Sampling orientations: the quasi-uniform grid of SPARX/EMAN2 and other uniform schemes.

P. R. Baldwin & P. A. Penczek (2007), "The Transform Class in SPARX and EMAN2", J. Struct. Biol.
157(1), 250–261, §2.3 (eq. 27–29, Figure 1), after P. Penczek, R. Grassucci & J. Frank (1994),
Ultramicroscopy 53, 251–270:

* eq. 27: for a particle of radius ``R`` pixels, the angular step that moves its rim by one
  pixel is ``δ = arctan(1/R)`` (``angular_step_for_radius``);
* eq. 28–29, Figure 1: projection directions on rings of constant polar angle ``θᵢ``, spaced by
  ``δ`` in θ; on ring ``i`` the azimuth ``φ`` steps by ``δ / sin θᵢ``, so that neighbouring
  directions are about ``δ`` apart on the sphere (a ring's circumference is ``2π sin θᵢ``) and
  the number of directions per unit area is constant (``projection_directions``);
* an orientation is a direction and an in-plane angle ``ψ``, stepped by ``δ``
  (``orientation_grid_euler`` and its matrix and quaternion forms, for exhaustive searches).

Other uniform schemes (the meeting's question 8):

* K. Shoemake (1992), "Uniform random rotations", Graphics Gems III, 124–132: i.i.d. Haar-random
  unit quaternions from three uniform numbers (``shoemake_quat``);
* M. Alexa (2022), "Super-Fibonacci spirals: fast, low-discrepancy sampling of SO(3)", CVPR,
  Algorithm 1: a deterministic spiral on S³ (``super_fibonacci_quat``);
* the Fibonacci (golden-angle) spiral on S² (e.g. E. B. Saff & A. B. J. Kuijlaars 1997, Math.
  Intelligencer 19, 5–11; R. Swinbank & R. J. Purser 2006) for directions (``fibonacci_sphere``).

Conventions: angles in radians; Euler angles are SPIDER's ``(φ, θ, ψ)`` and their matrix is
``euler.euler_to_matrix(angles, "spider")`` (the package's matrix, an active rotation here);
quaternions ``[w, x, y, z]`` with ``w ≥ 0``. ``reference_impl.uniformity`` measures how uniform a
set of orientations is (covering radius, separation, counts against the volume element).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from reference_impl import euler
from reference_impl.conventions import ConventionError, FloatArray
from reference_impl.quaternion import matrix_to_quat, quat_canonical

__all__ = [
    "angular_step_for_radius",
    "direction_vectors",
    "fibonacci_sphere",
    "orientation_grid_euler",
    "orientation_grid_matrix",
    "orientation_grid_quat",
    "projection_directions",
    "shoemake_quat",
    "super_fibonacci_quat",
]

#: Alexa's two irrational frequencies (√2 and the root ψ of ψ⁴ = ψ + 4, Algorithm 1).
_SF_PHI = math.sqrt(2.0)
_SF_PSI = 1.533751168755204288118041


def angular_step_for_radius(radius: ArrayLike) -> FloatArray:
    """Baldwin & Penczek eq. 27: ``δ = arctan(1/R)`` radians for a particle of radius ``R`` pixels.

    A rotation by δ about the centre moves a point on the rim (distance ``R``) to a point whose
    tangential offset is ``R tan δ = 1`` pixel. Shape (...) → (...); ``R > 0``.
    """
    r = np.asarray(radius, dtype=np.float64)
    if np.any(r <= 0):
        raise ConventionError("the particle radius must be positive")
    return np.arctan(1.0 / r)


def _check_step(step: float) -> float:
    step = float(step)
    if not (0 < step <= np.pi):
        raise ConventionError(f"the angular step must be in (0, π] radians; got {step}")
    return step


def projection_directions(step: float) -> FloatArray:
    """The quasi-uniform projection directions of eq. 28–29 over the whole sphere. → (M, 2).

    Rows are ``(φ, θ)`` (SPIDER's first two Euler angles, radians). The polar angle runs over
    ``θᵢ = i π / n_θ``, ``i = 0 … n_θ``, with ``n_θ = round(π / step)`` (a step within rounding of
    ``step`` that ends on the south pole); ring ``i`` holds ``nᵢ = max(1, round(2π sin θᵢ / step))``
    directions at ``φ = 2π j / nᵢ`` — an azimuthal step of about ``step / sin θᵢ`` (eq. 28–29).
    ``M ≈ 4π / step²``.
    """
    step = _check_step(step)
    n_theta = max(1, round(np.pi / step))
    rows = []
    for i in range(n_theta + 1):
        theta = np.pi * i / n_theta
        n_phi = max(1, round(2 * np.pi * np.sin(theta) / step))
        phi = 2 * np.pi * np.arange(n_phi) / n_phi
        rows.append(np.stack([phi, np.full(n_phi, theta)], axis=-1))
    return np.concatenate(rows)


def direction_vectors(directions: ArrayLike) -> FloatArray:
    """Unit vectors ``(sin θ cos φ, sin θ sin φ, cos θ)`` of ``(φ, θ)`` rows. (..., 2) → (..., 3).

    For SPIDER angles this is the third row of the matrix ``euler_to_matrix((φ, θ, ψ), "spider")``,
    the direction in the volume's frame that the projection integrates along.
    """
    d = np.asarray(directions, dtype=np.float64)
    phi, theta = d[..., 0], d[..., 1]
    s = np.sin(theta)
    return np.stack([s * np.cos(phi), s * np.sin(phi), np.cos(theta)], axis=-1)


def orientation_grid_euler(step: float) -> FloatArray:
    """Baldwin & Penczek's quasi-uniform grid of SO(3): each direction × in-plane angles. → (N, 3).

    Rows are SPIDER's ``(φ, θ, ψ)`` radians: the directions of ``projection_directions(step)``,
    each with ``ψ = 2π k / n_ψ``, ``n_ψ = max(1, round(2π / step))``. ``N ≈ 8π² / step³``; the
    covering radius (the farthest any rotation is from the grid, ``uniformity.covering_radius``)
    is about ``0.8 step``.
    """
    step = _check_step(step)
    dirs = projection_directions(step)
    n_psi = max(1, round(2 * np.pi / step))
    psi = 2 * np.pi * np.arange(n_psi) / n_psi
    out = np.empty((len(dirs), n_psi, 3))
    out[:, :, :2] = dirs[:, None, :]
    out[:, :, 2] = psi[None, :]
    return out.reshape(-1, 3)


def orientation_grid_matrix(step: float) -> FloatArray:
    """``orientation_grid_euler(step)`` as rotation matrices (N, 3, 3) (SPIDER's matrices)."""
    return euler.euler_to_matrix(orientation_grid_euler(step), "spider")


def orientation_grid_quat(step: float) -> FloatArray:
    """``orientation_grid_euler(step)`` as unit quaternions (N, 4), ``[w, x, y, z]``, ``w ≥ 0``."""
    return matrix_to_quat(orientation_grid_matrix(step))


def shoemake_quat(n: int, rng: np.random.Generator | int | None = None) -> FloatArray:
    """``n`` i.i.d. uniformly distributed rotations as unit quaternions (n, 4) (Shoemake 1992).

    With ``u₁, u₂, u₃`` uniform on [0, 1): ``r₁ = √(1 − u₁)``, ``r₂ = √u₁``, ``θ₁ = 2πu₂``,
    ``θ₂ = 2πu₃``, ``q = (r₂ cos θ₂, r₁ sin θ₁, r₁ cos θ₁, r₂ sin θ₂)``: the pairs ``(x, y)`` and
    ``(w, z)`` are uniform angles on circles whose squared radii ``1 − u₁`` and ``u₁`` are uniform —
    exactly the uniform measure on S³ (the Hopf / subgroup decomposition), hence Haar on SO(3).
    Returned with ``w ≥ 0`` (``quat_canonical``). ``rng`` is a NumPy ``Generator`` or a seed.
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    u1, u2, u3 = gen.random((3, int(n)))
    r1, r2 = np.sqrt(1.0 - u1), np.sqrt(u1)
    t1, t2 = 2 * np.pi * u2, 2 * np.pi * u3
    q = np.stack([r2 * np.cos(t2), r1 * np.sin(t1), r1 * np.cos(t1), r2 * np.sin(t2)], axis=-1)
    return quat_canonical(q)


def super_fibonacci_quat(n: int) -> FloatArray:
    """``n`` deterministic, low-dispersion rotations (n, 4): Alexa's super-Fibonacci spiral.

    Algorithm 1 of Alexa (2022): for ``s = i + ½``, ``r = √(s/n)``, ``R = √(1 − s/n)``,
    ``α = 2πs/√2``, ``β = 2πs/ψ`` (``ψ⁴ = ψ + 4``), the point ``(r sin α, r cos α, R sin β,
    R cos β)`` of S³ — ``r²`` uniform in steps of ``1/n`` (the volume of S³ is uniform in it, as in
    Shoemake's construction) and the two angles incommensurate. Read as ``[w, x, y, z]`` and
    returned with ``w ≥ 0``; its covering density (``uniformity.covering_density``) is about 3.
    """
    n = int(n)
    if n < 1:
        raise ConventionError("n must be a positive integer")
    s = np.arange(n) + 0.5
    r, big_r = np.sqrt(s / n), np.sqrt(1.0 - s / n)
    alpha, beta = 2 * np.pi * s / _SF_PHI, 2 * np.pi * s / _SF_PSI
    q = np.stack(
        [r * np.sin(alpha), r * np.cos(alpha), big_r * np.sin(beta), big_r * np.cos(beta)], axis=-1
    )
    return quat_canonical(q)


def fibonacci_sphere(n: int) -> FloatArray:
    """``n`` nearly uniform unit vectors (n, 3): the golden-angle (Fibonacci) spiral on S².

    ``zᵢ = 1 − (2i + 1)/n`` (equal-area bands: area on the sphere is uniform in z, Archimedes) and
    ``φᵢ = 2π i / Φ²`` with ``Φ`` the golden ratio (the golden angle, the most irrational turn).
    """
    n = int(n)
    if n < 1:
        raise ConventionError("n must be a positive integer")
    i = np.arange(n)
    z = 1.0 - (2 * i + 1) / n
    phi = 2 * np.pi * i * (2 - (1 + math.sqrt(5)) / 2)  # 2π i / Φ² = 2π i (2 − Φ)
    rho = np.sqrt(np.maximum(0.0, 1 - z * z))
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)
