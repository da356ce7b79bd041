"""The hidden checks of problem set 8 are sound, on many seeds, without a sandbox.

* The reference implementation (``reference_impl.pose_losses``), answering through the same wire
  format as a learner's kernel, passes every check of every function it has.
* A second correct solution, written differently from the notebook's wherever the notebook
  leaves a choice — the sign-free L2 loss by aligning the sign of q first, the angle from the
  relative quaternion, the smooth loss from the two chords,
  the chordal loss as a matrix norm, Gram–Schmidt by projection on the unnormalised a₁, the
  Euler angles (α, −β, γ) instead of (α + π, β, γ + π), the groups built from quaternions in
  another order, the symmetrised loss through an arccos of the trace — earns full marks: the
  checks grade the answer, not the construction (gradients only along SO(3) where the function
  is only defined there).
* The forms the notebook rules out at tiny angles — ``2 − 2|⟨q̂, q⟩|`` for the sign-free L2 loss,
  the literal ``1 − ⟨q̂, q⟩²`` for the smooth one — are right everywhere else and lose exactly
  the cases at 1e-9 and 3e-9 rad (judged relatively, to ``TINY_RTOL``), where the feedback names
  them; a stable form written otherwise (the squared vector part of the relative quaternion)
  passes them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from grading_support import REPO
from test_solutions_pass_on_every_seed import solution_namespace

from autograder.checks import Part, check_in_namespace, load_parts, part_seed
from reference_impl import pose_losses

PS = "ps08_pose_losses"
SEEDS = range(8)

ANOTHER_SOLUTION = """
import torch.nn.functional as Fnn


def quat_l2_loss(q_pred, q_true):
    return ((Fnn.normalize(q_pred, dim=-1) - Fnn.normalize(q_true, dim=-1)) ** 2).sum(-1)


def quat_l2_loss_signless(q_pred, q_true):
    a, b = Fnn.normalize(q_pred, dim=-1), Fnn.normalize(q_true, dim=-1)
    s = torch.where((a * b).sum(-1, keepdim=True) < 0, -1.0, 1.0).to(a.dtype)
    return ((a - s * b) ** 2).sum(-1)


L2_SAME_ROTATION_MAX = 4


def _multiply(p, q):
    pw, pv = p[..., :1], p[..., 1:]
    qw, qv = q[..., :1], q[..., 1:]
    pv, qv = torch.broadcast_tensors(pv, qv)
    w = pw * qw - (pv * qv).sum(-1, keepdim=True)
    v = pw * qv + qw * pv + torch.linalg.cross(pv, qv, dim=-1)
    return torch.cat([w.expand(v.shape[:-1] + (1,)), v], -1)


def quat_geodesic_loss(q_pred, q_true):
    a, b = Fnn.normalize(q_pred, dim=-1), Fnn.normalize(q_true, dim=-1)
    r = _multiply(a * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=a.dtype), b)
    return 2 * torch.atan2(torch.linalg.vector_norm(r[..., 1:], dim=-1), r[..., 0].abs())


def quat_smooth_loss(q_pred, q_true):
    a, b = Fnn.normalize(q_pred, dim=-1), Fnn.normalize(q_true, dim=-1)
    return ((a - b) ** 2).sum(-1) * ((a + b) ** 2).sum(-1) / 4


SMOOTH_TAYLOR = [0.25, -0.0208333333]


def chordal_loss(R_pred, R_true):
    return torch.linalg.matrix_norm(R_pred - R_true) ** 2


CHORDAL_OVER_SMOOTH = 8


def sixd_to_matrix(x):
    a1, a2 = x[..., 0:3], x[..., 3:6]
    u2 = a2 - (a1 * a2).sum(-1, keepdim=True) / (a1 * a1).sum(-1, keepdim=True) * a1
    b1, b2 = Fnn.normalize(a1, dim=-1), Fnn.normalize(u2, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-2).transpose(-1, -2)


def matrix_to_sixd(R):
    return R[..., :, :2].transpose(-1, -2).reshape(*R.shape[:-2], 6)


QUAT_JUMP_ANGLE = 3.141592653589793
MIN_CONTINUOUS_DIM = 5.0


def mirror_pose(R):
    F = torch.diag(torch.tensor([1.0, 1.0, -1.0])).to(R.dtype)
    return F @ R @ F


def project_points(points, R):
    return torch.einsum("...ij,...nj->...ni", R, points)[..., :2]


def euler_zyz_symbolic():
    Rz = lambda t: sp.Matrix([[sp.cos(t), -sp.sin(t), 0], [sp.sin(t), sp.cos(t), 0], [0, 0, 1]])
    Ry = lambda t: sp.Matrix([[sp.cos(t), 0, sp.sin(t)], [0, 1, 0], [-sp.sin(t), 0, sp.cos(t)]])
    return sp.expand(Rz(alpha) * Ry(beta) * Rz(gamma))


def mirror_euler_angles():
    return [alpha, -beta, gamma]


def cyclic_group(n):
    half = math.pi * torch.arange(n - 1, -1, -1, dtype=torch.float64) / n
    return quat_to_matrix(torch.stack([torch.cos(half), 0 * half, 0 * half, torch.sin(half)], -1))


def dihedral_group(n):
    c = cyclic_group(n)
    rx = torch.tensor([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]], dtype=torch.float64)
    return torch.cat([rx @ c, c])


def symmetrized_geodesic_loss(R_pred, R_true, group):
    out = []
    for g in group:
        M = R_pred.transpose(-1, -2) @ R_true @ g
        tr = M.diagonal(dim1=-2, dim2=-1).sum(-1)
        out.append(torch.acos(torch.clamp((tr - 1) / 2, -1 + 1e-15, 1 - 1e-15)))
    return torch.stack(out, -1).amin(-1)


def largest_symmetrized_loss(kind, n):
    if kind.upper() == "C":
        return float(np.pi)
    return math.pi - 2 * math.asin(math.cos(math.pi / (2 * n)) / math.sqrt(2))
"""


def parts() -> list:
    return load_parts(REPO / "assignments" / "problem_sets" / PS, PS)


@pytest.fixture(scope="module")
def another_solution() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = solution_namespace(PS)  # the given tools and symbols, then replaced answers
        exec(compile(ANOTHER_SOLUTION, "<another solution>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_passes_every_check(seed: int) -> None:
    namespace = {name: getattr(pose_losses, name) for name in pose_losses.__all__}
    checked = 0
    for part in parts():
        rng = np.random.default_rng(part_seed("soundness", str(seed), part.grade_id))
        plan, result = check_in_namespace(part, namespace, rng)
        for i, check in enumerate(result.checks):
            if not plan.asks(i) <= set(namespace):
                continue  # a check of a name the reference does not have (a question)
            assert check.passed == check.total, (part.grade_id, check.title, check.lines)
            checked += 1
    assert checked >= 19


@pytest.mark.parametrize("seed", SEEDS)
def test_another_correct_solution_earns_full_marks(another_solution: dict, seed: int) -> None:
    for part in parts():
        rng = np.random.default_rng(part_seed("another", str(seed), part.grade_id))
        _, result = check_in_namespace(part, another_solution, rng)
        for check in result.checks:
            assert check.passed == check.total, (part.grade_id, check.title, check.lines)


WRONG_BACKWARD = """
class _Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, d):
        ctx.save_for_backward(d)
        return d * d

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        return 3 * g * d  # 2 g d is right


def quat_smooth_loss(q_pred, q_true):
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    chord = torch.linalg.vector_norm(a - b, dim=-1)
    return _Square.apply(chord) * ((a + b) ** 2).sum(-1) / 4
"""


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_gradient_that_is_not_the_functions_is_caught_by_finite_differences(seed: int) -> None:
    """Right values, a hand-written backward that is wrong: only the gradient check fails, and
    says that autograd disagrees with finite differences of the learner's own function."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = solution_namespace(PS)
        exec(compile(WRONG_BACKWARD, "<wrong backward>", "exec"), namespace)
    part = next(p for p in parts() if p.grade_id == "test_geodesic")
    rng = np.random.default_rng(part_seed("backward", str(seed), "B"))
    _, result = check_in_namespace(part, namespace, rng)
    failing = {c.title: c for c in result.checks if c.passed < c.total}
    assert list(failing) == ["gradient of `quat_smooth_loss`"]
    # the case on the truth (a zero gradient either way) passes; the others fail
    assert failing["gradient of `quat_smooth_loss`"].passed == 1
    assert (
        "finite differences of your own function"
        in failing["gradient of `quat_smooth_loss`"].lines[0]
    )


CANCELLING = """
def quat_l2_loss_signless(q_pred, q_true):
    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)
    return 2 - 2 * d.abs()


def quat_smooth_loss(q_pred, q_true):
    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)
    return 1 - d * d
"""

RELATIVE_QUATERNION = """
def quat_smooth_loss(q_pred, q_true):
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    aw, av = a[..., :1], -a[..., 1:]
    bw, bv = b[..., :1], b[..., 1:]
    av, bv = torch.broadcast_tensors(av, bv)
    v = aw * bv + bw * av + torch.linalg.cross(av, bv, dim=-1)  # the vector part of a* b
    return (v * v).sum(-1)  # sin²(θ/2)
"""


CANCELS_SMOOTH = "1 − ⟨q̂, q⟩² written literally (cancels at tiny angles)"


def _check(namespace: dict, grade_id: str, function: str, seed: int):
    """The values check of ``function`` alone (a part of its own), its plan and its result."""
    part = next(p for p in parts() if p.grade_id == grade_id)
    check = next(c for c in part.checks if getattr(c, "function", None) == function)
    rng = np.random.default_rng(part_seed("tiny", str(seed), grade_id))
    plan, result = check_in_namespace(Part(grade_id, function, [check]), namespace, rng)
    return plan.plans[0], result.checks[0]


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_forms_that_cancel_lose_exactly_the_tiny_angles_and_are_named(seed: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = solution_namespace(PS)
        exec(compile(CANCELLING, "<cancelling forms>", "exec"), namespace)
    for grade_id, function, name in (
        ("test_l2", "quat_l2_loss_signless", "2 − 2|⟨q̂, q⟩| (cancels at tiny angles)"),
        ("test_geodesic", "quat_smooth_loss", CANCELS_SMOOTH),
    ):
        plan, result = _check(namespace, grade_id, function, seed)
        tiny = sum("tiny" in case.tags for case in plan.cases)
        assert tiny == 3  # the visible 1e-9 about z, and 1e-9 and 3e-9 about random axes
        assert result.total - result.passed == tiny, (function, result.lines)
        assert result.diagnosis is not None and result.diagnosis.name == name


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_a_stable_form_written_otherwise_passes_the_tiny_angles(seed: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = solution_namespace(PS)
        exec(compile(RELATIVE_QUATERNION, "<relative quaternion>", "exec"), namespace)
    _, result = _check(namespace, "test_geodesic", "quat_smooth_loss", seed)
    assert result.passed == result.total, result.lines
