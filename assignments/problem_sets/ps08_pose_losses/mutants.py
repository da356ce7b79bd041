"""Problem set 8's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
part its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The parts are independent: every function uses only the given tools
(``normalize_quat``, ``rotation_angle``), never another part's answer, and the hidden checks
pass the grader's own inputs (the groups of Part G included).
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_l2", "test_geodesic", "test_chordal", "test_sixd"
E, F, G = "test_handedness", "test_symbolic", "test_symmetry"

UNNORMALISED = "prediction not normalised"

MUTANTS = [
    # -- A: L2 on quaternions
    Mutant(
        "l2_unnormalised",
        "l2",
        "def quat_l2_loss(q_pred, q_true):\n"
        "    d = q_pred - normalize_quat(q_true)\n"
        "    return (d * d).sum(-1)",
        {A},
        {A: UNNORMALISED},
    ),
    Mutant(
        "signless_without_min",
        "l2",
        "def quat_l2_loss_signless(q_pred, q_true):\n"
        "    d = normalize_quat(q_pred) - normalize_quat(q_true)\n"
        "    return (d * d).sum(-1)",
        {A},
        {A: "L2 without the minimum over ±q"},
    ),
    Mutant(
        "signless_two_minus_two_abs_d",
        "l2",
        "def quat_l2_loss_signless(q_pred, q_true):\n"
        "    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)\n"
        "    return 2 - 2 * d.abs()",
        {A},  # equal to the minimum of the squared norms, but 0 or noise at 1e-9 rad
        {A: "2 − 2|⟨q̂, q⟩| (cancels at tiny angles)"},
    ),
    Mutant(
        "same_rotation_distance",
        "l2",
        "L2_SAME_ROTATION_MAX = 2.0",
        {A},
        {A: "the distance, not its square"},
    ),
    # -- B: the geodesic loss near zero
    Mutant(
        "geodesic_acos",
        "geodesic",
        "def quat_geodesic_loss(q_pred, q_true):\n"
        "    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)\n"
        "    return torch.acos(torch.clamp(2 * d * d - 1, -1.0, 1.0))",
        {B},
        {B: "acos of the dot product losing precision"},
    ),
    Mutant(
        "geodesic_half_angle",
        "geodesic",
        "_ok_geodesic = quat_geodesic_loss\n"
        "def quat_geodesic_loss(q_pred, q_true):\n"
        "    return _ok_geodesic(q_pred, q_true) / 2",
        {B},
        {B: "half the angle"},
    ),
    Mutant(
        "geodesic_through_numpy",
        "geodesic",
        "def quat_geodesic_loss(q_pred, q_true):\n"
        "    a = normalize_quat(q_pred).detach().numpy()\n"
        "    b = normalize_quat(q_true).detach().numpy()\n"
        "    minus = np.linalg.norm(a - b, axis=-1)\n"
        "    plus = np.linalg.norm(a + b, axis=-1)\n"
        "    return torch.from_numpy(4 * np.arctan2(np.minimum(minus, plus), np.maximum(minus, plus)))",
        {B},
    ),
    Mutant(
        "smooth_one_minus_abs",
        "geodesic",
        "def quat_smooth_loss(q_pred, q_true):\n"
        "    return 1 - (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1).abs()",
        {B},
        {B: "1 − |⟨q̂, q⟩| for 1 − ⟨q̂, q⟩²"},
    ),
    Mutant(
        "smooth_literal_one_minus_d_squared",
        "geodesic",
        "def quat_smooth_loss(q_pred, q_true):\n"
        "    d = (normalize_quat(q_pred) * normalize_quat(q_true)).sum(-1)\n"
        "    return 1 - d * d",
        {B},  # right values and gradients, but 0, noise or negative at 1e-9 rad
        {B: "1 − ⟨q̂, q⟩² written literally (cancels at tiny angles)"},
    ),
    Mutant(
        "smooth_detached_norm",
        "geodesic",
        "def quat_smooth_loss(q_pred, q_true):\n"
        "    a = q_pred / torch.linalg.vector_norm(q_pred, dim=-1, keepdim=True).detach()\n"
        "    b = normalize_quat(q_true)\n"
        "    return ((a - b) ** 2).sum(-1) * ((a + b) ** 2).sum(-1) / 4",
        {B},
    ),
    Mutant(
        "taylor_of_one_minus_cos",
        "geodesic",
        "SMOOTH_TAYLOR = (1 / 2, -1 / 24)",
        {B},
        {B: "the expansion of 1 − cos θ"},
    ),
    # -- C: the chordal loss
    Mutant(
        "chordal_not_squared",
        "chordal",
        "def chordal_loss(R_pred, R_true):\n    return torch.linalg.matrix_norm(R_pred - R_true)",
        {C},
        {C: "the Frobenius norm, not its square"},
    ),
    Mutant(
        "chordal_ratio_four",
        "chordal",
        "CHORDAL_OVER_SMOOTH = 4.0",
        {C},
        {C: "4 for 8"},
    ),
    # -- D: the 6D representation
    Mutant(
        "sixd_rows",
        "sixd",
        "_ok_sixd = sixd_to_matrix\n"
        "def sixd_to_matrix(x):\n"
        "    return _ok_sixd(x).transpose(-1, -2)",
        {D},
        {D: "b₁, b₂, b₃ as rows"},
    ),
    Mutant(
        "sixd_reflection",
        "sixd",
        "_ok_sixd = sixd_to_matrix\n"
        "def sixd_to_matrix(x):\n"
        "    R = _ok_sixd(x)\n"
        "    return torch.cat([R[..., :2], -R[..., 2:]], dim=-1)",
        {D},
        {D: "b₃ = b₂ × b₁ (a reflection)"},
    ),
    Mutant(
        "sixd_not_orthogonalised",
        "sixd",
        "def sixd_to_matrix(x):\n"
        "    b1 = normalize_quat(x[..., :3])\n"
        "    b2 = normalize_quat(x[..., 3:])\n"
        "    return torch.stack([b1, b2, torch.linalg.cross(b1, b2, dim=-1)], dim=-1)",
        {D},
        {D: "a₂ not orthogonalised"},
    ),
    Mutant(
        "to_sixd_interleaved",
        "sixd",
        "def matrix_to_sixd(R):\n    return R[..., :, :2].reshape(*R.shape[:-2], 6)",
        {D},
        {D: "interleaved columns"},
    ),
    Mutant(
        "continuous_in_four",
        "sixd",
        "MIN_CONTINUOUS_DIM = 4",
        {D},
        {D: "4 (quaternions)"},
    ),
    # -- E: handedness, numerically
    Mutant(
        "mirror_left_only",
        "handedness",
        "def mirror_pose(R):\n"
        "    return torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=R.dtype)) @ R",
        {E},
        {E: "F R (a reflection)"},
    ),
    Mutant(
        "project_passive",
        "handedness",
        "def project_points(points, R):\n    return (points @ R)[..., :2]",
        {E},
        {E: "points @ R (the inverse rotation)"},
    ),
    # -- F: handedness, symbolically
    Mutant(
        "euler_transposed",
        "symbolic",
        "_ok_euler = euler_zyz_symbolic\ndef euler_zyz_symbolic():\n    return _ok_euler().T",
        {F},
        {F: "transposed matrix"},
    ),
    Mutant(
        "mirror_alpha_only",
        "symbolic",
        "def mirror_euler_angles():\n    return (alpha + sp.pi, beta, gamma)",
        {F},
        {F: "only α shifted by π"},
    ),
    # -- G: symmetry
    Mutant(
        "group_on_the_left",
        "symmetry",
        "def symmetrized_geodesic_loss(R_pred, R_true, group):\n"
        "    candidates = group @ R_true[..., None, :, :]\n"
        "    relative = R_pred[..., None, :, :].transpose(-1, -2) @ candidates\n"
        "    return rotation_angle(relative).min(dim=-1).values",
        {G},
        {G: "the group on the left (g R)"},
    ),
    Mutant(
        "max_over_group",
        "symmetry",
        "def symmetrized_geodesic_loss(R_pred, R_true, group):\n"
        "    candidates = R_true[..., None, :, :] @ group\n"
        "    relative = R_pred[..., None, :, :].transpose(-1, -2) @ candidates\n"
        "    return rotation_angle(relative).max(dim=-1).values",
        {G},
        {G: "the maximum over the group"},
    ),
    Mutant(
        "dihedral_about_y",
        "symmetry",
        "_ok_cyclic = cyclic_group\n"
        "def dihedral_group(n):\n"
        "    c = _ok_cyclic(n)\n"
        "    ry_pi = torch.diag(torch.tensor([-1.0, 1.0, -1.0], dtype=torch.float64))\n"
        "    return torch.cat([c, c @ ry_pi])",
        {G},
        {G: "half-turns about the y axis family"},
    ),
    Mutant(
        "largest_is_the_sawtooth",
        "symmetry",
        "def largest_symmetrized_loss(kind, n):\n    return math.pi / n",
        {G},
        {G: "the sawtooth height π/n"},
    ),
    Mutant(
        "symmetrized_without_gradient",
        "symmetry",
        "_ok_sym = symmetrized_geodesic_loss\n"
        "def symmetrized_geodesic_loss(R_pred, R_true, group):\n"
        "    with torch.no_grad():\n"
        "        return _ok_sym(R_pred, R_true, group)",
        {G},
    ),
]
