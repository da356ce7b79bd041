"""Problem set 3's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
part its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The four averages are independent of one another in the solution (the geodesic mean and
median start from R₁, not from the chordal mean), so each mutant breaks exactly one part.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C = "test_chordal_mean", "test_quaternion_mean", "test_geodesic_mean"
D, E, F = "test_geodesic_median", "test_in_the_middle", "test_question7"

_WEIGHTS = (
    "    Rs = np.asarray(Rs)\n"
    "    w = np.ones(Rs.shape[:-2]) if weights is None else np.asarray(weights, dtype=float)\n"
    "    w = np.broadcast_to(w, Rs.shape[:-2])\n"
)

MUTANTS = [
    Mutant(
        "chordal_without_det",
        "chordal_mean",
        "def chordal_mean(Rs, weights=None):\n"
        + _WEIGHTS
        + "    U, _, Vt = np.linalg.svd(np.einsum('...n,...nij->...ij', w, Rs))\n"
        "    return (U @ Vt).astype(Rs.dtype)",
        {A},
        {A: "reflection (no det correction)"},
    ),
    Mutant(
        "chordal_not_projected",
        "chordal_mean",
        "def chordal_mean(Rs, weights=None):\n"
        + _WEIGHTS
        + "    M = np.einsum('...n,...nij->...ij', w, Rs)\n"
        "    return (M / np.sum(w, axis=-1)[..., None, None]).astype(Rs.dtype)",
        {A},
        {A: "not projected onto SO(3)"},
    ),
    Mutant(
        "chordal_ignores_weights",
        "chordal_mean",
        "_ok = chordal_mean\ndef chordal_mean(Rs, weights=None):\n    return _ok(Rs)",
        {A},
        {A: "weights ignored"},
    ),
    Mutant(
        "quaternion_mean_is_eigenvector",
        "quaternion_mean",
        "def quaternion_mean(qs, weights=None, max_iter=100):\n"
        "    qs = np.asarray(qs)\n"
        "    w = np.broadcast_to(np.ones(qs.shape[:-1]) if weights is None else weights, qs.shape[:-1])\n"
        "    _, V = np.linalg.eigh(np.einsum('...n,...ni,...nj->...ij', w, qs, qs))\n"
        "    q = V[..., :, -1]\n"
        "    return np.where(q[..., :1] < 0, -q, q).astype(qs.dtype)",
        {B},
        {B: "eigenvector answer for the d_quat mean"},
    ),
    Mutant(
        "quaternion_mean_without_signs",
        "quaternion_mean",
        "def quaternion_mean(qs, weights=None, max_iter=100):\n"
        "    qs = np.asarray(qs)\n"
        "    w = np.broadcast_to(np.ones(qs.shape[:-1]) if weights is None else weights, qs.shape[:-1])\n"
        "    s = np.einsum('...n,...ni->...i', w, qs)\n"
        "    q = s / np.linalg.norm(s, axis=-1, keepdims=True)\n"
        "    return np.where(q[..., :1] < 0, -q, q).astype(qs.dtype)",
        {B},
        {B: "no sign alignment"},
    ),
    Mutant(
        "mean_update_on_the_left",
        "geodesic_mean",
        "def geodesic_mean(Rs, weights=None, tol=1e-12, max_iter=100):\n"
        + _WEIGHTS
        + "    R = Rs[..., 0, :, :]\n"
        "    for _ in range(max_iter):\n"
        "        v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)\n"
        "        r = np.einsum('...n,...ni->...i', w, v) / np.sum(w, axis=-1)[..., None]\n"
        "        R = so3_exp(r) @ R\n"
        "        if np.max(np.linalg.norm(r, axis=-1), initial=0.0) < max(tol, 1e-5 if Rs.dtype == np.float32 else 0):\n"
        "            break\n"
        "    return R.astype(Rs.dtype)",
        {C},
        {C: "update multiplied on the wrong side"},
    ),
    Mutant(
        "mean_one_iteration",
        "geodesic_mean",
        "_ok = geodesic_mean\n"
        "def geodesic_mean(Rs, weights=None, tol=1e-12, max_iter=100):\n"
        "    return _ok(Rs, weights, tol, max_iter=1)",
        {C},
        {C: "stopping after one iteration"},
    ),
    Mutant(
        "mean_ignores_weights",
        "geodesic_mean",
        "_ok = geodesic_mean\n"
        "def geodesic_mean(Rs, weights=None, tol=1e-12, max_iter=100):\n"
        "    return _ok(Rs, None, tol, max_iter)",
        {C},
        {C: "weights ignored"},
    ),
    Mutant(
        "weiszfeld_divides_by_zero",
        "geodesic_median",
        "def geodesic_median(Rs, weights=None, tol=1e-12, max_iter=1000):\n"
        + _WEIGHTS
        + "    R = Rs[..., 0, :, :]\n"
        "    for _ in range(max_iter):\n"
        "        v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)\n"
        "        inv = w / np.linalg.norm(v, axis=-1)\n"
        "        delta = np.einsum('...n,...ni->...i', inv, v) / np.sum(inv, axis=-1)[..., None]\n"
        "        R = R @ so3_exp(delta)\n"
        "        if not np.max(np.linalg.norm(delta, axis=-1), initial=0.0) >= max(tol, 1e-5 if Rs.dtype == np.float32 else 0):\n"
        "            break\n"
        "    return R.astype(Rs.dtype)",
        {D},
        {D: "Weiszfeld dividing by zero at a data point"},
    ),
    Mutant(
        "weiszfeld_divides_by_zero_from_chordal_mean",
        "geodesic_median",
        "def geodesic_median(Rs, weights=None, tol=1e-12, max_iter=1000):\n"
        + _WEIGHTS
        + "    R = chordal_mean(Rs, w)  # exactly a data point only in special sets\n"
        "    for _ in range(max_iter):\n"
        "        v = so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ Rs)\n"
        "        inv = w / np.linalg.norm(v, axis=-1)\n"
        "        delta = np.einsum('...n,...ni->...i', inv, v) / np.sum(inv, axis=-1)[..., None]\n"
        "        R = R @ so3_exp(delta)\n"
        "        if not np.max(np.linalg.norm(delta, axis=-1), initial=0.0) >= max(tol, 1e-5 if Rs.dtype == np.float32 else 0):\n"
        "            break\n"
        "    return R.astype(Rs.dtype)",
        {D},
        {D: "Weiszfeld dividing by zero at a data point"},
    ),
    Mutant(
        "median_is_the_mean",
        "geodesic_median",
        "def geodesic_median(Rs, weights=None, tol=1e-12, max_iter=1000):\n"
        "    return geodesic_mean(Rs, weights)",
        {D},
        {D: "the mean, not the median"},
    ),
    Mutant(
        "tangent_in_the_fixed_frame",
        "in_the_middle",
        "def tangent_mean(Rs, R, weights=None):\n"
        + _WEIGHTS
        + "    v = so3_log(Rs @ np.swapaxes(np.asarray(R), -1, -2)[..., None, :, :])\n"
        "    return np.einsum('...n,...ni->...i', w, v) / np.sum(w, axis=-1)[..., None]",
        {E},
        {E: "log(Rᵢ Rᵀ) instead of log(Rᵀ Rᵢ)"},
    ),
    Mutant(
        "every_mean_in_the_middle",
        "in_the_middle",
        "Q6_IN_THE_MIDDLE = 'all three'",
        {E},
        {E: "every mean in the middle"},
    ),
    Mutant(
        "question7_swapped",
        "question7",
        "Q7_NORMALISED_SUM, Q7_EIGENVECTOR = 'chordal', 'quaternion'",
        {F},
        {F: "normalised sum and eigenvector swapped"},
    ),
]
