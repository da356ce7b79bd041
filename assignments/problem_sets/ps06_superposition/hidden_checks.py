"""Hidden checks of problem set 6 (superposition). Grader-side only: never released, never in
the learner's sandbox (``CourseDirectory.ignore`` lists this file). See ``autograder.checks``.

The inputs are drawn per learner and include the cases that separate a careful implementation
from a plausible one: mirror images (where the unconstrained Procrustes answer is a
reflection), weights with zeros and integer weights, clouds far from the origin (where
forgetting to centre shows), exact fits (RMSD 0, where the eigenvalue form needs clipping and
is accurate only to ≈ √(ε Σw(|p̃|² + |q̃|²) / Σw): the tolerance follows, ``rmsd_precision``),
u on the faces of the cube, several degrees of freedom ν. Two parts are judged by properties
measured here rather than by a value:

* Part E's sampler: the grader's own statistics on the learner's samples — unit norm, the
  Kolmogorov–Smirnov test of the rotation angles against the Haar distribution function
  ``(θ − sin θ)/π``, and the second moment ``E[q qᵀ] = I/4`` — so any correct sampler of the
  prior scores (a correct one fails with probability below 1e-5);
* Part H's MAP fit: the rotation and translation recovered from pairs of structures with a
  flexible region (``flexible_pair``), against the truth. Least squares is 9° or more off on
  these data, the reference MAP under 1.5° (``tests/test_bayesian_superposition.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
import torch

from autograder.checks import (
    Case,
    FunctionCheck,
    Mistake,
    Part,
    SympyTree,
    ValueCheck,
    allclose,
    as_array,
    number_close,
    one_torch_thread,
    quat_close,
    rebuild_sympy,
)
from reference_impl import bayesian_superposition as B
from reference_impl import quaternion as Qn
from reference_impl import superposition as S

F64 = torch.float64


# -- inputs --------------------------------------------------------------------------------------


def rotation(rng: np.random.Generator) -> np.ndarray:
    return Qn.quat_to_matrix(Qn.random_quat(None, rng))


def rigid_pair(rng, n=None, noise=0.3, weights="none", offset=10.0, spread=5.0):
    """(P, Q[, w]) with Q = R P + t + noise: a cloud of ``spread`` Å, ``offset`` Å from the
    origin."""
    n = int(rng.integers(5, 30)) if n is None else n
    P = spread * rng.normal(size=(n, 3)) + offset * rng.normal(size=3)
    Q = P @ rotation(rng).T + 10 * rng.normal(size=3) + noise * rng.normal(size=(n, 3))
    if weights == "none":
        return (P, Q)
    w = rng.random(n) + 0.05
    if weights == "zeros":
        w[rng.permutation(n)[: n // 3]] = 0.0
    elif weights == "integers":
        w = rng.integers(0, 4, size=n).astype(float)
        w[:3] = np.maximum(w[:3], 1.0)
    return (P, Q, w)


def mirror_pair(rng, n=None, noise=0.02):
    """(P, Q): Q a rotated mirror image of P (anisotropic, so the best rotation is unique)."""
    n = int(rng.integers(6, 25)) if n is None else n
    P = rng.normal(size=(n, 3)) * [6.0, 3.0, 1.5] + 3 * rng.normal(size=3)
    G = rotation(rng)
    mirror = np.diag([1.0, 1.0, -1.0])
    return (P, P @ (G @ mirror).T + rng.normal(size=3) + noise * rng.normal(size=(n, 3)))


def superposition_cases(rng, mirrors=True):
    visible = [
        Case(
            (np.eye(3) * 2, np.eye(3) * 2 @ np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]]).T),
            label="three points turned by 90° about z",
            visible=True,
        )
    ]
    cases = [Case(rigid_pair(rng)) for _ in range(5)]
    cases += [Case(rigid_pair(rng, noise=0.0), label="an exact rigid motion")]
    cases += [Case(rigid_pair(rng, weights="random"), tags=("weighted",)) for _ in range(3)]
    cases += [Case(rigid_pair(rng, weights="zeros"), tags=("weighted",))]
    cases += [Case(rigid_pair(rng, weights="integers"), tags=("weighted",))]
    if mirrors:
        cases += [Case(mirror_pair(rng), tags=("mirror",)) for _ in range(3)]
    return visible + cases


def _weights(args) -> np.ndarray:
    P = np.asarray(args[0])
    return np.ones(len(P)) if len(args) < 3 or args[2] is None else np.asarray(args[2], float)


def _scale(case: Case) -> float:
    return 1.0 + float(np.abs(np.asarray(case.args[1])).max())


# -- comparisons ---------------------------------------------------------------------------------


def _two_arrays(value: Any, shapes: tuple[tuple[int, ...], ...]) -> tuple[list, str | None]:
    if not isinstance(value, tuple | list) or len(value) != len(shapes):
        return [], f"returned a {type(value).__name__}, not a pair (one array, one array)"
    out = []
    for v, shape in zip(value, shapes, strict=True):
        arr, problem = as_array(v)
        if problem or arr is None:
            return [], problem
        if arr.shape != shape:
            return [], f"returned shapes {tuple(np.shape(x) for x in value)}, expected {shapes}"
        if not np.all(np.isfinite(arr)):
            return [], "returned NaN or infinity"
        out.append(arr.astype(np.float64))
    return out, None


def motion_close(atol_R=1e-8, rtol_t=1e-8, check_t=True):
    """(R, t) pairs: R to ``atol_R``, t to ``rtol_t`` × the coordinates' size."""

    def compare(value, expected, case):
        arrays, problem = _two_arrays(value, ((3, 3), (3,)))
        if problem:
            return problem
        R, t = arrays
        eR, et = (np.asarray(e, dtype=np.float64) for e in expected)
        if np.linalg.det(R) < 0:
            return "returned a reflection (det R = −1), not a rotation"
        if np.abs(R - eR).max() > atol_R:
            return f"wrong rotation (largest difference {np.abs(R - eR).max():.3g})"
        if check_t and np.abs(t - et).max() > rtol_t * _scale(case):
            return f"wrong translation (largest difference {np.abs(t - et).max():.3g} Å)"
        return None

    return compare


def rotation_close(atol=1e-6):
    """Diagnosis of (R, t) answers by their R alone, reflections included."""

    def compare(value, expected, case):
        arrays, problem = _two_arrays(value, ((3, 3), (3,)))
        if problem:
            return problem
        return None if np.abs(arrays[0] - np.asarray(expected[0])).max() <= atol else "no"

    return compare


def quat_motion_close(atol_q=1e-8, rtol_t=1e-8):
    q_close = quat_close(atol_q)

    def compare(value, expected, case):
        arrays, problem = _two_arrays(value, ((4,), (3,)))
        if problem:
            return problem
        q, t = arrays
        if abs(np.linalg.norm(q) - 1) > 1e-8:
            return "returned a quaternion that is not of unit length"
        reason = q_close(q, expected[0], case)
        if reason:
            return "wrong quaternion"
        if np.abs(t - expected[1]).max() > rtol_t * _scale(case):
            return f"wrong translation (largest difference {np.abs(t - expected[1]).max():.3g} Å)"
        return None

    return compare


# -- A: Kabsch -----------------------------------------------------------------------------------


def _kabsch_variant(
    P, Q, w=None, *, fix=True, centre=True, transpose=False, weighted=True, flip_axis=2
):
    """Kabsch with one mistake; ``flip_axis``: the singular direction given up when d = −1
    (2, the smallest singular value's, is right)."""
    P, Q = np.asarray(P, float), np.asarray(Q, float)
    w = np.ones(len(P)) if (w is None or not weighted) else np.asarray(w, float)
    pbar, qbar = w @ P / w.sum(), w @ Q / w.sum()
    Pc, Qc = (P - pbar, Q - qbar) if centre else (P, Q)
    U, _, Vt = np.linalg.svd((w[:, None] * Pc).T @ Qc)
    d = np.sign(np.linalg.det(Vt.T @ U.T)) if fix else 1.0
    D = np.ones(3)
    D[flip_axis] = d
    R = Vt.T @ np.diag(D) @ U.T
    if transpose:
        R = R.T
    return R, qbar - R @ pbar


def _kabsch_ref(*args):
    return S.kabsch(args[0], args[1], args[2] if len(args) > 2 else None)


def _translation_only(*args):
    R, _ = _kabsch_ref(*args)
    w = _weights(args)
    P, Q = np.asarray(args[0]), np.asarray(args[1])
    return R, (w @ Q - w @ P) / w.sum()


PART_A = Part(
    "test_kabsch",
    "Part A — Kabsch's solution",
    [
        FunctionCheck(
            "kabsch",
            superposition_cases,
            _kabsch_ref,
            motion_close(),
            weight=1.0,
            diagnose=rotation_close(1e-6),
            mistakes=[
                Mistake(
                    "reflection not fixed",
                    "Your R is V Uᵀ even when det(V Uᵀ) = −1: for a mirror image that is a "
                    "reflection, not a rotation. Use R = V diag(1, 1, d) Uᵀ with "
                    "d = sign det(V Uᵀ).",
                    lambda *a: _kabsch_variant(*a, fix=False),
                ),
                Mistake(
                    "reflection fixed on the wrong singular direction",
                    "Your R flips the direction of the largest singular value when "
                    "det(V Uᵀ) = −1: that gives up the most, not the least. NumPy's svd returns "
                    "the singular values in descending order, so the smallest is the last: "
                    "R = V diag(1, 1, d) Uᵀ.",
                    lambda *a: _kabsch_variant(*a, flip_axis=0),
                ),
                Mistake(
                    "rotation transposed (maps Q onto P)",
                    "Your R is the transpose of the answer: it maps Q onto P. With S = Σ w p̃ q̃ᵀ "
                    "= U Σ Vᵀ the rotation that maps P onto Q is V Uᵀ (not U Vᵀ).",
                    lambda *a: _kabsch_variant(*a, transpose=True),
                ),
                Mistake(
                    "points not centred",
                    "Your cross-covariance uses the raw points: subtract the (weighted) "
                    "centroids p̄ and q̄ before forming S = Σ w (p − p̄)(q − q̄)ᵀ.",
                    lambda *a: _kabsch_variant(*a, centre=False),
                ),
                Mistake(
                    "weights ignored",
                    "Your answer is the unweighted one: the weights enter the centroids "
                    "(p̄ = Σ w p / Σ w) and the cross-covariance S = Σ w p̃ q̃ᵀ.",
                    lambda *a: _kabsch_variant(*a, weighted=False),
                ),
                Mistake(
                    "translation without the rotation",
                    "Your rotation is right but t = q̄ − p̄: the best translation for R is "
                    "t = q̄ − R p̄.",
                    _translation_only,
                    compare=motion_close(1e-6, 1e-6),
                ),
            ],
        )
    ],
)

# -- B: the profile matrix -----------------------------------------------------------------------


def profile_cases(rng):
    cases = [Case(rigid_pair(rng, noise=2.0)) for _ in range(4)]
    cases += [Case(rigid_pair(rng, noise=2.0, weights="random")) for _ in range(3)]
    cases += [Case(rigid_pair(rng, noise=2.0, weights="zeros"))]
    cases += [Case((rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 5.0), label="unrelated")]
    return cases


def _profile_ref(*args):
    return S.profile_matrix(args[0], args[1], args[2] if len(args) > 2 else None)


def _profile_of(P, Q, w, transpose=False, centre=True, weighted=True):
    P, Q = np.asarray(P, float), np.asarray(Q, float)
    w = np.ones(len(P)) if (w is None or not weighted) else np.asarray(w, float)
    Pc = P - w @ P / w.sum() if centre else P
    Qc = Q - w @ Q / w.sum() if centre else Q
    Sm = (w[:, None] * Pc).T @ Qc
    return S._profile_from_covariance(Sm.T if transpose else Sm)


def _profile_compare(value, expected, case):
    scale = 1.0 + float(np.abs(expected).max())
    return allclose(1e-9, 1e-9 * scale)(value, expected, case)


PART_B = Part(
    "test_profile",
    "Part B — the profile matrix",
    [
        FunctionCheck(
            "profile_matrix",
            profile_cases,
            _profile_ref,
            _profile_compare,
            mistakes=[
                Mistake(
                    "cross-covariance transposed",
                    "Your K is built from Sᵀ: it is the profile matrix of the inverse problem "
                    "(Q onto P). S[a, b] = Σ w p̃_a q̃_b, rows indexed by P's coordinates.",
                    lambda *a: _profile_of(a[0], a[1], a[2] if len(a) > 2 else None, True),
                ),
                Mistake(
                    "points not centred",
                    "Your K uses the raw points: build it from the centred cross-covariance.",
                    lambda *a: _profile_of(a[0], a[1], a[2] if len(a) > 2 else None, centre=False),
                ),
                Mistake(
                    "weights ignored",
                    "Your K is the unweighted one: weights enter the centroids and S.",
                    lambda *a: _profile_of(
                        a[0], a[1], a[2] if len(a) > 2 else None, weighted=False
                    ),
                ),
            ],
        )
    ],
)

# -- C: the eigenvector and the RMSD -------------------------------------------------------------


def _horn_ref(*args):
    return S.horn_quaternion(args[0], args[1], args[2] if len(args) > 2 else None)


def _horn_variant(*args, which=-1, order="wxyz", conj=False):
    P, Q = args[0], args[1]
    w = args[2] if len(args) > 2 else None
    K = _profile_of(P, Q, w)
    _, vecs = np.linalg.eigh(K)
    q = vecs[:, which]
    if conj:
        q = q * [1, -1, -1, -1]
    ww = _weights(args)
    t = (ww @ np.asarray(Q) - Qn.quat_to_matrix(q) @ (ww @ np.asarray(P))) / ww.sum()
    if order == "xyzw":
        q = np.roll(q, -1)
    return q, t


def rmsd_cases(rng):
    cases = [Case(rigid_pair(rng, noise=s)) for s in (0.05, 0.3, 1.0, 3.0)]
    cases += [Case(rigid_pair(rng, noise=0.0), label="an exact fit (RMSD 0)")]
    cases += [Case(rigid_pair(rng, noise=0.5, weights="random"), tags=("weighted",))]
    cases += [Case(rigid_pair(rng, noise=0.5, weights="integers"), tags=("weighted",))]
    cases += [Case(rigid_pair(rng, noise=0.5, weights="zeros"), tags=("weighted",))]
    cases += [Case(mirror_pair(rng, noise=0.1), label="a mirror image")]
    cases += [
        Case(
            rigid_pair(rng, n=150, noise=0.0, offset=50.0, spread=25.0),
            label="an exact fit of protein size (RMSD 0)",
        )
    ]
    return cases


def _rmsd_ref(*args):
    return float(S.superposition_rmsd(args[0], args[1], args[2] if len(args) > 2 else None))


def _rmsd_parts(*args):
    P, Q = np.asarray(args[0], float), np.asarray(args[1], float)
    w = _weights(args)
    Pc, Qc = P - w @ P / w.sum(), Q - w @ Q / w.sum()
    g = w @ (np.sum(Pc**2, axis=1) + np.sum(Qc**2, axis=1))
    lam = np.linalg.eigvalsh(_profile_of(P, Q, w))[-1]
    return max(g - 2 * lam, 0.0), w.sum(), len(P), g, lam


def _rmsd_over_n(*args):
    e, _, n, _, _ = _rmsd_parts(*args)
    return float(np.sqrt(e / n))


def _rmsd_single_eigenvalue(*args):
    _, total, _, g, lam = _rmsd_parts(*args)
    return float(np.sqrt(max(g - lam, 0.0) / total))


def rmsd_precision(case: Case) -> float:
    """The absolute tolerance of an RMSD: max(1e-5 Å, 10 √(ε G / Σw)), G = Σ w(|p̃|² + |q̃|²).

    The eigenvalue form E_min = G − 2 λ_max cancels: rounding leaves an error of a few ε G in
    E_min, so a correct eigenvalue-based answer for an exact fit is up to ≈ 3 √(ε G / Σw)
    instead of 0 (about 1e-7 × the coordinates' spread); the notebook states this tolerance.
    """
    *_, g, _ = _rmsd_parts(*case.args)
    total = float(_weights(case.args).sum())
    return max(1e-5, 10 * float(np.sqrt(np.finfo(np.float64).eps * g / total)))


def _rmsd_compare(value, expected, case):
    return number_close(1e-6, rmsd_precision(case))(value, expected, case)


PART_C = Part(
    "test_eigen",
    "Part C — the eigenvector and the RMSD",
    [
        FunctionCheck(
            "quaternion_superposition",
            lambda rng: superposition_cases(rng)[1:],
            _horn_ref,
            quat_motion_close(),
            diagnose=quat_motion_close(1e-6, 1e3),
            mistakes=[
                Mistake(
                    "eigenvector of the smallest eigenvalue",
                    "Your quaternion is the eigenvector of the smallest eigenvalue (the first "
                    "column of np.linalg.eigh's answer, which sorts them in ascending order): "
                    "the best rotation is the top one, the last column.",
                    lambda *a: _horn_variant(*a, which=0),
                ),
                Mistake(
                    "quaternion in [x, y, z, w] order",
                    "Your quaternion has its scalar part last: this course's order is "
                    "[w, x, y, z], the order of K's rows.",
                    lambda *a: _horn_variant(*a, order="xyzw"),
                ),
                Mistake(
                    "inverse rotation (conjugate quaternion)",
                    "Your quaternion is the conjugate of the answer, the rotation of Q onto P: "
                    "check that K is built from S = Σ w p̃ q̃ᵀ and not from Sᵀ.",
                    lambda *a: _horn_variant(*a, conj=True),
                ),
            ],
        ),
        FunctionCheck(
            "superposition_rmsd",
            rmsd_cases,
            _rmsd_ref,
            _rmsd_compare,
            mistakes=[
                Mistake(
                    "mean square, not its root",
                    "Your RMSD is the mean squared deviation: take its square root.",
                    lambda *a: _rmsd_ref(*a) ** 2,
                ),
                Mistake(
                    "divided by N instead of Σ w",
                    "Your weighted RMSD divides by the number of points: the weighted mean "
                    "square divides E_min by Σ wᵢ.",
                    _rmsd_over_n,
                ),
                Mistake(
                    "eigenvalue not doubled",
                    "Your E_min is Σ w(|p̃|² + |q̃|²) − λ_max: the cross term is 2 tr(R S) = "
                    "2 λ_max.",
                    _rmsd_single_eigenvalue,
                ),
            ],
        ),
    ],
)

# -- D: the uniform prior map and its volume element ---------------------------------------------


def uniform_cases(rng):
    visible = [
        Case((np.array([1.0, 0.3, 0.0]),), label="u = (1, 0.3, 0): the identity", visible=True)
    ]
    cases = [Case((rng.random(3),)) for _ in range(5)]
    cases += [Case((rng.random((5, 3)),)), Case((rng.random((2, 4, 3)),))]
    edges = rng.random((4, 3))
    edges[:2, 0] = [0.0, 1.0]
    edges[2:, 1:] = [[0.0, 1.0], [0.5, 0.25]]
    cases += [Case((edges,), label="faces of the cube")]
    return visible + cases


def _shoemake_wrong_order(u):
    """Shoemake's (x, y, z, w) list read as [w, x, y, z]."""
    u = np.asarray(u, dtype=float)
    a, b = np.sqrt(u[..., 0]), np.sqrt(1 - u[..., 0])
    t2, t3 = 2 * np.pi * u[..., 1], 2 * np.pi * u[..., 2]
    return np.stack([b * np.sin(t2), b * np.cos(t2), a * np.sin(t3), a * np.cos(t3)], axis=-1)


def _no_sqrt(u):
    u = np.asarray(u, dtype=float)
    a, b = u[..., 0], 1 - u[..., 0]
    t2, t3 = 2 * np.pi * u[..., 1], 2 * np.pi * u[..., 2]
    return np.stack([a * np.cos(t3), b * np.sin(t2), b * np.cos(t2), a * np.sin(t3)], axis=-1)


def _no_two_pi(u):
    u = np.asarray(u, dtype=float)
    a, b = np.sqrt(u[..., 0]), np.sqrt(1 - u[..., 0])
    t2, t3 = u[..., 1], u[..., 2]
    return np.stack([a * np.cos(t3), b * np.sin(t2), b * np.cos(t2), a * np.sin(t3)], axis=-1)


U1, U2, U3 = sympy.symbols("u1 u2 u3", positive=True)
SYMBOLS = {"u1": U1, "u2": U2, "u3": U3}
VOLUME_OF_S3 = 2 * np.pi**2
_POINTS = [
    (0.3, 0.6, 0.8),
    (0.05, 0.9, 0.1),
    (0.5, 0.5, 0.5),
    (0.77, 0.13, 0.42),
    (0.93, 0.35, 0.66),
]


def constant_on_the_cube(value, expected, case):
    """A SymPy expression in u1, u2, u3 equal to ``expected`` (a number) at points of (0, 1)³."""
    if value is None:
        return "no answer given (still None)"
    if not isinstance(value, SympyTree):
        arr, problem = as_array(value)
        if problem or arr is None or arr.shape != ():
            return "did not return a SymPy expression"
        vals = [complex(arr)]
    else:
        try:
            expr = rebuild_sympy(value, SYMBOLS)
        except Exception as exc:
            return f"could not be read ({type(exc).__name__})"
        if not isinstance(expr, sympy.Expr):
            return "did not return a single SymPy expression"
        vals = []
        for p in _POINTS:
            try:
                vals.append(
                    complex(expr.xreplace(dict(zip((U1, U2, U3), p, strict=True))).evalf(30))
                )
            except (TypeError, ValueError, ZeroDivisionError):
                return "could not be evaluated at points of the cube"
    if all(abs(v - expected) <= 1e-9 * abs(expected) for v in vals):
        return None
    return "is not the volume element"


PART_D = Part(
    "test_prior_map",
    "Part D — the uniform prior over rotations (question 5)",
    [
        FunctionCheck(
            "quat_from_uniform",
            uniform_cases,
            B.quat_from_uniform,
            quat_close(1e-10),
            weight=2.0,
            mistakes=[
                Mistake(
                    "Shoemake's order read as [w, x, y, z]",
                    "Your quaternion puts √(1−u₁) sin 2πu₂ first: Shoemake's formula lists "
                    "(x, y, z, w); in [w, x, y, z] order the scalar part is √u₁ cos 2πu₃.",
                    _shoemake_wrong_order,
                ),
                Mistake(
                    "square roots missing",
                    "Your components use u₁ and 1 − u₁ where eq. 8 has √u₁ and √(1 − u₁): the "
                    "quaternion is then not of unit length.",
                    _no_sqrt,
                ),
                Mistake(
                    "2π missing",
                    "Your angles are u₂ and u₃ radians: eq. 8 turns them into 2πu₂ and 2πu₃, "
                    "full turns.",
                    _no_two_pi,
                ),
            ],
        ),
        ValueCheck(
            "VOLUME_ELEMENT",
            VOLUME_OF_S3,
            constant_on_the_cube,
            weight=1.0,
            mistakes=[
                Mistake(
                    "Gram determinant without the square root",
                    "Your volume element is det(JᵀJ) = 4π⁴: the 3-volume is its square root.",
                    lambda: 4 * np.pi**4,
                ),
                Mistake(
                    "det(J Jᵀ) instead of det(Jᵀ J)",
                    "Your volume element is 0: J J ᵀ is 4×4 of rank 3. The Gram matrix of the "
                    "three tangent vectors is Jᵀ J (3×3).",
                    lambda: 0.0,
                ),
            ],
        ),
    ],
)

# -- E: uniformity on SO(3) ----------------------------------------------------------------------


def cdf_cases(rng):
    visible = [Case((np.pi,), label="θ = π", visible=True)]
    cases = [Case((rng.uniform(0, np.pi, size=k),)) for k in (1, 7, 50)]
    cases += [Case((np.linspace(0, np.pi, 25),)), Case((float(rng.uniform(0, np.pi)),))]
    return visible + cases


def sampler_cases(rng):
    """3000 and 1000 samples: 128 kB of answers, under the kernel's output cap of 256 kB per part
    (and plenty: a uniform rotation angle is rejected at √n·D ≈ 17)."""
    return [
        Case((n, int(s))) for n, s in zip((3000, 1000), rng.integers(0, 2**31, size=2), strict=True)
    ]


def _angles(q: np.ndarray) -> np.ndarray:
    return 2 * np.arctan2(np.linalg.norm(q[:, 1:], axis=1), np.abs(q[:, 0]))


def _ks_pvalue(x: np.ndarray, cdf) -> float:
    """Kolmogorov–Smirnov p-value (asymptotic, two-sided) of the sample x against ``cdf``."""
    x = np.sort(x)
    n = len(x)
    F = cdf(x)
    d = max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n))
    lam = (np.sqrt(n) + 0.12 + 0.11 / np.sqrt(n)) * d
    k = np.arange(1, 101)
    return float(np.clip(2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * (k * lam) ** 2)), 0, 1))


def _samples(value, case):
    arr, problem = as_array(value)
    if problem or arr is None:
        return None, problem
    n = case.args[0]
    if arr.shape != (n, 4):
        return None, f"returned shape {arr.shape} where ({n}, 4) was expected"
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return None, "returned NaN or infinity"
    return arr, None


def haar_samples(value, expected, case):
    """The grader's statistics: unit norm, KS of the angles against (θ − sin θ)/π (p > 1e-6),
    E[q qᵀ] = I/4 within 6 standard errors."""
    q, problem = _samples(value, case)
    if problem or q is None:
        return problem
    if np.abs(np.linalg.norm(q, axis=1) - 1).max() > 1e-6:
        return "returned quaternions that are not of unit length"
    p = _ks_pvalue(_angles(q), B.haar_angle_cdf)
    if p < 1e-6:
        return f"the rotation angles of the samples are not Haar-distributed (KS p = {p:.1g})"
    n = len(q)
    second = q.T @ q / n
    se = np.where(np.eye(4, dtype=bool), 0.25, np.sqrt(1 / 24)) / np.sqrt(n)
    if np.any(np.abs(second - np.eye(4) / 4) > 6 * se):
        return "the samples' second moment E[q qᵀ] is not I/4: they favour some directions"
    return None


def uniform_angle_samples(value, expected, case):
    q, problem = _samples(value, case)
    if problem or q is None:
        return problem
    ok = _ks_pvalue(_angles(q / np.linalg.norm(q, axis=1, keepdims=True)), lambda t: t / np.pi)
    return None if ok > 1e-3 else "no"


def non_unit_samples(value, expected, case):
    q, problem = _samples(value, case)
    if problem or q is None:
        return problem
    return None if np.abs(np.linalg.norm(q, axis=1) - 1).max() > 1e-3 else "no"


PART_E = Part(
    "test_uniformity",
    "Part E — measuring uniformity on SO(3) (question 5)",
    [
        FunctionCheck(
            "haar_angle_cdf",
            cdf_cases,
            B.haar_angle_cdf,
            allclose(1e-9, 1e-12),
            mistakes=[
                Mistake(
                    "uniform angle",
                    "Your distribution function is θ/π: the angle of a uniform rotation is not "
                    "uniform — its density is (1 − cos θ)/π (small rotations are rare).",
                    lambda t: np.asarray(t, float) / np.pi,
                ),
                Mistake(
                    "density instead of distribution function",
                    "Your answer is the density (1 − cos θ)/π: the distribution function is "
                    "its integral from 0 to θ.",
                    B.haar_angle_density,
                ),
                Mistake(
                    "polar angle on the sphere",
                    "Your answer is (1 − cos θ)/2, the distribution of the polar angle of a "
                    "uniform point on S²: a rotation angle has density (1 − cos θ)/π on [0, π].",
                    lambda t: (1 - np.cos(np.asarray(t, float))) / 2,
                ),
            ],
        ),
        FunctionCheck(
            "sample_rotation_prior",
            sampler_cases,
            None,
            haar_samples,
            weight=1.5,
            mistakes=[
                Mistake(
                    "uniform angle about a uniform axis",
                    "Your samples' rotation angles are uniform on [0, π]: that is not a uniform "
                    "rotation (use eq. 7–8: uniform u mapped by quat_from_uniform).",
                    lambda *a: None,
                    compare=uniform_angle_samples,
                ),
                Mistake(
                    "not unit quaternions",
                    "Your samples are not unit quaternions: check the square roots of eq. 8.",
                    lambda *a: None,
                    compare=non_unit_samples,
                ),
            ],
        ),
    ],
)

# -- F: the initialisation -----------------------------------------------------------------------

INIT_ANGLE = float(Qn.quat_to_axis_angle(B.quat_from_uniform(B.INIT_U))[1])
_WRONG_ORDER_Q = _shoemake_wrong_order(np.array(B.INIT_U))
WRONG_ORDER_ANGLE = float(
    2 * np.arctan2(np.linalg.norm(_WRONG_ORDER_Q[1:]), abs(_WRONG_ORDER_Q[0]))
)
IDENTITY_PROPERTY = "R(q(u)) = I"


def identity_u(value, expected, case):
    """Any u in [0, 1]³ with R(q(u)) = I (or, to diagnose, equal to ``expected``)."""
    if value is None:
        return "no answer given (still None)"
    arr, problem = as_array(value)
    if problem or arr is None:
        return problem
    if arr.shape != (3,):
        return f"returned shape {arr.shape}, not three numbers"
    u = arr.astype(np.float64)
    if not isinstance(expected, str):  # diagnosing: is it this mistake's u?
        return None if np.allclose(u, expected, atol=1e-9) else "no"
    if not np.all(np.isfinite(u)) or np.any(u < 0) or np.any(u > 1):
        return "is not a point of the cube [0, 1]³"
    q = B.quat_from_uniform(u)
    angle = 2 * np.arctan2(np.linalg.norm(q[1:]), abs(q[0]))
    return None if angle < 1e-7 else "its rotation is not the identity"


PART_F = Part(
    "test_init",
    "Part F — the paper's initialisation (question 10)",
    [
        ValueCheck(
            "INIT_ANGLE",
            INIT_ANGLE,
            number_close(1e-6),
            weight=1.0,
            mistakes=[
                Mistake(
                    "degrees for radians",
                    "Your angle is in degrees; angles in this course are radians.",
                    lambda: np.degrees(INIT_ANGLE),
                ),
                Mistake(
                    "half the rotation angle",
                    "Your angle is arccos|w|, half the rotation angle: a unit quaternion is "
                    "(cos θ/2, sin θ/2 n).",
                    lambda: INIT_ANGLE / 2,
                ),
                Mistake(
                    "Shoemake's order read as [w, x, y, z]",
                    "Your angle is that of Shoemake's list read with its first component as the "
                    "scalar part; in [w, x, y, z] order w = √u₁ cos 2πu₃.",
                    lambda: WRONG_ORDER_ANGLE,
                ),
            ],
        ),
        ValueCheck(
            "U_IDENTITY",
            IDENTITY_PROPERTY,
            identity_u,
            weight=1.0,
            mistakes=[
                Mistake(
                    "the paper's initialisation is not the identity",
                    "u = (0.9, 0.1, 0.9) is a rotation by about 80°: the identity needs |w| = 1, "
                    "and |w| ≤ √u₁, so u₁ = 1 (a face of the cube) and cos 2πu₃ = ±1.",
                    lambda: np.array(B.INIT_U),
                ),
                Mistake(
                    "u = 0 is not the identity",
                    "u = (0, 0, 0) gives q = (0, 0, 1, 0), a half turn about y: the identity "
                    "needs u₁ = 1.",
                    lambda: np.zeros(3),
                ),
            ],
        ),
    ],
)

# -- G: the log joint ----------------------------------------------------------------------------


def log_joint_cases(rng):
    cases = []
    for nu in (1.0, 1.0, 1.0, 2.5, 4.0, 10.0):
        n = int(rng.integers(3, 20))
        M = 5 * rng.normal(size=(n, 3))
        R = rotation(rng)
        t = rng.normal(size=3)
        X1 = M + rng.normal(size=(n, 3))
        X2 = M @ R.T + t + rng.normal(size=(n, 3))
        scales = rng.uniform(0.2, 2.5, size=n)
        args = tuple(torch.tensor(a, dtype=F64) for a in (X1, X2, M, scales, R, t))
        cases.append(Case(args, {"nu": nu}, tags=("nu",) if nu != 1.0 else ()))
    return cases


def _log_t(x, loc, scale, nu):
    return B.studentt_log_density(x, loc, scale, nu)


def _log_joint_variant(
    X1,
    X2,
    M,
    scales,
    R,
    t,
    nu=1.0,
    *,
    gaussian=False,
    no_log_scale=False,
    rows=False,
    no_t_prior=False,
    nu_one=False,
    no_scale_prior=False,
    variances=False,
    nu_in_prior=False,
):
    prior_nu = nu if nu_in_prior else 1.0
    nu = 1.0 if nu_one else nu
    s = scales[:, None].sqrt() if variances else scales[:, None]
    mean2 = M @ R + t if rows else M @ R.T + t
    if gaussian:
        lik = torch.distributions.Normal(M, s).log_prob(X1).sum()
        lik = lik + torch.distributions.Normal(mean2, s).log_prob(X2).sum()
    else:
        lik = _log_t(X1, M, s, nu).sum() + _log_t(X2, mean2, s, nu).sum()
        if no_log_scale:
            lik = lik + 6 * torch.log(scales).sum()
    prior = _log_t(M, torch.zeros_like(M), torch.full_like(M, 3.0), prior_nu).sum()
    if not no_scale_prior:
        prior = prior + (0.5 * np.log(2 / np.pi) - scales**2 / 2).sum()
    if not no_t_prior:
        prior = prior + (-0.5 * np.log(2 * np.pi) - t**2 / 2).sum()
    return lik + prior


def _joint_ref(*args, **kwargs):
    return float(B.theseus_log_joint(*args, **kwargs))


def _variant(**flags):
    return lambda *a, **k: float(_log_joint_variant(*a, **{**k, **flags}))


def _joint_compare(value, expected, case):
    if isinstance(value, np.ndarray) and value.shape == (1,):
        return "returned shape (1,), not a scalar"
    return number_close(1e-9, 1e-9)(value, expected, case)


PART_G = Part(
    "test_log_joint",
    "Part G — the log posterior (questions 8, 9)",
    [
        FunctionCheck(
            "log_joint",
            log_joint_cases,
            _joint_ref,
            _joint_compare,
            diagnose=number_close(1e-7, 1e-7),
            mistakes=[
                Mistake(
                    "Gaussian likelihood",
                    "Your likelihood is Gaussian: eq. 13 has Student-t densities of ν degrees "
                    "of freedom, whose heavy tails are what makes the fit robust.",
                    _variant(gaussian=True),
                ),
                Mistake(
                    "Student-t without its normalisation",
                    "Your Student-t densities lack the −log sᵢ of their normalisation (1/s in "
                    "front): without it a larger scale always looks better.",
                    _variant(no_log_scale=True),
                ),
                Mistake(
                    "row-vector convention (M R)",
                    "Your second structure's mean is M @ R + t: with R acting on column vectors "
                    "the rows of the rotated structure are M @ R.T (THESEUS-PP's code writes "
                    "M R for its own R, our Rᵀ).",
                    _variant(rows=True),
                ),
                Mistake(
                    "translation prior missing",
                    "Your log posterior has no prior for the translation: eq. 11 puts "
                    "T ~ N(0, I₃), which adds Σⱼ (−½ log 2π − tⱼ²/2).",
                    _variant(no_t_prior=True),
                ),
                Mistake(
                    "scale prior missing",
                    "Your log posterior has no prior for the scales: sᵢ ~ HalfNormal(1) adds "
                    "Σᵢ (½ log(2/π) − sᵢ²/2).",
                    _variant(no_scale_prior=True),
                ),
                Mistake(
                    "ν ignored",
                    "Your answer is right for ν = 1 only: use the argument nu in the likelihood "
                    "(the prior of M keeps ν = 1).",
                    _variant(nu_one=True),
                ),
                Mistake(
                    "ν in the prior of M",
                    "Your prior of M has ν degrees of freedom: ν belongs to the two likelihood "
                    "terms only, and M_ij ~ t₁(0, 3), a Cauchy, whatever ν is.",
                    _variant(nu_in_prior=True),
                ),
                Mistake(
                    "scales used as variances",
                    "Your Student-t scale is √sᵢ: sᵢ is a scale in Å, like a standard "
                    "deviation (the counterpart of √U_ii), and enters as (x − μ)/sᵢ and −log sᵢ.",
                    _variant(variances=True),
                ),
            ],
        )
    ],
)

# -- H: the MAP fit ------------------------------------------------------------------------------

ROTATION_TOLERANCE = np.radians(3.0)
TRANSLATION_TOLERANCE = 0.5  # Å


def map_cases(rng):
    """Two pairs with a flexible region, drawn for the learner (each fit is a fraction of a
    second; the notebook's visible test is a third pair)."""
    cases = []
    for _ in range(2):
        X1, X2, R, t = B.flexible_pair(rng)
        cases.append(Case((X1, X2), key=(R, t)))
    return cases


def _angle(R1, R2) -> float:
    """The angle (radians) of the rotation R1ᵀ R2, from its sine and cosine."""
    D = np.asarray(R1).T @ np.asarray(R2)
    sin = np.linalg.norm([D[2, 1] - D[1, 2], D[0, 2] - D[2, 0], D[1, 0] - D[0, 1]]) / 2
    return float(np.arctan2(sin, (np.trace(D) - 1) / 2))


def recovers_motion(value, expected, case):
    arrays, problem = _two_arrays(value, ((3, 3), (3,)))
    if problem:
        return problem
    R, t = arrays
    if np.abs(R.T @ R - np.eye(3)).max() > 1e-6 or np.linalg.det(R) < 0:
        return "returned a matrix that is not a rotation"
    R_true, t_true = case.key
    err = _angle(R_true, R)
    if err > ROTATION_TOLERANCE:
        return f"rotation {np.degrees(err):.1f}° away from the truth"
    dt = float(np.linalg.norm(t - t_true))
    if dt > TRANSLATION_TOLERANCE:
        return f"translation {dt:.2f} Å away from the truth"
    return None


def near(expected_motion: tuple[np.ndarray, np.ndarray], degrees: float, angstrom: float | None):
    R0, t0 = expected_motion
    return lambda R, t: (
        _angle(R0, R) < np.radians(degrees)
        and (angstrom is None or np.linalg.norm(t - t0) < angstrom)
    )


def like(degrees: float, angstrom: float | None):
    """Diagnosis: the learner's (R, t) is within ``degrees``/``angstrom`` of the mistake's."""

    def compare(value, expected, case):
        arrays, problem = _two_arrays(value, ((3, 3), (3,)))
        if problem:
            return problem
        return None if near(expected, degrees, angstrom)(*arrays) else "no"

    return compare


def _pipeline_parts(X1, X2):
    X1, X2 = np.asarray(X1, float), np.asarray(X2, float)
    c1, c2 = X1.mean(axis=0), X2.mean(axis=0)
    A, Bc = X1 - c1, X2 - c2
    Rk, _ = S.kabsch(A, Bc)
    with one_torch_thread():
        fit = B.theseus_map(A, Bc @ Rk)
    return c1, c2, Rk, fit["R"], fit["t"]


def _not_composed(X1, X2):
    c1, c2, _, Rm, tm = _pipeline_parts(X1, X2)
    return Rm, c2 - Rm @ c1 + tm


def _wrong_order(X1, X2):
    c1, c2, Rk, Rm, tm = _pipeline_parts(X1, X2)
    R = Rm @ Rk
    return R, c2 - R @ c1 + Rk @ tm


def _t_not_rotated(X1, X2):
    c1, c2, Rk, Rm, tm = _pipeline_parts(X1, X2)
    R = Rk @ Rm
    return R, c2 - R @ c1 + tm


PART_H = Part(
    "test_map",
    "Part H — MAP superposition (questions 10, 11)",
    [
        FunctionCheck(
            "map_superposition",
            map_cases,
            None,
            recovers_motion,
            mistakes=[
                Mistake(
                    "least squares",
                    "Your answer is the least-squares superposition: the flexible region drags "
                    "it several degrees off. Fit the Student-t model (Part G) after the "
                    "least-squares pre-superposition.",
                    lambda X1, X2: S.kabsch(X1, X2),
                    compare=like(0.3, 0.1),
                ),
                Mistake(
                    "pre-superposition not composed",
                    "Your rotation is the fit to the pre-superposed pair only: compose it with "
                    "the least-squares rotation, R = R_k R_m and t = c₂ − R c₁ + R_k t_m.",
                    _not_composed,
                    compare=like(2.0, None),
                ),
                Mistake(
                    "rotations composed in the wrong order",
                    "Your rotation is R_m R_k: x₂ − c₂ = R_k y and y ≈ R_m x₁ (centred), so "
                    "R = R_k R_m.",
                    _wrong_order,
                    compare=like(2.0, None),
                ),
                Mistake(
                    "translation of the fit not rotated back",
                    "Your translation adds t_m as it is: it was fitted in the pre-superposed "
                    "frame, so it enters as R_k t_m (t = c₂ − R c₁ + R_k t_m).",
                    _t_not_rotated,
                    compare=like(2.0, 0.3),
                ),
            ],
        )
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G, PART_H]
