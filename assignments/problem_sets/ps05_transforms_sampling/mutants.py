"""Problem set 5's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. Graded in one batch with the solution and the blank release, each must lose points in the
part its mistake breaks and keep full marks everywhere else, and the feedback must name the
mistake. The parts are independent, except within a part: ``rodrigues`` uses ``dyadic``,
``eq8_from_eq7`` is derived from ``eq7_symbolic``, ``convert_euler`` goes through
``euler_matrix`` and ``matrix_to_euler``, and ``orientation_grid`` is built on
``projection_directions``.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_rodrigues", "test_eq8", "test_transforms", "test_euler"
E, F = "test_volume", "test_grid"
G, H = "test_random_rotations", "test_grids"

FRAME = "transposed matrix (the frame's rotation)"

MUTANTS = [
    # -- A: Rodrigues and the dyadic
    Mutant(
        "dyadic_inner_product",
        "rodrigues",
        "def dyadic(n):\n    n = np.asarray(n, dtype=float)\n    return np.sum(n * n, axis=-1)",
        {A},
        {A: "inner product for the dyadic"},
    ),
    Mutant(
        "rodrigues_frame_sign",
        "rodrigues",
        "_ok = rodrigues\ndef rodrigues(axis, angle):\n    return np.swapaxes(_ok(axis, angle), -1, -2)",
        {A},
        {A: FRAME},
    ),
    Mutant(
        "rodrigues_axis_not_normalised",
        "rodrigues",
        "def rodrigues(axis, angle):\n"
        "    n = np.asarray(axis, dtype=float)\n"
        "    a = np.asarray(angle, dtype=float)[..., None, None]\n"
        "    x, y, z = np.moveaxis(n, -1, 0)\n"
        "    o = np.zeros_like(x)\n"
        "    K = np.stack([np.stack([o, -z, y], -1), np.stack([z, o, -x], -1), np.stack([-y, x, o], -1)], -2)\n"
        "    return np.cos(a) * np.eye(3) + (1 - np.cos(a)) * dyadic(n) + np.sin(a) * K",
        {A},
        {A: "axis not normalised"},
    ),
    Mutant(
        "q1_cross_product",
        "rodrigues",
        'Q1_NN_V = "n x v"',
        {A},
        {A: "dyadic read as the cross product"},
    ),
    # -- B: eq. 8 from eq. 7
    Mutant(
        "eq7_frame_sign",
        "eq8",
        "def eq7_symbolic():\n"
        "    n = sp.Matrix([n1, n2, n3])\n"
        "    K = sp.Matrix([[0, -n3, n2], [n3, 0, -n1], [-n2, n1, 0]])\n"
        "    return sp.cos(theta) * sp.eye(3) + (1 - sp.cos(theta)) * n * n.T - sp.sin(theta) * K",
        {B},  # eq. 8 is derived from eq. 7, so it inherits the sign
        {B: FRAME},
    ),
    Mutant(
        "eq8_half_angle_factors",
        "eq8",
        "def eq8_from_eq7():\n"
        "    e = sp.Matrix([e1, e2, e3])\n"
        "    K = sp.Matrix([[0, -e3, e2], [e3, 0, -e1], [-e2, e1, 0]])\n"
        "    return (e0**2 - (e.T * e)[0]) * sp.eye(3) + e * e.T + e0 * K",
        {B},
        {B: "half-angle factors of 2 lost"},
    ),
    Mutant(
        "eq8_abs_e0",
        "eq8",
        "_ok = eq8_from_eq7\n"
        "def eq8_from_eq7():\n"
        "    return _ok().subs(e0, sp.sqrt(1 - e1**2 - e2**2 - e3**2))",
        {B},
        {B: "|e₀| for e₀"},
    ),
    Mutant(
        "eq8_c_squared_minus_s_squared",
        "eq8",
        "def eq8_from_eq7():\n"
        "    c, s = sp.symbols('c s', positive=True)\n"
        "    R = eq7_symbolic().subs({sp.cos(theta): c**2 - s**2, sp.sin(theta): 2 * s * c})\n"
        "    R = R.subs({n1: e1 / s, n2: e2 / s, n3: e3 / s}).applyfunc(sp.expand)\n"
        "    return R.subs({c: e0, s**2: e1**2 + e2**2 + e3**2}).applyfunc(sp.expand)",
        {B},  # equal to eq. 8 on S³ but 0/0 at the identity
        {B: "division by e·e (undefined at the identity)"},
    ),
    # -- C: 4×4 transforms
    Mutant(
        "compose_translations_added",
        "transforms",
        "def compose_rt(R2, t2, R1, t1):\n"
        "    return np.asarray(R2) @ np.asarray(R1), np.asarray(t1) + np.asarray(t2)",
        {C},
        {C: "translations added"},
    ),
    Mutant(
        "invert_translation_not_rotated",
        "transforms",
        "def invert_transform(M):\n"
        "    M = np.asarray(M, dtype=float)\n"
        "    return rigid_transform(M[:3, :3].T, -M[:3, 3])",
        {C},
        {C: "inverse translation not rotated"},
    ),
    Mutant(
        "pre_translation_not_rotated",
        "transforms",
        "def pre_post_transform(R, t_pre, t_post):\n"
        "    return rigid_transform(R, np.asarray(t_pre) + np.asarray(t_post))",
        {C},
        {C: "pre-translation not rotated"},
    ),
    Mutant(
        "apply_points_times_R",
        "transforms",
        "def apply_transform(M, points):\n"
        "    M = np.asarray(M, dtype=float)\n"
        "    return np.asarray(points) @ M[:3, :3] + M[:3, 3]",
        {C},
        {C: "points rotated by Rᵀ"},
    ),
    # -- D: Euler conventions
    Mutant(
        "euler_order_reversed",
        "euler",
        "_ok = euler_matrix\n"
        "def euler_matrix(angles, convention):\n"
        "    return _ok(np.asarray(angles, dtype=float)[..., ::-1], convention)",
        {D},
        {D: "intrinsic vs extrinsic (the order of the three rotations)"},
    ),
    Mutant(
        "euler_active_not_transposed",
        "euler",
        "_ok = euler_matrix\n"
        "def euler_matrix(angles, convention):\n"
        "    return np.swapaxes(_ok(angles, convention), -1, -2)",
        {D},
        {D: "the inverse (the active rotation by the angles)"},
    ),
    Mutant(
        "eman_offsets_wrong_sign",
        "euler",
        "_ok = matrix_to_euler\n"
        "def matrix_to_euler(R, convention):\n"
        "    if convention == 'eman':\n"
        "        return _ok(R, 'spider') - np.array([np.pi / 2, 0.0, -np.pi / 2])\n"
        "    return _ok(R, convention)",
        {D},
        {D: "EMAN's offsets with the wrong signs"},
    ),
    # -- E: the metric and the volume element
    Mutant(
        "line_element_flat",
        "volume",
        "def spin_line_element(omega, d_omega, d_n):\n"
        "    d_n = np.asarray(d_n, dtype=float)\n"
        "    return np.sqrt(np.asarray(d_omega) ** 2 + np.asarray(omega) ** 2 * np.sum(d_n * d_n, -1))",
        {E},
        {E: "flat line element"},
    ),
    Mutant(
        "angle_density_uniform",
        "volume",
        "def haar_angle_density(omega):\n    return np.full(np.shape(omega), 1 / np.pi)",
        {E},
        {E: "uniform rotation angle"},
    ),
    Mutant(
        "ball_fraction_flat",
        "volume",
        "def ball_fraction(rho):\n    return np.asarray(rho, dtype=float) ** 3 / (6 * np.pi)",
        {E},
        {E: "flat ball"},
    ),
    Mutant(
        "euler_density_uniform",
        "volume",
        "def euler_density(angles):\n    return np.full(np.shape(angles)[:-1], 1 / (4 * np.pi**3))",
        {E},
        {E: "uniform in the Euler angles"},
    ),
    # -- F: the paper's grid
    Mutant(
        "angular_step_small_angle",
        "grid",
        "def angular_step(radius):\n    return 1.0 / np.asarray(radius, dtype=float)",
        {F},
        {F: "small-angle step 1/R"},
    ),
    Mutant(
        "grid_one_hemisphere",
        "grid",
        "_ok = projection_directions\n"
        "def projection_directions(step):\n"
        "    d = _ok(step)\n"
        "    return d[d[:, 1] <= np.pi / 2 + 1e-9]",
        {F},  # the orientation grid is built on the directions
        {F: "one hemisphere only"},
    ),
    Mutant(
        "grid_azimuth_without_sin",
        "grid",
        "def projection_directions(step):\n"
        "    n_theta = max(1, int(round(np.pi / step)))\n"
        "    n_phi = max(1, int(round(2 * np.pi / step)))\n"
        "    th = np.repeat(np.pi * np.arange(n_theta + 1) / n_theta, n_phi)\n"
        "    phi = np.tile(2 * np.pi * np.arange(n_phi) / n_phi, n_theta + 1)\n"
        "    return np.stack([phi, th], axis=-1)",
        {F},
        {F: "azimuth step not divided by sin θ"},
    ),
    Mutant(
        "grid_without_psi",
        "grid",
        "def orientation_grid(step):\n"
        "    d = projection_directions(step)\n"
        "    zero = np.zeros(len(d))\n"
        "    return matrix_to_quat(np.swapaxes(Rz(d[:, 0]) @ Ry(d[:, 1]) @ Rz(zero), -1, -2))",
        {F},
        {F: "no in-plane angles"},
    ),
    # -- G: random rotations
    Mutant(
        "shoemake_uniform_euler_angles",
        "random_rotations",
        "def shoemake_quat(n, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    a, b, c = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, np.pi, n), rng.uniform(0, 2 * np.pi, n)\n"
        "    return matrix_to_quat(np.swapaxes(Rz(a) @ Ry(b) @ Rz(c), -1, -2))",
        {G},
        {G: "uniform Euler angles"},
    ),
    Mutant(
        "shoemake_normalised_cube",
        "random_rotations",
        "def shoemake_quat(n, seed):\n"
        "    g = np.random.default_rng(seed).uniform(-1, 1, (n, 4))\n"
        "    return g / np.linalg.norm(g, axis=1, keepdims=True)",
        {G},
        {G: "normalised points of a cube"},
    ),
    Mutant(
        "shoemake_not_random",
        "random_rotations",
        "def shoemake_quat(n, seed):\n    return deterministic_quat(n)",
        {G},
        {G: "not random"},
    ),
    # -- H: deterministic grids
    Mutant(
        "deterministic_is_random",
        "grids",
        "def deterministic_quat(n):\n    return shoemake_quat(n, 12345)",
        {H},
        {H: "random instead of deterministic"},
    ),
    Mutant(
        "sphere_equal_theta_steps",
        "grids",
        "def sphere_points(n):\n"
        "    i = np.arange(n)\n"
        "    th = np.pi * (i + 0.5) / n\n"
        "    phi = i * np.pi * (3 - np.sqrt(5.0))\n"
        "    return np.stack([np.sin(th) * np.cos(phi), np.sin(th) * np.sin(phi), np.cos(th)], -1)",
        {H},
        {H: "equal steps in θ instead of z"},
    ),
]
