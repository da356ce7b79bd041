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
# # Problem set 4 — A differentiable projection layer
#
# *Study group meetings of Friday 4 March 2022: [End-to-end orientation estimation (Lian et
# al., 2022)]({book_url}/book/meetings/2022-03-04-orientation-estimation.html), and Fridays 18 and 25 March 2022: [cryoAI, part I]({book_url}/book/meetings/2022-03-18-cryoai-1.html) and
# [part II]({book_url}/book/meetings/2022-03-25-cryoai-2.html) (Levy et al., 2022); this problem set's [page in the
# book]({book_url}/book/problem-sets/ps04_projection_layer.html).*
#
# Both papers train a network whose output — an orientation, or a volume — is scored by
# *rendering*: the current volume is projected in the predicted orientation and compared
# with the particle image (Lian et al. §2.7; cryoAI's decoder and its supplementary §C).
# For the gradient to reach the network, the projection must be a differentiable layer:
# differentiable in the volume (to learn it) and in the rotation (to learn poses). You
# build that layer in PyTorch, twice — by brute force in real space, then through the
# Fourier slice theorem, the way cryoAI does — with a hand-written backward pass, wrap it in
# a `torch.nn.Module`, and finally write its inner loop, the gather of a central slice, as
# a Triton kernel. The book's [Fourier slice figure]({book_url}/book/figures/fourier-slice.html) shows the theorem at work.
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html), "Volumes and
# projections"). A volume is a `(D, D, D)` tensor indexed `[z, y, x]`, centred at index
# `D // 2` on every axis (odd and even `D` alike). A rotation is a `(3, 3)` matrix acting on
# `xyz` column vectors; a batch is `(..., 3, 3)`. The projection of `V` under `R` is the
# `(D, D)` image, indexed `[y, x]` and centred at `D // 2`,
#
# $$ P(x, y) = \sum_z V\!\left(R^\mathsf{T} \begin{pmatrix} x\\ y\\ z
# \end{pmatrix}\right): $$
#
# *rotate the object by $R$, then integrate along $z$* — the identity gives `V.sum(0)`.
# Every function takes any batch of rotations `(..., 3, 3)` and returns `(..., D, D)`
# images, computed in the dtype of its inputs (float32 or float64) on their device: create
# tensors with `device=volume.device, dtype=...`, never with `.cuda()`.
#
# **How this is graded.** Each part ends with a cell of *visible tests*; run them, or press
# **Validate** in the toolbar (see *Before you submit*). When you submit, the grader
# runs your notebook in a sandbox (on a CPU, one thread, Triton in its interpreter) and
# calls your functions on small random volumes ($D \le 16$) at random rotations — never
# aligned with the axes, so that $R$ and $R^\mathsf{T}$, a volume and its mirror image,
# `[x, y, z]` and `[z, y, x]` all give different answers. Outside your kernel it compares
# the answers with a reference implementation and with the exact projections of a chiral
# arrangement of Gaussian blobs; it checks your gradients the way
# `torch.autograd.gradcheck` does (finite differences in float64) and your backward pass
# with the dot-product test of an adjoint; and it checks that outputs keep the inputs'
# dtype and device. Points per part are the fraction of cases passed; the feedback names
# common mistakes. Keep the function names and signatures.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
import os
from itertools import product

import torch
import torch.nn.functional as F


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: rotations, the analytic oracle (Gaussian blobs and their exact projections).
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


def random_rotations(n, seed=0, dtype=torch.float64):
    """n uniformly distributed random rotations, shape (n, 3, 3)."""
    q = torch.randn(n, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return quat_to_matrix(q / q.norm(dim=-1, keepdim=True)).to(dtype)


def rotation_about(axis, angle, dtype=torch.float64):
    """The rotation by angle (radians) about the axis "x", "y" or "z"."""
    c, s = math.cos(angle), math.sin(angle)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    R = torch.eye(3, dtype=dtype)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


BLOB_CENTRES = [
    (0.0, 0.0, 0.0),
    (1.0, 0.0, 0.0),
    (0.0, 1.2, 0.0),
    (0.2, 0.3, 1.1),
    (-0.7, -0.6, 0.4),
]
BLOB_WEIGHTS = [1.0, 0.8, 0.6, 1.2, 0.7]


def gaussian_blobs(D, rotations=None, *, sigma=2.0, spread=None, mirror=False, dtype=torch.float64):
    """A chiral arrangement of five 3D Gaussians (standard deviation sigma pixels, centres
    spread over about D / 5 pixels; mirror=True: the other hand) sampled on the (D, D, D)
    grid and, for rotations (..., 3, 3), its exact projections (..., D, D): the integral along
    z of a Gaussian is a 2D Gaussian of weight a·√(2π)·σ centred at (R c)_xy."""
    spread = D / 5 if spread is None else spread
    C = torch.tensor(BLOB_CENTRES, dtype=dtype) * spread
    if mirror:
        C[:, 0] = -C[:, 0]
    A = torch.tensor(BLOB_WEIGHTS, dtype=dtype)
    r = torch.arange(D, dtype=dtype) - D // 2
    z, y, x = torch.meshgrid(r, r, r, indexing="ij")
    d2 = ((torch.stack([x, y, z], -1)[..., None, :] - C) ** 2).sum(-1)
    volume = (A * torch.exp(-d2 / (2 * sigma**2))).sum(-1)
    if rotations is None:
        return volume, None
    RC = torch.einsum("...ij,nj->...ni", rotations.to(dtype), C)[..., None, None, :, :2]
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    d2 = ((torch.stack([xx, yy], -1)[:, :, None, :] - RC) ** 2).sum(-1)
    images = (A * math.sqrt(2 * math.pi) * sigma * torch.exp(-d2 / (2 * sigma**2))).sum(-1)
    return volume, images


def relative_error(a, b):
    """‖a − b‖ / ‖b‖."""
    return (torch.linalg.norm(a - b) / torch.linalg.norm(b)).item()


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — Projection in real space ({points} points)
#
# The definition, computed literally: for every pixel $(x, y)$ and every $z$ in
# $[-D/\!/2,\ D - 1 - D/\!/2]$ take the point $\mathbf p = (x, y, z)$ of the image frame,
# find where it sits in the volume, $R^\mathsf{T}\mathbf p$, read the volume there by
# **trilinear interpolation** (zero outside the grid), and sum along $z$. That is $D^3$
# samples per image — slow for large $D$ and only as accurate as trilinear interpolation,
# but simple and obviously right: it is the oracle the Fourier method is tested against.
#
# `torch.nn.functional.grid_sample` does the interpolation. For a 5-D input
# `(B, C, D, H, W)` and a grid `(B, D_out, H_out, W_out, 3)` it returns
# `(B, C, D_out, H_out, W_out)`; `mode="bilinear"` is trilinear in 5-D, and with
# `align_corners=True` the grid coordinate $-1$ is index $0$ and $+1$ is index $D - 1$,
# so index $i$ is $2i/(D - 1) - 1$. Three traps, each a classic:
#
# * **$R^\mathsf{T}$, not $R$.** Rotating the object by $R$ means that the image-frame
#   point $\mathbf p$ shows the volume at $R^\mathsf{T}\mathbf p$. For rows of points
#   `p` (`(..., 3)`), $R^\mathsf{T}\mathbf p$ is `p @ R`.
# * **`[z, y, x]` against `(x, y, z)`.** The volume is indexed `[z, y, x]` but the last
#   axis of `grid_sample`'s grid holds the coordinates in the order `(x, y, z)` (`x`
#   indexes `W`, the last axis). Mixing them up projects a different object.
# * **The image is `[y, x]`.** A transposed image is the projection of the *mirror
#   image* of the volume: a reconstruction from such images has the wrong hand — the
#   handedness ambiguity of cryoAI's supplementary §D.1, which no image can reveal once
#   the poses are unknown.
#
# Implement `project_real_space(volume, rotations, *, max_points=1 << 22)`. Compute in the
# promoted dtype of `volume` and `rotations` (`torch.promote_types`), on `volume`'s device.
# Memory is $O(BD^3)$: process the rotations in chunks of at most `max_points // D**3`
# (at least one). It must be differentiable in both arguments — `grid_sample` is.


# %% nbgrader={"grade": false, "grade_id": "project_real_space", "locked": false, "schema_version": 3, "solution": true, "task": false}
def project_real_space(volume, rotations, *, max_points=1 << 22):
    """Images (..., D, D) [y, x] of volume (D, D, D) [z, y, x] under rotations (..., 3, 3):
    P(x, y) = Σ_z V(Rᵀ (x, y, z)) by trilinear interpolation (zero outside)."""
    ### BEGIN SOLUTION
    dtype = torch.promote_types(volume.dtype, rotations.dtype)
    volume = volume.to(dtype)
    batch = rotations.shape[:-2]
    R = rotations.reshape(-1, 3, 3).to(device=volume.device, dtype=dtype)
    D = volume.shape[0]
    c = D // 2
    r = torch.arange(D, device=volume.device, dtype=dtype) - c
    zs, ys, xs = torch.meshgrid(r, r, r, indexing="ij")
    points = torch.stack([xs, ys, zs], dim=-1)  # (D, D, D, 3): image-frame (x, y, z)
    chunk = max(1, max_points // D**3)
    images = []
    for start in range(0, R.shape[0], chunk):
        Rc = R[start : start + chunk]
        inside = torch.einsum("zyxi,bij->bzyxj", points, Rc)  # Rᵀ p, still (x, y, z)
        grid = (inside + c) * (2 / (D - 1)) - 1  # index → grid_sample's [-1, 1]
        samples = F.grid_sample(
            volume.expand(Rc.shape[0], 1, D, D, D),
            grid,
            mode="bilinear",
            padding_mode="zeros",
            align_corners=True,
        )
        images.append(samples[:, 0].sum(dim=1))  # integrate along z
    return torch.cat(images).reshape(*batch, D, D)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_project_real_space", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
V = torch.rand(9, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
I = torch.eye(3, dtype=torch.float64)
assert torch.allclose(project_real_space(V, I), V.sum(0)), "the identity projects along z"
quarter_z = project_real_space(V, rotation_about("z", math.pi / 2))
assert torch.allclose(quarter_z, torch.rot90(V.sum(0), -1, (0, 1))), "a quarter turn about z"
quarter_x = project_real_space(V, rotation_about("x", math.pi / 2))
assert torch.allclose(quarter_x, V.sum(1).flip(0)), "about x, it projects along y: [z, y, x]?"
R = random_rotations(4, seed=1)
blobs, exact = gaussian_blobs(15, R, sigma=1.5)
error = relative_error(project_real_space(blobs, R), exact)
print(f"relative error against the exact projections: {error:.4f}")
assert error < 0.05
mirror, _ = gaussian_blobs(15, sigma=1.5, mirror=True)
print(
    f"...and of the mirror image's projections: {relative_error(project_real_space(mirror, R), exact):.2f}"
)
assert project_real_space(blobs, R.reshape(2, 2, 3, 3)).shape == (2, 2, 15, 15)
assert project_real_space(blobs.float(), R.float()).dtype == torch.float32
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — The centred half Fourier volume ({points} points)
#
# The Fourier route needs the volume's transform on a grid of size
# $N = \max(D, \operatorname{round}(\mathrm{pad}\cdot D))$: the volume is zero-padded to
# $N^3$ **centre to centre** (index `D // 2` goes to `N // 2`) and, with $\mathbf r$ the
# position relative to that centre,
#
# $$ \hat V(\mathbf k) = \sum_{\mathbf r} V(\mathbf r)\, e^{-2\pi i\, \mathbf k\cdot\mathbf r / N}. $$
#
# A real volume has $\hat V(-\mathbf k) = \overline{\hat V(\mathbf k)}$ (Friedel
# symmetry), so half of it is enough: the *centred half (rfft) Fourier volume* is the
# complex `(N, N, N // 2 + 1)` tensor `F[kz + N // 2, ky + N // 2, kx]` for
# $k_x \in [0, N/\!/2]$ and $k_y, k_z \in [-N/\!/2, (N-1)/\!/2]$. Steps:
#
# 1. *(optional, `sinc2=True`)* divide the volume by
#    $\operatorname{sinc}^2(x/N)\operatorname{sinc}^2(y/N)\operatorname{sinc}^2(z/N)$,
#    with $x, y, z$ relative to the centre and `torch.sinc` ($\sin\pi t/\pi t$) — Part E
#    explains why;
# 2. pad with `N // 2 - D // 2` zeros before and the rest after, on each axis. Not
#    `(N - D) // 2`: that is one voxel short when $N$ is even and $D$ odd, and shifts the
#    object — a phase ramp across the whole transform;
# 3. `torch.fft.ifftshift` (the centre to index 0, where the FFT wants the origin), then
#    `torch.fft.rfftn` over the three axes, then `torch.fft.fftshift` over `z` and `y`
#    only (zero frequency to `N // 2`; `kx` starts at 0 already). For even $N$ the two
#    shifts are the same permutation; for odd $N$ they are not, and swapping them moves
#    the origin by one voxel on both sides of the transform;
# 4. for even $N$ the **Nyquist planes** $k = -N/2$ (index 0 along `z` and `y`) and
#    $k_x = N/2$ (the last) have no Friedel partner: set them to zero.
#
# Implement `fourier_volume(volume, pad=1.0, *, sinc2=False)` → complex64 for float32
# input, complex128 for float64. Keep it differentiable (no in-place writes into tensors
# autograd needs; multiplying by a mask is simplest).


# %% nbgrader={"grade": false, "grade_id": "fourier_volume", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fourier_volume(volume, pad=1.0, *, sinc2=False):
    """Centred half Fourier volume (N, N, N // 2 + 1) of volume (D, D, D) zero-padded to
    N = max(D, round(pad · D)), centre to centre; Nyquist planes of even N zero."""
    ### BEGIN SOLUTION
    D = volume.shape[0]
    N = max(D, round(pad * D))
    if sinc2:
        r = (torch.arange(D, device=volume.device, dtype=volume.dtype) - D // 2) / N
        s = torch.sinc(r) ** 2
        volume = volume / (s[:, None, None] * s[None, :, None] * s[None, None, :])
    before = N // 2 - D // 2
    padded = F.pad(volume, (before, N - D - before) * 3)
    ft = torch.fft.rfftn(torch.fft.ifftshift(padded), dim=(0, 1, 2))
    ft = torch.fft.fftshift(ft, dim=(0, 1))
    if N % 2 == 0:
        keep = torch.ones(N, N, N // 2 + 1, dtype=torch.bool, device=volume.device)
        keep[0], keep[:, 0], keep[:, :, N // 2] = False, False, False
        ft = ft * keep
    return ft
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fourier_volume", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
delta = torch.zeros(5, 5, 5, dtype=torch.float64)
delta[2, 2, 2] = 1.0
ft = fourier_volume(delta, pad=2.0)  # N = 10
assert ft.shape == (10, 10, 6) and ft.dtype == torch.complex128
assert torch.allclose(ft[1:, 1:, :5], torch.ones(9, 9, 5, dtype=torch.complex128)), "a centred δ"
assert ft[0].abs().max() == 0 and ft[:, 0].abs().max() == 0 and ft[..., 5].abs().max() == 0, (
    "Nyquist"
)
step = torch.zeros(9, 9, 9, dtype=torch.float64)
step[4, 4, 5] = 1.0  # one voxel from the centre along x: the phase e^(-2πi kx / N)
assert torch.allclose(
    fourier_volume(step)[4, 4],
    torch.exp(-2j * math.pi * torch.arange(5.0, dtype=torch.float64) / 9),
)
V = torch.rand(7, 7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
full = torch.fft.fftshift(torch.fft.fftn(torch.fft.ifftshift(V)))
assert torch.allclose(fourier_volume(V), full[..., 3:]), "the half of the full transform"
corrected = fourier_volume(V, 2.0, sinc2=True)
assert corrected[7, 7, 0].real > fourier_volume(V, 2.0)[7, 7, 0].real, (
    "sinc² < 1 away from the centre"
)
assert fourier_volume(V.float(), 1.5).dtype == torch.complex64
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_09", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — Central slices: the forward gather ({points} points)
#
# **The Fourier slice theorem** (the figure in the book; Lian et al. §2.7; cryoAI
# supplementary §C): the 2D transform of the projection is a *central slice* of the 3D
# transform,
#
# $$ \hat P(k_x, k_y) = \hat V\bigl(R^\mathsf{T}(k_x, k_y, 0)^\mathsf{T}\bigr)
#    = \hat V(k_x R_{0,:} + k_y R_{1,:}), $$
#
# the plane through the origin spanned by the first two **rows** of $R$ (libraries that
# sample $\hat V(R\mathbf k)$, such as torch-fourier-slice, need $R^\mathsf{T}$). A slice
# uses the half layout of Part B for $(k_y, k_x)$: `S[ky + N // 2, kx]`, shape
# `(N, N // 2 + 1)`. For every sample:
#
# 1. $\mathbf q = k_x R_{0,:} + k_y R_{1,:}$, in grid units, coordinates $(x, y, z)$;
# 2. **Friedel**: the half volume stores $q_x \ge 0$ only. Where $q_x < 0$, read
#    $-\mathbf q$ instead and take the complex **conjugate** of what you read;
# 3. the (reflected) point sits at the fractional index
#    $(i_x, i_y, i_z) = (q_x,\ q_y + N/\!/2,\ q_z + N/\!/2)$ of `F[iz, iy, ix]`;
# 4. **trilinear interpolation** between its eight neighbours
#    $(\lfloor i_x\rfloor + d_x, \dots)$, $d \in \{0, 1\}$, with weights
#    $w = w_x w_y w_z$, $w_x = 1 - f_x$ or $f_x$ for $d_x = 0$ or $1$ ($f$ the fractional
#    part); a neighbour outside the stored array counts as zero.
#
# Reading the conjugate at $-\mathbf q$ is *exactly* the trilinear interpolation of the
# full Hermitian volume (the eight neighbours of $-\mathbf q$ are the negatives of those of
# $\mathbf q$, with the same weights). Work on all $B \times N \times (N/\!/2 + 1)$
# samples at once — eight vectorised gathers, no Python loop over samples.
#
# The gather becomes a `torch.autograd.Function` so that Part D can give it a hand-written
# backward. Write the helpers `slice_frequencies`, `trilinear_corners`, `corner_weights`
# and `sample_slices` (you reuse the first three in Part D), and the `forward` of
# `ExtractCentralSlices`; `extract_central_slices(volume_ft, rotations)` reshapes the batch
# and calls `ExtractCentralSlices.apply`, with the rotations in the real dtype of
# `volume_ft` (`volume_ft.real.dtype`) on its device.


# %% nbgrader={"grade": false, "grade_id": "extract_central_slices", "locked": false, "schema_version": 3, "solution": true, "task": false}
def slice_frequencies(N, R):
    """q (B, N, N // 2 + 1, 3): the point kx R[0] + ky R[1] (x, y, z, in grid units) of
    every sample S[ky + N // 2, kx] of the slices of the rotations R (B, 3, 3)."""
    ### BEGIN SOLUTION
    ky = torch.arange(N, device=R.device, dtype=R.dtype) - N // 2
    kx = torch.arange(N // 2 + 1, device=R.device, dtype=R.dtype)
    return kx[:, None] * R[:, None, None, 0, :] + ky[:, None, None] * R[:, None, None, 1, :]
    ### END SOLUTION


def trilinear_corners(N, q):
    """Where the points q (..., 3) are read in a half volume of size N.

    Returns (flip, frac, corners): flip (...) is True where q_x < 0 (read -q, conjugate);
    frac (..., 3) the fractional parts of the (reflected) index (x, y, z); corners a list of
    eight (index, inside, d): index = (iz, iy, ix), integer indices clamped into the array,
    inside False where that neighbour lies outside it (it counts as zero), d = (dx, dy, dz)."""
    ### BEGIN SOLUTION
    flip = q[..., 0] < 0
    q = torch.where(flip[..., None], -q, q)
    index = q + torch.tensor([0.0, N // 2, N // 2], dtype=q.dtype, device=q.device)
    low = index.floor()
    frac = index - low
    low = low.long()
    corners = []
    for dz, dy, dx in product((0, 1), repeat=3):
        ix, iy, iz = low[..., 0] + dx, low[..., 1] + dy, low[..., 2] + dz
        inside = (ix >= 0) & (ix <= N // 2) & (iy >= 0) & (iy < N) & (iz >= 0) & (iz < N)
        index = (iz.clamp(0, N - 1), iy.clamp(0, N - 1), ix.clamp(0, N // 2))
        corners.append((index, inside, (dx, dy, dz)))
    return flip, frac, corners
    ### END SOLUTION


def corner_weights(frac, d):
    """The trilinear weights (w_x, w_y, w_z) of the corner d = (dx, dy, dz): f or 1 - f."""
    return tuple(frac[..., i] if d[i] else 1 - frac[..., i] for i in range(3))


def sample_slices(volume_ft, R):
    """The central slices (B, N, N // 2 + 1) of volume_ft (N, N, N // 2 + 1) for R (B, 3, 3)."""
    ### BEGIN SOLUTION
    N = volume_ft.shape[0]
    flip, frac, corners = trilinear_corners(N, slice_frequencies(N, R))
    s = torch.zeros((), dtype=volume_ft.dtype)
    for index, inside, d in corners:
        wx, wy, wz = corner_weights(frac, d)
        s = s + torch.where(inside, wx * wy * wz, 0.0) * volume_ft[index]
    return torch.where(flip, s.conj(), s)
    ### END SOLUTION


class ExtractCentralSlices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, volume_ft, R):
        ### BEGIN SOLUTION
        ctx.save_for_backward(volume_ft, R)
        return sample_slices(volume_ft, R)
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        return extract_backward(ctx, grad)  # Part D


def extract_central_slices(volume_ft, rotations):
    """Central slices (..., N, N // 2 + 1) of a centred half Fourier volume for rotations (..., 3, 3)."""
    ### BEGIN SOLUTION
    N = volume_ft.shape[0]
    batch = rotations.shape[:-2]
    R = rotations.reshape(-1, 3, 3).to(device=volume_ft.device, dtype=volume_ft.real.dtype)
    return ExtractCentralSlices.apply(volume_ft, R).reshape(*batch, N, N // 2 + 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_extract_central_slices", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
V = torch.rand(9, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
ft = fourier_volume(V)  # N = 9
I = torch.eye(3, dtype=torch.float64)
assert torch.allclose(extract_central_slices(ft, I), ft[4]), "the identity: the kz = 0 plane"
image_ft = torch.fft.fftshift(torch.fft.rfft2(torch.fft.ifftshift(V.sum(0))), dim=0)
assert torch.allclose(extract_central_slices(ft, I), image_ft), "the Fourier slice theorem"
quarter_x = extract_central_slices(ft, rotation_about("x", math.pi / 2))
assert torch.allclose(quarter_x, ft[:, 4].flip(0)), "rows of R, not columns"
half_turn = extract_central_slices(ft, rotation_about("z", math.pi))
assert torch.allclose(half_turn, ft[4].conj()), "q_x < 0: read -q and conjugate"
R = random_rotations(4, seed=5)
slices = extract_central_slices(ft, R.reshape(2, 2, 3, 3))
assert slices.shape == (2, 2, 9, 5) and slices.dtype == torch.complex128
assert extract_central_slices(ft.to(torch.complex64), R).dtype == torch.complex64
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_12", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — The backward pass: the adjoint, and the gradient for the rotations ({points} points)
#
# `backward(ctx, grad)` receives `grad` $= G$, the gradient of the loss with respect to the
# slices (PyTorch's convention for complex tensors: $G = \partial L/\partial\,\mathrm{Re}\,S
# + i\,\partial L/\partial\,\mathrm{Im}\,S$), and returns the gradients for `volume_ft`
# and `R`.
#
# **For the volume: the adjoint.** Extraction is linear in the volume — *real*-linear,
# since the Friedel half is conjugated — so the gradient is its adjoint for the real inner
# product $\langle a, b\rangle = \mathrm{Re}\sum \bar a\, b$ applied to $G$: **trilinear
# insertion**. Every slice sample spreads $w\,\tilde G$ onto the same eight neighbours with
# the same weights, where $\tilde G = \bar G$ on the Friedel half (where you conjugated)
# and $G$ elsewhere, and contributions to one voxel **add up**. Beware: `g[iz, iy, ix] +=
# ...` with repeated indices does *not* accumulate (the last write wins); use
# `index_put_(..., accumulate=True)` or `index_add_`. Write it as
# `insert_central_slices(slices_ft, rotations, D)` — back-projection, the operator that
# direct Fourier reconstruction is built on. The test of an adjoint $E^*$ is the
# **dot-product test**: $\langle E x, y\rangle = \langle x, E^* y\rangle$ for random $x$,
# $y$.
#
# **For the rotations: the derivative of the interpolant.** With $s = \sum w\,v$ the
# interpolated value (before the Friedel conjugation) at index $\mathbf i$:
# $\partial s/\partial i_x = \sum (2d_x - 1)\, w_y w_z\, v$ (and likewise for $y$, $z$);
# then $\partial L/\partial i_j = \mathrm{Re}\sum \overline{\partial s/\partial i_j}\,
# \tilde G$, $\partial\mathbf i/\partial\mathbf q = \pm 1$ (the Friedel sign), and from
# $\mathbf q = k_x R_{0,:} + k_y R_{1,:}$:
# $\partial L/\partial R_{0,j} = \sum k_x\,\partial L/\partial q_j$,
# $\partial L/\partial R_{1,j} = \sum k_y\,\partial L/\partial q_j$, and zero for the third
# row. The grader checks it against finite differences of *your* forward, in float64, at
# rotations in general position (where the interpolant is smooth).
#
# Implement `insert_central_slices`, `slice_rotation_gradient` and `extract_backward`
# (return `None` for an input whose `ctx.needs_input_grad` is False).


# %% nbgrader={"grade": false, "grade_id": "extract_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def insert_central_slices(slices_ft, rotations, D):
    """Trilinear insertion of slices (..., D, D // 2 + 1) at rotations (..., 3, 3) into a
    (D, D, D // 2 + 1) half volume: the adjoint of extract_central_slices."""
    ### BEGIN SOLUTION
    R = rotations.reshape(-1, 3, 3).to(device=slices_ft.device, dtype=slices_ft.real.dtype)
    S = slices_ft.reshape(R.shape[0], D, D // 2 + 1)
    flip, frac, corners = trilinear_corners(D, slice_frequencies(D, R))
    G = torch.where(flip, S.conj(), S)
    volume = torch.zeros(D, D, D // 2 + 1, dtype=S.dtype, device=S.device)
    for index, inside, d in corners:
        wx, wy, wz = corner_weights(frac, d)
        volume.index_put_(index, torch.where(inside, wx * wy * wz, 0.0) * G, accumulate=True)
    return volume
    ### END SOLUTION


def slice_rotation_gradient(volume_ft, R, grad):
    """∂L/∂R (B, 3, 3) for the slices of volume_ft at R (B, 3, 3), given ∂L/∂slices = grad."""
    ### BEGIN SOLUTION
    N = volume_ft.shape[0]
    q = slice_frequencies(N, R)
    flip, frac, corners = trilinear_corners(N, q)
    G = torch.where(flip, grad.conj(), grad)
    di = [torch.zeros((), dtype=R.dtype) for _ in range(3)]  # ∂L/∂(ix, iy, iz)
    for index, inside, (dx, dy, dz) in corners:
        wx, wy, wz = corner_weights(frac, (dx, dy, dz))
        v = torch.where(inside, volume_ft[index], 0.0)  # zero outside the array
        a = (v.conj() * G).real
        di[0] = di[0] + (2 * dx - 1) * wy * wz * a
        di[1] = di[1] + (2 * dy - 1) * wx * wz * a
        di[2] = di[2] + (2 * dz - 1) * wx * wy * a
    dq = torch.stack(di, -1) * torch.where(flip, -1.0, 1.0).to(R.dtype)[..., None]
    ky = torch.arange(N, device=R.device, dtype=R.dtype) - N // 2
    kx = torch.arange(N // 2 + 1, device=R.device, dtype=R.dtype)
    grad_R = torch.zeros_like(R)
    grad_R[:, 0] = (kx[:, None] * dq).sum(dim=(1, 2))
    grad_R[:, 1] = (ky[:, None, None] * dq).sum(dim=(1, 2))
    return grad_R
    ### END SOLUTION


def extract_backward(ctx, grad):
    """The backward of ExtractCentralSlices: (∂L/∂volume_ft, ∂L/∂R)."""
    ### BEGIN SOLUTION
    volume_ft, R = ctx.saved_tensors
    N = volume_ft.shape[0]
    grad_volume = grad_R = None
    if ctx.needs_input_grad[0]:
        grad_volume = insert_central_slices(grad, R, N)
    if ctx.needs_input_grad[1]:
        grad_R = slice_rotation_gradient(volume_ft, R, grad)
    return grad_volume, grad_R
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_extract_backward", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
gen = torch.Generator().manual_seed(4)
ft = fourier_volume(torch.randn(8, 8, 8, dtype=torch.float64, generator=gen), 1.5)  # N = 12
R = random_rotations(3, seed=6)
S = torch.randn(3, 12, 7, dtype=torch.complex128, generator=gen)
lhs = (extract_central_slices(ft, R).conj() * S).real.sum()
rhs = (ft.conj() * insert_central_slices(S, R, 12)).real.sum()
print(f"dot-product test: {lhs.item():.12f} vs {rhs.item():.12f}")
assert torch.isclose(lhs, rhs, rtol=1e-10), "insertion is not the adjoint of extraction"
small = fourier_volume(torch.randn(5, 5, 5, dtype=torch.float64, generator=gen))
R2 = random_rotations(2, seed=7).requires_grad_(True)
assert torch.autograd.gradcheck(lambda r: extract_central_slices(small, r), (R2,))
small.requires_grad_(True)
assert torch.autograd.gradcheck(
    lambda v: extract_central_slices(v, R2.detach()), (small,), fast_mode=True
)
print("Part D: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_15", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — Projection through the Fourier slice theorem ({points} points)
#
# Now the projection costs one 3D FFT per volume and $O(N^2)$ per image instead of
# $O(D^3)$:
#
# 1. `ft = fourier_volume(volume, pad, sinc2=sinc2)` ($N = \max(D,
#    \operatorname{round}(\mathrm{pad}\cdot D))$);
# 2. `slices = extract_central_slices(ft, rotations)`;
# 3. for even $N$, zero the slices' **Nyquist row** ($k_y = -N/2$, index 0) **and
#    column** ($k_x = N/2$, the last): they have no Friedel partner in a rotated slice,
#    and kept they give the image an imaginary part that `irfft2` silently drops;
# 4. back to real space: `torch.fft.ifftshift` over `ky` (the origin to index 0),
#    `torch.fft.irfftn(..., s=(N, N), dim=(-2, -1))`, `torch.fft.fftshift` over both image
#    axes (the centre to `N // 2`);
# 5. crop the centred `(D, D)` window: from `N // 2 - D // 2`, the offset of Part B.
#
# **Why pad, and why sinc².** Sampling $\hat V$ between grid points by trilinear
# interpolation is convolving it with a tent; in real space that multiplies the volume by
# the tent's transform, $\operatorname{sinc}^2(x/N)\operatorname{sinc}^2(y/N)
# \operatorname{sinc}^2(z/N)$, which darkens everything away from the centre. Dividing by
# it first (`sinc2=True`, the "gridding correction") undoes that; what remains is the
# leakage of the periodic copies of the volume, of relative size about $(r/N)^2$ for an
# object of radius $r$ — which padding ($N > D$) reduces. The visible tests measure both
# against the exact projections of the blobs.
#
# Implement `project_fourier(volume, rotations, pad=2.0, *, sinc2=True)` (the reference
# implementation's `project_fourier` with `cutoff=None, image_pad=pad`: its default adds a
# two-level refinement you can read about in its docstring).


# %% nbgrader={"grade": false, "grade_id": "project_fourier", "locked": false, "schema_version": 3, "solution": true, "task": false}
def project_fourier(volume, rotations, pad=2.0, *, sinc2=True):
    """Images (..., D, D) of volume (D, D, D) under rotations (..., 3, 3) by central slices
    of its Fourier transform padded to N = max(D, round(pad · D))."""
    ### BEGIN SOLUTION
    dtype = torch.promote_types(volume.dtype, rotations.dtype)
    D = volume.shape[0]
    N = max(D, round(pad * D))
    ft = fourier_volume(volume.to(dtype), pad, sinc2=sinc2)
    slices = extract_central_slices(ft, rotations.to(device=volume.device, dtype=dtype))
    if N % 2 == 0:
        keep = torch.ones(N, N // 2 + 1, dtype=torch.bool, device=volume.device)
        keep[0], keep[:, N // 2] = False, False
        slices = slices * keep
    images = torch.fft.irfftn(torch.fft.ifftshift(slices, dim=-2), s=(N, N), dim=(-2, -1))
    images = torch.fft.fftshift(images, dim=(-2, -1))
    start = N // 2 - D // 2
    return images[..., start : start + D, start : start + D]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_project_fourier", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
V = torch.rand(9, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
I = torch.eye(3, dtype=torch.float64)
exact = project_fourier(V, I, pad=1.0, sinc2=False)
assert torch.allclose(exact, V.sum(0)), "odd D, no padding, no correction: exact at the identity"
R = random_rotations(4, seed=9)
blobs, images = gaussian_blobs(16, R, sigma=1.5)
for pad, sinc2 in ((1.0, True), (2.0, False), (2.0, True)):
    error = relative_error(project_fourier(blobs, R, pad, sinc2=sinc2), images)
    print(f"pad {pad}, sinc2={sinc2}: relative error {error:.4f}")
assert relative_error(project_fourier(blobs, R), images) < 0.03
assert relative_error(project_fourier(blobs, R), project_real_space(blobs, R)) < 0.06
assert project_fourier(blobs, R.reshape(2, 2, 3, 3)).shape == (2, 2, 16, 16)
assert project_fourier(blobs.float(), R.float()).dtype == torch.float32
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_18", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — A projection layer: `Projector` ({points} points)
#
# The decoder of cryoAI, and the renderer in Lian et al.'s reprojection loss, is a module
# holding a **learnable volume**. `Projector(volume)` takes a `(D, D, D)` tensor (copied:
# `volume.detach().clone()`) or an integer `D` (a zero volume), keeps it as the
# `torch.nn.Parameter` `self.volume`, and renders a batch of rotations in `forward`:
# `project_fourier(self.volume, rotations, **settings)` (the keyword `settings`, such as
# `pad`, are passed on), or `project_real_space` with `method="real"`. `dtype` and
# `device`, when given, convert the initial volume (for an integer, they are the zero
# volume's; otherwise the volume keeps its own dtype). Being a `Module`, it follows
# `.to(device)`, `.double()` and optimisers with no extra code — as long as the volume is a
# `Parameter` and nothing in the rendering pins a device or a dtype.


# %% nbgrader={"grade": false, "grade_id": "projector", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Projector(torch.nn.Module):
    """A learnable volume (D, D, D) that renders a batch of rotations (..., 3, 3)."""

    def __init__(self, volume, *, method="fourier", dtype=None, device=None, **settings):
        super().__init__()
        ### BEGIN SOLUTION
        if isinstance(volume, int):
            initial = torch.zeros(volume, volume, volume, dtype=dtype, device=device)
        else:
            initial = volume.detach().clone().to(dtype=dtype or volume.dtype, device=device)
        if method not in ("fourier", "real"):
            raise ValueError("method must be 'fourier' or 'real'")
        self.volume = torch.nn.Parameter(initial)
        self.method = method
        self.settings = settings
        ### END SOLUTION

    def forward(self, rotations):
        ### BEGIN SOLUTION
        if self.method == "real":
            return project_real_space(self.volume, rotations)
        return project_fourier(self.volume, rotations, **self.settings)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_projector", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
layer = Projector(12)
assert isinstance(layer.volume, torch.nn.Parameter) and layer.volume.shape == (12, 12, 12)
R = random_rotations(6, seed=10)
blobs, images = gaussian_blobs(12, R, sigma=1.5)
layer = Projector(blobs, pad=1.5)
assert torch.allclose(layer(R), project_fourier(blobs, R, 1.5))
assert torch.allclose(Projector(blobs, method="real")(R), project_real_space(blobs, R))
loss = ((layer(R) - images) ** 2).sum()
loss.backward()
assert layer.volume.grad is not None and layer.volume.grad.shape == (12, 12, 12)
assert (
    layer.double()(R).dtype == torch.float64
    and Projector(blobs.float())(R.float()).dtype == torch.float32
)
print("Part F: visible tests passed")

# %%
# Not graded: learn a volume from its projections, as cryoAI's decoder does (poses known here).
R = random_rotations(24, seed=11)
blobs, images = gaussian_blobs(12, R, sigma=1.5)
layer = Projector(12, dtype=torch.float64)
optimiser = torch.optim.Adam(layer.parameters(), lr=0.05)
for step in range(30):
    optimiser.zero_grad()
    loss = ((layer(R) - images) ** 2).mean()
    loss.backward()
    optimiser.step()
    if step % 10 == 9:
        print(
            f"step {step + 1}: loss {loss.item():.4f}, volume error {relative_error(layer.volume.detach(), blobs):.3f}"
        )

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_22", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — The gather as a Triton kernel ({points} points)
#
# On a GPU the slice gather is the hot loop of training, and a fused kernel does in one
# pass what Part C does in eight gathers and many temporary tensors. A
# [Triton](https://triton-lang.org) kernel is a Python function run by many *programs* at
# once; each program handles a block of `BLOCK` samples (`tl.arange(0, BLOCK)`, `BLOCK` a
# power of two) with vector instructions. Here program `(b, j)` computes samples
# `j·BLOCK … (j+1)·BLOCK − 1` of the slice of rotation `b`; sample `s` is
# `S[s // (N // 2 + 1), s % (N // 2 + 1)]`, i.e. $k_y = s /\!/ (N/\!/2+1) - N/\!/2$,
# $k_x = s \bmod (N/\!/2+1)$. Inside the kernel:
#
# * pointers are flat: Triton has no complex type, so pass
#   `torch.view_as_real(volume_ft).contiguous()` (`(N, N, N // 2 + 1, 2)`, real and
#   imaginary parts side by side): the real part of `F[iz, iy, ix]` is at element
#   `((iz·N + iy)·(N // 2 + 1) + ix)·2`, its imaginary part one further;
# * `tl.load(ptr + offsets, mask=m, other=0.0)` reads only where `m` holds — both for the
#   last, partial block (`offsets < n`) and for neighbours outside the volume (which
#   count as zero, as in Part C); `tl.store(..., mask=...)` likewise;
# * the arithmetic is that of Part C, lane by lane: `tl.floor`, `tl.where`, `.to(...)`,
#   and `tl.static_range(2)` to unroll the loops over the eight corners.
#
# Launch with `slice_kernel[(B, triton.cdiv(n, BLOCK))](...)` for `n = N·(N//2 + 1)`.
# There is no GPU here: the cell below sets `TRITON_INTERPRET=1` (the grader does too),
# and Triton *interprets* the kernel on CPU tensors — slowly, but exactly. Implement
# `extract_central_slices_triton(volume_ft, rotations, BLOCK=64)`, the forward of
# `extract_central_slices` (no autograd), in the dtype of `volume_ft`.

# %% nbgrader={"grade": false, "grade_id": "triton_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # before the kernel is defined
import triton
import triton.language as tl


@triton.jit
def slice_kernel(volume_ptr, rotations_ptr, out_ptr, N, n, BLOCK: tl.constexpr):
    b = tl.program_id(0)  # the rotation
    offsets = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)  # its samples
    valid = offsets < n
    ### BEGIN SOLUTION
    H = N // 2 + 1
    r = rotations_ptr + b * 9
    r00, r01, r02 = tl.load(r + 0), tl.load(r + 1), tl.load(r + 2)
    r10, r11, r12 = tl.load(r + 3), tl.load(r + 4), tl.load(r + 5)
    kx = (offsets % H).to(r00.dtype)
    ky = (offsets // H - N // 2).to(r00.dtype)
    qx = kx * r00 + ky * r10
    qy = kx * r01 + ky * r11
    qz = kx * r02 + ky * r12
    sign = tl.where(qx < 0, -1.0, 1.0).to(qx.dtype)  # Friedel: read -q, conjugate
    px, py, pz = qx * sign, qy * sign + N // 2, qz * sign + N // 2
    x0, y0, z0 = tl.floor(px), tl.floor(py), tl.floor(pz)
    fx, fy, fz = px - x0, py - y0, pz - z0
    re = fx * 0.0
    im = fx * 0.0
    for dz in tl.static_range(2):
        for dy in tl.static_range(2):
            for dx in tl.static_range(2):
                ix = x0.to(tl.int64) + dx
                iy = y0.to(tl.int64) + dy
                iz = z0.to(tl.int64) + dz
                inside = valid & (ix >= 0) & (ix < H) & (iy >= 0) & (iy < N) & (iz >= 0) & (iz < N)
                w = (fx if dx else 1 - fx) * (fy if dy else 1 - fy) * (fz if dz else 1 - fz)
                element = ((iz * N + iy) * H + ix) * 2
                re += w * tl.load(volume_ptr + element, mask=inside, other=0.0)
                im += w * tl.load(volume_ptr + element + 1, mask=inside, other=0.0)
    out = out_ptr + (b * n + offsets) * 2
    tl.store(out, re, mask=valid)
    tl.store(out + 1, im * sign, mask=valid)
    ### END SOLUTION


def extract_central_slices_triton(volume_ft, rotations, BLOCK=64):
    """extract_central_slices's forward, one Triton program per BLOCK samples of a slice."""
    ### BEGIN SOLUTION
    N = volume_ft.shape[0]
    batch = rotations.shape[:-2]
    data = torch.view_as_real(volume_ft.resolve_conj()).contiguous()
    R = rotations.reshape(-1, 3, 3).to(device=data.device, dtype=data.dtype).contiguous()
    B, n = R.shape[0], N * (N // 2 + 1)
    out = torch.empty(B, n, 2, dtype=data.dtype, device=data.device)
    slice_kernel[(B, triton.cdiv(n, BLOCK))](data, R, out, N, n, BLOCK=BLOCK)
    return torch.view_as_complex(out).reshape(*batch, N, N // 2 + 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_triton_kernel", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
ft = fourier_volume(
    torch.rand(11, 11, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
)
R = random_rotations(3, seed=13)
expected = extract_central_slices(ft, R)
for BLOCK in (16, 64):  # n = 11 · 6 = 66 samples: the last block is partial
    assert torch.allclose(extract_central_slices_triton(ft, R, BLOCK=BLOCK), expected)
single = extract_central_slices_triton(ft.to(torch.complex64), R[0].float())
assert single.shape == (11, 6) and single.dtype == torch.complex64
assert torch.allclose(single, expected[0].to(torch.complex64), atol=1e-4)
print("Part G: visible tests passed")

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_25", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps04_projection_layer/ps04_projection_layer.ipynb` in your home: the folder the book's
# launch link made. Restart the kernel and run all cells (*Kernel → Restart Kernel and Run
# All Cells…*), save, and press **Validate** in the notebook's toolbar: it runs your notebook
# the way the grader does and reports the visible tests. Then open the **Assignments** tab
# (*Nbgrader → Assignment List*): `ps04_projection_layer` is under *Downloaded assignments*; press **Submit**.
# In a terminal the same is `cd ~/{launch_folder}`, then `course check ps04_projection_layer/ps04_projection_layer.ipynb`
# and `course submit ps04_projection_layer`.
