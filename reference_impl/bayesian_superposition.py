r"""Bayesian superposition after Sanz Moreta et al. (2019), THESEUS-PP: the uniform prior over
rotations, the Student-t model of two structures, and its MAP estimate by gradient descent.

The uniform prior over rotations (§II.D, eq. 7–9)
-------------------------------------------------
``u ~ U(0, 1)³`` (eq. 7) is mapped to a unit quaternion (eq. 8, Shoemake 1992) and then to a
rotation matrix (eq. 9). In this project's scalar-first order ``[w, x, y, z]`` — the order in
which THESEUS-PP's code (``sample_R``) reads eq. 8 —

.. math::

   q(u) = \bigl(\sqrt{u_1}\cos 2\pi u_3,\; \sqrt{1-u_1}\sin 2\pi u_2,\;
                \sqrt{1-u_1}\cos 2\pi u_2,\; \sqrt{u_1}\sin 2\pi u_3\bigr).

*Why it is uniform.* The three columns of the Jacobian ``∂q/∂u`` are orthogonal, of lengths
``1/(2√(u₁(1−u₁)))``, ``2π√(1−u₁)`` and ``2π√u₁``, so the 3-volume element of the map is
``√det(JᵀJ) = 2π²`` — constant, and equal to the area of S³: the uniform measure on the cube
is carried to the uniform measure on S³. That measure is invariant under ``q ↦ g ⊗ q`` (left
multiplication by a unit quaternion is an orthogonal map of R⁴), so the rotations ``R(q)`` are
distributed by the (unique, normalised) *Haar measure* of SO(3), the one invariant measure —
the definition of "uniform" on SO(3). A test of it: the rotation angle θ of a Haar-random
rotation has density ``(1 − cos θ)/π`` on [0, π] and distribution function
``(θ − sin θ)/π`` (``haar_angle_cdf``).

The paper's initialisation ``u₀ = (0.9, 0.1, 0.9)`` (§II.I, ``INIT_U``) is the rotation by
≈ 1.3917 rad (≈ 79.7°): near the corner ``(1, ·, 1)`` of the cube, whose rotations are the
identity, but far from the identity itself. The identity needs ``u₁ = 1`` (``w² ≤ u₁``), on the
cube's boundary — which no ``u`` inside the open cube (the support of eq. 7, where an
unconstrained optimiser lives) reaches.

The model (§II.A–G) and its log density
----------------------------------------
Two structures ``X₁, X₂`` (N, 3) of N atoms (Å) are noisy copies of a latent mean structure
``M`` (N, 3), the second rotated and translated: for every atom ``i`` and coordinate ``j``

.. math::

   X_{1,ij} \sim t_\nu(M_{ij},\, s_i), \qquad
   X_{2,ij} \sim t_\nu\bigl((R\,m_i + T)_j,\, s_i\bigr)  \quad\text{(eq. 13)},

Student-t densities of ``ν`` degrees of freedom, location and scale ``s_i`` (one per atom,
shared by its coordinates: a standard-deviation-like scale, the counterpart of ``√U_ii`` where
the diagonal atom covariance ``U`` holds variances; ν applies to these two likelihood terms
only): with ``V = I`` and a diagonal ``U`` the matrix-normal likelihood of
THESEUS factorises over atoms and coordinates, and THESEUS-PP replaces each univariate normal
by a Student-t (§II.G; ν = 1 in its code).
In column-vector convention ``R m_i + T`` is what THESEUS-PP's code writes, with row vectors,
as ``M R + T`` (its ``R`` is this ``Rᵀ``). The priors, as in THESEUS-PP's published code:
``T ~ N(0, I₃)`` (eq. 11; Å), ``s_i ~ HalfNormal(1)`` (§II.F), ``M_ij ~ t₁(0, 3)`` (a Cauchy of
scale 3 Å, §II.C), and ``u ~ U(0, 1)³`` for ``R``. ``theseus_log_joint`` is the log of the
product of all these densities except the rotation's, whose log density is a constant.

MAP by gradient descent (§II.I–J)
---------------------------------
THESEUS-PP maximises the log posterior with Pyro's ``AutoDelta`` guide (a point mass per latent
variable, optimised in the variables' unconstrained coordinates). ``theseus_map`` does the same
with ``torch.optim.Adam`` (learning rate ``lr``, decayed exponentially to ``lr/100`` over
``steps``): from the paper's initialisation (``R`` = ``R(q(u₀))``, ``T = 0``, ``M`` the average
of the two structures, ``s`` the HalfNormal's median 0.6745), but with the rotation held as an
unconstrained 4-vector ``q`` and ``R = R(q/‖q‖)``. The paper's coordinates ``u`` in the open
cube would make the identity unreachable and put the faces ``u₂, u₃ ∈ {0, 1}`` — seams of
periodic angles — where the optimiser stalls; the uniform prior contributes nothing to the
gradient in either coordinates. ``superpose_map`` is THESEUS-PP's whole pipeline: centre both
structures, superpose them by least squares first (as its code does), fit the model to the
pre-superposed pair, and compose the transforms: ``x₂ ≈ R x₁ + t``.

Student-t likelihoods make the fit robust: a flexible region of the structure gets a large
scale ``s_i`` and no longer pulls the rotation, where least squares is dragged by it
(``flexible_pair`` draws such data).

Reference: L. S. Moreta, A. S. Al-Sibahi, D. Theobald, W. Bullock, B. N. Rommes,
A. Manoukian, T. Hamelryck (2019), "A Probabilistic Programming Approach to Protein Structure
Superposition", IEEE CIBCB 2019, doi:10.1109/CIBCB.2019.8791469, and the THESEUS-PP code
(github.com/LysSanzMoreta/Theseus-PP); K. Shoemake (1992), "Uniform random rotations",
Graphics Gems III, 124–132.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from reference_impl.conventions import FloatArray, as_float_array
from reference_impl.superposition import kabsch

__all__ = [
    "HALFNORMAL_MEDIAN",
    "INIT_U",
    "M_PRIOR_SCALE",
    "flexible_pair",
    "haar_angle_cdf",
    "haar_angle_density",
    "quat_from_uniform",
    "quat_to_matrix_torch",
    "studentt_log_density",
    "superpose_map",
    "theseus_log_joint",
    "theseus_map",
    "uniform_prior_quats",
]

#: The paper's initialisation of the rotation's uniform variables (§II.I).
INIT_U = (0.9, 0.1, 0.9)
#: The median of HalfNormal(1), √2·erf⁻¹(½): Pyro's ``init_to_median`` for the scales.
HALFNORMAL_MEDIAN = 0.6744897501960817
#: The scale (Å) of the Cauchy prior of each coordinate of the mean structure M.
M_PRIOR_SCALE = 3.0

_LOG_2PI = math.log(2 * math.pi)
_LOG_HALFNORMAL = 0.5 * math.log(2 / math.pi)


# -- the uniform prior (numpy) -------------------------------------------------------------------


def quat_from_uniform(u: ArrayLike) -> FloatArray:
    """Eq. 8: the unit quaternion ``[w, x, y, z]`` (..., 4) of ``u`` (..., 3) in [0, 1]³.

    ``(√u₁ cos 2πu₃, √(1−u₁) sin 2πu₂, √(1−u₁) cos 2πu₂, √u₁ sin 2πu₃)`` (Shoemake 1992, in
    THESEUS-PP's order). Uniform ``u`` gives Haar-uniform rotations (module docstring).
    """
    u = as_float_array(u, (3,), "u")
    u1, u2, u3 = u[..., 0], u[..., 1], u[..., 2]
    r1, r2 = np.sqrt(1 - u1), np.sqrt(u1)
    a, b = 2 * np.pi * u2, 2 * np.pi * u3
    return np.stack([r2 * np.cos(b), r1 * np.sin(a), r1 * np.cos(a), r2 * np.sin(b)], axis=-1)


def uniform_prior_quats(n: int, rng: np.random.Generator | int | None = None) -> FloatArray:
    """``n`` draws of the prior (eq. 7–8): ``quat_from_uniform`` of ``U(0, 1)³``. → (n, 4)."""
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return quat_from_uniform(gen.random((n, 3)))


def haar_angle_cdf(theta: ArrayLike) -> FloatArray:
    """P(angle ≤ θ) for a Haar-uniform rotation: ``(θ − sin θ)/π`` on [0, π]. (...) → (...)."""
    t = np.asarray(theta, dtype=np.float64)
    return (t - np.sin(t)) / np.pi


def haar_angle_density(theta: ArrayLike) -> FloatArray:
    """The density ``(1 − cos θ)/π`` of a Haar-uniform rotation's angle on [0, π]."""
    t = np.asarray(theta, dtype=np.float64)
    return (1 - np.cos(t)) / np.pi


# -- the model (torch) ---------------------------------------------------------------------------


def studentt_log_density(
    x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor, nu: float | torch.Tensor
) -> torch.Tensor:
    """Elementwise log density of Student's t with ``nu`` degrees of freedom (broadcasting):

    ``log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − log s − (ν+1)/2 · log(1 + ((x − μ)/s)²/ν)``.
    Equal to ``torch.distributions.StudentT(nu, loc, scale).log_prob(x)``.
    """
    nu_t = torch.as_tensor(nu, dtype=x.dtype, device=x.device)
    z = (x - loc) / scale
    const = torch.lgamma((nu_t + 1) / 2) - torch.lgamma(nu_t / 2) - 0.5 * torch.log(nu_t * math.pi)
    return const - torch.log(scale) - (nu_t + 1) / 2 * torch.log1p(z * z / nu_t)


def quat_to_matrix_torch(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrix (..., 3, 3) of a quaternion (..., 4), normalised first: ``R(q/‖q‖)``."""
    w, x, y, z = (q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)).unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        dim=-2,
    )


def theseus_log_joint(
    X1: torch.Tensor,
    X2: torch.Tensor,
    M: torch.Tensor,
    scales: torch.Tensor,
    R: torch.Tensor,
    t: torch.Tensor,
    nu: float = 1.0,
) -> torch.Tensor:
    """The log posterior of the model (module docstring) up to constants. → scalar tensor.

    ``Σᵢⱼ log t_ν(X1ᵢⱼ; Mᵢⱼ, sᵢ) + Σᵢⱼ log t_ν(X2ᵢⱼ; (R mᵢ + t)ⱼ, sᵢ)`` (eq. 13)
    ``+ Σᵢⱼ log t₁(Mᵢⱼ; 0, 3) + Σᵢ log HalfNormal(sᵢ; 1) + log N(t; 0, I₃)`` (eq. 11),
    every density normalised (no constant dropped) except the rotation's uniform prior.

    Shapes: ``X1``, ``X2``, ``M`` (N, 3); ``scales`` (N,) positive; ``R`` (3, 3); ``t`` (3,).
    Differentiable in ``M``, ``scales``, ``R`` and ``t``.
    """
    sc = scales[..., :, None]
    lik = studentt_log_density(X1, M, sc, nu).sum()
    lik = lik + studentt_log_density(X2, M @ R.transpose(-1, -2) + t, sc, nu).sum()
    prior_m = studentt_log_density(M, torch.zeros_like(M), torch.full_like(M, M_PRIOR_SCALE), 1.0)
    prior_s = _LOG_HALFNORMAL - scales * scales / 2
    prior_t = -0.5 * _LOG_2PI - t * t / 2
    return lik + prior_m.sum() + prior_s.sum() + prior_t.sum()


def theseus_map(
    X1: ArrayLike | torch.Tensor,
    X2: ArrayLike | torch.Tensor,
    steps: int = 200,
    lr: float = 0.1,
    nu: float = 1.0,
) -> dict[str, Any]:
    """MAP estimate of the model for (X1, X2) (N, 3) by Adam, from the paper's initialisation.

    Parameters: ``q`` (4,) with ``R = R(q/‖q‖)``, from ``quat_from_uniform(INIT_U)``; ``t`` (3,)
    from 0; ``M`` (N, 3) from ``(X1 + X2)/2``; ``log s`` (N,) from ``log 0.6745``. Adam with
    learning rate ``lr`` decayed by ``0.01**(1/steps)`` per step (to ``lr/100``), ``steps``
    steps, float64. Returns numpy float64 ``R`` (3, 3), ``t`` (3,), ``M`` (N, 3), ``scales``
    (N,) and the final ``log_joint``.
    """
    A = torch.as_tensor(np.asarray(X1, dtype=np.float64))
    B = torch.as_tensor(np.asarray(X2, dtype=np.float64))
    q = torch.tensor(quat_from_uniform(INIT_U), dtype=torch.float64, requires_grad=True)
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    M = ((A + B) / 2).clone().requires_grad_(True)
    log_s = torch.full((A.shape[0],), math.log(HALFNORMAL_MEDIAN), dtype=torch.float64)
    log_s.requires_grad_(True)
    opt = torch.optim.Adam([q, t, M, log_s], lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.01 ** (1 / max(steps, 1)))
    for _ in range(steps):
        opt.zero_grad()
        loss = -theseus_log_joint(A, B, M, log_s.exp(), quat_to_matrix_torch(q), t, nu)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        R = quat_to_matrix_torch(q)
        value = theseus_log_joint(A, B, M, log_s.exp(), R, t, nu)
        return {
            "R": R.numpy(),
            "t": t.numpy().copy(),
            "M": M.numpy().copy(),
            "scales": log_s.exp().numpy(),
            "log_joint": float(value),
        }


def superpose_map(
    X1: ArrayLike, X2: ArrayLike, steps: int = 200, lr: float = 0.1, nu: float = 1.0
) -> tuple[FloatArray, FloatArray]:
    """THESEUS-PP's pipeline: the MAP rotation ``R`` (3, 3) and translation ``t`` (3,) with
    ``x₂ ≈ R x₁ + t``.

    Centre ``X1`` and ``X2`` (centroids ``c₁``, ``c₂``); pre-superpose by least squares
    (``kabsch``: ``B ≈ A R_kᵀ``, so ``Y = B R_k`` ≈ ``A``); ``theseus_map(A, Y)`` gives ``R_m``,
    ``t_m`` with ``y ≈ R_m m + t_m``; then ``x₂ − c₂ = R_k y``, so ``R = R_k R_m`` and
    ``t = c₂ − R c₁ + R_k t_m``.
    """
    P = np.asarray(X1, dtype=np.float64)
    Q = np.asarray(X2, dtype=np.float64)
    c1, c2 = P.mean(axis=0), Q.mean(axis=0)
    A, B = P - c1, Q - c2
    Rk, _ = kabsch(A, B)
    fit = theseus_map(A, B @ Rk, steps=steps, lr=lr, nu=nu)
    R = Rk @ fit["R"]
    t = c2 - R @ c1 + Rk @ fit["t"]
    return R, t


# -- data ----------------------------------------------------------------------------------------


def _rotation(axis: FloatArray, angle: float) -> FloatArray:
    n = axis / np.linalg.norm(axis)
    K = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * (K @ K)


def _unit(rng: np.random.Generator, n: int | None = None) -> FloatArray:
    v = rng.normal(size=(3,) if n is None else (n, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def flexible_pair(
    rng: np.random.Generator,
    n: int = 48,
    flexible: float = 0.25,
    sigma: float = 0.1,
    radius: float = 12.0,
    hinge: tuple[float, float] = (0.8, 1.4),
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Two copies of a compact structure, the second with a flexible region: ``(X1, X2, R, t)``.

    ``n`` atoms uniform in a ball of ``radius`` Å; the fraction ``flexible`` of them (rounded to
    a whole number of atoms; 0 gives a rigid pair) farthest along a random direction swings, in
    the second copy only, by a hinge rotation of a random angle in ``hinge`` (radians) about an
    axis through a point 4 Å inside the region; the second copy is then rotated by a Haar-random ``R`` and translated by ``t`` (N(0, 10² I₃) Å);
    both get Gaussian noise ``sigma`` Å. The rigid part obeys ``x₂ ≈ R x₁ + t``.
    """
    r = radius * rng.random(n) ** (1 / 3)
    M = r[:, None] * _unit(rng, n)
    M -= M.mean(axis=0)
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    R = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    t = 10 * rng.normal(size=3)
    d = _unit(rng)
    k = round(flexible * n)
    idx = np.argsort(M @ d)[n - k :]
    pivot = (M[idx].mean(axis=0) if k else np.zeros(3)) - 4 * d  # k = 0: nothing moves
    H = _rotation(np.cross(d, _unit(rng)), rng.uniform(*hinge) * rng.choice([-1.0, 1.0]))
    moved = M.copy()
    moved[idx] = (M[idx] - pivot) @ H.T + pivot
    X1 = M + sigma * rng.normal(size=M.shape)
    X2 = moved @ R.T + t + sigma * rng.normal(size=M.shape)
    return X1, X2, R, t
