# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_00", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Problem set 8 — Pose losses and symmetry
#
# *Study group meetings of Friday 4 March 2022: [End-to-end orientation estimation (Lian et
# al., 2022)]({book_url}/book/meetings/2022-03-04-orientation-estimation.html), and Fridays 18 and 25 March 2022: [cryoAI, part I]({book_url}/book/meetings/2022-03-18-cryoai-1.html) and
# [part II]({book_url}/book/meetings/2022-03-25-cryoai-2.html) (Levy et al., 2022); this problem set's [page in the
# book]({book_url}/book/problem-sets/ps08_pose_losses.html).*
#
# A network that predicts the orientation of a particle from its image is trained by a
# *loss on rotations*: a number that says how far the predicted pose is from the true one,
# with a gradient that tells the network which way to move. Lian et al. (2022, §2.5)
# regress quaternions and discuss which loss to use; cryoAI (Levy et al., 2022) predicts
# poses without ever seeing a true one, and its supplementary material (§D) explains two
# ambiguities every such method meets — the hand of the molecule, and its symmetries. In
# this problem set you write those losses in PyTorch and look at what autograd makes of
# them:
#
# * the L2 loss on quaternions, and why the sign of $q$ matters (Part A);
# * the geodesic loss, its Taylor expansion near zero, and a form without `arccos` whose
#   gradient stays finite at zero (Part B); the chordal loss (Part C);
# * the continuous 6D representation of Zhou et al. (2019) and its Gram–Schmidt map
#   (Part D);
# * the handedness ambiguity $F R F = \tilde R$ of cryoAI's §D.1, numerically (Part E) and
#   symbolically with SymPy (Part F);
# * the symmetrised loss of §D.2 and the loss landscape for $C_n$ and $D_n$ symmetry, the
#   meeting's question 5 (Part G).
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)): quaternions are
# scalar-first `[w, x, y, z]` (Hamilton product); rotations are *active*; a rotation
# matrix left-multiplies column vectors of `xyz` coordinates (a batch of points stored as
# rows, shape `(N, 3)`, is rotated with `points @ R.T`); angles are **radians**.
# $R_z(t)$ turns $x$ towards $y$, $R_y(t)$ turns $z$ towards $x$, $R_x(t)$ turns $y$
# towards $z$.
#
# **The functions of Parts A–E and `symmetrized_geodesic_loss` take and return `torch`
# tensors** — any leading batch shape, which broadcasts between the arguments (`(..., 4)`
# quaternions, `(..., 3, 3)` matrices), in the dtype of their inputs (float32 in, float32
# out) — and must be **differentiable by autograd**: use torch operations only (no NumPy,
# no `.item()`, `.detach()` or `.numpy()` inside), so that the gradient reaches the inputs.
# The grader always passes the tensors of one call in **one** dtype (float32 or float64,
# Part G's group included); what your functions do with mixed dtypes is up to you
# (promote with `torch.promote_types`, or let `@` raise). The other answers are not tensors
# in, tensors out: `cyclic_group(n)` and `dihedral_group(n)` take a Python `int` and return
# float64 tensors, `largest_symmetrized_loss` returns a Python `float`, Part F returns SymPy
# objects, and the constants (`L2_SAME_ROTATION_MAX`, …) are Python numbers (`int` or
# `float`). **Degenerate inputs** are never graded: the grader passes no zero quaternion,
# no linearly dependent $a_1, a_2$ (Part D), no $n < 1$ and no kind but `"C"` or `"D"`
# (Part G) — return `nan` or raise `ValueError` there, as you like. The kernel runs Python
# 3.11.
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you
# work, or press **Validate** in the toolbar (see *Before you submit*). When you submit, the
# grader runs your notebook in a sandbox, then calls your functions on random inputs drawn
# for you — including the hard cases: angles of $10^{-9}$ rad, a prediction exactly on the
# truth, raw (unnormalised) network outputs of either sign, float32 — and compares the
# answers with a reference implementation outside your kernel, to the tolerances each part
# states (float32 answers against the float64 truth, to looser tolerances: $10^{-5}$ to
# $2\times10^{-3}$ depending on the function). It also checks **the
# gradients autograd computes through your code**, in float64, at random points, with a
# random weight on each output: along a few random directions, the derivative from your
# gradient must agree with finite differences of your own function's values (as
# `torch.autograd.gradcheck` in the visible tests) and of the reference's. Points per
# part are the fraction of those cases you get right; the
# feedback names common mistakes when it recognises them. Keep the function names and
# signatures; add cells of your own if you like. NumPy, SymPy, PyTorch and matplotlib are
# available (SciPy is not).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
# One import per cell: on a busy machine each has the whole time limit of a cell.
import math

import numpy as np  # noqa: F401 (for your own experiments)

# %% nbgrader={"grade": false, "grade_id": "import_sympy", "locked": true, "schema_version": 3, "solution": false, "task": false}
import sympy as sp

# %% nbgrader={"grade": false, "grade_id": "import_torch", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: tools from problem sets 1 and 2, in PyTorch.
def normalize_quat(x):
    """x / ‖x‖ over the last axis: the unit quaternion of a raw network output (..., 4)."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def quat_to_matrix(q):
    """Rotation matrices (..., 3, 3) of unit quaternions q (..., 4), [w, x, y, z]."""
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        dim=-2,
    )


def rotation_angle(R):
    """Angle θ ∈ [0, π] of rotation matrices (..., 3, 3) → (...): atan2(|vee(R)|, (tr R − 1)/2),
    accurate at every angle (problem set 2, Part D)."""
    s = 0.5 * torch.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]],
        dim=-1,
    )
    c = (R.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.atan2(torch.linalg.vector_norm(s, dim=-1), c)


def random_quaternions(n, seed=0, dtype=torch.float64):
    """n uniformly distributed random unit quaternions, shape (n, 4)."""
    q = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return normalize_quat(q)


def quat_about_z(angle):
    """The unit quaternion of the rotation by `angle` (a float) about z, float64."""
    return torch.tensor([math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)], dtype=torch.float64)


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — L2 on quaternions, and the sign of $q$ ({points} points)
#
# Question 3 of the 4 March meeting: *engage with this claim: "A straightforward loss
# function is the L1/L2 distance between the predicted normalized quaternion and the
# ground truth". Consider the distances for rotations defined in Hartley et al.*
#
# The network's last layer outputs four numbers $x$; the predicted orientation is the unit
# quaternion $\hat q = x / \lVert x\rVert$ (cryoAI does the same). Every loss in Parts A and
# B takes the raw prediction `q_pred` and the truth `q_true`, shapes `(..., 4)`, and
# **normalises both first** (with `normalize_quat`): $\hat q$ = `normalize_quat(q_pred)`,
# $q$ = `normalize_quat(q_true)`. Then:
#
# 1. `quat_l2_loss(q_pred, q_true)` $= \lVert\hat q - q\rVert^2$, the squared L2
#    distance, `(...)`.
# 2. The trouble: $q$ and $-q$ are the same rotation. Set `L2_SAME_ROTATION_MAX` to the
#    largest value `quat_l2_loss` takes between two (unit) quaternions **of the same
#    rotation** (a Python `int` or `float`, either counts; to $10^{-6}$). A network
#    trained with it is punished for a right answer of the wrong sign — and since every
#    rotation has two quaternions, no continuous network can avoid that everywhere (Part
#    D).
# 3. `quat_l2_loss_signless(q_pred, q_true)` $= \min\bigl(\lVert\hat q - q\rVert^2,
#    \lVert\hat q + q\rVert^2\bigr)$, a function of the two *rotations*. With $\theta$ the
#    angle between them it is $4\sin^2\frac\theta4 = 2 - 2\lvert\langle\hat q,
#    q\rangle\rvert$ (problem set 2, Part F); the minimum makes it non-differentiable where
#    the two branches meet, at $\theta = \pi$.
#
# Return tensors of shape `(...)`, the broadcast batch shape of the two arguments.
# **Compute the definitions** — the squared norms of $\hat q - q$ and $\hat q + q$ — not
# $2 - 2\langle\hat q, q\rangle$ or $2 - 2\lvert\langle\hat q, q\rangle\rvert$: equal in
# exact arithmetic, but near $\theta = 0$ these subtract two numbers equal to 16 digits
# and return 0 or rounding noise ($\sim 10^{-16}$) where the loss is $2.5\times10^{-19}$
# ($\theta = 10^{-9}$). The grader checks both losses at angles of $10^{-9}$ and
# $3\times10^{-9}$ rad **relatively**, to $10^{-5}$ (float64), and elsewhere to $10^{-9}$
# relative plus $10^{-12}$ absolute. The gradients are checked at angles between 0.2 and
# $\pi - 0.2$ rad (away from the kink at $\pi$).


# %% nbgrader={"grade": false, "grade_id": "l2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_l2_loss(q_pred, q_true):
    """‖q̂ − q‖² of the normalised quaternions. (..., 4) × (..., 4) → (...)."""
    ### BEGIN SOLUTION
    d = normalize_quat(q_pred) - normalize_quat(q_true)
    return (d * d).sum(-1)
    ### END SOLUTION


def quat_l2_loss_signless(q_pred, q_true):
    """min(‖q̂ − q‖², ‖q̂ + q‖²) of the normalised quaternions. (..., 4) × (..., 4) → (...)."""
    ### BEGIN SOLUTION
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus, plus = a - b, a + b
    return torch.minimum((minus * minus).sum(-1), (plus * plus).sum(-1))
    ### END SOLUTION


L2_SAME_ROTATION_MAX = None  # a number
### BEGIN SOLUTION
L2_SAME_ROTATION_MAX = 4.0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_l2", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
q = torch.tensor([0.5, 0.5, -0.5, 0.5], dtype=torch.float64)
assert torch.isclose(quat_l2_loss(q, q), torch.tensor(0.0, dtype=torch.float64))
assert torch.isclose(quat_l2_loss(3 * q, q), torch.tensor(0.0, dtype=torch.float64)), (
    "normalise the prediction first"
)
assert torch.isclose(quat_l2_loss_signless(q, -q), torch.tensor(0.0, dtype=torch.float64)), (
    "q and −q are the same rotation"
)
a, b = quat_about_z(0.0), quat_about_z(1.0)
assert torch.isclose(
    quat_l2_loss_signless(a, b), 4 * math.sin(0.25) ** 2 * torch.ones((), dtype=torch.float64)
)
assert quat_l2_loss(torch.ones(5, 2, 4), torch.ones(4)).shape == (5, 2)
assert quat_l2_loss_signless(torch.ones(3, 4), torch.ones(3, 4)).dtype == torch.float32
# 1e-9 rad apart, relative to 1e-5 as graded: 2 − 2|⟨q̂, q⟩| returns 0 or noise here
exact = 4 * math.sin(1e-9 / 4) ** 2
for loss in (quat_l2_loss, quat_l2_loss_signless):
    value = loss(quat_about_z(1e-9), quat_about_z(0.0)).item()
    assert abs(value - exact) <= 1e-5 * exact, (loss.__name__, value, exact)
assert abs(quat_l2_loss_signless(quat_about_z(1e-9), -quat_about_z(0.0)).item() - exact) <= (
    1e-5 * exact
)
# gradients: autograd against finite differences, in float64
x = torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
x.requires_grad_(True)
truth = random_quaternions(4, seed=2)
assert torch.autograd.gradcheck(lambda x: quat_l2_loss(x, truth), (x,))
assert torch.autograd.gradcheck(lambda x: quat_l2_loss_signless(x, truth), (x,))
assert type(L2_SAME_ROTATION_MAX) in (int, float), "a Python int or float"
print("Part A: visible tests passed (L2_SAME_ROTATION_MAX is checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — The geodesic loss near zero ({points} points)
#
# The loss that measures what matters is the **geodesic** one: the angle $\theta \in [0,
# \pi]$ of the rotation that takes the prediction to the truth (Hartley et al.'s angular
# distance, problem set 2). With $d = \langle\hat q, q\rangle$, $\lvert d\rvert =
# \cos\frac\theta2$, so the textbook form is
#
# $$ \theta = 2\arccos\lvert d\rvert = \arccos\bigl(2d^2 - 1\bigr), $$
#
# the geodesic loss written with an $\arccos$, as in Lian et al.'s §2.5. It has two flaws
# near $\theta = 0$, where a converging network spends its time:
#
# * **precision**: $\cos\theta = 1 - \theta^2/2 + \dots$, so below $\theta \approx
#   10^{-8}$ the argument of $\arccos$ rounds to 1 in float64 and the loss to 0
#   ($3\times10^{-4}$ in float32);
# * **the gradient**: $\frac{d}{dy}\arccos y = -1/\sqrt{1 - y^2}$ is infinite at $y = 1$.
#   At $\theta = 0$ autograd returns `nan` ($\infty \times 0$, which spreads into every
#   weight of the network) — and so it does already below $\theta \approx 10^{-8}$, where
#   $2d^2 - 1$ rounds to exactly 1 (or returns 0 where it rounds above 1 and the `clamp`
#   that keeps `arccos` defined cuts the gradient off). Above that, up to about
#   $10^{-4}$, the gradient is finite but computed as a huge number ($\approx 1/\theta$)
#   times a tiny one, and loses digits: 6% wrong at $10^{-7}$. The demo after the tests
#   shows all three. (θ itself has a *cone* at zero: like $\lvert t\rvert$, it has no
#   gradient there at all; autograd still returns *some* number at exactly $\theta = 0$,
#   which depends on the formula — 0 for the `atan2` form below, `nan` for the `arccos`
#   one.)
#
# The meeting's question 4 asks how the paper's eqs. 11 and 12 are connected, through the
# Taylor expansions of $\cos$ and $\arccos$: a loss written without $\arccos$ behaves, near
# zero, like the geodesic loss squared. See it on the simplest such loss, $L_s = 1 -
# \langle\hat q, q\rangle^2$: since $d^2 = \cos^2\frac\theta2 = \frac{1 + \cos\theta}2$,
#
# $$ L_s = 1 - d^2 = \frac{1 - \cos\theta}{2} = \sin^2\frac\theta2 , $$
#
# and the Taylor series of $\cos$ gives $L_s = c_2\,\theta^2 + c_4\,\theta^4 +
# O(\theta^6)$ — equivalently, $\arccos(1 - u) \approx \sqrt{2u}$ for small $u$ turns
# $\theta = \arccos(1 - 2L_s)$ into $\theta \approx 2\sqrt{L_s}$. So $L_s$ is, to
# leading order, the **squared** geodesic loss up to a constant; but it is a polynomial in
# $\hat q$ — smooth everywhere, blind to the sign of $q$, with a **finite gradient at
# $\theta = 0$** (zero: the truth is its minimum) and no $\arccos$. Written literally,
# though, $1 - d^2$ still cancels: at $\theta = 10^{-9}$, $d^2$ rounds to 1 and $1 - d^2$
# returns 0 or rounding noise of $\pm 10^{-16}$ — even a negative loss — where
# $L_s = 2.5\times10^{-19}$. On the unit sphere $\lVert\hat q - q\rVert^2\,\lVert\hat q +
# q\rVert^2 = (2 - 2d)(2 + 2d) = 4(1 - d^2)$: the product of Part A's two squared chords,
# divided by 4, is $L_s$ with its relative accuracy kept. Compute it that way (the
# reference does).
#
# 1. `quat_geodesic_loss(q_pred, q_true)`: $\theta \in [0, \pi]$, accurate at **every**
#    angle (graded to $10^{-6}$ relative plus $10^{-14}$ rad absolute, which at the
#    graded angles of $10^{-9}$ rad means about $10^{-14}$ rad): use problem set 2's
#    $\theta = 4\operatorname{atan2}\bigl(\min(\lVert\hat q - q\rVert, \lVert\hat q +
#    q\rVert),\, \max(\lVert\hat q - q\rVert, \lVert\hat q + q\rVert)\bigr)$ (the chords
#    of the quaternion sphere are $2\sin\frac\theta4$ and $2\cos\frac\theta4$). Its
#    gradient is checked at angles between 0.2 and $\pi - 0.2$ rad; what autograd returns
#    at exactly $\theta = 0$ (no gradient exists there) is not graded.
# 2. `quat_smooth_loss(q_pred, q_true)` $= 1 - \langle\hat q, q\rangle^2$, computed as the
#    product of the chords above: graded at angles of $10^{-9}$ and $3\times10^{-9}$ rad
#    **relatively**, to $10^{-5}$ (the literal $1 - d^2$ fails there), elsewhere to
#    $10^{-7}$ relative plus $10^{-13}$ absolute. Its gradient is checked at angles between
#    0.2 and $\pi - 0.2$ rad and **at a prediction exactly on the truth** (a finite
#    gradient is required there: zero).
# 3. `SMOOTH_TAYLOR = (c2, c4)`: the two coefficients above, each with its sign, as a tuple
#    (or list) of two Python numbers (`float` or `int`: `1 / 3`, not `fractions.Fraction`
#    or a SymPy number — convert with `float(...)`), to $10^{-4}$ relative.
#
# Both functions normalise their inputs first, as in Part A: `(..., 4)` × `(..., 4)` →
# `(...)`.


# %% nbgrader={"grade": false, "grade_id": "geodesic", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_geodesic_loss(q_pred, q_true):
    """The angle θ ∈ [0, π] between the rotations of q̂ and q. (..., 4) × (..., 4) → (...)."""
    ### BEGIN SOLUTION
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus = torch.linalg.vector_norm(a - b, dim=-1)
    plus = torch.linalg.vector_norm(a + b, dim=-1)
    return 4 * torch.atan2(torch.minimum(minus, plus), torch.maximum(minus, plus))
    ### END SOLUTION


def quat_smooth_loss(q_pred, q_true):
    """1 − ⟨q̂, q⟩² of the normalised quaternions. (..., 4) × (..., 4) → (...)."""
    ### BEGIN SOLUTION
    a, b = normalize_quat(q_pred), normalize_quat(q_true)
    minus, plus = a - b, a + b
    # ‖q̂ − q‖² ‖q̂ + q‖² = (2 − 2d)(2 + 2d) = 4 (1 − d²), without 1 − d²'s cancellation
    return (minus * minus).sum(-1) * (plus * plus).sum(-1) / 4
    ### END SOLUTION


SMOOTH_TAYLOR = None  # (c2, c4): L_s = c2 θ² + c4 θ⁴ + O(θ⁶)
### BEGIN SOLUTION
SMOOTH_TAYLOR = (1 / 4, -1 / 48)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_geodesic", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
one = torch.tensor(1.0, dtype=torch.float64)
assert torch.isclose(quat_geodesic_loss(quat_about_z(0.2), quat_about_z(1.5)), 1.3 * one)
assert torch.isclose(quat_geodesic_loss(quat_about_z(0.0), -quat_about_z(3.0)), 3.0 * one)
assert torch.isclose(quat_geodesic_loss(-2 * quat_about_z(0.4), quat_about_z(0.4)), 0 * one)
tiny = quat_geodesic_loss(quat_about_z(1e-9), quat_about_z(0.0))
assert torch.isclose(tiny, 1e-9 * one, rtol=1e-6, atol=0), "arccos loses this angle"
assert torch.isclose(
    quat_smooth_loss(quat_about_z(0.0), quat_about_z(1.0)), math.sin(0.5) ** 2 * one
)
assert quat_smooth_loss(torch.ones(2, 3, 4), torch.ones(4)).shape == (2, 3)
# 1e-9 rad apart, relative to 1e-5 as graded: the literal 1 − d² returns 0 or noise here
exact = math.sin(1e-9 / 2) ** 2
value = quat_smooth_loss(quat_about_z(1e-9), quat_about_z(0.0)).item()
assert abs(value - exact) <= 1e-5 * exact, ("1 − d² cancels at tiny angles", value, exact)
assert quat_geodesic_loss(torch.ones(3, 4), torch.ones(4)).dtype == torch.float32
# gradients: autograd against finite differences, in float64, away from θ = 0 and π
x = (0.5 * random_quaternions(5, seed=3)).requires_grad_(True)
truth = random_quaternions(5, seed=4)
assert torch.autograd.gradcheck(lambda x: quat_geodesic_loss(x, truth), (x,))
assert torch.autograd.gradcheck(lambda x: quat_smooth_loss(x, truth), (x,))
# on the truth, the smooth loss has a finite gradient (zero)
on_truth = (2.0 * truth).requires_grad_(True)
quat_smooth_loss(on_truth, truth).sum().backward()
assert torch.all(torch.isfinite(on_truth.grad)), "the gradient at θ = 0 must be finite"
assert torch.allclose(on_truth.grad, torch.zeros_like(on_truth.grad), atol=1e-12)
assert len(SMOOTH_TAYLOR) == 2
assert all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in SMOOTH_TAYLOR)
print("Part B: visible tests passed (SMOOTH_TAYLOR is checked when graded)")


# %% nbgrader={"grade": false, "grade_id": "gradient_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Not graded: four forms of the loss and their gradients at θ = 0, 1e-9, 1e-8, 1e-7 and 1e-5
# (run and read). The exact |gradient| of θ is 2 at every θ > 0 (θ/2 is the arc on the unit
# quaternion sphere); that of L_s = sin²(θ/2) is sin θ ≈ θ.
def acos_loss(q_pred, q_true):
    cos_half = torch.sum(normalize_quat(q_pred) * normalize_quat(q_true), dim=-1)
    return torch.acos(torch.clamp(2 * cos_half**2 - 1, -1.0, 1.0))


def literal_smooth_loss(q_pred, q_true):
    d = torch.sum(normalize_quat(q_pred) * normalize_quat(q_true), dim=-1)
    return 1 - d * d


truth = quat_about_z(0.3)
for angle in (0.0, 1e-9, 1e-8, 1e-7, 1e-5):
    for name, loss in [
        ("arccos", acos_loss),
        ("atan2 (yours)", quat_geodesic_loss),
        ("literal 1 − d²", literal_smooth_loss),
        ("L_s (yours)", quat_smooth_loss),
    ]:
        x = quat_about_z(0.3 + angle).requires_grad_(True)
        value = loss(x, truth)
        value.backward()
        print(
            f"θ = {angle:.0e}  {name:<15} loss {value.item(): .3e}   "
            f"|grad| {x.grad.norm().item():.6g}"
        )
    print()


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_10", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — The chordal loss ({points} points)
#
# Hartley et al.'s chordal distance compares the rotation *matrices*: $d_{\mathrm{chord}} =
# \lVert\hat R - R\rVert_F$, the Euclidean distance in $\mathbb R^9$. The **chordal loss**
# is its square,
#
# $$ L_{\mathrm{chord}}(\hat R, R) = \lVert\hat R - R\rVert_F^2 = \sum_{i,j}(\hat R_{ij} -
# R_{ij})^2 = 2\bigl(3 - \operatorname{tr}\hat R^\mathsf{T}R\bigr), $$
#
# a polynomial in the entries — as smooth as $L_s$ and just as free of the sign problem,
# since $R(q) = R(-q)$.
#
# 1. `chordal_loss(R_pred, R_true)`: `(..., 3, 3)` × `(..., 3, 3)` → `(...)`, the sum of
#    the squared differences of the entries. The prediction need not be a rotation (nine
#    raw outputs of a network, say): the trace form above holds for rotations only.
# 2. `CHORDAL_OVER_SMOOTH`: the constant $k$ with $L_{\mathrm{chord}}(R(\hat q), R(q)) =
#    k\,L_s(\hat q, q)$ for all unit quaternions (a number; derive it from
#    $\operatorname{tr}\hat R^\mathsf{T}R = 1 + 2\cos\theta$ and Part B, or measure it with
#    your functions).


# %% nbgrader={"grade": false, "grade_id": "chordal", "locked": false, "schema_version": 3, "solution": true, "task": false}
def chordal_loss(R_pred, R_true):
    """‖R̂ − R‖²_F. (..., 3, 3) × (..., 3, 3) → (...)."""
    ### BEGIN SOLUTION
    d = R_pred - R_true
    return (d * d).sum((-2, -1))
    ### END SOLUTION


CHORDAL_OVER_SMOOTH = None  # a number
### BEGIN SOLUTION
CHORDAL_OVER_SMOOTH = 8.0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_chordal", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
I3 = torch.eye(3, dtype=torch.float64)
half_turn_z = torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=torch.float64))
assert torch.isclose(chordal_loss(I3, half_turn_z), torch.tensor(8.0, dtype=torch.float64))
assert chordal_loss(torch.ones(4, 3, 3), torch.eye(3)).shape == (4,)
q1, q2 = random_quaternions(6, seed=5), random_quaternions(6, seed=6)
R1, R2 = quat_to_matrix(q1).requires_grad_(True), quat_to_matrix(q2)
assert torch.autograd.gradcheck(lambda R: chordal_loss(R, R2), (R1,))
assert torch.allclose(
    chordal_loss(quat_to_matrix(q1), R2), CHORDAL_OVER_SMOOTH * quat_smooth_loss(q1, q2)
), "the chordal loss is a constant times the smooth loss"
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_13", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — A continuous representation: 6D and Gram–Schmidt ({points} points)
#
# The reading list's *On the continuity of rotation representations in neural networks*
# (Zhou et al., 2019) asks what a network should *output*. A representation, in Zhou et
# al.'s sense, is a pair of maps: $g$ from SO(3) into $\mathbb R^d$ (what the network is
# trained to output) and $f$ back, with $f(g(R)) = R$ for every rotation. It is
# **continuous** when $g$ is continuous — nearby rotations, nearby outputs; a network can
# only learn it well then. Unit quaternions made unique by $w \ge 0$ jump: a rotation by
# just under $\pi$ about $z$ and one just over (which is one just under $\pi$ about $-z$)
# have quaternions near $(0, 0, 0, 1)$ and $(0, 0, 0, -1)$. Euler angles and axis–angle
# jump as well. Zhou et al. show that every representation in four or fewer real
# dimensions is discontinuous (the space of rotations cannot be embedded in $\mathbb
# R^4$), and construct continuous ones in more dimensions: the 6D one below, and a
# smaller one, obtained from the 6D one by a stereographic projection (which removes one
# dimension).
#
# The **6D representation** keeps the first two columns of $R$: $g(R) = [a_1, a_2]$, with
# $a_1 = R_{:,0}$ and $a_2 = R_{:,1}$ (6 numbers, first column first). The way back, from
# any 6 numbers the network outputs, is the **Gram–Schmidt** map $f$: with $N(v) =
# v/\lVert v\rVert$,
#
# $$ b_1 = N(a_1), \qquad b_2 = N\bigl(a_2 - (b_1\cdot a_2)\,b_1\bigr), \qquad b_3 = b_1
# \times b_2, \qquad f([a_1, a_2]) = \bigl[\,b_1\ b_2\ b_3\,\bigr] $$
#
# — the three vectors are the **columns** of the rotation matrix, and $b_3 = b_1 \times
# b_2$ makes $\det = +1$. It is continuous (and differentiable) wherever $a_1, a_2$ are
# linearly independent, and $f(g(R)) = R$.
#
# 1. `sixd_to_matrix(x)`: `(..., 6)` → `(..., 3, 3)`, for any raw `x` (not unit, not
#    orthogonal), differentiable.
# 2. `matrix_to_sixd(R)`: `(..., 3, 3)` → `(..., 6)`, `[R[..., :, 0], R[..., :, 1]]`.
# 3. `QUAT_JUMP_ANGLE`: the rotation angle $\theta \in [0, \pi]$ at which the quaternion
#    with $w \ge 0$ jumps (a Python number, radians, to $10^{-6}$). Where $w = 0$ both $q$
#    and $-q$ have $w \ge 0$, so the rule picks neither; every tie-break there (say, the
#    first nonzero component positive) still leaves the jump where it was: the answer does
#    not depend on it. And `MIN_CONTINUOUS_DIM`: the smallest $d$ for which Zhou et al.
#    give a continuous representation of rotations in $\mathbb R^d$ — their lower bound
#    and their smallest construction meet there (a Python `int`).
#
# The grader passes raw 6-vectors with $a_1, a_2$ linearly independent; at $a_1 = 0$ or
# $a_1 \parallel a_2$ Gram–Schmidt divides by zero, and what you return there (`nan`) is
# not graded.


# %% nbgrader={"grade": false, "grade_id": "sixd", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sixd_to_matrix(x):
    """Gram–Schmidt: raw 6D vectors [a1, a2] → rotation matrices [b1 b2 b3] (columns)."""
    ### BEGIN SOLUTION
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / torch.linalg.vector_norm(a1, dim=-1, keepdim=True)
    u2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = u2 / torch.linalg.vector_norm(u2, dim=-1, keepdim=True)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)
    ### END SOLUTION


def matrix_to_sixd(R):
    """The first two columns of R, concatenated. (..., 3, 3) → (..., 6)."""
    ### BEGIN SOLUTION
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)
    ### END SOLUTION


QUAT_JUMP_ANGLE = None  # radians
MIN_CONTINUOUS_DIM = None  # an integer
### BEGIN SOLUTION
QUAT_JUMP_ANGLE = math.pi
MIN_CONTINUOUS_DIM = 5
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_sixd", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
x = torch.tensor([2.0, 0.0, 0.0, 1.0, 3.0, 0.0], dtype=torch.float64)
assert torch.allclose(sixd_to_matrix(x), torch.eye(3, dtype=torch.float64)), "columns b1, b2, b3"
R = quat_to_matrix(random_quaternions(5, seed=7))
assert torch.allclose(sixd_to_matrix(matrix_to_sixd(R)), R), "f(g(R)) = R"
assert torch.equal(matrix_to_sixd(R)[:, :3], R[:, :, 0]), "the first column first"
raw = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
M = sixd_to_matrix(raw)
assert torch.allclose(M.transpose(-1, -2) @ M, torch.eye(3, dtype=torch.float64).expand(4, 3, 3))
assert torch.allclose(torch.linalg.det(M), torch.ones(4, dtype=torch.float64)), "det = +1"
assert torch.autograd.gradcheck(sixd_to_matrix, (raw.requires_grad_(True),))
assert sixd_to_matrix(torch.ones(2, 3, 6).cumsum(-1)).shape == (2, 3, 3, 3)
print("Part D: visible tests passed (the two numbers are checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_16", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — The handedness ambiguity, numerically ({points} points)
#
# An image is a projection along $z$ (problem set 4's convention): the particle in the pose
# $R$ gives $P(x, y) = \sum_z V\bigl(R^\mathsf{T}(x, y, z)^\mathsf{T}\bigr)$ — rotate the
# object by $R$, then add up along the beam. cryoAI's supplementary §D.1 shows that the
# images cannot tell the molecule from its **mirror image**. Let $F = \operatorname{diag}(1,
# 1, -1)$, the reflection $z \mapsto -z$, and $V'(r) = V(Fr)$ the mirrored volume. In the
# pose
#
# $$ \tilde R = F R F , \qquad\text{i.e.}\quad F R = \tilde R F , $$
#
# it gives $\sum_z V'\bigl(\tilde R^\mathsf{T}(x, y, z)\bigr) = \sum_z V\bigl(F F
# R^\mathsf{T} F (x, y, z)\bigr) = \sum_z V\bigl(R^\mathsf{T}(x, y, -z)\bigr)$ — the same
# sum, the same image. Every dataset is explained equally well by $(V, \{R_i\})$ and by
# $(V', \{F R_i F\})$: an *ab initio* reconstruction converges to one hand or the other,
# and cryoAI (like every other method) has to be told which is right. Note that $\tilde R$
# is a rotation ($\det \tilde R = \det R$), while $F R$ alone is not.
#
# For a molecule given as atoms, the image shows where each atom lands: the $(x, y)$ of
# $R\,p$.
#
# 1. `mirror_pose(R)` $= F R F$: `(..., 3, 3)` → `(..., 3, 3)`. (Multiplying by the
#    diagonal $F$ on the left multiplies the rows of $R$, on the right its columns: which
#    entries change sign?)
# 2. `project_points(points, R)`: the image positions of atoms at `points` (rows, shape
#    `(..., N, 3)`) in the pose `R` (`(..., 3, 3)`): the first two coordinates of $R\,p$
#    for every atom, shape `(..., N, 2)` — the batch shapes of `points` (without `N`) and
#    of `R` broadcast, so one molecule `(N, 3)` in three poses `(3, 3, 3)` gives
#    `(3, N, 2)`, and two molecules `(2, N, 3)` in their two poses `(2, 3, 3)` give
#    `(2, N, 2)`. A pose is always the pose of a whole molecule: `(N, 3, 3)` poses with
#    `(N, 3)` atoms are $N$ poses of the molecule, `(N, N, 2)`; to turn each atom by a pose
#    of its own, give the atoms the shape `(N, 1, 3)`.
#
# The visible tests check the statement of §D.1 with your two functions: the mirrored atoms
# `points @ F` in the pose `mirror_pose(R)` land exactly where the atoms do in the pose `R`.


# %% nbgrader={"grade": false, "grade_id": "handedness", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mirror_pose(R):
    """F R F with F = diag(1, 1, −1). (..., 3, 3) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    f = torch.tensor([1.0, 1.0, -1.0], dtype=R.dtype, device=R.device)
    return R * f[:, None] * f[None, :]
    ### END SOLUTION


def project_points(points, R):
    """The (x, y) of R p for atoms p (..., N, 3) in the poses R (..., 3, 3) → (..., N, 2)."""
    ### BEGIN SOLUTION
    return (points @ R.transpose(-1, -2))[..., :2]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_handedness", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
F = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
R = quat_to_matrix(random_quaternions(3, seed=9))
assert torch.allclose(mirror_pose(R), F @ R @ F)
assert torch.allclose(torch.linalg.det(mirror_pose(R)), torch.ones(3, dtype=torch.float64)), (
    "F R F is a rotation"
)
atoms = torch.randn(12, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
Rz90 = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
assert torch.allclose(project_points(atoms, Rz90), torch.stack([-atoms[:, 1], atoms[:, 0]], -1))
assert project_points(atoms, R).shape == (3, 12, 2)
two = atoms.reshape(2, 6, 3)
assert torch.allclose(
    project_points(two, R[:2]),
    torch.stack([project_points(two[0], R[0]), project_points(two[1], R[1])]),
), "two molecules in their two poses: (2, 6, 3) and (2, 3, 3) → (2, 6, 2)"
# cryoAI §D.1: the mirror image, in the mirrored pose, gives the same image ...
assert torch.allclose(project_points(atoms @ F, mirror_pose(R)), project_points(atoms, R))
# ... which the mirror image in the original pose does not
assert not torch.allclose(project_points(atoms @ F, R), project_points(atoms, R))
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_19", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — The handedness ambiguity, symbolically ({points} points)
#
# Question 3 of the 25 March meeting: *Prove $F R_i = \tilde R_i F$. Note that left
# multiplying by a diagonal matrix (here $F$) is a row multiplication, and right
# multiplying is a column multiplication. Also note that $\cos(\theta + \pi) = -\cos\theta$
# and $\sin(\theta + \pi) = -\sin\theta$.*
#
# In §D.1 the poses are Euler angles, $R = R_z(\alpha)\,R_y(\beta)\,R_z(\gamma)$ (the
# intrinsic `"ZYZ"` sequence of the [conventions
# page]({book_url}/book/conventions.html#euler-angles)), and $\tilde R$ is the rotation
# with *other Euler angles* — the claim to prove is that $F R F$ is again such a product,
# and which. RELION's angles (rot, tilt, psi) are such a triple, with one twist the
# conventions page spells out: RELION's matrix is *passive*, and the active pose of its
# angles is the transpose, $\bigl(R_z(\text{rot})\,R_y(\text{tilt})\,
# R_z(\text{psi})\bigr)^\mathsf{T}$. That changes nothing here: $F R^\mathsf{T} F = (F R
# F)^\mathsf{T}$, so the new angles that mirror $R$ mirror $R^\mathsf{T}$ too. Do it with
# SymPy:
#
# 1. `euler_zyz_symbolic()`: the $3\times 3$ `sp.Matrix` $R_z(\alpha)\,R_y(\beta)\,
#    R_z(\gamma)$ in the symbols `alpha, beta, gamma` defined below, with
#    $$ R_z(t) = \begin{pmatrix}\cos t & -\sin t & 0\\ \sin t & \cos t & 0\\ 0 & 0 &
#    1\end{pmatrix}, \qquad R_y(t) = \begin{pmatrix}\cos t & 0 & \sin t\\ 0 & 1 & 0\\
#    -\sin t & 0 & \cos t\end{pmatrix}. $$
# 2. `mirror_euler_angles()`: a tuple of three SymPy expressions $(\tilde\alpha,
#    \tilde\beta, \tilde\gamma)$ in `alpha, beta, gamma` with $R_z(\tilde\alpha)\,
#    R_y(\tilde\beta)\,R_z(\tilde\gamma) = F\,R_z(\alpha)R_y(\beta)R_z(\gamma)\,F$ for
#    **all** angles. (Hint: $F$ commutes with $R_z$; what does it do to $R_y$? and what does
#    $R_z(\pi)$ do to $R_y$?) **Any triple that works for all angles is accepted**, and
#    the angles may leave $(-\pi, \pi]$: the grader builds $R_z(\tilde\alpha)\,
#    R_y(\tilde\beta)\,R_z(\tilde\gamma)$ from your expressions and compares it with
#    $F R F$ at random rational angles, entry by entry (to $10^{-9}$). The reference's
#    triple shifts two of the angles by $\pi$ (the meeting's hint $\cos(\theta + \pi) =
#    -\cos\theta$) and so keeps $\beta$ in $[0, \pi]$, the range of RELION's tilt; a correct
#    triple that negates an angle instead scores the same. Return SymPy expressions (plain
#    numbers such as `0` or `sp.pi` are fine too).
#
# The visible test is the proof: SymPy simplifies $F R - \tilde R F$ to the zero matrix.


# %% nbgrader={"grade": false, "grade_id": "symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
alpha, beta, gamma = sp.symbols("alpha beta gamma", real=True)
F_sym = sp.diag(1, 1, -1)


# %% nbgrader={"grade": false, "grade_id": "symbolic", "locked": false, "schema_version": 3, "solution": true, "task": false}
def euler_zyz_symbolic():
    """3×3 sp.Matrix: R_z(alpha) R_y(beta) R_z(gamma)."""

    ### BEGIN SOLUTION
    def rz(t):
        return sp.Matrix([[sp.cos(t), -sp.sin(t), 0], [sp.sin(t), sp.cos(t), 0], [0, 0, 1]])

    def ry(t):
        return sp.Matrix([[sp.cos(t), 0, sp.sin(t)], [0, 1, 0], [-sp.sin(t), 0, sp.cos(t)]])

    return rz(alpha) * ry(beta) * rz(gamma)
    ### END SOLUTION


def mirror_euler_angles():
    """(alpha~, beta~, gamma~): the ZYZ Euler angles of F R F, as SymPy expressions."""
    ### BEGIN SOLUTION
    return (alpha + sp.pi, beta, gamma + sp.pi)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_symbolic", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
R_sym = euler_zyz_symbolic()
assert isinstance(R_sym, sp.MatrixBase) and R_sym.shape == (3, 3)
at = {alpha: sp.pi / 2, beta: 0, gamma: 0}
assert sp.simplify(R_sym.subs(at) - sp.Matrix([[0, -1, 0], [1, 0, 0], [0, 0, 1]])) == sp.zeros(3, 3)
angles = mirror_euler_angles()
assert len(angles) == 3
R_tilde = R_sym.subs(dict(zip((alpha, beta, gamma), angles, strict=True)), simultaneous=True)
# the proof of F R = R~ F
assert sp.simplify(F_sym * R_sym - R_tilde * F_sym) == sp.zeros(3, 3)
print("Part F: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_23", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — Symmetry: the symmetrised loss and its landscape (question 5) ({points} points)
#
# cryoAI's supplementary §D.2 explains how its encoder can settle on poses that are wrong
# by a *spurious planar symmetry*, and how its **symmetrised loss** gets it out: for each
# image the loss keeps the *smaller* of two errors — that of the pose predicted from the
# image, and that of the pose predicted from the image turned by 180° in its plane. A
# minimum over the poses that would explain the image equally well. Question 5 of the 25
# March meeting: *what would the loss / energy landscape look like for higher symmetries,
# e.g. $C_n$, $D_n$, $n \in \{2, 3, \dots, 8\}$?*
#
# Two different things can make poses interchangeable, and they act on different sides.
# §D.2's image turned by 180° in its plane is the image of the pose $R_z(\pi)\,R$:
# $P(-x, -y) = \sum_z V\bigl(R^\mathsf{T} R_z(\pi)^\mathsf{T}(x, y, z)\bigr)$, a rotation
# applied **on the left**, in the frame of the image, to any molecule — a *spurious*
# symmetry, which the images of a flat-looking projection only seem to have. A molecule's
# own symmetry acts **on the right**, in the frame of the molecule. This part is about
# the second, the meeting's question 5: a molecule with the symmetry group $G$ — $V(g r) =
# V(r)$ for every $g \in G$ — gives the same image in the poses $R$ and $R g$:
# $\sum_z V\bigl(g^\mathsf{T}R^\mathsf{T}(x, y, z)\bigr) = \sum_z V\bigl(R^\mathsf{T}(x, y,
# z)\bigr)$ (apply the symmetry $g^\mathsf{T} \in G$). The pose is only defined up to the
# group, acting on the right, so the pose loss must be the minimum over the group (the same
# construction as §D.2's minimum of two errors, on the other side):
#
# $$ L_G(\hat R, R) = \min_{g \in G} d_\angle(\hat R, R\,g), \qquad d_\angle(\hat R, S) =
# \theta\bigl(\hat R^\mathsf{T} S\bigr) . $$
#
# The groups, with the symmetry axis along $z$:
#
# * $C_n$: the $n$ rotations $R_z(2\pi k/n)$, $k = 0, \dots, n - 1$;
# * $D_n$: $C_n$ and the $n$ half-turns $R_z(2\pi k/n)\,R_x(\pi)$ — half-turns about the
#   $n$ axes of the $xy$ plane at the angles $\pi k/n$ from $x$ (the $x$ axis among them).
#
# 1. `cyclic_group(n)` → `(n, 3, 3)` and `dihedral_group(n)` → `(2n, 3, 3)`: float64
#    tensors of the group's rotation matrices (whatever the default dtype), in any order,
#    for a Python `int` $n \ge 1$ — $n = 1$ included: $C_1 = \{I\}$, $D_1 = \{I,
#    R_x(\pi)\}$. Each element to $10^{-9}$.
# 2. `symmetrized_geodesic_loss(R_pred, R_true, group)`: $L_G$, shapes `(..., 3, 3)`,
#    `(..., 3, 3)` and `(G, 3, 3)` → `(...)`; use the given `rotation_angle`. The batch
#    shapes of `R_pred` and `R_true` broadcast (`(2, 3, 3, 3)` and `(3, 3, 3)` give
#    `(2, 3)`); the group is one stack of $\lvert G\rvert$ rotations, the axis the minimum
#    runs over — never a batch axis. **The group comes in the poses' dtype**: the grader
#    passes it so, and so must you when you call the function on float32 poses
#    (`cyclic_group(4).to(R.dtype)`); casting it inside your function as well is fine.
#    Values are compared to $10^{-7}$ relative plus $10^{-7}$ absolute (float64). The
#    minimum is differentiable except on the *ridges* where two elements of the group tie;
#    what your gradient does on a ridge (one element's gradient, as `.min` gives, or a mix,
#    as `amin` gives) is not graded: the gradient is checked only at poses whose nearest
#    element $R g$ is at least 0.05 rad nearer than the second nearest and at least 0.05
#    rad from $\hat R$ (away from the cone at 0), and only along rotations (at the points
#    $\hat R \exp(t[u]_\times)$): off SO(3) your formula may differ from the reference's.
# 3. The landscape. $L_G$ is zero at the $\lvert G\rvert$ poses $R g$ and rises between
#    them; how high? `largest_symmetrized_loss(kind, n)` returns $\max_{\hat R} \min_{g
#    \in G} d_\angle(\hat R, g)$, the highest point of the landscape measured from the
#    truth $R = I$ — the same for every true pose, since $d_\angle(\hat R, R g) =
#    d_\angle(R^\mathsf{T}\hat R, g)$: around any $R$ the landscape is the one around $I$,
#    turned. For `kind` `"C"` or `"D"` (upper case) and a Python `int` $n \ge 1$, $n = 1$
#    included; return a Python `float`, graded for $n$ from 1 to 8 to $10^{-6}$ relative —
#    a closed form, not the result of a search. Hints: turning about $z$ alone the loss is
#    a sawtooth of height $\pi/n$ — but that is not the only direction. For $C_n$, how far is a
#    half-turn about $x$ from each $R_z(t)$? For $D_n$, think in quaternions: those of
#    $C_n$ are $\pm(\cos\frac{\pi k}n, 0, 0, \sin\frac{\pi k}n)$, those of the half-turns
#    $\pm(0, \cos\frac{\pi k}n, \sin\frac{\pi k}n, 0)$ — points on two orthogonal circles
#    of the quaternion sphere, $\pi/n$ apart on each. With $d_\angle = 2\arccos\lvert\langle
#    q, g\rangle\rvert$, the highest point is the unit $q$ that makes the largest
#    $\lvert\langle q, g\rangle\rvert$ smallest: write $q = (a\cos u, b\cos v, b\sin v,
#    a\sin u)$ with $a^2 + b^2 = 1$. Check your answer against a random search with your
#    loss.


# %% nbgrader={"grade": false, "grade_id": "symmetry", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cyclic_group(n):
    """C_n: the rotations R_z(2πk/n), k = 0 … n − 1. → (n, 3, 3) float64."""
    ### BEGIN SOLUTION
    t = 2 * math.pi * torch.arange(n, dtype=torch.float64) / n
    c, s = torch.cos(t), torch.sin(t)
    z, o = torch.zeros_like(t), torch.ones_like(t)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(n, 3, 3)
    ### END SOLUTION


def dihedral_group(n):
    """D_n: C_n and the half-turns R_z(2πk/n) R_x(π). → (2n, 3, 3) float64."""
    ### BEGIN SOLUTION
    c = cyclic_group(n)
    rx_pi = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    return torch.cat([c, c @ rx_pi])
    ### END SOLUTION


def symmetrized_geodesic_loss(R_pred, R_true, group):
    """min over g in the group of d∠(R̂, R g). (..., 3, 3), (..., 3, 3), (G, 3, 3) → (...)."""
    ### BEGIN SOLUTION
    candidates = R_true[..., None, :, :] @ group  # (..., G, 3, 3)
    relative = R_pred[..., None, :, :].transpose(-1, -2) @ candidates
    return rotation_angle(relative).min(dim=-1).values
    ### END SOLUTION


def largest_symmetrized_loss(kind, n):
    """max over R̂ of min over g in C_n (kind "C") or D_n ("D") of d∠(R̂, g). A float."""
    ### BEGIN SOLUTION
    if kind == "C":
        return math.pi
    return 2 * math.acos(math.cos(math.pi / (2 * n)) / math.sqrt(2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_symmetry", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
I3 = torch.eye(3, dtype=torch.float64)
for n in (1, 2, 3, 4):
    for G, size in ((cyclic_group(n), n), (dihedral_group(n), 2 * n)):
        assert G.shape == (size, 3, 3) and G.dtype == torch.float64
        assert torch.allclose(G @ G.transpose(-1, -2), I3.expand(size, 3, 3)), "rotations"
        # closed under multiplication: every product is again in the group
        products = (G[:, None] @ G[None, :]).reshape(-1, 1, 3, 3)
        assert torch.all((products - G[None]).abs().amax((-2, -1)).min(-1).values < 1e-9)
half_turn_x = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
assert (dihedral_group(3) - half_turn_x).abs().amax((-2, -1)).min() < 1e-12, "R_x(π) is in D_n"
R = quat_to_matrix(random_quaternions(1, seed=11))[0]
G = dihedral_group(3)
assert torch.allclose(
    symmetrized_geodesic_loss(R @ G, R, G), torch.zeros(6, dtype=torch.float64), atol=1e-7
)
# turning about z, the C_4 loss is a sawtooth of height π/4
phi = torch.linspace(0.0, 2 * math.pi, 41, dtype=torch.float64)
Rz_phi = quat_to_matrix(torch.stack([torch.cos(phi / 2), 0 * phi, 0 * phi, torch.sin(phi / 2)], -1))
sawtooth = symmetrized_geodesic_loss(R @ Rz_phi, R, cyclic_group(4))
step = math.pi / 2
assert torch.allclose(sawtooth, ((phi + step / 2) % step - step / 2).abs(), atol=1e-9)
# batch shapes broadcast; the group is the axis of the minimum, in the poses' dtype
R23 = quat_to_matrix(random_quaternions(6, seed=15)).reshape(2, 3, 3, 3)
R3 = quat_to_matrix(random_quaternions(3, seed=16))
broadcast = symmetrized_geodesic_loss(R23, R3, cyclic_group(4))
assert broadcast.shape == (2, 3)
assert torch.allclose(broadcast[1], symmetrized_geodesic_loss(R23[1], R3, cyclic_group(4)))
single = symmetrized_geodesic_loss(R23.float(), R3.float(), cyclic_group(4).to(torch.float32))
assert single.dtype == torch.float32
assert torch.allclose(single.double(), broadcast, atol=1e-4)
Rp = quat_to_matrix(random_quaternions(4, seed=12)).requires_grad_(True)
Rt = quat_to_matrix(random_quaternions(4, seed=13))
assert torch.autograd.gradcheck(lambda Rp: symmetrized_geodesic_loss(Rp, Rt, G), (Rp,))
# the highest point is above every sampled value, and the samples come within 0.1 of it
# (a random search of 2000 poses gets within 0.07 for every n; the grader wants 1e-6)
sample = quat_to_matrix(random_quaternions(2000, seed=14))
for kind, make in (("C", cyclic_group), ("D", dihedral_group)):
    for n in (1, 2, 3, 5, 8):
        top = largest_symmetrized_loss(kind, n)
        assert isinstance(top, float), "a Python float"
        sampled = symmetrized_geodesic_loss(sample, I3, make(n)).max().item()
        assert sampled <= top + 1e-9 and sampled > top - 0.1, (kind, n, top, sampled)
print("Part G: visible tests passed")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_26", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps08_pose_losses/ps08_pose_losses.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps08_pose_losses` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps08_pose_losses/ps08_pose_losses.ipynb`
# and `course submit ps08_pose_losses`.
#
# If you like, plot the landscape of Part G: $L_G(R_z(\phi)\,R_y(t), I)$ over $(\phi, t)$
# for $C_4$ and $D_4$ — the minima, the ridges between them, and how the highest ridges of
# $C_n$ stay at $\pi$ while those of $D_n$ come down.
