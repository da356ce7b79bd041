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
# # Problem set 5 — Transformations and the sampling of orientations
#
# *Study group meeting of Friday 11 February 2022: [Transformations in SPARX and EMAN2
# (Baldwin & Penczek, 2007)](https://cryoem-study-group.github.io/course/book/meetings/2022-02-11-sparx-eman2.html); this problem set's [page in the book](https://cryoem-study-group.github.io/course/book/problem-sets/ps05_transforms_sampling.html).*
#
# Baldwin and Penczek (2007), *The Transform Class in SPARX and EMAN2*, is the manual of
# the rotation code of two cryo-EM packages. Every refinement program needs what it
# describes: a rotation from an axis and an angle (§2.1, eq. 7–8), rigid motions as
# $4\times4$ matrices (§2.1.1, eq. 16–17), the Euler angles of the packages and how to
# convert between them (Table 1), how far apart two rotations are and how much of SO(3)
# a set of them occupies (§2.2.2–2.2.3), and a grid of orientations to search over (§2.3).
# This problem set takes the meeting's questions in turn: you derive eq. 8 from eq. 7 with
# SymPy (question 2), compose and invert transforms (question 3), measure the volume
# element numerically against [problem set 2](https://cryoem-study-group.github.io/course/book/problem-sets/ps02_so3_metrics.html)'s distances (question 5), build
# the paper's grid (questions 6–7) and, for question 8, two other uniform samplings of
# orientations — one random (Part G), one deterministic (Part H) — and a deterministic set
# of directions on the sphere $S^2$ (Part H).
#
# **Conventions** (the [book's conventions page](https://cryoem-study-group.github.io/course/book/conventions.html)): quaternions are
# scalar-first `[w, x, y, z]` with the Hamilton product; rotations are *active*; a
# rotation matrix left-multiplies column vectors of `xyz` coordinates; angles are
# **radians**, Euler angles included. Inputs are float64 NumPy arrays; functions that say
# so take any leading batch shape.
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you
# work, or run `course check ps05_transforms_sampling.ipynb` in a terminal. When you
# submit, the grader runs your notebook in a sandbox, calls your functions on inputs
# drawn for you and compares the answers with a reference outside your kernel; symbolic
# answers are compared as expressions, and the grids and samplers of Parts F–H are
# judged by *measuring* them (how far the farthest rotation is from your grid, how many of
# your points fall in balls, how their angles are distributed), so any correct
# construction earns the points. Points per part are the fraction of cases you get right,
# and the feedback names common mistakes when it recognises them. Keep the function names
# and signatures; add cells of your own if you like. NumPy and SymPy are all you need
# (SciPy is not available).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: elementary rotations, and tools from problem sets 1 and 2.
def Rx(a):
    """Active rotation by a (radians, any shape) about x: (..., 3, 3)."""
    a = np.asarray(a, dtype=float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def Ry(a):
    """Active rotation by a about y: (..., 3, 3)."""
    a = np.asarray(a, dtype=float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def Rz(a):
    """Active rotation by a about z (x turns towards y for a > 0): (..., 3, 3)."""
    a = np.asarray(a, dtype=float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def quat_to_matrix(q):
    """Rotation matrices (..., 3, 3) of unit quaternions q (..., 4) = [w, x, y, z]."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=float), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def matrix_to_quat(R):
    """Unit quaternions (..., 4) of rotation matrices (..., 3, 3) (Shepperd's method)."""
    R = np.asarray(R, dtype=np.float64)
    m = [[R[..., i, j] for j in range(3)] for i in range(3)]
    four = np.stack(
        [
            1 + m[0][0] + m[1][1] + m[2][2],
            1 + m[0][0] - m[1][1] - m[2][2],
            1 - m[0][0] + m[1][1] - m[2][2],
            1 - m[0][0] - m[1][1] + m[2][2],
        ],
        -1,
    )
    rows = np.stack(
        [
            np.stack([four[..., 0], m[2][1] - m[1][2], m[0][2] - m[2][0], m[1][0] - m[0][1]], -1),
            np.stack([m[2][1] - m[1][2], four[..., 1], m[0][1] + m[1][0], m[0][2] + m[2][0]], -1),
            np.stack([m[0][2] - m[2][0], m[0][1] + m[1][0], four[..., 2], m[1][2] + m[2][1]], -1),
            np.stack([m[1][0] - m[0][1], m[0][2] + m[2][0], m[1][2] + m[2][1], four[..., 3]], -1),
        ],
        -2,
    )
    k = np.argmax(four, axis=-1)
    q = np.take_along_axis(rows, k[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def geodesic_distance(R1, R2):
    """Problem set 2's angular distance θ(R1ᵀ R2) ∈ [0, π], accurate at every angle."""
    M = np.swapaxes(np.asarray(R1, dtype=float), -1, -2) @ np.asarray(R2, dtype=float)
    s = 0.5 * np.stack(
        [M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]], -1
    )
    return np.arctan2(np.linalg.norm(s, axis=-1), (np.trace(M, axis1=-2, axis2=-1) - 1) / 2)


def random_quaternions(shape, rng):
    """Uniformly distributed random rotations as unit quaternions, shape (*shape, 4)."""
    q = rng.normal(size=tuple(np.atleast_1d(shape)) + (4,))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — Rodrigues' formula and the dyadic $\hat n\hat n$ (question 1) ({points} points)
#
# > *1. 2.1: Compare eq. 7 to the treatment in [Rotation matrix from axis and
# > angle](https://en.wikipedia.org/wiki/Rotation_matrix#Rotation_matrix_from_axis_and_angle).
# > What is $\hat n\hat n$?*
#
# Eq. 7 gives the matrix of the rotation by the angle $\theta$ about the unit axis $\hat
# n$ (Rodrigues' formula). In this course's active convention it reads
#
# $$ R(\theta, \hat n) = \cos\theta\, I + (1 - \cos\theta)\, \hat n\hat n + \sin\theta\,
# [\hat n]_\times, \qquad [\hat n]_\times = \begin{pmatrix} 0 & -n_3 & n_2\\ n_3 & 0 &
# -n_1\\ -n_2 & n_1 & 0 \end{pmatrix}. $$
#
# The paper writes the matrices of the packages, which turn the *coordinate frame*: if
# your copy of eq. 7 has the opposite sign in front of $\sin\theta$, that is why — its
# matrix is the transpose of this one. $\hat n\hat n$ (two vectors side by side, no dot
# and no cross) is a *dyadic*: the $3\times3$ matrix with entries $n_i n_j$.
#
# 1. `dyadic(n)`: the matrix with entries $n_i n_j$ of vectors `(..., 3)` → `(..., 3, 3)`
#    (`n` as given: `dyadic` does not normalise).
# 2. `rodrigues(axis, angle)`: eq. 7 for `axis` `(..., 3)` — **normalise it** first, it
#    need not be a unit vector, but it is never zero (a zero axis defines no rotation; the
#    grader never passes one, and what you return for it is not graded) — and `angle`
#    `(...)` in radians. The leading shapes broadcast by NumPy's rules: the batch shape of
#    `axis` (all but its last axis) with the shape of `angle`, so `axis` `(5, 3)` with
#    `angle` `(5,)` or a scalar gives `(5, 3, 3)`, and one axis `(3,)` with `angle` `(4,)`
#    gives `(4, 3, 3)`. $R\,v$ turns $v$ by $\theta$ about $\hat n$ by the right-hand rule.
# 3. What does $\hat n\hat n$ do to a vector $v$? Set `Q1_NN_V` to one of `"(n.v) n"`,
#    `"n x v"`, `"v - (n.v) n"`, `"(n.v)"` (exactly one of these strings). The visible test
#    only checks that it is one of them — the answer is graded on submission; try
#    `dyadic(n) @ v` on a few vectors to decide.
#
# Then compare with Wikipedia: the visible test writes out its entry-by-entry matrix.


# %% nbgrader={"grade": false, "grade_id": "rodrigues", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dyadic(n):
    """The dyadic n̂n̂: entries n_i n_j. Shape (..., 3) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    n = np.asarray(n, dtype=float)
    return n[..., :, None] * n[..., None, :]
    ### END SOLUTION


def rodrigues(axis, angle):
    """Eq. 7: rotation by angle (radians, (...)) about axis ((..., 3), any length) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    axis = np.asarray(axis, dtype=float)
    n = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.asarray(angle, dtype=float)[..., None, None]
    x, y, z = np.moveaxis(n, -1, 0)
    zero = np.zeros_like(x)
    K = np.stack(
        [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2
    )
    return np.cos(angle) * np.eye(3) + (1 - np.cos(angle)) * dyadic(n) + np.sin(angle) * K
    ### END SOLUTION


Q1_NN_V = None  # "(n.v) n", "n x v", "v - (n.v) n" or "(n.v)"
### BEGIN SOLUTION
Q1_NN_V = "(n.v) n"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_rodrigues", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
n = np.array([2.0, -1.0, 2.0]) / 3
assert np.allclose(dyadic(n), np.outer(n, n))
assert dyadic(np.ones((4, 2, 3))).shape == (4, 2, 3, 3)
assert np.allclose(rodrigues([0.0, 0.0, 1.0], np.pi / 2) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), (
    "+90° about z takes x to y (active, right-handed)"
)
assert np.allclose(rodrigues(3 * n, 0.7), rodrigues(n, 0.7)), "normalise the axis"
# Wikipedia's matrix, entry by entry (unit axis (x, y, z), C = 1 − cos θ)
t = 0.7
(x, y, z), c, s = n, np.cos(t), np.sin(t)
C = 1 - c
wiki = [
    [c + x * x * C, x * y * C - z * s, x * z * C + y * s],
    [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
    [z * x * C - y * s, z * y * C + x * s, c + z * z * C],
]
assert np.allclose(rodrigues(n, t), wiki), "eq. 7 and Wikipedia's matrix agree"
assert rodrigues(np.ones((5, 3)), np.linspace(0, 1, 5)).shape == (5, 3, 3)
assert rodrigues(np.ones((5, 3)), 0.3).shape == (5, 3, 3), "a scalar angle broadcasts"
turns = rodrigues([0.0, 0.0, 1.0], np.linspace(0, 1, 4))  # one axis, four angles
assert turns.shape == (4, 3, 3) and np.allclose(turns[2], rodrigues([0.0, 0.0, 1.0], 2 / 3))
assert Q1_NN_V in ("(n.v) n", "n x v", "v - (n.v) n", "(n.v)")
print("Part A: visible tests passed (the answer to Q1 is checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — Eq. 8 from eq. 7, symbolically (question 2) ({points} points)
#
# > *2. 2.1: Show that eq. 8 follows from eq. 7.*
#
# Eq. 8 writes the same matrix in the four **Euler–Rodrigues parameters** — the unit
# quaternion of the rotation — $e_0 = \cos\frac\theta2$, $\vec e = (e_1, e_2, e_3) =
# \sin\frac\theta2\,\hat n$, with no trigonometric function left:
#
# $$ R = (e_0^2 - \vec e\cdot\vec e)\, I + 2\,\vec e\vec e + 2 e_0\, [\vec e]_\times
# \qquad (\text{active; the paper's sign of the last term is the frame's}). $$
#
# Derive it with SymPy, using the symbols defined below.
#
# 1. `eq7_symbolic()`: eq. 7 as a $3\times3$ `sp.Matrix` in `theta`, `n1`, `n2`, `n3`
#    (for a unit axis; any form equal to eq. 7 when $n_1^2 + n_2^2 + n_3^2 = 1$ is
#    accepted).
# 2. `eq8_from_eq7()`: the $3\times3$ `sp.Matrix` of eq. 8 in `e0`, `e1`, `e2`, `e3`,
#    obtained **from your `eq7_symbolic()`** by substitution. The half-angle identities
#    do it: with $c = \cos\frac\theta2$ and $s = \sin\frac\theta2$, write
#    $\cos\theta = 1 - 2s^2$ (so that $1 - \cos\theta = 2s^2$) and $\sin\theta = 2sc$;
#    then $n_i = e_i / s$, $c = e_0$ and $s^2 = e_1^2 + e_2^2 + e_3^2$. Every $s$ cancels:
#    $(1 - \cos\theta)\,n_in_j = 2e_ie_j$ and $\sin\theta\, n_k = 2e_0e_k$. (Do not use
#    $\cos\theta = c^2 - s^2$ here: then $1 - \cos\theta = 1 - c^2 + s^2$ equals $2s^2$ only
#    through $c^2 + s^2 = 1$, and without that step your entries keep a
#    $1/(e_1^2 + e_2^2 + e_3^2)$, which is $0/0$ at the identity.) The diagonal then reads
#    $1 - 2\,\vec e\cdot\vec e + 2e_i^2$; eq. 8's $e_0^2 - \vec e\cdot\vec e + 2e_i^2$ follows
#    by writing $1 = e_0^2 + e_1^2 + e_2^2 + e_3^2$ — either form is accepted.
#    (`expr.subs({...})` substitutes; `sp.expand` multiplies out.) Careful:
#    `expr.subs(c**2, 1 - s**2)` also rewrites a lone $c$ as $\sqrt{1 - s^2}$, which is
#    $|e_0|$, not $e_0$.
#
# **What is accepted.** Your eq. 8 must be a matrix of expressions in `e0`, `e1`, `e2`,
# `e3` only, equal to eq. 8 at **every** unit quaternion — $e_0 < 0$ included (rotations
# by more than $\pi$) and the identity $(1, 0, 0, 0)$ included, so no division by
# $e_1^2 + e_2^2 + e_3^2$ (polynomials, as eq. 8 is). Forms that differ from eq. 8 only by
# a multiple of $e_0^2 + e_1^2 + e_2^2 + e_3^2 - 1$ are all accepted: the grader compares
# each of the nine entries with eq. 8 *on the unit sphere* — exactly, at random rational
# points of $S^3$ and at $\pm$ the identity — not as formulas. Your eq. 7 is compared the
# same way at random angles and random unit axes. The visible test checks your eq. 8
# against your eq. 7 at two rotations, at the identity, and against the given
# `quat_to_matrix` at a quaternion with $e_0 < 0$.

# %% nbgrader={"grade": false, "grade_id": "symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
import sympy as sp

theta = sp.symbols("theta", real=True)
n1, n2, n3 = sp.symbols("n1 n2 n3", real=True)
e0, e1, e2, e3 = sp.symbols("e0 e1 e2 e3", real=True)


# %% nbgrader={"grade": false, "grade_id": "eq8", "locked": false, "schema_version": 3, "solution": true, "task": false}
def eq7_symbolic():
    """Eq. 7 as a 3×3 sp.Matrix in theta, n1, n2, n3."""
    ### BEGIN SOLUTION
    n = sp.Matrix([n1, n2, n3])
    K = sp.Matrix([[0, -n3, n2], [n3, 0, -n1], [-n2, n1, 0]])
    return sp.cos(theta) * sp.eye(3) + (1 - sp.cos(theta)) * n * n.T + sp.sin(theta) * K
    ### END SOLUTION


def eq8_from_eq7():
    """Eq. 8 as a 3×3 sp.Matrix in e0, e1, e2, e3, derived from eq7_symbolic()."""
    ### BEGIN SOLUTION
    c, s = sp.symbols("c s", positive=True)  # cos(θ/2), sin(θ/2)
    R = eq7_symbolic().subs({sp.cos(theta): 1 - 2 * s**2, sp.sin(theta): 2 * s * c})
    R = R.subs({n1: e1 / s, n2: e2 / s, n3: e3 / s}).applyfunc(sp.expand)
    return R.subs({c: e0, s**2: e1**2 + e2**2 + e3**2}).applyfunc(sp.expand)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_eq8", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
R7, R8 = eq7_symbolic(), eq8_from_eq7()
assert isinstance(R7, sp.MatrixBase) and R7.shape == (3, 3)
assert isinstance(R8, sp.MatrixBase) and R8.shape == (3, 3)
assert R8.free_symbols <= {e0, e1, e2, e3}, "eq. 8 has only e0, e1, e2, e3 in it"
axis = np.array([1.0, -2.0, 2.0]) / 3


def eq8_at(e):
    """Your eq. 8 at the quaternion e, all four values put in at once (xreplace)."""
    return np.array(
        R8.xreplace(dict(zip((e0, e1, e2, e3), map(sp.Float, e), strict=True))), dtype=float
    )


for t in (1.1, 4.0):  # at 4 rad, e0 = cos(2) < 0
    at7 = np.array(R7.xreplace({theta: t, n1: axis[0], n2: axis[1], n3: axis[2]}), dtype=float)
    e = np.concatenate([[np.cos(t / 2)], np.sin(t / 2) * axis])
    assert np.allclose(at7, rodrigues(axis, t)), "your eq. 7 is your Part A's matrix"
    assert np.allclose(eq8_at(e), at7), f"eq. 8 at e = (cos θ/2, sin θ/2 n) is eq. 7 (θ = {t})"
for e in ([1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]):
    assert np.allclose(eq8_at(e), np.eye(3)), (
        f"eq. 8 at {e} (the identity) is I: no division by e1² + e2² + e3² (0/0 there)"
    )
e = np.array([-0.5, 0.1, -0.7, 0.5]) / np.linalg.norm([-0.5, 0.1, -0.7, 0.5])  # e0 < 0
assert np.allclose(eq8_at(e), quat_to_matrix(e)), "eq. 8 holds for e0 < 0 too"
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_09", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — Rigid motions as $4\times4$ matrices (question 3) ({points} points)
#
# > *3. 2.1.1: Compute the right-hand side of eq. 17. Multiply two $4\times4$ matrices of
# > the form of eq. 16 and show they are still of the form in eq. 16. What is the new
# > translation of $\overline M$?*
#
# A rotation $R$ followed by a translation $\vec t$, $\vec x \mapsto R\vec x + \vec t$, is one
# matrix product in homogeneous coordinates $(\vec x, 1)$ — eq. 16:
#
# $$ M = \begin{pmatrix} R & \vec t \\ \vec 0^\mathsf{T} & 1 \end{pmatrix}, \qquad
# M \begin{pmatrix}\vec x\\ 1\end{pmatrix} = \begin{pmatrix} R\vec x + \vec t\\ 1
# \end{pmatrix}. $$
#
# The paper writes the transform $\overline M$ that a package applies as a product of
# such matrices (eq. 17); EMAN2 documents its transform as a **pre-translation, a
# rotation and a post-translation**, $\hat v = T(\vec t_\text{post})\, R\, T(\vec
# t_\text{pre})\, v$, with $T(\vec t)$ the pure translation. The product of matrices acts
# right to left: the rightmost is applied first.
#
# 1. `rigid_transform(R, t)`: eq. 16, `R` `(..., 3, 3)` and `t` `(..., 3)` → `(..., 4, 4)`.
#    The batch shapes (`R`'s but its last two axes, `t`'s but its last) broadcast by NumPy's
#    rules: one `R` with many `t`, many `R` `(4, 3, 3)` with one `t` `(3,)`, or matching
#    batches.
# 2. `apply_transform(M, points)`: $R\vec x + \vec t$ for every row $\vec x$ of `points`
#    `(N, 3)`, with **one** `M` `(4, 4)` → `(N, 3)`.
# 3. `compose_rt(R2, t2, R1, t1)`: the rotation and the translation of the product
#    $M_2 M_1$ — **$M_1$ applied first** — as a tuple `(R, t)`, for one rotation `(3, 3)`
#    and one translation `(3,)` each: question 3's new translation. Work it out on paper by
#    multiplying the blocks and write the result in $R_1, \vec t_1, R_2, \vec t_2$ — that
#    formula is the answer to question 3. (The grader checks only the values you return,
#    so building the two $4\times4$ matrices and multiplying them would also score; it
#    would not answer the question.)
# 4. `invert_transform(M)`: $M^{-1}$ of **one** `M` `(4, 4)`, in closed form (use $R^{-1} =
#    R^\mathsf{T}$, not a general matrix inverse) → `(4, 4)`.
# 5. `pre_post_transform(R, t_pre, t_post)`: the $4\times4$ matrix of $T(\vec
#    t_\text{post})\, R\, T(\vec t_\text{pre})$ for one `R` `(3, 3)` and translations
#    `(3,)` — the right-hand side of eq. 17 in EMAN2's form. Only the rigid motion is asked
#    for: if your reading of eq. 17 (or of EMAN2's documentation of its `Transform` class)
#    also carries a scale factor or a mirror, leave them out — no scale, no mirror here.
#
# Batches beyond these shapes (several `M` in `apply_transform`, `invert_transform`;
# batched `compose_rt`, `pre_post_transform`) are welcome but never graded.


# %% nbgrader={"grade": false, "grade_id": "transforms", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rigid_transform(R, t):
    """Eq. 16: [[R, t], [0, 1]]. Shapes (..., 3, 3), (..., 3) → (..., 4, 4)."""
    ### BEGIN SOLUTION
    R, t = np.asarray(R, dtype=float), np.asarray(t, dtype=float)
    batch = np.broadcast_shapes(R.shape[:-2], t.shape[:-1])
    M = np.zeros(batch + (4, 4))
    M[..., :3, :3] = R
    M[..., :3, 3] = t
    M[..., 3, 3] = 1.0
    return M
    ### END SOLUTION


def apply_transform(M, points):
    """R x + t for each row x of points (N, 3); M (4, 4) → (N, 3)."""
    ### BEGIN SOLUTION
    M, points = np.asarray(M, dtype=float), np.asarray(points, dtype=float)
    return points @ M[:3, :3].T + M[:3, 3]
    ### END SOLUTION


def compose_rt(R2, t2, R1, t1):
    """(R, t) of M2 M1 (M1 applied first)."""
    ### BEGIN SOLUTION
    R1, R2 = np.asarray(R1, dtype=float), np.asarray(R2, dtype=float)
    t1, t2 = np.asarray(t1, dtype=float), np.asarray(t2, dtype=float)
    return R2 @ R1, R2 @ t1 + t2
    ### END SOLUTION


def invert_transform(M):
    """M⁻¹ of a rigid transform M (4, 4), in closed form."""
    ### BEGIN SOLUTION
    M = np.asarray(M, dtype=float)
    Rt = M[:3, :3].T
    return rigid_transform(Rt, -Rt @ M[:3, 3])
    ### END SOLUTION


def pre_post_transform(R, t_pre, t_post):
    """The 4×4 matrix of T(t_post) R T(t_pre)."""
    ### BEGIN SOLUTION
    R = np.asarray(R, dtype=float)
    return rigid_transform(R, R @ np.asarray(t_pre, dtype=float) + np.asarray(t_post, dtype=float))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transforms", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
rng = np.random.default_rng(0)
R1, R2 = quat_to_matrix(random_quaternions(2, rng))
t1, t2 = rng.normal(size=(2, 3))
M1, M2 = rigid_transform(R1, t1), rigid_transform(R2, t2)
assert np.allclose(M1[3], [0, 0, 0, 1]) and np.allclose(M1[:3, 3], t1)
pts = rng.normal(size=(5, 3))
assert np.allclose(apply_transform(M1, pts), pts @ R1.T + t1)
R, t = compose_rt(R2, t2, R1, t1)
assert np.allclose(rigid_transform(R, t), M2 @ M1), "M2 M1: first M1, then M2"
assert np.allclose(
    apply_transform(rigid_transform(R, t), pts), apply_transform(M2, apply_transform(M1, pts))
)
assert np.allclose(invert_transform(M1) @ M1, np.eye(4))
T = lambda v: rigid_transform(np.eye(3), v)  # noqa: E731
t_pre, t_post = rng.normal(size=(2, 3))
assert np.allclose(
    pre_post_transform(R1, t_pre, t_post), T(t_post) @ rigid_transform(R1, np.zeros(3)) @ T(t_pre)
)
assert rigid_transform(np.ones((4, 3, 3)), np.zeros(3)).shape == (4, 4, 4)
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_12", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — The Euler angles of SPIDER, RELION and EMAN (Table 1) ({points} points)
#
# The packages describe an orientation by three angles, each its own way (§2.1, Table 1;
# the book's [conventions page](https://cryoem-study-group.github.io/course/book/conventions.html)). They multiply **clockwise** elementary rotations —
# rotations of the coordinate frame, $R^\text{cw}_a(\alpha) = R_a(-\alpha)$ with $R_a$ the
# active rotations `Rx`, `Ry`, `Rz` given above. The products below act on column vectors,
# so "in the order they are applied" reads them **right to left**: the rightmost factor
# acts first — in SPIDER's $A$, $R^\text{cw}_z(\phi)$ first, then $R^\text{cw}_y(\theta)$,
# then $R^\text{cw}_z(\psi)$.
#
# | package | angles | the package's matrix $A$ | in active rotations |
# |---|---|---|---|
# | SPIDER | $(\phi, \theta, \psi)$ | $R^\text{cw}_z(\psi)\,R^\text{cw}_y(\theta)\,R^\text{cw}_z(\phi)$ | $\bigl(R_z(\phi)\,R_y(\theta)\,R_z(\psi)\bigr)^\mathsf{T}$ |
# | RELION | (rot, tilt, psi) | the same as SPIDER | the same |
# | EMAN | (az, alt, phi) | $R^\text{cw}_z(\text{phi})\,R^\text{cw}_x(\text{alt})\,R^\text{cw}_z(\text{az})$ | $\bigl(R_z(\text{az})\,R_x(\text{alt})\,R_z(\text{phi})\bigr)^\mathsf{T}$ |
#
# $A$ takes the volume's frame to the image's: it is the rotation $R$ of this course's
# projection, $P(x, y) = \sum_z V\bigl(R^\mathsf{T}(x, y, z)\bigr)$. Because
# $R_y(b) = R_z(\frac\pi2)\,R_x(b)\,R_z(-\frac\pi2)$, EMAN's angles of the same rotation are
# $\text{az} = \phi + 90°$, $\text{alt} = \theta$, $\text{phi} = \psi - 90°$.
#
# Converting between packages is safest **through the matrix**: angles → the package's
# matrix → the other package's angles. The three classic mistakes: the order of the
# three rotations (intrinsic versus extrinsic: reading $R_z(\psi)R_y(\theta)R_z(\phi)$
# for $R_z(\phi)R_y(\theta)R_z(\psi)$), the inverse (the active rotation by the angles,
# $R_z(\phi)R_y(\theta)R_z(\psi)$, is $A^\mathsf{T}$ — it rotates the frame the other way),
# and EMAN's $90°$ offsets (their signs, or forgetting them).
#
# 1. `euler_matrix(angles, convention)`: `angles` `(..., 3)` radians, `convention` one of
#    `"spider"`, `"relion"`, `"eman"` → the package's matrix $A$, `(..., 3, 3)`. The grader
#    passes exactly these three lower-case strings; what you do with any other (raise a
#    `ValueError`, say) is up to you and not graded. The same holds in items 2 and 3.
# 2. `matrix_to_euler(R, convention)`: the angles `(..., 3)` of `R` `(..., 3, 3)` in that
#    convention, with the middle angle in $[0, \pi]$. The outer two angles may be in any
#    range — $(-\pi, \pi]$, $[0, 2\pi)$ or unwrapped: the grader compares the *matrix* of
#    your angles with `R`, so any angles whose matrix is `R` are accepted. **Gimbal lock**:
#    when the middle angle is $0$ or $\pi$, the two outer rotations turn about the same
#    axis and only one combination of the outer angles is defined — at $\theta = 0$ the
#    **sum**, $R_z(\phi)R_z(\psi) = R_z(\phi + \psi)$; at $\theta = \pi$ the **difference**,
#    $R_z(\phi)R_y(\pi)R_z(\psi) = R_z(\phi - \psi)R_y(\pi)$ (the same with $R_x$ for EMAN).
#    Pick any valid pair (for instance the last angle 0, the first then carrying the sum
#    or the difference). Both cases are graded. Detect them with a tolerance
#    ($\sin\theta < 10^{-9}$, say), not an exact zero: the matrix of an exact $\theta =
#    \pi$ carries rounding errors of $10^{-16}$, and the general formulas read the outer
#    angles off those errors.
# 3. `convert_euler(angles, source, target)`: the same rotation's angles in `target`
#    (`angles` `(..., 3)` → `(..., 3)`, the outer angles in any range, as in item 2).


# %% nbgrader={"grade": false, "grade_id": "euler", "locked": false, "schema_version": 3, "solution": true, "task": false}
def euler_matrix(angles, convention):
    """The package's matrix of Euler angles (..., 3) (radians) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    a = np.asarray(angles, dtype=float)
    first, second, third = a[..., 0], a[..., 1], a[..., 2]
    middle = Rx if convention == "eman" else Ry
    active = Rz(first) @ middle(second) @ Rz(third)
    return np.swapaxes(active, -1, -2)
    ### END SOLUTION


def matrix_to_euler(R, convention):
    """Angles (..., 3) of the package's matrix R (..., 3, 3), middle angle in [0, π]."""
    ### BEGIN SOLUTION
    R = np.asarray(R, dtype=float)
    if convention == "eman":  # A_eman(az, alt, phi) = A_spider(az − π/2, alt, phi + π/2)
        return matrix_to_euler(R, "spider") + np.array([np.pi / 2, 0.0, -np.pi / 2])
    M = np.swapaxes(R, -1, -2)  # the active Rz(φ) Ry(θ) Rz(ψ)
    theta = np.arctan2(np.hypot(M[..., 0, 2], M[..., 1, 2]), M[..., 2, 2])
    locked = np.hypot(M[..., 0, 2], M[..., 1, 2]) < 1e-12
    phi = np.arctan2(M[..., 1, 2], M[..., 0, 2])
    psi = np.arctan2(M[..., 2, 1], -M[..., 2, 0])
    # gimbal lock (θ = 0 or π): ψ = 0, and the second column of Rz(φ) Ry(θ) is (−sin φ, cos φ, 0)
    phi_locked = np.arctan2(-M[..., 0, 1], M[..., 1, 1])
    phi = np.where(locked, phi_locked, phi)
    psi = np.where(locked, 0.0, psi)
    return np.stack([phi, theta, psi], axis=-1)
    ### END SOLUTION


def convert_euler(angles, source, target):
    """Euler angles of one package → the same rotation's angles in another, through the matrix."""
    ### BEGIN SOLUTION
    return matrix_to_euler(euler_matrix(angles, source), target)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_euler", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
a = np.array([0.3, 1.1, -0.4])
assert np.allclose(euler_matrix(a, "spider"), (Rz(0.3) @ Ry(1.1) @ Rz(-0.4)).T)
assert np.allclose(euler_matrix(a, "relion"), euler_matrix(a, "spider"))
assert np.allclose(euler_matrix(a, "eman"), (Rz(0.3) @ Rx(1.1) @ Rz(-0.4)).T)
# the projection direction of SPIDER's (φ, θ) is the third row of A (the beam, z, in the image)
A = euler_matrix(a, "spider")
d = np.array([np.sin(1.1) * np.cos(0.3), np.sin(1.1) * np.sin(0.3), np.cos(1.1)])
assert np.allclose(A @ d, [0.0, 0.0, 1.0]), "A takes the direction (φ, θ) to the beam axis z"
for conv in ("spider", "relion", "eman"):
    back = matrix_to_euler(euler_matrix(a, conv), conv)
    assert np.allclose(euler_matrix(back, conv), euler_matrix(a, conv)), conv
    assert 0 <= back[1] <= np.pi
eman = convert_euler(a, "spider", "eman")
assert np.allclose(euler_matrix(eman, "eman"), euler_matrix(a, "spider"))
print("SPIDER", a, "→ EMAN", eman, "(az = φ + 90°, phi = ψ − 90°, up to multiples of 2π)")
# gimbal lock: at θ = 0 only φ + ψ is defined, at θ = π only φ − ψ
for conv in ("spider", "eman"):
    for middle in (0.0, np.pi):
        locked = euler_matrix([0.5, middle, 0.2], conv)
        back = matrix_to_euler(locked, conv)
        assert np.all(np.isfinite(back)) and np.isclose(back[1], middle), (conv, middle)
        assert np.allclose(euler_matrix(back, conv), locked), f"{conv}, θ = {middle}"
batch = euler_matrix(np.random.default_rng(1).uniform(0, 3, (4, 2, 3)), "eman")
assert matrix_to_euler(batch, "eman").shape == (4, 2, 3)
print("Part D: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_15", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — The metric and the volume element (question 5) ({points} points)
#
# > *5. 2.2: Derive eq. 23 and the accompanying equation for $(d\hat n)^2$ in the
# > paragraph that follows.*
#
# §2.2.2 measures the similarity of two rotations by the angle of the rotation that takes
# one to the other — problem set 2's geodesic distance $d_\angle(R_1, R_2) =
# \theta(R_1^\mathsf{T}R_2)$. In *spin* coordinates (the angle $\Omega \in [0, \pi]$ and
# the unit axis $\hat n$ of $R$, $\hat n$ at polar angle $\theta_n$ and azimuth $\phi_n$)
# its line element is
#
# $$ ds^2 = d\Omega^2 + 4\sin^2\tfrac\Omega2\, (d\hat n)^2, \qquad (d\hat n)^2 =
# d\theta_n^2 + \sin^2\theta_n\, d\phi_n^2 . $$
#
# (Why: the unit quaternion $(\cos\frac\Omega2, \sin\frac\Omega2\,\hat n)$ moves by
# $\frac12 d\Omega$ along its great circle and by $\sin\frac\Omega2\,d\hat n$ across it,
# and the angle between two rotations is twice the angle between their quaternions.)
# §2.2.3 turns the metric into a volume element, $\sqrt{\det g}\; d\Omega\, d\theta_n\,
# d\phi_n = 4\sin^2\frac\Omega2 \sin\theta_n\, d\Omega\, d\theta_n\, d\phi_n$ — in SPIDER's
# Euler angles it is $\sin\theta\, d\phi\, d\theta\, d\psi$; both integrate to $8\pi^2$. A
# uniformly random rotation is one drawn with this volume element.
#
# Two sets of angles appear here, and they are different: $\theta_n, \phi_n$ (items 1–2)
# are the polar angles of the **axis** $\hat n$; $(\phi, \theta, \psi)$ (item 5) are
# SPIDER's **Euler angles** of Part D. All functions take NumPy arrays (or scalars) whose
# shapes broadcast, and return float arrays of the broadcast shape.
#
# 1. `spin_line_element(omega, d_omega, d_n)`: $ds = \sqrt{d\Omega^2 + 4\sin^2\frac\Omega2\,
#    |d\vec n|^2}$ (not squared) for `omega` $\in [0, \pi]$ and `d_omega` `(...)` and `d_n`
#    `(..., 3)`, with $(d\hat n)^2 = |d\vec n|^2$, the squared length of `d_n`. The function
#    does not see $\hat n$: it is the line element only when `d_n` is a small change of a
#    unit axis, hence normal to it — that is the caller's business (the visible test passes
#    one); the grader passes arbitrary vectors `d_n` and expects this formula.
# 2. `dn_squared(theta_n, d_theta, d_phi)`: $(d\hat n)^2 = d\theta_n^2 + \sin^2\theta_n\,
#    d\phi_n^2$ for the axis at polar angle `theta_n` $\in [0, \pi]$, arrays `(...)`.
# 3. `haar_angle_density(omega)`: the probability density of the rotation angle
#    $\Omega$ of a uniformly random rotation, for `omega` in $[0, \pi]$ (the grader passes
#    only those; outside, the density is 0, and returning 0 or the formula's value there
#    are both fine) — integrate the volume element over the axis and normalise.
# 4. `ball_fraction(rho)`: the fraction of SO(3) within the geodesic distance $\rho$ of a
#    rotation (by invariance, of the identity), for $\rho \in [0, \pi]$ (only those are
#    passed; $\pi$ is the largest distance, and the fraction is 1 there).
# 5. `euler_density(angles)`: the probability density of a uniform rotation with respect
#    to $d\phi\, d\theta\, d\psi$ at SPIDER angles `(..., 3)`, over the domain $\phi, \psi
#    \in [0, 2\pi)$ (each an interval of length $2\pi$), $\theta \in [0, \pi]$: it
#    integrates to 1 over that box. The grader passes $\theta \in [0, \pi]$ only.
#
# The visible tests check them *numerically against problem set 2's distances* (the given
# `geodesic_distance`): the length of a small step, and the fraction of random rotations
# that fall in a ball.


# %% nbgrader={"grade": false, "grade_id": "volume", "locked": false, "schema_version": 3, "solution": true, "task": false}
def spin_line_element(omega, d_omega, d_n):
    """ds = sqrt(dΩ² + 4 sin²(Ω/2) |dn|²). Shapes (...), (...), (..., 3) → (...)."""
    ### BEGIN SOLUTION
    omega, d_omega, d_n = (np.asarray(v, dtype=float) for v in (omega, d_omega, d_n))
    return np.sqrt(d_omega**2 + 4 * np.sin(omega / 2) ** 2 * np.sum(d_n * d_n, axis=-1))
    ### END SOLUTION


def dn_squared(theta_n, d_theta, d_phi):
    """(dn)² = dθ_n² + sin²θ_n dφ_n² for the axis at polar angle θ_n. Shapes (...) → (...)."""
    ### BEGIN SOLUTION
    theta_n, d_theta, d_phi = (np.asarray(v, dtype=float) for v in (theta_n, d_theta, d_phi))
    return d_theta**2 + np.sin(theta_n) ** 2 * d_phi**2
    ### END SOLUTION


def haar_angle_density(omega):
    """Density of the rotation angle of a uniform rotation, on [0, π]. Shape (...) → (...)."""
    ### BEGIN SOLUTION
    omega = np.asarray(omega, dtype=float)
    return (1 - np.cos(omega)) / np.pi
    ### END SOLUTION


def ball_fraction(rho):
    """Fraction of SO(3) within geodesic distance rho ∈ [0, π] of a rotation. (...) → (...)."""
    ### BEGIN SOLUTION
    rho = np.asarray(rho, dtype=float)
    return (rho - np.sin(rho)) / np.pi
    ### END SOLUTION


def euler_density(angles):
    """Haar density w.r.t. dφ dθ dψ (φ, ψ over 2π; θ ∈ [0, π]), SPIDER angles (..., 3) → (...)."""
    ### BEGIN SOLUTION
    angles = np.asarray(angles, dtype=float)
    return np.sin(angles[..., 1]) / (8 * np.pi**2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_volume", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
# A small step in spin coordinates, measured with problem set 2's distance.
rng = np.random.default_rng(2)
omega, n = 2.0, np.array([2.0, 1.0, -2.0]) / 3
d_omega, d_n = 0.3, np.cross(n, rng.normal(size=3))  # d_n normal to n
eps = 1e-6
step = geodesic_distance(rodrigues(n, omega), rodrigues(n + eps * d_n, omega + eps * d_omega))
assert np.isclose(spin_line_element(omega, d_omega, d_n), step / eps, rtol=1e-4)
assert np.isclose(spin_line_element(omega, 1.0, np.zeros(3)), 1.0), "along the axis: ds = dΩ"
assert np.isclose(dn_squared(np.pi / 2, 0.0, 1.0), 1.0) and np.isclose(
    dn_squared(0.3, 0.0, 1.0), np.sin(0.3) ** 2
)
# The densities integrate to 1 (trapezoid rule on a fine grid).
w = np.linspace(0, np.pi, 20001)
assert np.isclose(np.trapezoid(haar_angle_density(w), w), 1.0, atol=1e-6)
euler = np.stack(np.broadcast_arrays(0.0, w, 0.0), axis=-1)
assert np.isclose(np.trapezoid(euler_density(euler), w) * (2 * np.pi) ** 2, 1.0, atol=1e-6)
# The fraction of 100 000 uniformly random rotations within rho of the identity.
R = quat_to_matrix(random_quaternions(100_000, rng))
angles = geodesic_distance(np.eye(3), R)
for rho in (0.5, 1.5, 3.0):
    print(
        f"rho = {rho}: sampled {np.mean(angles < rho):.4f}, ball_fraction {ball_fraction(rho):.4f}"
    )
    assert abs(np.mean(angles < rho) - ball_fraction(rho)) < 0.006
assert np.isclose(ball_fraction(np.pi), 1.0)
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_18", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — The quasi-uniform grid of §2.3 (questions 6 and 7) ({points} points)
#
# > *6. 2.3: Unpack eq. 27, $\delta\theta = \arctan(1/R)$. 7. 2.3: Connect Figure 1 to
# > eqs. 28 and 29.*
#
# Projection matching compares an image with projections of the map in a grid of
# directions. **Eq. 27** chooses the angular step for a particle of radius $R$ pixels:
# $\delta\theta = \arctan(1/R)$ is the angle under which one pixel, standing at right
# angles on the end of a radius $R$, is seen from the centre ($\tan\delta\theta = 1/R$).
# A rotation by $\delta\theta$ moves a point of the rim along an arc of length
# $R\,\delta\theta$ (a chord $2R\sin\frac{\delta\theta}2$); for particles of useful size
# arc, chord and $R\tan\delta\theta$ all agree with one pixel to within $1/R^2$ of it, and
# $\delta\theta \approx 1/R$. Implement eq. 27 exactly as the paper writes it, with the
# arctangent (it differs from $1/R$ for small $R$: $45°$ against $57°$ at $R = 1$).
# **Eq. 28–29 and Figure 1** place
# the directions (the first two Euler angles $(\phi, \theta)$ of SPIDER) on rings of
# constant $\theta$, a step $\delta$ apart in $\theta$; on the ring at $\theta_i$, whose
# circumference is $2\pi\sin\theta_i$, the azimuth steps by about $\delta/\sin\theta_i$, so
# that neighbouring directions are about $\delta$ apart everywhere and the number of
# directions per unit area of the sphere is constant (a ring has about
# $2\pi\sin\theta_i/\delta$ of them; the poles one). An orientation adds the in-plane angle
# $\psi$, stepped by $\delta$ too.
#
# 1. `angular_step(radius)`: eq. 27 in **radians**, for radii $R > 0$ (pixels; a number
#    or an array, the result of the same shape).
# 2. `projection_directions(step)`: the directions of eq. 28–29 for the step `step`
#    (radians) over the **whole** sphere, $\theta \in [0, \pi]$, as an array `(M, 2)` of
#    rows $(\phi, \theta)$ in radians. (The paper's program stops at $\theta = 90°$ by
#    default — projections along $\pm\hat d$ are mirror images — but a grid of
#    orientations needs both hemispheres.)
# 3. `orientation_grid(step)`: the grid of orientations — each direction with the
#    in-plane angles $\psi$ — as unit quaternions `(N, 4)` `[w, x, y, z]` (either sign) of
#    **SPIDER's matrices** $A$ of $(\phi, \theta, \psi)$ — Part D's
#    `euler_matrix(…, "spider")`, not the active $A^\mathsf{T}$; the given `matrix_to_quat`
#    converts them. (The grader's measures cannot tell $A$ from $A^\mathsf{T}$ — inverting
#    every rotation of a grid changes none of its distances — but problem set 7 reads your
#    grid as the matrices $A$.)
#
# **What is fixed and what is yours.** Fixed: the rows $(\phi, \theta)$ in that order and
# in radians ($\phi$ in $[0, 2\pi)$ or any other range), both hemispheres — rings from the
# north pole $\theta = 0$ to within a step of the south pole — rings of constant $\theta$
# a step of about $\delta$ apart with about $2\pi\sin\theta_i/\delta$ directions each (a
# pole one), about $2\pi/\delta$ in-plane angles per direction, and the measures below.
# Yours (any choice that passes them scores): rounding $\pi/\delta$ to a whole number of
# rings, so that the last ring is the south pole, or stepping $\theta$ by exactly
# $\delta$; stepping the azimuth by $\delta/\sin\theta_i$ or by the
# adjusted ring spacing over $\sin\theta_i$; rounding the number of directions on a ring
# to a whole number, which spreads them evenly over $2\pi$; staggering $\phi$ from ring
# to ring or not; and the in-plane angles — for instance $n_\psi = $ the nearest whole
# number to $2\pi/\delta$, at $\psi = 2\pi k/n_\psi$ — with or without an offset.
#
# **How the grids are graded.** The grader builds your grids for a few steps between 15°
# and 30° (orientations: between 20° and 30°) and measures them, with $\delta$ the step:
#
# * directions: their number $M$ is within $[0.8, 1.3]\times 4\pi/\delta^2$, every
#   one of 4,000 random directions is within $\delta$ of one of them, and
#   **every one** of 300 caps of radius $2.5\,\delta$ around random directions holds
#   $M\,\frac{1 - \cos 2.5\delta}2$ of them to within 40 %;
# * orientations: their number $N$ is within $[0.8, 1.3]\times 8\pi^2/\delta^3$, the
#   *covering radius* — the largest distance from 4,000 random rotations to the nearest
#   grid orientation — is below $\delta$, and **every one** of 300 balls of radius
#   $2.5\,\delta$ around random rotations holds $N \times$ `ball_fraction(2.5 δ)` of them to
#   within 30 % (counts against the volume element).
#
# The visible tests make the same measurements for $\delta = 20°$, with their own random
# probes.


# %% nbgrader={"grade": false, "grade_id": "grid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def angular_step(radius):
    """Eq. 27: the angular step (radians) for a particle of radius `radius` pixels."""
    ### BEGIN SOLUTION
    return np.arctan(1.0 / np.asarray(radius, dtype=float))
    ### END SOLUTION


def projection_directions(step):
    """Eq. 28–29 over the whole sphere: rows (φ, θ), shape (M, 2)."""
    ### BEGIN SOLUTION
    n_theta = max(1, round(np.pi / step))
    rows = []
    for i in range(n_theta + 1):
        th = np.pi * i / n_theta
        n_phi = max(1, round(2 * np.pi * np.sin(th) / step))
        phi = 2 * np.pi * np.arange(n_phi) / n_phi
        rows.append(np.stack([phi, np.full(n_phi, th)], axis=-1))
    return np.concatenate(rows)
    ### END SOLUTION


def orientation_grid(step):
    """Directions × in-plane angles, as unit quaternions (N, 4)."""
    ### BEGIN SOLUTION
    dirs = projection_directions(step)
    n_psi = max(1, round(2 * np.pi / step))
    psi = 2 * np.pi * np.arange(n_psi) / n_psi
    phi = np.repeat(dirs[:, 0], n_psi)
    th = np.repeat(dirs[:, 1], n_psi)
    ps = np.tile(psi, len(dirs))
    A = np.swapaxes(Rz(phi) @ Ry(th) @ Rz(ps), -1, -2)  # SPIDER's matrices
    return matrix_to_quat(A)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_grid", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
assert np.isclose(angular_step(50.0), np.arctan(1 / 50)), "radians"
print("step for a particle of radius 50 px:", np.rad2deg(angular_step(50.0)), "degrees")
delta = np.deg2rad(20.0)
d = projection_directions(delta)
print("directions:", len(d), "≈ 4π/δ² =", 4 * np.pi / delta**2)
assert d.shape[1] == 2 and np.pi - delta < d[:, 1].max() <= np.pi + 1e-12, (
    "the whole sphere: θ up to π (the last ring within a step of the south pole)"
)
assert 0.8 < len(d) / (4 * np.pi / delta**2) < 1.3
# the grader's measures of the directions, with 4000 probes and 300 caps of radius 2.5 δ
rng = np.random.default_rng(3)
dirs = np.stack(
    [np.sin(d[:, 1]) * np.cos(d[:, 0]), np.sin(d[:, 1]) * np.sin(d[:, 0]), np.cos(d[:, 1])], -1
)
v = rng.normal(size=(4300, 3))
v /= np.linalg.norm(v, axis=1, keepdims=True)
far = np.arccos(np.clip((v[:4000] @ dirs.T).max(axis=1), -1, 1)).max()
print(f"directions: the farthest probe is {far / delta:.2f} δ away")
assert far < delta
in_caps = (v[4000:] @ dirs.T > np.cos(2.5 * delta)).sum(axis=1)
caps = in_caps / (len(d) * (1 - np.cos(2.5 * delta)) / 2)
print(f"caps of radius 2.5 δ hold {caps.min():.2f}–{caps.max():.2f} × the uniform count")
assert np.abs(caps - 1).max() < 0.4
q = orientation_grid(delta)
print("orientations:", len(q), "≈ 8π²/δ³ =", 8 * np.pi**2 / delta**3)
assert q.shape[1] == 4 and np.allclose(np.linalg.norm(q, axis=1), 1.0)
assert 0.8 < len(q) / (8 * np.pi**2 / delta**3) < 1.3
# the largest distance from 4000 random rotations to the grid, and 300 balls of radius 2.5 δ
probes = random_quaternions(4300, rng)
overlap = np.abs(probes @ q.T)
nearest = 2 * np.arccos(np.clip(overlap[:4000].max(axis=1), 0, 1))
print(f"covering radius ≈ {nearest.max() / delta:.2f} δ")
assert nearest.max() < delta
balls = (overlap[4000:] > np.cos(1.25 * delta)).sum(axis=1) / (len(q) * ball_fraction(2.5 * delta))
print(f"balls of radius 2.5 δ hold {balls.min():.2f}–{balls.max():.2f} × N·ball_fraction")
assert np.abs(balls - 1).max() < 0.3
print("Part F: visible tests passed (the grader measures your grids for other steps too)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_21", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — Uniform random rotations (question 8) ({points} points)
#
# > *8. What other ways are there to do uniform sampling on the sphere?*
#
# The question says "the sphere". For projection *directions* that is $S^2$ (Part F's
# directions, and `sphere_points` in Part H). For *orientations* the sphere that matters
# is $S^3$, the unit quaternions: a uniform sampling of $S^3$ is a uniform sampling of
# rotations, since $q$ and $-q$ are the same rotation and the volume element of §2.2.3 is
# the round volume of $S^3$. Part F's grid is one answer; this part builds a random
# sampling of orientations, and Part H a deterministic one of orientations
# (`deterministic_quat`) and one of directions (`sphere_points`).
#
# `shoemake_quat(n, seed)`: $n$ **independent** uniformly distributed rotations `(n, 4)`,
# by Shoemake's method (*Uniform random rotations*, Graphics Gems III, 1992): with three
# uniform numbers $u_1, u_2, u_3 \in [0, 1)$ per rotation from
# `np.random.default_rng(seed)`, $r_1 = \sqrt{1 - u_1}$, $r_2 = \sqrt{u_1}$ and
#
# $$ q = (r_2\cos 2\pi u_3,\; r_1\sin 2\pi u_2,\; r_1\cos 2\pi u_2,\; r_2\sin 2\pi u_3). $$
#
# These are Shoemake's own components — he lists them as $(x, y, z, w) = (r_1\sin 2\pi u_2,
# r_1\cos 2\pi u_2, r_2\sin 2\pi u_3, r_2\cos 2\pi u_3)$ — written in this course's
# $[w, x, y, z]$ order. Which numbers you draw first (all $u_1$, then all $u_2$, …, or
# three per rotation) is yours, and so is the sign of each $q$: the grader does not
# reproduce your sample, it measures it (different seeds should give different
# samples).
#
# Why is it uniform? $q$ is a point on two circles, of squared radii $1 - u_1$ and $u_1$,
# at independent uniform angles, and the volume of $S^3$ is uniform in $u_1$. (Normalising
# a 4-vector of independent Gaussians is uniform too, and is accepted; normalising points
# of a cube, or drawing the three Euler angles uniformly, is not.)
#
# **How it is graded** (measured by the grader on $n = 2000$ rotations, for seed 0 and
# for another seed): unit quaternions; two-sided Kolmogorov–Smirnov distances $\sqrt n\,D
# < 2.8$ between your sample and the law that each statistic has under a uniform rotation
# — each $|q_k|$ (**not** uniform: a coordinate of a uniform point of $S^3$ has the density
# $\frac2\pi\sqrt{1 - x^2}$ on $[-1, 1]$, so $|q_k|$ has $\frac4\pi\sqrt{1 - x^2}$ on $[0, 1]$,
# the distribution function $\frac2\pi\bigl(x\sqrt{1 - x^2} + \arcsin x\bigr)$), each of
# the nine entries of the rotation matrix (uniform on $[-1, 1]$) and the rotation angle
# ($(\Omega - \sin\Omega)/\pi$, Part E); the moments $E[q q^\mathsf{T}] = I/4$ and
# $E[\sum_k q_k^4] = \frac12$ to within 5 standard errors (a sample's standard deviation
# is $\frac14$ for $q_k^2$ and $\frac1{\sqrt{24}}$ for $q_jq_k$, $j \ne k$); and
# *independence*: the fraction of your points whose nearest neighbour is within the
# distance $r$ with $(n-1)\,$`ball_fraction(r)` $= 1$ must be about $1 - 1/e \approx
# 0.63$ (between 0.55 and 0.71), as for independent points — a deterministic grid has
# none that close. The visible tests make the same measurements on seed 0, except the
# fourth moment and the independence.


# %% nbgrader={"grade": false, "grade_id": "random_rotations", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shoemake_quat(n, seed):
    """n independent uniform random rotations (n, 4) [w, x, y, z], from default_rng(seed)."""
    ### BEGIN SOLUTION
    u1, u2, u3 = np.random.default_rng(seed).random((3, n))
    r1, r2 = np.sqrt(1 - u1), np.sqrt(u1)
    return np.stack(
        [
            r2 * np.cos(2 * np.pi * u3),
            r1 * np.sin(2 * np.pi * u2),
            r1 * np.cos(2 * np.pi * u2),
            r2 * np.sin(2 * np.pi * u3),
        ],
        axis=-1,
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_random_rotations", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
q = shoemake_quat(2000, 0)
assert q.shape == (2000, 4) and np.allclose(np.linalg.norm(q, axis=1), 1.0)
assert not np.allclose(shoemake_quat(5, 0), shoemake_quat(5, 1)), "the seed matters"


def ks_distance(x, cdf):
    """√n D, two-sided, between the sample x and the distribution function cdf."""
    x = np.sort(x)
    n, F = len(x), cdf(x)
    return np.sqrt(n) * max((np.arange(1, n + 1) / n - F).max(), (F - np.arange(n) / n).max())


omega = 2 * np.arctan2(np.linalg.norm(q[:, 1:], axis=1), np.abs(q[:, 0]))
print(f"angles: sqrt(n) D = {ks_distance(omega, ball_fraction):.2f} (below 2.8 if uniform)")
assert ks_distance(omega, ball_fraction) < 2.8


def abs_coordinate_cdf(x):
    """The law of |q_k| for a uniform rotation: density (4/π) √(1 − x²) on [0, 1]."""
    return 2 / np.pi * (x * np.sqrt(1 - x * x) + np.arcsin(x))


for k in range(4):
    assert ks_distance(np.clip(np.abs(q[:, k]), 0, 1), abs_coordinate_cdf) < 2.8, (
        f"|q_{k}| has the wrong law"
    )
R = quat_to_matrix(q)
for i in range(3):
    for j in range(3):
        assert ks_distance(R[:, i, j], lambda x: (x + 1) / 2) < 2.8, f"entry {i, j}"
second = q.T @ q / 2000
print("E[q qᵀ] ≈\n", np.round(second, 3))
standard_error = np.where(np.eye(4) > 0, 0.25, 1 / np.sqrt(24)) / np.sqrt(2000)
assert np.abs((second - np.eye(4) / 4) / standard_error).max() < 5
print("Part G: visible tests passed (the grader measures the rest)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_23", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part H — Deterministic uniform grids (question 8) ({points} points)
#
# Random points clump and leave holes: the largest gap of $n$ independent rotations is
# several times that of a good grid. Two deterministic constructions:
#
# 1. `deterministic_quat(n)`: between $n$ and $2n$ rotations `(N, 4)`, the same on every
#    call, as evenly spread as you can make them. Alexa's *super-Fibonacci spiral* (CVPR
#    2022, Algorithm 1) is four lines: for $i = 0 \dots n-1$, $s = i + \frac12$, $r =
#    \sqrt{s/n}$, $R = \sqrt{1 - s/n}$, $\alpha = 2\pi s/\sqrt2$, $\beta = 2\pi s/\psi$
#    with $\psi = 1.533751168755204288$, and $q_i = (r\sin\alpha,\ r\cos\alpha,\ R\sin\beta,\
#    R\cos\beta)$ — $r^2$ steps evenly, as $u_1$ does in Shoemake's construction, while the
#    two angles turn by incommensurate amounts. A Hopf-fibration grid (directions times
#    in-plane angles), or Part F's grid with a step chosen for $n$, are fine too.
# 2. `sphere_points(n)`: between $n$ and $2n$ deterministic, nearly uniform **directions**
#    (unit vectors `(M, 3)`) — for instance the Fibonacci spiral: $z_i = 1 - (2i+1)/n$
#    (equal areas: area on the sphere is uniform in $z$, Archimedes) and azimuth
#    $\phi_i = i \times$ the golden angle $\pi(3 - \sqrt5)$.
#
# **How they are graded** (measured by the grader, for $n = 500$ and for one $n$ between
# 300 and 700): the number of points is between $n$ and $2n$; the *covering density* —
# $N\times$ `ball_fraction(ρ)` with $\rho$ the covering radius on SO(3), $M(1 - \cos\rho)/2$
# on the sphere — is below 4.5 for the rotations and 2.5 for the directions; and
# **every one** of 300 balls (caps on the sphere) around random centres, of the radius
# that holds 40 points on average ($N \times$ `ball_fraction(r)` $= 40$, resp.
# $M(1 - \cos r)/2 = 40$), holds between 30 and 50 of yours (40 to within 25 %).
#
# The covering radius is estimated as the grader estimates it, from 4,000 random probes:
# the largest distance from a probe to its nearest point. The true covering radius is a
# little larger (the farthest point from your set is rarely hit exactly), so the
# estimate is a little optimistic. A set covers only if its density is at least 1.
# Measured this way, for $n$ from 300 to 700, the super-Fibonacci spiral scores about
# 2.4–3.3 (its true covering density, found with hundreds of thousands of probes, is
# about 3.3–3.9), the Fibonacci sphere about 1.4–1.8 (true: about 1.9), and $n$
# independent random points 6.5–10. The visible tests make the grader's measurements
# for $n = 500$ rotations and $n = 400$ directions, with their own random probes.


# %% nbgrader={"grade": false, "grade_id": "grids", "locked": false, "schema_version": 3, "solution": true, "task": false}
def deterministic_quat(n):
    """Between n and 2n evenly spread rotations (N, 4), the same on every call."""
    ### BEGIN SOLUTION
    s = np.arange(n) + 0.5
    r, big_r = np.sqrt(s / n), np.sqrt(1 - s / n)
    alpha = 2 * np.pi * s / np.sqrt(2.0)
    beta = 2 * np.pi * s / 1.533751168755204288118041
    return np.stack(
        [r * np.sin(alpha), r * np.cos(alpha), big_r * np.sin(beta), big_r * np.cos(beta)],
        axis=-1,
    )
    ### END SOLUTION


def sphere_points(n):
    """Between n and 2n nearly uniform unit vectors (M, 3), the same on every call."""
    ### BEGIN SOLUTION
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n
    phi = i * np.pi * (3 - np.sqrt(5.0))
    rho = np.sqrt(1 - z * z)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_grids", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
g = deterministic_quat(500)
assert 500 <= len(g) <= 1000 and np.allclose(np.linalg.norm(g, axis=1), 1.0)
assert np.array_equal(g, deterministic_quat(500)), "deterministic"
probes = random_quaternions(4000, np.random.default_rng(4))
rho_g = (2 * np.arccos(np.clip(np.abs(probes @ g.T).max(axis=1), 0, 1))).max()
random_set = shoemake_quat(len(g), 1)
rho_r = (2 * np.arccos(np.clip(np.abs(probes @ random_set.T).max(axis=1), 0, 1))).max()
print(
    f"covering density: yours {len(g) * ball_fraction(rho_g):.2f}, "
    f"independent random points {len(g) * ball_fraction(rho_r):.2f}"
)
assert len(g) * ball_fraction(rho_g) < 4.5
# every one of 300 balls that hold 40 points on average holds 30 to 50 of yours
centres = probes[:300]
lo, hi = 0.0, np.pi  # the radius with len(g) × ball_fraction(radius) = 40, by bisection
for _ in range(60):
    mid = (lo + hi) / 2
    if len(g) * ball_fraction(mid) < 40:
        lo = mid
    else:
        hi = mid
in_balls = (np.abs(centres @ g.T) > np.cos(hi / 2)).sum(axis=1)
print(f"balls holding 40 on average hold {in_balls.min()}–{in_balls.max()} of your rotations")
assert np.all(np.abs(in_balls / 40 - 1) <= 0.25)
u = sphere_points(400)
assert 400 <= len(u) <= 800 and np.allclose(np.linalg.norm(u, axis=1), 1.0)
assert np.array_equal(u, sphere_points(400)), "deterministic"
v = np.random.default_rng(5).normal(size=(4300, 3))
v /= np.linalg.norm(v, axis=1, keepdims=True)
rho_u = np.arccos(np.clip((v[:4000] @ u.T).max(axis=1), -1, 1)).max()
print(f"covering density on the sphere: {len(u) * (1 - np.cos(rho_u)) / 2:.2f} (below 2.5)")
assert len(u) * (1 - np.cos(rho_u)) / 2 < 2.5
in_caps = (v[4000:] @ u.T > 1 - 2 * 40 / len(u)).sum(axis=1)  # caps of area fraction 40/M
print(f"caps holding 40 on average hold {in_caps.min()}–{in_caps.max()} of your directions")
assert np.all(np.abs(in_caps / 40 - 1) <= 0.25)
print("Part H: visible tests passed (the grader measures the rest)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_26", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps05_transforms_sampling/ps05_transforms_sampling.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps05_transforms_sampling` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps05_transforms_sampling/ps05_transforms_sampling.ipynb`
# and `course submit ps05_transforms_sampling`. Your `orientation_grid` returns in
# problem set 7, where it is the grid of an exhaustive rotational search.
