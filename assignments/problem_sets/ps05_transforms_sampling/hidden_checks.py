"""Hidden checks of problem set 5 (transforms and the sampling of orientations). Grader-side only:
never released, never in the learner's sandbox. See ``autograder.checks.function``.

Parts A–E compare values with ``reference_impl`` (``transforms``, ``euler``, ``haar``); Part B
compares SymPy matrices entry by entry at random rational points (on S² for eq. 7's unit axis,
on S³ and at ± the identity for eq. 8's unit quaternion). Parts F and G grade *constructions*: the grader measures the
learner's grids and samples itself with ``reference_impl.uniformity`` — number of points,
covering radius against Haar-random probes, counts in balls against the volume element,
Kolmogorov–Smirnov distances to the Haar law, and the close-pair fraction of independent points —
so any correct construction scores, and the thresholds are the ones the notebook states.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy

from autograder.checks import (
    Case,
    FunctionCheck,
    Mistake,
    Part,
    ValueCheck,
    allclose,
    as_array,
    choice,
    sympy_equal,
    tuple_of,
)
from reference_impl import euler as E
from reference_impl import haar as H
from reference_impl import quaternion as Q
from reference_impl import sampling as S
from reference_impl import transforms as T
from reference_impl import uniformity as U

PI = np.pi
CONVENTIONS = ("spider", "relion", "eman")


#: The reference's values, to rounding.
CLOSE = allclose(1e-8, 1e-10)


def rotation(rng, *shape):
    return Q.quat_to_matrix(Q.random_quat(shape if shape else None, rng))


def vector(rng, *shape, scale=1.0):
    return rng.normal(scale=scale, size=shape + (3,))


# -- A: Rodrigues and the dyadic -----------------------------------------------------------------


def dyadic_cases(rng):
    n = np.array([2.0, -1.0, 2.0]) / 3
    visible = [Case((n,), label="n = (2, −1, 2)/3", visible=True)]
    cases = [Case((vector(rng, scale=rng.uniform(0.2, 3)),)) for _ in range(6)]
    cases.append(Case((vector(rng, 2, 3),)))
    return visible + cases


def _skew(n):
    n = np.asarray(n, dtype=np.float64)
    return np.stack(
        [
            np.stack([0 * n[..., 0], -n[..., 2], n[..., 1]], -1),
            np.stack([n[..., 2], 0 * n[..., 0], -n[..., 0]], -1),
            np.stack([-n[..., 1], n[..., 0], 0 * n[..., 0]], -1),
        ],
        -2,
    )


def rodrigues_cases(rng):
    visible = [
        Case((np.array([0.0, 0.0, 1.0]), PI / 2), label="+90° about z", visible=True),
        Case((np.array([2.0, -1.0, 2.0]), 0.7), label="axis (2, −1, 2), not unit", visible=True),
    ]
    cases = []
    for _ in range(6):
        axis = vector(rng)
        axis /= np.linalg.norm(axis)
        cases.append(Case((axis, rng.uniform(-PI, PI)), tags=("unit",)))
    for _ in range(3):
        cases.append(
            Case((vector(rng, scale=rng.uniform(2, 5)), rng.uniform(0.1, 3)), tags=("nonunit",))
        )
    cases.append(Case((np.array([0.0, 1.0, 0.0]), PI), label="a half turn about y", tags=("unit",)))
    cases.append(Case((vector(rng, 4), rng.uniform(-3, 3, size=4)), tags=("nonunit",)))
    cases.append(
        Case(
            (vector(rng, scale=2.0), rng.uniform(-3, 3, size=4)),
            label="one axis (3,), four angles (4,)",
            tags=("nonunit",),
        )
    )
    return visible + cases


def _rodrigues_raw(axis, angle):
    """Eq. 7 with the axis used as given (not normalised)."""
    a = np.asarray(axis, dtype=np.float64)
    c = np.cos(np.asarray(angle, dtype=np.float64))[..., None, None]
    s = np.sin(np.asarray(angle, dtype=np.float64))[..., None, None]
    return c * np.eye(3) + (1 - c) * T.dyadic(a) + s * _skew(a)


PART_A = Part(
    "test_rodrigues",
    "Part A — Rodrigues' formula and the dyadic (question 1)",
    [
        FunctionCheck(
            "dyadic",
            dyadic_cases,
            T.dyadic,
            CLOSE,
            mistakes=[
                Mistake(
                    "inner product for the dyadic",
                    "Your n̂n̂ is the number n·n: the dyadic is the 3×3 matrix n nᵀ with entries "
                    "nᵢnⱼ (np.outer for one vector).",
                    lambda n: np.sum(np.asarray(n) ** 2, axis=-1),
                    compare=CLOSE,
                ),
                Mistake(
                    "cross-product matrix for the dyadic",
                    "Your n̂n̂ is the skew matrix [n]ₓ: the dyadic is n nᵀ, with entries nᵢnⱼ.",
                    _skew,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "rodrigues",
            rodrigues_cases,
            T.axis_angle_to_matrix,
            CLOSE,
            weight=2.0,
            mistakes=[
                Mistake(
                    "transposed matrix (the frame's rotation)",
                    "Your matrix rotates the other way (it is the transpose): in this course's "
                    "active convention eq. 7 has + sin θ [n̂]ₓ; the paper's sign belongs to the "
                    "rotation of the coordinate frame.",
                    lambda axis, angle: np.swapaxes(T.axis_angle_to_matrix(axis, angle), -1, -2),
                    compare=CLOSE,
                ),
                Mistake(
                    "axis not normalised",
                    "Your matrix is not a rotation for an axis that is not a unit vector: divide "
                    "the axis by its length first (eq. 7 is for a unit n̂).",
                    _rodrigues_raw,
                    compare=CLOSE,
                ),
                Mistake(
                    "degrees for radians",
                    "Your function treats the angle as degrees; all angles in this course are radians.",
                    lambda axis, angle: T.axis_angle_to_matrix(axis, np.deg2rad(angle)),
                    compare=CLOSE,
                ),
            ],
        ),
        ValueCheck(
            "Q1_NN_V",
            "(n.v) n",
            choice(lambda v: v.replace(" ", "").lower() if isinstance(v, str) else v),
            weight=0.5,
            mistakes=[
                Mistake(
                    "dyadic read as the cross product",
                    "n̂n̂ v = n̂ (n̂·v): the projection of v onto the axis (the part of v that the "
                    "rotation leaves alone); n̂ × v is [n̂]ₓ v.",
                    lambda: "n x v",
                ),
            ],
        ),
    ],
)

# -- B: eq. 8 from eq. 7, symbolically ----------------------------------------------------------

_TH = sympy.Symbol("theta", real=True)
_N = sympy.symbols("n1 n2 n3", real=True)
_E = sympy.symbols("e0 e1 e2 e3", real=True)
SYMBOLS7 = {"theta": _TH, "n1": _N[0], "n2": _N[1], "n3": _N[2]}
SYMBOLS8 = {"e0": _E[0], "e1": _E[1], "e2": _E[2], "e3": _E[3]}


def _eq7(sign=1):
    n = sympy.Matrix(_N)
    K = sympy.Matrix([[0, -_N[2], _N[1]], [_N[2], 0, -_N[0]], [-_N[1], _N[0], 0]])
    return sympy.ImmutableMatrix(
        sympy.cos(_TH) * sympy.eye(3) + (1 - sympy.cos(_TH)) * n * n.T + sign * sympy.sin(_TH) * K
    )


def _eq8(sign=1, two=2):
    e0, e = _E[0], sympy.Matrix(_E[1:])
    K = sympy.Matrix([[0, -_E[3], _E[2]], [_E[3], 0, -_E[1]], [-_E[2], _E[1], 0]])
    return sympy.ImmutableMatrix(
        (e0**2 - (e.T * e)[0]) * sympy.eye(3) + two * e * e.T + sign * two * e0 * K
    )


EQ7, EQ8 = _eq7(), _eq8()


_ON_S3 = sympy_equal(SYMBOLS8, unit=("e0", "e1", "e2", "e3"))


def eq8_on_s3():
    """Eq. 8 as the notebook states it: equal to the reference at *every* unit quaternion.
    ``sympy_equal`` at random rational points of S³, and then at ± the identity, where a form
    that divides by e₁² + e₂² + e₃² (the c² − s² route without c² + s² = 1) is 0/0."""
    identities = [{"e0": sign, "e1": 0, "e2": 0, "e3": 0} for sign in (1, -1)]
    return sympy_equal(
        SYMBOLS8,
        unit=("e0", "e1", "e2", "e3"),
        also_at={"the identity e = (±1, 0, 0, 0)": identities},
    )


def entries(rng):
    return [Case(label=f"entry {i, j}", key=(i, j)) for i in range(3) for j in range(3)]


PART_B = Part(
    "test_eq8",
    "Part B — eq. 8 from eq. 7, symbolically (question 2)",
    [
        FunctionCheck(
            "eq7_symbolic",
            entries,
            lambda: EQ7,
            sympy_equal(SYMBOLS7, unit=("n1", "n2", "n3")),  # n̂ on S²: any form for a unit axis
            mistakes=[
                Mistake(
                    "transposed matrix (the frame's rotation)",
                    "Your eq. 7 is the transpose, − sin θ [n̂]ₓ: that is the rotation of the "
                    "frame; this course's matrices are active, + sin θ [n̂]ₓ.",
                    lambda: _eq7(-1),
                ),
            ],
        ),
        FunctionCheck(
            "eq8_from_eq7",
            entries,
            lambda: EQ8,
            eq8_on_s3(),
            weight=1.5,
            mistakes=[
                Mistake(
                    "transposed matrix (the frame's rotation)",
                    "Your eq. 8 is the transpose, − 2e₀[e]ₓ: the sign of the skew part follows "
                    "from your eq. 7, + sin θ [n̂]ₓ = + 2e₀[e]ₓ in the active convention.",
                    lambda: _eq8(-1),
                ),
                Mistake(
                    "|e₀| for e₀",
                    "Your eq. 8 has √(1 − e·e) where e₀ belongs: that is |e₀|, wrong for rotations "
                    "by more than π (e₀ < 0). SymPy's subs(c**2, 1 − s**2) rewrites a lone c as "
                    "√(1 − s²): substitute c = e₀ directly.",
                    lambda: EQ8.subs(_E[0], sympy.sqrt(1 - _E[1] ** 2 - _E[2] ** 2 - _E[3] ** 2)),
                ),
                Mistake(
                    "half-angle factors of 2 lost",
                    "Your off-diagonal terms are half what they should be: sin θ = 2 sin(θ/2) "
                    "cos(θ/2) and 1 − cos θ = 2 sin²(θ/2), so sin θ n̂ = 2e₀e and (1 − cos θ) n̂n̂ = "
                    "2eeᵀ.",
                    lambda: _eq8(1, 1),
                ),
                Mistake(
                    "division by e·e (undefined at the identity)",
                    "Your eq. 8 divides by e₁² + e₂² + e₃², so it is 0/0 at the identity: with "
                    "cos θ = c² − s², 1 − cos θ = 1 − c² + s² is 2s² only through c² + s² = 1. Use "
                    "cos θ = 1 − 2s² (1 − cos θ = 2s²) and every s cancels: eq. 8 is a "
                    "polynomial in e₀, e₁, e₂, e₃.",
                    lambda: EQ8,
                    compare=_ON_S3,
                ),
            ],
        ),
    ],
)

# -- C: 4×4 transforms ---------------------------------------------------------------------------


def rt(rng, *shape):
    return rotation(rng, *shape), vector(rng, *shape, scale=3.0)


def rigid_cases(rng):
    cases = [Case(rt(rng)) for _ in range(5)]
    cases.append(Case(rt(rng, 4), label="a batch"))
    return cases


def apply_cases(rng):
    return [
        Case((T.rigid_transform(*rt(rng)), vector(rng, int(rng.integers(1, 20)), scale=5.0)))
        for _ in range(6)
    ]


def compose_cases(rng):
    return [Case((*rt(rng), *rt(rng))) for _ in range(8)]


def invert_cases(rng):
    return [Case((T.rigid_transform(*rt(rng)),)) for _ in range(6)]


def pre_post_cases(rng):
    return [Case((rotation(rng), vector(rng, scale=3.0), vector(rng, scale=3.0))) for _ in range(6)]


def pair_close(rtol=1e-8, atol=1e-10):
    """A tuple ``(R, t)`` equal to the expected pair."""
    return tuple_of(R=allclose(rtol, atol), t=allclose(rtol, atol))


def _inv_no_rotate(M):
    R, t = T.split_transform(M)
    return T.rigid_transform(R.T, -t)


def _inv_no_transpose(M):
    R, t = T.split_transform(M)
    return T.rigid_transform(R, -t)


PART_C = Part(
    "test_transforms",
    "Part C — rigid motions as 4×4 matrices (question 3)",
    [
        FunctionCheck(
            "rigid_transform",
            rigid_cases,
            T.rigid_transform,
            CLOSE,
            weight=0.5,
            mistakes=[
                Mistake(
                    "translation in the last row",
                    "Your t is in the last row: eq. 16 puts t in the last column, so that "
                    "M (x, 1)ᵀ = (R x + t, 1)ᵀ for column vectors.",
                    lambda R, t: np.swapaxes(T.rigid_transform(R, t), -1, -2),
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "apply_transform",
            apply_cases,
            T.apply_transform,
            CLOSE,
            mistakes=[
                Mistake(
                    "points rotated by Rᵀ",
                    "Rows of points are rotated by points @ R.T (R x for each column vector x); "
                    "points @ R rotates them the other way.",
                    lambda M, p: np.asarray(p) @ np.asarray(M)[:3, :3] + np.asarray(M)[:3, 3],
                    compare=CLOSE,
                ),
                Mistake(
                    "translation before the rotation",
                    "You rotated the translated point, R (x + t): eq. 16's M maps x to R x + t "
                    "(rotate, then translate).",
                    lambda M, p: (np.asarray(p) + np.asarray(M)[:3, 3]) @ np.asarray(M)[:3, :3].T,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "compose_rt",
            compose_cases,
            T.compose_rt,
            pair_close(),
            weight=1.5,
            mistakes=[
                Mistake(
                    "translations added",
                    "The translation of M₂M₁ is R₂t₁ + t₂, not t₁ + t₂: M₁'s translation happens "
                    "before R₂, so R₂ rotates it.",
                    lambda R2, t2, R1, t1: (np.asarray(R2) @ R1, np.asarray(t1) + t2),
                    compare=pair_close(),
                ),
                Mistake(
                    "product in the wrong order",
                    "You computed M₁M₂ (R₁R₂, R₁t₂ + t₁): M₁ is applied first, so the product is "
                    "M₂M₁ = (R₂R₁, R₂t₁ + t₂).",
                    lambda R2, t2, R1, t1: T.compose_rt(R1, t1, R2, t2),
                    compare=pair_close(),
                ),
            ],
        ),
        FunctionCheck(
            "invert_transform",
            invert_cases,
            T.invert_transform,
            CLOSE,
            mistakes=[
                Mistake(
                    "inverse translation not rotated",
                    "The inverse translation is −Rᵀt, not −t: undoing x ↦ Rx + t gives "
                    "x = Rᵀ(y − t) = Rᵀy − Rᵀt.",
                    _inv_no_rotate,
                    compare=CLOSE,
                ),
                Mistake(
                    "rotation not inverted",
                    "The inverse's rotation is Rᵀ (= R⁻¹), and its translation −Rᵀt.",
                    _inv_no_transpose,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "pre_post_transform",
            pre_post_cases,
            T.pre_post_transform,
            CLOSE,
            mistakes=[
                Mistake(
                    "pre-translation not rotated",
                    "T(t_post) R T(t_pre) has the translation R t_pre + t_post: the pre-translation "
                    "happens before the rotation, so R rotates it.",
                    lambda R, a, b: T.rigid_transform(R, np.asarray(a) + b),
                    compare=CLOSE,
                ),
                Mistake(
                    "post-translation rotated",
                    "Your translation is R (t_pre + t_post): the post-translation comes after the "
                    "rotation and is not rotated.",
                    lambda R, a, b: T.rigid_transform(R, np.asarray(R) @ (np.asarray(a) + b)),
                    compare=CLOSE,
                ),
            ],
        ),
    ],
)

# -- D: Euler conventions ------------------------------------------------------------------------


def euler_angles(rng, *shape):
    a = rng.uniform(-PI, PI, size=shape + (3,))
    a[..., 1] = rng.uniform(0.05, PI - 0.05, size=shape)
    return a


def euler_matrix_cases(rng):
    a = np.array([0.3, 1.1, -0.4])
    visible = [
        Case((a, c), label=f"{c} (0.3, 1.1, −0.4)", visible=True, tags=(c,)) for c in CONVENTIONS
    ]
    cases = [Case((euler_angles(rng), c), tags=(c,)) for c in CONVENTIONS for _ in range(2)]
    cases += [Case((euler_angles(rng, 2, 3), c), tags=(c,)) for c in ("spider", "eman")]
    return visible + cases


def matrices_of(convention_arg):
    """Compare Euler angles by their matrices in the case's convention (angles are not unique)."""

    def compare(value, expected, case):
        arr, problem = as_array(value)
        if problem or arr is None:
            return problem
        exp = np.asarray(expected, dtype=np.float64)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        conv = convention_arg(case)
        got = E.euler_to_matrix(arr.astype(np.float64), conv)
        want = E.euler_to_matrix(exp, conv)
        err = float(np.abs(got - want).max())
        if err > 1e-8:
            return f"angles of another rotation (matrix off by {err:.3g})"
        return None

    return compare


def _middle_in_range(base):
    def compare(value, expected, case):
        reason = base(value, expected, case)
        if reason:
            return reason
        mid = np.asarray(value, dtype=np.float64)[..., 1]
        if np.any(mid < -1e-9) or np.any(mid > PI + 1e-9):
            return "the middle angle must be in [0, π]"
        return None

    return compare


def matrix_euler_cases(rng):
    visible = [
        Case(
            (E.euler_to_matrix([0.3, 1.1, -0.4], c), c),
            label=f"{c} round trip",
            visible=True,
            tags=(c,),
        )
        for c in CONVENTIONS
    ]
    cases = [Case((rotation(rng), c), tags=(c,)) for c in CONVENTIONS for _ in range(2)]
    for c in ("spider", "eman"):
        for theta in (0.0, PI):
            a = np.array([rng.uniform(-PI, PI), theta, rng.uniform(-PI, PI)])
            cases.append(
                Case((E.euler_to_matrix(a, c), c), label="gimbal lock", tags=(c, "locked"))
            )
    cases.append(Case((rotation(rng, 2, 2), "eman"), tags=("eman",)))
    return visible + cases


def convert_cases(rng):
    a = np.array([0.3, 1.1, -0.4])
    visible = [Case((a, "spider", "eman"), label="SPIDER (0.3, 1.1, −0.4) → EMAN", visible=True)]
    pairs = [
        ("spider", "eman"),
        ("eman", "spider"),
        ("relion", "eman"),
        ("eman", "relion"),
        ("spider", "relion"),
    ]
    cases = [Case((euler_angles(rng), s, t)) for s, t in pairs]
    cases += [Case((euler_angles(rng, 3), s, t)) for s, t in pairs[:2]]
    return visible + cases


_OFFSET = np.array([PI / 2, 0.0, -PI / 2])


def _spider_like(conv):
    return "spider" if conv == "eman" else conv


def _convert_wrong_offsets(angles, source, target):
    """The EMAN offsets with their signs flipped (az = φ − 90°, phi = ψ + 90°)."""
    spider = T.convert_euler(angles, source, "spider")
    return spider - _OFFSET if target == "eman" else spider


def _convert_copy(angles, source, target):
    return np.asarray(angles, dtype=np.float64)


def _convert_inverse(angles, source, target):
    return E.matrix_to_euler(np.swapaxes(E.euler_to_matrix(angles, source), -1, -2), target)


PART_D = Part(
    "test_euler",
    "Part D — the Euler angles of SPIDER, RELION and EMAN",
    [
        FunctionCheck(
            "euler_matrix",
            euler_matrix_cases,
            E.euler_to_matrix,
            CLOSE,
            weight=1.5,
            mistakes=[
                Mistake(
                    "intrinsic vs extrinsic (the order of the three rotations)",
                    "Your matrix has the three rotations in the reverse order: the package's "
                    "matrix is (R_z(φ) R_y(θ) R_z(ψ))ᵀ = R_z(−ψ) R_y(−θ) R_z(−φ) — the first angle "
                    "is applied first to the frame.",
                    lambda a, c: E.euler_to_matrix(np.asarray(a)[..., ::-1], c),
                    compare=CLOSE,
                ),
                Mistake(
                    "the inverse (the active rotation by the angles)",
                    "Your matrix is the transpose of the package's: R_z(φ) R_y(θ) R_z(ψ) is the "
                    "active rotation by the angles; the package's matrix A rotates the frame, "
                    "A = (R_z(φ) R_y(θ) R_z(ψ))ᵀ.",
                    lambda a, c: np.swapaxes(E.euler_to_matrix(a, c), -1, -2),
                    compare=CLOSE,
                ),
                Mistake(
                    "EMAN's middle rotation about y",
                    "EMAN's altitude turns about x, not y: A = (R_z(az) R_x(alt) R_z(phi))ᵀ.",
                    lambda a, c: E.euler_to_matrix(a, _spider_like(c)),
                    compare=CLOSE,
                ),
                Mistake(
                    "degrees for radians",
                    "Your function treats the angles as degrees; all angles in this course are radians.",
                    lambda a, c: E.euler_to_matrix(np.deg2rad(a), c),
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "matrix_to_euler",
            matrix_euler_cases,
            lambda R, c: E.matrix_to_euler(R, c),
            _middle_in_range(matrices_of(lambda case: case.args[1])),
            weight=1.5,
            mistakes=[
                Mistake(
                    "the inverse (angles of Rᵀ)",
                    "Your angles are those of the transposed matrix: decompose the package's "
                    "matrix A = (R_z(φ) R_y(θ) R_z(ψ))ᵀ, not the active R_z(φ) R_y(θ) R_z(ψ).",
                    lambda R, c: E.matrix_to_euler(np.swapaxes(R, -1, -2), c),
                    compare=matrices_of(lambda case: case.args[1]),
                ),
                Mistake(
                    "EMAN's offsets with the wrong signs",
                    "EMAN's angles of SPIDER's (φ, θ, ψ) are az = φ + 90°, phi = ψ − 90° (since "
                    "R_y(b) = R_z(π/2) R_x(b) R_z(−π/2)); yours have the opposite signs.",
                    lambda R, c: E.matrix_to_euler(R, "spider") - (_OFFSET if c == "eman" else 0),
                    compare=matrices_of(lambda case: case.args[1]),
                ),
            ],
        ),
        FunctionCheck(
            "convert_euler",
            convert_cases,
            T.convert_euler,
            matrices_of(lambda case: case.args[2]),
            mistakes=[
                Mistake(
                    "EMAN's offsets with the wrong signs",
                    "az = φ + 90° and phi = ψ − 90° (R_y(b) = R_z(π/2) R_x(b) R_z(−π/2)); your "
                    "offsets have the opposite signs.",
                    _convert_wrong_offsets,
                    compare=matrices_of(lambda case: case.args[2]),
                ),
                Mistake(
                    "angles copied without conversion",
                    "SPIDER/RELION and EMAN angles of one rotation differ: EMAN's middle axis is "
                    "x, and az = φ + 90°, phi = ψ − 90°. Convert through the matrix.",
                    _convert_copy,
                    compare=matrices_of(lambda case: case.args[2]),
                ),
                Mistake(
                    "the inverse",
                    "Your angles describe the inverse rotation: go through the package's matrix "
                    "A (the frame's rotation) both ways, or through the active matrix both ways.",
                    _convert_inverse,
                    compare=matrices_of(lambda case: case.args[2]),
                ),
            ],
        ),
    ],
)

# -- E: the metric and the volume element -------------------------------------------------------


def line_cases(rng):
    visible = [Case((2.0, 0.3, np.array([0.1, -0.2, 0.0])), label="Ω = 2", visible=True)]
    cases = [Case((rng.uniform(0.05, PI), rng.normal(), vector(rng))) for _ in range(6)]
    cases.append(Case((rng.uniform(0, PI, size=4), rng.normal(size=4), vector(rng, 4))))
    cases.append(Case((PI, 0.0, np.array([1.0, 0.0, 0.0])), label="a half turn, axis step only"))
    return visible + cases


def dn_cases(rng):
    visible = [Case((0.3, 0.0, 1.0), label="θ = 0.3, dφ = 1", visible=True)]
    cases = [Case((rng.uniform(0, PI), rng.normal(), rng.normal())) for _ in range(6)]
    cases.append(Case((rng.uniform(0, PI, size=5), rng.normal(size=5), rng.normal(size=5))))
    return visible + cases


def angle_cases(rng):
    cases = [Case((float(w),)) for w in rng.uniform(0.01, PI, size=6)]
    cases.append(Case((np.linspace(0.0, PI, 9),), label="Ω from 0 to π"))
    return cases


def ball_cases(rng):
    visible = [Case((rho,), label=f"ρ = {rho}", visible=True) for rho in (0.5, 1.5, 3.0)]
    cases = [Case((float(r),)) for r in rng.uniform(0.05, PI, size=5)]
    cases.append(Case((np.array([0.01, 0.2, 1.0, 2.0, PI]),)))
    return visible + cases


def euler_density_cases(rng):
    cases = [Case((euler_angles(rng),)) for _ in range(4)]
    cases.append(Case((euler_angles(rng, 5),)))
    return cases


PART_E = Part(
    "test_volume",
    "Part E — the metric and the volume element (question 5)",
    [
        FunctionCheck(
            "spin_line_element",
            line_cases,
            H.spin_line_element,
            allclose(1e-8, 1e-12),
            weight=1.5,
            mistakes=[
                Mistake(
                    "flat line element",
                    "Your ds uses Ω|dn̂| for the axis step, the picture of flat rotation-vector "
                    "space: on SO(3) the axis step counts 2 sin(Ω/2)|dn̂| (the quaternion's vector "
                    "part sin(Ω/2) n̂ moves by sin(Ω/2) dn̂, and angles between rotations are twice "
                    "those between quaternions).",
                    lambda w, dw, dn: np.sqrt(
                        np.asarray(dw) ** 2 + np.asarray(w) ** 2 * np.sum(np.asarray(dn) ** 2, -1)
                    ),
                    compare=CLOSE,
                ),
                Mistake(
                    "factor 4 missing",
                    "Your axis term is sin²(Ω/2)(dn̂)²: it is 4 sin²(Ω/2)(dn̂)² — the angle between "
                    "rotations is twice the angle between their quaternions.",
                    lambda w, dw, dn: np.sqrt(
                        np.asarray(dw) ** 2
                        + np.sin(np.asarray(w) / 2) ** 2 * np.sum(np.asarray(dn) ** 2, -1)
                    ),
                    compare=CLOSE,
                ),
                Mistake(
                    "ds² for ds",
                    "Your function returns ds²; return ds, its square root.",
                    lambda w, dw, dn: H.spin_line_element(w, dw, dn) ** 2,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "dn_squared",
            dn_cases,
            H.sphere_line_element_sq,
            CLOSE,
            mistakes=[
                Mistake(
                    "flat sphere (no sin²θ)",
                    "Your (dn̂)² is dθ² + dφ²: a step dφ moves the point along a circle of radius "
                    "sin θ, so it counts sin²θ dφ².",
                    lambda t, a, b: np.asarray(a) ** 2 + np.asarray(b) ** 2,
                    compare=CLOSE,
                ),
                Mistake(
                    "sin θ for sin²θ",
                    "The azimuthal term is sin²θ dφ² (the square of the arc sin θ dφ).",
                    lambda t, a, b: np.asarray(a) ** 2 + np.sin(t) * np.asarray(b) ** 2,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "haar_angle_density",
            angle_cases,
            H.haar_angle_density,
            CLOSE,
            mistakes=[
                Mistake(
                    "uniform rotation angle",
                    "Uniform rotations do not have uniform angles: the volume element 4 sin²(Ω/2) "
                    "makes small angles rare; the density is (1 − cos Ω)/π.",
                    lambda w: np.full(np.shape(w), 1 / PI),
                    compare=CLOSE,
                ),
                Mistake(
                    "volume element not normalised",
                    "Integrated over the axis the volume element is 4π · 4 sin²(Ω/2); divide by "
                    "the volume 8π² of SO(3): the density (1 − cos Ω)/π integrates to 1.",
                    lambda w: 4 * np.sin(np.asarray(w) / 2) ** 2,
                    compare=CLOSE,
                ),
                Mistake(
                    "density of a polar angle (sin Ω / 2)",
                    "sin Ω / 2 is the density of a polar angle on the sphere S²; the rotation "
                    "angle has (1 − cos Ω)/π.",
                    lambda w: np.sin(w) / 2,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "ball_fraction",
            ball_cases,
            H.ball_volume_fraction,
            allclose(1e-7, 1e-12),
            mistakes=[
                Mistake(
                    "flat ball",
                    "ρ³/(6π) is the ball of flat rotation-vector space (the small-ρ limit): "
                    "integrate the density, (ρ − sin ρ)/π.",
                    lambda r: np.asarray(r) ** 3 / (6 * PI),
                    compare=CLOSE,
                ),
                Mistake(
                    "uniform in the rotation-vector ball",
                    "(ρ/π)³ assumes uniform rotations fill the ball of radius π uniformly: they "
                    "do not; the fraction is (ρ − sin ρ)/π.",
                    lambda r: (np.asarray(r) / PI) ** 3,
                    compare=CLOSE,
                ),
                Mistake(
                    "uniform rotation angle",
                    "ρ/π assumes uniform angles; integrate (1 − cos Ω)/π: (ρ − sin ρ)/π.",
                    lambda r: np.asarray(r) / PI,
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "euler_density",
            euler_density_cases,
            H.euler_haar_density,
            CLOSE,
            mistakes=[
                Mistake(
                    "uniform in the Euler angles",
                    "Uniform rotations are not uniform in (φ, θ, ψ): the volume element is "
                    "sin θ dφ dθ dψ, so the density is sin θ / (8π²).",
                    lambda a: np.full(np.shape(a)[:-1], 1 / (4 * PI**3)),
                    compare=CLOSE,
                ),
                Mistake(
                    "volume element not normalised",
                    "sin θ is the volume element; divide by 8π² for a probability density.",
                    lambda a: np.sin(np.asarray(a)[..., 1]),
                    compare=CLOSE,
                ),
            ],
        ),
    ],
)

# -- F: the paper's grid -------------------------------------------------------------------------

#: The grader's measures of a grid (the notebook states them): count bounds, covering radius and
#: counts in balls of radius 2.5 δ.
COUNT_RANGE = (0.8, 1.3)
S2_COVER, SO3_COVER = 1.0, 1.0
S2_BALLS, SO3_BALLS = 0.40, 0.30
N_PROBES, N_CENTRES = 4000, 300


@cache
def _probes(seed: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "so3":
        return S.shoemake_quat(N_PROBES + N_CENTRES, rng)
    v = rng.normal(size=(N_PROBES + N_CENTRES, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def step_cases(rng):
    visible = [Case((np.deg2rad(20.0),), label="δ = 20°", visible=True, key=1, tags=("grid",))]
    steps = [rng.uniform(15.0, 22.0), rng.uniform(22.0, 30.0)]
    return visible + [
        Case((np.deg2rad(d),), key=int(rng.integers(2**31)), tags=("grid",)) for d in steps
    ]


def grid_cases(rng):
    """Steps of 20–30°: all of a part's answers travel in one kernel output of at most 256 KiB,
    and a grid of 8π²/δ³ float64 quaternions is 100 KiB at 20°."""
    visible = [Case((np.deg2rad(25.0),), label="δ = 25°", visible=True, key=2, tags=("grid",))]
    step = np.deg2rad(rng.uniform(20.0, 30.0))
    return [*visible, Case((step,), key=int(rng.integers(2**31)), tags=("grid",))]


def radius_cases(rng):
    visible = [Case((50.0,), label="R = 50 px", visible=True)]
    cases = [Case((r,)) for r in (1.0, 1.5, 2.0)]
    cases += [Case((float(r),)) for r in rng.uniform(3, 200, size=3)]
    cases.append(Case((rng.uniform(1, 100, size=4),)))
    return visible + cases


def _quats(value, n_min=1):
    arr, problem = as_array(value)
    if problem or arr is None:
        return None, problem
    if arr.ndim != 2 or arr.shape[1] != 4:
        return None, f"returned shape {arr.shape}: expected unit quaternions (N, 4)"
    if arr.shape[0] < n_min:
        return None, f"returned {arr.shape[0]} rotations"
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return None, "returned NaN or infinity"
    if np.abs(np.linalg.norm(arr, axis=1) - 1).max() > 1e-6:
        return None, "not unit quaternions"
    return arr, None


def _directions(value):
    arr, problem = as_array(value)
    if problem or arr is None:
        return None, problem
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 2:
        return None, f"returned shape {arr.shape}: expected rows (φ, θ), shape (M, 2)"
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return None, "returned NaN or infinity"
    return S.direction_vectors(arr), None


def _seed(case):
    """The seed of a grid case's probe points (0 for any other case)."""
    return case.key if "grid" in case.tags else 0


def measured_directions():
    def compare(value, expected, case):
        u, problem = _directions(value)
        if problem or u is None:
            return problem
        step = float(case.args[0])
        ratio = len(u) / (4 * PI / step**2)
        if not COUNT_RANGE[0] <= ratio <= COUNT_RANGE[1]:
            return f"{len(u)} directions: {ratio:.2f} × 4π/δ², outside [0.8, 1.3]"
        pts = _probes(_seed(case), "s2")
        cover = U.sphere_covering_radius(u, pts[:N_PROBES])
        if cover > S2_COVER * step:
            return f"a direction is {cover / step:.2f} δ from the nearest of yours (must be < δ)"
        ratios = U.cap_count_ratios(u, pts[N_PROBES:], 2.5 * step)
        worst = float(np.abs(ratios - 1).max())
        if worst > S2_BALLS:
            return f"caps of radius 2.5 δ hold {ratios.min():.2f}–{ratios.max():.2f} × the uniform count"
        return None

    return compare


def measured_grid():
    def compare(value, expected, case):
        q, problem = _quats(value)
        if problem or q is None:
            return problem
        step = float(case.args[0])
        ratio = len(q) / (8 * PI**2 / step**3)
        if not COUNT_RANGE[0] <= ratio <= COUNT_RANGE[1]:
            return f"{len(q)} orientations: {ratio:.2f} × 8π²/δ³, outside [0.8, 1.3]"
        pts = _probes(_seed(case), "so3")
        cover = U.covering_radius(q, pts[:N_PROBES])
        if cover > SO3_COVER * step:
            return f"covering radius {cover / step:.2f} δ (must be below δ)"
        ratios = U.ball_count_ratios(q, pts[N_PROBES:], 2.5 * step)
        if float(np.abs(ratios - 1).max()) > SO3_BALLS:
            return f"balls of radius 2.5 δ hold {ratios.min():.2f}–{ratios.max():.2f} × N·ball_fraction"
        return None

    return compare


def _signature(predicate):
    """A mistake's compare that recognises it from the answer alone (``expected`` is ignored)."""

    def compare(value, expected, case):
        try:
            return None if predicate(value, case) else "not this mistake"
        except Exception:
            return "not this mistake"

    return compare


def _theta_of_quats(q):
    """SPIDER θ of orientations given as quaternions: the angle of A's third row from z."""
    R = Q.quat_to_matrix(np.asarray(q, dtype=np.float64))
    return np.arccos(np.clip(R[..., 2, 2], -1, 1))


def _hemisphere_dirs(value, case):
    return float(np.asarray(value, dtype=np.float64)[:, 1].max()) < PI / 2 + 1e-6


def _swapped_columns(value, case):
    d = np.asarray(value, dtype=np.float64)
    return float(d[:, 0].max()) <= PI + 1e-9 and float(d[:, 1].max()) > PI + 1e-6


def _count_ratio_dirs(value, case):
    return len(np.asarray(value)) / (4 * PI / float(case.args[0]) ** 2)


def _count_ratio_grid(value, case):
    return len(np.asarray(value)) / (8 * PI**2 / float(case.args[0]) ** 3)


def _hemisphere_grid(value, case):
    theta = _theta_of_quats(value)
    return (
        float(min(theta.max(), PI - theta.min())) < PI / 2 + 1e-6
        and _count_ratio_grid(value, case) < 0.8
    )


PART_F = Part(
    "test_grid",
    "Part F — the quasi-uniform grid of §2.3 (questions 6 and 7)",
    [
        FunctionCheck(
            "angular_step",
            radius_cases,
            S.angular_step_for_radius,
            allclose(1e-9, 1e-12),
            mistakes=[
                Mistake(
                    "small-angle step 1/R",
                    "1/R is only the small-angle limit: eq. 27 is tan δθ = 1/R, δθ = arctan(1/R) "
                    "(for R = 1 that is 45°, not 57°).",
                    lambda r: 1.0 / np.asarray(r, dtype=np.float64),
                    compare=CLOSE,
                ),
                Mistake(
                    "degrees for radians",
                    "Your step is in degrees; all angles in this course are radians.",
                    lambda r: np.rad2deg(S.angular_step_for_radius(r)),
                    compare=CLOSE,
                ),
            ],
        ),
        FunctionCheck(
            "projection_directions",
            step_cases,
            None,
            measured_directions(),
            weight=1.5,
            mistakes=[
                Mistake(
                    "one hemisphere only",
                    "Your directions stop at θ = 90°, the paper's default for projections (a "
                    "projection along −d is the mirror image of the one along d); a grid of "
                    "orientations needs the whole sphere, θ up to π.",
                    lambda step: None,
                    compare=_signature(_hemisphere_dirs),
                ),
                Mistake(
                    "columns swapped (θ, φ)",
                    "Your rows are (θ, φ): return (φ, θ), SPIDER's first two Euler angles in "
                    "their order (φ in [0, 2π), θ in [0, π]).",
                    lambda step: None,
                    compare=_signature(_swapped_columns),
                ),
                Mistake(
                    "azimuth step not divided by sin θ",
                    "Every ring has the same number of directions, so they crowd near the poles: on "
                    "the ring at θ the azimuth steps by δ / sin θ (about 2π sin θ / δ directions).",
                    lambda step: None,
                    compare=_signature(lambda v, c: _count_ratio_dirs(v, c) > 1.4),
                ),
            ],
        ),
        FunctionCheck(
            "orientation_grid",
            grid_cases,
            None,
            measured_grid(),
            weight=2.0,
            mistakes=[
                Mistake(
                    "no in-plane angles",
                    "Your grid has one orientation per direction: an orientation also has the "
                    "in-plane angle ψ, stepped by δ (about 2π/δ values for each direction).",
                    lambda step: None,
                    compare=_signature(lambda v, c: _count_ratio_grid(v, c) < 0.3),
                ),
                Mistake(
                    "uniform in the Euler angles",
                    "Your grid is uniform in (φ, θ, ψ), so it crowds near θ = 0 and π where the "
                    "volume element sin θ is small: step φ by δ / sin θ on each ring.",
                    lambda step: None,
                    compare=_signature(lambda v, c: _count_ratio_grid(v, c) > 1.4),
                ),
                Mistake(
                    "one hemisphere only",
                    "Your orientations only have θ ≤ 90°: the grid of SO(3) needs the whole sphere "
                    "of directions.",
                    lambda step: None,
                    compare=_signature(_hemisphere_grid),
                ),
            ],
        ),
    ],
)

# -- G and H: other uniform samplings ------------------------------------------------------------

KS_MAX = 2.8  # √n D; P(exceeded) ≈ 3e-7 per statistic for a uniform sample
Z_MAX = 5.0  # moments, in standard errors
CLOSE_RANGE = (0.55, 0.71)
COVER_DENSITY_MAX, S2_COVER_DENSITY_MAX = 4.5, 2.5
BALL_MEAN, BALL_TOL = 40.0, 0.25
N_RANDOM = 2000  # 2000 float64 quaternions: 85 KiB on the wire (see grid_cases)


def _ks(x, cdf):
    """√n D of the sample ``x`` against the cumulative distribution ``cdf``."""
    x = np.sort(x)
    n = x.size
    c = cdf(x)
    d = max((np.arange(1, n + 1) / n - c).max(), (c - np.arange(n) / n).max())
    return float(np.sqrt(n) * d)


def _ks_abs_component(x):
    """√n D of |x| against the law of one coordinate of a uniform point of S³, density
    (2/π)√(1 − x²) on [−1, 1]: for |x|, CDF (2/π)(x√(1 − x²) + arcsin x)."""
    return _ks(
        np.clip(np.abs(x), 0, 1), lambda t: (2 / PI) * (t * np.sqrt(1 - t * t) + np.arcsin(t))
    )


def uniformity_statistics(q):
    """The largest of the tests of Haar uniformity the random sampler must pass, as
    ``(largest √n D, largest |z|)``: Kolmogorov–Smirnov for each |q_k| (law of a coordinate of
    S³), for each entry of the matrix (uniform on [−1, 1]: a column of a uniform rotation is a
    uniform unit vector, and a coordinate of one is uniform, Archimedes) and for the angle
    ((Ω − sin Ω)/π); and z-scores of the moments ``E[q qᵀ] = I/4`` (standard errors ¼ and
    1/√24 per sample) and ``E[Σ q_k⁴] = ½`` (standard deviation √0.025 per sample)."""
    n = len(q)
    R = Q.quat_to_matrix(q)
    ks = [_ks_abs_component(q[:, k]) for k in range(4)]
    ks += [_ks(R[:, i, j], lambda t: (t + 1) / 2) for i in range(3) for j in range(3)]
    ks.append(float(np.sqrt(n) * U.angle_ks_statistic(q)))
    second = np.einsum("ni,nj->ij", q, q) / n
    se = np.where(np.eye(4) > 0, 0.25, np.sqrt(1 / 24)) / np.sqrt(n)
    z = [float(np.abs((second - np.eye(4) / 4) / se).max())]
    z.append(abs(float((q**4).sum(axis=1).mean()) - 0.5) / (np.sqrt(0.025) / np.sqrt(n)))
    return max(ks), max(z)


def _radius_for(n, mean, volume):
    """The radius r with n · volume(r) = mean (bisection)."""
    lo, hi = 0.0, PI
    for _ in range(60):
        mid = (lo + hi) / 2
        if n * volume(mid) < mean:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def random_cases(rng):
    visible = [Case((N_RANDOM, 0), label=f"n = {N_RANDOM}, seed 0", visible=True)]
    return [*visible, Case((N_RANDOM, int(rng.integers(2**31))))]


def measured_random():
    def compare(value, expected, case):
        n = int(case.args[0])
        q, problem = _quats(value)
        if problem or q is None:
            return problem
        if len(q) != n:
            return f"returned {len(q)} rotations for n = {n}"
        ks, z = uniformity_statistics(q)
        if ks > KS_MAX:
            return f"not uniform: a Kolmogorov–Smirnov √n D = {ks:.1f} (must be < {KS_MAX})"
        if z > Z_MAX:
            return f"not uniform: a moment is {z:.1f} standard errors off (must be < {Z_MAX:g})"
        r = _radius_for(n - 1, 1.0, H.ball_volume_fraction)
        frac = U.close_pair_fraction(q, r)
        if not CLOSE_RANGE[0] <= frac <= CLOSE_RANGE[1]:
            return (
                f"not independent: {frac:.3f} of the points have a neighbour within r "
                "(expected about 0.63)"
            )
        return None

    return compare


def count_cases(rng):
    visible = [Case((500,), label="n = 500", visible=True, key=4, tags=("grid",))]
    n = int(rng.integers(300, 701))
    return [*visible, Case((n,), key=int(rng.integers(2**31)), tags=("grid",))]


def measured_deterministic():
    def compare(value, expected, case):
        n = int(case.args[0])
        q, problem = _quats(value)
        if problem or q is None:
            return problem
        if not n <= len(q) <= 2 * n:
            return f"returned {len(q)} rotations for n = {n} (between n and 2n required)"
        pts = _probes(_seed(case), "so3")
        cover = U.covering_radius(q, pts[:N_PROBES])
        density = float(U.covering_density(len(q), cover))
        if density > COVER_DENSITY_MAX:
            return f"covering density {density:.1f} (must be below {COVER_DENSITY_MAX})"
        r = _radius_for(len(q), BALL_MEAN, H.ball_volume_fraction)
        ratios = U.ball_count_ratios(q, pts[N_PROBES:], r)
        if float(np.abs(ratios - 1).max()) > BALL_TOL:
            return f"balls holding 40 points on average hold {ratios.min():.2f}–{ratios.max():.2f} × 40"
        return None

    return compare


def measured_sphere():
    def compare(value, expected, case):
        n = int(case.args[0])
        arr, problem = as_array(value)
        if problem or arr is None:
            return problem
        if arr.ndim != 2 or arr.shape[1] != 3:
            return f"returned shape {arr.shape}: expected unit vectors (M, 3)"
        u = arr.astype(np.float64)
        if not np.all(np.isfinite(u)) or np.abs(np.linalg.norm(u, axis=1) - 1).max() > 1e-6:
            return "not unit vectors"
        if not n <= len(u) <= 2 * n:
            return f"returned {len(u)} points for n = {n} (between n and 2n required)"
        pts = _probes(_seed(case), "s2")
        cover = U.sphere_covering_radius(u, pts[:N_PROBES])
        density = len(u) * (1 - np.cos(cover)) / 2
        if density > S2_COVER_DENSITY_MAX:
            return f"covering density {density:.1f} on the sphere (must be below {S2_COVER_DENSITY_MAX})"
        r = float(np.arccos(1 - 2 * BALL_MEAN / len(u)))
        ratios = U.cap_count_ratios(u, pts[N_PROBES:], r)
        if float(np.abs(ratios - 1).max()) > BALL_TOL:
            return (
                f"caps holding 40 points on average hold {ratios.min():.2f}–{ratios.max():.2f} × 40"
            )
        return None

    return compare


@cache
def _cube_fourth_moment() -> tuple[float, float]:
    """Mean and standard deviation of Σ q_k⁴ for normalised uniform points of [−1, 1]⁴."""
    g = np.random.default_rng(1992).uniform(-1, 1, size=(400_000, 4))
    s4 = ((g / np.linalg.norm(g, axis=1, keepdims=True)) ** 4).sum(axis=1)
    return float(s4.mean()), float(s4.std())


def _looks_like_cube(value, case):
    """Σ q_k⁴ averages what normalised cube points give (to 4 standard errors)."""
    q = np.asarray(value, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    mean, sd = _cube_fourth_moment()
    return abs(float((q**4).sum(axis=1).mean()) - mean) < 4 * sd / np.sqrt(len(q))


def _uniform_theta(value, case):
    """SPIDER θ uniform on [0, π] (the signature of uniform Euler angles)."""
    return _ks(_theta_of_quats(value), lambda t: t / PI) < KS_MAX


def _close_fraction(value):
    q = np.asarray(value, dtype=np.float64)
    return U.close_pair_fraction(q, _radius_for(len(q) - 1, 1.0, H.ball_volume_fraction))


PART_G = Part(
    "test_random_rotations",
    "Part G — uniform random rotations (question 8)",
    [
        FunctionCheck(
            "shoemake_quat",
            random_cases,
            None,
            measured_random(),
            weight=1.5,
            mistakes=[
                Mistake(
                    "uniform Euler angles",
                    "Drawing φ, θ, ψ uniformly is not uniform on SO(3): θ must be drawn with the "
                    "density sin θ / 2 (uniform in cos θ). Shoemake's construction avoids angles.",
                    lambda n, seed: None,
                    compare=_signature(_uniform_theta),
                ),
                Mistake(
                    "normalised points of a cube",
                    "Normalising uniform points of the cube [−1, 1]⁴ is not uniform on S³ (the "
                    "corners are over-represented): normalise Gaussian vectors, or use Shoemake's "
                    "construction.",
                    lambda n, seed: None,
                    compare=_signature(_looks_like_cube),
                ),
                Mistake(
                    "not random",
                    "Your points are evenly spread but not independent (no two of them are as close "
                    "as independent points would be): the random sampler must draw them at random.",
                    lambda n, seed: None,
                    compare=_signature(lambda v, c: _close_fraction(v) < 0.3),
                ),
            ],
        ),
    ],
)

PART_H = Part(
    "test_grids",
    "Part H — deterministic uniform grids (question 8)",
    [
        FunctionCheck(
            "deterministic_quat",
            count_cases,
            None,
            measured_deterministic(),
            weight=1.5,
            mistakes=[
                Mistake(
                    "random instead of deterministic",
                    "Your rotations are independent random draws: their largest gaps are several "
                    "times those of a grid (covering density 7–10). Use a deterministic "
                    "construction such as the super-Fibonacci spiral.",
                    lambda n: None,
                    compare=_signature(lambda v, c: _close_fraction(v) > 0.5),
                ),
            ],
        ),
        FunctionCheck(
            "sphere_points",
            count_cases,
            None,
            measured_sphere(),
            mistakes=[
                Mistake(
                    "equal steps in θ instead of z",
                    "Equal steps in the polar angle crowd the points near the poles: area on the "
                    "sphere is uniform in z = cos θ, so step z evenly.",
                    lambda n: None,
                    compare=_signature(
                        lambda v, c: (
                            abs(float(np.mean(np.abs(np.asarray(v)[:, 2]))) - 2 / PI) < 0.03
                        )
                    ),
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G, PART_H]
