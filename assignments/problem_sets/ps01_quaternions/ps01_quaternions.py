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
# # Problem set 1 — Quaternions
#
# *Study group meeting of Friday 4 February 2022: [SO(3) — encoding of SO(3)]({book_url}/book/meetings/2022-02-04-rotations.html).*
#
# Rotations are everywhere in cryo-EM: every particle image is a projection of the molecule
# in an unknown orientation. In this problem set you implement the tools that every
# reconstruction code relies on — the Hamilton product, rotating points, converting between
# quaternions, matrices, axis–angle pairs and Euler angles — and derive two formulas
# symbolically.
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)): quaternions are
# scalar-first `[w, x, y, z]` with the Hamilton product; rotations are *active*; a rotation
# matrix left-multiplies column vectors of `xyz` coordinates; angles are radians. Every
# function takes any leading batch shape — `(..., 4)` quaternions, `(..., 3)` points,
# `(..., 3, 3)` matrices — and should return the input's floating dtype.
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you
# work, or press **Validate** in the toolbar (see *Before you submit*). When you submit, the
# grader runs your notebook in a sandbox and then calls your functions on random inputs
# chosen for you; it compares the answers with a reference outside your kernel. Points
# per part are the fraction of those cases you get right, and the feedback names common
# mistakes when it recognises them. Keep the function names and signatures; add cells of
# your own if you like. Only NumPy and SymPy are needed (SciPy is not available).

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import sympy as sp

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_02", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — The Hamilton product ({points} points)
#
# Quaternions multiply by the rules $\mathbf i^2 = \mathbf j^2 = \mathbf k^2 =
# \mathbf{ijk} = -1$, so $\mathbf{ij} = \mathbf k$, $\mathbf{jk} = \mathbf i$,
# $\mathbf{ki} = \mathbf j$ and the product does **not** commute. Writing
# $p = (p_0, \vec p)$ with scalar part $p_0$ and vector part $\vec p$:
#
# $$ p\,q = \bigl(p_0 q_0 - \vec p\cdot\vec q,\;\; p_0\vec q + q_0 \vec p + \vec p\times\vec q\bigr). $$
#
# As rotations, $p\,q$ applies $q$ first, then $p$ (like matrices).
#
# Implement `quat_multiply(p, q)` for arrays of shape `(..., 4)` that broadcast against
# each other.


# %% nbgrader={"grade": false, "grade_id": "quat_multiply", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_multiply(p, q):
    """Hamilton product p ⊗ q of quaternions [w, x, y, z]. Shapes (..., 4) → (..., 4)."""
    ### BEGIN SOLUTION
    p = np.asarray(p)
    q = np.asarray(q)
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    out = np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )
    return out.astype(np.result_type(p, q, np.float32), copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_quat_multiply", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Visible tests: the multiplication table, the identity, and batches.
one, i, j, k = np.eye(4)
assert np.allclose(quat_multiply(i, j), k)
assert np.allclose(quat_multiply(j, k), i)
assert np.allclose(quat_multiply(k, i), j)
assert np.allclose(quat_multiply(i, i), -one)
assert np.allclose(quat_multiply(j, i), -k), "the product does not commute"
assert np.allclose(quat_multiply(one, [0.5, 0.5, 0.5, 0.5]), [0.5, 0.5, 0.5, 0.5])
assert quat_multiply(np.ones((5, 4)), np.ones((5, 4))).shape == (5, 4)
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_05", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — Conjugate, inverse and normalisation ({points} points)
#
# The conjugate is $q^* = (q_0, -\vec q)$, the norm $|q| = \sqrt{q\,q^*}$, and the inverse
# $q^{-1} = q^*/|q|^2$ — equal to the conjugate only for **unit** quaternions. Implement
# the three functions for shape `(..., 4)`; `quat_inverse` must work for quaternions that
# are not unit.


# %% nbgrader={"grade": false, "grade_id": "conjugate_inverse", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_conjugate(q):
    """Conjugate [w, -x, -y, -z]. Shape (..., 4) → (..., 4)."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    return q * np.array([1, -1, -1, -1], dtype=np.result_type(q, np.float32))
    ### END SOLUTION


def quat_inverse(q):
    """Inverse q* / |q|². Shape (..., 4) → (..., 4)."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    return quat_conjugate(q) / np.sum(q * q, axis=-1, keepdims=True)
    ### END SOLUTION


def quat_normalize(q):
    """q / |q|. Shape (..., 4) → (..., 4)."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_conjugate_inverse", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
q = np.array([1.0, 2.0, 3.0, 4.0])
assert np.allclose(quat_conjugate(q), [1, -2, -3, -4])
assert np.allclose(quat_multiply(q, quat_inverse(q)), [1, 0, 0, 0])
assert np.isclose(np.linalg.norm(quat_normalize(q)), 1)
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_08", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — Rotating points ({points} points)
#
# The unit quaternion $q = \bigl(\cos\tfrac\theta2,\ \sin\tfrac\theta2\,\hat n\bigr)$
# rotates the point $\vec r$ by the angle $\theta$ about the unit axis $\hat n$:
# represent $\vec r$ as the pure quaternion $p = (0, r_x, r_y, r_z)$; the rotated point is
# the vector part of $q\,p\,q^{-1}$.
#
# **With pencil and paper first** (the syllabus's question 4): rotate $\vec r = (1, 0, 0)$
# by $\theta = 180°$ about the $z$ axis. You should get $(-1, 0, 0)$; the first visible
# test checks exactly this.
#
# Implement `quat_rotate(q, v)`: `q` of shape `(..., 4)` (not necessarily unit — the map
# $v \mapsto q v q^{-1}$ does not depend on $|q|$), `v` of shape `(..., 3)`, broadcast
# against each other. Expanding the two products gives a cheaper formula than two
# Hamilton products: with $q = (w, \vec u)$ and $s = 2/|q|^2$,
# $\vec t = s\,(\vec u\times\vec v)$ and $q\,v\,q^{-1} = \vec v + w\,\vec t + \vec u\times\vec t$.


# %% nbgrader={"grade": false, "grade_id": "quat_rotate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_rotate(q, v):
    """Rotate points v (..., 3) by quaternions q (..., 4): the vector part of q v q⁻¹."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    v = np.asarray(v)
    w = q[..., :1]
    u = q[..., 1:]
    s = 2.0 / np.sum(q * q, axis=-1, keepdims=True)
    t = s * np.cross(u, v)
    out = v + w * t + np.cross(u, t)
    return out.astype(np.result_type(q, v, np.float32), copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_quat_rotate", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# The pencil-and-paper exercise: (1, 0, 0) rotated by 180° about z.
q_z180 = np.array([np.cos(np.pi / 2), 0.0, 0.0, np.sin(np.pi / 2)])
assert np.allclose(quat_rotate(q_z180, [1.0, 0.0, 0.0]), [-1.0, 0.0, 0.0])
# 90° about z takes x to y (active, right-handed)
q_z90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
assert np.allclose(quat_rotate(q_z90, [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0])
# a non-unit quaternion rotates the same way
assert np.allclose(quat_rotate(3 * q_z90, [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0])
assert quat_rotate(np.tile(q_z90, (7, 1)), np.ones((7, 3))).shape == (7, 3)
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_11", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — Quaternions and rotation matrices ({points} points)
#
# `quat_to_matrix(q)` returns the matrix $R$ with $R\,\vec v$ equal to
# `quat_rotate(q, v)`; for a unit quaternion
#
# $$ R = \begin{pmatrix}
# 1 - 2(y^2+z^2) & 2(xy - wz) & 2(xz + wy)\\
# 2(xy + wz) & 1 - 2(x^2+z^2) & 2(yz - wx)\\
# 2(xz - wy) & 2(yz + wx) & 1 - 2(x^2+y^2)
# \end{pmatrix}, $$
#
# and a non-unit $q$ must give the same matrix as $q/|q|$.
#
# `matrix_to_quat(R)` goes back. The four quantities $4w^2 = 1 + \operatorname{tr}R$,
# $4x^2 = 1 + R_{00} - R_{11} - R_{22}$, $4y^2$ and $4z^2$ are all available; dividing by the
# *largest* of them avoids cancellation (Shepperd's method). $q$ and $-q$ are the same
# rotation: return the one with $w \ge 0$. Shapes `(..., 4)` ↔ `(..., 3, 3)`.


# %% nbgrader={"grade": false, "grade_id": "quat_matrix", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quat_to_matrix(q):
    """Rotation matrix (..., 3, 3) of quaternions q (..., 4), not necessarily unit."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    dtype = np.result_type(q, np.float32)
    w, x, y, z = np.moveaxis(q, -1, 0)
    s = 2.0 / (w * w + x * x + y * y + z * z)
    R = np.stack(
        [
            np.stack([1 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)], -1),
            np.stack([s * (x * y + w * z), 1 - s * (x * x + z * z), s * (y * z - w * x)], -1),
            np.stack([s * (x * z - w * y), s * (y * z + w * x), 1 - s * (x * x + y * y)], -1),
        ],
        axis=-2,
    )
    return R.astype(dtype, copy=False)
    ### END SOLUTION


def matrix_to_quat(R):
    """Unit quaternion (..., 4) with w ≥ 0 of rotation matrices R (..., 3, 3)."""
    ### BEGIN SOLUTION
    R = np.asarray(R)
    d = np.stack(
        [
            1 + R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2],
            1 + R[..., 0, 0] - R[..., 1, 1] - R[..., 2, 2],
            1 - R[..., 0, 0] + R[..., 1, 1] - R[..., 2, 2],
            1 - R[..., 0, 0] - R[..., 1, 1] + R[..., 2, 2],
        ],
        axis=-1,
    )
    a = R[..., 2, 1] - R[..., 1, 2]
    b = R[..., 0, 2] - R[..., 2, 0]
    c = R[..., 1, 0] - R[..., 0, 1]
    e = R[..., 0, 1] + R[..., 1, 0]
    f = R[..., 0, 2] + R[..., 2, 0]
    g = R[..., 1, 2] + R[..., 2, 1]
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
    return np.where(q[..., :1] < 0, -q, q).astype(np.result_type(R, np.float32), copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_quat_matrix", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
Rz90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
q_z90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
assert np.allclose(quat_to_matrix(q_z90), Rz90), "active rotation by +90° about z"
assert np.allclose(quat_to_matrix(2 * q_z90), Rz90), "a non-unit q gives the same matrix"
assert np.allclose(matrix_to_quat(Rz90), q_z90)
assert np.allclose(matrix_to_quat(np.eye(3)), [1, 0, 0, 0])
# 180° about x: the trace is -1 and w = 0 — the case that needs Shepperd's branch choice
assert np.allclose(np.abs(matrix_to_quat(np.diag([1.0, -1.0, -1.0]))), [0, 1, 0, 0])
assert quat_to_matrix(np.ones((2, 3, 4))).shape == (2, 3, 3, 3)
print("Part D: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_14", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — Axis–angle ({points} points)
#
# `axis_angle_to_quat(axis, angle)`: `axis` of shape `(..., 3)` (not necessarily unit —
# normalise it), `angle` of shape `(...)` in **radians**; returns
# $\bigl(\cos\tfrac\theta2, \sin\tfrac\theta2\,\hat n\bigr)$.
#
# `quat_to_axis_angle(q)` returns the pair `(axis, angle)` with the angle in $[0, \pi]$,
# whichever of $\pm q$ is given (remember $q$ and $-q$ are the same rotation).
# Hint: $\theta = 2\,\operatorname{atan2}(|\vec u|, |w|)$ is accurate at every angle.
# For the identity, return the axis `[1, 0, 0]`.


# %% nbgrader={"grade": false, "grade_id": "axis_angle", "locked": false, "schema_version": 3, "solution": true, "task": false}
def axis_angle_to_quat(axis, angle):
    """Quaternion (..., 4) of the rotation by angle (...) radians about axis (..., 3)."""
    ### BEGIN SOLUTION
    axis = np.asarray(axis)
    angle = np.asarray(angle)
    n = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    half = angle[..., None] / 2
    out = np.concatenate([np.cos(half), np.sin(half) * n], axis=-1)
    return out.astype(np.result_type(axis, angle, np.float32), copy=False)
    ### END SOLUTION


def quat_to_axis_angle(q):
    """(axis (..., 3), angle (...) in [0, π]) of quaternions q (..., 4)."""
    ### BEGIN SOLUTION
    q = np.asarray(q)
    q = np.where(q[..., :1] < 0, -q, q)
    u = q[..., 1:]
    s = np.linalg.norm(u, axis=-1)
    angle = 2 * np.arctan2(s, q[..., 0])
    axis = np.where(
        (s > 0)[..., None], u / np.where(s > 0, s, 1)[..., None], np.array([1.0, 0.0, 0.0])
    )
    return axis, angle
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_axis_angle", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
q = axis_angle_to_quat([0.0, 0.0, 2.0], np.pi / 2)
assert np.allclose(q, [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]), "radians, unit axis"
axis, angle = quat_to_axis_angle(-q)
assert np.allclose(axis, [0, 0, 1]) and np.isclose(angle, np.pi / 2), "−q is the same rotation"
axis, angle = quat_to_axis_angle(np.array([1.0, 0.0, 0.0, 0.0]))
assert np.isclose(angle, 0.0)
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_17", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — Euler angles, Slabaugh's algorithm ({points} points)
#
# G. G. Slabaugh's note *Computing Euler angles from a rotation matrix* (the syllabus's
# question 2) decomposes
#
# $$ R = R_z(\phi)\,R_y(\theta)\,R_x(\psi), $$
#
# a rotation about the *fixed* $x$ axis by $\psi$, then the fixed $y$ axis by $\theta$, then
# the fixed $z$ axis by $\phi$ — the **extrinsic** sequence `"xyz"` with angles
# $(\psi, \theta, \phi)$, the convention of `scipy`'s `Rotation.from_euler("xyz", …)`.
#
# Implement, for `convention="xyz"` only (raise `ValueError` for anything else):
#
# * `euler_to_matrix(angles, convention="xyz")`: `angles` `(..., 3)` = $(\psi, \theta, \phi)$
#   → `(..., 3, 3)`;
# * `matrix_to_euler(R, convention="xyz")`: the pseudo-code of Slabaugh's Figure 1, with
#   $\theta \in [-\pi/2, \pi/2]$. At gimbal lock ($R_{20} = \pm 1$) the angles are not
#   unique: set $\phi = 0$ as Slabaugh does. Any answer whose matrix is $R$ is accepted.


# %% nbgrader={"grade": false, "grade_id": "euler", "locked": false, "schema_version": 3, "solution": true, "task": false}
def _rot(axis, angle):
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == "x":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def euler_to_matrix(angles, convention="xyz"):
    """R = Rz(φ) Ry(θ) Rx(ψ) for angles (..., 3) = (ψ, θ, φ), extrinsic "xyz"."""
    ### BEGIN SOLUTION
    if convention != "xyz":
        raise ValueError("only the extrinsic 'xyz' convention is implemented")
    angles = np.asarray(angles)
    psi, theta, phi = angles[..., 0], angles[..., 1], angles[..., 2]
    R = _rot("z", phi) @ _rot("y", theta) @ _rot("x", psi)
    return R.astype(np.result_type(angles, np.float32), copy=False)
    ### END SOLUTION


def matrix_to_euler(R, convention="xyz"):
    """Angles (..., 3) = (ψ, θ, φ) with R = Rz(φ) Ry(θ) Rx(ψ) (Slabaugh's Figure 1)."""
    ### BEGIN SOLUTION
    if convention != "xyz":
        raise ValueError("only the extrinsic 'xyz' convention is implemented")
    R = np.asarray(R)
    r20 = np.clip(R[..., 2, 0], -1.0, 1.0)
    theta = -np.arcsin(r20)
    cos_t = np.cos(theta)
    locked = np.isclose(np.abs(r20), 1.0, rtol=0, atol=1e-12)
    safe = np.where(locked, 1.0, cos_t)
    psi = np.arctan2(R[..., 2, 1] / safe, R[..., 2, 2] / safe)
    phi = np.arctan2(R[..., 1, 0] / safe, R[..., 0, 0] / safe)
    # gimbal lock: φ = 0, θ = ∓π/2, ψ from the remaining entries (Slabaugh, Figure 1)
    minus = r20 < 0
    psi_locked = np.where(
        minus, np.arctan2(R[..., 0, 1], R[..., 0, 2]), np.arctan2(-R[..., 0, 1], -R[..., 0, 2])
    )
    theta = np.where(locked, np.where(minus, np.pi / 2, -np.pi / 2), theta)
    psi = np.where(locked, psi_locked, psi)
    phi = np.where(locked, 0.0, phi)
    out = np.stack([psi, theta, phi], axis=-1)
    return out.astype(np.result_type(R, np.float32), copy=False)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_euler", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
angles = np.array([0.1, 0.2, 0.3])
R = euler_to_matrix(angles)
Rx = np.array([[1, 0, 0], [0, np.cos(0.1), -np.sin(0.1)], [0, np.sin(0.1), np.cos(0.1)]])
Ry = np.array([[np.cos(0.2), 0, np.sin(0.2)], [0, 1, 0], [-np.sin(0.2), 0, np.cos(0.2)]])
Rz = np.array([[np.cos(0.3), -np.sin(0.3), 0], [np.sin(0.3), np.cos(0.3), 0], [0, 0, 1]])
assert np.allclose(R, Rz @ Ry @ Rx), "extrinsic xyz: R = Rz(φ) Ry(θ) Rx(ψ)"
assert np.allclose(matrix_to_euler(R), angles)
locked = euler_to_matrix([0.4, np.pi / 2, 0.0])
assert np.allclose(euler_to_matrix(matrix_to_euler(locked)), locked), "gimbal lock round trip"
print("Part F: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_20", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — Rotating many points efficiently ({points} points)
#
# The syllabus's question 5: study *Conversion to and from the matrix representation* and
# *Performance comparisons* on Wikipedia's page *Quaternions and spatial rotation*. To
# rotate many points by **one** rotation, what is efficient? And how should rotations be
# **stored** (and composed, interpolated, renormalised) versus **applied**?
#
# 1. Implement `rotate_points(q, points)`: one unit quaternion `q` of shape `(4,)`, points
#    of shape `(N, 3)` → `(N, 3)`, the efficient way.
# 2. Answer with one of the strings `"quaternion"`, `"matrix"`, `"euler"`, `"axis-angle"`:
#    `Q5_STORE` (the representation to store and compose rotations in) and `Q5_APPLY` (the
#    one to rotate many points with).
# 3. `Q5_MULTIPLICATIONS_PER_POINT`: how many scalar multiplications per point does that
#    way of applying a rotation cost (an integer)?


# %% nbgrader={"grade": false, "grade_id": "many_points", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rotate_points(q, points):
    """Rotate points (N, 3) by one unit quaternion q (4,) → (N, 3)."""
    ### BEGIN SOLUTION
    points = np.asarray(points)
    return points @ quat_to_matrix(q).T
    ### END SOLUTION


Q5_STORE = None  # one of "quaternion", "matrix", "euler", "axis-angle"
Q5_APPLY = None
Q5_MULTIPLICATIONS_PER_POINT = None
### BEGIN SOLUTION
Q5_STORE = "quaternion"
Q5_APPLY = "matrix"
Q5_MULTIPLICATIONS_PER_POINT = 9
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_many_points", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
q_z90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
pts = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
assert np.allclose(rotate_points(q_z90, pts), [[0, 1, 0], [-1, 0, 0], [0, 0, 1]])
assert Q5_STORE in ("quaternion", "matrix", "euler", "axis-angle")
assert Q5_APPLY in ("quaternion", "matrix", "euler", "axis-angle")
assert isinstance(Q5_MULTIPLICATIONS_PER_POINT, int)
print("Part G: visible tests passed (the answers themselves are checked when graded)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_23", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part H — The matrix of $q\,p\,q^{-1}$, symbolically ({points} points)
#
# Use SymPy with the symbols defined below. Return the $3\times 3$ `sp.Matrix` $R$ such
# that $R\,(p_x, p_y, p_z)^\mathsf{T}$ is the vector part of $q\,p\,q^{-1}$ for a **unit**
# quaternion $q = (w, x, y, z)$. Derive it — multiply out the quaternions with SymPy —
# rather than copying the formula from Part D; any expression equal to it when
# $w^2 + x^2 + y^2 + z^2 = 1$ is accepted.

# %% nbgrader={"grade": false, "grade_id": "symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
w, x, y, z = sp.symbols("w x y z", real=True)
p_x, p_y, p_z = sp.symbols("p_x p_y p_z", real=True)


# %% nbgrader={"grade": false, "grade_id": "symbolic_matrix", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hamilton(p, q):
    """Hamilton product of 4-tuples of SymPy expressions."""
    ### BEGIN SOLUTION
    p0, p1, p2, p3 = p
    q0, q1, q2, q3 = q
    return (
        p0 * q0 - p1 * q1 - p2 * q2 - p3 * q3,
        p0 * q1 + p1 * q0 + p2 * q3 - p3 * q2,
        p0 * q2 - p1 * q3 + p2 * q0 + p3 * q1,
        p0 * q3 + p1 * q2 - p2 * q1 + p3 * q0,
    )
    ### END SOLUTION


def rotation_matrix_symbolic():
    """3×3 sp.Matrix in w, x, y, z: the matrix of p ↦ q p q⁻¹ for a unit q."""
    ### BEGIN SOLUTION
    rotated = hamilton(hamilton((w, x, y, z), (0, p_x, p_y, p_z)), (w, -x, -y, -z))
    vec = sp.Matrix([sp.expand(c) for c in rotated[1:]])
    return vec.jacobian([p_x, p_y, p_z])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_symbolic_matrix", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
R_sym = rotation_matrix_symbolic()
assert isinstance(R_sym, sp.MatrixBase) and R_sym.shape == (3, 3)
numeric = R_sym.subs({w: np.cos(np.pi / 4), x: 0, y: 0, z: np.sin(np.pi / 4)})
assert np.allclose(np.array(numeric, dtype=float), [[0, -1, 0], [1, 0, 0], [0, 0, 1]])
print("Part H: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_27", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part I — Differentiating with respect to the quaternion ({points} points)
#
# Storing and applying rotations is not enough: we also *search* over them (the
# syllabus's question 6). Wikipedia's section *Differentiation with respect to the rotation
# quaternion* gives $\partial \mathbf p'/\partial \mathbf q$ for $\mathbf p' = q\,p\,q^*$.
# Unpack it: return the $3\times 4$ `sp.Matrix` of partial derivatives of the vector part
# of $q\,p\,q^*$ (the **conjugate**, so that $w, x, y, z$ are independent variables) with
# respect to $(w, x, y, z)$ — column $j$ is $\partial\mathbf p'/\partial q_j$.
#
# Would this ever be useful in cryo-EM? Think of refining a particle's orientation by
# gradient descent on the difference between its image and a projection of the map,
# and of how a step in $q$ must then be renormalised (or taken in the tangent space).


# %% nbgrader={"grade": false, "grade_id": "symbolic_jacobian", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rotated_point_jacobian():
    """3×4 sp.Matrix: ∂(vector part of q p q*)/∂(w, x, y, z)."""
    ### BEGIN SOLUTION
    rotated = hamilton(hamilton((w, x, y, z), (0, p_x, p_y, p_z)), (w, -x, -y, -z))
    return sp.Matrix([sp.expand(c) for c in rotated[1:]]).jacobian([w, x, y, z])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_symbolic_jacobian", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
J = rotated_point_jacobian()
assert isinstance(J, sp.MatrixBase) and J.shape == (3, 4)
# at the identity, moving w scales the point: ∂p'/∂w = 2 p
at_identity = J.subs({w: 1, x: 0, y: 0, z: 0})
assert sp.simplify(at_identity[:, 0] - 2 * sp.Matrix([p_x, p_y, p_z])) == sp.zeros(3, 1)
print("Part I: visible tests passed")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_30", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps01_quaternions/ps01_quaternions.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps01_quaternions` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps01_quaternions/ps01_quaternions.ipynb`
# and `course submit ps01_quaternions`.
