"""Problem set 1's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function redefined at the end of its cell. Graded
in one batch with the solution and the blank release, each must lose points in the part(s) its
mistake breaks and keep full marks everywhere else, and the feedback must name the mistake.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_quat_multiply", "test_conjugate_inverse", "test_quat_rotate", "test_quat_matrix"
E, F, G, H, I = (
    "test_axis_angle",
    "test_euler",
    "test_many_points",
    "test_symbolic_matrix",
    "test_symbolic_jacobian",
)

MUTANTS = [
    Mutant(
        "swapped_product_order",
        "quat_multiply",
        "_ok = quat_multiply\ndef quat_multiply(p, q):\n    return _ok(q, p)",
        {A},
        {A: "swapped product order"},
    ),
    Mutant(
        "scalar_last_product",
        "quat_multiply",
        "_ok = quat_multiply\n"
        "def quat_multiply(p, q):\n"
        "    return np.roll(_ok(np.roll(p, 1, -1), np.roll(q, 1, -1)), -1, -1)",
        {A},
        {A: "scalar-last quaternion"},
    ),
    Mutant(
        "inverse_without_norm",
        "conjugate_inverse",
        "def quat_inverse(q):\n    return quat_conjugate(q)",
        {B},
        {B: "missing normalisation"},
    ),
    Mutant(
        "passive_rotation",
        "quat_rotate",
        "_ok = quat_rotate\ndef quat_rotate(q, v):\n    return _ok(quat_conjugate(q), v)",
        {C},
        {C: "inverse (passive) rotation"},
    ),
    Mutant(
        "transposed_matrix",
        "quat_matrix",
        "_ok = quat_to_matrix\ndef quat_to_matrix(q):\n    return np.swapaxes(_ok(q), -1, -2)",
        {D, G},  # rotate_points is built on quat_to_matrix, as the problem set teaches
        {D: "transposed matrix (passive rotation)", G: "transposed matrix (passive rotation)"},
    ),
    Mutant(
        "matrix_without_norm",
        "quat_matrix",
        "def quat_to_matrix(q):\n"
        "    w, x, y, z = np.moveaxis(np.asarray(q), -1, 0)\n"
        "    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),\n"
        "                     np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),\n"
        "                     np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)",
        {D},
        {D: "missing normalisation"},
    ),
    Mutant(
        "quaternion_sign",
        "quat_matrix",
        "_ok = matrix_to_quat\ndef matrix_to_quat(R):\n    return -_ok(R)",
        {D},
        {D: "q and −q treated as different"},
    ),
    Mutant(
        "degrees_axis_angle",
        "axis_angle",
        "_ok = axis_angle_to_quat\ndef axis_angle_to_quat(axis, angle):\n    return _ok(axis, np.deg2rad(angle))",
        {E},
        {E: "degrees for radians"},
    ),
    Mutant(
        "axis_not_normalised",
        "axis_angle",
        "def axis_angle_to_quat(axis, angle):\n"
        "    half = np.asarray(angle)[..., None] / 2\n"
        "    return np.concatenate([np.cos(half), np.sin(half) * np.asarray(axis)], axis=-1)",
        {E},
        {E: "missing normalisation"},
    ),
    Mutant(
        "angle_above_pi",
        "axis_angle",
        "def quat_to_axis_angle(q):\n"
        "    q = np.asarray(q)\n"
        "    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)\n"
        "    axis = np.where(s > 0, q[..., 1:] / np.where(s > 0, s, 1), [1.0, 0.0, 0.0])\n"
        "    return axis, 2 * np.arccos(np.clip(q[..., 0], -1, 1))",
        {E},
        {E: "q and −q treated as different"},
    ),
    Mutant(
        "intrinsic_euler_matrix",
        "euler",
        "def euler_to_matrix(angles, convention='xyz'):\n"
        "    a = np.asarray(angles)\n"
        "    return _rot('x', a[..., 0]) @ _rot('y', a[..., 1]) @ _rot('z', a[..., 2])",
        {F},
        {F: "intrinsic vs extrinsic Euler angles"},
    ),
    Mutant(
        "intrinsic_euler_angles",
        "euler",
        "def matrix_to_euler(R, convention='xyz'):\n"
        "    R = np.asarray(R)\n"
        "    b = np.arcsin(np.clip(R[..., 0, 2], -1, 1))\n"
        "    a = np.arctan2(-R[..., 1, 2], R[..., 2, 2])\n"
        "    c = np.arctan2(-R[..., 0, 1], R[..., 0, 0])\n"
        "    return np.stack([a, b, c], -1)",
        {F},
        {F: "intrinsic vs extrinsic Euler angles"},
    ),
    Mutant(
        "degrees_euler",
        "euler",
        "_ok = matrix_to_euler\ndef matrix_to_euler(R, convention='xyz'):\n    return np.rad2deg(_ok(R, convention))",
        {F},
        {F: "degrees for radians"},
    ),
    Mutant("wrong_q5_answer", "many_points", "Q5_APPLY = 'quaternion'", {G}, {}),
    Mutant(
        "transposed_symbolic_matrix",
        "symbolic_matrix",
        "_ok = rotation_matrix_symbolic\ndef rotation_matrix_symbolic():\n    return _ok().T",
        {H},
        {H: "transposed matrix (passive rotation)"},
    ),
    Mutant(
        "jacobian_missing_factor_two",
        "symbolic_jacobian",
        "_ok = rotated_point_jacobian\ndef rotated_point_jacobian():\n    return _ok() / 2",
        {I},
        {I: "missing factor of 2"},
    ),
]
