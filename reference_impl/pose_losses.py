r"""Losses on rotations for pose regression, the 6D representation, handedness and symmetry:
problem set 8, in PyTorch (differentiable, batched).

Conventions (``book/conventions.md``): quaternions ``[w, x, y, z]`` (Hamilton); rotations are
active; a matrix left-multiplies column ``xyz`` vectors; angles are radians. Every function takes
any leading batch shape and float32 or float64 tensors, and returns the inputs' dtype.

The papers
----------
* Lian et al. (2022), *End-to-end orientation estimation from 2D cryo-EM images*, §2.5: a network
  regresses a quaternion; the loss compares it with the true one. The L2 distance between
  quaternions depends on their signs although ``q`` and ``−q`` are one rotation; the geodesic
  distance (the rotation angle between the two, written with an ``arccos``) does not, but its
  gradient is infinite at zero; ``1 − ⟨q̂, q⟩²`` (no ``arccos``) is its Taylor expansion to
  leading order, ``θ²/4``, smooth with a finite gradient at zero.
* Zhou et al. (2019), *On the continuity of rotation representations in neural networks*: the
  6D representation (two columns of ``R``) and its Gram–Schmidt map back to SO(3).
* Levy et al. (2022), cryoAI, supplementary D.1: projections along ``z`` cannot tell a volume
  from its mirror image: with ``F = diag(1, 1, −1)``, the mirror volume ``V(F r)`` in the pose
  ``R̃ = F R F`` gives the same image as ``V`` in the pose ``R`` (``F R = R̃ F``).
* cryoAI, supplementary D.2 and the meeting's question 5: a volume with a symmetry group ``G``
  (``V(g r) = V(r)``) gives the same images in the poses ``R`` and ``R g``; the pose loss is the
  minimum over the group of the geodesic distance.

Identities used
---------------
For unit quaternions ``q̂, q`` with ``d = ⟨q̂, q⟩`` and ``θ`` the angle of the relative rotation:
``|d| = cos(θ/2)``; ``min(‖q̂ − q‖, ‖q̂ + q‖) = 2 sin(θ/4)`` and ``max(…) = 2 cos(θ/4)``, so
``θ = 4 atan2(min, max)``, accurate at every angle (Hartley et al. 2013, §4; problem set 2);
``‖q̂ − q‖² ‖q̂ + q‖² = 4(1 − d²)``; ``1 − d² = sin²(θ/2) = (1 − cos θ)/2 = θ²/4 − θ⁴/48 + …``;
``‖R̂ − R‖²_F = 2(3 − tr R̂ᵀR) = 4(1 − cos θ) = 8(1 − d²)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = [
    "F_MIRROR",
    "chordal_loss",
    "cyclic_group",
    "dihedral_group",
    "euler_zyz_to_matrix",
    "geodesic_distance",
    "largest_symmetrized_loss",
    "matrix_to_sixd",
    "mirror_euler_zyz",
    "mirror_pose",
    "normalize_quat",
    "project_points",
    "quat_geodesic_loss",
    "quat_geodesic_loss_acos",
    "quat_l2_loss",
    "quat_l2_loss_signless",
    "quat_smooth_loss",
    "rotation_angle",
    "sixd_to_matrix",
    "symmetrized_geodesic_loss",
]

#: The mirror ``F = diag(1, 1, −1)`` of cryoAI's supplementary D.1 (a reflection along ``z``,
#: the direction of projection).
F_MIRROR = (1.0, 1.0, -1.0)


def _tensor(x: torch.Tensor, trailing: tuple[int, ...], name: str) -> torch.Tensor:
    """``x`` as a float32/float64 tensor whose last dimensions are ``trailing`` (integers and
    Python data promote to float64)."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{name} must be float32 or float64; got {x.dtype}")
    if x.ndim < len(trailing) or tuple(x.shape[x.ndim - len(trailing) :]) != trailing:
        want = "(..., " + ", ".join(map(str, trailing)) + ")"
        raise ValueError(f"{name} must have shape {want}; got {tuple(x.shape)}")
    return x


def _pair(
    a: torch.Tensor, b: torch.Tensor, trailing: tuple[int, ...], names: str
) -> tuple[torch.Tensor, torch.Tensor]:
    n1, n2 = names.split()
    a, b = _tensor(a, trailing, n1), _tensor(b, trailing, n2)
    dt = torch.promote_types(a.dtype, b.dtype)
    return a.to(dt), b.to(dt)


# ----------------------------------------------------------------------------- quaternion losses


def normalize_quat(x: torch.Tensor) -> torch.Tensor:
    """``x / ‖x‖``: the unit quaternion of a network's raw output. (..., 4) → (..., 4)."""
    x = _tensor(x, (4,), "x")
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def quat_l2_loss(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    """The plain L2 loss ``‖q̂ − q‖²`` of the normalised quaternions. (..., 4) ×2 → (...).

    It depends on the signs: ``q`` and ``−q`` are the same rotation, yet ``‖q − (−q)‖² = 4``,
    the largest value the loss takes. So it is not a function of the two rotations.
    """
    q_pred, q_true = _pair(q_pred, q_true, (4,), "q_pred q_true")
    d = normalize_quat(q_pred) - normalize_quat(q_true)
    return (d * d).sum(-1)


def quat_l2_loss_signless(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    """``min(‖q̂ − q‖², ‖q̂ + q‖²) = 2 − 2|⟨q̂, q⟩| = 4 sin²(θ/4)`` of the normalised quaternions:
    a function of the rotations. (..., 4) ×2 → (...). Not differentiable where ``⟨q̂, q⟩ = 0``
    (``θ = π``), where the two branches meet."""
    q_pred, q_true = _pair(q_pred, q_true, (4,), "q_pred q_true")
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus, plus = a - b, a + b
    return torch.minimum((minus * minus).sum(-1), (plus * plus).sum(-1))


def quat_geodesic_loss(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    """The geodesic loss: the angle ``θ ∈ [0, π]`` of the rotation between ``q̂`` and ``q``
    (normalised first), accurate at every angle. (..., 4) ×2 → (...).

    ``θ = 4 atan2(min(‖q̂ ∓ q‖), max(‖q̂ ∓ q‖))`` (the chords of the quaternion sphere are
    ``2 sin(θ/4)`` and ``2 cos(θ/4)``). Its gradient is finite (of norm about ``2/‖q̂‖``) for
    ``θ > 0``, but θ has a cone at zero: no gradient there.
    """
    q_pred, q_true = _pair(q_pred, q_true, (4,), "q_pred q_true")
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus = torch.linalg.vector_norm(a - b, dim=-1)
    plus = torch.linalg.vector_norm(a + b, dim=-1)
    return 4 * torch.atan2(torch.minimum(minus, plus), torch.maximum(minus, plus))


def quat_geodesic_loss_acos(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    """The textbook form of the geodesic loss, ``θ = arccos(2⟨q̂, q⟩² − 1)`` (as
    ``cos θ = 2 cos²(θ/2) − 1``). (..., 4) ×2 → (...).

    For comparison only: below ``θ ≈ 1e-8`` (3e-4 in float32) the argument rounds to 1 and θ to
    0, and ``d arccos(y)/dy = −1/√(1 − y²)`` is infinite at ``y = 1``: the gradient at ``θ = 0``
    is infinite or NaN.
    """
    q_pred, q_true = _pair(q_pred, q_true, (4,), "q_pred q_true")
    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)
    return torch.acos(torch.clamp(2 * d * d - 1, -1.0, 1.0))


def quat_smooth_loss(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    """``1 − ⟨q̂, q⟩² = sin²(θ/2) = θ²/4 − θ⁴/48 + O(θ⁶)``: the geodesic loss without ``arccos``,
    smooth everywhere, with a finite gradient (zero) at ``θ = 0``. (..., 4) ×2 → (...).

    Computed as ``‖q̂ − q‖² ‖q̂ + q‖² / 4`` (equal for unit quaternions), which keeps its relative
    accuracy at tiny angles where ``1 − d²`` cancels.
    """
    q_pred, q_true = _pair(q_pred, q_true, (4,), "q_pred q_true")
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus, plus = a - b, a + b
    return (minus * minus).sum(-1) * (plus * plus).sum(-1) / 4


# ----------------------------------------------------------------------------- matrices


def rotation_angle(R: torch.Tensor) -> torch.Tensor:
    """Angle ``θ ∈ [0, π]`` of rotation matrices, ``atan2(‖vee(R)‖, (tr R − 1)/2)`` with
    ``vee(R) = sin θ n̂`` the vector of ``(R − Rᵀ)/2``. (..., 3, 3) → (...)."""
    R = _tensor(R, (3, 3), "R")
    s = 0.5 * torch.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]],
        dim=-1,
    )
    c = (R.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.atan2(torch.linalg.vector_norm(s, dim=-1), c)


def geodesic_distance(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """``d∠(R1, R2) = θ(R1ᵀ R2) ∈ [0, π]`` (Hartley et al. 2013, §4). (..., 3, 3) ×2 → (...),
    batch shapes broadcast."""
    R1, R2 = _pair(R1, R2, (3, 3), "R1 R2")
    return rotation_angle(R1.transpose(-1, -2) @ R2)


def chordal_loss(R_pred: torch.Tensor, R_true: torch.Tensor) -> torch.Tensor:
    """The squared chordal distance ``‖R̂ − R‖²_F = 4(1 − cos θ) = 8 sin²(θ/2)``, the chordal loss.
    (..., 3, 3) ×2 → (...). Equal to ``8 × quat_smooth_loss`` of the rotations' quaternions."""
    R_pred, R_true = _pair(R_pred, R_true, (3, 3), "R_pred R_true")
    d = R_pred - R_true
    return (d * d).sum((-2, -1))


# ----------------------------------------------------------------------------- 6D representation


def sixd_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """Zhou et al. (2019)'s Gram–Schmidt map ``f_GS``: 6D vectors ``[a₁, a₂]`` → rotation matrices
    with columns ``b₁ = N(a₁)``, ``b₂ = N(a₂ − (b₁·a₂) b₁)``, ``b₃ = b₁ × b₂`` (``N(v) = v/‖v‖``).
    (..., 6) → (..., 3, 3). Continuous (and differentiable) wherever ``a₁, a₂`` are independent.
    """
    x = _tensor(x, (6,), "x")
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / torch.linalg.vector_norm(a1, dim=-1, keepdim=True)
    u2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = u2 / torch.linalg.vector_norm(u2, dim=-1, keepdim=True)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_sixd(R: torch.Tensor) -> torch.Tensor:
    """Zhou et al.'s ``g_GS``: the first two columns of ``R``, concatenated ``[R[:, 0], R[:, 1]]``.
    (..., 3, 3) → (..., 6); ``sixd_to_matrix(matrix_to_sixd(R)) = R``."""
    R = _tensor(R, (3, 3), "R")
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)


# ----------------------------------------------------------------------------- handedness (D.1)


def mirror_pose(R: torch.Tensor) -> torch.Tensor:
    """``R̃ = F R F`` with ``F = diag(1, 1, −1)``: the pose in which the mirror volume ``V(F r)``
    projects to the same image as ``V`` in the pose ``R`` (cryoAI, supplementary D.1). Flips the
    sign of the entries ``(0, 2), (1, 2), (2, 0), (2, 1)``. (..., 3, 3) → (..., 3, 3).

    Why: the image is ``P(x, y) = Σ_z V(Rᵀ (x, y, z))``; for the mirror volume in the pose
    ``F R F`` it is ``Σ_z V(F (F R F)ᵀ (x, y, z)) = Σ_z V(Rᵀ (x, y, −z))``, the same sum.
    """
    R = _tensor(R, (3, 3), "R")
    f = torch.tensor(F_MIRROR, dtype=R.dtype, device=R.device)
    return R * f[:, None] * f[None, :]


def euler_zyz_to_matrix(
    alpha: torch.Tensor | float, beta: torch.Tensor | float, gamma: torch.Tensor | float
) -> torch.Tensor:
    """``R_z(α) R_y(β) R_z(γ)`` (intrinsic ``"ZYZ"``, ``book/conventions.md``). Angles (...) each,
    broadcast → (..., 3, 3)."""
    angles = [
        a if isinstance(a, torch.Tensor) else torch.as_tensor(a, dtype=torch.float64)
        for a in (alpha, beta, gamma)
    ]
    a, b, g = torch.broadcast_tensors(*angles)
    c, s = torch.cos(b), torch.sin(b)
    z, o = torch.zeros_like(b), torch.ones_like(b)
    ry = torch.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*b.shape, 3, 3)
    return _rz_angles(a) @ ry @ _rz_angles(g)


def mirror_euler_zyz(alpha: Any, beta: Any, gamma: Any) -> tuple[Any, Any, Any]:
    """The ZYZ angles of ``F R_z(α) R_y(β) R_z(γ) F``: ``(α + π, β, γ + π)`` — so that β stays in
    ``[0, π]`` (``(α, −β, γ)`` is the same matrix). Since ``F R_z(t) F = R_z(t)`` and
    ``F R_y(β) F = R_y(−β) = R_z(π) R_y(β) R_z(π)``."""
    return alpha + math.pi, beta, gamma + math.pi


def project_points(points: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """Where the atoms at ``points`` (..., N, 3) land in the image of the pose ``R`` (..., 3, 3):
    the ``(x, y)`` of ``R p`` (rotate, then drop ``z``, the direction of projection).
    → (..., N, 2)."""
    points, R = _tensor(points, (3,), "points"), _tensor(R, (3, 3), "R")
    dt = torch.promote_types(points.dtype, R.dtype)
    points, R = points.to(dt), R.to(dt)
    return (points @ R.transpose(-1, -2))[..., :2]


# ----------------------------------------------------------------------------- symmetry (D.2)


def _rz_angles(angles: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angles), torch.sin(angles)
    z, o = torch.zeros_like(angles), torch.ones_like(angles)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*angles.shape, 3, 3)


def cyclic_group(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The cyclic group ``C_n``: the ``n`` rotations ``R_z(2πk/n)``, ``k = 0 … n−1``, about the
    ``z`` axis. → (n, 3, 3)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    k = torch.arange(n, dtype=torch.float64)
    return _rz_angles(2 * math.pi * k / n).to(dtype)


def dihedral_group(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The dihedral group ``D_n``: ``C_n`` about ``z`` and the ``n`` half-turns ``R_z(2πk/n) R_x(π)``
    about the axes of the ``xy`` plane at angles ``πk/n`` from ``x``. → (2n, 3, 3)."""
    c = cyclic_group(n, torch.float64)
    rx_pi = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    return torch.cat([c, c @ rx_pi]).to(dtype)


def symmetrized_geodesic_loss(
    R_pred: torch.Tensor, R_true: torch.Tensor, group: torch.Tensor
) -> torch.Tensor:
    """``min_{g ∈ G} d∠(R̂, R g)``: the geodesic loss for a volume with the symmetry group ``G``
    (``V(g r) = V(r)`` makes the poses ``R`` and ``R g`` give the same image). Shapes
    (..., 3, 3), (..., 3, 3), (G, 3, 3) → (...). Differentiable except where two elements of the
    group tie (the ridges of the landscape)."""
    R_pred, R_true = _pair(R_pred, R_true, (3, 3), "R_pred R_true")
    group = _tensor(group, (3, 3), "group").to(R_pred.dtype)
    if group.ndim != 3:
        raise ValueError(f"group must have shape (G, 3, 3); got {tuple(group.shape)}")
    candidates = R_true[..., None, :, :] @ group  # (..., G, 3, 3)
    return geodesic_distance(R_pred[..., None, :, :], candidates).min(-1).values


def largest_symmetrized_loss(kind: str, n: int) -> float:
    """``max_R̂ min_{g ∈ G} d∠(R̂, g)``, the highest point of the symmetrised loss landscape
    (the covering radius of the group in SO(3)).

    ``C_n``: ``π`` for every ``n`` — a half-turn about any axis of the ``xy`` plane is a half-turn
    away from every element. ``D_n``: ``2 arccos(cos(π/2n)/√2)``: the quaternions of ``D_n`` lie
    on two orthogonal great circles (``(w, z)`` and ``(x, y)``) at spacing ``π/n``, the farthest
    quaternion splits its weight equally between the two planes and sits halfway between two
    points on each, so ``max_g |⟨q, g⟩| = cos(π/2n)/√2``. (``2π/3`` for ``D_2``, → ``π/2``.)
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    kind = kind.upper()
    if kind == "C":
        return math.pi
    if kind == "D":
        return 2 * math.acos(math.cos(math.pi / (2 * n)) / math.sqrt(2))
    raise ValueError("kind must be 'C' or 'D'")
