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
# # Problem set 7 — Map alignment, VESPER-style
#
# *Study group meeting of Friday 21 January 2022: [VESPER (Han et al.,
# 2021)]({book_url}/book/meetings/2022-01-21-vesper.html); this problem set's [page in the book]({book_url}/book/problem-sets/ps07_map_alignment.html).*
#
# VESPER aligns two cryo-EM density maps in three steps: (1) each map becomes a field of
# unit vectors, each pointing from a voxel towards its local density peak (the mean-shift
# algorithm); (2) for every rotation of a 30° grid, every translation is scored at once by
# the fast Fourier transform, the score (the **DOT score**) being the sum of the dot
# products of matched vectors; (3) the best models are refined locally. To rank the maps of
# a database against a query it uses the **Z-score** of the best alignment. In this problem
# set you build steps 1 and 2 — and the plain cross-correlation (CC) they are compared
# with — on synthetic maps small enough to search exhaustively in about a second, then take
# the meeting's questions 1, 4 and 6 as numerical experiments.
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)):
#
# * A **volume** is a NumPy array of shape `(nz, ny, nx)`, indexed `[z, y, x]`. The voxel
#   `[k, j, i]` sits at the **position** $\vec r = (x, y, z) = (i - n_x/\!/2,\ j -
#   n_y/\!/2,\ k - n_z/\!/2)$ — in voxels, relative to the centre voxel `[nz//2, ny//2,
#   nx//2]` (`//` is integer division; even and odd sizes alike).
# * Positions, atom coordinates, shifts and vectors are **xyz**, in that order, never
#   zyx. A **vector field** is an array `(nz, ny, nx, 3)` whose last axis holds
#   $(v_x, v_y, v_z)$.
# * Rotations are *active* matrices that left-multiply column vectors of xyz coordinates.
#   The volume $V$ **rotated by $R$** about its centre is $(R\cdot V)(\vec r) =
#   V(R^\mathsf{T}\vec r)$: what was at $\vec r$ is now at $R\vec r$.
# * **Shifting** a volume by an integer xyz vector $\vec t$ moves its content by
#   $+\vec t$, circularly (the box wraps around): $(S_{\vec t}V)[\vec p] = V[\vec p -
#   \vec t]$ — the given `shift_volume`.
# * A map $B$ is aligned to $A$ by the transform $(R, \vec t)$ when $B \approx
#   S_{\vec t}(R\cdot A)$: rotate about the centre, then shift.
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you
# work, or press **Validate** in the toolbar (see *Before you submit*). When you submit, the
# grader runs your notebook in a sandbox, then calls your functions on maps drawn for you —
# other molecules, other sizes, other rotations and shifts — and compares the answers with
# a reference outside your kernel: the searches are graded on the transform they recover
# *and* on their scores. Points per part are the fraction of those cases you get right,
# and the feedback names common mistakes when it recognises them. The short answers of
# Parts G, H and I (questions 1, 4 and 6) are the outcomes of experiments you run with your
# own functions on the maps of those parts' data cells. Those maps come from fixed seeds:
# they are the same for everyone, and so are the right answers, which the grader knows;
# only the *functions* of Parts G–I are called on maps drawn for you. Run the experiments
# once every earlier part passes its visible tests. Keep the function names and
# signatures; add cells of your own if you like. Only NumPy is needed (SciPy is not
# available).
#
# **Shapes and types.** Unless a part says otherwise, each function takes **one** volume
# `(nz, ny, nx)` (or one field `(nz, ny, nx, 3)`, one rotation `(3, 3)`) as a NumPy array
# of floats and the grader passes nothing else: extra batch or channel axes are welcome
# but never graded. Where a part says "float" or "integer", any NumPy float or integer
# type will do (a Python `float`, a 0-d array or an `np.float64`; `int64` or `int32`).
#
# **Time.** The grader runs your notebook on one CPU core and allows 30 s per cell, 180 s
# for the whole notebook and 60 s for one part's hidden checks (Part D's run four
# searches of up to about 210 rotations of $14^3$ maps). Loop over rotations if you like,
# but **never over voxels**: every voxel of one rotation must go through `trilinear` in
# one vectorised call. The solution does exactly that — a Python loop over the rotations,
# each rotation's voxels batched — and searches 552 rotations of a $16^3$ map in about a
# second, and the whole notebook runs in about 5 s; batching several rotations at once
# as well is optional. A loop over voxels takes minutes and would time out.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import time

import numpy as np


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: elementary rotations, problem set 5's grid of orientations, random atoms and shifts.
def Rz(a):
    """Active rotation by a (radians) about z: x turns towards y for a > 0."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def Ry(a):
    """Active rotation by a (radians) about y."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def orientation_grid_matrix(step):
    """Baldwin & Penczek's quasi-uniform grid of orientations (problem set 5, Part F) as
    rotation matrices (N, 3, 3): directions on rings a step apart in θ, the azimuth φ stepping
    by about step / sin θ, each with the in-plane angles ψ a step apart.

    Each matrix is an *active* rotation that left-multiplies column xyz vectors, as
    everywhere in this notebook: R = (Rz(φ) Ry(θ) Rz(ψ))ᵀ = Rz(−ψ) Ry(−θ) Rz(−φ), the
    active rotations Rz, Ry given above. (It is the same matrix as SPIDER's A of the
    angles (φ, θ, ψ) — problem set 5, Part D — which SPIDER reads as a rotation of the
    frame; here it is only used as an active rotation, rotate_volume(V, R).) Any grid
    serves the searches: the grader passes its own. step in radians; N is roughly
    8π²/step³, not exactly: 552 at 30°, 176 at 45°, 133 at 48°."""
    n_theta = max(1, round(np.pi / step))
    n_psi = max(1, round(2 * np.pi / step))
    mats = []
    for i in range(n_theta + 1):
        theta = np.pi * i / n_theta
        n_phi = max(1, round(2 * np.pi * np.sin(theta) / step))
        for phi in 2 * np.pi * np.arange(n_phi) / n_phi:
            for psi in 2 * np.pi * np.arange(n_psi) / n_psi:
                mats.append((Rz(phi) @ Ry(theta) @ Rz(psi)).T)
    return np.array(mats)


def random_atoms(n, radius, rng):
    """n atom positions (n, 3), xyz in voxels relative to the centre, uniformly distributed
    in the ball of the given radius."""
    x = rng.normal(size=(n, 3))
    return x * (rng.uniform(0, 1, n) ** (1 / 3) * radius / np.linalg.norm(x, axis=1))[:, None]


def shift_volume(volume, t):
    """(S_t V)[p] = V[p − t], circularly: the content moves by the integer xyz shift t."""
    t = np.asarray(t).astype(int)
    return np.roll(volume, (t[2], t[1], t[0]), axis=(0, 1, 2))


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — Maps of Gaussian atoms ({points} points)
#
# Every map in this problem set is synthetic: atoms drawn as Gaussians at a chosen
# resolution, after UCSF Chimera's `molmap`, simplified. An atom at $\vec x_a$
# contributes $\exp\!\bigl(-\lvert\vec r - \vec x_a\rvert^2 / 2\sigma^2\bigr)$ (peak height
# 1) at **every** voxel position $\vec r$ of the box, with
#
# $$ \sigma = \frac{\text{resolution}}{\pi\sqrt2} \approx 0.225 \times \text{resolution}
# \qquad (\text{Chimera's default } \texttt{sigmaFactor}), $$
#
# and the map is the sum over the atoms:
# $\rho(\vec r) = \sum_a \exp\!\bigl(-\lvert\vec r - \vec x_a\rvert^2/2\sigma^2\bigr)$.
#
# Unlike `molmap`, there is no cutoff (`molmap` drops each Gaussian beyond a few σ) and
# no weighting by element (`molmap` weights each atom by its atomic number): every atom
# has weight 1 and reaches every voxel. Only this simplified map is graded.
#
# `gaussian_map(coords, shape, resolution)`: `coords` `(N, 3)` xyz positions in voxels
# relative to the centre — a NumPy array or a list of lists (the visible test passes a
# list; the grader passes arrays of 1 to 7 atoms, never an empty one) — `shape`
# `(nz, ny, nx)`, `resolution` in voxels → the map, a float array of shape `(nz, ny, nx)`
# indexed `[z, y, x]`.


# %% nbgrader={"grade": false, "grade_id": "gaussian_map", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gaussian_map(coords, shape, resolution):
    """Σ_a exp(−|r − x_a|²/(2σ²)), σ = resolution/(π√2), at every voxel: (nz, ny, nx)."""
    ### BEGIN SOLUTION
    coords = np.asarray(coords, dtype=float).reshape(-1, 3)
    nz, ny, nx = shape
    sigma = resolution / (np.pi * np.sqrt(2))
    z, y, x = np.meshgrid(
        np.arange(nz) - nz // 2, np.arange(ny) - ny // 2, np.arange(nx) - nx // 2, indexing="ij"
    )
    r = np.stack([x, y, z], axis=-1)[..., None, :]  # (nz, ny, nx, 1, 3)
    d2 = np.sum((r - coords) ** 2, axis=-1)  # (nz, ny, nx, N)
    return np.exp(-d2 / (2 * sigma**2)).sum(axis=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gaussian_map", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
v = gaussian_map([[2.0, -1.0, 0.0]], (6, 7, 8), 3.0)
assert v.shape == (6, 7, 8)
assert np.unravel_index(np.argmax(v), v.shape) == (3, 2, 6), (
    "the atom at (x, y, z) = (2, −1, 0) sits at [k, j, i] = [3, 3 − 1, 4 + 2]: x is the last axis"
)
assert np.isclose(v.max(), 1.0), "peak height 1"
sigma = 3.0 / (np.pi * np.sqrt(2))
assert np.isclose(v[3, 2, 7], np.exp(-1 / (2 * sigma**2))), "one voxel further along +x"
one, other = [[0.0, 0.0, 0.0]], [[1.5, 0.5, -2.0]]
both = gaussian_map(one + other, (5, 6, 7), 4.0)
assert np.allclose(both, gaussian_map(one, (5, 6, 7), 4.0) + gaussian_map(other, (5, 6, 7), 4.0))
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — Rotating a volume: trilinear resampling ({points} points)
#
# To try a rotation $R$, the search resamples map $A$ rotated: $(R\cdot A)(\vec r) =
# A(R^\mathsf{T}\vec r)$ at every voxel position $\vec r$. The point $R^\mathsf{T}\vec r$
# is rarely a voxel, so $A$ is interpolated between voxels.
#
# 1. `trilinear(volume, u)`: the volume at continuous **index coordinates**
#    `u` `(..., 3)` $= (u_x, u_y, u_z)$ — $u_x$ runs along the last axis, so at whole
#    numbers `trilinear(V, (i, j, k))` is `V[k, j, i]` — returning `(...)`. Between voxels
#    it is the weighted sum over the 8 corners $\vec c = \lfloor\vec u\rfloor + (d_x, d_y,
#    d_z)$, $d \in \{0, 1\}$, of `V[c_z, c_y, c_x]` with the weights
#    $w_{\vec c} = \prod_{a \in \{x, y, z\}} \bigl(1 - \lvert u_a - c_a\rvert\bigr)$.
#    **The volume is zero outside the box**: a corner with an index below 0 or at or above
#    the axis' length counts as 0. So a point half a voxel outside the box along one axis,
#    its other two coordinates whole numbers, gets half the border voxel's value (in
#    general, the weights of the corners outside simply drop out), and a point a voxel or
#    more outside on any axis gets 0. For one point `u` `(3,)` the result has shape `()`:
#    a Python float, an `np.float64` or a 0-d array are all accepted. The grader passes
#    one volume `(nz, ny, nx)` and points of any batch shape `(..., 3)`.
# 2. `rotate_volume(volume, R)`: the volume rotated by $R$ about its centre, the same shape:
#    at every voxel position $\vec r$ (xyz, relative to the centre), `trilinear` at the
#    index coordinates $\vec u = R^\mathsf{T}\vec r + (n_x/\!/2,\ n_y/\!/2,\ n_z/\!/2)$.
#    With the positions as rows `r` `(..., 3)`, the rows $(R^\mathsf{T}\vec r)^\mathsf{T}$
#    are `r @ R`. The grader passes one volume `(nz, ny, nx)` and one rotation `(3, 3)`.
#    Supporting a trailing channel axis `(nz, ny, nx, C)` in `trilinear`/`rotate_volume`
#    (handy for Part F's vector fields) is up to you and not graded: Part F can equally
#    call `rotate_volume` once per component.


# %% nbgrader={"grade": false, "grade_id": "rotate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def trilinear(volume, u):
    """Trilinear interpolation of volume (nz, ny, nx) at index coordinates u (..., 3) =
    (u_x, u_y, u_z), zero outside the box. → (...)."""
    ### BEGIN SOLUTION
    volume = np.asarray(volume, dtype=float)
    u = np.asarray(u, dtype=float)
    padded = np.pad(volume, 1)  # a layer of zeros: the corners just outside the box exist
    p = u + 1  # index coordinates in the padded volume
    base = np.floor(p).astype(int)
    f = p - base
    inside = np.all((base >= 0) & (base <= np.array(volume.shape[::-1])), axis=-1)
    base = np.where(inside[..., None], base, 0)  # a voxel or more outside: 0, below
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    out = np.zeros(u.shape[:-1])
    for dz, wz in ((0, 1 - fz), (1, fz)):
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                corner = padded[base[..., 2] + dz, base[..., 1] + dy, base[..., 0] + dx]
                out += wz * wy * wx * corner
    return np.where(inside, out, 0.0)
    ### END SOLUTION


def rotate_volume(volume, R):
    """(R·V)(r) = V(Rᵀ r) at every voxel, trilinear, zero outside: (nz, ny, nx) → same."""
    ### BEGIN SOLUTION
    volume = np.asarray(volume, dtype=float)
    nz, ny, nx = volume.shape
    z, y, x = np.meshgrid(
        np.arange(nz) - nz // 2, np.arange(ny) - ny // 2, np.arange(nx) - nx // 2, indexing="ij"
    )
    r = np.stack([x, y, z], axis=-1).astype(float)
    u = r @ np.asarray(R, dtype=float) + np.array([nx // 2, ny // 2, nz // 2])
    return trilinear(volume, u)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rotate", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
ones = np.ones((4, 5, 6))
v = np.arange(120.0).reshape(4, 5, 6)
assert np.isclose(trilinear(v, [2.0, 1.0, 3.0]), v[3, 1, 2]), (
    "u = (u_x, u_y, u_z) reads V[u_z, u_y, u_x]"
)
assert np.ndim(trilinear(v, [2.0, 1.0, 3.0])) == 0, "one point (3,) → shape (): a float"
assert np.isclose(trilinear(v, [2.5, 1.0, 3.0]), (v[3, 1, 2] + v[3, 1, 3]) / 2), "halfway along x"
assert np.isclose(trilinear(ones, [-0.25, 2.0, 1.0]), 0.75), "a corner outside the box counts as 0"
assert np.isclose(trilinear(ones, [5.5, 2.0, 1.0]), 0.5), "half a voxel past the last one"
assert np.isclose(trilinear(ones, [-1.5, 2.0, 1.0]), 0.0), "more than a voxel outside: 0"
assert trilinear(ones, np.zeros((7, 2, 3))).shape == (7, 2)
rng = np.random.default_rng(1)
cube = rng.normal(size=(9, 9, 9))
assert np.allclose(rotate_volume(cube, np.eye(3)), cube)
# +90° about z: out(x, y, z) = V(Rᵀ(x, y, z)) = V(y, −x, z), so out[k, j, i] = V[k, 8 − i, j]
assert np.allclose(rotate_volume(cube, Rz(np.pi / 2)), cube[:, ::-1, :].transpose(0, 2, 1)), (
    "rotating by R samples V at Rᵀ r (x, y, z as positions, about the centre voxel)"
)
# a map of atoms, rotated, is the map of the rotated atoms (up to the interpolation's error)
atoms = random_atoms(10, 4.0, rng)
R = orientation_grid_matrix(np.deg2rad(30.0))[100]
rotated = rotate_volume(gaussian_map(atoms, (16, 16, 16), 6.0), R)
exact = gaussian_map(atoms @ R.T, (16, 16, 16), 6.0)
error = np.linalg.norm(rotated - exact) / np.linalg.norm(exact)
print(f"trilinear resampling: relative error {error:.3f} against the map of the rotated atoms")
assert error < 0.12
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_09", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — Every shift at once: cross-correlation by FFT ({points} points)
#
# For one rotation, VESPER scores every translation of one map against the other with a few
# FFTs. For volumes $A$ and $B$ of the same shape, the cross-correlation at the integer
# shift $\vec t$ is
#
# $$ C[\vec t] = \sum_{\vec p} A[\vec p]\, B[\vec p + \vec t], $$
#
# with indices modulo the shape (circular, as `shift_volume`). By the cross-correlation
# theorem all of $C$ is one product in Fourier space,
# $C = \mathrm{DFT}^{-1}\bigl(\overline{\mathrm{DFT}\,A}\cdot\mathrm{DFT}\,B\bigr)$ — $O(n\log
# n)$ for the $n$ shifts instead of $O(n^2)$. If $B = S_{\vec t_0}A$ ($A$ moved by
# $\vec t_0$), $C$ peaks at $\vec t = \vec t_0$. (Conjugate the other factor and you get
# $C[-\vec t]$.)
#
# 1. `translation_scores(a, b)`: $C$, a real float array of the inputs' shape indexed
#    `[t_z, t_y, t_x]` with negative shifts wrapped ($t \bmod n$) — the layout `np.fft`
#    gives you. `a` and `b` are two volumes `(nz, ny, nx)` of the same shape (no batch
#    axes are graded).
# 2. `peak_shift(scores)`: the xyz shift $(t_x, t_y, t_z)$ of the maximum of **one** such
#    array `(nz, ny, nx)`, as an integer array `(3,)` (any integer dtype), each component
#    wrapped into $-(n/\!/2) \le t \le (n - 1)/\!/2$ with $n$ the length of its axis: an
#    index $m > (n-1)/\!/2$ is the shift $m - n$. **Ties**: the grader's arrays have a
#    single maximum, so what you do with several equal maxima is not graded; the
#    solution takes the first in C order (`np.argmax` on the flattened array).
#
# The sign convention, once for all: if $B = S_{\vec t_0}A$, then
# `peak_shift(translation_scores(A, B))` is $+\vec t_0$, the shift that moves $A$ onto
# $B$.


# %% nbgrader={"grade": false, "grade_id": "translation", "locked": false, "schema_version": 3, "solution": true, "task": false}
def translation_scores(a, b):
    """C[t] = Σ_p a[p] b[p + t] at every circular shift, indexed [t_z, t_y, t_x]."""
    ### BEGIN SOLUTION
    return np.fft.ifftn(np.conj(np.fft.fftn(a)) * np.fft.fftn(b)).real
    ### END SOLUTION


def peak_shift(scores):
    """The xyz shift (3,) int of the maximum, each component in [−(n//2), (n − 1)//2]."""
    ### BEGIN SOLUTION
    scores = np.asarray(scores)
    m = np.array(np.unravel_index(np.argmax(scores), scores.shape))
    n = np.array(scores.shape)
    t = np.where(m > (n - 1) // 2, m - n, m)
    return t[::-1].astype(int)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_translation", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
rng = np.random.default_rng(2)
a, b = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))
brute = np.zeros((3, 4, 5))
for tz in range(3):
    for ty in range(4):
        for tx in range(5):
            brute[tz, ty, tx] = np.sum(a * np.roll(b, (-tz, -ty, -tx), axis=(0, 1, 2)))
assert np.allclose(translation_scores(a, b), brute), (
    "C[t] = Σ a[p] b[p + t], indexed [t_z, t_y, t_x]"
)
c = np.zeros((4, 5, 6))
c[3, 0, 5] = 1.0
assert list(peak_shift(c)) == [-1, 0, -1], "xyz order, wrapped: index 5 of 6 is the shift −1"
assert np.shape(peak_shift(c)) == (3,) and np.issubdtype(
    np.asarray(peak_shift(c)).dtype, np.integer
)
c = np.zeros((4, 5, 6))
c[2, 2, 3] = 1.0
assert list(peak_shift(c)) == [-3, 2, -2], "x: 3 > 2 → −3; y: 2 ≤ 2 → 2; z: 2 > 1 → −2"
m, t = rng.normal(size=(10, 12, 14)), np.array([3, -5, 4])
assert list(peak_shift(translation_scores(m, shift_volume(m, t)))) == [3, -5, 4]
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_12", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — An exhaustive rotational search ({points} points)
#
# VESPER samples the rotations every 30° (its default) and, for each, scans all the
# translations by FFT. The grid here is problem set 5's, `orientation_grid_matrix(step)`
# (given; 552 rotations at 30°). You may paste your own from problem set 5 in a cell of your
# own instead: the grader passes its own grids to your functions, so any grid serves.
#
# `rotational_search(a, b, rotations)`: for each $R_i$ of `rotations`, a NumPy array
# `(N, 3, 3)` (the grader passes only that: no single `(3, 3)`, no list), the
# scores $C_i$ = `translation_scores(rotate_volume(a, R_i), b)` of every shift; return the
# pair `(scores, shifts)`: `scores` `(N,)` with `scores[i]` $= \max C_i$, and `shifts`
# `(N, 3)` integers (any integer dtype) with `shifts[i]` = `peak_shift(C_i)`, both NumPy
# arrays; `a` is the map that is rotated, `b` the one that stays. The recovered transform is
# $(R_i, \vec t_i)$ for $i$ = `argmax(scores)`, and then $B \approx S_{\vec t_i}(R_i\cdot
# A)$. (The DFT of $B$ is the same for every rotation: compute it once.)
#
# The visible test searches the maps below: `map_a` is a molecule of 14 atoms, `map_b` the
# same molecule rotated by one of the grid's rotations, shifted, with noise added.

# %% nbgrader={"grade": false, "grade_id": "data_search", "locked": true, "schema_version": 3, "solution": false, "task": false}
SHAPE, RESOLUTION = (16, 16, 16), 4.0
GRID = orientation_grid_matrix(np.deg2rad(30.0))
rng = np.random.default_rng(2022)
atoms = random_atoms(14, 4.5, rng)
TRUE_INDEX, TRUE_SHIFT = 321, np.array([2, -1, 1])
map_a = gaussian_map(atoms, SHAPE, RESOLUTION)
map_b = gaussian_map(atoms @ GRID[TRUE_INDEX].T + TRUE_SHIFT, SHAPE, RESOLUTION)
map_b = map_b + rng.normal(scale=0.1, size=SHAPE)


# %% nbgrader={"grade": false, "grade_id": "search", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rotational_search(a, b, rotations):
    """(scores (N,), shifts (N, 3) int): the best CC of each rotation of a against b."""
    ### BEGIN SOLUTION
    fb = np.fft.rfftn(b)
    scores = np.empty(len(rotations))
    shifts = np.empty((len(rotations), 3), dtype=int)
    for i, R in enumerate(rotations):
        c = np.fft.irfftn(
            np.conj(np.fft.rfftn(rotate_volume(a, R))) * fb, s=b.shape, axes=(0, 1, 2)
        )
        scores[i] = c.max()
        shifts[i] = peak_shift(c)
    return scores, shifts
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_search", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
start = time.perf_counter()
scores, shifts = rotational_search(map_a, map_b, GRID)
print(f"{len(GRID)} rotations searched in {time.perf_counter() - start:.2f} s")
assert scores.shape == (len(GRID),) and shifts.shape == (len(GRID), 3)
assert np.issubdtype(np.asarray(shifts).dtype, np.integer), "integer shifts"
best = int(np.argmax(scores))
print(f"best: rotation {best}, shift {shifts[best]}; the truth: {TRUE_INDEX}, {TRUE_SHIFT}")
assert best == TRUE_INDEX and list(shifts[best]) == list(TRUE_SHIFT)
assert np.isclose(scores[7], translation_scores(rotate_volume(map_a, GRID[7]), map_b).max())
print("Part D: visible tests passed (the grader searches other maps, with other grids)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_15", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — Local density vectors: VESPER's mean shift ({points} points)
#
# VESPER replaces each map by vectors. For a voxel $\vec p$ whose density exceeds the
# contour level (the `threshold`), the mean-shift algorithm would move $\vec p$ to the
# kernel-weighted mean position of the density around it; VESPER keeps the direction of that
# step, a unit vector pointing towards the local density peak. With $\rho_+$ the density
# with every value $\le$ `threshold` set to 0, and the Gaussian kernel $K(\vec d) =
# \exp(-\lvert\vec d\rvert^2/2s^2)$ of width $s$ = `sigma` voxels,
#
# $$ \vec m(\vec p) = \sum_{\vec q} \rho_+(\vec q)\, K(\vec q - \vec p)\, (\vec q - \vec p),
# \qquad \vec v(\vec p) = \frac{\vec m(\vec p)}{\lvert\vec m(\vec p)\rvert}, $$
#
# the sum running over every voxel $\vec q$ of the box (no wrap-around: here the box does
# not repeat), $\vec q - \vec p$ in xyz. $\vec v(\vec p) = \vec 0$ where $\rho(\vec p) \le$
# `threshold` (and where $\vec m = \vec 0$). ($\vec m / \sum_q \rho_+K$ is the mean-shift
# step itself; and $\vec m = s^2\,\nabla(\rho_+ * K)$, so $\vec v$ points up the gradient of
# the smoothed density.) **A simplification of VESPER**: VESPER cuts its kernel off at a
# window around $\vec p$; here the Gaussian runs over the whole box, without cutoff and
# without wrap-around, and only this version is graded.
#
# `density_vectors(volume, threshold, sigma)`: **one** volume `(nz, ny, nx)` →
# `(nz, ny, nx, 3)`, the last axis $(v_x, v_y, v_z)$ (no batch axes are graded).
#
# * **Thresholds** are positive throughout (the grader passes only thresholds $> 0$), so
#   $\rho_+ \ge 0$; negative thresholds are not graded.
# * **Where $\vec m$ is (almost) zero.** The solution sets $\vec v = \vec 0$ only where
#   $\vec m$ is exactly $\vec 0$ and divides everywhere else. But where $\lvert\vec m\rvert$
#   is tiny — at a voxel that is a centre of symmetry of the density, an atom sitting
#   exactly on a voxel, say, where $\lvert\vec m\rvert \approx 10^{-17}$ — its direction is
#   rounding noise. So the grader does **not** grade the voxels where
#   $\lvert\vec m\rvert < 10^{-8}\max\lvert\vec m\rvert$ (the largest over the map):
#   there any vector, unit or zero, is accepted. Treating $\lvert\vec m\rvert \le
#   10^{-12}\max\lvert\vec m\rvert$ as zero, for instance, is fine. Everywhere else $\vec v$
#   must be the unit vector within $10^{-7}$.
#
# Make it fast: the kernel factorises, $K(\vec d)\,d_x = [g(d_x)\,d_x]\,g(d_y)\,g(d_z)$ with
# $g(d) = e^{-d^2/2s^2}$, so each component of $\vec m$ is $\rho_+$ multiplied along each of
# its three axes by an $n\times n$ matrix — $G[i, i'] = g(i' - i)$, or $D[i, i'] = (i' -
# i)\,g(i' - i)$ along the axis of the component (`np.einsum` does the three products at
# once; pass it `optimize=True`). Summing over all pairs of voxels directly also works, but a $16^3$ map has 16
# million pairs.


# %% nbgrader={"grade": false, "grade_id": "vectors", "locked": false, "schema_version": 3, "solution": true, "task": false}
def density_vectors(volume, threshold, sigma):
    """Unit mean-shift vectors m/|m| where volume > threshold, else 0: (nz, ny, nx, 3)."""
    ### BEGIN SOLUTION
    volume = np.asarray(volume, dtype=float)
    rho = np.where(volume > threshold, volume, 0.0)

    def matrices(n):
        d = np.arange(n)[None, :] - np.arange(n)[:, None]  # d[i, i'] = i' − i
        g = np.exp(-(d**2) / (2 * sigma**2))
        return g, d * g

    (gz, dz), (gy, dy), (gx, dx) = (matrices(n) for n in volume.shape)
    m = np.stack(
        [
            np.einsum("ka,jb,ic,abc->kji", gz, gy, dx, rho, optimize=True),
            np.einsum("ka,jb,ic,abc->kji", gz, dy, gx, rho, optimize=True),
            np.einsum("ka,jb,ic,abc->kji", dz, gy, gx, rho, optimize=True),
        ],
        axis=-1,
    )
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    keep = (volume > threshold)[..., None] & (norm > 0)
    return np.where(keep, m / np.where(norm > 0, norm, 1.0), 0.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_vectors", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
z, y, x = np.meshgrid(np.arange(9) - 4, np.arange(10) - 5, np.arange(11) - 5, indexing="ij")
pos = np.stack([x, y, z], axis=-1)  # xyz positions of the voxels of a (9, 10, 11) box
atom = np.array([0.3, -0.6, 0.2])
rho = gaussian_map([atom], (9, 10, 11), 5.0)
v = density_vectors(rho, 0.1, 1.5)
assert v.shape == (9, 10, 11, 3)
above = rho > 0.1
assert np.allclose(np.linalg.norm(v[above], axis=-1), 1.0) and np.all(v[~above] == 0)
assert np.all(np.sum(v * (atom - pos), axis=-1)[above] > 0), "v points towards the atom (xyz)"
# one voxel, summed directly
rho = gaussian_map(random_atoms(6, 3.0, np.random.default_rng(5)), (9, 10, 11), 4.0)
plus = np.where(rho > 0.2, rho, 0.0)
p = tuple(np.argwhere((rho > 0.2) & (rho < 0.5 * rho.max()))[0])
d = pos - pos[p]
m = np.einsum("kji,kjic->c", plus * np.exp(-np.sum(d**2, axis=-1) / (2 * 1.5**2)), d)
assert np.allclose(density_vectors(rho, 0.2, 1.5)[p], m / np.linalg.norm(m))
# an atom exactly on the centre voxel of a symmetric box: m ≈ 0 there, any vector (or 0) is fine
rho = gaussian_map([[0.0, 0.0, 0.0]], (7, 7, 7), 4.0)
lengths = np.linalg.norm(density_vectors(rho, 0.1, 1.5), axis=-1)
assert np.all(np.isfinite(lengths)), "no NaN where m = 0 (or nearly)"
above = rho > 0.1
above[3, 3, 3] = False
assert np.allclose(lengths[above], 1.0), "unit vectors at the other voxels above the threshold"
assert np.isclose(lengths[3, 3, 3], 0.0) or np.isclose(lengths[3, 3, 3], 1.0)
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_18", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — The DOT score, at every shift and every rotation ({points} points)
#
# VESPER scores an alignment by the **DOT score**, the sum over the voxels of the dot
# products of matched vectors:
#
# $$ \mathrm{DOT}[\vec t] = \sum_{\vec p} \vec v_A(\vec p)\cdot\vec v_B(\vec p + \vec t)
# = \sum_{k \in \{x, y, z\}} C\bigl[v_{A,k};\ v_{B,k}\bigr][\vec t], $$
#
# three cross-correlations (Part C), one per component: every shift is scored at once
# again. A rotated vector field moves **and turns**:
#
# $$ (R\cdot\vec v)(\vec r) = R\,\vec v(R^\mathsf{T}\vec r) $$
#
# — interpolate each component at $R^\mathsf{T}\vec r$ (`rotate_volume`), then rotate the
# vectors by $R$ (as rows: `field @ R.T`). Do not renormalise the interpolated vectors.
#
# 1. `rotate_vector_field(field, R)`: `(nz, ny, nx, 3)` → the same shape.
# 2. `dot_translation_scores(va, vb)`: the DOT score at every shift, `(nz, ny, nx)`, indexed
#    like `translation_scores`.
# 3. `rotational_search_dot(va, vb, rotations)`: Part D's search with the DOT score —
#    `(scores, shifts)` for the fields of $A$ and $B$: `va` is the one rotated, `vb` stays,
#    so that $B \approx S_{\vec t_i}(R_i\cdot A)$ as in Part D. `rotations` `(N, 3, 3)`,
#    `scores` `(N,)` floats, `shifts` `(N, 3)` integers, as in Part D.
#
# The visible test searches Part D's maps again, through their vectors at the contour
# level `THRESHOLD` with the kernel width `SIGMA` below, over every third rotation of `GRID`
# (`GRID_F`, 184 rotations; the true one is among them, at `TRUE_INDEX // 3`).

# %% nbgrader={"grade": false, "grade_id": "data_dot", "locked": true, "schema_version": 3, "solution": false, "task": false}
THRESHOLD, SIGMA = 0.3, 1.5
GRID_F = GRID[::3]  # 321 = 3 × 107: the true rotation is GRID_F[107]


# %% nbgrader={"grade": false, "grade_id": "dot", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rotate_vector_field(field, R):
    """(R·v)(r) = R v(Rᵀ r): components interpolated, then turned. (nz, ny, nx, 3) → same."""
    ### BEGIN SOLUTION
    field = np.asarray(field, dtype=float)
    moved = np.stack([rotate_volume(field[..., k], R) for k in range(3)], axis=-1)
    return moved @ np.asarray(R, dtype=float).T
    ### END SOLUTION


def dot_translation_scores(va, vb):
    """DOT[t] = Σ_p va[p] · vb[p + t] at every circular shift: (nz, ny, nx)."""
    ### BEGIN SOLUTION
    return sum(translation_scores(va[..., k], vb[..., k]) for k in range(3))
    ### END SOLUTION


def rotational_search_dot(va, vb, rotations):
    """(scores (N,), shifts (N, 3) int): the best DOT score of each rotation of va."""
    ### BEGIN SOLUTION
    fb = np.fft.rfftn(vb, axes=(0, 1, 2))
    scores = np.empty(len(rotations))
    shifts = np.empty((len(rotations), 3), dtype=int)
    for i, R in enumerate(rotations):
        fa = np.fft.rfftn(rotate_vector_field(va, R), axes=(0, 1, 2))
        d = np.fft.irfftn(np.sum(np.conj(fa) * fb, axis=-1), s=vb.shape[:3], axes=(0, 1, 2))
        scores[i] = d.max()
        shifts[i] = peak_shift(d)
    return scores, shifts
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dot", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
f = np.zeros((9, 9, 9, 3))
f[..., 0] = 1.0  # every vector along +x
turned = rotate_vector_field(f, Rz(np.pi / 2))
assert np.allclose(turned[2:-2, 2:-2, 2:-2], [0.0, 1.0, 0.0]), "+90° about z turns +x into +y"
va = density_vectors(map_a, THRESHOLD, SIGMA)
vb = density_vectors(map_b, THRESHOLD, SIGMA)
n_vectors = int(np.sum(np.linalg.norm(va, axis=-1) > 0))
assert np.isclose(dot_translation_scores(va, va)[0, 0, 0], n_vectors), "DOT of a field with itself"
assert list(peak_shift(dot_translation_scores(va, shift_volume(va, [1, 2, -3])))) == [1, 2, -3]
start = time.perf_counter()
dot_scores, dot_shifts = rotational_search_dot(va, vb, GRID_F)
print(f"DOT search of {len(GRID_F)} rotations in {time.perf_counter() - start:.2f} s")
best = int(np.argmax(dot_scores))
print(f"best: rotation {best}, shift {dot_shifts[best]}, DOT {dot_scores[best]:.1f} of {n_vectors}")
assert best == TRUE_INDEX // 3 and list(dot_shifts[best]) == list(TRUE_SHIFT)
print("Part F: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_22", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — Z-scores (question 1) ({points} points)
#
# > *1. Consider Figure 1 and the Z-score results. When aligning two different maps, and
# > getting DOT scores, how would one re-scale to a Z-score? And to what end?*
#
# A search gives one best score per rotation, $s_i$ = `scores[i]`. VESPER rescales the best
# of them against all of them: $z = (s - \bar s)/\mathrm{sd}(s)$, how many standard
# deviations the best alignment stands above the alignments tried (its program prints this
# `zsco`). The functions below return the Z-score of **every** score, an array `(N,)`; the
# best alignment's Z-score is its largest element. For ranking the maps of a database it uses a *normalised* Z-score (its
# `cluster_score.py`): the mean and standard deviation come from the **largest cluster** of
# the $s_i$ under single-linkage clustering at the distance $\text{cutoff}\times(\max s -
# \min s)$, cutoff 0.2 — so that a few high scores (the right answer and its neighbours)
# do not inflate the spread. In one dimension single linkage is simple: sort the scores; a
# gap between neighbours **larger** than the distance separates two clusters (a gap equal
# to it does not, compared exactly, without tolerance). The **largest** cluster is the one
# holding the most scores; if two clusters are equally large, take the one with the lower
# scores. Standard deviations are the population's (`np.std`, `ddof=0`).
#
# **What is graded.** `scores` is a 1-d float array `(N,)`, $N \ge 2$. The grader's scores
# are continuous random numbers with a spread: no gap equals the distance exactly, no two
# clusters are equally large, and neither the scores nor the largest cluster are all
# equal. So these degenerate cases are **not graded**: a gap exactly equal to the
# distance, a tie in size, and a zero standard deviation (all scores equal, or a largest
# cluster of one score or of equal scores) — return what you like there (`nan`, `inf`, or
# raise). The rules above are the solution's, stated so that the function is defined.
#
# 1. `z_scores(scores)`: $(s_i - \bar s)/\mathrm{sd}(s)$ for every score, `(N,)` → `(N,)`.
# 2. `vesper_z_scores(scores, cutoff=0.2)`: $(s_i - \mu)/\sigma$ with $\mu, \sigma$ the
#    mean and standard deviation of the largest cluster, `(N,)` → `(N,)`.
# 3. **To what end?** Below are two pairs of maps: the *true* pair, a small molecule (10
#    atoms) and a rotated, shifted, noisy copy of it; and the *decoy* pair, two different
#    large molecules (40 atoms each). Search both with the DOT score over `GRID_48`, the
#    grid at 48°: `rotational_search_dot(va, vb, GRID_48)` with `va`, `vb` the
#    `density_vectors` of the first and the second map of the pair (the first is the one
#    rotated, as in Part F), at Part F's `THRESHOLD` and `SIGMA`; the maps are drawn with
#    Part D's `SHAPE` and `RESOLUTION`. The noise (0.1) puts a few voxels of noise above
#    the threshold, and they get vectors too: that is part of the experiment. Which pair
#    has the higher best raw DOT score ($\max_i s_i$), and which the higher best Z-score —
#    the largest of `z_scores(scores)`, the plain Z-score (the normalised one gives the
#    same answer on these maps)? Answer `"true"` or `"decoy"` in `Q1_HIGHER_RAW` and
#    `Q1_HIGHER_Z`. (Rotating the second map instead changes the scores — the true pair's
#    rotation is on the grid only one way round — but not the answers.)

# %% nbgrader={"grade": false, "grade_id": "data_zscores", "locked": true, "schema_version": 3, "solution": false, "task": false}
GRID_48 = orientation_grid_matrix(np.deg2rad(48.0))  # 133 rotations: two searches here
rng = np.random.default_rng(21)
small = random_atoms(10, 3.5, rng)
small_moved = small @ GRID_48[77].T + np.array([1, 0, -1])
pair_true = (
    gaussian_map(small, SHAPE, RESOLUTION),
    gaussian_map(small_moved, SHAPE, RESOLUTION) + rng.normal(scale=0.1, size=SHAPE),
)
pair_decoy = tuple(
    gaussian_map(random_atoms(40, 5.5, rng), SHAPE, RESOLUTION) + rng.normal(scale=0.1, size=SHAPE)
    for _ in range(2)
)


# %% nbgrader={"grade": false, "grade_id": "zscores", "locked": false, "schema_version": 3, "solution": true, "task": false}
def z_scores(scores):
    """(s − mean s)/std s for every score (population std): (N,) → (N,)."""
    ### BEGIN SOLUTION
    s = np.asarray(scores, dtype=float)
    return (s - s.mean()) / s.std()
    ### END SOLUTION


def vesper_z_scores(scores, cutoff=0.2):
    """(s − μ)/σ, μ and σ of the largest single-linkage cluster at cutoff·(max − min)."""
    ### BEGIN SOLUTION
    s = np.asarray(scores, dtype=float)
    order = np.argsort(s)
    split = np.diff(s[order]) > cutoff * (s.max() - s.min())
    labels = np.empty(len(s), dtype=int)
    labels[order] = np.concatenate([[0], np.cumsum(split)])
    largest = np.argmax(np.bincount(labels))  # the first (lowest scores) of equal sizes
    cluster = s[labels == largest]
    return (s - cluster.mean()) / cluster.std()
    ### END SOLUTION


Q1_HIGHER_RAW = None  # "true" or "decoy"
Q1_HIGHER_Z = None
### BEGIN SOLUTION
best_raw, best_z = {}, {}
for name, (ma, mb) in (("true", pair_true), ("decoy", pair_decoy)):
    s, _ = rotational_search_dot(
        density_vectors(ma, THRESHOLD, SIGMA), density_vectors(mb, THRESHOLD, SIGMA), GRID_48
    )
    best_raw[name], best_z[name] = s.max(), z_scores(s).max()
    print(
        f"{name}: best DOT {s.max():.1f}, Z {z_scores(s).max():.2f}, "
        f"normalised Z {vesper_z_scores(s).max():.2f}"
    )
Q1_HIGHER_RAW = max(best_raw, key=lambda k: best_raw[k])
Q1_HIGHER_Z = max(best_z, key=lambda k: best_z[k])
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_zscores", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
s = np.array([3.0, 1.0, 2.0, 6.0])
assert np.allclose(z_scores(s), (s - 3.0) / np.sqrt(3.5)), "population standard deviation"
assert np.allclose(z_scores(10 * s + 7), z_scores(s)), "a Z-score has no units"
# clusters at 0.2 × 8 = 1.6: {1, 1.2, 1.5, 2}, {5, 5.2}, {9}
s = np.array([5.0, 1.0, 1.5, 9.0, 2.0, 5.2, 1.2])
cluster = np.array([1.0, 1.5, 2.0, 1.2])
assert np.allclose(vesper_z_scores(s), (s - cluster.mean()) / cluster.std())
assert np.shape(vesper_z_scores(s)) == (7,), "a Z-score for every score"
assert np.allclose(vesper_z_scores(s, 0.5), z_scores(s)), "one cluster: the plain Z-score"
assert Q1_HIGHER_RAW in ("true", "decoy") and Q1_HIGHER_Z in ("true", "decoy")
print("Part G: visible tests passed (the answers are checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_26", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part H — Hollow maps (question 4) ({points} points)
#
# > *4. Figure 2i (and the text of the last paragraph of p. 4) shows a case where VESPER did
# > not perform well: two different proteins were predicted to be close in shape, “because
# > they have an overall similar shape and also because these maps are largely hollow
# > inside, and thus inconsistency inside the maps were not much penalized”. Relate this to
# > the DOT score. What other approaches would not suffer from this?*
#
# Take a hollow map $H$ — atoms on a spherical shell — and a filled map $F$: the same shell
# with a compact core of atoms inside. They are different "proteins" with the same
# envelope: $F$ has density in the interior where $H$ has none. How similar does each score
# find them? Compare three numbers, all at zero shift, with the `density_vectors` of both
# maps at the **same** threshold and sigma — one absolute contour level for both maps, as
# when two maps on the same scale are compared (below, `HOLLOW_THRESHOLD`, 30 % of $H$'s
# maximum, is used for $F$ too; the grader likewise passes one threshold for both):
#
# * the **DOT ratio** $\mathrm{DOT}(H, F) / \mathrm{DOT}(H, H)$ — VESPER's raw score of
#   the pair, against the score of $H$ with itself;
# * the **normalised DOT** $\mathrm{DOT}(H, F) / \sqrt{\mathrm{DOT}(H, H)\,\mathrm{DOT}(F,
#   F)}$ — the cosine between the two vector fields, each read as one long vector of
#   $3 n_z n_y n_x$ numbers ($\mathrm{DOT}(A, A)$ is then the squared length of that long
#   vector, which is the number of nonzero vectors of $A$ because each is a unit vector);
# * **Pearson**'s correlation coefficient of the densities over the whole box,
#   $\sum_{\vec p}(H - \bar H)(F - \bar F) / \sqrt{\sum(H - \bar H)^2\sum(F - \bar F)^2}$.
#
# Each is 1 for $F = H$.
#
# 1. `hollow_scores(h, f, threshold, sigma)`: the tuple `(dot_ratio, normalised_dot,
#    pearson)` of three floats (Python or NumPy floats), here $\mathrm{DOT}(A, B) =
#    \sum_{\vec p}\vec v_A(\vec p)\cdot\vec v_B(\vec p)$. The grader passes maps with
#    density above the threshold in both (and neither of them constant), so no ratio is
#    $0/0$; a map with no vector at all is not graded.
# 2. Run it on the maps below. Which of the three is (practically) blind to the filled
#    interior — it finds $F$ as good a match for $H$ as $H$ itself, within $10^{-3}$ of 1
#    on these maps, while the other two are clearly below 1? Answer `"dot_ratio"`,
#    `"normalised_dot"` or `"pearson"` in `Q4_BLIND_TO_INTERIOR`. Then relate it to the DOT
#    score voxel by voxel (what does a voxel with a vector in $F$ and none in $H$ add?), and
#    to the question's "other approaches": the other two numbers are two of them.

# %% nbgrader={"grade": false, "grade_id": "data_hollow", "locked": true, "schema_version": 3, "solution": false, "task": false}
rng = np.random.default_rng(4)
shell = rng.normal(size=(110, 3))
shell *= (rng.uniform(7.0, 8.0, 110) / np.linalg.norm(shell, axis=1))[:, None]
inside = random_atoms(12, 2.0, rng)
hollow = gaussian_map(shell, (20, 20, 20), RESOLUTION)
filled = gaussian_map(np.vstack([shell, inside]), (20, 20, 20), RESOLUTION)
HOLLOW_THRESHOLD = 0.3 * hollow.max()


# %% nbgrader={"grade": false, "grade_id": "hollow", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hollow_scores(h, f, threshold, sigma):
    """(dot_ratio, normalised_dot, pearson) of h against f, at zero shift."""
    ### BEGIN SOLUTION
    h, f = np.asarray(h, dtype=float), np.asarray(f, dtype=float)
    vh, vf = density_vectors(h, threshold, sigma), density_vectors(f, threshold, sigma)
    hf, hh, ff = np.sum(vh * vf), np.sum(vh * vh), np.sum(vf * vf)
    dh, df = h - h.mean(), f - f.mean()
    pearson = np.sum(dh * df) / np.sqrt(np.sum(dh**2) * np.sum(df**2))
    return float(hf / hh), float(hf / np.sqrt(hh * ff)), float(pearson)
    ### END SOLUTION


Q4_BLIND_TO_INTERIOR = None  # "dot_ratio", "normalised_dot" or "pearson"
### BEGIN SOLUTION
three = hollow_scores(hollow, filled, HOLLOW_THRESHOLD, SIGMA)
print(
    "hollow against filled: DOT ratio {:.4f}, normalised DOT {:.4f}, Pearson {:.4f}".format(*three)
)
Q4_BLIND_TO_INTERIOR = ("dot_ratio", "normalised_dot", "pearson")[int(np.argmax(three))]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_hollow", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
found = hollow_scores(hollow, filled, HOLLOW_THRESHOLD, SIGMA)
assert len(found) == 3 and all(np.ndim(x) == 0 for x in found), "three floats"
assert np.allclose(hollow_scores(hollow, hollow, HOLLOW_THRESHOLD, SIGMA), 1.0), "H against itself"
assert all(0 < float(x) <= 1.0 + 1e-9 for x in found[1:]), "the cosine and Pearson are at most 1"
assert Q4_BLIND_TO_INTERIOR in ("dot_ratio", "normalised_dot", "pearson")
print("Part H: visible tests passed (the answer is checked when graded)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_30", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part I — CC against DOT under heterogeneity (question 6) ({points} points)
#
# > *6. In the Discussion, the authors explain intuitively how cross correlation (CC) and
# > their DOT score result in different alignments: “In CC, positions with large absolute
# > density values, such as those in a high-density region in a map, influence more to the
# > overall CC value. On the other hand, for the DOT score the contribution of each aligned
# > position pair is essentially the same because the vectors are normalized to the same
# > length. But this also means that the DOT score can be affected by changes in local
# > gradient caused by small structure variations.” Consider the following cases and think
# > through how the result might be different. (a) Continuous conformational heterogeneity:
# > blurred out flexible region with partial density. (b) Discrete conformational
# > heterogeneity: mixed discrete states in one map vs one of the partners. (c) Hinge-like
# > displacement (local rigid-body transformation of a domain). (d) Two maps ± a domain.*
#
# When two maps disagree in part — a domain that moved (c), or one that is weaker or
# missing in one of them (a, b, d) — no single transform superimposes everything, and the
# score decides which part is superimposed. The experiment below is case (c): map $A$ is a
# large core of low density (30 atoms of weight 0.5) and a small dense domain (4 atoms of
# weight 4); map $B$ is the same with the domain moved by `DOMAIN_SHIFT`. Search the
# translations only (no rotation).
#
# 1. `cc_and_dot_shifts(a, b, threshold, sigma)`: the pair `(cc_shift, dot_shift)` — the
#    `peak_shift` of the `translation_scores` of the two maps, and the `peak_shift` of the
#    `dot_translation_scores` of their `density_vectors` (both at the same `threshold`
#    and `sigma`), each an integer array `(3,)` as `peak_shift` returns it.
# 2. Run it on the maps below. Which part does each score superimpose: answer `"core"` or
#    `"domain"` in `Q6_CC_FOLLOWS` and `Q6_DOT_FOLLOWS`. Read it off the shifts with Part
#    C's sign convention: `peak_shift(translation_scores(a, b))` is the $\vec t$ with
#    $b \approx S_{\vec t}(a)$ for the part that is superimposed (and the same for the DOT
#    score), so a score that superimposes the domain finds `DOMAIN_SHIFT`, and one that
#    superimposes the core, which did not move, finds $(0, 0, 0)$. On these maps each score
#    finds exactly one of the two. Then think through cases (a), (b)
#    and (d) with the same two facts: CC weighs a voxel by its density, DOT counts every
#    voxel above the contour once.

# %% nbgrader={"grade": false, "grade_id": "data_heterogeneity", "locked": true, "schema_version": 3, "solution": false, "task": false}
rng = np.random.default_rng(6)
core = random_atoms(30, 4.0, rng) + np.array([-1.5, 0.0, 0.0])
domain = random_atoms(4, 1.5, rng) + np.array([4.0, 0.0, 0.0])
DOMAIN_SHIFT = np.array([1, -2, 2])
core_map = 0.5 * gaussian_map(core, SHAPE, RESOLUTION)
hinge_a = core_map + 4.0 * gaussian_map(domain, SHAPE, RESOLUTION)
hinge_b = core_map + 4.0 * gaussian_map(domain + DOMAIN_SHIFT, SHAPE, RESOLUTION)
HINGE_THRESHOLD = 0.15


# %% nbgrader={"grade": false, "grade_id": "heterogeneity", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cc_and_dot_shifts(a, b, threshold, sigma):
    """(cc_shift, dot_shift): the xyz shifts (3,) int of the best CC and the best DOT score."""
    ### BEGIN SOLUTION
    cc_shift = peak_shift(translation_scores(a, b))
    va, vb = density_vectors(a, threshold, sigma), density_vectors(b, threshold, sigma)
    return cc_shift, peak_shift(dot_translation_scores(va, vb))
    ### END SOLUTION


Q6_CC_FOLLOWS = None  # "core" or "domain"
Q6_DOT_FOLLOWS = None
### BEGIN SOLUTION
cc_t, dot_t = cc_and_dot_shifts(hinge_a, hinge_b, HINGE_THRESHOLD, SIGMA)
print("CC shift", cc_t, "DOT shift", dot_t, "(the domain moved by", DOMAIN_SHIFT, ")")
Q6_CC_FOLLOWS = "domain" if list(cc_t) == list(DOMAIN_SHIFT) else "core"
Q6_DOT_FOLLOWS = "domain" if list(dot_t) == list(DOMAIN_SHIFT) else "core"
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_heterogeneity", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
cc_shift, dot_shift = cc_and_dot_shifts(hinge_a, hinge_b, HINGE_THRESHOLD, SIGMA)
assert np.shape(cc_shift) == (3,) and np.shape(dot_shift) == (3,)
assert all(np.issubdtype(np.asarray(x).dtype, np.integer) for x in (cc_shift, dot_shift))
same = cc_and_dot_shifts(hinge_a, shift_volume(hinge_a, [2, 0, -1]), HINGE_THRESHOLD, SIGMA)
assert list(same[0]) == [2, 0, -1] and list(same[1]) == [2, 0, -1], "a rigid shift: both find it"
assert Q6_CC_FOLLOWS in ("core", "domain") and Q6_DOT_FOLLOWS in ("core", "domain")
print("Part I: visible tests passed (the answers are checked when graded)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_34", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps07_map_alignment/ps07_map_alignment.ipynb` in your
# home: the folder the book's launch link made. Restart the kernel and run all cells (*Kernel →
# Restart Kernel and Run All Cells…*), save, and press **Validate** in the notebook's toolbar: it
# runs your notebook the way the grader does and reports the visible tests. Then open the
# **Assignments** tab (*Nbgrader → Assignment List*): `ps07_map_alignment` is under
# *Downloaded assignments*; press **Submit**. In a terminal the same is `cd ~/{launch_folder}`, then
# `course check ps07_map_alignment/ps07_map_alignment.ipynb` and
# `course submit ps07_map_alignment`.
