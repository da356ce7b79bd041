"""Hidden checks of problem set 7 (map alignment, VESPER-style). Grader-side only: never released,
never in the learner's sandbox. See ``autograder.checks.function``.

Every map is drawn here, per learner: molecules of Gaussian atoms (``reference_impl.map_alignment``)
of other sizes, resolutions and shapes than the notebook's (odd, even and non-cubic boxes), rotated
by a rotation of problem set 5's grid (``reference_impl.sampling.orientation_grid_matrix``, steps of
40–48° so that a search takes a fraction of a second), shifted and noisy. The answers are compared
with ``reference_impl.map_alignment``:

* Parts A–C, E and the pieces of F: values, array for array — the conventions (``[z, y, x]``
  volumes, xyz positions relative to the centre ``n//2``, ``V(Rᵀr)``, zero outside the box,
  ``C[t] = Σ a[p] b[p + t]``, wrapped xyz shifts) are stated in the notebook and each has a named
  mistake;
* the searches (D, F) twice: on the **transform** they recover (the index of the best rotation of
  the grid passed in, and its shift, against the truth, which the reference recovers too — maps
  where it does not are redrawn) and on the **scores** themselves (every rotation's best score,
  and the shifts of the five best rotations). The truth and the reference's answer travel in the
  case's ``key``, computed once when the case is drawn;
* the Z-scores (G) and the experiments of questions 4 and 6 (H, I) as values, and the short
  answers read from the notebook's experiments.

Answers stay small: no part returns more than about 150 KiB (the kernel's output cap is 256 KiB
per part), maps of at most 16³ are sent in, and no volume of more than 10³ voxels comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks import (
    Case,
    FunctionCheck,
    Mistake,
    Part,
    ValueCheck,
    allclose,
    as_array,
    choice,
)
from reference_impl import map_alignment as M
from reference_impl import quaternion as Q
from reference_impl import sampling as S

PI = np.pi

# -- drawing maps ---------------------------------------------------------------------------------


def rotation(rng: np.random.Generator) -> np.ndarray:
    return Q.quat_to_matrix(Q.random_quat(None, rng))


def ball_atoms(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    x = rng.normal(size=(n, 3))
    return x * (rng.uniform(0, 1, n) ** (1 / 3) * radius / np.linalg.norm(x, axis=1))[:, None]


def box(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int, int]:
    """A box shape (nz, ny, nx) with sides in [lo, hi], at least one even and one odd."""
    while True:
        s = tuple(int(n) for n in rng.integers(lo, hi + 1, size=3))
        if len({n % 2 for n in s}) == 2:
            return s  # type: ignore[return-value]


def molecule(rng: np.random.Generator, shape, n_atoms=(6, 12), radius=3.0) -> np.ndarray:
    """A map of Gaussian atoms with noise, scaled to a maximum of about 1."""
    atoms = ball_atoms(rng, int(rng.integers(*n_atoms)), radius)
    v = M.gaussian_map(atoms, shape, rng.uniform(3.5, 5.5))
    return v / v.max() + rng.normal(scale=0.03, size=shape)


def close(rtol=1e-8, atol=1e-10):
    return allclose(rtol, atol)


def tags(case: Case) -> dict:
    return case.key if isinstance(case.key, dict) else {}


# -- A: Gaussian atoms ----------------------------------------------------------------------------


def gaussian_cases(rng):
    visible = [Case((np.array([[2.0, -1.0, 0.0]]), (6, 7, 8), 3.0), label="one atom", visible=True)]
    cases = []
    for _ in range(6):
        shape = box(rng, 5, 10)
        half = np.array(shape[::-1]) / 2
        atoms = rng.uniform(-half + 0.5, half - 0.5, size=(int(rng.integers(1, 8)), 3))
        cases.append(Case((atoms, shape, float(rng.uniform(2.0, 7.0)))))
    return visible + cases


def _centre_offset(shape) -> np.ndarray:
    """(n − 1)/2 − n//2 per xyz axis: −½ on even axes, 0 on odd ones."""
    n = np.array(tuple(shape)[::-1], dtype=float)
    return (n - 1) / 2 - n // 2


PART_A = Part(
    "test_gaussian_map",
    "Part A — maps of Gaussian atoms",
    [
        FunctionCheck(
            "gaussian_map",
            gaussian_cases,
            M.gaussian_map,
            close(1e-9, 1e-12),
            mistakes=[
                Mistake(
                    "x along the first axis",
                    "Your map has x on axis 0: a volume is indexed [z, y, x], so x runs along the "
                    "last axis (the voxel [k, j, i] is at (i − nx//2, j − ny//2, k − nz//2)).",
                    lambda c, shape, res: M.gaussian_map(np.asarray(c)[:, ::-1], shape, res),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "σ = resolution",
                    "Your atoms are too wide: σ = resolution / (π√2) ≈ 0.225 × resolution, not the "
                    "resolution itself.",
                    lambda c, shape, res: M.gaussian_map(c, shape, res * PI * np.sqrt(2)),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "centre at (n − 1)/2",
                    "Your centre is (n − 1)/2, between two voxels for an even size: the centre is "
                    "the voxel n//2 on every axis (even and odd sizes alike).",
                    lambda c, shape, res: M.gaussian_map(
                        np.asarray(c) + _centre_offset(shape), shape, res
                    ),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "normalised Gaussians",
                    "Your atoms are normalised densities, 1/(2πσ²)^(3/2) × exp(…): here each atom has "
                    "peak height 1.",
                    lambda c, shape, res: (
                        M.gaussian_map(c, shape, res) / (2 * PI * M.molmap_sigma(res) ** 2) ** 1.5
                    ),
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
    ],
)

# -- B: trilinear resampling and rotation ---------------------------------------------------------


def trilinear_cases(rng):
    v = np.arange(120.0).reshape(4, 5, 6)
    ones = np.ones((4, 5, 6))
    visible = [
        Case((v, np.array([2.5, 1.0, 3.0])), label="halfway along x", visible=True),
        Case((ones, np.array([-0.25, 2.0, 1.0])), label="a quarter voxel outside", visible=True),
    ]
    cases = []
    for _ in range(4):
        shape = box(rng, 3, 8)
        n = np.array(shape[::-1], dtype=float)
        pts = rng.uniform(-1.5, n + 0.5, size=(40, 3))
        pts[:4] = np.floor(pts[:4])  # on lattice nodes, some of them on the border
        cases.append(Case((rng.normal(size=shape), pts)))
    shape = box(rng, 3, 6)
    cases.append(
        Case(
            (rng.normal(size=shape), rng.uniform(-1, np.array(shape[::-1]), size=(5, 4, 3))),
            label="points in a (5, 4, 3) batch",
        )
    )
    shape = box(rng, 3, 6)
    one = rng.uniform(0, np.array(shape[::-1]) - 1)
    cases.append(Case((rng.normal(size=shape), one), label="one point (3,): a float"))
    return visible + cases


def _trilinear_clamped(v, u):
    """Edge values repeated outside the box (np.clip on the indices, no zero)."""
    v = np.asarray(v, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    n = np.array(v.shape[::-1])
    base = np.floor(u).astype(np.int64)
    f = u - base
    out = np.zeros(u.shape[:-1])
    for corner in np.ndindex(2, 2, 2):
        c = np.clip(base + np.array(corner), 0, n - 1)
        w = np.prod(np.where(np.array(corner) == 1, f, 1 - f), axis=-1)
        out += w * v[c[..., 2], c[..., 1], c[..., 0]]
    return out


def _trilinear_zero_beyond_edge(v, u):
    """0 for any point outside [0, n − 1] on an axis, interpolated inside."""
    u = np.asarray(u, dtype=np.float64)
    n = np.array(np.shape(v)[::-1])
    inside = np.all((u >= 0) & (u <= n - 1), axis=-1)
    return np.where(inside, M.trilinear_sample(v, u), 0.0)


def _nearest(v, u):
    return M.trilinear_sample(v, np.floor(np.asarray(u, dtype=np.float64) + 0.5))


def rotate_cases(rng):
    cube = np.random.default_rng(1).normal(size=(9, 9, 9))
    rz = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    visible = [
        Case((cube, np.eye(3)), label="the identity", visible=True),
        Case((cube, rz), label="+90° about z", visible=True),
    ]
    cases = [Case((rng.normal(size=box(rng, 6, 11)), rotation(rng))) for _ in range(4)]
    shape = box(rng, 8, 11)
    cases.append(Case((molecule(rng, shape), rotation(rng)), label="a map of atoms"))
    return visible + cases


_REVERSE = np.eye(3)[::-1]


def _rotate_about(v, R, centre_xyz):
    v = np.asarray(v, dtype=np.float64)
    nz, ny, nx = v.shape
    z, y, x = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    r = np.stack([x, y, z], -1) - centre_xyz
    return M.trilinear_sample(v, r @ np.asarray(R) + centre_xyz)


def _rotate_half_centre(v, R):
    return _rotate_about(v, R, (np.array(np.shape(v)[::-1]) - 1) / 2)


def _rotate_nearest(v, R):
    nz, ny, nx = np.shape(v)
    centre = np.array([nx // 2, ny // 2, nz // 2])
    z, y, x = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    r = np.stack([x, y, z], -1) - centre
    return _nearest(v, r @ np.asarray(R) + centre)


PART_B = Part(
    "test_rotate",
    "Part B — rotating a volume: trilinear resampling",
    [
        FunctionCheck(
            "trilinear",
            trilinear_cases,
            M.trilinear_sample,
            close(1e-9, 1e-10),
            mistakes=[
                Mistake(
                    "edge values repeated outside the box",
                    "Outside the box your interpolation repeats the border voxels (clipped "
                    "indices): the volume is zero there — a corner outside the box counts as 0.",
                    _trilinear_clamped,
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "zero beyond the outer voxels' centres",
                    "Your interpolation is 0 as soon as a point leaves [0, n − 1] on an axis: "
                    "interpolate with the zero outside instead, so that a point half a voxel "
                    "outside gets half of the border voxel's value.",
                    _trilinear_zero_beyond_edge,
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "u read as (u_z, u_y, u_x)",
                    "u = (u_x, u_y, u_z): u_x runs along the last axis, so trilinear(V, (i, j, k)) "
                    "is V[k, j, i].",
                    lambda v, u: M.trilinear_sample(v, np.asarray(u)[..., ::-1]),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "nearest neighbour",
                    "Your values jump from voxel to voxel (nearest neighbour): weight the 8 corners "
                    "by Π(1 − |u − c|).",
                    _nearest,
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "rotate_volume",
            rotate_cases,
            M.rotate_volume,
            close(1e-8, 1e-10),
            weight=2.0,
            mistakes=[
                Mistake(
                    "the inverse rotation (V sampled at R r)",
                    "Your volume turns the other way: rotating by R samples V at Rᵀ r (what was at "
                    "r is then at R r); with positions as rows, Rᵀ r is r @ R.",
                    lambda v, R: M.rotate_volume(v, np.asarray(R).T),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "positions in (z, y, x) order",
                    "You rotated the index vector (k, j, i): R acts on (x, y, z) positions, "
                    "(i − nx//2, j − ny//2, k − nz//2).",
                    lambda v, R: M.rotate_volume(v, _REVERSE @ np.asarray(R) @ _REVERSE),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "centre at (n − 1)/2",
                    "You rotated about (n − 1)/2: the centre is the voxel n//2 on every axis.",
                    _rotate_half_centre,
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "nearest neighbour",
                    "Your rotated volume takes the nearest voxel's value: interpolate trilinearly.",
                    _rotate_nearest,
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
    ],
)

# -- C: every shift at once -----------------------------------------------------------------------


def correlation_cases(rng):
    a = np.random.default_rng(2).normal(size=(3, 4, 5))
    b = np.random.default_rng(3).normal(size=(3, 4, 5))
    visible = [Case((a, b), label="two (3, 4, 5) volumes", visible=True)]
    cases = []
    for _ in range(3):
        shape = box(rng, 4, 9)
        cases.append(Case((rng.normal(size=shape), rng.normal(size=shape))))
    shape = box(rng, 6, 9)
    m = molecule(rng, shape)
    t = [int(rng.integers(-(n // 2), (n - 1) // 2 + 1)) for n in shape[::-1]]
    cases.append(Case((m, M.shift_volume(m, t)), label="a map and its shifted copy"))
    return visible + cases


def _convolution(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.fft.ifftn(np.fft.fftn(a) * np.fft.fftn(b)).real


def peak_cases(rng):
    c = np.zeros((4, 5, 6))
    c[2, 2, 3] = 1.0
    visible = [Case((c,), label="a peak at [2, 2, 3] of (4, 5, 6)", visible=True)]
    cases = []
    for _ in range(7):
        shape = box(rng, 3, 9)
        scores = rng.uniform(-1, 1, size=shape)
        # the peak in the upper half of each axis half of the time: indices that wrap
        idx = tuple(
            int(rng.integers(n // 2, n)) if rng.random() < 0.6 else int(rng.integers(n))
            for n in shape
        )
        scores[idx] = 2.0
        cases.append(Case((scores,)))
    return visible + cases


def _peak_unwrapped(c):
    c = np.asarray(c)
    return np.array(np.unravel_index(int(np.argmax(c)), c.shape))[::-1]


def _peak_zyx(c):
    return M.peak_shift(c)[::-1]


PART_C = Part(
    "test_translation",
    "Part C — every shift at once: cross-correlation by FFT",
    [
        FunctionCheck(
            "translation_scores",
            correlation_cases,
            M.translation_scores,
            close(1e-8, 1e-9),
            weight=1.5,
            mistakes=[
                Mistake(
                    "the conjugate on the other factor (C[−t])",
                    "Your scores are C[−t]: conjugate the transform of a, the first argument — "
                    "C = IDFT(conj(DFT a) · DFT b) is Σ a[p] b[p + t].",
                    lambda a, b: M.translation_scores(b, a),
                    compare=close(1e-7, 1e-8),
                ),
                Mistake(
                    "convolution (no conjugate)",
                    "IDFT(DFT a · DFT b) is the convolution Σ a[p] b[t − p]; the correlation "
                    "conjugates one factor: IDFT(conj(DFT a) · DFT b).",
                    _convolution,
                    compare=close(1e-7, 1e-8),
                ),
            ],
        ),
        FunctionCheck(
            "peak_shift",
            peak_cases,
            M.peak_shift,
            allclose(0.0, 0.0),
            mistakes=[
                Mistake(
                    "(t_z, t_y, t_x) order",
                    "Your shift is in the array's [z, y, x] order: return (t_x, t_y, t_z).",
                    _peak_zyx,
                    compare=allclose(0.0, 0.0),
                ),
                Mistake(
                    "indices not wrapped",
                    "An index m > (n − 1)//2 is the negative shift m − n (the array holds shifts "
                    "modulo n).",
                    _peak_unwrapped,
                    compare=allclose(0.0, 0.0),
                ),
            ],
        ),
    ],
)

# -- D and F: the searches ------------------------------------------------------------------------

STEPS_DEG = (40.0, 48.0)  # 133–207 rotations: a search in well under a second


def _moved_pair(rng: np.random.Generator, shape, grid: np.ndarray, radius: float):
    atoms = ball_atoms(rng, int(rng.integers(10, 17)), radius)
    res = float(rng.uniform(3.5, 5.0))
    idx = int(rng.integers(len(grid)))
    t = rng.integers(-2, 3, size=3)
    a = M.gaussian_map(atoms, shape, res)
    b = M.gaussian_map(atoms @ grid[idx].T + t, shape, res)
    b = b + rng.normal(scale=rng.uniform(0.04, 0.1), size=shape)
    return a, b, idx, t


def _recovered(scores: np.ndarray, shifts: np.ndarray, idx: int, t: np.ndarray) -> bool:
    top = np.sort(scores)[::-1]
    return (
        int(np.argmax(scores)) == idx
        and np.array_equal(shifts[idx], t)
        and top[0] > 1.02 * top[1]  # an unambiguous best rotation
    )


def search_cases(rng, n: int = 2):
    """Pairs of 14³ maps, B = S_t(R·A) + noise with R on the grid passed in (the truth), which the
    reference search recovers unambiguously (else the pair is redrawn)."""
    cases: list[Case] = []
    while len(cases) < n:
        grid = S.orientation_grid_matrix(np.deg2rad(rng.uniform(*STEPS_DEG)))
        a, b, idx, t = _moved_pair(rng, (14, 14, 14), grid, 4.0)
        scores, shifts = M.rotational_search(a, b, grid)
        if _recovered(scores, shifts, idx, t):
            key = {"index": idx, "shift": t, "scores": scores, "shifts": shifts}
            cases.append(Case((a, b, grid), label=f"{len(grid)} rotations", key=key))
    return cases


def dot_search_cases(rng, n: int = 1, threshold: float = 0.3, sigma: float = 1.5):
    """As ``search_cases``, for the vector fields of 12³ maps."""
    cases: list[Case] = []
    while len(cases) < n:
        grid = S.orientation_grid_matrix(np.deg2rad(rng.uniform(*STEPS_DEG)))
        a, b, idx, t = _moved_pair(rng, (12, 12, 12), grid, 3.5)
        va, vb = M.density_vectors(a, threshold, sigma), M.density_vectors(b, threshold, sigma)
        scores, shifts = M.rotational_search_dot(va, vb, grid)
        if _recovered(scores, shifts, idx, t):
            key = {"index": idx, "shift": t, "scores": scores, "shifts": shifts}
            cases.append(Case((va, vb, grid), label=f"{len(grid)} rotations", key=key))
    return cases


def _search_answer(value: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None, None, "did not return the pair (scores, shifts)"
    scores, problem = as_array(value[0])
    if problem or scores is None:
        return None, None, f"scores: {problem}"
    shifts, problem = as_array(value[1])
    if problem or shifts is None:
        return None, None, f"shifts: {problem}"
    if scores.shape != (n,):
        return None, None, f"scores of shape {scores.shape} for {n} rotations"
    if shifts.shape != (n, 3):
        return None, None, f"shifts of shape {shifts.shape} for {n} rotations"
    if not np.all(np.isfinite(scores)):
        return None, None, "scores hold NaN or infinity"
    return scores.astype(np.float64), shifts, None


def recovered_transform():
    """The transform of the best score: the truth's rotation (an index of the grid passed in) and
    its shift."""

    def compare(value, expected, case):
        n = len(case.args[2])
        scores, shifts, problem = _search_answer(value, n)
        if problem or scores is None or shifts is None:
            return problem
        key = tags(case)
        best = int(np.argmax(scores))
        if best != key["index"]:
            return "the best score is not at the rotation that moved the map"
        if not np.array_equal(np.asarray(shifts[best]).astype(np.int64), key["shift"]):
            return "the right rotation, but the wrong shift"
        return None

    return compare


def same_scores(rtol: float = 1e-6):
    """Every rotation's best score, and the shifts of the reference's five best rotations."""

    def compare(value, expected, case):
        n = len(case.args[2])
        scores, shifts, problem = _search_answer(value, n)
        if problem or scores is None or shifts is None:
            return problem
        if expected is None:
            want_scores, want_shifts = tags(case)["scores"], tags(case)["shifts"]
        else:
            want_scores, want_shifts = (np.asarray(x) for x in expected)
        scale = float(np.abs(want_scores).max())
        err = float(np.abs(scores - want_scores).max())
        if err > rtol * scale:
            return f"scores differ from the reference's (largest difference {err / scale:.2g} of the best)"
        top = np.argsort(want_scores)[::-1][:5]
        if not np.array_equal(np.asarray(shifts)[top].astype(np.int64), want_shifts[top]):
            return "the scores are right, but some shifts are not"
        return None

    return compare


def _search_swapped(a, b, rotations):
    """B rotated against A: max_t C[A, R·B]."""
    rots = np.asarray(rotations)
    scores, shifts = np.empty(len(rots)), np.empty((len(rots), 3), dtype=np.int64)
    for i, R in enumerate(rots):
        c = M.translation_scores(a, M.rotate_volume(b, R))
        scores[i], shifts[i] = c.max(), M.peak_shift(c)
    return scores, shifts


def _search_no_shift(a, b, rotations):
    rots = np.asarray(rotations)
    scores = np.array([np.sum(M.rotate_volume(a, R) * np.asarray(b)) for R in rots])
    return scores, np.zeros((len(rots), 3), dtype=np.int64)


def _search_inverse(a, b, rotations):
    return M.rotational_search(a, b, np.swapaxes(np.asarray(rotations), -1, -2))


SEARCH_MISTAKES = [
    Mistake(
        "the inverse rotation",
        "Your search tries Rᵢᵀ where it should try Rᵢ: rotate_volume(a, Rᵢ) is a rotated by Rᵢ "
        "(sampled at Rᵢᵀ r). Check Part B.",
        _search_inverse,
    ),
    Mistake(
        "b rotated instead of a",
        "You rotated b and kept a: the transform (R, t) takes A to B, B ≈ S_t(R·A), so the "
        "search rotates a and correlates it with b.",
        _search_swapped,
    ),
    Mistake(
        "no translation search",
        "Your scores are the correlation at zero shift: each rotation's score is the maximum of "
        "C over all the shifts (Part C), and its shift is where that maximum is.",
        _search_no_shift,
    ),
]

PART_D = Part(
    "test_search",
    "Part D — an exhaustive rotational search",
    [
        FunctionCheck(
            "rotational_search",
            search_cases,
            None,
            recovered_transform(),
            mistakes=SEARCH_MISTAKES,
            diagnose=same_scores(1e-4),
            title="`rotational_search`: the recovered transform",
        ),
        FunctionCheck(
            "rotational_search",
            search_cases,
            None,
            same_scores(),
            mistakes=SEARCH_MISTAKES,
            diagnose=same_scores(1e-4),
            title="`rotational_search`: the scores of every rotation",
        ),
    ],
)

# -- E: local density vectors ---------------------------------------------------------------------


def vector_cases(rng):
    atom = np.array([[0.3, -0.6, 0.2]])
    visible = [
        Case(
            (M.gaussian_map(atom, (9, 10, 11), 5.0), 0.1, 1.5),
            label="one atom in a (9, 10, 11) box",
            visible=True,
        )
    ]
    cases = []
    for k in range(3):
        shape = box(rng, 7, 10)
        m = molecule(rng, shape, n_atoms=(5, 10), radius=3.5 + k)  # larger: density at the border
        cases.append(Case((m, float(rng.uniform(0.15, 0.4)), float(rng.uniform(1.0, 2.0)))))
    n = 2 * int(rng.integers(3, 5)) + 1  # odd: the atom sits on the centre voxel, m ≈ 0 there
    on_voxel = M.gaussian_map(np.zeros((1, 3)), (n, n, n), float(rng.uniform(3.5, 5.0)))
    cases.append(Case((on_voxel, 0.1, 1.5), label="an atom on the centre voxel (m ≈ 0 there)"))
    return visible + cases


def vectors_close(atol: float = 1e-7):
    """Vector fields equal to ``atol``, except at voxels where the reference's mean-shift vector
    is so short (below 1e-8 of the longest) that its direction is rounding."""

    def compare(value, expected, case):
        arr, problem = as_array(value)
        if problem or arr is None:
            return problem
        exp = np.asarray(expected, dtype=np.float64)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        vol, threshold, sigma = case.args
        m = np.linalg.norm(M.mean_shift_field(vol, threshold, sigma), axis=-1)
        sure = m > 1e-8 * m.max()
        err = np.abs(arr.astype(np.float64) - exp).max(axis=-1)
        if np.all(err[sure] <= atol):
            return None
        return f"wrong vectors at {int(np.sum(err[sure] > atol))} voxels"

    return compare


def _unit(m, keep):
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    return np.where(keep[..., None] & (norm > 0), m / np.where(norm > 0, norm, 1.0), 0.0)


def _vectors_unnormalised(vol, threshold, sigma):
    vol = np.asarray(vol)
    return np.where((vol > threshold)[..., None], M.mean_shift_field(vol, threshold, sigma), 0.0)


def _vectors_everywhere(vol, threshold, sigma):
    m = M.mean_shift_field(vol, threshold, sigma)
    return _unit(m, np.ones(np.shape(vol), dtype=bool))


def _vectors_unthresholded_weights(vol, threshold, sigma):
    vol = np.asarray(vol, dtype=np.float64)
    return _unit(M.mean_shift_field(vol, -np.inf, sigma), vol > threshold)


def _vectors_circular(vol, threshold, sigma):
    """Sums that wrap around the box (an FFT convolution with the periodic kernel)."""
    vol = np.asarray(vol, dtype=np.float64)
    plus = np.where(vol > threshold, vol, 0.0)
    d = [np.where(np.arange(n) > (n - 1) // 2, np.arange(n) - n, np.arange(n)) for n in vol.shape]
    dz, dy, dx = np.meshgrid(*d, indexing="ij")
    k = np.exp(-(dx**2 + dy**2 + dz**2) / (2 * sigma**2))
    fp = np.fft.fftn(plus)
    m = np.stack(
        [np.fft.ifftn(np.conj(np.fft.fftn(k * c)) * fp).real for c in (dx, dy, dz)], axis=-1
    )
    # ifftn(conj(K̂) P̂)[p] = Σ_q K(q − p) P(q) for a real K: the kernel sits at q − p
    return _unit(m, vol > threshold)


PART_E = Part(
    "test_vectors",
    "Part E — local density vectors: VESPER's mean shift",
    [
        FunctionCheck(
            "density_vectors",
            vector_cases,
            M.density_vectors,
            vectors_close(),
            mistakes=[
                Mistake(
                    "vectors pointing away from the peak",
                    "Your vectors point down the density: m(p) = Σ ρ₊(q) K(q − p) (q − p), from p "
                    "towards the weighted mean position.",
                    lambda vol, t, s: -M.density_vectors(vol, t, s),
                    compare=vectors_close(1e-6),
                ),
                Mistake(
                    "components in (z, y, x) order",
                    "The last axis holds (v_x, v_y, v_z): yours is in the array's [z, y, x] order.",
                    lambda vol, t, s: M.density_vectors(vol, t, s)[..., ::-1],
                    compare=vectors_close(1e-6),
                ),
                Mistake(
                    "not normalised",
                    "Divide m(p) by its length: VESPER's vectors are unit vectors, so that every "
                    "voxel counts the same in the DOT score.",
                    _vectors_unnormalised,
                    compare=vectors_close(1e-6),
                ),
                Mistake(
                    "vectors below the threshold",
                    "Voxels whose density is at or below the threshold get the zero vector.",
                    _vectors_everywhere,
                    compare=vectors_close(1e-6),
                ),
                Mistake(
                    "density not thresholded in the sum",
                    "The weights use ρ₊, the density with every value at or below the threshold "
                    "set to 0, not ρ itself.",
                    _vectors_unthresholded_weights,
                    compare=vectors_close(1e-6),
                ),
                Mistake(
                    "sums wrapping around the box",
                    "Your sums wrap around the box (a circular FFT convolution): here the box does "
                    "not repeat — sum over the voxels q of the box only, q − p without wrapping.",
                    _vectors_circular,
                    compare=vectors_close(1e-6),
                ),
            ],
        ),
    ],
)

# -- F: the DOT score -----------------------------------------------------------------------------


def field_cases(rng):
    f = np.zeros((9, 9, 9, 3))
    f[..., 0] = 1.0
    rz = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    visible = [Case((f, rz), label="+x everywhere, +90° about z", visible=True)]
    cases = [Case((rng.normal(size=(*box(rng, 5, 8), 3)), rotation(rng))) for _ in range(3)]
    return visible + cases


def _field_not_turned(f, R):
    f = np.asarray(f, dtype=np.float64)
    return np.stack([M.rotate_volume(f[..., k], R) for k in range(3)], axis=-1)


def dot_cases(rng):
    cases = []
    for _ in range(3):
        shape = box(rng, 4, 8)
        cases.append(Case((rng.normal(size=(*shape, 3)), rng.normal(size=(*shape, 3)))))
    return cases


def _dot_search_not_turned(va, vb, rotations):
    rots = np.asarray(rotations)
    scores, shifts = np.empty(len(rots)), np.empty((len(rots), 3), dtype=np.int64)
    for i, R in enumerate(rots):
        d = M.dot_translation_scores(_field_not_turned(va, R), vb)
        scores[i], shifts[i] = d.max(), M.peak_shift(d)
    return scores, shifts


def _dot_search_inverse(va, vb, rotations):
    return M.rotational_search_dot(va, vb, np.swapaxes(np.asarray(rotations), -1, -2))


DOT_SEARCH_MISTAKES = [
    Mistake(
        "vectors moved but not turned",
        "Your search moves the vectors to their rotated positions without turning them: a "
        "rotated field is R v(Rᵀ r) — rotate_vector_field.",
        _dot_search_not_turned,
    ),
    Mistake(
        "the inverse rotation",
        "Your search tries Rᵢᵀ where it should try Rᵢ (rotate va by Rᵢ).",
        _dot_search_inverse,
    ),
]

PART_F = Part(
    "test_dot",
    "Part F — the DOT score, at every shift and every rotation",
    [
        FunctionCheck(
            "rotate_vector_field",
            field_cases,
            M.rotate_vector_field,
            close(1e-8, 1e-10),
            mistakes=[
                Mistake(
                    "vectors moved but not turned",
                    "Your vectors keep their directions: a rotated field is R v(Rᵀ r) — after "
                    "interpolating the components, turn every vector by R (rows: field @ R.T).",
                    _field_not_turned,
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "vectors turned by Rᵀ",
                    "Your vectors turn the wrong way: turn them by R (as rows, field @ R.T).",
                    lambda f, R: _field_not_turned(f, R) @ np.asarray(R),
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "dot_translation_scores",
            dot_cases,
            M.dot_translation_scores,
            close(1e-8, 1e-9),
            mistakes=[
                Mistake(
                    "the conjugate on the other factor (DOT[−t])",
                    "Your scores are DOT[−t]: DOT[t] = Σ va[p] · vb[p + t], the correlation of "
                    "Part C for each component, va first.",
                    lambda va, vb: M.dot_translation_scores(vb, va),
                    compare=close(1e-7, 1e-8),
                ),
            ],
        ),
        FunctionCheck(
            "rotational_search_dot",
            dot_search_cases,
            None,
            recovered_transform(),
            weight=1.5,
            mistakes=DOT_SEARCH_MISTAKES,
            diagnose=same_scores(1e-4),
            title="`rotational_search_dot`: the recovered transform",
        ),
        FunctionCheck(
            "rotational_search_dot",
            dot_search_cases,
            None,
            same_scores(),
            weight=1.5,
            mistakes=DOT_SEARCH_MISTAKES,
            diagnose=same_scores(1e-4),
            title="`rotational_search_dot`: the scores of every rotation",
        ),
    ],
)

# -- G: Z-scores ----------------------------------------------------------------------------------


def z_cases(rng):
    visible = [Case((np.array([3.0, 1.0, 2.0, 6.0]),), label="(3, 1, 2, 6)", visible=True)]
    cases = [Case((rng.gamma(3.0, size=int(rng.integers(20, 300))) * 10,)) for _ in range(4)]
    return visible + cases


def _clustered_scores(rng) -> np.ndarray:
    """Best scores of a search: a bulk, a few good alignments and the right one with its close
    neighbours (2–4 scores within 4 of each other, so that the cluster of the best score has a
    spread); no tie for the largest cluster at the cutoffs used."""
    bulk = rng.normal(100.0, 8.0, size=int(rng.integers(60, 250)))
    good = rng.uniform(140.0, 170.0, size=int(rng.integers(2, 8)))
    best = rng.uniform(200.0, 260.0) + rng.uniform(-2.0, 2.0, size=int(rng.integers(2, 5)))
    s = np.concatenate([bulk, good, best])
    rng.shuffle(s)
    return s


def vesper_cases(rng):
    s = np.array([5.0, 1.0, 1.5, 9.0, 2.0, 5.2, 1.2])
    visible = [Case((s,), label="seven scores, three clusters", visible=True)]
    cases = [Case((_clustered_scores(rng),)) for _ in range(3)]
    cases += [Case((_clustered_scores(rng), float(c))) for c in rng.uniform(0.05, 0.3, size=3)]
    return visible + cases


def _largest_cluster_z(
    s, cutoff=0.2, pick: Callable[[np.ndarray, np.ndarray], int] | None = None, ddof=0, scale=None
):
    s = np.asarray(s, dtype=np.float64)
    distance = cutoff * ((s.max() - s.min()) if scale is None else scale(s))
    labels = M.cluster_labels_1d(s, distance)
    chosen = int(np.argmax(np.bincount(labels))) if pick is None else pick(s, labels)
    cluster = s[labels == chosen]
    return (s - cluster.mean()) / cluster.std(ddof=ddof)


PART_G = Part(
    "test_zscores",
    "Part G — Z-scores (question 1)",
    [
        FunctionCheck(
            "z_scores",
            z_cases,
            M.z_scores,
            close(1e-9, 1e-10),
            mistakes=[
                Mistake(
                    "sample standard deviation (ddof = 1)",
                    "Use the population standard deviation (np.std's default, ddof = 0), as "
                    "VESPER does.",
                    lambda s: (np.asarray(s) - np.mean(s)) / np.std(s, ddof=1),
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "vesper_z_scores",
            vesper_cases,
            M.vesper_z_scores,
            close(1e-9, 1e-10),
            weight=2.0,
            mistakes=[
                Mistake(
                    "the mean and std of all the scores",
                    "Your normalised Z-scores use every score: the mean and standard deviation "
                    "come from the largest single-linkage cluster only.",
                    lambda s, cutoff=0.2: M.z_scores(s),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "the cluster of the best score",
                    "You took the cluster holding the highest score: take the largest cluster "
                    "(the most scores), the bulk of the alignments tried.",
                    lambda s, cutoff=0.2: _largest_cluster_z(
                        s, cutoff, pick=lambda v, lab: int(lab[int(np.argmax(v))])
                    ),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "cutoff times the maximum",
                    "The clustering distance is cutoff × (max − min) of the scores, not cutoff × "
                    "max.",
                    lambda s, cutoff=0.2: _largest_cluster_z(s, cutoff, scale=np.max),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "sample standard deviation (ddof = 1)",
                    "Use the population standard deviation of the cluster (ddof = 0).",
                    lambda s, cutoff=0.2: _largest_cluster_z(s, cutoff, ddof=1),
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
        ValueCheck(
            "Q1_HIGHER_RAW",
            "decoy",
            choice(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "raw scores read as comparable",
                    "The decoy pair's raw DOT score is the higher: a raw DOT score counts the "
                    "matched vectors, and large maps have many more of them, right or wrong.",
                    lambda: "true",
                ),
            ],
        ),
        ValueCheck(
            "Q1_HIGHER_Z",
            "true",
            choice(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "Z-score read as the raw score",
                    "The true pair's best alignment stands further above the other rotations' "
                    "scores, in units of their spread: that is what the Z-score measures, "
                    "whatever the maps' size — the end of question 1.",
                    lambda: "decoy",
                ),
            ],
        ),
    ],
)

# -- H: hollow maps (question 4) ------------------------------------------------------------------


def _shell(rng, n, r0, r1):
    x = rng.normal(size=(n, 3))
    return x * (rng.uniform(r0, r1, n) / np.linalg.norm(x, axis=1))[:, None]


def hollow_cases(rng):
    cases = []
    for _ in range(2):
        n = int(rng.integers(14, 17))
        shape = (n, n + int(rng.integers(0, 2)), n)
        shell = _shell(rng, int(rng.integers(50, 70)), 4.5, 5.5)
        inside = ball_atoms(rng, int(rng.integers(4, 10)), 1.5)
        res = float(rng.uniform(3.5, 4.5))
        h = M.gaussian_map(shell, shape, res)
        f = M.gaussian_map(np.vstack([shell, inside]), shape, res)
        cases.append(Case((h, f, float(0.3 * h.max()), float(rng.uniform(1.0, 1.8)))))
    shape = box(rng, 8, 11)
    cases.append(
        Case((molecule(rng, shape), molecule(rng, shape), 0.3, 1.5), label="two molecules")
    )
    return cases


def _hollow_scores(h, f, threshold, sigma):
    vh, vf = M.density_vectors(h, threshold, sigma), M.density_vectors(f, threshold, sigma)
    hf, hh, ff = (float(np.sum(x * y)) for x, y in ((vh, vf), (vh, vh), (vf, vf)))
    return hf / hh, hf / np.sqrt(hh * ff), M.pearson_cc(h, f)


def _normalised_cc(h, f):
    h, f = np.asarray(h, dtype=np.float64), np.asarray(f, dtype=np.float64)
    return float(np.sum(h * f) / np.sqrt(np.sum(h * h) * np.sum(f * f)))


PART_H = Part(
    "test_hollow",
    "Part H — hollow maps (question 4)",
    [
        FunctionCheck(
            "hollow_scores",
            hollow_cases,
            _hollow_scores,
            close(1e-8, 1e-10),
            weight=2.0,
            mistakes=[
                Mistake(
                    "Pearson without the means",
                    "Your third number is Σ H F / √(Σ H² Σ F²), the normalised cross-correlation: "
                    "Pearson's coefficient subtracts each map's mean over the box first.",
                    lambda h, f, t, s: (*_hollow_scores(h, f, t, s)[:2], _normalised_cc(h, f)),
                    compare=close(1e-7, 1e-9),
                ),
                Mistake(
                    "DOT ratio against F",
                    "The DOT ratio compares the pair's score with the score of H with itself, "
                    "DOT(H, F) / DOT(H, H).",
                    lambda h, f, t, s: (
                        _hollow_scores(h, f, t, s)[0]
                        * float(np.sum(M.density_vectors(h, t, s) ** 2))
                        / float(np.sum(M.density_vectors(f, t, s) ** 2)),
                        *_hollow_scores(h, f, t, s)[1:],
                    ),
                    compare=close(1e-7, 1e-9),
                ),
            ],
        ),
        ValueCheck(
            "Q4_BLIND_TO_INTERIOR",
            "dot_ratio",
            choice(),
            mistakes=[
                Mistake(
                    "Pearson read as blind",
                    "Pearson's coefficient sees the interior: F's interior density lies where H "
                    "is below its mean, so those voxels count against the match. The DOT ratio "
                    "is the blind one: a voxel with a vector in F and none in H adds 0.",
                    lambda: "pearson",
                ),
                Mistake(
                    "normalised DOT read as blind",
                    "The normalised DOT divides by √(DOT(H, H) DOT(F, F)): F's extra vectors "
                    "enlarge DOT(F, F), so the interior lowers it. The raw DOT ratio is the blind "
                    "one: a voxel with a vector in F and none in H adds 0.",
                    lambda: "normalised_dot",
                ),
            ],
        ),
    ],
)

# -- I: CC against DOT under heterogeneity (question 6) -------------------------------------------


def hinge_cases(rng):
    cases = []
    for _ in range(3):
        core = ball_atoms(rng, int(rng.integers(24, 34)), 4.0) + np.array([-1.5, 0.0, 0.0])
        domain = ball_atoms(rng, 4, 1.5) + np.array([4.0, 0.0, 0.0])
        t = np.zeros(3, dtype=int)
        while not np.any(t):
            t = rng.integers(-2, 3, size=3)
        res = float(rng.uniform(3.5, 4.5))
        core_map = 0.5 * M.gaussian_map(core, (16, 16, 16), res)
        a = core_map + 4.0 * M.gaussian_map(domain, (16, 16, 16), res)
        b = core_map + 4.0 * M.gaussian_map(domain + t, (16, 16, 16), res)
        cases.append(Case((a, b, 0.15, float(rng.uniform(1.2, 1.8)))))
    return cases


def _cc_and_dot(a, b, threshold, sigma):
    va, vb = M.density_vectors(a, threshold, sigma), M.density_vectors(b, threshold, sigma)
    return (
        M.peak_shift(M.translation_scores(a, b)),
        M.peak_shift(M.dot_translation_scores(va, vb)),
    )


def shift_pair():
    exact = allclose(0.0, 0.0)

    def compare(value, expected, case):
        if not isinstance(value, list | tuple) or len(value) != 2:
            return "did not return the pair (cc_shift, dot_shift)"
        for got, want, name in zip(value, expected, ("cc_shift", "dot_shift"), strict=True):
            reason = exact(got, want, case)
            if reason:
                return f"{name}: {reason}"
        return None

    return compare


PART_I = Part(
    "test_heterogeneity",
    "Part I — CC against DOT under heterogeneity (question 6)",
    [
        FunctionCheck(
            "cc_and_dot_shifts",
            hinge_cases,
            _cc_and_dot,
            shift_pair(),
            weight=2.0,
            mistakes=[
                Mistake(
                    "the two shifts swapped",
                    "Return (cc_shift, dot_shift): the cross-correlation's shift first.",
                    lambda a, b, t, s: _cc_and_dot(a, b, t, s)[::-1],
                    compare=shift_pair(),
                ),
                Mistake(
                    "the DOT shift from the densities",
                    "Your DOT shift is the cross-correlation's: the DOT score correlates the "
                    "density_vectors of the two maps, component by component.",
                    lambda a, b, t, s: (_cc_and_dot(a, b, t, s)[0],) * 2,
                    compare=shift_pair(),
                ),
            ],
        ),
        ValueCheck(
            "Q6_CC_FOLLOWS",
            "domain",
            choice(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "CC read as following the core",
                    "CC superimposes the dense domain: a voxel counts by the product of its "
                    "densities, and the domain is eight times denser than the core.",
                    lambda: "core",
                ),
            ],
        ),
        ValueCheck(
            "Q6_DOT_FOLLOWS",
            "core",
            choice(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "DOT read as following the domain",
                    "DOT superimposes the core: every voxel above the contour counts once, "
                    "whatever its density, and the core has many more voxels than the domain.",
                    lambda: "domain",
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G, PART_H, PART_I]
