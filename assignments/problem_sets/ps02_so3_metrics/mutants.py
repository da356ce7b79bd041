"""Problem set 2's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
part its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The parts are independent except where the problem set builds on an earlier part:
``so3_exp`` uses ``hat``, and ``so3_log`` and ``rotation_angle`` use ``vee`` (so a wrong ``hat`` or
``vee`` also costs those parts); every distance is written without another part's function.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_hat_vee", "test_so3_exp", "test_so3_log", "test_geodesic"
E, F, G = "test_chordal_quat", "test_table2", "test_ball"

ACOS = "acos of the trace losing precision"

MUTANTS = [
    Mutant(
        "transposed_hat",
        "hat_vee",
        "_ok = hat\ndef hat(w):\n    return -_ok(w)",
        {A, B},  # so3_exp is built on hat, as the problem set teaches
        {A: "transposed hat", B: "transposed matrix (passive rotation)"},
    ),
    Mutant(
        "vee_reads_entries",
        "hat_vee",
        "def vee(W):\n"
        "    W = np.asarray(W)\n"
        "    return np.stack([W[..., 2, 1], W[..., 0, 2], W[..., 1, 0]], axis=-1)",
        {A, C, D},  # so3_log and rotation_angle read sin θ·n off vee(R), as Part C teaches
        {A: "vee without the skew-symmetric part"},
    ),
    Mutant(
        "exp_nan_at_zero",
        "so3_exp",
        "def so3_exp(w):\n"
        "    w = np.asarray(w)\n"
        "    theta = np.linalg.norm(w, axis=-1)[..., None, None]\n"
        "    K = hat(w)\n"
        "    with np.errstate(all='ignore'):\n"
        "        R = np.eye(3) + np.sin(theta) / theta * K + (1 - np.cos(theta)) / theta**2 * (K @ K)\n"
        "    return R.astype(w.dtype)",
        {B},
        {B: "division by zero at θ = 0"},
    ),
    Mutant(
        "exp_first_order",
        "so3_exp",
        "def so3_exp(w):\n    return np.eye(3) + hat(w)",
        {B},
        {B: "first-order approximation"},
    ),
    Mutant(
        "log_textbook_at_pi",
        "so3_log",
        "def so3_log(R):\n"
        "    R = np.asarray(R)\n"
        "    s = vee(R)\n"
        "    theta = np.arctan2(np.linalg.norm(s, axis=-1), (np.trace(R, axis1=-2, axis2=-1) - 1) / 2)\n"
        "    sin_t = np.sin(theta)\n"
        "    f = np.where(theta < 1e-4, 1 + theta**2 / 6, theta / np.where(sin_t == 0, 1, sin_t))\n"
        "    return (f[..., None] * s).astype(R.dtype)",
        {C},
        {C: "log map wrong at π"},
    ),
    Mutant(
        "log_acos",
        "so3_log",
        "_ok = so3_log\n"
        "def so3_log(R):\n"
        "    R = np.asarray(R)\n"
        "    theta = np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1))\n"
        "    return np.where((theta < 1e-7)[..., None], 0.0, _ok(R)).astype(R.dtype)",
        {C},
        {C: ACOS},
    ),
    Mutant(
        "angle_acos",
        "geodesic",
        "def rotation_angle(R):\n"
        "    R = np.asarray(R)\n"
        "    return np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1))",
        {D},
        {D: ACOS},
    ),
    Mutant(
        "distance_in_degrees",
        "geodesic",
        "_ok = geodesic_distance\n"
        "def geodesic_distance(R1, R2):\n"
        "    return np.rad2deg(_ok(R1, R2))",
        {D},
        {D: "degrees for radians"},
    ),
    Mutant(
        "distance_without_transpose",
        "geodesic",
        "def geodesic_distance(R1, R2):\n    return rotation_angle(np.asarray(R1) @ np.asarray(R2))",
        {D},
        {D: "R1 R2 instead of R1ᵀ R2"},
    ),
    Mutant(
        "dquat_without_min",
        "chordal_quat",
        "def quaternion_distance(q1, q2):\n"
        "    return np.linalg.norm(np.asarray(q1) - np.asarray(q2), axis=-1)",
        {E},
        {E: "d_quat without the min over ±"},
    ),
    Mutant(
        "quat_angle_acos",
        "chordal_quat",
        "def quat_geodesic_distance(q1, q2):\n"
        "    dot = np.abs(np.sum(np.asarray(q1) * np.asarray(q2), axis=-1))\n"
        "    return 2 * np.arccos(np.clip(dot, -1, 1))",
        {E},
        {E: "acos of the dot product losing precision"},
    ),
    Mutant(
        "chordal_squared",
        "chordal_quat",
        "_ok = chordal_distance\ndef chordal_distance(R1, R2):\n    return _ok(R1, R2) ** 2",
        {E},
        {E: "squared distance"},
    ),
    Mutant(
        "table2_full_angle",
        "table2",
        "_ok = table2_residuals\n"
        "def table2_residuals(d_angle, d_chord, d_quat):\n"
        "    r = _ok(d_angle, d_chord, d_quat)\n"
        "    a, _, q = np.broadcast_arrays(d_angle, d_chord, d_quat)\n"
        "    r[..., 1] = q - 2 * np.sin(a / 2)\n"
        "    return r",
        {F},
        {F: "d_quat with the full rotation angle"},
    ),
    Mutant(
        "quat_range_without_min",
        "table2",
        "D_QUAT_MAX = 2.0",
        {F},
        {F: "d_quat without the min over ±"},
    ),
    Mutant(
        "same_axis_unwrapped",
        "ball",
        "def same_axis_distance(theta):\n    return np.abs(np.asarray(theta))",
        {G},
        {G: "distance above π"},
    ),
    Mutant(
        "sweep_euclidean",
        "ball",
        "def sweep_distance(alpha, phi):\n"
        "    return 2 * np.asarray(alpha) * np.sin(np.asarray(phi) / 2)",
        {G},
        {G: "rotation-vector (Euclidean) distance"},
    ),
    Mutant(
        "flat_ball",
        "ball",
        "Q4_SWEEP_VS_EUCLIDEAN = 'equal'",
        {G},
        {G: "flat picture of the ball"},
    ),
]
