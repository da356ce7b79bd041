"""Hidden checks of problem set 1 (quaternions). Grader-side only: never released, never in the
learner's sandbox (``CourseDirectory.ignore`` lists this file). See ``autograder.checks.function``."""

from __future__ import annotations

import numpy as np
import sympy

from autograder.checks import (
    Case,
    Elementwise,
    FunctionCheck,
    Mistake,
    Part,
    ValueCheck,
    allclose,
    choice,
    close,
    float32_variant,
    quat_close,
    sympy_equal,
)
from reference_impl import euler as E
from reference_impl import quaternion as Q

# -- inputs --------------------------------------------------------------------------------------


def unit(rng, *shape):
    return Q.random_quat(shape if shape else None, rng)


def nonunit(rng, *shape):
    q = Q.random_quat(shape if shape else None, rng)
    return q * rng.uniform(0.3, 3.0, size=q.shape[:-1] + (1,))


def vec(rng, *shape):
    return rng.normal(size=shape + (3,))


def singles(rng, make, n=14):
    """n single cases plus a batched one and a float32 one (which must stay float32)."""
    cases = [Case(args=make(rng)) for _ in range(n)]
    cases.append(Case(args=make(rng, 2, 3)))
    cases.append(float32_variant(Case(args=make(rng))))
    return cases


def roll_wxyz(q):
    """What a learner who reads [w, x, y, z] as [x, y, z, w] computes with: w = q[3]."""
    return np.roll(q, 1, axis=-1)


#: The reference's values; float32 in → float32 out, to float32's precision.
CLOSE = close(Elementwise(1e-6, 1e-8), Elementwise(1e-4, 1e-5))


# -- A: Hamilton product -------------------------------------------------------------------------


def product_cases(rng):
    _, i, j, k = np.eye(4)
    visible = [
        Case((i, j), label="i·j = k", visible=True),
        Case((j, k), label="j·k = i", visible=True),
        Case((k, i), label="k·i = j", visible=True),
        Case((i, i), label="i·i = −1", visible=True),
        Case((j, i), label="j·i = −k", visible=True),
    ]
    return visible + singles(rng, lambda r, *s: (nonunit(r, *s), nonunit(r, *s)))


PART_A = Part(
    "test_quat_multiply",
    "Part A — Hamilton product",
    [
        FunctionCheck(
            "quat_multiply",
            product_cases,
            Q.quat_multiply,
            CLOSE,
            mistakes=[
                Mistake(
                    "swapped product order",
                    "Your product is q ⊗ p instead of p ⊗ q: the Hamilton product does not "
                    "commute — check the sign of the cross-product term.",
                    lambda p, q: Q.quat_multiply(q, p),
                ),
                Mistake(
                    "scalar-last quaternion",
                    "You read quaternions as [x, y, z, w]; this course (and the book's "
                    "conventions page) puts the scalar first: [w, x, y, z].",
                    lambda p, q: np.roll(Q.quat_multiply(roll_wxyz(p), roll_wxyz(q)), -1, axis=-1),
                ),
            ],
        )
    ],
)

# -- B: conjugate, inverse, normalise ------------------------------------------------------------


def one_quat_cases(make, visible=()):
    def cases(rng):
        return list(visible) + singles(rng, lambda r, *s: (make(r, *s),), n=10)

    return cases


PART_B = Part(
    "test_conjugate_inverse",
    "Part B — conjugate, inverse, normalisation",
    [
        FunctionCheck(
            "quat_conjugate",
            one_quat_cases(
                nonunit,
                [
                    Case(
                        (np.array([1.0, 2, 3, 4]),), label="conjugate of [1, 2, 3, 4]", visible=True
                    )
                ],
            ),
            Q.quat_conjugate,
            CLOSE,
            mistakes=[
                Mistake(
                    "negated scalar part",
                    "The conjugate keeps the scalar part: q* = [w, −x, −y, −z].",
                    lambda q: -q,
                ),
            ],
        ),
        FunctionCheck(
            "quat_inverse",
            one_quat_cases(nonunit),
            Q.quat_inverse,
            CLOSE,
            mistakes=[
                Mistake(
                    "missing normalisation",
                    "q⁻¹ = q*/|q|²: the conjugate alone is the inverse only for unit quaternions.",
                    Q.quat_conjugate,
                ),
            ],
        ),
        FunctionCheck(
            "quat_normalize",
            one_quat_cases(nonunit),
            Q.quat_normalize,
            CLOSE,
            mistakes=[
                Mistake(
                    "divided by |q|²",
                    "Normalise by |q| (the square root of Σ qᵢ²), not by |q|².",
                    lambda q: q / np.sum(q * q, -1, keepdims=True),
                ),
            ],
        ),
    ],
)

# -- C: rotating points --------------------------------------------------------------------------


def rotate_cases(rng):
    q_z180 = np.array([np.cos(np.pi / 2), 0.0, 0.0, np.sin(np.pi / 2)])
    q_z90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    visible = [
        Case(
            (q_z180, np.array([1.0, 0.0, 0.0])),
            label="(1, 0, 0) rotated 180° about z",
            visible=True,
        ),
        Case(
            (q_z90, np.array([1.0, 0.0, 0.0])), label="(1, 0, 0) rotated 90° about z", visible=True
        ),
        Case((3 * q_z90, np.array([1.0, 0.0, 0.0])), label="non-unit quaternion", visible=True),
    ]
    return visible + singles(rng, lambda r, *s: (nonunit(r, *s), vec(r, *s)))


def _rotate_assuming_unit(q, v):
    w, u = q[..., :1], q[..., 1:]
    t = 2 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


PART_C = Part(
    "test_quat_rotate",
    "Part C — rotating points",
    [
        FunctionCheck(
            "quat_rotate",
            rotate_cases,
            Q.quat_rotate,
            CLOSE,
            mistakes=[
                Mistake(
                    "inverse (passive) rotation",
                    "Your points turn the wrong way: you computed q⁻¹ v q (rotating the frame, a "
                    "passive rotation); the active rotation of a point is q v q⁻¹.",
                    lambda q, v: Q.quat_rotate(Q.quat_conjugate(q), v),
                ),
                Mistake(
                    "scalar-last quaternion",
                    "You read quaternions as [x, y, z, w]; the scalar comes first: [w, x, y, z].",
                    lambda q, v: Q.quat_rotate(roll_wxyz(q), v),
                ),
                Mistake(
                    "missing normalisation",
                    "Your answer is right for unit quaternions only: q v q⁻¹ needs q⁻¹ = q*/|q|², "
                    "or normalise q first.",
                    _rotate_assuming_unit,
                ),
            ],
        )
    ],
)

# -- D: quaternion <-> matrix --------------------------------------------------------------------


def _unit_formula(q):
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def matrix_cases(rng):
    cases = [Case((Q.quat_to_matrix(unit(rng)),)) for _ in range(12)]
    cases += [
        Case((np.diag([1.0, -1.0, -1.0]),), label="180° about x"),
        Case((np.diag([-1.0, 1.0, -1.0]),), label="180° about y"),
        Case((np.diag([-1.0, -1.0, 1.0]),), label="180° about z"),
        Case(
            (Q.quat_to_matrix(Q.axis_angle_to_quat(rng.normal(size=3), np.pi)),),
            label="180° about a general axis",
        ),
        Case((np.eye(3),), label="identity", visible=True),
        Case((Q.quat_to_matrix(unit(rng, 2, 3)),)),
        float32_variant(Case((Q.quat_to_matrix(unit(rng)),))),
    ]
    return cases


def w_nonnegative(atol=1e-8):
    # float32 in → float32 out, with float32's rounding
    up_to_sign = quat_close(atol, 1e-5, dtypes="float32")

    def compare(value, expected, case):
        reason = up_to_sign(value, expected, case)
        if reason is not None:
            return reason
        arr = np.asarray(value)
        near_pi = np.abs(np.asarray(expected)[..., 0]) < 1e-6  # w = 0: both signs are right
        if np.any((arr[..., 0] < 0) & ~near_pi):
            return "returned a quaternion with w < 0"
        return None

    return compare


PART_D = Part(
    "test_quat_matrix",
    "Part D — quaternions and rotation matrices",
    [
        FunctionCheck(
            "quat_to_matrix",
            one_quat_cases(
                nonunit,
                [
                    Case(
                        (np.array([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]),),
                        label="+90° about z",
                        visible=True,
                    )
                ],
            ),
            Q.quat_to_matrix,
            CLOSE,
            weight=1.5,
            mistakes=[
                Mistake(
                    "transposed matrix (passive rotation)",
                    "Your matrix is the transpose of the rotation: it rotates the frame (passive) "
                    "instead of the point (active). The matrix must satisfy R v = q v q⁻¹.",
                    lambda q: np.swapaxes(Q.quat_to_matrix(q), -1, -2),
                ),
                Mistake(
                    "missing normalisation",
                    "Your matrix is right for unit quaternions only: use s = 2/|q|² (or normalise q) "
                    "so that q and 3q give the same rotation.",
                    _unit_formula,
                ),
                Mistake(
                    "scalar-last quaternion",
                    "You read quaternions as [x, y, z, w]; the scalar comes first: [w, x, y, z].",
                    lambda q: Q.quat_to_matrix(roll_wxyz(q)),
                ),
            ],
        ),
        FunctionCheck(
            "matrix_to_quat",
            matrix_cases,
            Q.matrix_to_quat,
            w_nonnegative(),
            diagnose=quat_close(1e-8),
            mistakes=[
                Mistake(
                    "q and −q treated as different",
                    "Your quaternions are right up to sign — q and −q are the same rotation — but "
                    "this course returns the representative with w ≥ 0.",
                    Q.matrix_to_quat,
                ),
                Mistake(
                    "transposed matrix (passive rotation)",
                    "You read the matrix as its transpose: R acts on column vectors (R v), so the "
                    "quaternion's x part is (R₂₁ − R₁₂)/(4w).",
                    lambda R: Q.matrix_to_quat(np.swapaxes(R, -1, -2)),
                ),
            ],
        ),
    ],
)

# -- E: axis-angle -------------------------------------------------------------------------------


def axis_angle_cases(rng):
    visible = [Case((np.array([0.0, 0.0, 2.0]), np.pi / 2), label="π/2 about 2·z", visible=True)]
    cases = [
        Case((rng.normal(size=3) * rng.uniform(0.3, 3), rng.uniform(-np.pi, np.pi)))
        for _ in range(12)
    ]
    cases.append(Case((rng.normal(size=(4, 3)), rng.uniform(-np.pi, np.pi, size=4))))
    return visible + cases


def _axis_angle_unnormalised(axis, angle):
    half = np.asarray(angle)[..., None] / 2
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def to_axis_angle_cases(rng):
    q = Q.axis_angle_to_quat(np.array([0.0, 0.0, 1.0]), np.pi / 2)
    visible = [
        Case((-q,), label="−q for π/2 about z", visible=True),
        Case((np.array([1.0, 0.0, 0.0, 0.0]),), label="identity", visible=True),
    ]
    qs = [unit(rng) for _ in range(12)]
    qs = [q if i % 2 else -q for i, q in enumerate(qs)]  # half of them with w < 0
    return visible + [Case((q,)) for q in qs] + [Case((unit(rng, 3),))]


def axis_angle_pair(atol=1e-8):
    def compare(value, expected, case):
        if not isinstance(value, tuple | list) or len(value) != 2:
            return "did not return the pair (axis, angle)"
        axis, angle = (np.asarray(v) for v in value)
        e_axis, e_angle = expected
        if angle.shape != np.shape(e_angle) or axis.shape != np.shape(e_axis):
            return f"returned shapes {axis.shape} and {angle.shape} where {np.shape(e_axis)} and {np.shape(e_angle)} were expected"
        if not (np.all(np.isfinite(angle)) and np.all(np.isfinite(axis))):
            return "returned NaN or infinity"
        if not np.allclose(angle, e_angle, atol=atol):
            return "returned the wrong angle"
        moving = np.asarray(e_angle) > 1e-9
        if not np.allclose(axis[moving], np.asarray(e_axis)[moving], atol=1e-7):
            return "returned the wrong axis"
        return None

    return compare


def _axis_angle_uncanonical(q):
    u = q[..., 1:]
    s = np.linalg.norm(u, axis=-1, keepdims=True)
    return u / np.where(s > 0, s, 1), 2 * np.arccos(np.clip(q[..., 0], -1, 1))


PART_E = Part(
    "test_axis_angle",
    "Part E — axis–angle",
    [
        FunctionCheck(
            "axis_angle_to_quat",
            axis_angle_cases,
            Q.axis_angle_to_quat,
            CLOSE,
            mistakes=[
                Mistake(
                    "degrees for radians",
                    "Your function treats the angle as degrees; all angles in this course are radians.",
                    lambda axis, angle: Q.axis_angle_to_quat(axis, np.deg2rad(angle)),
                ),
                Mistake(
                    "missing normalisation",
                    "Normalise the axis: only a unit axis n gives a unit quaternion (cos θ/2, sin θ/2 n).",
                    _axis_angle_unnormalised,
                ),
                Mistake(
                    "full angle instead of half",
                    "A quaternion holds half the angle: q = (cos θ/2, sin θ/2 n).",
                    lambda axis, angle: Q.axis_angle_to_quat(axis, 2 * np.asarray(angle)),
                ),
            ],
        ),
        FunctionCheck(
            "quat_to_axis_angle",
            to_axis_angle_cases,
            Q.quat_to_axis_angle,
            axis_angle_pair(),
            diagnose=axis_angle_pair(1e-6),
            mistakes=[
                Mistake(
                    "q and −q treated as different",
                    "For w < 0 your angle is above π: q and −q are the same rotation, so flip q "
                    "to w ≥ 0 first (the angle is then 2·atan2(|u|, w) ∈ [0, π]).",
                    _axis_angle_uncanonical,
                ),
            ],
        ),
    ],
)

# -- F: Euler angles -----------------------------------------------------------------------------


def euler_cases(rng):
    visible = [
        Case((np.array([0.1, 0.2, 0.3]),), label="(ψ, θ, φ) = (0.1, 0.2, 0.3)", visible=True)
    ]
    cases = [
        Case(
            (
                np.array(
                    [
                        rng.uniform(-np.pi, np.pi),
                        rng.uniform(-np.pi / 2, np.pi / 2),
                        rng.uniform(-np.pi, np.pi),
                    ]
                ),
            )
        )
        for _ in range(12)
    ]
    cases.append(Case((rng.uniform(-1.5, 1.5, size=(3, 3)),)))
    return visible + cases


def matrix_euler_cases(rng):
    locked = [
        E.euler_to_matrix([0.4, np.pi / 2, 0.0], "xyz"),
        E.euler_to_matrix([-1.1, -np.pi / 2, 0.3], "xyz"),
    ]
    visible = [
        Case(
            (E.euler_to_matrix([0.1, 0.2, 0.3], "xyz"),), label="R of (0.1, 0.2, 0.3)", visible=True
        )
    ]
    cases = [Case((Q.quat_to_matrix(unit(rng)),)) for _ in range(12)]
    cases += [Case((R,), label="gimbal lock") for R in locked]
    cases.append(Case((Q.quat_to_matrix(unit(rng, 3)),)))
    return visible + cases


def round_trip(atol=1e-7):
    """Any angles whose 'xyz' matrix is R, with θ in [−π/2, π/2]."""

    def compare(value, expected, case):
        arr = np.asarray(value) if value is not None else None
        (R,) = case.args
        if arr is None or arr.dtype.kind not in "fi":
            return "did not return an array of angles"
        if arr.shape != R.shape[:-2] + (3,):
            return f"returned shape {arr.shape} where {R.shape[:-2] + (3,)} was expected"
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        if np.any(np.abs(arr[..., 1]) > np.pi / 2 + 1e-9):
            return "returned θ outside [−π/2, π/2]"
        if not np.allclose(E.euler_to_matrix(arr.astype(float), "xyz"), R, atol=atol):
            return "returned angles whose matrix is not R"
        return None

    return compare


PART_F = Part(
    "test_euler",
    "Part F — Euler angles (Slabaugh)",
    [
        FunctionCheck(
            "euler_to_matrix",
            euler_cases,
            lambda angles: E.euler_to_matrix(angles, "xyz"),
            CLOSE,
            mistakes=[
                Mistake(
                    "intrinsic vs extrinsic Euler angles",
                    "You composed Rx(ψ) Ry(θ) Rz(φ) (intrinsic XYZ); Slabaugh's extrinsic 'xyz' "
                    "sequence is R = Rz(φ) Ry(θ) Rx(ψ).",
                    lambda angles: E.euler_to_matrix(angles, "XYZ"),
                ),
                Mistake(
                    "degrees for radians",
                    "Your function treats the angles as degrees; all angles in this course are radians.",
                    lambda angles: E.euler_to_matrix(np.deg2rad(angles), "xyz"),
                ),
            ],
        ),
        FunctionCheck(
            "matrix_to_euler",
            matrix_euler_cases,
            None,
            round_trip(),
            diagnose=allclose(1e-6, 1e-8),
            weight=1.5,
            mistakes=[
                Mistake(
                    "intrinsic vs extrinsic Euler angles",
                    "Your angles decompose R = Rx(ψ) Ry(θ) Rz(φ) (intrinsic XYZ); Slabaugh's extrinsic "
                    "'xyz' sequence is R = Rz(φ) Ry(θ) Rx(ψ).",
                    lambda R: E.matrix_to_euler(R, "XYZ"),
                ),
                Mistake(
                    "degrees for radians",
                    "Your angles are in degrees; return radians.",
                    lambda R: np.rad2deg(E.matrix_to_euler(R, "xyz")),
                ),
            ],
        ),
    ],
)

# -- G: many points ------------------------------------------------------------------------------


def points_cases(rng):
    q_z90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    visible = [Case((q_z90, np.eye(3)), label="the axes rotated 90° about z", visible=True)]
    return visible + [Case((unit(rng), vec(rng, int(rng.integers(5, 50))))) for _ in range(8)]


PART_G = Part(
    "test_many_points",
    "Part G — rotating many points (question 5)",
    [
        FunctionCheck(
            "rotate_points",
            points_cases,
            lambda q, pts: pts @ Q.quat_to_matrix(q).T,
            CLOSE,
            weight=1.5,
            mistakes=[
                Mistake(
                    "transposed matrix (passive rotation)",
                    "Rows of points are rotated by points @ R.T (R v for each column vector v); "
                    "points @ R rotates them the other way.",
                    lambda q, pts: pts @ Q.quat_to_matrix(q),
                ),
            ],
        ),
        ValueCheck("Q5_STORE", "quaternion", weight=0.5),
        ValueCheck("Q5_APPLY", "matrix", weight=0.5),
        ValueCheck(
            "Q5_MULTIPLICATIONS_PER_POINT",
            9,
            choice(lambda v: int(v) if isinstance(v, int | float) else v),
            weight=0.5,
        ),
    ],
)

# -- H, I: symbolic ------------------------------------------------------------------------------

_W, _X, _Y, _Z = sympy.symbols("w x y z", real=True)
_PX, _PY, _PZ = sympy.symbols("p_x p_y p_z", real=True)
SYMBOLS = {"w": _W, "x": _X, "y": _Y, "z": _Z, "p_x": _PX, "p_y": _PY, "p_z": _PZ}


def _hamilton(p, q):
    p0, p1, p2, p3 = p
    q0, q1, q2, q3 = q
    return (
        p0 * q0 - p1 * q1 - p2 * q2 - p3 * q3,
        p0 * q1 + p1 * q0 + p2 * q3 - p3 * q2,
        p0 * q2 - p1 * q3 + p2 * q0 + p3 * q1,
        p0 * q3 + p1 * q2 - p2 * q1 + p3 * q0,
    )


_ROTATED = sympy.Matrix(
    [
        sympy.expand(c)
        for c in _hamilton(_hamilton((_W, _X, _Y, _Z), (0, _PX, _PY, _PZ)), (_W, -_X, -_Y, -_Z))[1:]
    ]
)
R_EXPECTED = sympy.ImmutableMatrix(_ROTATED.jacobian([_PX, _PY, _PZ]))
J_EXPECTED = sympy.ImmutableMatrix(_ROTATED.jacobian([_W, _X, _Y, _Z]))


def entries(shape):
    def cases(rng):
        return [
            Case(label=f"entry {i, j}", key=(i, j))
            for i in range(shape[0])
            for j in range(shape[1])
        ]

    return cases


PART_H = Part(
    "test_symbolic_matrix",
    "Part H — the matrix of q p q⁻¹",
    [
        FunctionCheck(
            "rotation_matrix_symbolic",
            entries((3, 3)),
            lambda: R_EXPECTED,
            sympy_equal(SYMBOLS, unit=("w", "x", "y", "z")),
            mistakes=[
                Mistake(
                    "transposed matrix (passive rotation)",
                    "Your matrix is the transpose: it is the matrix of q⁻¹ p q (a passive rotation).",
                    lambda: R_EXPECTED.T,
                ),
            ],
        )
    ],
)

PART_I = Part(
    "test_symbolic_jacobian",
    "Part I — ∂p′/∂q",
    [
        FunctionCheck(
            "rotated_point_jacobian",
            entries((3, 4)),
            lambda: J_EXPECTED,
            sympy_equal(SYMBOLS),
            mistakes=[
                Mistake(
                    "missing factor of 2",
                    "Each column is missing a factor 2: p′ = q p q* is quadratic in q.",
                    lambda: J_EXPECTED / 2,
                ),
                Mistake(
                    "differentiated q* p q",
                    "You differentiated q* p q (the inverse rotation) instead of q p q*.",
                    lambda: (
                        sympy.Matrix(
                            [
                                sympy.expand(c)
                                for c in _hamilton(
                                    _hamilton((_W, -_X, -_Y, -_Z), (0, _PX, _PY, _PZ)),
                                    (_W, _X, _Y, _Z),
                                )[1:]
                            ]
                        )
                    ).jacobian([_W, _X, _Y, _Z]),
                ),
            ],
        )
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G, PART_H, PART_I]
