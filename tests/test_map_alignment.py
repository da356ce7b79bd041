"""Property tests of ``reference_impl.map_alignment`` (VESPER-style map alignment, Han et al. 2021).

Oracles, independent of the module's own formulas: explicit loops over atoms, voxels, shifts and
voxel pairs (the Gaussian map, the circular cross-correlation, the DOT score, the mean-shift sum);
``scipy.ndimage.map_coordinates`` (order 1, ``mode="grid-constant"``: the zero-extended lattice)
for trilinear resampling; ``scipy.ndimage.gaussian_filter`` derivatives for the direction of the
mean-shift vector (it points up the gradient of the smoothed density); ``scipy.stats.zscore``; and
``scipy.cluster.hierarchy`` single linkage with ``fcluster(criterion="distance")`` — what VESPER's
``cluster_score.py`` runs — for the normalised Z-score.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import seeds
from scipy import ndimage, stats
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.transform import Rotation

from reference_impl import map_alignment as M
from reference_impl.conventions import ConventionError
from reference_impl.sampling import orientation_grid_matrix

dims = st.integers(3, 9)
shapes = st.tuples(dims, dims, dims)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    return Rotation.random(random_state=int(rng.integers(2**31))).as_matrix()


def ball_atoms(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    x = rng.normal(size=(n, 3))
    return x * (rng.uniform(0, 1, n) ** (1 / 3) * radius / np.linalg.norm(x, axis=1))[:, None]


def Rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# -- the Gaussian map -----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=seeds(), res=st.floats(1.0, 8.0))
def test_gaussian_map_is_the_sum_over_atoms_at_every_voxel(shape, seed, res) -> None:
    rng = np.random.default_rng(seed)
    atoms = rng.uniform(-5, 5, size=(int(rng.integers(1, 5)), 3))
    w = rng.uniform(0.5, 2.0, len(atoms))
    got = M.gaussian_map(atoms, shape, res, weights=w)
    sigma = res / (np.pi * np.sqrt(2))
    nz, ny, nx = shape
    want = np.zeros(shape)
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                r = np.array([i - nx // 2, j - ny // 2, k - nz // 2])
                want[k, j, i] = sum(
                    wa * np.exp(-np.sum((r - a) ** 2) / (2 * sigma**2))
                    for a, wa in zip(atoms, w, strict=True)
                )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_an_atom_on_a_voxel_peaks_there_with_height_one() -> None:
    v = M.gaussian_map([[2.0, -1.0, 0.0]], (6, 7, 8), 3.0)
    assert np.unravel_index(np.argmax(v), v.shape) == (3, 3 - 1, 4 + 2)
    assert v.max() == pytest.approx(1.0)
    assert M.molmap_sigma(np.pi * np.sqrt(2)) == pytest.approx(1.0)


# -- trilinear resampling and rotation ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds())
def test_trilinear_sample_is_scipys_order_one_interpolation_of_the_zero_extended_lattice(
    shape, seed
) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=shape)
    n_xyz = np.array(shape[::-1], dtype=float)
    pts = rng.uniform(-2.0, 1.0, size=(50, 3)) * (n_xyz + 2) / 3 + rng.uniform(-1, 1, (50, 3))
    pts = np.concatenate([pts, rng.uniform(-1.5, n_xyz + 0.5, size=(50, 3))])
    pts[:5] = np.floor(pts[:5])  # exactly on the lattice, and on its edges
    got = M.trilinear_sample(v, pts)
    assert M.trilinear_sample(v, pts[7]).shape == ()  # one point: a scalar
    assert M.trilinear_sample(v, pts[7]) == pytest.approx(got[7], abs=1e-12)
    want = ndimage.map_coordinates(v, pts[:, ::-1].T, order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # channels are interpolated alike
    f = rng.normal(size=(*shape, 3))
    got3 = M.trilinear_sample(f, pts)
    for c in range(3):
        np.testing.assert_allclose(got3[:, c], M.trilinear_sample(f[..., c], pts), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=seeds())
def test_rotate_volume_samples_v_at_rt_r_about_the_centre(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=shape)
    R = random_rotation(rng)
    nz, ny, nx = shape
    centre = np.array([nx // 2, ny // 2, nz // 2])
    z, y, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    r = np.stack([x, y, z], -1) - centre
    src = np.einsum("ji,...j->...i", R, r) + centre  # Rᵀ r, written as a sum over rows of R
    want = ndimage.map_coordinates(
        v, [src[..., 2], src[..., 1], src[..., 0]], order=1, mode="grid-constant"
    )
    np.testing.assert_allclose(M.rotate_volume(v, R), want, atol=1e-12)
    np.testing.assert_array_equal(M.rotate_volume(v, np.eye(3)), v)


def test_a_quarter_turn_about_z_permutes_an_odd_cube() -> None:
    v = np.random.default_rng(0).normal(size=(9, 9, 9))
    # out(x, y, z) = v(Rᵀ(x, y, z)) = v(y, −x, z): out[k, j, i] = v[k, 8 − i, j]
    np.testing.assert_allclose(
        M.rotate_volume(v, Rz(np.pi / 2)), v[:, ::-1, :].transpose(0, 2, 1), atol=1e-12
    )


@settings(max_examples=10, deadline=None)
@given(seed=seeds())
def test_a_rotated_gaussian_map_is_the_map_of_the_rotated_atoms(seed) -> None:
    rng = np.random.default_rng(seed)
    atoms = ball_atoms(rng, 10, 4.0)
    R = random_rotation(rng)
    rotated = M.rotate_volume(M.gaussian_map(atoms, (16, 16, 16), 5.0), R)
    exact = M.gaussian_map(atoms @ R.T, (16, 16, 16), 5.0)
    # trilinear interpolation's error at σ ≈ 1.1 voxels is about 9 % (a wrong convention: 40–90 %)
    assert np.linalg.norm(rotated - exact) < 0.12 * np.linalg.norm(exact)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=seeds())
def test_rotate_vector_field_rotates_the_positions_and_the_vectors(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(*shape, 3))
    R = random_rotation(rng)
    moved = np.stack([M.rotate_volume(f[..., c], R) for c in range(3)], -1)
    want = np.einsum("ij,...j->...i", R, moved)
    np.testing.assert_allclose(M.rotate_vector_field(f, R), want, atol=1e-12)


def test_a_constant_field_turns_with_the_rotation_inside_the_box() -> None:
    f = np.zeros((9, 9, 9, 3))
    f[..., 0] = 1.0
    out = M.rotate_vector_field(f, Rz(np.pi / 2))
    np.testing.assert_allclose(
        out[2:-2, 2:-2, 2:-2], np.broadcast_to([0.0, 1.0, 0.0], (5, 5, 5, 3)), atol=1e-12
    )


def test_a_reflection_is_refused() -> None:
    with pytest.raises(ConventionError):
        M.rotate_volume(np.zeros((4, 4, 4)), np.diag([1.0, 1.0, -1.0]))


# -- every shift at once ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(*(st.integers(1, 6),) * 3), seed=seeds())
def test_translation_scores_are_the_circular_correlation_at_every_shift(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    want = np.zeros(shape)
    nz, ny, nx = shape
    for tz in range(nz):
        for ty in range(ny):
            for tx in range(nx):
                want[tz, ty, tx] = np.sum(a * np.roll(b, (-tz, -ty, -tx), axis=(0, 1, 2)))
    np.testing.assert_allclose(M.translation_scores(a, b), want, atol=1e-10)
    fa, fb = rng.normal(size=(*shape, 3)), rng.normal(size=(*shape, 3))
    dots = sum(M.translation_scores(fa[..., c], fb[..., c]) for c in range(3))
    np.testing.assert_allclose(M.dot_translation_scores(fa, fb), dots, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=seeds())
def test_the_peak_is_at_the_shift_that_moved_the_map(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    t = np.array([rng.integers(-(n // 2), (n - 1) // 2 + 1) for n in shape[::-1]])
    b = M.shift_volume(a, t)
    assert b[tuple((np.array([0, 0, 0]) + t[::-1]) % np.array(shape))] == a[0, 0, 0]
    np.testing.assert_array_equal(M.peak_shift(M.translation_scores(a, b)), t)


def test_peak_shift_wraps_into_the_signed_range() -> None:
    for n in (4, 5):
        c = np.zeros((n, n + 1, n + 2))
        for k in range(n):
            c[:] = 0
            c[k, 0, n + 1] = 1.0
            t = M.peak_shift(c)
            assert t[0] == -1 and t[1] == 0
            assert -(n // 2) <= t[2] <= (n - 1) // 2 and (t[2] - k) % n == 0


def test_the_exhaustive_search_recovers_a_rotation_of_the_grid_and_the_shift() -> None:
    rng = np.random.default_rng(4)
    grid = orientation_grid_matrix(np.deg2rad(40.0))
    atoms = ball_atoms(rng, 12, 4.0)
    idx, t = 17, np.array([1, -2, 0])
    a = M.gaussian_map(atoms, (14, 14, 14), 4.0)
    b = M.gaussian_map(atoms @ grid[idx].T + t, (14, 14, 14), 4.0)
    b += rng.normal(scale=0.05, size=b.shape)
    scores, shifts = M.rotational_search(a, b, grid)
    assert int(np.argmax(scores)) == idx
    np.testing.assert_array_equal(shifts[idx], t)
    # the score of a rotation is the best correlation over all shifts, by brute force
    for i in (0, idx):
        ra = M.rotate_volume(a, grid[i])
        best = max(
            np.sum(ra * np.roll(b, (-tz, -ty, -tx), axis=(0, 1, 2)))
            for tz in range(14)
            for ty in range(14)
            for tx in range(14)
        )
        assert scores[i] == pytest.approx(best, rel=1e-10)
    va, vb = M.density_vectors(a, 0.2, 1.5), M.density_vectors(b, 0.2, 1.5)
    dscores, dshifts = M.rotational_search_dot(va, vb, grid)
    assert int(np.argmax(dscores)) == idx
    np.testing.assert_array_equal(dshifts[idx], t)
    assert dscores[idx] == pytest.approx(
        M.dot_translation_scores(M.rotate_vector_field(va, grid[idx]), vb).max()
    )


# -- the local density vectors ---------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(shape=st.tuples(*(st.integers(2, 6),) * 3), seed=seeds(), sigma=st.floats(0.5, 3.0))
def test_mean_shift_vectors_are_the_kernel_weighted_sum_over_voxel_pairs(
    shape, seed, sigma
) -> None:
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0, 1, size=shape)
    threshold = float(rng.uniform(0, 0.6))
    plus = np.where(rho > threshold, rho, 0.0)
    pos = M.voxel_positions(shape).reshape(-1, 3)
    d = pos[None, :, :] - pos[:, None, :]  # q − p
    w = plus.reshape(-1)[None, :] * np.exp(-np.sum(d**2, -1) / (2 * sigma**2))
    m = np.einsum("pq,pqc->pc", w, d).reshape(*shape, 3)
    np.testing.assert_allclose(M.mean_shift_field(rho, threshold, sigma), m, atol=1e-12)
    v = M.density_vectors(rho, threshold, sigma)
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    above = rho > threshold
    np.testing.assert_allclose(v[above], (m / norm)[above], atol=1e-9)
    assert np.all(v[~above] == 0)


@settings(max_examples=10, deadline=None)
@given(seed=seeds())
def test_the_vectors_point_up_the_gradient_of_the_smoothed_density(seed) -> None:
    rng = np.random.default_rng(seed)
    rho = M.gaussian_map(ball_atoms(rng, 8, 3.5), (12, 13, 14), 4.0)
    threshold, sigma = 0.2 * rho.max(), 1.5
    plus = np.where(rho > threshold, rho, 0.0)
    grad = np.stack(
        [
            ndimage.gaussian_filter(plus, sigma, order=o, mode="constant", truncate=30.0)
            for o in ((0, 0, 1), (0, 1, 0), (1, 0, 0))
        ],
        -1,
    )
    above = rho > threshold
    unit = grad / np.linalg.norm(grad, axis=-1, keepdims=True)
    np.testing.assert_allclose(
        M.density_vectors(rho, threshold, sigma)[above], unit[above], atol=1e-7
    )


# -- scores and their Z-scores ---------------------------------------------------------------------


@given(seed=seeds())
def test_pearson_and_z_scores_match_numpy_and_scipy(seed) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(4, 5, 6)), rng.normal(size=(4, 5, 6))
    assert M.pearson_cc(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    s = rng.gamma(3.0, size=50)
    np.testing.assert_allclose(M.z_scores(s), stats.zscore(s), atol=1e-12)
    np.testing.assert_allclose(M.z_scores(3.0 * s + 7.0), M.z_scores(s), atol=1e-12)


def _cluster_score_py(s: np.ndarray, cutoff: float) -> np.ndarray:
    """VESPER's ``cluster_score.py``, with the tie rule of ``vesper_z_scores``."""
    max_d = cutoff * (s.max() - s.min())
    clusters = fcluster(linkage([[x] for x in s], "single"), max_d, criterion="distance")
    count = Counter(clusters)
    best = max(count.values())
    tied = [c for c in count if count[c] == best]
    first = min(tied, key=lambda c: s[clusters == c].min())
    big = s[clusters == first]
    return (s - big.mean()) / big.std()


@settings(max_examples=60, deadline=None)
@given(seed=seeds(), cutoff=st.floats(0.02, 0.5))
def test_normalised_z_scores_are_vespers_single_linkage_clustering(seed, cutoff) -> None:
    rng = np.random.default_rng(seed)
    bulk = rng.normal(10.0, 1.0, size=int(rng.integers(20, 80)))
    tail = rng.uniform(12.0, 25.0, size=int(rng.integers(0, 8)))
    s = np.concatenate([bulk, tail])
    rng.shuffle(s)
    np.testing.assert_allclose(
        M.vesper_z_scores(s, cutoff), _cluster_score_py(s, cutoff), atol=1e-9
    )


def test_clusters_split_at_gaps_wider_than_the_distance() -> None:
    s = np.array([5.0, 1.0, 1.5, 9.0, 2.0, 5.2])
    np.testing.assert_array_equal(M.cluster_labels_1d(s, 1.0), [1, 0, 0, 2, 0, 1])
    np.testing.assert_array_equal(M.cluster_labels_1d(s, 0.5), [1, 0, 0, 2, 0, 1])  # 0.5 = a gap
    np.testing.assert_array_equal(M.cluster_labels_1d(s, 0.49), [3, 0, 1, 4, 2, 3])
