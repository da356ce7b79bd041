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
# # Problem set 2 — Metrics on SO(3)
#
# *Study group meeting of Friday 25 February 2022: [Rotation averaging (Hartley et al.,
# 2013)]({book_url}/book/meetings/2022-02-25-rotation-averaging.html); this problem set's [page in the book]({book_url}/book/problem-sets/ps02_so3_metrics.html).*
#
# Before rotations can be averaged ([problem set 3]({book_url}/book/problem-sets/ps03_rotation_averaging.html)) we must say how far apart two
# rotations are. Hartley, Trumpf, Dai and Li (2013), *Rotation averaging*, §3–4, give three
# answers: the **angular** (geodesic) distance — the angle of the rotation that takes one
# to the other — the **chordal** distance between the matrices, and the **quaternion**
# distance. In this problem set you build the Lie-group tools they rest on (`hat`, `vee`,
# the exponential and logarithm maps), implement the three distances so that they are
# accurate at *every* angle, verify the relations of their Table 2 (the meeting's question
# 3), and explore a ball in SO(3) (question 4).
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)): quaternions are
# scalar-first `[w, x, y, z]` with the Hamilton product; rotations are *active*; a rotation
# matrix left-multiplies column vectors of `xyz` coordinates; angles are **radians**. Every
# function takes any leading batch shape — `(..., 3)` rotation vectors, `(..., 4)`
# quaternions, `(..., 3, 3)` matrices — and returns the input's floating dtype (float32
# stays float32).
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you
# work, or press **Validate** in the toolbar (see *Before you submit*). When you submit, the
# grader runs your notebook in a sandbox and then calls your functions on random inputs
# chosen for you — including the hard ones: angles of $10^{-9}$ rad, angles of exactly
# $\pi$, float32 — and compares the answers with a reference outside your kernel. Points
# per part are the fraction of those cases you get right, and the feedback names common
# mistakes when it recognises them. Keep the function names and signatures; add cells of
# your own if you like. Only NumPy is needed (SciPy is not available).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: tools from problem set 1 (quaternions are [w, x, y, z], Hamilton product).
def quat_to_matrix(q):
    """Rotation matrix (..., 3, 3) of unit quaternions q (..., 4)."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=float), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def random_quaternions(shape, rng):
    """Uniformly distributed random rotations as unit quaternions, shape (*shape, 4)."""
    q = rng.normal(size=tuple(np.atleast_1d(shape)) + (4,))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — `hat` and `vee` ({points} points)
#
# A rotation by a small angle moves a point $\vec v$ by $\vec\omega\times\vec v$: the
# tangent space of SO(3) at the identity, $\mathfrak{so}(3)$, is the space of
# skew-symmetric matrices
#
# $$ [\vec\omega]_\times = \begin{pmatrix} 0 & -\omega_z & \omega_y\\ \omega_z & 0 &
# -\omega_x\\ -\omega_y & \omega_x & 0\end{pmatrix}, \qquad
# [\vec\omega]_\times\,\vec v = \vec\omega\times\vec v . $$
#
# `hat(w)` maps `(..., 3)` to `(..., 3, 3)`; `vee(W)` goes back. Make `vee` return the vector
# of the **skew-symmetric part** $\tfrac12(W - W^\mathsf{T})$, so that it is also defined
# for a matrix that is not exactly skew: for a rotation matrix $R$ by the angle $\theta$
# about $\hat n$, $\tfrac12(R - R^\mathsf{T}) = \sin\theta\,[\hat n]_\times$, so
# `vee(R)` $= \sin\theta\,\hat n$ — you will use this in Part C.


# %% nbgrader={"grade": false, "grade_id": "hat_vee", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hat(w):
    """Skew-symmetric matrix [w]ₓ with [w]ₓ v = w × v. Shape (..., 3) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    w = np.asarray(w)
    x, y, z = np.moveaxis(w, -1, 0)
    zero = np.zeros_like(x)
    return np.stack(
        [
            np.stack([zero, -z, y], axis=-1),
            np.stack([z, zero, -x], axis=-1),
            np.stack([-y, x, zero], axis=-1),
        ],
        axis=-2,
    )
    ### END SOLUTION


def vee(W):
    """The vector of the skew-symmetric part (W − Wᵀ)/2 of W. Shape (..., 3, 3) → (..., 3)."""
    ### BEGIN SOLUTION
    W = np.asarray(W)
    return 0.5 * np.stack(
        [
            W[..., 2, 1] - W[..., 1, 2],
            W[..., 0, 2] - W[..., 2, 0],
            W[..., 1, 0] - W[..., 0, 1],
        ],
        axis=-1,
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_hat_vee", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
w, v = np.array([1.0, 2.0, 3.0]), np.array([-0.5, 4.0, 0.25])
assert np.allclose(hat(w) @ v, np.cross(w, v)), "[w]x v must be w x v"
assert np.allclose(hat(w), -hat(w).T), "[w]x is skew-symmetric"
assert np.allclose(vee(hat(w)), w)
W = np.arange(9.0).reshape(3, 3)
assert np.allclose(vee(W), vee((W - W.T) / 2)), "vee uses the skew-symmetric part"
assert hat(np.ones((4, 2, 3))).shape == (4, 2, 3, 3)
assert vee(np.ones((5, 3, 3))).shape == (5, 3)
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — The exponential map ({points} points)
#
# A rotation vector $\vec\omega = \theta\,\hat n$ (angle × unit axis, Hartley et al. §3.2)
# is mapped to its rotation matrix by the matrix exponential of $[\vec\omega]_\times$,
# which Rodrigues' formula sums in closed form: with $\theta = \lVert\vec\omega\rVert$ and
# $K = [\vec\omega]_\times$,
#
# $$ \exp(K) = I + \frac{\sin\theta}{\theta}\,K + \frac{1-\cos\theta}{\theta^2}\,K^2 . $$
#
# Implement `so3_exp(w)`, `(..., 3)` → `(..., 3, 3)`. Two things to get right:
#
# * at $\theta = 0$ both coefficients are $0/0$; their limits are $1$ and $\tfrac12$. For
#   small $\theta$ use the Taylor series $\frac{\sin\theta}\theta \approx 1 -
#   \frac{\theta^2}6$ and $\frac{1-\cos\theta}{\theta^2} \approx \frac12 -
#   \frac{\theta^2}{24}$ (accurate to rounding below $\theta \approx 10^{-4}$); elsewhere
#   the closed forms. With arrays, compute both and choose with `np.where` (divide by a
#   safe value where $\theta$ is small, so that no warning is raised);
# * the first-order approximation $I + K$ is **not** a rotation matrix (it is not
#   orthogonal) except in the limit.


# %% nbgrader={"grade": false, "grade_id": "so3_exp", "locked": false, "schema_version": 3, "solution": true, "task": false}
def so3_exp(w):
    """Rotation matrix exp([w]ₓ) of rotation vectors w. Shape (..., 3) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    w = np.asarray(w)
    dtype = np.result_type(w, np.float32)
    theta = np.linalg.norm(w, axis=-1)[..., None, None]
    small = theta < 1e-4
    t = np.where(small, 1.0, theta)  # a safe divisor
    a = np.where(small, 1 - theta**2 / 6, np.sin(t) / t)  # sin θ / θ
    b = np.where(small, 0.5 - theta**2 / 24, (1 - np.cos(t)) / t**2)  # (1 − cos θ) / θ²
    K = hat(w)
    R = np.eye(3) + a * K + b * (K @ K)
    return R.astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_so3_exp", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(so3_exp(np.zeros(3)), np.eye(3)), "exp(0) = I"
Rz90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
assert np.allclose(so3_exp([0.0, 0.0, np.pi / 2]), Rz90), "+90 degrees about z (active)"
R = so3_exp(np.random.default_rng(0).normal(size=(10, 3)))
assert np.allclose(R @ np.swapaxes(R, -1, -2), np.eye(3)), "R Rᵀ = I"
assert np.allclose(np.linalg.det(R), 1.0), "det R = +1"
tiny = so3_exp([0.0, 0.0, 1e-9])
assert np.isclose(tiny[1, 0], 1e-9, rtol=1e-6, atol=0), "exp of a tiny rotation vector"
assert so3_exp(np.zeros(3, dtype=np.float32)).dtype == np.float32, "keep float32"
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_09", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — The logarithm map, at every angle ({points} points)
#
# `so3_log(R)` is the inverse of `so3_exp`: the rotation vector $\vec\omega$ with
# $\exp[\vec\omega]_\times = R$ and $\lVert\vec\omega\rVert \in [0, \pi]$. The textbook
# formula is
#
# $$ \theta = \arccos\frac{\operatorname{tr}R - 1}{2}, \qquad
# \vec\omega = \frac{\theta}{2\sin\theta}\,\operatorname{vee}(R - R^\mathsf{T}), $$
#
# and it fails in two places that matter in practice:
#
# 1. **Near $\theta = 0$** (every nearly converged iteration of problem set 3):
#    $\operatorname{tr}R = 1 + 2\cos\theta$ and $\cos\theta = 1 - \theta^2/2$, so for
#    $\theta < 10^{-8}$ the trace is exactly 3 in float64 and `arccos` returns 0 (below
#    $3\times10^{-4}$ in float32). Compute the angle from a sine *and* a cosine instead:
#    `vee(R)` $= \sin\theta\,\hat n$ (Part A) and $\cos\theta = (\operatorname{tr}R-1)/2$,
#    so $\theta$ = `np.arctan2(|vee(R)|, (tr R − 1)/2)`, accurate at every angle. Then
#    $\vec\omega = \frac{\theta}{\sin\theta}\operatorname{vee}(R)$, with
#    $\frac{\theta}{\sin\theta} \approx 1 + \frac{\theta^2}{6}$ for small $\theta$.
# 2. **At $\theta = \pi$** (a half turn: $R$ is symmetric) $R - R^\mathsf{T} = 0$ and
#    $\sin\theta = 0$: the formula is $0/0$ and returns 0 or NaN, although the axis is
#    perfectly defined. Read the axis from the *symmetric* part instead:
#    $\tfrac12(R + R^\mathsf{T}) = \cos\theta\,I + (1-\cos\theta)\,\hat n\hat n^\mathsf{T}$,
#    so $B = \tfrac12(R + R^\mathsf{T}) - \cos\theta\,I = (1-\cos\theta)\,\hat n\hat
#    n^\mathsf{T}$; its column with the largest diagonal entry, normalised, is $\pm\hat n$.
#    Pick the sign with $\hat n\cdot\operatorname{vee}(R) \ge 0$. Use this branch for all
#    $\theta > \pi/2$ ($\cos\theta < 0$), where it is well conditioned. At exactly $\pi$,
#    $\pm\pi\hat n$ are both logarithms; either is accepted.
#
# `so3_log(R)`: `(..., 3, 3)` → `(..., 3)`.


# %% nbgrader={"grade": false, "grade_id": "so3_log", "locked": false, "schema_version": 3, "solution": true, "task": false}
def so3_log(R):
    """Rotation vector w (|w| ≤ π) with so3_exp(w) = R. Shape (..., 3, 3) → (..., 3)."""
    ### BEGIN SOLUTION
    R = np.asarray(R)
    dtype = np.result_type(R, np.float32)
    s = vee(R)  # sin θ · n
    sin_t = np.linalg.norm(s, axis=-1)
    cos_t = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    theta = np.arctan2(sin_t, cos_t)
    # θ ≤ π/2: w = θ / sin θ · vee(R), with θ / sin θ ≈ 1 + θ²/6 for small θ
    safe_sin = np.where(sin_t > 0, sin_t, 1.0)
    factor = np.where(theta < 1e-4, 1 + theta**2 / 6, theta / safe_sin)
    w_small = factor[..., None] * s
    # θ > π/2: the axis from B = (R + Rᵀ)/2 − cos θ I = (1 − cos θ) n nᵀ
    B = (R + np.swapaxes(R, -1, -2)) / 2 - cos_t[..., None, None] * np.eye(3)
    k = np.argmax(np.diagonal(B, axis1=-2, axis2=-1), axis=-1)
    col = np.take_along_axis(B, k[..., None, None], axis=-1)[..., 0]
    norm = np.linalg.norm(col, axis=-1, keepdims=True)
    n = col / np.where(norm > 0, norm, 1.0)
    sign = np.where(np.sum(n * s, axis=-1) < 0, -1.0, 1.0)
    w_large = (sign * theta)[..., None] * n
    return np.where((cos_t < 0)[..., None], w_large, w_small).astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_so3_log", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(so3_log(np.eye(3)), 0.0), "log(I) = 0"
w = np.array([0.3, -1.2, 0.8])
assert np.allclose(so3_log(so3_exp(w)), w), "log(exp(w)) = w for |w| < π"
w_tiny = np.array([1e-9, -2e-9, 0.5e-9])
assert np.allclose(so3_log(so3_exp(w_tiny)), w_tiny, rtol=1e-6, atol=0), "tiny angles"
half_turn_x = np.diag([1.0, -1.0, -1.0])  # π about x: symmetric, tr R = −1
assert np.allclose(np.abs(so3_log(half_turn_x)), [np.pi, 0.0, 0.0]), "θ = π exactly"
n = np.array([2.0, -1.0, 2.0]) / 3
half_turn_n = 2 * np.outer(n, n) - np.eye(3)
assert np.allclose(so3_exp(so3_log(half_turn_n)), half_turn_n), "π about a general axis"
Rs = so3_exp(np.random.default_rng(1).normal(size=(4, 5, 3)))
assert np.allclose(so3_exp(so3_log(Rs)), Rs), "round trip, batched"
assert so3_log(np.eye(3, dtype=np.float32)).dtype == np.float32, "keep float32"
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_12", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — The angular (geodesic) distance ({points} points)
#
# The angular distance between two rotations is the angle of the rotation that takes one
# to the other — the length of the shortest path (geodesic) between them on SO(3):
#
# $$ d_\angle(R_1, R_2) = \theta(R_1^\mathsf{T} R_2) = \lVert\log(R_1^\mathsf{T}R_2)\rVert
# \in [0, \pi]. $$
#
# It is *bi-invariant*: $d_\angle(G R_1 H, G R_2 H) = d_\angle(R_1, R_2)$ for all
# rotations $G, H$.
#
# * `rotation_angle(R)`: the angle $\theta \in [0, \pi]$ of `(..., 3, 3)` → `(...)`,
#   with `arctan2` as in Part C (never a bare `arccos` of the trace);
# * `geodesic_distance(R1, R2)`: `(..., 3, 3)` × `(..., 3, 3)` → `(...)`, broadcasting
#   the batch shapes (use `np.swapaxes(R1, -1, -2) @ R2` for $R_1^\mathsf{T}R_2$).
#
# Run the cell after the tests to see how much `arccos` loses.


# %% nbgrader={"grade": false, "grade_id": "geodesic", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rotation_angle(R):
    """Rotation angle θ ∈ [0, π] of R. Shape (..., 3, 3) → (...)."""
    ### BEGIN SOLUTION
    R = np.asarray(R)
    dtype = np.result_type(R, np.float32)
    sin_t = np.linalg.norm(vee(R), axis=-1)
    cos_t = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    return np.arctan2(sin_t, cos_t).astype(dtype, copy=False)
    ### END SOLUTION


def geodesic_distance(R1, R2):
    """Angular distance θ(R1ᵀ R2) ∈ [0, π]. Shapes (..., 3, 3) × (..., 3, 3) → (...)."""
    ### BEGIN SOLUTION
    R1, R2 = np.asarray(R1), np.asarray(R2)
    return rotation_angle(np.swapaxes(R1, -1, -2) @ R2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_geodesic", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
Rz = lambda a: so3_exp([0.0, 0.0, a])  # noqa: E731
assert np.isclose(rotation_angle(Rz(0.7)), 0.7)
assert np.isclose(rotation_angle(np.diag([-1.0, -1.0, 1.0])), np.pi), "a half turn"
assert np.isclose(geodesic_distance(Rz(0.2), Rz(1.5)), 1.3)
assert np.isclose(geodesic_distance(Rz(1e-9), np.eye(3)), 1e-9, rtol=1e-6, atol=0), (
    "arccos of the trace returns 0 here"
)
G, H, R1, R2 = so3_exp(np.random.default_rng(2).normal(size=(4, 3)))
assert np.isclose(geodesic_distance(G @ R1 @ H, G @ R2 @ H), geodesic_distance(R1, R2))
assert geodesic_distance(np.ones((5, 3, 3)), np.eye(3)).shape == (5,)
print("Part D: visible tests passed")

# %% nbgrader={"grade": false, "grade_id": "acos_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
# What a bare arccos of the trace loses (not graded; run it and read it).
for dtype, angle in [(np.float64, 1e-9), (np.float64, 1e-7), (np.float32, 1e-4)]:
    R = so3_exp(np.array([0.0, 0.0, angle])).astype(dtype)
    by_acos = np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))
    print(
        f"{np.dtype(dtype).name}: true angle {angle:.1e}, arccos {by_acos:.3e}, "
        f"arctan2 {rotation_angle(R):.3e}"
    )


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_16", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — The chordal and quaternion distances ({points} points)
#
# Two cheaper distances (Hartley et al. §4), both bi-invariant:
#
# * the **chordal** distance $d_{\mathrm{chord}}(R_1, R_2) = \lVert R_1 - R_2\rVert_F$,
#   the Euclidean distance between the matrices in $\mathbb R^9$;
# * the **quaternion** distance between the unit quaternions $q_1, q_2$ of the two
#   rotations, $d_{\mathrm{quat}}(q_1, q_2) = \min(\lVert q_1 - q_2\rVert,
#   \lVert q_1 + q_2\rVert)$. The minimum over the sign matters: $q$ and $-q$ are the
#   same rotation, so without it two equal rotations can be at distance 2.
#
# And the *angle* from quaternions, `quat_geodesic_distance(q1, q2)` $= d_\angle$ of
# their rotations. With the signs aligned ($q_1\cdot q_2 \ge 0$), $q_1^* q_2 =
# (\cos\frac\theta2, \sin\frac\theta2\hat n)$, and the two chords of the quaternion
# sphere are $\lVert q_1 - q_2\rVert = 2\sin\frac\theta4$ and $\lVert q_1 + q_2\rVert =
# 2\cos\frac\theta4$, so
#
# $$ \theta = 4\,\operatorname{atan2}\bigl(\min(\lVert q_1 \mp q_2\rVert),\;
# \max(\lVert q_1 \mp q_2\rVert)\bigr), $$
#
# accurate at every angle — unlike $2\arccos\lvert q_1\cdot q_2\rvert$, which has the
# same flaw as the `arccos` of the trace.
#
# Shapes: `chordal_distance` `(..., 3, 3)` × `(..., 3, 3)` → `(...)`;
# `quaternion_distance` and `quat_geodesic_distance` `(..., 4)` × `(..., 4)` → `(...)`,
# for unit quaternions (either sign).


# %% nbgrader={"grade": false, "grade_id": "chordal_quat", "locked": false, "schema_version": 3, "solution": true, "task": false}
def chordal_distance(R1, R2):
    """‖R1 − R2‖_F. Shapes (..., 3, 3) × (..., 3, 3) → (...)."""
    ### BEGIN SOLUTION
    D = np.asarray(R1) - np.asarray(R2)
    return np.sqrt(np.sum(D * D, axis=(-2, -1)))
    ### END SOLUTION


def quaternion_distance(q1, q2):
    """min(‖q1 − q2‖, ‖q1 + q2‖) of unit quaternions. Shapes (..., 4) × (..., 4) → (...)."""
    ### BEGIN SOLUTION
    q1, q2 = np.asarray(q1), np.asarray(q2)
    return np.minimum(np.linalg.norm(q1 - q2, axis=-1), np.linalg.norm(q1 + q2, axis=-1))
    ### END SOLUTION


def quat_geodesic_distance(q1, q2):
    """Angular distance θ ∈ [0, π] between the rotations of unit quaternions q1, q2."""
    ### BEGIN SOLUTION
    q1, q2 = np.asarray(q1), np.asarray(q2)
    minus = np.linalg.norm(q1 - q2, axis=-1)
    plus = np.linalg.norm(q1 + q2, axis=-1)
    return 4 * np.arctan2(np.minimum(minus, plus), np.maximum(minus, plus))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_chordal_quat", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
q = np.array([0.5, 0.5, -0.5, 0.5])
assert np.isclose(quaternion_distance(q, -q), 0.0), "q and −q are the same rotation"
assert np.isclose(quat_geodesic_distance(q, -q), 0.0)
q_z = lambda a: np.array([np.cos(a / 2), 0.0, 0.0, np.sin(a / 2)])  # noqa: E731
assert np.isclose(quat_geodesic_distance(q_z(0.2), q_z(1.5)), 1.3)
assert np.isclose(quat_geodesic_distance(q_z(0.0), -q_z(3.0)), 3.0)
assert np.isclose(quat_geodesic_distance(q_z(0.0), q_z(1e-9)), 1e-9, rtol=1e-6, atol=0)
assert np.isclose(quaternion_distance(q_z(0.0), q_z(np.pi)), np.sqrt(2))
assert np.isclose(chordal_distance(np.eye(3), np.diag([-1.0, -1.0, 1.0])), np.sqrt(8))
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_19", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — The relations of Table 2 (question 3) ({points} points)
#
# The three distances are functions of one another (Hartley et al. §4.1.5, Table 2). With
# $\theta = d_\angle(R_1, R_2)$:
#
# $$ d_{\mathrm{chord}} = 2\sqrt2\,\sin\frac\theta2, \qquad
# d_{\mathrm{quat}} = 2\sin\frac\theta4, \qquad
# d_{\mathrm{chord}} = d_{\mathrm{quat}}\sqrt{8 - 2\,d_{\mathrm{quat}}^2}. $$
#
# (The quaternion sphere sees *half* the rotation angle: $q_1^*q_2$ has $\cos\frac\theta2$
# as its scalar part, and a chord subtending $\frac\theta2$ on the unit sphere has length
# $2\sin\frac\theta4$.) So the three distances order pairs of rotations the same way, but
# they weight large rotations differently: averaging under each gives different answers
# (problem set 3).
#
# 1. Implement `table2_residuals(d_angle, d_chord, d_quat)`: the three residuals *left
#    side minus right side*, in the order above, stacked on a last axis of length 3
#    (arrays of any broadcastable shapes `(...)` → `(..., 3)`). It is zero exactly when
#    the three numbers are consistent.
# 2. The question: verify the relations **on your own metrics** for many random pairs of
#    rotations — the visible test below does it; make it pass.
# 3. Read the ranges off the relations: `D_CHORD_MAX` and `D_QUAT_MAX`, the largest
#    chordal and quaternion distances between two rotations (numbers).


# %% nbgrader={"grade": false, "grade_id": "table2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def table2_residuals(d_angle, d_chord, d_quat):
    """The residuals of Table 2's three relations. Shapes (...) → (..., 3)."""
    ### BEGIN SOLUTION
    d_angle, d_chord, d_quat = np.broadcast_arrays(d_angle, d_chord, d_quat)
    return np.stack(
        [
            d_chord - 2 * np.sqrt(2) * np.sin(d_angle / 2),
            d_quat - 2 * np.sin(d_angle / 4),
            d_chord - d_quat * np.sqrt(8 - 2 * d_quat**2),
        ],
        axis=-1,
    )
    ### END SOLUTION


D_CHORD_MAX = None  # a number
D_QUAT_MAX = None
### BEGIN SOLUTION
D_CHORD_MAX = 2 * np.sqrt(2)
D_QUAT_MAX = np.sqrt(2)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_table2", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(table2_residuals(np.pi, np.sqrt(8), np.sqrt(2)), 0.0)
assert table2_residuals(np.zeros((4, 5)), 0.0, np.zeros(5)).shape == (4, 5, 3)
# Question 3: the relations hold for your metrics, on 1000 random pairs of rotations.
q1, q2 = random_quaternions((2, 1000), np.random.default_rng(3))
R1, R2 = quat_to_matrix(q1), quat_to_matrix(q2)
residuals = table2_residuals(
    geodesic_distance(R1, R2), chordal_distance(R1, R2), quaternion_distance(q1, q2)
)
print("largest residual of each relation:", np.abs(residuals).max(axis=0))
assert np.abs(residuals).max() < 1e-9
assert isinstance(D_CHORD_MAX, float | int) and isinstance(D_QUAT_MAX, float | int)
print("Part F: visible tests passed (the two ranges are checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_22", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — A ball in SO(3) (question 4) ({points} points)
#
# The ball of radius $\rho$ about $R$ is $B(R, \rho) = \{S : d_\angle(R, S) < \rho\}$
# (Hartley et al., appendix). Write $S = R\exp[\vec\omega]_\times$ with
# $\lVert\vec\omega\rVert \le \pi$: then $d_\angle(R, S) = \lVert\vec\omega\rVert$, so *in
# rotation-vector coordinates about its centre the ball is the Euclidean ball*
# $\lVert\vec\omega\rVert < \rho$. But that picture is exact only for distances **from
# the centre**. To see what happens elsewhere, take the meeting's two experiments:
#
# 1. **Same axis.** $R_1$ and $R_2$ rotate about the same axis $\hat n$ by $\beta$ and
#    $\beta + \theta$. Implement `same_axis_distance(theta)`: $d_\angle(R_1, R_2)$ for any
#    real $\theta$ (array, radians); it depends neither on $\hat n$ nor on $\beta$ — why?
# 2. **Sweeping axis.** $R_1$ rotates by $\alpha$ about $z$; $R_2$ rotates by the same
#    $\alpha$ about $\hat n(\phi) = (\sin\phi, 0, \cos\phi)$, an axis that sweeps from
#    $z$ ($\phi = 0$) down to $x$ ($\phi = \pi/2$) through the $zx$ plane, and on to $-z$
#    ($\phi = \pi$). Implement `sweep_distance(alpha, phi)`: $d_\angle(R_1, R_2)$ for
#    $\alpha \in [0, \pi]$, $\phi \in [0, \pi]$ (broadcasting arrays). You may compute it
#    with your functions of Parts B and D, or derive a closed form with quaternions
#    (hint: $\lVert q_1 - q_2\rVert = \sin\frac\alpha2\,\lVert\hat z - \hat n\rVert$ and
#    Part F's relations) — the visible test compares the two.
# 3. **Relate them to the ball.** Both rotations of experiment 2 lie on the sphere of
#    radius $\alpha$ about the identity; their rotation vectors $\alpha\hat z$ and
#    $\alpha\hat n(\phi)$ are $2\alpha\sin\frac\phi2$ apart in $\mathbb R^3$. For
#    $0 < \alpha \le \pi$ and $0 < \phi < \pi$, is $d_\angle(R_1, R_2)$ `"equal"` to,
#    `"smaller"` or `"larger"` than $2\alpha\sin\frac\phi2$? Answer in `Q4_SWEEP_VS_EUCLIDEAN`.
#    (Plot both against $\phi$ for $\alpha = 5°$ and for $\alpha = 120°$ if you like.)


# %% nbgrader={"grade": false, "grade_id": "ball", "locked": false, "schema_version": 3, "solution": true, "task": false}
def same_axis_distance(theta):
    """d∠ between rotations by β and β + θ about one axis. Shape (...) → (...)."""
    ### BEGIN SOLUTION
    theta = np.asarray(theta)
    return np.abs(np.mod(theta + np.pi, 2 * np.pi) - np.pi)
    ### END SOLUTION


def sweep_distance(alpha, phi):
    """d∠ between the rotations by alpha about z and about (sin φ, 0, cos φ)."""
    ### BEGIN SOLUTION
    alpha, phi = np.asarray(alpha), np.asarray(phi)
    # ‖q1 − q2‖ = 2 sin(α/2) sin(φ/2) = 2 sin(θ/4), for the sign-aligned quaternions
    s = np.clip(np.sin(alpha / 2) * np.sin(phi / 2), 0.0, 1.0)
    theta = 4 * np.arcsin(s)
    return np.minimum(theta, 2 * np.pi - theta)  # past π, −q2 is the closer quaternion
    ### END SOLUTION


Q4_SWEEP_VS_EUCLIDEAN = None  # "equal", "smaller" or "larger"
### BEGIN SOLUTION
Q4_SWEEP_VS_EUCLIDEAN = "smaller"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_ball", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
assert np.isclose(same_axis_distance(0.3), 0.3)
assert np.isclose(same_axis_distance(2 * np.pi - 0.3), 0.3), "a full turn is no turn"
# experiment 2, computed with your own functions, against your sweep_distance
alpha, phi = np.deg2rad(5.0), np.linspace(0.0, np.pi / 2, 7)
n = np.stack([np.sin(phi), np.zeros_like(phi), np.cos(phi)], axis=-1)
numeric = geodesic_distance(so3_exp([0.0, 0.0, alpha]), so3_exp(alpha * n))
assert np.allclose(sweep_distance(alpha, phi), numeric), (numeric, sweep_distance(alpha, phi))
assert np.isclose(sweep_distance(alpha, 0.0), 0.0), "the same rotation at φ = 0"
assert Q4_SWEEP_VS_EUCLIDEAN in ("equal", "smaller", "larger")
print("Part G: visible tests passed (the answer itself is checked when graded)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_25", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps02_so3_metrics/ps02_so3_metrics.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps02_so3_metrics` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps02_so3_metrics/ps02_so3_metrics.ipynb`
# and `course submit ps02_so3_metrics`. Your `so3_exp` and `so3_log` are the
# `exp` and `log` of Algorithm 1 in [problem set 3]({book_url}/book/problem-sets/ps03_rotation_averaging.html): you will paste them there.
