"""Hidden checks of problem set 2 (metrics on SO(3)). Grader-side only: never released, never in
the learner's sandbox (``CourseDirectory.ignore`` lists this file). See ``autograder.checks.function``.

The inputs include the cases that separate a careful implementation from the textbook one:
angles of 1e-9 rad (where ``arccos`` of the trace is 0), float32 angles of 1e-4 rad, half turns
built exactly (``R`` symmetric, where ``(R − Rᵀ)/(2 sin θ)`` is 0/0) about x, y, z and a general
axis, nearly antipodal quaternions (where ``d_quat`` needs its minimum over ±q), and angles
outside [−π, π] for the ball of question 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    lost_where,
    number_close,
    reference64,
)
from reference_impl import quaternion as Q
from reference_impl import so3

# -- inputs --------------------------------------------------------------------------------------

TINY = (1e-9, 3e-9, 1e-10)  # float64 angles where arccos((tr R − 1)/2) is 0
SQRT8 = 2 * np.sqrt(2)


def unit_vector(rng):
    n = rng.normal(size=3)
    return n / np.linalg.norm(n)


def rotvec(rng, *shape, top=np.pi):
    """Rotation vectors with uniformly distributed angles in (0, top) and random axes."""
    n = rng.normal(size=shape + (3,))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return n * rng.uniform(0.05, top, size=shape + (1,))


def rotation(rng, *shape):
    return Q.quat_to_matrix(Q.random_quat(shape if shape else None, rng))


def half_turn(n):
    """The rotation by π about the unit axis n, built exactly symmetric: 2 n nᵀ − I."""
    return 2 * np.outer(n, n) - np.eye(3)


HALF_TURNS = {
    "x": np.diag([1.0, -1.0, -1.0]),
    "y": np.diag([-1.0, 1.0, -1.0]),
    "z": np.diag([-1.0, -1.0, 1.0]),
}


# -- comparisons ---------------------------------------------------------------------------------


#: Float32 answers (cases tagged "float32", which must return float32): to float32's precision.
F32 = Elementwise(2e-3, 1e-6)


@dataclass(frozen=True)
class AlongLength:
    """Rotation vectors (..., 3) within ``rtol`` of their *length* (plus ``atol``) — so that a
    1e-9 rad answer of 0 is wrong. With ``either_sign_at_pi``, ±w are both right where
    |w| = π."""

    rtol: float
    atol: float
    either_sign_at_pi: bool = False

    def problem(self, answer: np.ndarray, expected: np.ndarray) -> str | None:
        a, exp = answer.astype(np.float64), expected.astype(np.float64)
        size = np.linalg.norm(exp, axis=-1)
        err = np.linalg.norm(a - exp, axis=-1)
        if self.either_sign_at_pi:
            flipped = np.linalg.norm(a + exp, axis=-1)
            err = np.where(np.abs(size - np.pi) < 1e-6, np.minimum(err, flipped), err)
        if np.all(err <= self.rtol * size + self.atol):
            return None
        return f"wrong values (largest error {float(err.max()):.3g} rad)"


def vectors_close(rtol=1e-7, atol=1e-13, rtol32=2e-3, atol32=1e-6, either_sign_at_pi=False):
    """Rotation vectors ``AlongLength``; cases tagged "float32" must return float32."""
    return close(
        AlongLength(rtol, atol, either_sign_at_pi),
        AlongLength(rtol32, atol32, either_sign_at_pi),
        kinds="fi",
    )


def matches_nan_or(base):
    """A mistake's answer may hold NaN: the learner's answer matches where it is NaN (or inf)
    at the same places, and ``base`` elsewhere."""

    def compare(value, expected, case):
        try:
            arr = np.asarray(value)
        except Exception:
            return "not numbers"
        if arr.dtype.kind not in "fi":
            return "not numbers"
        arr = arr.astype(np.float64)
        exp = np.asarray(expected, dtype=np.float64)
        if arr.shape != exp.shape:
            return "shape"
        bad_a = ~np.isfinite(arr)
        bad_e = ~np.isfinite(exp)
        if not np.array_equal(bad_a, bad_e):
            return "NaN elsewhere"
        if bad_e.all():
            return None
        return base(np.where(bad_a, 0, arr), np.where(bad_e, 0, exp), Case())

    return compare


#: Equal up to what ``arccos`` of a cosine near ±1 loses (for diagnosing that mistake).
ACOS_LIKE = close(Elementwise(1e-6, 5e-8), Elementwise(1e-6, 2e-3), dtypes="none")


# -- A: hat and vee ------------------------------------------------------------------------------


def hat_cases(rng):
    visible = [Case((np.array([1.0, 2.0, 3.0]),), label="hat([1, 2, 3])", visible=True)]
    cases = [Case((rng.normal(size=3) * rng.uniform(0.1, 5),)) for _ in range(10)]
    cases.append(Case((rng.normal(size=(4, 2, 3)),)))
    cases.append(float32_variant(Case((rng.normal(size=3),))))
    return visible + cases


def vee_cases(rng):
    visible = [
        Case(
            (np.arange(9.0).reshape(3, 3),),
            label="vee of a matrix that is not skew",
            visible=True,
            tags=("nonskew",),
        )
    ]
    cases = [Case((so3.hat(rng.normal(size=3)),)) for _ in range(8)]
    cases += [Case((rng.normal(size=(3, 3)),), tags=("nonskew",)) for _ in range(3)]
    cases.append(Case((rotation(rng),), tags=("nonskew",)))
    cases.append(Case((so3.hat(rng.normal(size=(5, 3))),)))
    cases.append(float32_variant(Case((so3.hat(rng.normal(size=3)),))))
    return visible + cases


def _vee_entries(W):
    W = np.asarray(W)
    return np.stack([W[..., 2, 1], W[..., 0, 2], W[..., 1, 0]], axis=-1)


PART_A = Part(
    "test_hat_vee",
    "Part A — hat and vee",
    [
        FunctionCheck(
            "hat",
            hat_cases,
            so3.hat,
            close(Elementwise(1e-7, 1e-13), F32),
            mistakes=[
                Mistake(
                    "transposed hat",
                    "Your [w]ₓ is the transpose (every sign flipped): [w]ₓ v must equal w × v, so "
                    "its (0, 1) entry is −w_z and its (1, 0) entry is +w_z.",
                    lambda w: -so3.hat(w),
                ),
            ],
        ),
        FunctionCheck(
            "vee",
            vee_cases,
            so3.vee,
            close(Elementwise(1e-7, 1e-13), F32),
            mistakes=[
                Mistake(
                    "vee without the skew-symmetric part",
                    "Your vee reads three entries of W; for a matrix that is not exactly skew it "
                    "must return the vector of its skew-symmetric part (W − Wᵀ)/2.",
                    _vee_entries,
                ),
                Mistake(
                    "transposed vee",
                    "Your vee has the wrong sign: vee([w]ₓ) = w, and [w]ₓ's (2, 1) entry is +w_x.",
                    lambda W: -so3.vee(W),
                ),
            ],
        ),
    ],
)

# -- B: exponential map --------------------------------------------------------------------------


def exp_cases(rng):
    visible = [
        Case((np.zeros(3),), label="exp(0) = I", visible=True, tags=("zero",)),
        Case((np.array([0.0, 0.0, np.pi / 2]),), label="+90° about z", visible=True),
    ]
    cases = [Case((rotvec(rng),)) for _ in range(9)]
    cases += [Case((np.pi * unit_vector(rng),), label="a half turn")]
    cases += [Case((t * unit_vector(rng),), tags=("tiny",)) for t in (1e-9, 1e-5)]
    batch = rotvec(rng, 2, 3)
    batch[1, 2] = 0.0  # the identity inside a batch
    cases.append(Case((batch,), tags=("zero",)))
    cases.append(float32_variant(Case((rotvec(rng),))))
    return visible + cases


def _nan_at_zero(w):
    R = so3.so3_exp(w)
    zero = np.linalg.norm(np.asarray(w), axis=-1) == 0
    return np.where(zero[..., None, None], np.nan, R)


PART_B = Part(
    "test_so3_exp",
    "Part B — the exponential map",
    [
        FunctionCheck(
            "so3_exp",
            exp_cases,
            so3.so3_exp,
            close(Elementwise(1e-7, 1e-14), F32),
            mistakes=[
                Mistake(
                    "division by zero at θ = 0",
                    "Your exp returns NaN for the zero rotation vector: sin θ/θ and "
                    "(1 − cos θ)/θ² are 0/0 there — use their limits 1 and 1/2 (Taylor series "
                    "for small θ).",
                    _nan_at_zero,
                    compare=matches_nan_or(allclose(1e-7, 1e-12)),
                ),
                Mistake(
                    "first-order approximation",
                    "Your exp is I + [w]ₓ, which is not a rotation matrix: Rodrigues' formula has "
                    "sin θ/θ and (1 − cos θ)/θ² in front of [w]ₓ and [w]ₓ².",
                    lambda w: np.eye(3) + so3.hat(w),
                ),
                Mistake(
                    "transposed matrix (passive rotation)",
                    "Your exp rotates the wrong way (it is exp(−[w]ₓ), the transpose): check the "
                    "signs of hat, and that [w]ₓ v = w × v.",
                    lambda w: so3.so3_exp(-np.asarray(w)),
                ),
            ],
        )
    ],
)

# -- C: logarithm map ----------------------------------------------------------------------------


def log_cases(rng):
    visible = [
        Case((np.eye(3),), label="log(I) = 0", visible=True),
        Case((HALF_TURNS["x"],), label="π about x (diag(1, −1, −1))", visible=True, tags=("pi",)),
    ]
    cases = [Case((so3.so3_exp(rotvec(rng)),)) for _ in range(6)]
    cases += [Case((HALF_TURNS[a],), label=f"π about {a}", tags=("pi",)) for a in ("y", "z")] + [
        Case((half_turn(unit_vector(rng)),), label="π about a general axis", tags=("pi",))
    ]
    cases += [Case((so3.so3_exp((np.pi - 1e-6) * unit_vector(rng)),), label="π − 1e-6")]
    cases += [Case((so3.so3_exp(t * unit_vector(rng)),), tags=("tiny",)) for t in TINY]
    cases += [Case((so3.so3_exp(1e-6 * unit_vector(rng)),))]
    cases.append(Case((so3.so3_exp(rotvec(rng, 2, 3)),)))
    cases.append(float32_variant(Case((so3.so3_exp(1e-4 * unit_vector(rng)),), tags=("tiny",))))
    cases.append(float32_variant(Case((so3.so3_exp(rotvec(rng)),))))
    return visible + cases


def _log_textbook(R):
    R = np.asarray(R, dtype=np.float64)
    theta = np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1))
    s = np.sin(theta)
    with np.errstate(all="ignore"):
        f = np.where(theta < 1e-12, 0.5, theta / (2 * np.where(s == 0, 1, s)))
    return f[..., None] * (2 * so3.vee(R))


PART_C = Part(
    "test_so3_log",
    "Part C — the logarithm map",
    [
        FunctionCheck(
            "so3_log",
            log_cases,
            reference64(so3.so3_log),
            vectors_close(either_sign_at_pi=True),
            weight=1.0,
            mistakes=[
                Mistake(
                    "log map wrong at π",
                    "Your log fails for half turns (θ = π, R symmetric): (R − Rᵀ)/(2 sin θ) is 0/0 "
                    "there. Read the axis from the symmetric part (R + Rᵀ)/2 − cos θ I = "
                    "(1 − cos θ) n nᵀ when θ > π/2.",
                    so3.so3_log,
                    compare=lost_where("pi", vectors_close(1e-6, 1e-12)),
                ),
                Mistake(
                    "acos of the trace losing precision",
                    "Your log returns 0 (or NaN) for tiny rotations: arccos((tr R − 1)/2) is exactly "
                    "0 below θ ≈ 1e-8 (3e-4 in float32). Take θ = atan2(|vee(R)|, (tr R − 1)/2).",
                    so3.so3_log,
                    compare=lost_where("tiny", vectors_close(1e-6, 1e-12)),
                ),
                Mistake(
                    "transposed matrix (passive rotation)",
                    "Your log is −w (the log of Rᵀ): vee(R) = sin θ n with vee reading (2, 1) − (1, 2).",
                    lambda R: -so3.so3_log(R),
                    compare=vectors_close(1e-6, 1e-12, either_sign_at_pi=True),
                ),
            ],
        )
    ],
)

# -- D: angular distance -------------------------------------------------------------------------


def angle_cases(rng):
    visible = [
        Case((so3.so3_exp([0.0, 0.0, 0.7]),), label="0.7 rad about z", visible=True),
        Case((HALF_TURNS["z"],), label="a half turn", visible=True),
    ]
    cases = [Case((so3.so3_exp(rotvec(rng)),)) for _ in range(6)]
    cases += [Case((half_turn(unit_vector(rng)),), label="a half turn")]
    cases += [Case((so3.so3_exp(t * unit_vector(rng)),), tags=("tiny",)) for t in TINY[:2]]
    cases.append(Case((so3.so3_exp(rotvec(rng, 4)),)))
    tiny32 = so3.so3_exp(1e-4 * np.stack([unit_vector(rng), unit_vector(rng)]))
    cases.append(float32_variant(Case((tiny32,), tags=("tiny",))))
    return visible + cases


def pair_at(rng, angle, shape=()):
    R1 = rotation(rng, *shape)
    n = rng.normal(size=shape + (3,))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return R1, R1 @ so3.so3_exp(np.asarray(angle)[..., None] * n)


def distance_cases(rng):
    visible = [
        Case(
            (so3.so3_exp([0.0, 0.0, 0.2]), so3.so3_exp([0.0, 0.0, 1.5])),
            label="0.2 and 1.5 rad about z",
            visible=True,
        )
    ]
    cases = [Case(pair_at(rng, rng.uniform(0.05, np.pi))) for _ in range(6)]
    cases += [Case((rotation(rng), rotation(rng))) for _ in range(2)]
    cases += [Case(pair_at(rng, np.pi), label="half turn apart")]
    cases += [Case(pair_at(rng, t), tags=("tiny",)) for t in TINY]
    cases.append(Case(pair_at(rng, rng.uniform(0.05, np.pi, size=(2, 3)), (2, 3))))
    cases.append(Case((rotation(rng, 5), rotation(rng))))  # broadcasting (5, 3, 3) with (3, 3)
    R1, R2 = pair_at(rng, np.full(2, 1e-4), (2,))
    cases.append(float32_variant(Case((R1, R2), tags=("tiny",))))
    return visible + cases


def _acos_angle(R):
    R = np.asarray(R)
    return np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1))


def _acos_distance(R1, R2):
    return _acos_angle(np.swapaxes(np.asarray(R1), -1, -2) @ np.asarray(R2))


ACOS_MESSAGE = (
    "Your angle is arccos((tr R − 1)/2), which is exactly 0 for angles below about 1e-8 rad "
    "(3e-4 rad in float32) and loses half its digits near π: use "
    "atan2(|vee(R)|, (tr R − 1)/2) instead."
)

PART_D = Part(
    "test_geodesic",
    "Part D — the angular distance",
    [
        FunctionCheck(
            "rotation_angle",
            angle_cases,
            reference64(so3.rotation_angle),
            close(Elementwise(1e-7, 1e-14), F32),
            mistakes=[
                Mistake(
                    "acos of the trace losing precision",
                    ACOS_MESSAGE,
                    _acos_angle,
                    compare=ACOS_LIKE,
                ),
                Mistake(
                    "degrees for radians",
                    "Your angle is in degrees; all angles in this course are radians.",
                    lambda R: np.rad2deg(so3.rotation_angle(R)),
                    compare=allclose(1e-5, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "geodesic_distance",
            distance_cases,
            reference64(so3.geodesic_distance),
            close(Elementwise(1e-7, 1e-14), F32),
            weight=1.5,
            mistakes=[
                Mistake(
                    "acos of the trace losing precision",
                    ACOS_MESSAGE,
                    _acos_distance,
                    compare=ACOS_LIKE,
                ),
                Mistake(
                    "degrees for radians",
                    "Your distance is in degrees; all angles in this course are radians.",
                    lambda R1, R2: np.rad2deg(so3.geodesic_distance(R1, R2)),
                    compare=allclose(1e-5, 1e-9),
                ),
                Mistake(
                    "R1 R2 instead of R1ᵀ R2",
                    "Your distance is the angle of R1 R2; the rotation taking R1 to R2 is R1ᵀ R2.",
                    lambda R1, R2: so3.rotation_angle(np.asarray(R1) @ np.asarray(R2)),
                    compare=allclose(1e-6, 1e-9),
                ),
            ],
        ),
    ],
)

# -- E: chordal and quaternion distances ---------------------------------------------------------


def chordal_cases(rng):
    visible = [
        Case((np.eye(3), HALF_TURNS["z"]), label="I and a half turn: √8", visible=True),
    ]
    cases = [Case(pair_at(rng, rng.uniform(0.05, np.pi))) for _ in range(6)]
    cases.append(Case((rotation(rng, 2, 3), rotation(rng, 2, 3))))
    R1, R2 = pair_at(rng, rng.uniform(0.05, np.pi, size=2), (2,))
    cases.append(float32_variant(Case((R1, R2))))
    return visible + cases


def quat_pair(rng, angle, shape=(), flip=None):
    """Unit quaternions of two rotations ``angle`` apart; ``flip`` negates the second."""
    q1 = Q.random_quat(shape if shape else None, rng)
    n = rng.normal(size=shape + (3,))
    q2 = Q.quat_multiply(q1, Q.axis_angle_to_quat(n, np.broadcast_to(angle, shape)))
    sign = np.where(rng.random(size=shape + (1,)) < 0.5, -1.0, 1.0)
    q1, q2 = sign * q1, sign * q2
    if flip is None:
        flip = rng.random(size=shape + (1,)) < 0.5
    return q1, np.where(flip, -q2, q2)


def quat_cases(rng):
    q_z = lambda a: np.array([np.cos(a / 2), 0.0, 0.0, np.sin(a / 2)])  # noqa: E731
    visible = [
        Case((q_z(0.4), -q_z(0.4)), label="q and −q", visible=True),
        Case((q_z(0.0), q_z(np.pi)), label="a half turn apart", visible=True),
    ]
    cases = [Case(quat_pair(rng, rng.uniform(0.05, np.pi))) for _ in range(6)]
    cases += [Case(quat_pair(rng, t, flip=True), label="nearly antipodal") for t in (1e-3, 0.2)]
    cases += [Case(quat_pair(rng, t, flip=True), tags=("tiny",)) for t in TINY[:2]]
    cases.append(Case(quat_pair(rng, rng.uniform(0.05, np.pi, size=(2, 3)), (2, 3))))
    q1, q2 = quat_pair(rng, rng.uniform(0.05, np.pi, size=2), (2,))
    cases.append(float32_variant(Case((q1, q2))))
    q1, q2 = quat_pair(rng, np.full(2, 1e-4), (2,), flip=True)
    cases.append(float32_variant(Case((q1, q2), tags=("tiny",))))
    return visible + cases


def _no_min(q1, q2):
    return np.linalg.norm(np.asarray(q1) - np.asarray(q2), axis=-1)


def _quat_angle_acos(q1, q2):
    dot = np.abs(np.sum(np.asarray(q1) * np.asarray(q2), axis=-1))
    return 2 * np.arccos(np.clip(dot, -1, 1))


def _quat_angle_unaligned(q1, q2):
    a, b = np.asarray(q1, dtype=np.float64), np.asarray(q2, dtype=np.float64)
    return 4 * np.arctan2(np.linalg.norm(a - b, axis=-1), np.linalg.norm(a + b, axis=-1))


PART_E = Part(
    "test_chordal_quat",
    "Part E — chordal and quaternion distances",
    [
        FunctionCheck(
            "chordal_distance",
            chordal_cases,
            reference64(so3.chordal_distance),
            close(Elementwise(1e-7, 1e-13), F32),
            mistakes=[
                Mistake(
                    "squared distance",
                    "Your chordal distance is squared: d_chord = ‖R1 − R2‖_F, the square root of "
                    "the sum of the squared entries.",
                    lambda R1, R2: so3.chordal_distance(R1, R2) ** 2,
                    compare=allclose(1e-6, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "quaternion_distance",
            quat_cases,
            reference64(so3.quaternion_distance),
            close(Elementwise(1e-7, 1e-13), F32),
            mistakes=[
                Mistake(
                    "d_quat without the min over ±",
                    "Your d_quat is ‖q1 − q2‖ alone: q and −q are the same rotation, so d_quat = "
                    "min(‖q1 − q2‖, ‖q1 + q2‖) — without the minimum two equal rotations can be 2 "
                    "apart.",
                    reference64(_no_min),
                    compare=allclose(1e-6, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "quat_geodesic_distance",
            quat_cases,
            reference64(so3.quat_geodesic_distance),
            close(Elementwise(1e-7, 1e-14), F32),
            weight=1.5,
            mistakes=[
                Mistake(
                    "no sign alignment (angle above π)",
                    "Your angle exceeds π when q1·q2 < 0: q and −q are the same rotation, so align "
                    "the signs first (use the smaller of ‖q1 ∓ q2‖ in the numerator).",
                    _quat_angle_unaligned,
                    compare=ACOS_LIKE,
                ),
                Mistake(
                    "acos of the dot product losing precision",
                    "Your angle is 2·arccos|q1·q2|, which is exactly 0 below about 1e-8 rad "
                    "(1e-4 in float32): use 4·atan2(‖q1 − q2‖, ‖q1 + q2‖) for sign-aligned q1, q2.",
                    reference64(_quat_angle_acos),
                    compare=ACOS_LIKE,
                ),
            ],
        ),
    ],
)

# -- F: Table 2 ----------------------------------------------------------------------------------


def table2_cases(rng):
    visible = [
        Case((np.pi, np.sqrt(8), np.sqrt(2)), label="θ = π, √8, √2: consistent", visible=True)
    ]
    t = rng.uniform(0, np.pi)
    consistent = [Case((t, 2 * np.sqrt(2) * np.sin(t / 2), 2 * np.sin(t / 4)), label="consistent")]
    arbitrary = [
        Case((rng.uniform(0, np.pi), rng.uniform(0, np.sqrt(8)), rng.uniform(0, np.sqrt(2))))
        for _ in range(6)
    ]
    batch = [
        Case(
            (
                rng.uniform(0, np.pi, size=(2, 5)),
                rng.uniform(0, np.sqrt(8), size=(2, 5)),
                rng.uniform(0, np.sqrt(2), size=(5,)),
            )
        )
    ]
    return visible + consistent + arbitrary + batch


def table2(d_angle, d_chord, d_quat, quat_angle=4.0, chord_factor=SQRT8):
    d_angle, d_chord, d_quat = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (d_angle, d_chord, d_quat))
    )
    return np.stack(
        [
            d_chord - chord_factor * np.sin(d_angle / 2),
            d_quat - 2 * np.sin(d_angle / quat_angle),
            d_chord - d_quat * np.sqrt(8 - 2 * d_quat**2),
        ],
        axis=-1,
    )


PART_F = Part(
    "test_table2",
    "Part F — Table 2 (question 3)",
    [
        FunctionCheck(
            "table2_residuals",
            table2_cases,
            table2,
            close(Elementwise(1e-9, 1e-12), F32),
            weight=2.0,
            mistakes=[
                Mistake(
                    "d_quat with the full rotation angle",
                    "Your second relation uses 2 sin(θ/2): the quaternion sphere sees half the "
                    "rotation angle, so d_quat = 2 sin(θ/4).",
                    lambda a, c, q: table2(a, c, q, quat_angle=2.0),
                ),
                Mistake(
                    "chordal distance without √2",
                    "Your first relation uses 2 sin(θ/2): ‖R1 − R2‖²_F = 8 sin²(θ/2), because each "
                    "axis eₖ moves by the chord 2 sin(θ/2) sin γₖ (γₖ its angle to the rotation "
                    "axis) and Σ sin² γₖ = 2.",
                    lambda a, c, q: table2(a, c, q, chord_factor=2.0),
                ),
            ],
        ),
        ValueCheck("D_CHORD_MAX", 2 * np.sqrt(2), number_close(), weight=0.5),
        ValueCheck(
            "D_QUAT_MAX",
            np.sqrt(2),
            number_close(),
            weight=0.5,
            mistakes=[
                Mistake(
                    "d_quat without the min over ±",
                    "The largest quaternion distance is √2, not 2: with the minimum over ±q, "
                    "‖q1 ∓ q2‖ cannot both exceed √2.",
                    lambda: 2.0,
                ),
            ],
        ),
    ],
)

# -- G: a ball in SO(3) --------------------------------------------------------------------------


def same_axis_cases(rng):
    visible = [
        Case((0.3,), label="θ = 0.3", visible=True),
        Case((2 * np.pi - 0.3,), label="θ = 2π − 0.3", visible=True),
    ]
    cases = [Case((float(t),)) for t in rng.uniform(-4 * np.pi, 4 * np.pi, size=8)]
    cases += [Case((np.pi,)), Case((-2 * np.pi,))]
    cases.append(Case((rng.uniform(-10, 10, size=(3, 4)),)))
    cases.append(float32_variant(Case((rng.uniform(-10, 10, size=5),))))
    return visible + cases


def _same_axis_numeric(theta):
    theta = np.asarray(theta, dtype=np.float64)
    n = np.array([0.36, 0.48, 0.8])
    return so3.geodesic_distance(so3.so3_exp(0.7 * n), so3.so3_exp((0.7 + theta)[..., None] * n))


def sweep_cases(rng):
    a5 = np.deg2rad(5.0)
    visible = [
        Case((a5, 0.0), label="α = 5°, φ = 0", visible=True),
        Case((a5, np.pi / 2), label="α = 5°, φ = π/2 (the x axis)", visible=True),
    ]
    cases = [Case((rng.uniform(0.05, np.pi), rng.uniform(0, np.pi))) for _ in range(8)]
    cases += [Case((2.5, 2.8), label="large angles, past π apart")]
    cases.append(Case((a5, np.linspace(0, np.pi / 2, 10)), label="the meeting's sweep"))
    cases.append(Case((rng.uniform(0.05, np.pi, size=(3, 1)), rng.uniform(0, np.pi, size=4))))
    cases.append(
        float32_variant(Case((np.array(rng.uniform(0.05, np.pi)), rng.uniform(0, np.pi, size=3))))
    )
    return visible + cases


def _sweep_numeric(alpha, phi):
    alpha, phi = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(phi, np.float64))
    n = np.stack([np.sin(phi), np.zeros_like(phi), np.cos(phi)], axis=-1)
    z = np.stack([np.zeros_like(phi), np.zeros_like(phi), np.ones_like(phi)], axis=-1)
    return so3.geodesic_distance(
        so3.so3_exp(alpha[..., None] * z), so3.so3_exp(alpha[..., None] * n)
    )


def _sweep_no_wrap(alpha, phi):
    s = np.clip(np.sin(np.asarray(alpha) / 2) * np.sin(np.asarray(phi) / 2), 0, 1)
    return 4 * np.arcsin(s)


PART_G = Part(
    "test_ball",
    "Part G — a ball in SO(3) (question 4)",
    [
        FunctionCheck(
            "same_axis_distance",
            same_axis_cases,
            _same_axis_numeric,
            close(Elementwise(1e-7, 1e-12), Elementwise(1e-4, 1e-5)),
            mistakes=[
                Mistake(
                    "distance above π",
                    "Your distance exceeds π: turning by θ and by θ − 2π is the same rotation, "
                    "so d∠ is |θ| wrapped into [0, π].",
                    lambda t: np.abs(np.asarray(t, dtype=np.float64)),
                    compare=allclose(1e-6, 1e-9),
                ),
                Mistake(
                    "degrees for radians",
                    "Your distance is in degrees; all angles in this course are radians.",
                    lambda t: np.rad2deg(_same_axis_numeric(t)),
                    compare=allclose(1e-5, 1e-9),
                ),
            ],
        ),
        FunctionCheck(
            "sweep_distance",
            sweep_cases,
            _sweep_numeric,
            close(Elementwise(1e-7, 1e-12), Elementwise(1e-4, 1e-5)),
            weight=1.5,
            mistakes=[
                Mistake(
                    "rotation-vector (Euclidean) distance",
                    "Your distance is 2α sin(φ/2), the distance between the rotation vectors αẑ "
                    "and αn: that is only the small-angle limit — SO(3) is curved.",
                    lambda a, p: 2 * np.asarray(a) * np.sin(np.asarray(p) / 2),
                    compare=allclose(1e-6, 1e-9),
                ),
                Mistake(
                    "distance above π",
                    "Your distance exceeds π for large α and φ: past a half turn, −q₂ is the "
                    "closer quaternion, so θ = min(4 asin s, 2π − 4 asin s).",
                    _sweep_no_wrap,
                    compare=allclose(1e-6, 1e-9),
                ),
            ],
        ),
        ValueCheck(
            "Q4_SWEEP_VS_EUCLIDEAN",
            "smaller",
            choice(),
            weight=0.75,
            mistakes=[
                Mistake(
                    "flat picture of the ball",
                    "The rotation-vector picture is exact only along lines through the centre "
                    "(experiment 1); across axes the geodesic distance 4 asin(sin(α/2) sin(φ/2)) is "
                    "smaller than 2α sin(φ/2) — SO(3) is positively curved.",
                    lambda: "equal",
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G]
