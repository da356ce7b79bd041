"""Hidden checks of problem set 3 (rotation averaging). Grader-side only: never released, never in
the learner's sandbox (``CourseDirectory.ignore`` lists this file). See ``autograder.checks.function``.

Rotations are compared by the angle between them (``rotation_close``), never entry by entry, and
every average is first checked to be a rotation. The properties that define each average are
checked here, on the learner's answer, outside the kernel:

* geodesic mean: first-order optimality, Σ wᵢ log(R̄ᵀ Rᵢ) = 0; the two-point midpoint (slerp);
* geodesic median: robustness — with 7 inliers and 3 far outliers it stays near the inliers;
* every average: equivariance, ``f(G Rᵢ H) = G f(Rᵢ) H`` (a ``ProbeCheck``: two calls, compared
  with each other), weights (zeros included), batches and float32.

Inputs are chosen so that each known mistake shows: data spread widely enough that
``det(U Vᵀ) = −1`` or that sign alignment and the eigenvector answer differ; means far from the
identity (an update multiplied on the wrong side diverges there, and only there); sets whose
median, and starting point, is exactly a data point (Weiszfeld's division by zero).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks import (
    FLOAT32,
    Call,
    Case,
    Elementwise,
    FunctionCheck,
    Mistake,
    Part,
    Probe,
    ProbeCheck,
    ValueCheck,
    allclose,
    answer_array,
    any_of,
    as_array,
    choice,
    close,
    float32_variant,
    reference64,
)
from reference_impl import averaging as A
from reference_impl import quaternion as Q
from reference_impl import so3

# -- inputs --------------------------------------------------------------------------------------


def rotation(rng, *shape):
    return Q.quat_to_matrix(Q.random_quat(shape if shape else None, rng))


def near_identity(rng, angle=0.35):
    v = rng.normal(size=3)
    return so3.so3_exp(v / np.linalg.norm(v) * rng.uniform(0.05, angle))


def far_rotation(rng, low=1.6):
    v = rng.normal(size=3)
    return so3.so3_exp(v / np.linalg.norm(v) * rng.uniform(low, 2.9))


def cloud(rng, centre, n, sigma, shape=()):
    """n rotations centre · exp(ω), ω ~ N(0, σ²I): shape (*shape, n, 3, 3)."""
    return np.asarray(centre)[..., None, :, :] @ so3.so3_exp(
        sigma * rng.normal(size=shape + (n, 3))
    )


def some_weights(rng, n, zeros=0, shape=()):
    """Weights in [0.2, 2]; ``zeros`` of them (never the first) set to 0."""
    w = rng.uniform(0.2, 2.0, size=shape + (n,))
    if zeros:
        w[..., n - zeros :] = 0.0
    return w


def call(Rs, weights=None, key=None, label="", visible=False, tags=()):
    kwargs = {} if weights is None else {"weights": weights}
    return Case((Rs,), kwargs, label=label, visible=visible, key=key, tags=tags)


def Rz(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def Rx(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def Ry(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def transformed_probes(
    function: str, kind: str, make: Callable[[np.random.Generator], Case], n: int = 3
) -> Callable[[np.random.Generator], list[Probe]]:
    """Probes of equivariance: ``function`` called on a case's data and on the same data as
    G·Rᵢ·H (``kind`` "matrix" or "quat"); the probe's case is the moved one, G and H its key."""

    def probes(rng):
        out = []
        for _ in range(n):
            case = make(rng)
            G, H = rotation(rng), rotation(rng)
            (data,) = case.args
            if kind == "quat":
                moved = Q.quat_multiply(
                    Q.quat_multiply(Q.matrix_to_quat(G), data), Q.matrix_to_quat(H)
                )
            else:
                moved = G @ data @ H
            moved_case = Case((moved,), case.kwargs, key=(G, H))
            requests = [Call(function, c.args, c.kwargs) for c in (case, moved_case)]
            out.append(Probe(moved_case, requests))
        return out

    return probes


# -- comparisons ---------------------------------------------------------------------------------


def _rotation_problem(a: np.ndarray, case: Case) -> str | None:
    """Why ``a`` (float64, finite) is not an array of rotation matrices, or None."""
    ortho = np.abs(a @ np.swapaxes(a, -1, -2) - np.eye(3)).max(initial=0.0)
    if ortho > (1e-4 if FLOAT32 in case.tags else 1e-7):
        return f"returned a matrix that is not a rotation (|R Rᵀ − I| up to {ortho:.2g})"
    if np.any(np.linalg.det(a) < 0):
        return "returned a reflection (det R = −1), not a rotation"
    return None


def rotation_close(atol=1e-7, atol32=1e-3, prop=None, also=None):
    """Rotation matrices (..., 3, 3) within ``atol`` rad (geodesic distance) of the expected ones,
    after checking that they are rotations and, with ``prop(R, case)``, a defining property.
    ``also(R, expected, case)`` may accept an answer farther away (e.g. one as good by cost)."""

    def compare(value, expected, case):
        arrays = answer_array(value, expected, case, kinds="fi")
        if isinstance(arrays, str):
            return arrays
        a, exp = (x.astype(np.float64) for x in arrays)
        problem = _rotation_problem(a, case)
        if problem:
            return problem
        if prop is not None:
            problem = prop(a, case)
            if problem:
                return problem
        off = float(np.max(so3.geodesic_distance(a, exp), initial=0.0))
        tol = atol32 if FLOAT32 in case.tags else atol
        if off <= tol or (also is not None and also(a, exp, case)):
            return None
        return f"returned the wrong rotation (off by {off:.2g} rad)"

    return compare


def quat_rotation_close(atol=1e-7, atol32=1e-3):
    """Unit quaternions (..., 4) of the expected rotations (either sign), within ``atol`` rad."""

    def compare(value, expected, case):
        arrays = answer_array(value, expected, case, kinds="fi")
        if isinstance(arrays, str):
            return arrays
        a, exp = (x.astype(np.float64) for x in arrays)
        f32_case = FLOAT32 in case.tags
        norm = np.linalg.norm(a, axis=-1)
        if np.any(np.abs(norm - 1) > (1e-4 if f32_case else 1e-9)):
            return "returned a quaternion that is not a unit quaternion"
        off = float(np.max(so3.quat_geodesic_distance(a, exp), initial=0.0))
        tol = atol32 if f32_case else atol
        return None if off <= tol else f"returned the wrong rotation (off by {off:.2g} rad)"

    return compare


def equivariant(atol=1e-7, quat=False):
    """Judge of a ``transformed_probes`` probe: the answer for G·Rᵢ·H is G·(the answer for
    Rᵢ)·H."""

    def judge(values: list[Any], probe: Probe) -> str | None:
        G, H = probe.case.key
        x, problem = as_array(values[0], kinds="fi")
        y, problem2 = as_array(values[1], kinds="fi")
        if problem or problem2 or x is None or y is None:
            return problem or problem2
        if x.shape != y.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            return "returned NaN, infinity or inconsistent shapes"
        if quat:
            Rx_, Ry_ = Q.quat_to_matrix(x.astype(float)), Q.quat_to_matrix(y.astype(float))
        else:
            Rx_, Ry_ = x.astype(float), y.astype(float)
        off = float(np.max(so3.geodesic_distance(G @ Rx_ @ H, Ry_), initial=0.0))
        if off > atol:
            return (
                f"is not equivariant: the average of G·Rᵢ·H is {off:.2g} rad from G·(the average "
                "of Rᵢ)·H"
            )
        return None

    return judge


def weights_of(case: Case, n_shape: tuple[int, ...]) -> np.ndarray:
    w = case.kwargs.get("weights")
    return np.broadcast_to(np.ones(n_shape) if w is None else np.asarray(w, float), n_shape)


def tangent(R, Rs, w):
    """Σ wᵢ log(Rᵀ Rᵢ) / Σ wᵢ with the reference log (float64)."""
    v = so3.so3_log(np.swapaxes(R, -1, -2)[..., None, :, :] @ np.asarray(Rs, np.float64))
    return np.einsum("...n,...ni->...i", w, v) / np.sum(w, axis=-1)[..., None]


def stationary(a, case):
    """First-order optimality of the geodesic mean, computed here on the learner's answer."""
    Rs = np.asarray(case.args[0], dtype=np.float64)
    r = tangent(a, Rs, weights_of(case, Rs.shape[:-2]))
    size = float(np.max(np.linalg.norm(r, axis=-1), initial=0.0))
    if size > (1e-4 if FLOAT32 in case.tags else 1e-8):
        return (
            f"is not a stationary point: the weighted mean of log(R̄ᵀ Rᵢ) has length {size:.2g} "
            "rad, not 0 (did the iteration stop too early?)"
        )
    return None


def near_inliers(a, case):
    """Robustness of the median: with outliers, it stays near the inliers' centre."""
    if "outliers" not in case.tags:
        return None
    centre = case.key
    off = float(np.max(so3.geodesic_distance(a, centre), initial=0.0))
    if off > 0.15:
        return f"moved towards the outliers: it is {off:.2g} rad from the centre of the inliers"
    return None


def l1_cost(R, case):
    """Σ wᵢ d∠(R, Rᵢ): what the median minimises."""
    Rs = np.asarray(case.args[0], dtype=np.float64)
    w = weights_of(case, Rs.shape[:-2])
    return np.sum(w * so3.geodesic_distance(R[..., None, :, :], Rs), axis=-1), np.sum(w, axis=-1)


def as_good_a_median(rel=1e-6):
    """Weiszfeld converges slowly when the median is near a data point, where the cost is flat
    (and kinked): an answer whose cost Σ wᵢ d∠(R, Rᵢ) is within ``rel`` rad per unit weight of
    the reference's is as good a median, even if it stopped farther from the reference's."""

    def also(a, exp, case):
        mine, total = l1_cost(a, case)
        ref, _ = l1_cost(exp, case)
        return bool(np.all(mine <= ref + rel * total))

    return also


# -- A: chordal mean -----------------------------------------------------------------------------


def half_turns_case(rng):
    """Half turns about x, y, z weighted 2 : 1.5 : 3 (moved by random G, H): Σ wᵢRᵢ has
    det < 0, so U Vᵀ is a reflection; the chordal mean is G·Rz(π)·H."""
    G, H = rotation(rng), rotation(rng)
    data = G @ np.stack([Rx(np.pi), Ry(np.pi), Rz(np.pi)]) @ H
    return call(data, np.array([2.0, 1.5, 3.0]), label="half turns: det(U Vᵀ) = −1")


def chordal_cases(rng):
    visible = [call(np.stack([Rz(0.2), Rz(1.0)]), label="two rotations about z", visible=True)]
    cases = [
        call(cloud(rng, rotation(rng), 7, 0.3)),
        call(cloud(rng, rotation(rng), 6, 0.5), some_weights(rng, 6)),
        call(cloud(rng, rotation(rng), 8, 0.8)),
        call(cloud(rng, rotation(rng), 5, 1.0), some_weights(rng, 5)),
    ]
    cases.append(call(rotation(rng, 5), label="five random rotations"))
    cases.append(half_turns_case(rng))
    data = np.concatenate([cloud(rng, rotation(rng), 5, 0.3), rotation(rng, 2)])
    cases.append(call(data, some_weights(rng, 7, zeros=2), label="zero weights"))
    cases.append(call(rotation(rng, 2), some_weights(rng, 2), label="two rotations"))
    cases.append(call(cloud(rng, rotation(rng, 2), 6, 0.5, (2,)), some_weights(rng, 6, shape=(2,))))
    cases.append(float32_variant(call(cloud(rng, rotation(rng, 2), 5, 0.4, (2,)))))
    return visible + cases


def _chordal_no_det(Rs, weights=None):
    Rs = np.asarray(Rs, np.float64)
    w = np.broadcast_to(np.ones(Rs.shape[:-2]) if weights is None else weights, Rs.shape[:-2])
    U, _, Vt = np.linalg.svd(np.einsum("...n,...nij->...ij", w, Rs))
    return U @ Vt


def _chordal_unprojected(Rs, weights=None):
    Rs = np.asarray(Rs, np.float64)
    w = np.broadcast_to(np.ones(Rs.shape[:-2]) if weights is None else weights, Rs.shape[:-2])
    return np.einsum("...n,...nij->...ij", w, Rs) / np.sum(w, axis=-1)[..., None, None]


def _unweighted(fn):
    return lambda data, weights=None: fn(np.asarray(data, np.float64))


PART_A = Part(
    "test_chordal_mean",
    "Part A — the chordal mean",
    [
        FunctionCheck(
            "chordal_mean",
            chordal_cases,
            reference64(A.chordal_mean),
            rotation_close(1e-8),
            diagnose=allclose(1e-6, 1e-8),
            weight=3.0,
            mistakes=[
                Mistake(
                    "reflection (no det correction)",
                    "Your answer is U Vᵀ, which is a reflection (det = −1) when the data are spread "
                    "widely: the closest rotation is U diag(1, 1, det(U Vᵀ)) Vᵀ.",
                    _chordal_no_det,
                ),
                Mistake(
                    "not projected onto SO(3)",
                    "Your answer is the weighted average of the matrices, which is not a rotation: "
                    "project it onto SO(3) with the SVD (U diag(1, 1, det(U Vᵀ)) Vᵀ).",
                    _chordal_unprojected,
                ),
                Mistake(
                    "weights ignored",
                    "Your mean ignores the weights: use M = Σ wᵢ Rᵢ (a zero weight leaves its "
                    "rotation out).",
                    _unweighted(A.chordal_mean),
                ),
            ],
        ),
        ProbeCheck(
            "`chordal_mean` is equivariant",
            transformed_probes(
                "chordal_mean",
                "matrix",
                lambda rng: call(cloud(rng, rotation(rng), 6, 0.6), some_weights(rng, 6)),
            ),
            equivariant(1e-8),
        ),
    ],
)

# -- B: quaternion mean --------------------------------------------------------------------------


def random_signs(rng, qs):
    return qs * np.where(rng.random(size=qs.shape[:-1] + (1,)) < 0.5, -1.0, 1.0)


def quat_cloud(rng, n, spread, shape=()):
    """Quaternions of rotations within ``spread`` rad of a random centre (uniform angles, random
    axes), each with a random sign. With ``spread`` ≤ 1.2 every pair is less than 2.4 rad apart,
    so aligning the signs with any one of them aligns them all: every start of Part B's
    iteration ends at the same answer, which the eigenvector misses by 1e-4 rad or more."""
    centre = Q.random_quat(shape if shape else None, rng)
    axes = rng.normal(size=shape + (n, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    angles = rng.uniform(0.0, spread, size=shape + (n, 1))
    qs = Q.quat_multiply(centre[..., None, :], Q.rotvec_to_quat(angles * axes))
    return random_signs(rng, qs)


def qcall(qs, weights=None, label="", visible=False):
    kwargs = {} if weights is None else {"weights": weights}
    return Case((qs,), kwargs, label=label, visible=visible)


def quaternion_cases(rng):
    q_z = lambda a: np.array([np.cos(a / 2), 0.0, 0.0, np.sin(a / 2)])  # noqa: E731
    visible = [qcall(np.stack([q_z(0.2), -q_z(1.0)]), label="q(0.2) and −q(1.0)", visible=True)]
    cases = [
        qcall(quat_cloud(rng, 7, 1.2)),
        qcall(quat_cloud(rng, 6, 1.0), some_weights(rng, 6)),
        qcall(quat_cloud(rng, 8, 1.2)),
        qcall(quat_cloud(rng, 9, 1.1), some_weights(rng, 9)),
        qcall(quat_cloud(rng, 5, 0.8), some_weights(rng, 5)),
    ]
    qs = np.concatenate([quat_cloud(rng, 5, 1.0), random_signs(rng, Q.random_quat(2, rng))])
    cases.append(qcall(qs, some_weights(rng, 7, zeros=2), label="zero weights"))
    cases.append(qcall(quat_cloud(rng, 2, 1.2), some_weights(rng, 2), label="two rotations"))
    cases.append(qcall(quat_cloud(rng, 6, 1.0, (2,)), some_weights(rng, 6, shape=(2,))))
    cases.append(float32_variant(qcall(quat_cloud(rng, 6, 1.0, (2,)))))
    return visible + cases


def _eigenvector_mean(qs, weights=None):
    qs = np.asarray(qs, np.float64)
    w = np.broadcast_to(np.ones(qs.shape[:-1]) if weights is None else weights, qs.shape[:-1])
    return Q.matrix_to_quat(A.chordal_mean(Q.quat_to_matrix(qs), w))


def _plain_sum(qs, weights=None):
    qs = np.asarray(qs, np.float64)
    w = np.broadcast_to(np.ones(qs.shape[:-1]) if weights is None else weights, qs.shape[:-1])
    s = np.einsum("...n,...ni->...i", w, qs)
    return s / np.linalg.norm(s, axis=-1, keepdims=True)


PART_B = Part(
    "test_quaternion_mean",
    "Part B — the quaternion mean",
    [
        FunctionCheck(
            "quaternion_mean",
            quaternion_cases,
            reference64(A.quaternion_mean),
            quat_rotation_close(1e-8),
            diagnose=quat_rotation_close(1e-6, 1e-3),
            weight=3.0,
            mistakes=[
                Mistake(
                    "eigenvector answer for the d_quat mean",
                    "Your answer is the top eigenvector of Σ wᵢ qᵢ qᵢᵀ: that is the chordal mean "
                    "(question 7). The quaternion-distance mean is the normalised sum of the "
                    "sign-aligned quaternions, re-aligned until the signs stop changing.",
                    _eigenvector_mean,
                ),
                Mistake(
                    "no sign alignment",
                    "You summed the quaternions as given: q and −q are the same rotation but cancel "
                    "in a sum. Flip each qᵢ to the hemisphere of the current mean (q̄·qᵢ ≥ 0) first.",
                    _plain_sum,
                ),
                Mistake(
                    "weights ignored",
                    "Your mean ignores the weights: sum wᵢ sᵢ qᵢ.",
                    _unweighted(A.quaternion_mean),
                ),
            ],
        ),
        ProbeCheck(
            "`quaternion_mean` is equivariant",
            transformed_probes(
                "quaternion_mean",
                "quat",
                lambda rng: qcall(quat_cloud(rng, 7, 1.0), some_weights(rng, 7)),
            ),
            equivariant(1e-8, quat=True),
        ),
    ],
)

# -- C: geodesic mean ----------------------------------------------------------------------------


def geodesic_cases(rng):
    """Means near the identity (tagged "near") and far from it ("far": fewer than half)."""
    visible = [
        call(
            np.stack([Rz(0.2), Rz(1.0)]),
            label="two rotations about z",
            visible=True,
            tags=("near",),
        )
    ]
    near = [
        call(cloud(rng, near_identity(rng), 7, 0.3), tags=("near",)),
        call(cloud(rng, near_identity(rng), 6, 0.4), some_weights(rng, 6), tags=("near",)),
        call(cloud(rng, near_identity(rng), 9, 0.35), some_weights(rng, 9), tags=("near",)),
        call(cloud(rng, near_identity(rng), 5, 0.25), tags=("near",)),
    ]
    far = [
        call(cloud(rng, far_rotation(rng), 7, 0.3), tags=("far",)),
        call(cloud(rng, far_rotation(rng), 6, 0.4), some_weights(rng, 6), tags=("far",)),
        call(cloud(rng, far_rotation(rng), 8, 0.35), some_weights(rng, 8), tags=("far",)),
    ]
    data = np.concatenate([cloud(rng, near_identity(rng), 6, 0.3), rotation(rng, 2)])
    special = [
        call(data, some_weights(rng, 8, zeros=2), label="zero weights", tags=("near",)),
        call(cloud(rng, near_identity(rng, 0.2)[None], 5, 0.3, (2,)), tags=("near",)),
        float32_variant(call(cloud(rng, near_identity(rng), 6, 0.3), tags=("near",))),
    ]
    return visible + near + far + special


def midpoint_cases(rng):
    out = []
    for w in (None, None, np.array([1.0, 3.0]), np.array([2.5, 0.5])):
        R1 = rotation(rng)
        R2 = R1 @ so3.so3_exp(rng.normal(size=3) * 0.6)
        out.append(call(np.stack([R1, R2]), w, label="two rotations"))
    return out


def slerp_midpoint(Rs, weights=None):
    Rs = np.asarray(Rs, np.float64)
    w = np.ones(2) if weights is None else np.asarray(weights, np.float64)
    q = Q.matrix_to_quat(Rs)
    return Q.quat_to_matrix(Q.quat_slerp(q[0], q[1], w[1] / (w[0] + w[1])))


def _one_step(Rs, weights, start):
    Rs = np.asarray(Rs, np.float64)
    w = weights_of(Case((), {} if weights is None else {"weights": weights}), Rs.shape[:-2])
    return start @ so3.so3_exp(tangent(start, Rs, w))


def _one_iteration(Rs, weights=None):
    """What one step of Algorithm 1 gives, from R₁ or from the chordal mean."""
    Rs = np.asarray(Rs, np.float64)
    return [
        _one_step(Rs, weights, Rs[..., 0, :, :]),
        _one_step(Rs, weights, A.chordal_mean(Rs, weights)),
    ]


def within_angle(tol=1e-6):
    """For matching a mistake: rotations of the expected shape, within ``tol`` rad."""

    def compare(value, expected, case):
        arr, problem = as_array(value, kinds="fi")
        if problem or arr is None or not np.all(np.isfinite(arr)):
            return "no"
        if (
            arr.shape == expected.shape
            and np.max(so3.geodesic_distance(arr, expected), initial=0) < tol
        ):
            return None
        return "no"

    return compare


def wrong_side(value, expected, case):
    """An update multiplied on the wrong side converges near the identity and not far from it:
    a learner's wrong answer on a "far" case (and only those) matches."""
    if "far" not in case.tags:
        return "near"
    arr, problem = as_array(value, kinds="fi")
    if problem or arr is None or not np.all(np.isfinite(arr)):
        return "no"
    return None if np.max(so3.geodesic_distance(arr, expected), initial=0) > 1e-6 else "right"


PART_C = Part(
    "test_geodesic_mean",
    "Part C — the geodesic mean (Algorithm 1)",
    [
        FunctionCheck(
            "geodesic_mean",
            geodesic_cases,
            reference64(A.geodesic_mean),
            rotation_close(1e-7, 1e-3, prop=stationary),
            weight=3.0,
            mistakes=[
                Mistake(
                    "stopping after one iteration",
                    "Your mean is one step of Algorithm 1: iterate R ← R exp(r) until |r| < tol — "
                    "one step from R₁ only gives a better guess.",
                    _one_iteration,
                    compare=any_of(within_angle(1e-6)),
                ),
                Mistake(
                    "weights ignored",
                    "Your mean ignores the weights: r = Σ wᵢ log(Rᵀ Rᵢ) / Σ wᵢ.",
                    _unweighted(A.geodesic_mean),
                    compare=rotation_close(1e-6, 1e-3),
                ),
                Mistake(
                    "update multiplied on the wrong side",
                    "Your iteration converges only for data near the identity: log(Rᵀ Rᵢ) lives in "
                    "R's own frame, so the update is R ← R exp(r), not exp(r) R.",
                    reference64(A.geodesic_mean),
                    compare=wrong_side,
                ),
            ],
        ),
        FunctionCheck(
            "geodesic_mean",
            midpoint_cases,
            slerp_midpoint,
            rotation_close(1e-7),
            title="two rotations: the midpoint (slerp at w₂/(w₁ + w₂))",
        ),
        ProbeCheck(
            "`geodesic_mean` is equivariant",
            transformed_probes(
                "geodesic_mean",
                "matrix",
                lambda rng: call(cloud(rng, near_identity(rng), 6, 0.4), some_weights(rng, 6)),
            ),
            equivariant(1e-7),
        ),
    ],
)

# -- D: geodesic median --------------------------------------------------------------------------


def identity_cases():
    """Sets whose chordal mean, first element and median are all exactly the identity."""
    data = np.stack([np.eye(3)] * 3 + [Rx(0.7), Rx(-0.7), Ry(0.4), Ry(-0.4), Rz(1.1), Rz(-1.1)])
    weights = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 2.0, 2.0, 0.3, 0.3])
    return [
        call(data, label="the median is a data point", tags=("datapoint",)),
        call(data, weights, label="the median is a data point", tags=("datapoint",)),
    ]


def outlier_case(rng):
    """7 inliers (σ = 0.05) and 3 outliers 2 rad away: the median stays near the inliers."""
    centre = rotation(rng)
    inliers = cloud(rng, centre, 7, 0.05)
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    outliers = centre @ so3.so3_exp(2.0 * axis + 0.2 * rng.normal(size=(3, 3)))
    return call(np.concatenate([inliers, outliers]), key=centre, tags=("outliers",))


def median_cases(rng):
    visible = [
        call(np.stack([Rz(0.0), Rz(0.3), Rz(2.0)]), label="three rotations about z", visible=True)
    ]
    cases = [
        call(cloud(rng, rotation(rng), 7, 0.3)),
        call(cloud(rng, rotation(rng), 8, 0.4), some_weights(rng, 8)),
        call(cloud(rng, rotation(rng), 6, 0.5), some_weights(rng, 6)),
        outlier_case(rng),
        outlier_case(rng),
        *identity_cases(),
    ]
    R0 = rotation(rng)
    dominant = np.concatenate([np.stack([R0] * 5), cloud(rng, R0, 3, 0.8)])
    cases.append(call(dominant, label="five copies of one rotation", tags=("datapoint",)))
    data = np.concatenate([cloud(rng, rotation(rng), 6, 0.3), rotation(rng, 2)])
    cases.append(call(data, some_weights(rng, 8, zeros=2), label="zero weights"))
    cases.append(call(cloud(rng, rotation(rng, 2), 6, 0.4, (2,)), some_weights(rng, 6, shape=(2,))))
    cases.append(float32_variant(call(cloud(rng, rotation(rng), 6, 0.3))))
    return visible + cases


def nan_answer(value, expected, case):
    """Weiszfeld's division by zero: NaN (or infinity) in the answer."""
    arr, problem = as_array(value, kinds="fi")
    if problem or arr is None:
        return "no"
    return None if not np.all(np.isfinite(arr)) else "finite"


PART_D = Part(
    "test_geodesic_median",
    "Part D — the geodesic median (Weiszfeld)",
    [
        FunctionCheck(
            "geodesic_median",
            median_cases,
            reference64(A.geodesic_median),
            rotation_close(1e-7, 1e-3, prop=near_inliers, also=as_good_a_median()),
            weight=3.0,
            mistakes=[
                Mistake(
                    "Weiszfeld dividing by zero at a data point",
                    "Your median is NaN when the iterate sits on a data point (vᵢ = 0): leave out "
                    "those terms, and stop when ‖Σ wᵢ vᵢ/‖vᵢ‖‖ ≤ their weight — that data point is "
                    "the median.",
                    lambda Rs, weights=None: None,
                    compare=nan_answer,
                ),
                Mistake(
                    "the mean, not the median",
                    "Your answer is the geodesic L2 mean: the median weights each tangent vector by "
                    "1/‖vᵢ‖ (Weiszfeld), which is what makes it robust to outliers.",
                    reference64(A.geodesic_mean),
                    compare=rotation_close(1e-6, 1e-3),
                ),
                Mistake(
                    "weights ignored",
                    "Your median ignores the weights: δ = Σ wᵢ vᵢ/‖vᵢ‖ / Σ wᵢ/‖vᵢ‖.",
                    _unweighted(A.geodesic_median),
                    compare=rotation_close(1e-6, 1e-3),
                ),
            ],
        ),
        ProbeCheck(
            "`geodesic_median` is equivariant",
            transformed_probes(
                "geodesic_median",
                "matrix",
                lambda rng: call(cloud(rng, rotation(rng), 7, 0.4), some_weights(rng, 7)),
            ),
            equivariant(1e-6),
        ),
    ],
)

# -- E: in the middle (question 6) ---------------------------------------------------------------


def tangent_cases(rng):
    visible = [
        Case(
            (np.stack([Rz(0.2), Rz(1.0)]), Rz(0.2)),
            label="two rotations about z, seen from the first",
            visible=True,
        )
    ]
    cases = []
    for i in range(8):
        centre = rotation(rng)
        data = cloud(rng, centre, int(rng.integers(4, 9)), 0.4)
        R = centre @ so3.so3_exp(0.3 * rng.normal(size=3))
        w = some_weights(rng, data.shape[0]) if i % 2 else None
        cases.append(Case((data, R), {} if w is None else {"weights": w}))
    centres = rotation(rng, 2)
    data = cloud(rng, centres, 5, 0.4, (2,))
    cases.append(Case((data, centres), {"weights": some_weights(rng, 5, shape=(2,))}))
    centre = rotation(rng)
    case = Case((cloud(rng, centre, 6, 0.3), centre))
    cases.append(float32_variant(case))
    return visible + cases


def reference_tangent(Rs, R, weights=None):
    Rs, R = np.asarray(Rs, np.float64), np.asarray(R, np.float64)
    w = np.broadcast_to(np.ones(Rs.shape[:-2]) if weights is None else weights, Rs.shape[:-2])
    return tangent(R, Rs, w)


def _tangent_space_frame(Rs, R, weights=None):
    Rs, R = np.asarray(Rs, np.float64), np.asarray(R, np.float64)
    w = np.broadcast_to(np.ones(Rs.shape[:-2]) if weights is None else weights, Rs.shape[:-2])
    v = so3.so3_log(Rs @ np.swapaxes(R, -1, -2)[..., None, :, :])
    return np.einsum("...n,...ni->...i", w, v) / np.sum(w, axis=-1)[..., None]


PART_E = Part(
    "test_in_the_middle",
    "Part E — in the middle? (question 6)",
    [
        FunctionCheck(
            "tangent_mean",
            tangent_cases,
            reference_tangent,
            close(Elementwise(1e-7, 1e-10), Elementwise(1e-3, 1e-5)),
            weight=2.0,
            mistakes=[
                Mistake(
                    "log(Rᵢ Rᵀ) instead of log(Rᵀ Rᵢ)",
                    "Your tangent vectors are log(Rᵢ Rᵀ), in the fixed frame; Algorithm 1's are "
                    "log(Rᵀ Rᵢ), in R's own frame (they differ by the rotation R).",
                    _tangent_space_frame,
                    compare=allclose(1e-6, 1e-9),
                ),
                Mistake(
                    "vectors from the data to R",
                    "Your vectors point from the data to R: log(Rᵀ Rᵢ) points from R to Rᵢ.",
                    lambda Rs, R, weights=None: -reference_tangent(Rs, R, weights),
                    compare=allclose(1e-6, 1e-9),
                ),
                Mistake(
                    "weights ignored",
                    "Your mean ignores the weights: Σ wᵢ log(Rᵀ Rᵢ) / Σ wᵢ.",
                    lambda Rs, R, weights=None: reference_tangent(Rs, R),
                    compare=allclose(1e-6, 1e-9),
                ),
            ],
        ),
        ValueCheck(
            "Q6_IN_THE_MIDDLE",
            "geodesic",
            choice(),
            mistakes=[
                Mistake(
                    "every mean in the middle",
                    "Each mean is in the middle in its own sense; only the geodesic mean balances "
                    "the tangent vectors log(R̄ᵀ Rᵢ) — the other two are close to it, not at it.",
                    lambda: "all three",
                ),
            ],
        ),
    ],
)

# -- F: question 7 -------------------------------------------------------------------------------

PART_F = Part(
    "test_question7",
    "Part F — averaging quaternions (question 7)",
    [
        ValueCheck(
            "Q7_NORMALISED_SUM",
            "quaternion",
            choice(),
            mistakes=[
                Mistake(
                    "normalised sum and eigenvector swapped",
                    "The normalised sum of sign-aligned quaternions maximises Σ wᵢ |q·qᵢ|, and "
                    "d_quat² = 2 − 2|q·qᵢ|: it is the quaternion-distance mean. The eigenvector "
                    "maximises Σ wᵢ (q·qᵢ)², and d_chord² = 8 − 8 (q·qᵢ)²: the chordal mean.",
                    lambda: "chordal",
                ),
            ],
        ),
        ValueCheck(
            "Q7_EIGENVECTOR",
            "chordal",
            choice(),
            mistakes=[
                Mistake(
                    "normalised sum and eigenvector swapped",
                    "The top eigenvector maximises Σ wᵢ (q·qᵢ)² = Σ wᵢ cos²(θᵢ/2), and "
                    "d_chord² = 8 sin²(θ/2): it is the chordal mean (as SciPy's documentation says).",
                    lambda: "quaternion",
                ),
            ],
        ),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F]
