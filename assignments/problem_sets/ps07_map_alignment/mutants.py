"""Problem set 7's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
parts its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The hidden checks hand every function its own inputs (maps, fields, grids), so a mistake
stays in its part, except where a later function calls an earlier one: ``rotate_volume`` calls
``trilinear``; ``rotational_search`` calls ``rotate_volume`` and ``peak_shift``;
``rotate_vector_field`` calls ``rotate_volume``; ``dot_translation_scores`` calls
``translation_scores``; ``rotational_search_dot`` calls ``rotate_vector_field`` and
``peak_shift``; ``hollow_scores`` calls ``density_vectors``; ``cc_and_dot_shifts`` calls
``translation_scores``, ``peak_shift``, ``density_vectors`` and ``dot_translation_scores``. The
short answers of Parts G, H and I are read from experiments that run the learner's own functions
on the notebook's maps, so a mistake in an earlier part (one its visible tests catch) can change
them too: those mutants list the parts they lose that way.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_gaussian_map", "test_rotate", "test_translation", "test_search"
E, F, G = "test_vectors", "test_dot", "test_zscores"
H, I = "test_hollow", "test_heterogeneity"

MUTANTS = [
    # -- A: Gaussian atoms
    Mutant(
        "gaussian_x_first_axis",
        "gaussian_map",
        "_ok = gaussian_map\n"
        "def gaussian_map(coords, shape, resolution):\n"
        "    return _ok(np.asarray(coords, dtype=float)[:, ::-1], shape, resolution)",
        {A, I},  # the experiment of Part I runs on maps with x and z swapped
        {A: "x along the first axis"},
    ),
    Mutant(
        "gaussian_sigma_is_resolution",
        "gaussian_map",
        "_ok = gaussian_map\n"
        "def gaussian_map(coords, shape, resolution):\n"
        "    return _ok(coords, shape, resolution * np.pi * np.sqrt(2))",
        {A, G, H, I},  # atoms 4.4 times too wide: the experiments of G, H, I run on blobs
        {A: "σ = resolution"},
    ),
    Mutant(
        "gaussian_centre_half",
        "gaussian_map",
        "_ok = gaussian_map\n"
        "def gaussian_map(coords, shape, resolution):\n"
        "    n = np.array(shape[::-1], dtype=float)\n"
        "    return _ok(np.asarray(coords, dtype=float) + (n - 1) / 2 - n // 2, shape, resolution)",
        {A},
        {A: "centre at (n − 1)/2"},
    ),
    # -- B: trilinear resampling and rotation
    Mutant(
        "trilinear_edges_repeated",
        "rotate",
        "def trilinear(volume, u):\n"
        "    volume = np.asarray(volume, dtype=float)\n"
        "    u = np.asarray(u, dtype=float)\n"
        "    n = np.array(volume.shape[::-1])\n"
        "    base = np.floor(u).astype(int)\n"
        "    f = u - base\n"
        "    out = np.zeros(u.shape[:-1])\n"
        "    for corner in np.ndindex(2, 2, 2):\n"
        "        c = np.clip(base + np.array(corner), 0, n - 1)\n"
        "        w = np.prod(np.where(np.array(corner) == 1, f, 1 - f), axis=-1)\n"
        "        out += w * volume[c[..., 2], c[..., 1], c[..., 0]]\n"
        "    return out",
        {B, D, F},  # the searches and rotations resample noise out to the border
        {B: "edge values repeated outside the box"},
    ),
    Mutant(
        "rotate_inverse",
        "rotate",
        "_ok = rotate_volume\n"
        "def rotate_volume(volume, R):\n"
        "    return _ok(volume, np.asarray(R).T)",
        {B, D, F, G},  # question 1's true pair is then not found: its Z-score drops
        {B: "the inverse rotation (V sampled at R r)", D: "the inverse rotation"},
    ),
    Mutant(
        "rotate_positions_zyx",
        "rotate",
        "_ok = rotate_volume\n"
        "def rotate_volume(volume, R):\n"
        "    P = np.eye(3)[::-1]\n"
        "    return _ok(volume, P @ np.asarray(R) @ P)",
        {B, D, F},
        {B: "positions in (z, y, x) order"},
    ),
    # -- C: every shift at once
    Mutant(
        "correlation_conjugate_on_b",
        "translation",
        "def translation_scores(a, b):\n"
        "    return np.fft.ifftn(np.fft.fftn(a) * np.conj(np.fft.fftn(b))).real",
        {C, F, I},
        {C: "the conjugate on the other factor (C[−t])"},
    ),
    Mutant(
        "peak_shift_zyx",
        "translation",
        "_ok = peak_shift\ndef peak_shift(scores):\n    return _ok(scores)[::-1]",
        {C, D, F, I},
        {C: "(t_z, t_y, t_x) order"},
    ),
    Mutant(
        "peak_shift_unwrapped",
        "translation",
        "def peak_shift(scores):\n"
        "    scores = np.asarray(scores)\n"
        "    return np.array(np.unravel_index(np.argmax(scores), scores.shape))[::-1]",
        {C, D, F, I},
        {C: "indices not wrapped"},
    ),
    # -- D: the rotational search
    Mutant(
        "search_no_translation",
        "search",
        "def rotational_search(a, b, rotations):\n"
        "    scores = np.array([np.sum(rotate_volume(a, R) * b) for R in rotations])\n"
        "    return scores, np.zeros((len(rotations), 3), dtype=int)",
        {D},
        {D: "no translation search"},
        zero={D},
    ),
    Mutant(
        "search_b_rotated",
        "search",
        "def rotational_search(a, b, rotations):\n"
        "    out = [translation_scores(a, rotate_volume(b, R)) for R in rotations]\n"
        "    return np.array([c.max() for c in out]), np.array([peak_shift(c) for c in out])",
        {D},
        {D: "b rotated instead of a"},
    ),
    # -- E: local density vectors
    Mutant(
        "vectors_pointing_away",
        "vectors",
        "_ok = density_vectors\n"
        "def density_vectors(volume, threshold, sigma):\n"
        "    return -_ok(volume, threshold, sigma)",
        {E},  # DOT scores multiply two fields: both flipped, nothing else changes
        {E: "vectors pointing away from the peak"},
    ),
    Mutant(
        "vectors_zyx_components",
        "vectors",
        "_ok = density_vectors\n"
        "def density_vectors(volume, threshold, sigma):\n"
        "    return _ok(volume, threshold, sigma)[..., ::-1]",
        {E},
        {E: "components in (z, y, x) order"},
    ),
    Mutant(
        "vectors_below_threshold",
        "vectors",
        "def density_vectors(volume, threshold, sigma):\n"
        "    volume = np.asarray(volume, dtype=float)\n"
        "    rho = np.where(volume > threshold, volume, 0.0)\n"
        "    d = [np.arange(n)[None, :] - np.arange(n)[:, None] for n in volume.shape]\n"
        "    (gz, dz), (gy, dy), (gx, dx) = ((np.exp(-(e**2) / (2 * sigma**2)), e * np.exp(-(e**2) / (2 * sigma**2))) for e in d)\n"
        "    m = np.stack([np.einsum('ka,jb,ic,abc->kji', *k, rho, optimize=True)\n"
        "                  for k in ((gz, gy, dx), (gz, dy, gx), (dz, gy, gx))], -1)\n"
        "    norm = np.linalg.norm(m, axis=-1, keepdims=True)\n"
        "    return np.where(norm > 0, m / np.where(norm > 0, norm, 1.0), 0.0)",
        {E, G, H},  # the experiments of questions 1 and 4 count vectors in the empty box
        {E: "vectors below the threshold"},
    ),
    Mutant(
        "vectors_wrap_around",
        "vectors",
        "def density_vectors(volume, threshold, sigma):\n"
        "    volume = np.asarray(volume, dtype=float)\n"
        "    rho = np.where(volume > threshold, volume, 0.0)\n"
        "    d = [np.where(np.arange(n) > (n - 1) // 2, np.arange(n) - n, np.arange(n)) for n in volume.shape]\n"
        "    dz, dy, dx = np.meshgrid(*d, indexing='ij')\n"
        "    k = np.exp(-(dx**2 + dy**2 + dz**2) / (2 * sigma**2))\n"
        "    fr = np.fft.fftn(rho)\n"
        "    m = np.stack([np.fft.ifftn(np.conj(np.fft.fftn(k * c)) * fr).real for c in (dx, dy, dz)], -1)\n"
        "    norm = np.linalg.norm(m, axis=-1, keepdims=True)\n"
        "    keep = (volume > threshold)[..., None] & (norm > 0)\n"
        "    return np.where(keep, m / np.where(norm > 0, norm, 1.0), 0.0)",
        {E, H},
        {E: "sums wrapping around the box"},
    ),
    # -- F: the DOT score
    Mutant(
        "field_not_turned",
        "dot",
        "def rotate_vector_field(field, R):\n"
        "    field = np.asarray(field, dtype=float)\n"
        "    return np.stack([rotate_volume(field[..., k], R) for k in range(3)], axis=-1)",
        {F},
        {F: "vectors moved but not turned"},
    ),
    Mutant(
        "field_turned_by_rt",
        "dot",
        "_ok = rotate_vector_field\n"
        "def rotate_vector_field(field, R):\n"
        "    R = np.asarray(R, dtype=float)\n"
        "    return _ok(field, R) @ R @ R",
        {F},
        {F: "vectors turned by Rᵀ"},
    ),
    Mutant(
        "dot_conjugate_on_vb",
        "dot",
        "_ok = dot_translation_scores\ndef dot_translation_scores(va, vb):\n    return _ok(vb, va)",
        {F},
        {F: "the conjugate on the other factor (DOT[−t])"},
    ),
    # -- G: Z-scores
    Mutant(
        "z_sample_std",
        "zscores",
        "def z_scores(scores):\n"
        "    s = np.asarray(scores, dtype=float)\n"
        "    return (s - s.mean()) / s.std(ddof=1)",
        {G},
        {G: "sample standard deviation (ddof = 1)"},
    ),
    Mutant(
        "vesper_z_all_scores",
        "zscores",
        "def vesper_z_scores(scores, cutoff=0.2):\n    return z_scores(scores)",
        {G},
        {G: "the mean and std of all the scores"},
    ),
    Mutant(
        "vesper_z_cluster_of_the_best",
        "zscores",
        "def vesper_z_scores(scores, cutoff=0.2):\n"
        "    s = np.asarray(scores, dtype=float)\n"
        "    order = np.argsort(s)\n"
        "    split = np.diff(s[order]) > cutoff * (s.max() - s.min())\n"
        "    labels = np.empty(len(s), dtype=int)\n"
        "    labels[order] = np.concatenate([[0], np.cumsum(split)])\n"
        "    cluster = s[labels == labels[np.argmax(s)]]\n"
        "    return (s - cluster.mean()) / cluster.std()",
        {G},
        {G: "the cluster of the best score"},
    ),
    Mutant(
        "q1_raw_and_z_swapped",
        "zscores",
        'Q1_HIGHER_RAW, Q1_HIGHER_Z = "true", "decoy"',
        {G},
        {G: "raw scores read as comparable"},
    ),
    # -- H: hollow maps
    Mutant(
        "hollow_pearson_without_means",
        "hollow",
        "_ok = hollow_scores\n"
        "def hollow_scores(h, f, threshold, sigma):\n"
        "    h, f = np.asarray(h, dtype=float), np.asarray(f, dtype=float)\n"
        "    ncc = np.sum(h * f) / np.sqrt(np.sum(h * h) * np.sum(f * f))\n"
        "    return (*_ok(h, f, threshold, sigma)[:2], float(ncc))",
        {H},
        {H: "Pearson without the means"},
    ),
    Mutant(
        "q4_pearson",
        "hollow",
        'Q4_BLIND_TO_INTERIOR = "pearson"',
        {H},
        {H: "Pearson read as blind"},
    ),
    # -- I: heterogeneity
    Mutant(
        "shifts_swapped",
        "heterogeneity",
        "_ok = cc_and_dot_shifts\n"
        "def cc_and_dot_shifts(a, b, threshold, sigma):\n"
        "    return _ok(a, b, threshold, sigma)[::-1]",
        {I},
        {I: "the two shifts swapped"},
    ),
    Mutant(
        "q6_dot_follows_domain",
        "heterogeneity",
        'Q6_DOT_FOLLOWS = "domain"',
        {I},
        {I: "DOT read as following the domain"},
    ),
]
