"""The metric and the volume element (Haar measure) of SO(3) in the coordinates cryo-EM uses.

P. R. Baldwin & P. A. Penczek (2007), "The Transform Class in SPARX and EMAN2", J. Struct. Biol.
157(1), 250–261, §2.2.2 (the similarity between rotations; the metric, eq. 23) and §2.2.3 (the
volume element). Angles are radians.

Spin (axis–angle) coordinates: the rotation by ``Ω ∈ [0, π]`` about the unit axis ``n̂``, with
``n̂`` at polar angle ``θₙ`` and azimuth ``φₙ``. The geodesic distance of ``so3.geodesic_distance``
(the angle of ``R₁ᵀR₂``) has the line element::

    ds² = dΩ² + 4 sin²(Ω/2) (dn̂)²,      (dn̂)² = dθₙ² + sin²θₙ dφₙ²

(the unit quaternion ``(cos Ω/2, sin Ω/2 n̂)`` moves by ``½ dΩ`` along its great circle and by
``sin(Ω/2) dn̂`` across it, and the angle between two rotations is twice the angle between their
quaternions). Its volume element is ``√det g = 4 sin²(Ω/2) sin θₙ dΩ dθₙ dφₙ``, and in SPIDER's
Euler angles ``(φ, θ, ψ)`` it is ``sin θ dφ dθ dψ``; both integrate to ``8π²``. Normalised,
these are the Haar (uniform) probability densities; the rotation angle of a uniformly random
rotation has the density ``(1 − cos Ω)/π`` on [0, π], and the fraction of SO(3) within the
geodesic distance ``ρ`` of any rotation (a ball) is ``(ρ − sin ρ)/π``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import FloatArray, as_float_array, result_dtype

__all__ = [
    "SO3_VOLUME",
    "ball_volume_fraction",
    "euler_haar_density",
    "haar_angle_density",
    "sphere_line_element_sq",
    "spin_line_element",
    "spin_volume_element",
]

#: The volume of SO(3) in the coordinates above: ``∫ sin θ dφ dθ dψ = 8π²``.
SO3_VOLUME = 8 * np.pi**2


def _floats(*xs: ArrayLike) -> list[FloatArray]:
    dt = result_dtype(*xs)
    return [np.asarray(x, dtype=dt) for x in xs]


def spin_line_element(omega: ArrayLike, d_omega: ArrayLike, d_axis: ArrayLike) -> FloatArray:
    """``ds = √(dΩ² + 4 sin²(Ω/2) |dn̂|²)``: the geodesic length of a small step in spin coordinates.

    Shapes: ``omega``, ``d_omega`` (...), ``d_axis`` (..., 3) (a step of the unit axis, normal
    to it), broadcast → (...). Equals ``so3.geodesic_distance`` between the rotations
    ``(Ω, n̂)`` and ``(Ω + dΩ, n̂ + dn̂)`` to first order (Baldwin & Penczek eq. 23).
    """
    dt = result_dtype(omega, d_omega, d_axis)
    omega, d_omega = np.asarray(omega, dtype=dt), np.asarray(d_omega, dtype=dt)
    d_axis = as_float_array(d_axis, (3,), "d_axis", dt)
    dn2 = np.sum(d_axis * d_axis, axis=-1)
    half = np.sin(omega / 2)
    return np.sqrt(d_omega * d_omega + 4 * half * half * dn2)


def sphere_line_element_sq(theta: ArrayLike, d_theta: ArrayLike, d_phi: ArrayLike) -> FloatArray:
    """``(dn̂)² = dθ² + sin²θ dφ²`` for the unit vector at polar angle θ, azimuth φ. (...) → (...)."""
    theta, d_theta, d_phi = _floats(theta, d_theta, d_phi)
    s = np.sin(theta)
    return d_theta * d_theta + s * s * d_phi * d_phi


def spin_volume_element(omega: ArrayLike, theta_axis: ArrayLike) -> FloatArray:
    """``√det g = 4 sin²(Ω/2) sin θₙ`` (w.r.t. ``dΩ dθₙ dφₙ``; integrates to 8π²). (...) → (...)."""
    omega, theta_axis = _floats(omega, theta_axis)
    half = np.sin(omega / 2)
    return 4 * half * half * np.sin(theta_axis)


def haar_angle_density(omega: ArrayLike) -> FloatArray:
    """Probability density of the rotation angle of a uniform rotation: ``(1 − cos Ω)/π``.

    Shape (...) → (...); zero outside [0, π]. The spin volume element integrated over the axis
    (``4π``) and divided by ``8π²``; ``1 − cos Ω`` is evaluated as ``2 sin²(Ω/2)`` (no cancellation).
    """
    (omega,) = _floats(omega)
    half = np.sin(omega / 2)
    inside = (omega >= 0) & (omega <= np.pi)
    return np.where(inside, 2 * half * half / np.pi, 0.0).astype(omega.dtype, copy=False)


def ball_volume_fraction(rho: ArrayLike) -> FloatArray:
    """The fraction of SO(3) within geodesic distance ``ρ`` of a rotation: ``(ρ − sin ρ)/π``.

    Shape (...) → (...), clipped to [0, 1] (``ρ ≥ π`` is all of SO(3)). The integral of
    ``haar_angle_density`` (its cumulative distribution); for small ρ it is ``ρ³/(6π)``, the
    Euclidean ball of the rotation-vector picture — evaluated with its series below ρ = 1e-3,
    where ``ρ − sin ρ`` cancels.
    """
    (rho,) = _floats(rho)
    r = np.clip(rho, 0.0, np.pi)
    small = r < 1e-3
    series = r**3 / 6 * (1 - r * r / 20)
    exact = r - np.sin(r)
    return (np.where(small, series, exact) / np.pi).astype(rho.dtype, copy=False)


def euler_haar_density(angles: ArrayLike) -> FloatArray:
    """Haar probability density in SPIDER/RELION Euler angles ``(φ, θ, ψ)``: ``sin θ / (8π²)``.

    ``angles`` (..., 3) radians with θ ∈ [0, π] → (...). Uniform rotations are *not* uniform in
    the Euler angles: θ has the density ``sin θ / 2`` (uniform in ``cos θ``), φ and ψ are uniform.
    """
    angles = as_float_array(angles, (3,), "angles")
    theta = angles[..., 1]
    inside = (theta >= 0) & (theta <= np.pi)
    return np.where(inside, np.sin(theta) / SO3_VOLUME, 0.0).astype(angles.dtype, copy=False)
