"""Aligning two density maps, VESPER-style: Gaussian-atom maps, rotation of a volume by trilinear
resampling, the translational cross-correlation of every shift at once by FFT, an exhaustive
rotational search, VESPER's local density vectors and DOT score, and the Z-scores of the scores.

X. Han, G. Terashi, C. Christoffer, S. Chen & D. Kihara (2021), "VESPER: global and local cryo-EM
map alignment using local density vectors", Nat. Commun. 12, 2090 (Methods: the mean-shift vectors,
the DOT score searched by FFT for every rotation of a 30° grid, the Z-score of the best score
among the per-rotation bests, normalised by the largest single-linkage cluster of those scores).

Conventions (``book/conventions.md``)
-------------------------------------
* A volume is an array indexed ``[z, y, x]``, of any shape ``(nz, ny, nx)``. The voxel
  ``[k, j, i]`` sits at the position ``r = (i − nx//2, j − ny//2, k − nz//2)`` — **xyz**, relative
  to the centre voxel ``[nz//2, ny//2, nx//2]`` (``voxel_positions``). Lengths are in voxels.
* A vector field is an array ``(nz, ny, nx, 3)`` whose last axis holds the **xyz** components.
* Rotations are active, ``R`` left-multiplies column vectors of xyz coordinates.
* Rotating a volume ``V`` by ``R`` about the centre (``rotate_volume``)::

      (R·V)(r) = V(Rᵀ r)

  sampled at every voxel position ``r``. ``V`` between voxels is its *trilinear* interpolation,
  with ``V = 0`` outside the box: a sample point whose index coordinates are ``(u_x, u_y, u_z)``
  (``u = Rᵀr + centre``) takes ``Σ w · V[corner]`` over the 8 corners ``⌊u⌋ + {0, 1}³`` with
  weights ``Π (1 − |u − corner|)``, and a corner outside the box counts as 0. A vector field
  rotates its vectors too: ``(R·v)(r) = R v(Rᵀ r)`` (``rotate_vector_field``), components
  interpolated first, then rotated; nothing is renormalised.
* Shifts are integer xyz vectors ``t``; shifting a volume by ``t`` moves its content by ``+t``,
  circularly: ``(S_t V)[p] = V[p − t]`` (``shift_volume``, ``np.roll``). A transform ``(R, t)``
  takes ``A`` to ``S_t(R·A)``: rotate about the centre, then shift.

Identities
----------
* Cross-correlation theorem (circular, every shift at once)::

      C[t] = Σ_p A[p] B[p + t] = IDFT( conj(DFT A) · DFT B )[t]

  ``C`` has the volumes' shape and is indexed ``[t_z, t_y, t_x]`` modulo the shape; if
  ``B = S_{t₀} A`` it peaks at ``t₀``. ``peak_shift`` reads the xyz shift of the maximum with each
  component wrapped into ``[−(n//2), (n − 1)//2]``.
* Exhaustive search (``rotational_search``): for each rotation ``R_i`` of a grid, ``C_i`` of
  ``R_i·A`` against ``B``; the score of ``R_i`` is ``max C_i`` at the shift ``peak_shift(C_i)``.
  The best ``(R_i, t_i)`` is the recovered transform.
* Local density vectors (VESPER's mean shift, one step): with ``ρ₊ = ρ`` where ``ρ > threshold``
  and 0 elsewhere, and the Gaussian kernel ``K(d) = exp(−|d|²/(2s²))``,

      m(p) = Σ_q ρ₊(q) K(q − p) (q − p),        v(p) = m(p) / |m(p)|

  for the voxels with ``ρ(p) > threshold`` (``v = 0`` elsewhere, and where ``m = 0``), the sum
  running over every voxel of the box (no wrap-around). ``m(p)/Σ_q ρ₊ K`` is the mean-shift step
  from ``p`` to the kernel-weighted mean position, ``s² ∇(ρ₊ ∗ K)/(ρ₊ ∗ K)`` (Comaniciu & Meer
  2002): ``v`` points up the gradient of the smoothed density, towards the local peak. The kernel
  factorises, ``K(d)(q − p)_x = [g(d_x) d_x] g(d_y) g(d_z)``, so ``m`` is three separable
  products of ``n × n`` matrices (``density_vectors``). VESPER truncates the kernel at a window;
  this module does not.
* DOT score (``dot_translation_scores``): the sum of the dot products of matched vectors,
  ``D[t] = Σ_p v_A(p) · v_B(p + t) = Σ_{k∈xyz} C[v_A,k ; v_B,k][t]``, three cross-correlations.
* Z-scores (VESPER's question 1): over the per-rotation best scores ``s_i``,
  ``z = (s − mean)/std`` (population std, ``ddof = 0``). VESPER's *normalised* Z-score
  (``cluster_score.py``) takes the mean and std of the largest cluster of a single-linkage
  clustering of the ``s_i`` at the distance ``cutoff · (max s − min s)``; in one dimension,
  sorted scores split where a gap between neighbours exceeds that distance (a gap equal to it
  does not split). A tie for the largest cluster goes to the cluster of the lower scores.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from reference_impl.conventions import ConventionError, FloatArray, check_rotation_matrix

__all__ = [
    "cluster_labels_1d",
    "density_vectors",
    "dot_translation_scores",
    "gaussian_map",
    "mean_shift_field",
    "molmap_sigma",
    "peak_shift",
    "pearson_cc",
    "rotate_vector_field",
    "rotate_volume",
    "rotational_search",
    "rotational_search_dot",
    "shift_volume",
    "translation_scores",
    "trilinear_sample",
    "vesper_z_scores",
    "voxel_positions",
    "z_scores",
]


def molmap_sigma(resolution: float) -> float:
    """The Gaussian width σ = resolution / (π√2) of an atom at ``resolution`` (voxels), as in
    UCSF Chimera's ``molmap`` (its default ``sigmaFactor`` 1/(π√2) ≈ 0.225)."""
    return float(resolution) / (np.pi * np.sqrt(2.0))


def _shape3(shape: ArrayLike) -> tuple[int, int, int]:
    s = tuple(int(n) for n in np.atleast_1d(np.asarray(shape)))
    if len(s) != 3 or min(s) < 1:
        raise ConventionError(f"a volume's shape is (nz, ny, nx); got {s}")
    return s[0], s[1], s[2]


def _volume(v: ArrayLike, name: str, channels: int | None = None) -> FloatArray:
    arr = np.asarray(v, dtype=np.float64)
    want = 3 if channels is None else 4
    if arr.ndim != want or (channels is not None and arr.shape[-1] != channels):
        tail = "" if channels is None else f", {channels}"
        raise ConventionError(f"{name} must have shape (nz, ny, nx{tail}); got {arr.shape}")
    return arr


def voxel_positions(shape: ArrayLike) -> FloatArray:
    """The xyz position of every voxel relative to the centre, shape ``(nz, ny, nx, 3)``:
    voxel ``[k, j, i]`` is at ``(i − nx//2, j − ny//2, k − nz//2)``."""
    nz, ny, nx = _shape3(shape)
    z, y, x = np.meshgrid(
        np.arange(nz) - nz // 2, np.arange(ny) - ny // 2, np.arange(nx) - nx // 2, indexing="ij"
    )
    return np.stack([x, y, z], axis=-1).astype(np.float64)


def gaussian_map(
    coords: ArrayLike, shape: ArrayLike, resolution: float, weights: ArrayLike | None = None
) -> FloatArray:
    """A density map of Gaussian "atoms": ``ρ(r) = Σ_a w_a exp(−|r − x_a|² / (2σ²))``.

    Parameters
    ----------
    coords : (N, 3) xyz atom positions in voxels, relative to the centre voxel.
    shape : (nz, ny, nx).
    resolution : in voxels; ``σ = molmap_sigma(resolution)``.
    weights : (N,) peak heights, default 1.

    Returns
    -------
    (nz, ny, nx) float64, indexed ``[z, y, x]``. The Gaussian factorises over the axes, so the
    map is one ``einsum`` of per-axis profiles.
    """
    nz, ny, nx = _shape3(shape)
    x = np.asarray(coords, dtype=np.float64).reshape(-1, 3)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    s2 = 2 * molmap_sigma(resolution) ** 2

    def profile(n: int, c: FloatArray) -> FloatArray:
        return np.exp(-((np.arange(n)[None, :] - n // 2 - c[:, None]) ** 2) / s2)

    return np.einsum(
        "a,ak,aj,ai->kji", w, profile(nz, x[:, 2]), profile(ny, x[:, 1]), profile(nx, x[:, 0])
    )


def trilinear_sample(volume: ArrayLike, index_xyz: ArrayLike) -> FloatArray:
    """Trilinear interpolation of ``volume`` (nz, ny, nx[, C]) at continuous index coordinates
    ``index_xyz`` (..., 3) = (u_x, u_y, u_z) (``u_x`` runs along axis 2), the volume being 0
    outside the box. Returns (...[, C]).

    The volume is padded with one layer of zeros, so the 8 corners ``⌊u⌋ + {0, 1}³`` of a point
    with ``−1 ≤ u < n`` on every axis are all in the padded array; points farther out are 0.
    """
    v = np.asarray(volume, dtype=np.float64)
    u = np.asarray(index_xyz, dtype=np.float64)
    lead, chan = u.shape[:-1], v.shape[3:]
    pad = np.pad(v, [(1, 1)] * 3 + [(0, 0)] * len(chan))
    flat = pad.reshape(-1, *chan)
    u = u.reshape(-1, 3) + 1.0  # index coordinates in the padded array
    base = np.floor(u)
    f = u - base
    base = base.astype(np.int64)
    sz, sy = pad.shape[1] * pad.shape[2], pad.shape[2]
    hi = np.array([v.shape[2], v.shape[1], v.shape[0]])  # largest valid base, per axis
    valid = np.all((base >= 0) & (base <= hi), axis=-1)
    base = np.where(valid[:, None], base, 0)
    i0 = base[:, 2] * sz + base[:, 1] * sy + base[:, 0]
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    gx, gy, gz = 1 - fx, 1 - fy, 1 - fz
    out = np.zeros((len(u), *chan))
    for dz, wz in ((0, gz), (1, fz)):
        for dy, wy in ((0, gy), (1, fy)):
            wzy = wz * wy
            for dx, wx in ((0, gx), (1, fx)):
                w = np.where(valid, wzy * wx, 0.0)
                out += w.reshape(-1, *(1,) * len(chan)) * flat[i0 + (dz * sz + dy * sy + dx)]
    return out.reshape(lead + chan)


def _sample_points(shape: tuple[int, int, int], R: ArrayLike) -> FloatArray:
    """Index coordinates ``Rᵀ r + centre`` of every voxel position ``r``: (nz, ny, nx, 3)."""
    R = check_rotation_matrix(np.asarray(R, dtype=np.float64))
    r = voxel_positions(shape)
    centre = np.array([shape[2] // 2, shape[1] // 2, shape[0] // 2], dtype=np.float64)
    return r @ R + centre  # rows: (Rᵀ r)ᵀ = rᵀ R


def rotate_volume(volume: ArrayLike, R: ArrayLike) -> FloatArray:
    """The volume rotated by ``R`` about its centre: ``out(r) = V(Rᵀ r)`` at every voxel,
    trilinear, zero outside the box. (nz, ny, nx) → (nz, ny, nx)."""
    v = _volume(volume, "volume")
    return trilinear_sample(v, _sample_points(v.shape, R))


def rotate_vector_field(field: ArrayLike, R: ArrayLike) -> FloatArray:
    """A vector field rotated by ``R``: ``out(r) = R v(Rᵀ r)`` (components interpolated
    trilinearly, then rotated; no renormalisation). (nz, ny, nx, 3) → (nz, ny, nx, 3)."""
    f = _volume(field, "field", channels=3)
    R = np.asarray(R, dtype=np.float64)
    moved = trilinear_sample(f, _sample_points(f.shape[:3], R))
    return moved @ R.T


def shift_volume(volume: ArrayLike, t: ArrayLike) -> FloatArray:
    """``out[p] = V[p − t]`` circularly, for an integer xyz shift ``t`` (content moves by +t)."""
    v = np.asarray(volume, dtype=np.float64)
    t = np.asarray(t).astype(np.int64)
    return np.roll(v, (int(t[2]), int(t[1]), int(t[0])), axis=(0, 1, 2))


def translation_scores(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """``C[t] = Σ_p a[p] b[p + t]`` for every circular shift at once, by the FFT:
    ``IDFT(conj(DFT a) · DFT b)``. (nz, ny, nx) × (nz, ny, nx) → (nz, ny, nx), indexed
    ``[t_z, t_y, t_x]`` modulo the shape."""
    a = _volume(a, "a")
    b = _volume(b, "b")
    if a.shape != b.shape:
        raise ConventionError(f"the volumes' shapes differ: {a.shape} and {b.shape}")
    return np.fft.irfftn(np.conj(np.fft.rfftn(a)) * np.fft.rfftn(b), s=a.shape, axes=(0, 1, 2))


def peak_shift(scores: ArrayLike) -> np.ndarray:
    """The xyz shift (3,) int of the maximum of ``scores`` (indexed ``[t_z, t_y, t_x]``), each
    component wrapped into ``[−(n//2), (n − 1)//2]``."""
    c = np.asarray(scores)
    k = np.array(np.unravel_index(int(np.argmax(c)), c.shape))
    n = np.array(c.shape)
    t = np.where(k > (n - 1) // 2, k - n, k)
    return t[::-1].astype(np.int64)


def rotational_search(
    a: ArrayLike, b: ArrayLike, rotations: ArrayLike
) -> tuple[FloatArray, np.ndarray]:
    """Exhaustive search of ``(R, t)`` with ``B ≈ S_t(R·A)``: for every rotation ``R_i`` of the
    grid (N, 3, 3), the cross-correlation of ``rotate_volume(a, R_i)`` with ``b`` at every shift.

    Returns
    -------
    scores : (N,) the best cross-correlation of each rotation, ``max_t C_i[t]``.
    shifts : (N, 3) int, its xyz shift ``peak_shift(C_i)``.
    """
    a = _volume(a, "a")
    b = _volume(b, "b")
    rots = np.asarray(rotations, dtype=np.float64).reshape(-1, 3, 3)
    fb = np.fft.rfftn(b)
    scores = np.empty(len(rots))
    shifts = np.empty((len(rots), 3), dtype=np.int64)
    for i, R in enumerate(rots):
        c = np.fft.irfftn(
            np.conj(np.fft.rfftn(rotate_volume(a, R))) * fb, s=b.shape, axes=(0, 1, 2)
        )
        scores[i] = c.max()
        shifts[i] = peak_shift(c)
    return scores, shifts


def _axis_kernels(n: int, sigma: float) -> tuple[FloatArray, FloatArray]:
    """``G[i, j] = g(j − i)`` and ``D[i, j] = (j − i) g(j − i)``, ``g(d) = exp(−d²/(2σ²))``."""
    d = np.arange(n)[None, :] - np.arange(n)[:, None]
    g = np.exp(-(d.astype(np.float64) ** 2) / (2 * sigma**2))
    return g, (d * g).astype(np.float64)


def mean_shift_field(volume: ArrayLike, threshold: float, sigma: float) -> FloatArray:
    """The unnormalised mean-shift vectors ``m(p) = Σ_q ρ₊(q) K(q − p)(q − p)`` at every voxel
    (xyz components), ``ρ₊`` the density above ``threshold`` (0 elsewhere), ``K`` a Gaussian of
    width ``sigma`` voxels, the sum over the box (no wrap-around). (nz, ny, nx) → (..., 3)."""
    rho = _volume(volume, "volume")
    rho_plus = np.where(rho > threshold, rho, 0.0)
    nz, ny, nx = rho.shape
    gz, dz = _axis_kernels(nz, sigma)
    gy, dy = _axis_kernels(ny, sigma)
    gx, dx = _axis_kernels(nx, sigma)
    mx = np.einsum("ka,jb,ic,abc->kji", gz, gy, dx, rho_plus, optimize=True)
    my = np.einsum("ka,jb,ic,abc->kji", gz, dy, gx, rho_plus, optimize=True)
    mz = np.einsum("ka,jb,ic,abc->kji", dz, gy, gx, rho_plus, optimize=True)
    return np.stack([mx, my, mz], axis=-1)


def density_vectors(volume: ArrayLike, threshold: float, sigma: float) -> FloatArray:
    """VESPER's local density vectors: the unit mean-shift vector ``m/|m|`` at every voxel whose
    density exceeds ``threshold``, and 0 elsewhere (and where ``m = 0``). (nz, ny, nx) →
    (nz, ny, nx, 3), xyz components."""
    rho = _volume(volume, "volume")
    m = mean_shift_field(rho, threshold, sigma)
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    keep = (rho > threshold)[..., None] & (norm > 0)
    return np.where(keep, m / np.where(norm > 0, norm, 1.0), 0.0)


def dot_translation_scores(va: ArrayLike, vb: ArrayLike) -> FloatArray:
    """The DOT score at every circular shift, ``D[t] = Σ_p v_A(p) · v_B(p + t)``: the sum of
    the three components' ``translation_scores``. (nz, ny, nx, 3) × same → (nz, ny, nx)."""
    va = _volume(va, "va", channels=3)
    vb = _volume(vb, "vb", channels=3)
    if va.shape != vb.shape:
        raise ConventionError(f"the fields' shapes differ: {va.shape} and {vb.shape}")
    axes = (0, 1, 2)
    spec = np.sum(np.conj(np.fft.rfftn(va, axes=axes)) * np.fft.rfftn(vb, axes=axes), axis=-1)
    return np.fft.irfftn(spec, s=va.shape[:3], axes=(0, 1, 2))


def rotational_search_dot(
    va: ArrayLike, vb: ArrayLike, rotations: ArrayLike
) -> tuple[FloatArray, np.ndarray]:
    """``rotational_search`` with the DOT score: for every rotation ``R_i``, the DOT scores of
    ``rotate_vector_field(va, R_i)`` against ``vb`` at every shift. Returns ``(scores (N,),
    shifts (N, 3) int)``."""
    va = _volume(va, "va", channels=3)
    vb = _volume(vb, "vb", channels=3)
    rots = np.asarray(rotations, dtype=np.float64).reshape(-1, 3, 3)
    fb = np.fft.rfftn(vb, axes=(0, 1, 2))
    scores = np.empty(len(rots))
    shifts = np.empty((len(rots), 3), dtype=np.int64)
    for i, R in enumerate(rots):
        fa = np.fft.rfftn(rotate_vector_field(va, R), axes=(0, 1, 2))
        d = np.fft.irfftn(np.sum(np.conj(fa) * fb, axis=-1), s=vb.shape[:3], axes=(0, 1, 2))
        scores[i] = d.max()
        shifts[i] = peak_shift(d)
    return scores, shifts


def pearson_cc(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson's correlation of two volumes over the whole box,
    ``Σ(a − ā)(b − b̄) / √(Σ(a − ā)² Σ(b − b̄)²)``."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    da, db = a - a.mean(), b - b.mean()
    return float(np.dot(da, db) / np.sqrt(np.dot(da, da) * np.dot(db, db)))


def z_scores(scores: ArrayLike) -> FloatArray:
    """``(s − mean s) / std s`` with the population std (``ddof = 0``). (N,) → (N,)."""
    s = np.asarray(scores, dtype=np.float64)
    return (s - s.mean()) / s.std()


def cluster_labels_1d(scores: ArrayLike, distance: float) -> np.ndarray:
    """Single-linkage clusters of numbers at ``distance``: sorted, they split where the gap
    between neighbours exceeds ``distance``. Labels 0, 1, … in increasing order of score."""
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    gaps = np.diff(s[order]) > distance
    labels = np.empty(len(s), dtype=np.int64)
    labels[order] = np.concatenate([[0], np.cumsum(gaps)])
    return labels


def vesper_z_scores(scores: ArrayLike, cutoff: float = 0.2) -> FloatArray:
    """VESPER's normalised Z-scores (``cluster_score.py``): ``(s − μ)/σ`` with ``μ, σ`` the mean
    and population std of the largest single-linkage cluster of the scores at the distance
    ``cutoff · (max − min)`` (a tie goes to the cluster of the lower scores). (N,) → (N,)."""
    s = np.asarray(scores, dtype=np.float64)
    labels = cluster_labels_1d(s, cutoff * (s.max() - s.min()))
    counts = np.bincount(labels)
    big = s[labels == int(np.argmax(counts))]  # argmax: the first (lowest) of equal counts
    return (s - big.mean()) / big.std()
