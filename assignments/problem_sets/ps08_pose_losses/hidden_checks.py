"""Hidden checks of problem set 8 (pose losses and symmetry). Grader-side only: never released,
never in the learner's sandbox (``CourseDirectory.ignore`` lists this file).

Everything is judged here, against ``reference_impl.pose_losses`` evaluated in float64:

* values, on inputs that separate a careful implementation from the textbook one: raw network
  outputs (quaternions of norm 0.3–3, either sign) where a unit quaternion is expected, angles
  of 1e-9 rad (where ``arccos`` returns 0, and where the losses of Parts A and B are judged
  relatively, to ``TINY_RTOL``: the literal ``1 − d²`` and ``2 − 2|d|``, which cancel there,
  are named mistakes), a prediction exactly on the truth, angles near π, broadcasting batches
  and float32 (which must stay float32);
* gradients, in float64 at random points away from the kinks (θ = 0 and π for the geodesic loss,
  the ridges of the symmetrised loss), each case a probe of a ``ProbeCheck``: a ``Vjp`` request
  returns the learner's output and the gradient autograd computes through their code for a
  random cotangent (a random weight on each output); its derivative along random directions
  must agree with five-point finite differences of the learner's own function (what
  ``gradcheck`` checks) and of the reference (the truth), both computed from values at the
  stencil's points (``Call`` requests). For the symmetrised loss,
  whose inputs are matrices and whose value off SO(3) depends on the formula, the stencil
  follows SO(3), R exp(t [u]ₓ): only the derivative along ``R [u]ₓ`` is compared;
* symbolic answers (Part F) by exact evaluation at random rational points (``sympy_equal``);
  the Euler angles of ``F R F`` are judged by the matrix they give, so every correct triple
  scores;
* the groups of Part G as *sets* of rotations, in any order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
import torch

from autograder.checks import (
    Call,
    Case,
    Compare,
    DecodeError,
    Elementwise,
    FunctionCheck,
    Judge,
    Mistake,
    Part,
    Probe,
    ProbeCheck,
    Request,
    SympyTree,
    Tolerance,
    ValueCheck,
    Vjp,
    allclose,
    answer_array,
    as_array,
    close,
    float32_variant,
    number_close,
    rational_points,
    rebuild_sympy,
    reference64,
    sympy_equal,
    tuple_of,
    vjp_answer,
)
from reference_impl import pose_losses as PL
from reference_impl import quaternion as Q
from reference_impl import so3

F64 = torch.float64

# -- inputs ---------------------------------------------------------------------------------------

#: The tag of the cases at angles of 1e-9 rad or so, where the losses of Parts A and B are judged
#: relatively (``tiny_relative``).
TINY_TAG = "tiny"


def unit_quats(rng: np.random.Generator, *shape: int) -> np.ndarray:
    q = rng.normal(size=(*shape, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def raw(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """A network's raw output for the unit quaternions ``q``: a random norm, either sign."""
    s = rng.uniform(0.3, 3.0, size=q.shape[:-1] + (1,))
    return q * s * rng.choice([-1.0, 1.0], size=q.shape[:-1] + (1,))


def quat_pair(
    rng: np.random.Generator, angle: Any, shape: tuple[int, ...] = ()
) -> tuple[torch.Tensor, torch.Tensor]:
    """(raw prediction, unit truth) whose rotations are ``angle`` apart, about random axes."""
    q_true = unit_quats(rng, *shape) * rng.choice([-1.0, 1.0], size=shape + (1,))
    axis = rng.normal(size=shape + (3,))
    rel = Q.axis_angle_to_quat(axis, np.broadcast_to(np.asarray(angle, dtype=float), shape))
    q_pred = raw(rng, Q.quat_multiply(q_true, rel))
    return torch.tensor(q_pred, dtype=F64), torch.tensor(q_true, dtype=F64)


def rotations(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    return torch.tensor(Q.quat_to_matrix(unit_quats(rng, *shape)), dtype=F64)


# -- comparisons ----------------------------------------------------------------------------------
#
# Values are judged by ``close`` with ``dtypes="all"``: a float64 case must answer float64 and a
# float32 case (``float32_variant``) float32, against the float64 truth on the float32 inputs
# (``reference64``). A wrong answer is matched to a mistake by ``allclose``, on values only.

#: The relative tolerance of the losses of Parts A and B at the angles of ``TINY`` (float64, no
#: absolute part): what the notebook promises. Every stable form measures within 1e-6 of the
#: reference there (normalisations that round differently included); a form that cancels (the
#: literal ``1 − d²``, ``2 − 2|d|``) is wrong by 100% or more.
TINY_RTOL = 1e-5


def tiny_relative(tol64: Tolerance, tol32: Tolerance) -> Compare:
    """``close(tol64, tol32, dtypes="all")``, except that the float64 cases tagged ``TINY_TAG``
    (angles of 1e-9 rad) are judged relatively, to ``TINY_RTOL``."""
    usual = close(tol64, tol32, dtypes="all")
    at_tiny = close(Elementwise(TINY_RTOL, 0.0), tol32, dtypes="all")

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        return (at_tiny if TINY_TAG in case.tags else usual)(value, expected, case)

    return compare


#: The losses of Parts A and C, the value a gradient request returns (float64 cases only).
LOSS = close(Elementwise(1e-9, 1e-12), Elementwise(1e-5, 1e-6), dtypes="all")


# -- gradients ------------------------------------------------------------------------------------
#
# A gradient case is one probe (a ``ProbeCheck``'s): the learner's function is asked for the
# gradient autograd computes (a ``Vjp`` request: the output and the gradient of ⟨c, f(x)⟩ for a
# random cotangent c) and for its values at the points of a five-point stencil x + s h v,
# s = ±1, ±2, along a few random directions v (``Call`` requests). Everything is float64. The
# directional derivative ⟨∇, v⟩ from autograd must agree with the finite difference
# (−φ(2h) + 8φ(h) − 8φ(−h) + φ(−2h)) / 12h of the learner's OWN function, φ(t) = ⟨c, f(x + t v)⟩
# — what ``torch.autograd.gradcheck`` checks in the visible tests — and with the same finite
# difference of the reference's, computed here: the truth. With ``on_rotations`` the inputs are
# rotations and the stencil follows SO(3), x exp(t [u]ₓ): the directional derivative is then
# u · vee(xᵀ∇ − ∇ᵀx), what every formula that is right on SO(3) agrees on, whatever it does off
# it.

FD_STEP = 1e-4
FD_STENCIL = ((-2, 1.0), (-1, -8.0), (1, 8.0), (2, -1.0))  # (s, weight) / 12h
FD_DIRECTIONS = 3


def along_rotations(R: np.ndarray, u: np.ndarray, t: float) -> np.ndarray:
    """R exp(t [u]ₓ) for unit axes u (Rodrigues' formula): the curve through R along R [u]ₓ."""
    K = so3.hat(u)
    E = np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * (K @ K)
    return R @ E


def tangent_part(grad: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The derivative of a function of matrices along the rotations ``R [u]ₓ``, for u = e₁, e₂,
    e₃: ``⟨G, R [u]ₓ⟩ = 2 u · vee(skew(Rᵀ G))`` — what every formula that is right on SO(3)
    agrees on. (..., 3, 3) → (..., 3)."""
    A = np.swapaxes(R, -1, -2) @ grad
    return np.stack(
        [A[..., 2, 1] - A[..., 1, 2], A[..., 0, 2] - A[..., 2, 0], A[..., 1, 0] - A[..., 0, 1]],
        axis=-1,
    )


NO_GRADIENT = (
    "no gradient reached the input: something in your function is not differentiable by "
    "autograd (NumPy, .item(), .detach(), .numpy(), or a new tensor built from numbers)"
)
NOT_YOUR_FUNCTION = (
    "autograd's gradient of `{fn}` disagrees with finite differences of your own function "
    "(float64): an operation autograd does not follow — .detach(), NumPy, torch.no_grad(), "
    "a tensor rebuilt from numbers — or a hand-written backward"
)


@dataclass(frozen=True)
class Stencil:
    """The key of a gradient probe's case: the cotangent c, the stencil's directions (arrays
    shaped like the first argument, or unit axes (..., 3) ``on_rotations``) and whether the
    stencil follows SO(3)."""

    cotangent: torch.Tensor
    directions: list[np.ndarray]
    on_rotations: bool

    def point(self, x: Any, direction: np.ndarray, t: float) -> torch.Tensor:
        x = np.asarray(x, dtype=np.float64)
        moved = along_rotations(x, direction, t) if self.on_rotations else x + t * direction
        return torch.tensor(moved, dtype=F64)

    def arguments(self, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The arguments at x + s h v for every direction and stencil point, in order (x the
        first of ``args``)."""
        x, *rest = args
        return [
            (self.point(x, v, s * FD_STEP), *rest) for v in self.directions for s, _ in FD_STENCIL
        ]

    def derivative(self, grad: np.ndarray, x: Any, direction: np.ndarray) -> float:
        """⟨∇, v⟩ — along R [u]ₓ ``on_rotations``."""
        if self.on_rotations:
            R = np.asarray(x, dtype=np.float64)
            return float((tangent_part(grad, R) * direction).sum())
        return float((grad * direction).sum())

    def finite_differences(self, values: Sequence[np.ndarray]) -> list[float]:
        """The five-point derivative of ⟨c, f⟩ along each direction, from the stencil's values."""
        c = self.cotangent.numpy()
        out = []
        for k in range(len(self.directions)):
            phi = [float((np.asarray(v, dtype=np.float64) * c).sum()) for v in values[4 * k :][:4]]
            out.append(
                sum(w * p for (_, w), p in zip(FD_STENCIL, phi, strict=True)) / (12 * FD_STEP)
            )
        return out


def draw_directions(
    rng: np.random.Generator, x: torch.Tensor, on_rotations: bool
) -> list[np.ndarray]:
    """Random directions of unit length per batch element: axes (..., 3) ``on_rotations``, else
    tensors shaped like ``x`` (normalised over the last axis, or the last two for matrices)."""
    out = []
    for _ in range(FD_DIRECTIONS):
        if on_rotations:
            u = rng.normal(size=x.shape[:-2] + (3,))
            out.append(u / np.linalg.norm(u, axis=-1, keepdims=True))
        else:
            v = rng.normal(size=tuple(x.shape))
            axes = (-2, -1) if x.shape[-2:] == (3, 3) else (-1,)
            out.append(v / np.sqrt((v * v).sum(axis=axes, keepdims=True)))
    return out


def gradient_probes(
    fn: str, cases: Callable[[np.random.Generator], list[Case]], on_rotations: bool
) -> Callable[[np.random.Generator], list[Probe]]:
    """The probes of ``fn``'s gradient for its first argument: for each of ``cases(rng)`` (float64,
    the cotangent as key), a ``Vjp`` and a ``Call`` at every point of the stencil; the case's
    key becomes its ``Stencil``."""

    def probes(rng: np.random.Generator) -> list[Probe]:
        drawn = list(cases(rng))
        out = []
        for case in drawn:
            stencil = Stencil(
                case.key, draw_directions(rng, case.args[0], on_rotations), on_rotations
            )
            requests: list[Request] = [Vjp(fn, case.args, [0], stencil.cotangent)]
            requests += [Call(fn, args) for args in stencil.arguments(case.args)]
            out.append(Probe(dataclasses.replace(case, key=stencil), requests))
        return out

    return probes


def gradient_judge(fn: str, reference: Callable[..., torch.Tensor], names: Sequence[str]) -> Judge:
    """None when the learner's value, gradient and stencil values are right (see above)."""
    expected = reference64(reference)
    name = names[0]

    def judge(values: list[Any], probe: Probe) -> str | None:
        case, stencil = probe.case, probe.case.key
        try:
            answer = vjp_answer(values[0])
        except TypeError:
            return "did not answer the gradient request"
        out = np.asarray(expected(*case.args), dtype=np.float64)
        problem = LOSS(answer.out, out, case)
        if problem:
            return f"value: {problem}"
        grads = answer.grads
        if not isinstance(grads, list) or len(grads) != 1:
            return "did not answer the gradient request"
        if grads[0] is None:
            return NO_GRADIENT
        grad, problem = as_array(grads[0], kinds="biuf")
        if grad is None:
            return f"gradient for `{name}`: {problem}"
        shape = tuple(case.args[0].shape)
        if grad.shape != shape:
            return f"the gradient for `{name}` has shape {grad.shape}, not {shape}"
        if not np.all(np.isfinite(grad)):
            return f"the gradient for `{name}` holds NaN or infinity"
        mine = []
        for value in values[1:]:
            arr, problem = as_array(value, kinds="biuf")
            if arr is None:
                return f"at a point near the case: {problem}"
            if arr.shape != out.shape:
                return f"at a point near the case: returned shape {arr.shape}, not {out.shape}"
            mine.append(arr)
        truth = stencil.finite_differences(
            [np.asarray(expected(*args), dtype=np.float64) for args in stencil.arguments(case.args)]
        )
        theirs = stencil.finite_differences(mine)
        x = case.args[0]
        autograd = [stencil.derivative(grad.astype(np.float64), x, v) for v in stencil.directions]
        tol = 1e-6 * max(abs(t) for t in truth) + 1e-8
        if any(abs(a - f) > tol for a, f in zip(autograd, theirs, strict=True)):
            return NOT_YOUR_FUNCTION.format(fn=fn)
        err = max(abs(a - t) for a, t in zip(autograd, truth, strict=True))
        if err > tol:
            scale = max(abs(t) for t in truth)
            return (
                f"wrong gradient for `{name}` (largest error {err:.2g} along a random direction, "
                f"{err / max(scale, 1e-300):.2g} of its size)"
            )
        return None

    return judge


def gradient_check(
    fn: str,
    cases: Callable[[np.random.Generator], list[Case]],
    reference: Callable[..., torch.Tensor],
    names: Sequence[str],
    weight: float = 1.0,
    on_rotations: bool = False,
) -> ProbeCheck:
    """``fn``'s gradient for its first argument, per case (the case's key is the cotangent),
    against finite differences in float64, along ``FD_DIRECTIONS`` random directions per case;
    the value at the case itself against the reference too."""
    return ProbeCheck(
        f"gradient of `{fn}`",
        gradient_probes(fn, cases, on_rotations),
        gradient_judge(fn, reference, names),
        weight=weight,
    )


def with_cotangent(
    rng: np.random.Generator, args: tuple[Any, ...], shape: tuple[int, ...], *tags: str
) -> Case:
    return Case(args, key=torch.tensor(rng.normal(size=shape), dtype=F64), tags=tags)


# -- A: L2 on quaternions -------------------------------------------------------------------------

QUAT_NAMES = ("q_pred", "q_true")

#: The tiny angles (rad) of Parts A and B, beside the visible 1e-9 about z.
TINY = (1e-9, 3e-9)


def quat_about_z(angle: float) -> torch.Tensor:
    return torch.tensor([math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)], dtype=F64)


def l2_cases(rng: np.random.Generator) -> list[Case]:
    q = torch.tensor([0.5, 0.5, -0.5, 0.5], dtype=F64)
    visible = [
        Case((q, q), label="q and q", visible=True),
        Case((3 * q, q), label="3q and q: normalise the prediction", visible=True),
        Case((q, -q), label="q and −q", visible=True),
        Case(
            (quat_about_z(1e-9), quat_about_z(0.0)),
            label="1e-9 rad",
            visible=True,
            tags=(TINY_TAG,),
        ),
    ]
    cases = [Case(quat_pair(rng, rng.uniform(0.05, math.pi))) for _ in range(6)]
    cases += [Case(quat_pair(rng, t), tags=(TINY_TAG,)) for t in TINY]
    cases.append(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=(2, 3)), (2, 3))))
    q_pred, q_true = quat_pair(rng, rng.uniform(0.05, math.pi, size=3), (3,))
    cases.append(Case((q_pred[None].expand(2, 3, 4), q_true), label="broadcasting"))
    cases.append(float32_variant(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=4), (4,)))))
    return visible + cases


def l2_gradient_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        q_pred, q_true = quat_pair(rng, rng.uniform(0.2, math.pi - 0.2, size=4), (4,))
        out.append(with_cotangent(rng, (q_pred, q_true), (4,)))
    return out


def unnormalised_l2(q_pred: torch.Tensor, q_true: torch.Tensor) -> torch.Tensor:
    d = q_pred - PL.normalize_quat(q_true)
    return (d * d).sum(-1)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (PL.normalize_quat(a) * PL.normalize_quat(b)).sum(-1)


#: For matching a form that cancels at tiny angles (``1 − d²``, ``2 − 2|d|``): its rounding noise
#: near 0 is a few multiples of 1.1e-16, whatever the order of the operations.
CANCELLING = allclose(0.0, 2e-15)


CANCELS_L2 = "2 − 2⟨q̂, q⟩ (cancels at tiny angles)"
CANCELS_SIGNLESS = "2 − 2|⟨q̂, q⟩| (cancels at tiny angles)"
CANCELS_SMOOTH = "1 − ⟨q̂, q⟩² written literally (cancels at tiny angles)"


PART_A = Part(
    "test_l2",
    "Part A — L2 on quaternions and the sign of q",
    [
        FunctionCheck(
            "quat_l2_loss",
            l2_cases,
            reference64(PL.quat_l2_loss),
            tiny_relative(Elementwise(1e-9, 1e-12), Elementwise(1e-5, 1e-6)),
            mistakes=[
                Mistake(
                    CANCELS_L2,
                    "Your loss is right except at angles of 1e-9 rad, where it returns 0 or rounding "
                    "noise: 2 − 2⟨q̂, q⟩ subtracts two numbers equal to 16 digits. Compute the "
                    "definition, the squared norm of q̂ − q, which keeps its relative accuracy.",
                    reference64(lambda a, b: 2 - 2 * _dot(a, b)),
                    compare=CANCELLING,
                ),
                Mistake(
                    "prediction not normalised",
                    "Your loss uses the raw prediction: normalise it first, q̂ = q_pred / ‖q_pred‖ "
                    "(normalize_quat), as the network's output is not a unit quaternion.",
                    reference64(unnormalised_l2),
                    compare=allclose(),
                ),
                Mistake(
                    "the distance, not its square",
                    "Your loss is ‖q̂ − q‖; the L2 loss is its square, ‖q̂ − q‖².",
                    reference64(lambda a, b: PL.quat_l2_loss(a, b).sqrt()),
                    compare=allclose(),
                ),
            ],
        ),
        FunctionCheck(
            "quat_l2_loss_signless",
            l2_cases,
            reference64(PL.quat_l2_loss_signless),
            tiny_relative(Elementwise(1e-9, 1e-12), Elementwise(1e-5, 1e-6)),
            weight=1.5,
            mistakes=[
                Mistake(
                    CANCELS_SIGNLESS,
                    "Your loss is right except at angles of 1e-9 rad, where it returns 0 or rounding "
                    "noise: 2 − 2|⟨q̂, q⟩| subtracts two numbers equal to 16 digits. Compute the "
                    "definition, min(‖q̂ − q‖², ‖q̂ + q‖²), which keeps its relative accuracy.",
                    reference64(lambda a, b: 2 - 2 * _dot(a, b).abs()),
                    compare=CANCELLING,
                ),
                Mistake(
                    "L2 without the minimum over ±q",
                    "Your loss is ‖q̂ − q‖² alone: q and −q are the same rotation, so take "
                    "min(‖q̂ − q‖², ‖q̂ + q‖²) — otherwise a right answer of the wrong sign costs 4.",
                    reference64(PL.quat_l2_loss),
                    compare=allclose(),
                ),
                Mistake(
                    "prediction not normalised",
                    "Your loss uses the raw prediction: normalise it first (normalize_quat).",
                    reference64(
                        lambda a, b: torch.minimum(unnormalised_l2(a, b), unnormalised_l2(-a, b))
                    ),
                    compare=allclose(),
                ),
                Mistake(
                    "the distance, not its square",
                    "Your loss is min(‖q̂ − q‖, ‖q̂ + q‖); the L2 loss is the square of that.",
                    reference64(lambda a, b: PL.quat_l2_loss_signless(a, b).sqrt()),
                    compare=allclose(),
                ),
            ],
        ),
        gradient_check("quat_l2_loss", l2_gradient_cases, PL.quat_l2_loss, QUAT_NAMES, 0.5),
        gradient_check(
            "quat_l2_loss_signless", l2_gradient_cases, PL.quat_l2_loss_signless, QUAT_NAMES, 0.5
        ),
        ValueCheck(
            "L2_SAME_ROTATION_MAX",
            4.0,
            number_close(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "the distance, not its square",
                    "‖q − (−q)‖ = 2, but the loss is its square: 4.",
                    lambda: 2.0,
                ),
                Mistake(
                    "the same rotation, so zero",
                    "Two quaternions of one rotation are q and −q, and ‖q − (−q)‖² = 4: the plain "
                    "L2 loss does not see that they are the same rotation.",
                    lambda: 0.0,
                ),
            ],
        ),
    ],
)

# -- B: geodesic loss -----------------------------------------------------------------------------


def geodesic_cases(rng: np.random.Generator) -> list[Case]:
    visible = [
        Case((quat_about_z(0.2), quat_about_z(1.5)), label="0.2 and 1.5 rad about z", visible=True),
        Case((quat_about_z(0.0), -quat_about_z(3.0)), label="0 and −q(3 rad)", visible=True),
        Case(
            (quat_about_z(1e-9), quat_about_z(0.0)),
            label="1e-9 rad",
            visible=True,
            tags=(TINY_TAG,),
        ),
    ]
    cases = [Case(quat_pair(rng, rng.uniform(0.05, math.pi))) for _ in range(5)]
    cases += [Case(quat_pair(rng, t), tags=(TINY_TAG,)) for t in TINY]
    cases.append(Case(quat_pair(rng, math.pi - 1e-6), label="nearly a half turn"))
    cases.append(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=(2, 3)), (2, 3))))
    cases.append(float32_variant(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=3), (3,)))))
    return visible + cases


def smooth_cases(rng: np.random.Generator) -> list[Case]:
    visible = [
        Case((quat_about_z(0.0), quat_about_z(1.0)), label="0 and 1 rad about z", visible=True),
        Case(
            (quat_about_z(1e-9), quat_about_z(0.0)),
            label="1e-9 rad",
            visible=True,
            tags=(TINY_TAG,),
        ),
    ]
    cases = [Case(quat_pair(rng, rng.uniform(0.05, math.pi))) for _ in range(5)]
    cases += [Case(quat_pair(rng, t), tags=(TINY_TAG,)) for t in TINY]
    q_true = torch.tensor(unit_quats(rng, 3), dtype=F64)
    on_truth = torch.tensor(raw(rng, q_true.numpy()), dtype=F64)
    cases.append(Case((on_truth, q_true), label="on the truth", tags=("zero",)))
    cases.append(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=(2, 3)), (2, 3))))
    cases.append(float32_variant(Case(quat_pair(rng, rng.uniform(0.05, math.pi, size=3), (3,)))))
    return visible + cases


def geodesic_gradient_cases(rng: np.random.Generator) -> list[Case]:
    out = []
    for _ in range(3):
        q_pred, q_true = quat_pair(rng, rng.uniform(0.2, math.pi - 0.2, size=4), (4,))
        out.append(with_cotangent(rng, (q_pred, q_true), (4,)))
    return out


def smooth_gradient_cases(rng: np.random.Generator) -> list[Case]:
    out = geodesic_gradient_cases(rng)[:2]
    q_true = torch.tensor(unit_quats(rng, 4), dtype=F64)
    on_truth = torch.tensor(raw(rng, q_true.numpy()), dtype=F64)
    out.append(with_cotangent(rng, (on_truth, q_true), (4,), "zero"))
    return out


#: Equal up to what ``arccos`` near ±1 loses (for diagnosing that mistake), in any dtype.
ACOS_LIKE = close(Elementwise(1e-6, 5e-8), Elementwise(1e-6, 2e-3), dtypes="none")


PART_B = Part(
    "test_geodesic",
    "Part B — the geodesic loss near zero",
    [
        FunctionCheck(
            "quat_geodesic_loss",
            geodesic_cases,
            reference64(PL.quat_geodesic_loss),
            close(Elementwise(1e-6, 1e-14), Elementwise(2e-3, 1e-6), dtypes="all"),
            weight=1.5,
            mistakes=[
                Mistake(
                    "acos of the dot product losing precision",
                    "Your angle comes from arccos, which returns 0 below about 1e-8 rad (3e-4 in "
                    "float32): use θ = 4·atan2(min(‖q̂ − q‖, ‖q̂ + q‖), max(‖q̂ − q‖, ‖q̂ + q‖)).",
                    reference64(PL.quat_geodesic_loss_acos),
                    compare=ACOS_LIKE,
                ),
                Mistake(
                    "no sign alignment (angle above π)",
                    "Your angle exceeds π when ⟨q̂, q⟩ < 0: q and −q are the same rotation — use "
                    "|⟨q̂, q⟩|, or the smaller of ‖q̂ ∓ q‖.",
                    reference64(lambda a, b: 2 * torch.acos(torch.clamp(_dot(a, b), -1, 1))),
                    compare=ACOS_LIKE,
                ),
                Mistake(
                    "half the angle",
                    "Your loss is θ/2: the quaternion sphere sees half the rotation angle, "
                    "|⟨q̂, q⟩| = cos(θ/2), so θ = 2 arccos|⟨q̂, q⟩| = 4 atan2(…).",
                    reference64(lambda a, b: PL.quat_geodesic_loss(a, b) / 2),
                    compare=allclose(1e-6, 1e-12),
                ),
                Mistake(
                    "prediction not normalised",
                    "Your loss uses the raw prediction: normalise it first (normalize_quat).",
                    reference64(
                        lambda a, b: (
                            4
                            * torch.atan2(
                                torch.minimum((a - b).norm(dim=-1), (a + b).norm(dim=-1)),
                                torch.maximum((a - b).norm(dim=-1), (a + b).norm(dim=-1)),
                            )
                        )
                    ),
                    compare=allclose(1e-6, 1e-12),
                ),
                Mistake(
                    "degrees for radians",
                    "Your angle is in degrees; all angles in this course are radians.",
                    reference64(lambda a, b: torch.rad2deg(PL.quat_geodesic_loss(a, b))),
                    compare=allclose(1e-5, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "quat_smooth_loss",
            smooth_cases,
            reference64(PL.quat_smooth_loss),
            tiny_relative(Elementwise(1e-7, 1e-13), Elementwise(1e-4, 1e-6)),
            mistakes=[
                Mistake(
                    CANCELS_SMOOTH,
                    "Your loss is right except at angles of 1e-9 rad, where it returns 0 or rounding "
                    "noise (even a negative number): 1 − d² subtracts two numbers equal to 16 "
                    "digits. On the unit sphere 1 − d² = ‖q̂ − q‖² ‖q̂ + q‖² / 4, which keeps its "
                    "relative accuracy.",
                    reference64(lambda a, b: 1 - _dot(a, b) ** 2),
                    compare=CANCELLING,
                ),
                Mistake(
                    "1 − |⟨q̂, q⟩| for 1 − ⟨q̂, q⟩²",
                    "Your loss is 1 − |⟨q̂, q⟩| = 1 − cos(θ/2); the smooth loss is 1 − ⟨q̂, q⟩² = "
                    "sin²(θ/2).",
                    reference64(lambda a, b: 1 - _dot(a, b).abs()),
                    compare=allclose(1e-6, 1e-12),
                ),
                Mistake(
                    "1 − ⟨q̂, q⟩ (sign-dependent)",
                    "Your loss is 1 − ⟨q̂, q⟩, which depends on the sign of q: square the dot "
                    "product.",
                    reference64(lambda a, b: 1 - _dot(a, b)),
                    compare=allclose(1e-6, 1e-12),
                ),
                Mistake(
                    "prediction not normalised",
                    "Your loss uses the raw prediction: normalise it first (normalize_quat).",
                    reference64(lambda a, b: 1 - (a * PL.normalize_quat(b)).sum(-1) ** 2),
                    compare=allclose(1e-6, 1e-12),
                ),
            ],
        ),
        gradient_check(
            "quat_geodesic_loss", geodesic_gradient_cases, PL.quat_geodesic_loss, QUAT_NAMES
        ),
        gradient_check("quat_smooth_loss", smooth_gradient_cases, PL.quat_smooth_loss, QUAT_NAMES),
        ValueCheck(
            "SMOOTH_TAYLOR",
            (0.25, -1 / 48),
            tuple_of(c2=number_close(1e-4), c4=number_close(1e-4)),
            weight=0.75,
            mistakes=[
                Mistake(
                    "the expansion of 1 − cos θ",
                    "(1/2, −1/24) are the coefficients of 1 − cos θ; the smooth loss is half of "
                    "that: (1 − cos θ)/2 = sin²(θ/2).",
                    lambda: (0.5, -1 / 24),
                ),
                Mistake(
                    "the expansion of 1 − |⟨q̂, q⟩|",
                    "(1/8, −1/384) are the coefficients of 1 − cos(θ/2) = 1 − |⟨q̂, q⟩|; the smooth "
                    "loss is 1 − ⟨q̂, q⟩² = sin²(θ/2).",
                    lambda: (0.125, -1 / 384),
                ),
                Mistake(
                    "the sign of the θ⁴ term",
                    "sin²(θ/2) = θ²/4 − θ⁴/48 + …: the θ⁴ coefficient is negative (cos θ = 1 − "
                    "θ²/2 + θ⁴/24 − …).",
                    lambda: (0.25, 1 / 48),
                ),
            ],
        ),
    ],
)

# -- C: chordal loss ------------------------------------------------------------------------------

MATRIX_NAMES = ("R_pred", "R_true")


def chordal_cases(rng: np.random.Generator) -> list[Case]:
    eye = torch.eye(3, dtype=F64)
    visible = [
        Case(
            (eye, torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=F64))),
            label="I and a half turn",
            visible=True,
        )
    ]
    cases = [Case((rotations(rng), rotations(rng))) for _ in range(5)]
    cases.append(Case((rotations(rng, 2, 3), rotations(rng, 3)), label="broadcasting"))
    cases.append(
        Case(
            (rotations(rng, 2) + 0.1 * torch.tensor(rng.normal(size=(2, 3, 3))), rotations(rng, 2)),
            label="a prediction that is not a rotation",
        )
    )
    cases.append(float32_variant(Case((rotations(rng, 3), rotations(rng, 3)))))
    return visible + cases


def chordal_gradient_cases(rng: np.random.Generator) -> list[Case]:
    return [with_cotangent(rng, (rotations(rng, 4), rotations(rng, 4)), (4,)) for _ in range(2)]


PART_C = Part(
    "test_chordal",
    "Part C — the chordal loss",
    [
        FunctionCheck(
            "chordal_loss",
            chordal_cases,
            reference64(PL.chordal_loss),
            LOSS,
            mistakes=[
                Mistake(
                    "the Frobenius norm, not its square",
                    "Your loss is ‖R̂ − R‖_F; the chordal loss is its square, the sum of the "
                    "squared differences of the entries.",
                    reference64(lambda a, b: PL.chordal_loss(a, b).sqrt()),
                    compare=allclose(),
                ),
                Mistake(
                    "3 − tr(R̂ᵀR) (half the loss)",
                    "Your loss is 3 − tr(R̂ᵀR); ‖R̂ − R‖²_F = 2(3 − tr R̂ᵀR) for rotations.",
                    reference64(
                        lambda a, b: (
                            3 - (a.transpose(-1, -2) @ b).diagonal(dim1=-2, dim2=-1).sum(-1)
                        )
                    ),
                    compare=allclose(),
                ),
            ],
        ),
        gradient_check("chordal_loss", chordal_gradient_cases, PL.chordal_loss, MATRIX_NAMES, 0.5),
        ValueCheck(
            "CHORDAL_OVER_SMOOTH",
            8.0,
            number_close(),
            weight=0.75,
            mistakes=[
                Mistake(
                    "4 for 8",
                    "‖R̂ − R‖²_F = 2(3 − tr R̂ᵀR) = 4(1 − cos θ), and 1 − ⟨q̂, q⟩² = (1 − cos θ)/2: "
                    "the ratio is 8.",
                    lambda: 4.0,
                ),
                Mistake(
                    "2√2 (the distances, not the losses)",
                    "2√2 relates the distances d_chord = 2√2 sin(θ/2) and sin(θ/2); the losses are "
                    "their squares: 8.",
                    lambda: 2 * math.sqrt(2),
                ),
            ],
        ),
    ],
)

# -- D: 6D representation -------------------------------------------------------------------------


def sixd_cases(rng: np.random.Generator) -> list[Case]:
    visible = [
        Case(
            (torch.tensor([2.0, 0.0, 0.0, 1.0, 3.0, 0.0], dtype=F64),),
            label="[2, 0, 0, 1, 3, 0] → I",
            visible=True,
        )
    ]
    cases = [
        Case((torch.tensor(rng.normal(size=6) * rng.uniform(0.2, 5), dtype=F64),)) for _ in range(5)
    ]
    cases.append(Case((torch.tensor(rng.normal(size=(2, 3, 6)), dtype=F64),)))
    cases.append(float32_variant(Case((torch.tensor(rng.normal(size=(4, 6)), dtype=F64),))))
    return visible + cases


def sixd_gradient_cases(rng: np.random.Generator) -> list[Case]:
    return [
        with_cotangent(rng, (torch.tensor(rng.normal(size=(4, 6)), dtype=F64),), (4, 3, 3))
        for _ in range(2)
    ]


def to_sixd_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((rotations(rng),)) for _ in range(4)]
    cases.append(Case((rotations(rng, 2, 3),)))
    cases.append(float32_variant(Case((rotations(rng, 3),))))
    return cases


def _sixd_variant(
    x: torch.Tensor, rows: bool = False, flip: bool = False, ortho: bool = True, unit2: bool = True
):
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True)
    u2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1 if ortho else a2
    b2 = u2 / u2.norm(dim=-1, keepdim=True) if unit2 else u2
    b3 = torch.linalg.cross(b2, b1, dim=-1) if flip else torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-2 if rows else -1)


PART_D = Part(
    "test_sixd",
    "Part D — the 6D representation",
    [
        FunctionCheck(
            "sixd_to_matrix",
            sixd_cases,
            reference64(PL.sixd_to_matrix),
            close(Elementwise(1e-9, 1e-12), Elementwise(1e-5, 1e-5), dtypes="all"),
            weight=1.5,
            mistakes=[
                Mistake(
                    "b₁, b₂, b₃ as rows",
                    "Your matrix has b₁, b₂, b₃ as its rows; Zhou et al.'s Gram–Schmidt map puts "
                    "them in the columns (the transpose of yours).",
                    reference64(lambda x: _sixd_variant(x, rows=True)),
                    compare=allclose(),
                ),
                Mistake(
                    "b₃ = b₂ × b₁ (a reflection)",
                    "Your third column is b₂ × b₁ = −b₁ × b₂: det = −1, a reflection, not a "
                    "rotation.",
                    reference64(lambda x: _sixd_variant(x, flip=True)),
                    compare=allclose(),
                ),
                Mistake(
                    "a₂ not orthogonalised",
                    "Your b₂ is a₂ normalised, not orthogonal to b₁: subtract (b₁·a₂) b₁ first.",
                    reference64(lambda x: _sixd_variant(x, ortho=False)),
                    compare=allclose(),
                ),
                Mistake(
                    "b₂ not normalised",
                    "Your b₂ = a₂ − (b₁·a₂) b₁ is not normalised: divide it by its norm.",
                    reference64(lambda x: _sixd_variant(x, unit2=False)),
                    compare=allclose(),
                ),
            ],
        ),
        FunctionCheck(
            "matrix_to_sixd",
            to_sixd_cases,
            reference64(PL.matrix_to_sixd),
            close(Elementwise(1e-12, 1e-14), Elementwise(1e-6, 1e-7), dtypes="all"),
            mistakes=[
                Mistake(
                    "rows for columns",
                    "You took the first two rows of R; the 6D representation is its first two "
                    "columns, R[..., :, 0] then R[..., :, 1].",
                    reference64(lambda R: torch.cat([R[..., 0, :], R[..., 1, :]], dim=-1)),
                    compare=allclose(),
                ),
                Mistake(
                    "interleaved columns",
                    "Your six numbers interleave the two columns (R[..., :2] flattened row by "
                    "row): concatenate the first column, then the second.",
                    reference64(lambda R: R[..., :, :2].reshape(*R.shape[:-2], 6)),
                    compare=allclose(),
                ),
            ],
        ),
        gradient_check("sixd_to_matrix", sixd_gradient_cases, PL.sixd_to_matrix, ("x",)),
        ValueCheck(
            "QUAT_JUMP_ANGLE",
            math.pi,
            number_close(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "π/2 for π",
                    "w = cos(θ/2) reaches 0 at θ = π, not π/2: the hemisphere w ≥ 0 jumps at half "
                    "turns.",
                    lambda: math.pi / 2,
                )
            ],
        ),
        ValueCheck(
            "MIN_CONTINUOUS_DIM",
            5,
            number_close(rtol=0.0),
            weight=0.5,
            mistakes=[
                Mistake(
                    "4 (quaternions)",
                    "Unit quaternions are 4 numbers, but the map from rotations to them cannot be "
                    "continuous (q and −q): Zhou et al. show every representation in 4 or fewer "
                    "dimensions is discontinuous, and give a 5D one.",
                    lambda: 4,
                ),
                Mistake(
                    "6 (the Gram–Schmidt representation)",
                    "6D is continuous, but not the smallest: Zhou et al. also give a 5D "
                    "representation.",
                    lambda: 6,
                ),
            ],
        ),
    ],
)

# -- E: handedness, numerically -------------------------------------------------------------------

FLIP = (1.0, 1.0, -1.0)


def general_rotations(rng: np.random.Generator, *shape: int) -> torch.Tensor:
    """Rotations with no entry within 0.05 of 0 or ±1: every sign flip shows."""
    out = []
    for _ in range(math.prod(shape)):
        while True:
            R = Q.quat_to_matrix(unit_quats(rng))
            if np.all(np.abs(R) > 0.05) and np.all(np.abs(R) < 0.95):
                break
        out.append(R)
    return torch.tensor(np.reshape(out, (*shape, 3, 3)), dtype=F64)


def mirror_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((general_rotations(rng),)) for _ in range(5)]
    cases.append(Case((general_rotations(rng, 2, 3),)))
    cases.append(float32_variant(Case((general_rotations(rng, 3),))))
    return cases


def points_cases(rng: np.random.Generator) -> list[Case]:
    def atoms(*shape: int) -> torch.Tensor:
        return torch.tensor(rng.normal(size=(*shape, 3)) * 10, dtype=F64)

    visible = [
        Case(
            (
                atoms(12),
                torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64),
            ),
            label="+90° about z",
            visible=True,
        )
    ]
    cases = [Case((atoms(int(rng.integers(3, 9))), general_rotations(rng))) for _ in range(4)]
    cases.append(Case((atoms(7), general_rotations(rng, 3)), label="one molecule, three poses"))
    cases.append(Case((atoms(2, 5), general_rotations(rng, 2)), label="a batch of molecules"))
    cases.append(float32_variant(Case((atoms(6), general_rotations(rng)))))
    return visible + cases


def _signs(R: torch.Tensor, rows: Sequence[float], cols: Sequence[float]) -> torch.Tensor:
    r = torch.tensor(rows, dtype=R.dtype)
    c = torch.tensor(cols, dtype=R.dtype)
    return R * r[:, None] * c[None, :]


PART_E = Part(
    "test_handedness",
    "Part E — the handedness ambiguity, numerically",
    [
        FunctionCheck(
            "mirror_pose",
            mirror_cases,
            reference64(PL.mirror_pose),
            close(Elementwise(0.0, 1e-15), Elementwise(0.0, 1e-7), dtypes="all"),
            mistakes=[
                Mistake(
                    "F R (a reflection)",
                    "Your pose is F R: its third row is flipped but not its third column, and "
                    "det(F R) = −1 — a reflection, not a rotation. R̃ = F R F.",
                    reference64(lambda R: _signs(R, FLIP, (1, 1, 1))),
                    compare=allclose(),
                ),
                Mistake(
                    "R F (a reflection)",
                    "Your pose is R F: its third column is flipped but not its third row, and "
                    "det(R F) = −1. R̃ = F R F.",
                    reference64(lambda R: _signs(R, (1, 1, 1), FLIP)),
                    compare=allclose(),
                ),
                Mistake(
                    "F Rᵀ F (transposed)",
                    "Your pose is the transpose of F R F.",
                    reference64(lambda R: PL.mirror_pose(R).transpose(-1, -2)),
                    compare=allclose(),
                ),
            ],
        ),
        FunctionCheck(
            "project_points",
            points_cases,
            reference64(PL.project_points),
            close(Elementwise(1e-12, 1e-12), Elementwise(1e-5, 1e-4), dtypes="all"),
            mistakes=[
                Mistake(
                    "points @ R (the inverse rotation)",
                    "You rotated the atoms by Rᵀ: points stored as rows are rotated with "
                    "points @ R.T (that is R p for each column vector p).",
                    reference64(lambda p, R: (p @ R)[..., :2]),
                    compare=allclose(),
                ),
                Mistake(
                    "dropped x for z",
                    "You kept (y, z); the image shows (x, y) — the projection is along z.",
                    reference64(lambda p, R: (p @ R.transpose(-1, -2))[..., 1:]),
                    compare=allclose(),
                ),
            ],
        ),
    ],
)

# -- F: handedness, symbolically ------------------------------------------------------------------

_A, _B, _G = sympy.symbols("alpha beta gamma", real=True)
SYMBOLS = {"alpha": _A, "beta": _B, "gamma": _G}


def _rz(t: Any) -> sympy.Matrix:
    return sympy.Matrix(
        [[sympy.cos(t), -sympy.sin(t), 0], [sympy.sin(t), sympy.cos(t), 0], [0, 0, 1]]
    )


def _ry(t: Any) -> sympy.Matrix:
    return sympy.Matrix(
        [[sympy.cos(t), 0, sympy.sin(t)], [0, 1, 0], [-sympy.sin(t), 0, sympy.cos(t)]]
    )


def euler_zyz(a: Any, b: Any, g: Any) -> sympy.ImmutableMatrix:
    return sympy.ImmutableMatrix(_rz(a) * _ry(b) * _rz(g))


EULER = euler_zyz(_A, _B, _G)
F_SYM = sympy.diag(1, 1, -1)
MIRRORED = sympy.ImmutableMatrix(F_SYM * EULER * F_SYM)


def entries(rng: np.random.Generator) -> list[Case]:
    return [Case(label=f"entry {i, j}", key=(i, j)) for i in range(3) for j in range(3)]


_POINTS = rational_points(list(SYMBOLS), n=6, seed=20220325)
_SUBS = [{SYMBOLS[k]: v for k, v in pt.items()} for pt in _POINTS]


def same_euler_matrix(value: Any, expected: Any, case: Case) -> str | None:
    """Three SymPy expressions whose ZYZ matrix equals that of ``expected`` (three expressions) at
    random rational angles."""
    if value is None:
        return "returned None (a missing `return`?)"
    if not isinstance(value, tuple | list) or len(value) != 3:
        return "did not return a tuple of three expressions"
    got = []
    for v in value:
        if isinstance(v, SympyTree):
            try:
                got.append(rebuild_sympy(v, SYMBOLS))
            except DecodeError as exc:
                return f"could not be read ({exc})"
        elif isinstance(v, int | float) and not isinstance(v, bool):
            got.append(sympy.Float(v) if isinstance(v, float) else sympy.Integer(v))
        else:
            return f"returned a {type(v).__name__} where a SymPy expression was expected"
    mine = euler_zyz(*got)
    theirs = euler_zyz(*expected)
    for s in _SUBS:
        try:
            diff = (mine - theirs).xreplace(s)
            if any(abs(complex(e.evalf(30))) > 1e-9 for e in diff):
                return "the Euler angles do not give F R F"
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return "could not be evaluated"
    return None


PART_F = Part(
    "test_symbolic",
    "Part F — the handedness ambiguity, symbolically",
    [
        FunctionCheck(
            "euler_zyz_symbolic",
            entries,
            lambda: EULER,
            sympy_equal(SYMBOLS),
            mistakes=[
                Mistake(
                    "transposed matrix",
                    "Your matrix is the transpose of R_z(α) R_y(β) R_z(γ): check the signs of "
                    "the sines in R_z and R_y (R_y(t) has +sin t in its first row).",
                    lambda: EULER.T,
                ),
                Mistake(
                    "the angles in the other order",
                    "Your matrix is R_z(γ) R_y(β) R_z(α): the intrinsic ZYZ sequence multiplies "
                    "R_z(α) R_y(β) R_z(γ), α on the left.",
                    lambda: euler_zyz(_G, _B, _A),
                ),
            ],
        ),
        FunctionCheck(
            "mirror_euler_angles",
            lambda rng: [Case(label="the Euler angles of F R F")],
            lambda: (_A + sympy.pi, _B, _G + sympy.pi),
            same_euler_matrix,
            weight=1.5,
            mistakes=[
                Mistake(
                    "only α shifted by π",
                    "R_z(α + π) R_y(β) R_z(γ) = R_z(π) R is a rotation about z, not F R F: "
                    "F R_y(β) F = R_y(−β) = R_z(π) R_y(β) R_z(π) needs a half-turn on both sides.",
                    lambda: (_A + sympy.pi, _B, _G),
                ),
                Mistake(
                    "β shifted by π",
                    "R_y(β + π) is not F R_y(β) F = R_y(−β): shift α and γ by π and keep β.",
                    lambda: (_A, _B + sympy.pi, _G),
                ),
                Mistake(
                    "the signs of α and γ flipped",
                    "F commutes with R_z (it leaves x and y alone), so α and γ keep their signs; "
                    "F R_y(β) F = R_y(−β).",
                    lambda: (-_A, _B, -_G),
                ),
            ],
        ),
    ],
)

# -- G: symmetry ----------------------------------------------------------------------------------


def same_set(tol: float = 1e-9) -> Compare:
    """The rotations of a group, in float64 and in any order: the right number, each one a
    rotation, each one equal to an element of the expected group, all different."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arrays = answer_array(value, expected, case, dtypes="none", kinds="biuf")
        if isinstance(arrays, str):
            return arrays
        a, exp = arrays[0], arrays[1].astype(np.float64)
        if a.dtype != np.float64:
            return f"returned {a.dtype}; float64 was asked for"
        gram = a @ np.swapaxes(a, -1, -2)
        if np.abs(gram - np.eye(3)).max() > 1e-9 or np.abs(np.linalg.det(a) - 1).max() > 1e-9:
            return "returned matrices that are not all rotations"
        d = np.abs(a[:, None] - exp[None]).max(axis=(-2, -1))
        if not np.all(d.min(axis=1) < tol):
            return "returned rotations that are not in the group"
        if not np.all(d.min(axis=0) < tol):
            return "returned some elements twice and misses others"
        return None

    return compare


def _rz_np(t: np.ndarray) -> np.ndarray:
    c, s = np.cos(t), np.sin(t)
    z, o = np.zeros_like(t), np.ones_like(t)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*np.shape(t), 3, 3)


_RX_PI = np.diag([1.0, -1.0, -1.0])
_RY_PI = np.diag([-1.0, 1.0, -1.0])


def group_cases(rng: np.random.Generator) -> list[Case]:
    visible = [Case((n,), label=f"n = {n}", visible=True) for n in (1, 2, 3, 4)]
    hidden = [Case((int(n),)) for n in rng.choice(np.arange(5, 13), size=3, replace=False)]
    return visible + hidden


PART_G_GROUPS = [
    FunctionCheck(
        "cyclic_group",
        group_cases,
        lambda n: PL.cyclic_group(n).numpy(),
        same_set(),
        weight=0.75,
        mistakes=[
            Mistake(
                "about the x axis",
                "Your rotations turn about x; the symmetry axis is z: R_z(2πk/n).",
                lambda n: np.stack(
                    [
                        np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
                        for t in 2 * np.pi * np.arange(n) / n
                    ]
                ),
                compare=same_set(),
            ),
            Mistake(
                "angles πk/n",
                "Your angles are πk/n: the n rotations of C_n are by 2πk/n (a full turn in n "
                "steps).",
                lambda n: _rz_np(np.pi * np.arange(n) / n),
                compare=same_set(),
            ),
        ],
    ),
    FunctionCheck(
        "dihedral_group",
        group_cases,
        lambda n: PL.dihedral_group(n).numpy(),
        same_set(),
        weight=0.75,
        mistakes=[
            Mistake(
                "half-turns about the y axis family",
                "Your half-turns are R_z(2πk/n) R_y(π), about the axes at π/2 + πk/n: the "
                "convention here puts the x axis among the two-fold axes, R_z(2πk/n) R_x(π).",
                lambda n: np.concatenate(
                    [
                        _rz_np(2 * np.pi * np.arange(n) / n),
                        _rz_np(2 * np.pi * np.arange(n) / n) @ _RY_PI,
                    ]
                ),
                compare=same_set(),
            ),
        ],
    ),
]


def sym_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind, n in (
        ("C", 2),
        ("C", int(rng.integers(3, 7))),
        ("D", 2),
        ("D", int(rng.integers(3, 7))),
    ):
        G = (PL.cyclic_group if kind == "C" else PL.dihedral_group)(n)
        cases.append(Case((rotations(rng, 5), rotations(rng, 5), G), label=f"{kind}{n}"))
    G = PL.dihedral_group(3)
    R_true = rotations(rng, 4)
    R_pred = R_true @ G[torch.tensor(rng.integers(0, 6, size=4))]
    cases.append(Case((R_pred, R_true, G), label="poses equivalent under D3", tags=("zero",)))
    cases.append(
        Case((rotations(rng, 2, 3), rotations(rng, 3), PL.cyclic_group(4)), label="broadcasting")
    )
    cases.append(
        float32_variant(Case((rotations(rng, 4), rotations(rng, 4), PL.dihedral_group(4))))
    )
    return cases


def sym_gradient_cases(rng: np.random.Generator) -> list[Case]:
    """Poses away from the ridges: the two nearest elements at least 0.05 rad apart."""
    out = []
    for kind, n in (("C", int(rng.integers(2, 6))), ("D", int(rng.integers(2, 6)))):
        G = (PL.cyclic_group if kind == "C" else PL.dihedral_group)(n)
        picked: list[tuple[torch.Tensor, torch.Tensor]] = []
        while len(picked) < 4:
            Rp, Rt = rotations(rng), rotations(rng)
            d = PL.geodesic_distance(Rp, Rt @ G).sort().values
            if d[1] - d[0] > 0.05 and d[0] > 0.05:
                picked.append((Rp, Rt))
        Rp = torch.stack([p for p, _ in picked])
        Rt = torch.stack([t for _, t in picked])
        out.append(with_cotangent(rng, (Rp, Rt, G), (4,)))
    return out


def _over_group(reduce: Callable[[torch.Tensor], torch.Tensor], left: bool = False):
    def loss(R_pred: torch.Tensor, R_true: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
        cand = group @ R_true[..., None, :, :] if left else R_true[..., None, :, :] @ group
        return reduce(PL.geodesic_distance(R_pred[..., None, :, :], cand))

    return loss


def largest_cases(rng: np.random.Generator) -> list[Case]:
    visible = [Case(("C", 4), label="C4", visible=True), Case(("D", 2), label="D2", visible=True)]
    cases = [Case(("C", int(n))) for n in rng.choice(np.arange(1, 9), size=2, replace=False)]
    cases += [Case(("D", int(n))) for n in rng.choice(np.arange(1, 9), size=4, replace=False)]
    return visible + cases


def _sawtooth(kind: str, n: int) -> float:
    return math.pi / n


PART_G = Part(
    "test_symmetry",
    "Part G — symmetry: the symmetrised loss and its landscape",
    [
        *PART_G_GROUPS,
        FunctionCheck(
            "symmetrized_geodesic_loss",
            sym_cases,
            reference64(PL.symmetrized_geodesic_loss),
            close(
                Elementwise(1e-7, 1e-7), Elementwise(1e-4, 2e-3), dtypes="all"
            ),  # 1e-7: an arccos of the trace is not penalised here
            weight=1.5,
            mistakes=[
                Mistake(
                    "the group on the left (g R)",
                    "Your loss compares R̂ with g R: the symmetry acts on the volume, so the "
                    "equivalent poses are R g (the group on the right).",
                    reference64(_over_group(lambda d: d.min(-1).values, left=True)),
                    compare=allclose(1e-6, 1e-7),
                ),
                Mistake(
                    "the maximum over the group",
                    "Your loss takes the largest distance over the group; the pose is right when "
                    "it matches any equivalent pose: the minimum.",
                    reference64(_over_group(lambda d: d.max(-1).values)),
                    compare=allclose(1e-6, 1e-7),
                ),
                Mistake(
                    "the mean over the group",
                    "Your loss averages the distances over the group; the symmetrised loss is the "
                    "minimum.",
                    reference64(_over_group(lambda d: d.mean(-1))),
                    compare=allclose(1e-6, 1e-7),
                ),
            ],
        ),
        gradient_check(
            "symmetrized_geodesic_loss",
            sym_gradient_cases,
            PL.symmetrized_geodesic_loss,
            ("R_pred", "R_true", "group"),
            on_rotations=True,
        ),
        FunctionCheck(
            "largest_symmetrized_loss",
            largest_cases,
            PL.largest_symmetrized_loss,
            allclose(1e-6, 0.0),
            weight=1.5,
            mistakes=[
                Mistake(
                    "the sawtooth height π/n",
                    "π/n is the highest point along the turn about the symmetry axis; other "
                    "directions go higher. For C_n a half-turn about x is π from every element.",
                    _sawtooth,
                    compare=allclose(1e-6, 0.0),
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G]
