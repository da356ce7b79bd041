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
# # Problem set 3 — Rotation averaging
#
# *Study group meeting of Friday 25 February 2022: [Rotation averaging (Hartley et al.,
# 2013)]({book_url}/book/meetings/2022-02-25-rotation-averaging.html); this problem set's [page in the book]({book_url}/book/problem-sets/ps03_rotation_averaging.html).*
#
# Given $N$ measurements $R_1, \dots, R_N$ of one rotation — the orientation of a
# particle estimated in several refinements, of a subunit seen in several copies, of a
# rigid body over the frames of a movie — what is their average? *Single rotation
# averaging* (Hartley, Trumpf, Dai and Li 2013, §5) defines it as the rotation
# $\bar R$ that minimises
#
# $$ \sum_i w_i\, d(\bar R, R_i)^p $$
#
# for a distance $d$ ([problem set 2]({book_url}/book/problem-sets/ps02_so3_metrics.html)) and $p = 2$ (a mean) or $p = 1$ (a
# median). The three distances and the two powers give different averages, and the
# arithmetic mean of matrices or of quaternions is none of them until it is fixed up. You
# implement four of them — the chordal mean, the quaternion mean, the geodesic (Karcher)
# mean of Algorithm 1 and the geodesic median — with weights, and answer the meeting's
# questions 6 (*does your mean seem "in the middle"?*) and 7 (*averaging quaternions solves
# the problem for which distance?*) in a form the grader can check. The book's
# [figure]({book_url}/book/figures/rotation-averaging.html) shows the four averages of 45 noisy rotations.
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)): quaternions are
# scalar-first `[w, x, y, z]`; rotations are active; matrices act on column vectors;
# angles are radians. A set of $N$ rotations is an array `Rs` of shape `(..., N, 3, 3)` (or
# `qs` of shape `(..., N, 4)`); leading axes are independent problems. `weights` has shape
# `(..., N)`, is non-negative (zeros allowed: that rotation is ignored) and defaults to
# equal weights. Results are `(..., 3, 3)` (or `(..., 4)`), in the input's dtype.
#
# **How this is graded.** Each part ends with a cell of *visible tests*; run them, or press
# **Validate** in the toolbar (see *Before you submit*). When you submit, the grader
# calls your functions on random sets of rotations drawn for you and checks, outside your
# kernel, that each answer is a rotation, that it has the property that defines it (for
# the geodesic mean, for instance, that the tangent vectors to the data balance), that it
# transforms correctly when the data are rotated ($G R_i H \mapsto G \bar R H$), and that
# it agrees with the reference to a small angle. Points per part are the fraction of cases
# passed; the feedback names common mistakes. Only NumPy is needed.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: tools from problem set 1 (quaternions [w, x, y, z]) and random test data.
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


def matrix_to_quat(R):
    """Unit quaternion (..., 4) with w ≥ 0 of rotation matrices R (..., 3, 3) (Shepperd)."""
    R = np.asarray(R, dtype=float)
    tr = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
    diag = np.diagonal(R, axis1=-2, axis2=-1)
    d = np.concatenate([1 + tr[..., None], 1 + 2 * diag - tr[..., None]], axis=-1)
    a, b, c = R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]
    e, f, g = R[..., 0, 1] + R[..., 1, 0], R[..., 0, 2] + R[..., 2, 0], R[..., 1, 2] + R[..., 2, 1]
    rows = np.stack(
        [
            np.stack([d[..., 0], a, b, c], -1),
            np.stack([a, d[..., 1], e, f], -1),
            np.stack([b, e, d[..., 2], g], -1),
            np.stack([c, f, g, d[..., 3]], -1),
        ],
        axis=-2,
    )
    k = np.argmax(d, axis=-1)
    q = np.take_along_axis(rows, k[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def random_rotations(shape, rng):
    """Uniformly distributed random rotation matrices, shape (*shape, 3, 3)."""
    q = rng.normal(size=tuple(np.atleast_1d(shape)) + (4,))
    return quat_to_matrix(q / np.linalg.norm(q, axis=-1, keepdims=True))


def noisy_rotations(R_true, n, sigma, rng):
    """n rotations R_true · exp(ω), with ω ~ N(0, σ² I) (σ in radians): shape (n, 3, 3)."""
    omega = sigma * rng.normal(size=(n, 3))
    angle = np.linalg.norm(omega, axis=-1, keepdims=True)
    q = np.concatenate([np.cos(angle / 2), np.sinc(angle / (2 * np.pi)) / 2 * omega], -1)
    return R_true @ quat_to_matrix(q)


rng = np.random.default_rng(2022)
R_TRUE = random_rotations((), rng)
DATA = noisy_rotations(R_TRUE, 20, 0.4, rng)  # 20 rotations, about 23° of noise


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Your `exp` and `log` (from problem set 2; not graded here)
#
# Parts C–E need the exponential and logarithm maps of SO(3). Paste your `hat`, `vee`,
# `so3_exp` and `so3_log` from [problem set 2]({book_url}/book/problem-sets/ps02_so3_metrics.html) into the cell below (with batches:
# `(..., 3)` ↔ `(..., 3, 3)`). They are graded there, not here — but the averages you
# compute with them are graded here, so make sure they are accurate near $\theta = 0$:
# every converging iteration ends with tiny tangent vectors.


# %% nbgrader={"grade": false, "grade_id": "so3_tools", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hat(w):
    """[w]ₓ. Shape (..., 3) → (..., 3, 3)."""
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
    """The vector of (W − Wᵀ)/2. Shape (..., 3, 3) → (..., 3)."""
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


def so3_exp(w):
    """exp([w]ₓ). Shape (..., 3) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    w = np.asarray(w)
    dtype = np.result_type(w, np.float32)
    theta = np.linalg.norm(w, axis=-1)[..., None, None]
    small = theta < 1e-4
    t = np.where(small, 1.0, theta)
    a = np.where(small, 1 - theta**2 / 6, np.sin(t) / t)
    b = np.where(small, 0.5 - theta**2 / 24, (1 - np.cos(t)) / t**2)
    K = hat(w)
    return (np.eye(3) + a * K + b * (K @ K)).astype(dtype, copy=False)
    ### END SOLUTION


def so3_log(R):
    """w with |w| ≤ π and so3_exp(w) = R. Shape (..., 3, 3) → (..., 3)."""
    ### BEGIN SOLUTION
    R = np.asarray(R)
    dtype = np.result_type(R, np.float32)
    s = vee(R)
    sin_t = np.linalg.norm(s, axis=-1)
    cos_t = (np.trace(R, axis1=-2, axis2=-1) - 1) / 2
    theta = np.arctan2(sin_t, cos_t)
    safe_sin = np.where(sin_t > 0, sin_t, 1.0)
    factor = np.where(theta < 1e-4, 1 + theta**2 / 6, theta / safe_sin)
    w_small = factor[..., None] * s
    B = (R + np.swapaxes(R, -1, -2)) / 2 - cos_t[..., None, None] * np.eye(3)
    k = np.argmax(np.diagonal(B, axis1=-2, axis2=-1), axis=-1)
    col = np.take_along_axis(B, k[..., None, None], axis=-1)[..., 0]
    norm = np.linalg.norm(col, axis=-1, keepdims=True)
    n = col / np.where(norm > 0, norm, 1.0)
    sign = np.where(np.sum(n * s, axis=-1) < 0, -1.0, 1.0)
    w_large = (sign * theta)[..., None] * n
    return np.where((cos_t < 0)[..., None], w_large, w_small).astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "test_tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
def angle_between(R1, R2):
    """d∠(R1, R2) with your so3_log (for the tests below)."""
    return np.linalg.norm(so3_log(np.swapaxes(R1, -1, -2) @ R2), axis=-1)


def Rz(angle):
    """The rotation by angle (radians) about z."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — The chordal $L_2$ mean ({points} points)
#
# With $d_{\mathrm{chord}}(R, R_i) = \lVert R - R_i\rVert_F$ and $\lVert R\rVert_F^2 = 3$
# for every rotation,
#
# $$ \sum_i w_i \lVert R - R_i\rVert_F^2 = \text{const} - 2\operatorname{tr}(R^\mathsf{T}M),
# \qquad M = \sum_i w_i R_i , $$
#
# so the chordal mean maximises $\operatorname{tr}(R^\mathsf{T}M)$: it is the rotation
# closest to the weighted sum of the matrices (Hartley et al. §5). With the singular value
# decomposition $M = U S V^\mathsf{T}$,
#
# $$ \bar R = U \operatorname{diag}\bigl(1, 1, \det(U V^\mathsf{T})\bigr) V^\mathsf{T}. $$
#
# The $\det$ matters: $UV^\mathsf{T}$ alone is the closest *orthogonal* matrix, which is a
# reflection ($\det = -1$) when the data are spread widely; flipping the last singular
# vector gives the closest rotation. Implement `chordal_mean(Rs, weights=None)`;
# `np.linalg.svd` works on batches.


# %% nbgrader={"grade": false, "grade_id": "chordal_mean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def chordal_mean(Rs, weights=None):
    """argmin_R Σ wᵢ ‖R − Rᵢ‖²_F. Rs (..., N, 3, 3), weights (..., N) → (..., 3, 3)."""
    ### BEGIN SOLUTION
    Rs = np.asarray(Rs)
    dtype = np.result_type(Rs, np.float32)
    w = np.ones(Rs.shape[:-2]) if weights is None else np.asarray(weights, dtype=float)
    M = np.einsum("...n,...nij->...ij", np.broadcast_to(w, Rs.shape[:-2]), Rs)
    U, _, Vt = np.linalg.svd(M)
    flip = np.linalg.det(U @ Vt) < 0
    U[..., :, 2] = np.where(flip[..., None], -U[..., :, 2], U[..., :, 2])
    return (U @ Vt).astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_chordal_mean", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(chordal_mean(np.stack([Rz(0.2), Rz(1.0)])), Rz(0.6)), "two rotations"
R = chordal_mean(DATA)
assert np.allclose(R @ R.T, np.eye(3)) and np.isclose(np.linalg.det(R), 1.0), "a rotation"
print("chordal mean of DATA is", np.rad2deg(angle_between(R, R_TRUE)), "degrees from R_TRUE")
half_turns = np.stack([np.diag([-1.0, -1, 1]), np.diag([1.0, -1, -1]), np.diag([-1.0, 1, -1])])
R = chordal_mean(half_turns, weights=[3.0, 2.0, 1.5])
assert np.isclose(np.linalg.det(R), 1.0), "det(U Vᵀ) = −1 here: flip the last singular vector"
assert np.allclose(R, np.diag([-1.0, -1, 1])), R
zero_weight = chordal_mean(np.stack([Rz(0.2), Rz(1.0), Rz(2.5)]), weights=[1.0, 1.0, 0.0])
assert np.allclose(zero_weight, Rz(0.6)), "a zero weight ignores its rotation"
assert chordal_mean(np.stack([DATA, DATA])).shape == (2, 3, 3)
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_09", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — The quaternion $L_2$ mean ({points} points)
#
# With the quaternion distance $d_{\mathrm{quat}}(q, q_i) = \min(\lVert q - q_i\rVert,
# \lVert q + q_i\rVert)$ and unit quaternions, $d_{\mathrm{quat}}^2 = 2 - 2\lvert q\cdot
# q_i\rvert$: the quaternion mean maximises $\sum_i w_i \lvert q\cdot q_i\rvert$. If we
# knew the signs $s_i = \operatorname{sign}(\bar q\cdot q_i)$ of the answer, this would be
# the linear function $q\cdot\sum_i w_i s_i q_i$, maximised by the **normalised sum of the
# sign-aligned quaternions**
#
# $$ \bar q = \frac{\sum_i w_i s_i q_i}{\lVert\sum_i w_i s_i q_i\rVert}. $$
#
# The signs depend on $\bar q$, so iterate (Hartley et al. §5): start from a guess (the
# $q_i$ of largest weight, or the top eigenvector of $\sum_i w_i q_i q_i^\mathsf{T}$ from
# `np.linalg.eigh`), align the signs with it, sum, normalise, re-align — until the signs
# stop changing (each round increases $\sum_i w_i\lvert\bar q\cdot q_i\rvert$, so this
# ends). Skipping the alignment is the classic bug: $q$ and $-q$ are the same rotation,
# but in a plain sum they cancel.
#
# Implement `quaternion_mean(qs, weights=None, max_iter=100)` for unit quaternions `qs`
# `(..., N, 4)` of either sign; return the unit quaternion with $w \ge 0$, `(..., 4)`.


# %% nbgrader={"grade": false, "grade_id": "quaternion_mean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quaternion_mean(qs, weights=None, max_iter=100):
    """argmin_q Σ wᵢ d_quat(q, qᵢ)². qs (..., N, 4), weights (..., N) → (..., 4), w ≥ 0."""
    ### BEGIN SOLUTION
    qs = np.asarray(qs)
    dtype = np.result_type(qs, np.float32)
    w = np.ones(qs.shape[:-1]) if weights is None else np.asarray(weights, dtype=float)
    w = np.broadcast_to(w, qs.shape[:-1])
    # a first guess: the top eigenvector of Σ wᵢ qᵢ qᵢᵀ
    _, vectors = np.linalg.eigh(np.einsum("...n,...ni,...nj->...ij", w, qs, qs))
    qbar = vectors[..., :, -1]
    signs = None
    for _ in range(max_iter):
        new = np.where(np.einsum("...i,...ni->...n", qbar, qs) < 0, -1.0, 1.0)
        if signs is not None and np.array_equal(new, signs):
            break
        signs = new
        total = np.einsum("...n,...n,...ni->...i", w, signs, qs)
        qbar = total / np.linalg.norm(total, axis=-1, keepdims=True)
    return np.where(qbar[..., :1] < 0, -qbar, qbar).astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_quaternion_mean", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
q_z = lambda a: np.array([np.cos(a / 2), 0.0, 0.0, np.sin(a / 2)])  # noqa: E731
q = quaternion_mean(np.stack([q_z(0.2), -q_z(1.0)]))
assert np.allclose(q, q_z(0.6)), "−q is the same rotation: align the signs"
assert np.isclose(np.linalg.norm(q), 1.0) and q[0] >= 0
qs = matrix_to_quat(DATA) * np.where(np.arange(20) % 3 == 0, -1.0, 1.0)[:, None]
q = quaternion_mean(qs)
error = np.rad2deg(angle_between(quat_to_matrix(q), R_TRUE))
print("quaternion mean of DATA is", error, "degrees from R_TRUE")
assert quaternion_mean(np.stack([qs, qs]), weights=np.ones(20)).shape == (2, 4)
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_12", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — The geodesic $L_2$ mean: Algorithm 1 ({points} points)
#
# The geodesic (Karcher) mean minimises $\sum_i w_i d_\angle(R, R_i)^2$. There is no
# closed form; Hartley et al.'s **Algorithm 1** (§5.3) is a gradient descent:
#
# 1. set $R := R_1$ (any rotation near the data will do: your chordal mean is a better
#    start);
# 2. compute $\mathbf r = \sum_i w_i \log(R^\mathsf{T} R_i) \,/\, \sum_i w_i$;
# 3. if $\lVert\mathbf r\rVert < \varepsilon$, return $R$;
# 4. update $R := R\exp(\mathbf r)$ and go to 2.
#
# The meeting's question 6 asks *how do you do the log and exp in steps 2 and 4?* —
# `so3_log` of the matrices $R^\mathsf{T}R_i$ (all at once: `np.swapaxes(R, -1, -2)[...,
# None, :, :] @ Rs` has shape `(..., N, 3, 3)`), and `so3_exp` of the mean tangent vector.
# Two details decide whether it works:
#
# * $\log(R^\mathsf{T}R_i)$ is the direction from $R$ to $R_i$ *in $R$'s own frame*, so
#   the step is multiplied on the **right**: $R\exp(\mathbf r)$. On the left,
#   $\exp(\mathbf r)R$ steps in a direction rotated by $R$ — harmless near the identity,
#   divergent far from it;
# * iterate until $\lVert\mathbf r\rVert <$ `tol` (take `max(tol, 100 * np.finfo(dtype).eps)`
#   for float32), not a fixed small number of steps: one step from $R_1$ is only a better
#   guess. With batches, stop when every problem has converged.
#
# Implement `geodesic_mean(Rs, weights=None, tol=1e-12, max_iter=100)`.


# %% nbgrader={"grade": false, "grade_id": "geodesic_mean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def geodesic_mean(Rs, weights=None, tol=1e-12, max_iter=100):
    """argmin_R Σ wᵢ d∠(R, Rᵢ)² (Algorithm 1). Rs (..., N, 3, 3), weights (..., N)."""
    ### BEGIN SOLUTION
    Rs = np.asarray(Rs)
    dtype = np.result_type(Rs, np.float32)
    w = np.ones(Rs.shape[:-2]) if weights is None else np.asarray(weights, dtype=float)
    w = np.broadcast_to(w, Rs.shape[:-2])
    tol = max(tol, 100 * float(np.finfo(dtype).eps))
    R = Rs[..., 0, :, :]
    for _ in range(max_iter):
        v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)  # (..., N, 3)
        r = np.einsum("...n,...ni->...i", w, v) / np.sum(w, axis=-1)[..., None]
        R = R @ so3_exp(r)
        if np.max(np.linalg.norm(r, axis=-1), initial=0.0) < tol:
            break
    return R.astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_geodesic_mean", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(geodesic_mean(np.stack([Rz(0.2), Rz(1.0)])), Rz(0.6)), "the midpoint"
weighted = geodesic_mean(np.stack([Rz(0.2), Rz(1.0)]), weights=[1.0, 3.0])
assert np.allclose(weighted, Rz(0.8)), "weights 1 : 3 put it 3/4 of the way"
R = geodesic_mean(DATA)
r = so3_log(R.T @ DATA).mean(axis=0)
assert np.linalg.norm(r) < 1e-10, f"not converged: the mean tangent vector is {r}"
G = random_rotations((), np.random.default_rng(5))
assert np.allclose(geodesic_mean(G @ DATA @ G.T), G @ R @ G.T), "equivariance"
print("geodesic mean of DATA is", np.rad2deg(angle_between(R, R_TRUE)), "degrees from R_TRUE")
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_15", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — The geodesic $L_1$ median: Weiszfeld's algorithm ({points} points)
#
# The median minimises $\sum_i w_i d_\angle(R, R_i)$ — distances, not squared distances —
# so that a few outliers pull it much less than they pull a mean. Weiszfeld's algorithm
# on SO(3) (Hartley, Aftab & Trumpf 2011; Hartley et al. §5) is Algorithm 1 with each
# tangent vector $\mathbf v_i = \log(R^\mathsf{T}R_i)$ weighted by $1/\lVert\mathbf
# v_i\rVert$:
#
# $$ \boldsymbol\delta = \frac{\sum_i w_i\,\mathbf v_i/\lVert\mathbf v_i\rVert}
# {\sum_i w_i/\lVert\mathbf v_i\rVert}, \qquad R := R\exp(\boldsymbol\delta), $$
#
# until $\lVert\boldsymbol\delta\rVert <$ `tol`. The catch: when the iterate sits **on a
# data point**, $\mathbf v_j = 0$ and the formula divides by zero — and the median is often
# a data point (it is the middle one of three rotations about one axis), and $R_1$ is a
# natural start. The fix (Vardi & Zhang 2000): leave out the terms with $\lVert\mathbf
# v_i\rVert < 10^{-12}$, let $\eta$ be their total weight and $\boldsymbol\rho = \sum_{\text
# {kept}} w_i\mathbf v_i/\lVert\mathbf v_i\rVert$. If $\lVert\boldsymbol\rho\rVert \le
# \eta$, that data point *is* the median: stop. Otherwise take the step above (over the
# kept terms) shortened by the factor $1 - \eta/\lVert\boldsymbol\rho\rVert$.
#
# Implement `geodesic_median(Rs, weights=None, tol=1e-12, max_iter=1000)`.


# %% nbgrader={"grade": false, "grade_id": "geodesic_median", "locked": false, "schema_version": 3, "solution": true, "task": false}
def geodesic_median(Rs, weights=None, tol=1e-12, max_iter=1000):
    """argmin_R Σ wᵢ d∠(R, Rᵢ) (Weiszfeld). Rs (..., N, 3, 3), weights (..., N)."""
    ### BEGIN SOLUTION
    Rs = np.asarray(Rs)
    dtype = np.result_type(Rs, np.float32)
    w = np.ones(Rs.shape[:-2]) if weights is None else np.asarray(weights, dtype=float)
    w = np.broadcast_to(w, Rs.shape[:-2])
    tol = max(tol, 100 * float(np.finfo(dtype).eps))
    R = Rs[..., 0, :, :]
    for _ in range(max_iter):
        v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)  # (..., N, 3)
        length = np.linalg.norm(v, axis=-1)
        kept = length > 1e-12
        inv = np.where(kept, w / np.where(kept, length, 1.0), 0.0)
        eta = np.sum(np.where(kept, 0.0, w), axis=-1)  # weight of the data at R
        rho = np.einsum("...n,...ni->...i", inv, v)
        rho_norm = np.linalg.norm(rho, axis=-1)
        delta = rho / np.maximum(np.sum(inv, axis=-1), 1e-300)[..., None]
        shrink = np.clip(1 - eta / np.maximum(rho_norm, 1e-300), 0.0, 1.0)
        delta = delta * shrink[..., None]  # 0 when that data point is the median
        R = R @ so3_exp(delta)
        if np.max(np.linalg.norm(delta, axis=-1), initial=0.0) < tol:
            break
    return R.astype(dtype, copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_geodesic_median", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
three = np.stack([Rz(0.0), Rz(0.3), Rz(2.0)])
assert np.allclose(geodesic_median(three), Rz(0.3)), "the middle one of three"
assert np.all(np.isfinite(geodesic_median(np.stack([np.eye(3)] * 4)))), "on a data point"
outliers = noisy_rotations(R_TRUE @ Rz(2.0), 5, 0.1, np.random.default_rng(6))
with_outliers = np.concatenate([DATA, outliers])
median, mean = geodesic_median(with_outliers), geodesic_mean(with_outliers)
errors = np.rad2deg([angle_between(median, R_TRUE), angle_between(mean, R_TRUE)])
print(f"with 5 outliers: median {errors[0]:.1f}°, mean {errors[1]:.1f}° from R_TRUE")
assert angle_between(median, R_TRUE) < angle_between(mean, R_TRUE), "robust to outliers"
print("Part D: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_18", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — Does your mean seem "in the middle"? (question 6) ({points} points)
#
# In $\mathbb R^n$ the mean $\bar x$ is the point from which the data balance:
# $\sum_i w_i(x_i - \bar x) = 0$. On SO(3) the vectors from $\bar R$ to the data are
# $\log(\bar R^\mathsf{T}R_i)$, and their weighted mean — the $\mathbf r$ of Algorithm 1 —
# is the gradient of $\sum_i w_i d_\angle(\bar R, R_i)^2$ times $-1/(2\sum_i w_i)$
# (for a step $\bar R\exp[\boldsymbol\epsilon]_\times$): it vanishes exactly at a
# stationary point of that sum. That is the precise sense of *in the middle*.
#
# 1. Implement `tangent_mean(Rs, R, weights=None)`: $\sum_i w_i\log(R^\mathsf{T}R_i) /
#    \sum_i w_i$ for `Rs` `(..., N, 3, 3)` and `R` `(..., 3, 3)` → `(..., 3)`.
# 2. Evaluate it at your three means of `DATA` (and of `DATA` with the outliers of Part
#    D), and compare the lengths with the distances between the means.
# 3. `Q6_IN_THE_MIDDLE`: at which mean is `tangent_mean` zero, to rounding — `"chordal"`,
#    `"quaternion"`, `"geodesic"` or `"all three"`?


# %% nbgrader={"grade": false, "grade_id": "in_the_middle", "locked": false, "schema_version": 3, "solution": true, "task": false}
def tangent_mean(Rs, R, weights=None):
    """Σ wᵢ log(Rᵀ Rᵢ) / Σ wᵢ. Rs (..., N, 3, 3), R (..., 3, 3), weights (..., N) → (..., 3)."""
    ### BEGIN SOLUTION
    Rs, R = np.asarray(Rs), np.asarray(R)
    w = np.ones(Rs.shape[:-2]) if weights is None else np.asarray(weights, dtype=float)
    w = np.broadcast_to(w, Rs.shape[:-2])
    v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)
    mean = np.einsum("...n,...ni->...i", w, v) / np.sum(w, axis=-1)[..., None]
    return mean.astype(np.result_type(Rs, R, np.float32), copy=False)
    ### END SOLUTION


Q6_IN_THE_MIDDLE = None  # "chordal", "quaternion", "geodesic" or "all three"
### BEGIN SOLUTION
Q6_IN_THE_MIDDLE = "geodesic"
### END SOLUTION

# %%
# Question 6, explored (not graded): the three means of DATA and how far from "the middle".
means = {
    "chordal": chordal_mean(DATA),
    "quaternion": quat_to_matrix(quaternion_mean(matrix_to_quat(DATA))),
    "geodesic": geodesic_mean(DATA),
}
for name, R in means.items():
    print(
        f"{name:10s} |tangent_mean| = {np.linalg.norm(tangent_mean(DATA, R)):.2e} rad, "
        f"{np.rad2deg(angle_between(R, means['geodesic'])):.4f}° from the geodesic mean"
    )

# %% nbgrader={"grade": true, "grade_id": "test_in_the_middle", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
assert np.allclose(tangent_mean(np.stack([Rz(0.2), Rz(1.0)]), Rz(0.2)), [0, 0, 0.4])
assert np.allclose(tangent_mean(np.stack([Rz(0.2), Rz(1.0)]), Rz(0.6)), 0.0)
t = tangent_mean(np.stack([DATA, DATA]), np.stack([np.eye(3), R_TRUE]), weights=np.ones(20))
assert t.shape == (2, 3)
assert Q6_IN_THE_MIDDLE in ("chordal", "quaternion", "geodesic", "all three")
print("Part E: visible tests passed (the answer itself is checked when graded)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_22", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — Averaging quaternions solves the problem for which distance? (question 7) ({points} points)
#
# "Average the quaternions" is said of two different recipes:
#
# * `Q7_NORMALISED_SUM`: the normalised sum of the sign-aligned quaternions (Part B);
# * `Q7_EIGENVECTOR`: the top eigenvector of $\sum_i w_i q_i q_i^\mathsf{T}$ — what, for
#   instance, SciPy's `Rotation.mean` returns (it has no sign problem: $q_iq_i^\mathsf{T}$
#   does not depend on the sign of $q_i$).
#
# Each minimises $\sum_i w_i d(R, R_i)^2$ for one of the distances of problem set 2.
# Which? Answer `"geodesic"`, `"chordal"` or `"quaternion"` for each. (Hint: write
# $d_{\mathrm{chord}}^2$ and $d_{\mathrm{quat}}^2$ as functions of $q\cdot q_i$ with Table
# 2's relations and $\lvert q\cdot q_i\rvert = \cos\frac{\theta_i}{2}$; or compare the
# answers numerically with Parts A and B.)

# %% nbgrader={"grade": false, "grade_id": "question7", "locked": false, "schema_version": 3, "solution": true, "task": false}
Q7_NORMALISED_SUM = None  # "geodesic", "chordal" or "quaternion"
Q7_EIGENVECTOR = None
### BEGIN SOLUTION
Q7_NORMALISED_SUM = "quaternion"
Q7_EIGENVECTOR = "chordal"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_question7", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert Q7_NORMALISED_SUM in ("geodesic", "chordal", "quaternion")
assert Q7_EIGENVECTOR in ("geodesic", "chordal", "quaternion")
print("Part F: visible tests passed (the answers themselves are checked when graded)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_25", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps03_rotation_averaging/ps03_rotation_averaging.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps03_rotation_averaging` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps03_rotation_averaging/ps03_rotation_averaging.ipynb`
# and `course submit ps03_rotation_averaging`.
