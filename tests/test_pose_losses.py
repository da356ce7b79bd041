"""Property tests of ``reference_impl.pose_losses`` against independent oracles.

* the rotation angle between two quaternions from scipy (``Rotation.magnitude`` of the relative
  rotation), and the closed forms in θ of every loss (sin²(θ/4), sin²(θ/2), 8 sin²(θ/2));
* gradients against finite differences (``torch.autograd.gradcheck``, float64);
* the Gram–Schmidt map against NumPy's QR factorisation;
* the handedness identity against the projector of problem set 4 (a mirrored volume, projected
  in the pose F R F, gives the same image) and scipy's ZYZ Euler angles;
* the groups against scipy's ``Rotation.create_group``, the symmetrised loss against a brute
  force over scipy's group, and the top of the landscape against a numerical maximisation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import haar_quats, matrices, relative_pairs, rot, seeds
from scipy.optimize import minimize
from scipy.spatial.transform import Rotation

from reference_impl import pose_losses as PL
from reference_impl.projection import project_real_space

T = torch.float64


def angle_between(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """The oracle: scipy's magnitude of the relative rotation q1⁻¹ q2."""
    return (rot(q1).inv() * rot(q2)).magnitude().reshape(np.shape(q1)[:-1])


def scaled(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """Raw network outputs: the quaternions times random positive or negative scales."""
    s = rng.uniform(0.3, 3.0, size=q.shape[:-1] + (1,)) * rng.choice(
        [-1.0, 1.0], q.shape[:-1] + (1,)
    )
    return q * s


# ----------------------------------------------------------------------------- quaternion losses


@settings(max_examples=60, deadline=None)
@given(relative_pairs(), seeds())
def test_losses_are_their_closed_forms_in_theta(pair, seed) -> None:
    q1, q2, _ = pair
    rng = np.random.default_rng(seed)
    x1, x2 = scaled(rng, q1), q2 * rng.choice([-1.0, 1.0], size=(len(q2), 1))
    theta = angle_between(q1, q2)
    a, b = torch.tensor(x1), torch.tensor(x2)
    np.testing.assert_allclose(PL.quat_geodesic_loss(a, b), theta, rtol=1e-7, atol=2e-15)
    np.testing.assert_allclose(
        PL.quat_l2_loss_signless(a, b), 4 * np.sin(theta / 4) ** 2, rtol=1e-7, atol=4e-16
    )
    # the oracle's θ itself is only known to a few ε (the inputs are rounded unit quaternions):
    # d sin²(θ/2)/dθ ≈ θ/2, so an error of 4e-15 in θ moves the closed form by 2e-15 θ
    smooth, closed = PL.quat_smooth_loss(a, b).numpy(), np.sin(theta / 2) ** 2
    assert np.all(np.abs(smooth - closed) <= 1e-7 * closed + 2e-15 * theta + 1e-30)
    R1, R2 = torch.tensor(matrices(q1)), torch.tensor(matrices(q2))
    np.testing.assert_allclose(
        PL.chordal_loss(R1, R2), 8 * np.sin(theta / 2) ** 2, rtol=1e-6, atol=1e-14
    )
    np.testing.assert_allclose(PL.geodesic_distance(R1, R2), theta, rtol=1e-6, atol=1e-7)


@given(st.integers(0, 2**32 - 1))
def test_plain_l2_depends_on_the_sign(seed) -> None:
    q = haar_quats(np.random.default_rng(seed), 5)
    a = torch.tensor(q)
    np.testing.assert_allclose(PL.quat_l2_loss(a, -a), 4.0, rtol=1e-14)
    np.testing.assert_allclose(PL.quat_l2_loss(a, a), 0.0, atol=1e-28)
    np.testing.assert_allclose(PL.quat_l2_loss_signless(a, -a), 0.0, atol=1e-28)
    np.testing.assert_allclose(PL.quat_geodesic_loss(a, -a), 0.0, atol=1e-15)


def test_acos_form_agrees_at_moderate_angles_and_loses_tiny_ones() -> None:
    rng = np.random.default_rng(3)
    q1 = haar_quats(rng, 200)
    q2 = haar_quats(rng, 200)
    a, b = torch.tensor(q1), torch.tensor(q2)
    theta = angle_between(q1, q2)
    ok = (theta > 1e-3) & (theta < np.pi - 1e-3)
    np.testing.assert_allclose(PL.quat_geodesic_loss_acos(a, b)[ok], theta[ok], rtol=1e-6)
    tiny = torch.tensor([[math.cos(5e-10), 0.0, 0.0, math.sin(5e-10)]], dtype=T)
    ident = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=T)
    assert float(PL.quat_geodesic_loss_acos(tiny, ident)) == 0.0  # 1e-9 rad is lost
    np.testing.assert_allclose(PL.quat_geodesic_loss(tiny, ident), 1e-9, rtol=1e-7)


@settings(max_examples=40, deadline=None)
@given(seeds(), st.floats(1e-10, 1e-7))
def test_squared_losses_keep_their_relative_accuracy_at_tiny_angles(seed, angle) -> None:
    """What problem set 8 grades at 1e-9 rad, relatively: the sign-free L2 loss and the smooth
    loss equal their closed forms 4 sin²(θ/4) and sin²(θ/2) to 1e-6 relative, where the literal
    ``2 − 2|d|`` and ``1 − d²`` return 0 or rounding noise. The pair is built with scipy (the
    oracle) and θ measured by it on the very floats the losses see."""
    rng = np.random.default_rng(seed)
    q_true = haar_quats(rng, 1)
    axis = rng.normal(size=3)
    rel = Rotation.from_rotvec(angle * axis / np.linalg.norm(axis))
    q_pred = scaled(rng, (rot(q_true) * rel).as_quat(scalar_first=True))
    theta = float(angle_between(q_pred / np.linalg.norm(q_pred), q_true)[0])
    a, b = torch.tensor(q_pred), torch.tensor(q_true)
    signless, smooth = PL.quat_l2_loss_signless(a, b), PL.quat_smooth_loss(a, b)
    np.testing.assert_allclose(signless, 4 * math.sin(theta / 4) ** 2, rtol=1e-6)
    np.testing.assert_allclose(smooth, math.sin(theta / 2) ** 2, rtol=1e-6)
    d = float((PL.normalize_quat(a) * PL.normalize_quat(b)).sum())
    literal = 1 - d * d
    assert abs(literal - math.sin(theta / 2) ** 2) > 0.5 * math.sin(theta / 2) ** 2 or angle > 1e-8


def test_taylor_expansion_of_the_smooth_loss() -> None:
    """1 − ⟨q̂, q⟩² = θ²/4 − θ⁴/48 + O(θ⁶), read off the computed values."""
    theta = np.array([1e-3, 2e-3, 4e-3])
    q = np.stack([np.cos(theta / 2), np.sin(theta / 2), 0 * theta, 0 * theta], -1)
    ident = np.broadcast_to([1.0, 0.0, 0.0, 0.0], q.shape)
    L = PL.quat_smooth_loss(torch.tensor(q), torch.tensor(ident)).numpy()
    np.testing.assert_allclose(L / theta**2, 0.25, rtol=2e-6)
    np.testing.assert_allclose((L - theta**2 / 4) / theta**4, -1 / 48, rtol=1e-3)


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(7)
    x = torch.tensor(scaled(rng, haar_quats(rng, 6)), requires_grad=True)
    q = torch.tensor(haar_quats(rng, 6))
    for loss in (
        PL.quat_l2_loss,
        PL.quat_l2_loss_signless,
        PL.quat_geodesic_loss,
        PL.quat_geodesic_loss_acos,
        PL.quat_smooth_loss,
    ):
        assert torch.autograd.gradcheck(lambda x, loss=loss: loss(x, q), (x,)), loss.__name__
    R = torch.tensor(matrices(haar_quats(rng, 4)), requires_grad=True)
    S = torch.tensor(matrices(haar_quats(rng, 4)))
    assert torch.autograd.gradcheck(lambda R: PL.chordal_loss(R, S), (R,))
    assert torch.autograd.gradcheck(lambda R: PL.geodesic_distance(R, S), (R,))


def test_gradient_at_zero_smooth_finite_acos_not() -> None:
    q = torch.tensor(haar_quats(np.random.default_rng(1), 3))
    x = (2.5 * q).clone().requires_grad_(True)
    PL.quat_smooth_loss(x, q).sum().backward()
    assert x.grad is not None and torch.all(torch.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-15)
    y = q.clone().requires_grad_(True)
    PL.quat_geodesic_loss_acos(y, q).sum().backward()
    assert y.grad is not None and not torch.all(torch.isfinite(y.grad))


def test_losses_keep_float32() -> None:
    q = torch.tensor(haar_quats(np.random.default_rng(2), 4), dtype=torch.float32)
    for loss in (
        PL.quat_l2_loss,
        PL.quat_l2_loss_signless,
        PL.quat_geodesic_loss,
        PL.quat_smooth_loss,
    ):
        assert loss(q, q.flip(0)).dtype == torch.float32
    assert PL.sixd_to_matrix(torch.ones(6).float().cumsum(0)).dtype == torch.float32


# ----------------------------------------------------------------------------- 6D representation


@settings(max_examples=40, deadline=None)
@given(seeds())
def test_gram_schmidt_is_qr(seed) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 6)) * rng.uniform(0.1, 10, size=(8, 1))
    R = PL.sixd_to_matrix(torch.tensor(x)).numpy()
    M = np.stack([x[:, :3], x[:, 3:]], axis=-1)  # (8, 3, 2): columns a1, a2
    Q, Rr = np.linalg.qr(M)
    sign = np.sign(np.diagonal(Rr, axis1=-2, axis2=-1))[:, None, :]
    np.testing.assert_allclose(R[..., :2], Q * sign, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12
    )


@given(seeds())
def test_sixd_round_trip(seed) -> None:
    R = torch.tensor(matrices(haar_quats(np.random.default_rng(seed), 5)))
    np.testing.assert_allclose(PL.sixd_to_matrix(PL.matrix_to_sixd(R)), R, atol=1e-13)
    np.testing.assert_array_equal(PL.matrix_to_sixd(R)[..., :3], R[..., :, 0])


def test_sixd_gradcheck() -> None:
    x = torch.tensor(np.random.default_rng(4).normal(size=(5, 6)), requires_grad=True)
    assert torch.autograd.gradcheck(PL.sixd_to_matrix, (x,))


# ----------------------------------------------------------------------------- handedness (D.1)


def test_mirror_volume_in_mirror_pose_gives_the_same_image() -> None:
    """The physical statement of D.1, with problem set 4's projector: V(F r) in the pose F R F
    projects exactly like V in the pose R."""
    gen = torch.Generator().manual_seed(0)
    D = 11
    V = torch.rand(D, D, D, generator=gen, dtype=T)
    V_mirror = V.flip(0)  # [z, y, x]: V(F r) with F = diag(1, 1, −1), centred at D // 2
    R = torch.tensor(matrices(haar_quats(np.random.default_rng(5), 3)))
    same = project_real_space(V_mirror, PL.mirror_pose(R))
    np.testing.assert_allclose(same, project_real_space(V, R), atol=1e-12)
    assert not torch.allclose(project_real_space(V_mirror, R), project_real_space(V, R))


@given(seeds())
def test_mirror_pose_is_frf_and_its_euler_angles(seed) -> None:
    rng = np.random.default_rng(seed)
    a, b, g = rng.uniform(-np.pi, np.pi), rng.uniform(0, np.pi), rng.uniform(-np.pi, np.pi)
    R = torch.tensor(Rotation.from_euler("ZYZ", [a, b, g]).as_matrix())
    np.testing.assert_allclose(PL.euler_zyz_to_matrix(a, b, g), R, atol=1e-14)
    F = np.diag([1.0, 1.0, -1.0])
    np.testing.assert_allclose(PL.mirror_pose(R), F @ R.numpy() @ F, atol=0)
    mirrored = Rotation.from_euler("ZYZ", list(PL.mirror_euler_zyz(a, b, g))).as_matrix()
    np.testing.assert_allclose(mirrored, F @ R.numpy() @ F, atol=1e-14)
    assert np.linalg.det(PL.mirror_pose(R).numpy()) == pytest.approx(1.0)


def test_projected_points_agree() -> None:
    rng = np.random.default_rng(6)
    pts = torch.tensor(rng.normal(size=(20, 3)))
    R = torch.tensor(matrices(haar_quats(rng, 1))[0])
    F = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=T))
    np.testing.assert_allclose(
        PL.project_points(pts @ F, PL.mirror_pose(R)), PL.project_points(pts, R), atol=1e-14
    )
    np.testing.assert_allclose(PL.project_points(pts, R), (pts @ R.T)[:, :2], atol=0)


# ----------------------------------------------------------------------------- symmetry (D.2)


def same_set(A: np.ndarray, B: np.ndarray) -> bool:
    d = np.abs(A[:, None] - B[None]).max(axis=(-2, -1))
    return A.shape == B.shape and bool(np.all(d.min(1) < 1e-12)) and bool(np.all(d.min(0) < 1e-12))


@pytest.mark.parametrize("n", range(1, 9))
def test_groups_are_scipys(n: int) -> None:
    assert same_set(PL.cyclic_group(n).numpy(), Rotation.create_group(f"C{n}").as_matrix())
    if n >= 2:
        assert same_set(PL.dihedral_group(n).numpy(), Rotation.create_group(f"D{n}").as_matrix())
    else:
        assert same_set(
            PL.dihedral_group(1).numpy(), np.stack([np.eye(3), np.diag([1.0, -1.0, -1.0])])
        )


@settings(max_examples=30, deadline=None)
@given(seeds(), st.integers(1, 8), st.sampled_from(["C", "D"]))
def test_symmetrized_loss_is_the_minimum_over_the_group(seed, n, kind) -> None:
    rng = np.random.default_rng(seed)
    group = Rotation.create_group(f"{kind}{n}") if (kind, n) != ("D", 1) else None
    G = PL.cyclic_group(n) if kind == "C" else PL.dihedral_group(n)
    Rp, Rt = rot(haar_quats(rng, 7)), rot(haar_quats(rng, 7))
    if group is None:
        group = Rotation.from_matrix(G.numpy())
    brute = np.array([min((Rp[i].inv() * Rt[i] * g).magnitude() for g in group) for i in range(7)])
    got = PL.symmetrized_geodesic_loss(
        torch.tensor(Rp.as_matrix()), torch.tensor(Rt.as_matrix()), G
    )
    np.testing.assert_allclose(got, brute, rtol=1e-6, atol=1e-7)


def test_symmetric_poses_have_zero_loss_and_sawtooth_in_plane() -> None:
    R = torch.tensor(matrices(haar_quats(np.random.default_rng(8), 1))[0])
    for n in (2, 3, 5):
        G = PL.dihedral_group(n)
        np.testing.assert_allclose(PL.symmetrized_geodesic_loss(R @ G, R, G), 0.0, atol=1e-7)
        phi = np.linspace(0, 2 * np.pi, 101)
        Rphi = PL.euler_zyz_to_matrix(torch.tensor(phi), 0.0, 0.0)
        L = PL.symmetrized_geodesic_loss(R @ Rphi, R, PL.cyclic_group(n)).numpy()
        step = 2 * np.pi / n
        np.testing.assert_allclose(L, np.abs((phi + step / 2) % step - step / 2), atol=1e-7)


@pytest.mark.parametrize(
    ("kind", "n"), [("C", 1), ("C", 3), ("D", 1), ("D", 2), ("D", 3), ("D", 6)]
)
def test_largest_loss_by_numerical_maximisation(kind: str, n: int) -> None:
    G = Rotation.from_matrix((PL.cyclic_group(n) if kind == "C" else PL.dihedral_group(n)).numpy())

    def neg_loss(v: np.ndarray) -> float:
        return -min((Rotation.from_rotvec(v).inv() * g).magnitude() for g in G)

    rng = np.random.default_rng(9)
    best = max(
        -minimize(
            neg_loss,
            rng.normal(size=3) * 1.5,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        ).fun
        for _ in range(12)
    )
    assert PL.largest_symmetrized_loss(kind, n) == pytest.approx(best, abs=1e-6)


def test_gradient_of_the_symmetrized_loss() -> None:
    rng = np.random.default_rng(10)
    Rp = torch.tensor(matrices(haar_quats(rng, 4)), requires_grad=True)
    Rt = torch.tensor(matrices(haar_quats(rng, 4)))
    G = PL.dihedral_group(3)
    assert torch.autograd.gradcheck(lambda R: PL.symmetrized_geodesic_loss(R, Rt, G), (Rp,))
