"""How uniformly a finite set covers SO(3) (or S²): measured, so that any construction can be judged.

A set ``G`` of ``N`` rotations is a good sampling when

* its **covering radius** (dispersion) ``ρ(G) = max_R min_g d∠(R, g)`` is small — every rotation
  is within ρ of the set. ``N`` balls of radius ρ cover SO(3), so the **covering density**
  ``N · V(ρ) ≥ 1`` with ``V(ρ) = (ρ − sin ρ)/π`` the fraction of SO(3) in a ball
  (``haar.ball_volume_fraction``); good grids reach 2–3, i.i.d. random points grow like ``log N``;
* its **separation** ``min_{g ≠ h} d∠(g, h)`` is not much smaller than ρ (no clumps, no duplicates);
* the **number of its points in any ball** of radius ``r`` is about ``N · V(r)``: counts
  against the volume element (``ball_count_ratios``; a grid that is uniform in Euler angles puts
  too many points near θ = 0 and π, where the volume element ``sin θ`` is small).

The covering radius is estimated as the largest distance from ``probes`` (Haar-random rotations)
to the set: a lower bound that tends to ρ as the probes get dense. Distances between rotations are
computed from unit quaternions, ``d∠ = 2 arccos |⟨p, q⟩|`` (accurate to ~1e-8 rad, plenty for
these measures; see ``so3.quat_geodesic_distance`` for the accurate form), in chunks so that
memory stays bounded. For S², the same with angles ``arccos ⟨u, v⟩`` and caps of area fraction
``(1 − cos r)/2``. Each function takes quaternions (N, 4) ``[w, x, y, z]`` (either sign) or unit
vectors (N, 3); nothing is normalised for the caller.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import ConventionError, FloatArray, as_float_array
from reference_impl.haar import ball_volume_fraction

__all__ = [
    "angle_ks_statistic",
    "ball_count_ratios",
    "cap_count_ratios",
    "close_pair_fraction",
    "covering_density",
    "covering_radius",
    "nearest_distances",
    "separation",
    "sphere_covering_radius",
    "sphere_nearest_distances",
    "sphere_separation",
]

_CHUNK = 1024


def _rows(x: ArrayLike, k: int, name: str) -> FloatArray:
    a = as_float_array(x, (k,), name).astype(np.float64, copy=False).reshape(-1, k)
    if a.shape[0] == 0:
        raise ConventionError(f"{name} is empty")
    return a


def _max_abs_dot(a: FloatArray, b: FloatArray, absolute: bool) -> FloatArray:
    """For each row of ``a``: the largest ``|⟨a, b⟩|`` (or ``⟨a, b⟩``) over the rows of ``b``."""
    out = np.empty(a.shape[0])
    for lo in range(0, a.shape[0], _CHUNK):
        dots = a[lo : lo + _CHUNK] @ b.T
        if absolute:
            np.abs(dots, out=dots)
        out[lo : lo + _CHUNK] = dots.max(axis=1)
    return out


def nearest_distances(grid: ArrayLike, probes: ArrayLike) -> FloatArray:
    """Geodesic distance from each probe rotation to the nearest rotation of ``grid``.

    Quaternions ``grid`` (N, 4), ``probes`` (P, 4) (unit, either sign) → (P,) radians in [0, π]:
    ``2 arccos max_g |⟨p, g⟩|``.
    """
    g, p = _rows(grid, 4, "grid"), _rows(probes, 4, "probes")
    return 2 * np.arccos(np.clip(_max_abs_dot(p, g, True), 0.0, 1.0))


def covering_radius(grid: ArrayLike, probes: ArrayLike) -> float:
    """Estimated covering radius of ``grid``: the largest of ``nearest_distances(grid, probes)``.

    A lower bound of ``max_R min_g d∠(R, g)``, tight when the probes are dense; with ``P``
    Haar-random probes the largest empty ball is missed with probability about
    ``exp(−P · V(ε))`` for a shortfall ε.
    """
    return float(nearest_distances(grid, probes).max())


def separation(grid: ArrayLike) -> float:
    """Smallest geodesic distance between two entries of ``grid`` (N ≥ 2, quaternions (N, 4)).

    ``q`` and ``−q`` count as the same rotation, so a duplicate (of either sign) gives 0.
    """
    g = _rows(grid, 4, "grid")
    if g.shape[0] < 2:
        raise ConventionError("separation needs at least two rotations")
    best = 0.0
    for lo in range(0, g.shape[0], _CHUNK):
        dots = np.abs(g[lo : lo + _CHUNK] @ g.T)
        idx = np.arange(lo, min(lo + _CHUNK, g.shape[0]))
        dots[idx - lo, idx] = -1.0  # not with itself
        best = max(best, float(dots.max()))
    return float(2 * np.arccos(min(best, 1.0)))


def covering_density(n: int, rho: ArrayLike) -> FloatArray:
    """``N · V(ρ)``: how many times ``N`` balls of radius ρ cover SO(3) on average (≥ 1 to cover)."""
    return n * ball_volume_fraction(rho)


def ball_count_ratios(grid: ArrayLike, centres: ArrayLike, radius: float) -> FloatArray:
    """For each centre: the number of rotations of ``grid`` within ``radius`` of it, divided by
    the ``N · V(radius)`` a uniform set would put there. Quaternions (N, 4), (C, 4) → (C,)."""
    g, c = _rows(grid, 4, "grid"), _rows(centres, 4, "centres")
    expected = g.shape[0] * float(ball_volume_fraction(radius))
    if expected <= 0:
        raise ConventionError("the radius must be positive")
    threshold = np.cos(radius / 2)
    counts = np.empty(c.shape[0])
    for lo in range(0, c.shape[0], _CHUNK):
        counts[lo : lo + _CHUNK] = (np.abs(c[lo : lo + _CHUNK] @ g.T) > threshold).sum(axis=1)
    return counts / expected


def angle_ks_statistic(quats: ArrayLike) -> float:
    """Kolmogorov–Smirnov distance between the rotation angles of ``quats`` (N, 4) and the Haar
    law of the angle, whose cumulative distribution is ``(Ω − sin Ω)/π``.

    For ``N`` i.i.d. uniform rotations ``√N · D`` follows Kolmogorov's law
    (``P(√N D > 1.95) ≈ 0.001``, ``> 2.6`` about 3e-6).
    """
    q = _rows(quats, 4, "quats")
    omega = np.sort(2 * np.arctan2(np.linalg.norm(q[:, 1:], axis=1), np.abs(q[:, 0])))
    cdf = ball_volume_fraction(omega)
    n = omega.size
    upper = np.arange(1, n + 1) / n - cdf
    lower = cdf - np.arange(n) / n
    return float(max(upper.max(), lower.max()))


def close_pair_fraction(quats: ArrayLike, radius: float) -> float:
    """The fraction of the rotations in ``quats`` (N, 4) whose nearest other one is within
    ``radius``. For ``N`` i.i.d. uniform rotations its expectation is
    ``1 − (1 − V(radius))^(N−1)`` (Poisson clumping); a deterministic low-dispersion set has none
    below its separation. A test of *randomness* that uniformity measures alone cannot make.
    """
    q = _rows(quats, 4, "quats")
    if q.shape[0] < 2:
        raise ConventionError("needs at least two rotations")
    threshold = np.cos(radius / 2)
    close = 0
    for lo in range(0, q.shape[0], _CHUNK):
        dots = np.abs(q[lo : lo + _CHUNK] @ q.T)
        idx = np.arange(lo, min(lo + _CHUNK, q.shape[0]))
        dots[idx - lo, idx] = -1.0
        close += int((dots.max(axis=1) > threshold).sum())
    return close / q.shape[0]


# -- the sphere S² -------------------------------------------------------------------------------


def sphere_nearest_distances(points: ArrayLike, probes: ArrayLike) -> FloatArray:
    """Great-circle distance from each probe (P, 3) to the nearest of ``points`` (M, 3), unit
    vectors → (P,) radians: ``arccos max ⟨u, v⟩``."""
    a, b = _rows(points, 3, "points"), _rows(probes, 3, "probes")
    return np.arccos(np.clip(_max_abs_dot(b, a, False), -1.0, 1.0))


def sphere_covering_radius(points: ArrayLike, probes: ArrayLike) -> float:
    """Estimated covering radius of ``points`` on S² (a lower bound, as ``covering_radius``)."""
    return float(sphere_nearest_distances(points, probes).max())


def sphere_separation(points: ArrayLike) -> float:
    """Smallest great-circle distance between two of ``points`` (M ≥ 2, unit vectors (M, 3))."""
    a = _rows(points, 3, "points")
    if a.shape[0] < 2:
        raise ConventionError("separation needs at least two points")
    best = -1.0
    for lo in range(0, a.shape[0], _CHUNK):
        dots = a[lo : lo + _CHUNK] @ a.T
        idx = np.arange(lo, min(lo + _CHUNK, a.shape[0]))
        dots[idx - lo, idx] = -2.0
        best = max(best, float(dots.max()))
    return float(np.arccos(np.clip(best, -1.0, 1.0)))


def cap_count_ratios(points: ArrayLike, centres: ArrayLike, radius: float) -> FloatArray:
    """For each centre (C, 3): the number of ``points`` (M, 3) within ``radius`` of it, divided by
    ``M (1 − cos radius)/2``, the count a uniform set would put in that cap. → (C,)."""
    a, c = _rows(points, 3, "points"), _rows(centres, 3, "centres")
    expected = a.shape[0] * (1 - np.cos(radius)) / 2
    if expected <= 0:
        raise ConventionError("the radius must be positive")
    threshold = np.cos(radius)
    counts = np.empty(c.shape[0])
    for lo in range(0, c.shape[0], _CHUNK):
        counts[lo : lo + _CHUNK] = (c[lo : lo + _CHUNK] @ a.T > threshold).sum(axis=1)
    return counts / expected
