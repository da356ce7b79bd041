"""Problem set 6's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
parts its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The parts build on each other as the problem set teaches: Part C's quaternion and
RMSD use ``profile_matrix`` (B); the sampler of E and the angle of F use ``quat_from_uniform``
(D); the MAP fit of H uses ``kabsch`` (A) on centred, unmirrored data, ``quat_from_uniform``
(D) for its starting point and ``log_joint`` (G). A mistake upstream is listed in every part it
reaches — and only where its effect does not depend on the data drawn: mistakes whose effect on
H would (a transposed Kabsch, a starting rotation 160° away) are named by the hidden checks but
kept out of the bank.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_kabsch", "test_profile", "test_eigen", "test_prior_map"
E, F, G, H = "test_uniformity", "test_init", "test_log_joint", "test_map"

MUTANTS = [
    # -- A: Kabsch ---------------------------------------------------------------------------
    Mutant(
        "kabsch_reflection_not_fixed",
        "kabsch",
        "def kabsch(P, Q, weights=None):\n"
        "    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    pbar, qbar = w @ P / w.sum(), w @ Q / w.sum()\n"
        "    U, _, Vt = np.linalg.svd((w[:, None] * (P - pbar)).T @ (Q - qbar))\n"
        "    R = Vt.T @ U.T\n"
        "    return R, qbar - R @ pbar",
        {A},
        {A: "reflection not fixed"},
    ),
    Mutant(
        "kabsch_reflection_on_the_largest_singular_value",
        "kabsch",
        "def kabsch(P, Q, weights=None):\n"
        "    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    pbar, qbar = w @ P / w.sum(), w @ Q / w.sum()\n"
        "    U, _, Vt = np.linalg.svd((w[:, None] * (P - pbar)).T @ (Q - qbar))\n"
        "    d = np.sign(np.linalg.det(Vt.T @ U.T))\n"
        "    R = Vt.T @ np.diag([d, 1.0, 1.0]) @ U.T\n"
        "    return R, qbar - R @ pbar",
        {A},  # d = +1 on every pair but a mirror image: Part H's data are not mirrored
        {A: "reflection fixed on the wrong singular direction"},
    ),
    Mutant(
        "kabsch_not_centred",
        "kabsch",
        "def kabsch(P, Q, weights=None):\n"
        "    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    U, _, Vt = np.linalg.svd((w[:, None] * P).T @ Q)\n"
        "    d = np.sign(np.linalg.det(Vt.T @ U.T))\n"
        "    R = Vt.T @ np.diag([1.0, 1.0, d]) @ U.T\n"
        "    return R, (w @ Q - R @ (w @ P)) / w.sum()",
        {A},  # Part H calls kabsch on centred structures, where centring changes nothing
        {A: "points not centred"},
    ),
    Mutant(
        "kabsch_weights_ignored",
        "kabsch",
        "_kabsch = kabsch\ndef kabsch(P, Q, weights=None):\n    return _kabsch(P, Q)",
        {A},
        {A: "weights ignored"},
    ),
    Mutant(
        "kabsch_translation_without_rotation",
        "kabsch",
        "_kabsch = kabsch\n"
        "def kabsch(P, Q, weights=None):\n"
        "    R, _ = _kabsch(P, Q, weights)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    return R, (w @ np.asarray(Q) - w @ np.asarray(P)) / w.sum()",
        {A},
        {A: "translation without the rotation"},
    ),
    # -- B: the profile matrix ---------------------------------------------------------------
    Mutant(
        "profile_from_transposed_covariance",
        "profile",
        "_profile = profile_matrix\n"
        "def profile_matrix(P, Q, weights=None):\n"
        "    K = _profile(P, Q, weights)\n"
        "    D = np.diag([1.0, -1.0, -1.0, -1.0])\n"
        "    return D @ K @ D  # = K(Sᵀ)",
        {B, C},  # the quaternion of Part C is then the conjugate
        {B: "cross-covariance transposed", C: "inverse rotation (conjugate quaternion)"},
    ),
    Mutant(
        "profile_not_centred",
        "profile",
        "def profile_matrix(P, Q, weights=None):\n"
        "    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    (xx, xy, xz), (yx, yy, yz), (zx, zy, zz) = (w[:, None] * P).T @ Q\n"
        "    return np.array([\n"
        "        [xx + yy + zz, yz - zy, zx - xz, xy - yx],\n"
        "        [yz - zy, xx - yy - zz, xy + yx, zx + xz],\n"
        "        [zx - xz, xy + yx, -xx + yy - zz, yz + zy],\n"
        "        [xy - yx, zx + xz, yz + zy, -xx - yy + zz],\n"
        "    ])",
        {B, C},
        {B: "points not centred"},
    ),
    # -- C: the eigenvector and the RMSD -----------------------------------------------------
    Mutant(
        "eigenvector_of_smallest_eigenvalue",
        "eigen",
        "def quaternion_superposition(P, Q, weights=None):\n"
        "    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)\n"
        "    w = np.ones(len(P)) if weights is None else np.asarray(weights, dtype=float)\n"
        "    q = np.linalg.eigh(profile_matrix(P, Q, w))[1][:, 0]\n"
        "    return q, (w @ Q - quat_to_matrix(q) @ (w @ P)) / w.sum()",
        {C},
        {C: "eigenvector of the smallest eigenvalue"},
    ),
    Mutant(
        "quaternion_scalar_last",
        "eigen",
        "_qs = quaternion_superposition\n"
        "def quaternion_superposition(P, Q, weights=None):\n"
        "    q, t = _qs(P, Q, weights)\n"
        "    return np.roll(q, -1), t",
        {C},
        {C: "quaternion in [x, y, z, w] order"},
    ),
    Mutant(
        "rmsd_without_root",
        "eigen",
        "_rmsd = superposition_rmsd\n"
        "def superposition_rmsd(P, Q, weights=None):\n"
        "    return _rmsd(P, Q, weights) ** 2",
        {C},
        {C: "mean square, not its root"},
    ),
    # -- D: the prior map --------------------------------------------------------------------
    Mutant(
        "prior_map_without_square_roots",
        "prior_map",
        "def quat_from_uniform(u):\n"
        "    u = np.asarray(u, dtype=float)\n"
        "    a, b = u[..., 0], 1 - u[..., 0]\n"
        "    t2, t3 = 2 * np.pi * u[..., 1], 2 * np.pi * u[..., 2]\n"
        "    return np.stack([a * np.cos(t3), b * np.sin(t2), b * np.cos(t2), a * np.sin(t3)], -1)",
        # the sampler's quaternions are not unit (E), the initial angle changes (F); Part H's
        # start, normalised, is 73° from the identity instead of 80°: the fit still converges
        {D, E, F},
        {D: "square roots missing", E: "not unit quaternions"},
    ),
    Mutant(
        "volume_element_without_root",
        "prior_map",
        "VOLUME_ELEMENT = sp.simplify((_J.T * _J).det())",
        {D},
        {D: "Gram determinant without the square root"},
    ),
    # -- E: uniformity -----------------------------------------------------------------------
    Mutant(
        "cdf_is_the_density",
        "uniformity",
        "def haar_angle_cdf(theta):\n"
        "    return (1 - np.cos(np.asarray(theta, dtype=float))) / np.pi",
        {E},
        {E: "density instead of distribution function"},
    ),
    Mutant(
        "sampler_uniform_angle",
        "uniformity",
        "def sample_rotation_prior(n, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    axis = rng.normal(size=(n, 3))\n"
        "    axis /= np.linalg.norm(axis, axis=1, keepdims=True)\n"
        "    half = rng.uniform(0, np.pi, n)[:, None] / 2\n"
        "    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=1)",
        {E},
        {E: "uniform angle about a uniform axis"},
    ),
    # -- F: the initialisation ---------------------------------------------------------------
    Mutant(
        "init_angle_in_degrees",
        "init",
        "INIT_ANGLE = float(np.degrees(INIT_ANGLE))",
        {F},
        {F: "degrees for radians"},
    ),
    Mutant(
        "identity_at_the_papers_u",
        "init",
        "U_IDENTITY = INIT_U.copy()",
        {F},
        {F: "the paper's initialisation is not the identity"},
    ),
    # -- G: the log joint --------------------------------------------------------------------
    Mutant(
        "log_joint_row_vectors",
        "log_joint",
        "_log_joint = log_joint\n"
        "def log_joint(X1, X2, M, scales, R, t, nu=1.0):\n"
        "    return _log_joint(X1, X2, M, scales, R.T, t, nu)",
        {G, H},  # the fit then finds R_mᵀ: twice the residual rotation off
        {G: "row-vector convention (M R)"},
    ),
    Mutant(
        "log_joint_without_translation_prior",
        "log_joint",
        "_log_joint = log_joint\n"
        "def log_joint(X1, X2, M, scales, R, t, nu=1.0):\n"
        "    return _log_joint(X1, X2, M, scales, R, t, nu) + (0.5 * math.log(2 * math.pi) + t**2 / 2).sum()",
        {G},  # 48 atoms outweigh the prior of T: the fit does not move
        {G: "translation prior missing"},
    ),
    Mutant(
        "log_joint_nu_ignored",
        "log_joint",
        "_log_joint = log_joint\n"
        "def log_joint(X1, X2, M, scales, R, t, nu=1.0):\n"
        "    return _log_joint(X1, X2, M, scales, R, t, 1.0)",
        {G},  # Part H fits with ν = 1
        {G: "ν ignored"},
    ),
    Mutant(
        "log_joint_nu_in_the_prior_of_M",
        "log_joint",
        "_log_joint = log_joint\n"
        "def _log_t_sum(x, s, nu):\n"
        "    nu = torch.as_tensor(nu, dtype=x.dtype)\n"
        "    c = torch.lgamma((nu + 1) / 2) - torch.lgamma(nu / 2) - 0.5 * torch.log(nu * math.pi)\n"
        "    return (c - math.log(s) - (nu + 1) / 2 * torch.log1p((x / s) ** 2 / nu)).sum()\n"
        "def log_joint(X1, X2, M, scales, R, t, nu=1.0):\n"
        "    return _log_joint(X1, X2, M, scales, R, t, nu) - _log_t_sum(M, 3.0, 1.0) + _log_t_sum(M, 3.0, nu)",
        {G},  # Part H fits with ν = 1, where the prior is the same
        {G: "ν in the prior of M"},
    ),
    Mutant(
        "log_joint_scales_as_variances",
        "log_joint",
        "_log_joint = log_joint\n"
        "def log_joint(X1, X2, M, scales, R, t, nu=1.0):\n"
        "    # the Student-t scale is √sᵢ; the prior of sᵢ stays HalfNormal(1) on sᵢ\n"
        "    return _log_joint(X1, X2, M, scales.sqrt(), R, t, nu) + (scales / 2 - scales**2 / 2).sum()",
        {G},  # the fit of H adapts its scales and still finds the motion (under 1° in 40 draws)
        {G: "scales used as variances"},
    ),
    # -- H: the MAP fit ----------------------------------------------------------------------
    Mutant(
        "map_is_least_squares",
        "map",
        "def map_superposition(X1, X2, steps=200, lr=0.1, nu=1.0):\n    return kabsch(X1, X2)",
        {H},
        {H: "least squares"},
        zero={H},
    ),
    Mutant(
        "map_not_composed",
        "map",
        "_map = map_superposition\n"
        "def map_superposition(X1, X2, steps=200, lr=0.1, nu=1.0):\n"
        "    X1, X2 = np.asarray(X1, dtype=float), np.asarray(X2, dtype=float)\n"
        "    R, t = _map(X1, X2, steps, lr, nu)\n"
        "    c1, c2 = X1.mean(axis=0), X2.mean(axis=0)\n"
        "    Rk, _ = kabsch(X1 - c1, X2 - c2)\n"
        "    Rm, tm = Rk.T @ R, Rk.T @ (t - c2 + R @ c1)\n"
        "    return Rm, c2 - Rm @ c1 + tm",
        {H},
        {H: "pre-superposition not composed"},
        zero={H},
    ),
    Mutant(
        "map_composed_in_the_wrong_order",
        "map",
        "_map = map_superposition\n"
        "def map_superposition(X1, X2, steps=200, lr=0.1, nu=1.0):\n"
        "    X1, X2 = np.asarray(X1, dtype=float), np.asarray(X2, dtype=float)\n"
        "    R, t = _map(X1, X2, steps, lr, nu)\n"
        "    c1, c2 = X1.mean(axis=0), X2.mean(axis=0)\n"
        "    Rk, _ = kabsch(X1 - c1, X2 - c2)\n"
        "    Rm, tm = Rk.T @ R, Rk.T @ (t - c2 + R @ c1)\n"
        "    R = Rm @ Rk\n"
        "    return R, c2 - R @ c1 + Rk @ tm",
        {H},
        {H: "rotations composed in the wrong order"},
        zero={H},
    ),
]
