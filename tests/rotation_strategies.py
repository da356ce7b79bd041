"""Hypothesis strategies and helpers for the rotation tests (quaternion, euler, so3, averaging).

Conventions as in ``reference_impl.conventions``: quaternions ``[w, x, y, z]``. The oracle is
``scipy.spatial.transform.Rotation``, always called with ``scalar_first=True``.

Every batch strategy mixes two sources: rotations that Hypothesis builds (and shrinks) out of
edge cases — the identity, angles of 1e-300 … 1e-4, exactly π about x, y, z and a general axis,
π − 1e-12, exact-zero components, both signs of ``q`` — and a tail of Haar-random rotations from
a drawn seed, so that each example also covers a spread of generic inputs.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.transform import Rotation

PI = float(np.pi)
# Rotation angles where formulas break: 0, tiny (acos of the trace loses them), π (the log map
# via (R − Rᵀ)/(2 sin θ) is 0/0), just below π, and π/2 (where Shepperd's branches meet).
SPECIAL_ANGLES = (
    0.0,
    1e-300,
    1e-15,
    1e-12,
    1e-8,
    1e-4,
    0.5,
    PI / 2,
    PI - 1e-4,
    PI - 1e-8,
    PI - 1e-12,
    PI,
)
GENERAL_AXIS = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
_AXES = (
    np.array([1.0, 0.0, 0.0]),
    np.array([0.0, 1.0, 0.0]),
    np.array([0.0, 0.0, 1.0]),
    np.array([-1.0, 0.0, 0.0]),
    np.array([0.0, -1.0, 0.0]),
    np.array([0.0, 0.0, -1.0]),
    GENERAL_AXIS,
    -GENERAL_AXIS,
)
# Exact quaternions (no rounding in w = cos(π/2)): the identity and half-turns.
EXACT_QUATS = (
    np.array([1.0, 0.0, 0.0, 0.0]),
    np.array([-1.0, 0.0, 0.0, 0.0]),
    np.array([0.0, 1.0, 0.0, 0.0]),
    np.array([0.0, 0.0, 1.0, 0.0]),
    np.array([0.0, 0.0, 0.0, 1.0]),
    np.array([0.0, *GENERAL_AXIS]),
    np.array([0.0, 0.6, 0.0, -0.8]),
)

finite = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def haar_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` Haar-random unit quaternions, random sign (independent of the code under test)."""
    g = rng.standard_normal((n, 4))
    return g / np.linalg.norm(g, axis=-1, keepdims=True)


def quat_from_axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """``[cos(θ/2), sin(θ/2) n]`` written out here, so strategies do not use the code under test."""
    n = np.asarray(axis, dtype=np.float64)
    n = n / np.linalg.norm(n)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * n])


@st.composite
def unit_axes(draw: st.DrawFn) -> np.ndarray:
    """A unit 3-vector: a coordinate axis, the general axis, or one Hypothesis builds."""
    if draw(st.booleans()):
        return draw(st.sampled_from(_AXES))
    v = draw(hnp.arrays(np.float64, 3, elements=finite))
    norm = float(np.linalg.norm(v))
    if norm < 1e-3:
        return GENERAL_AXIS
    return v / norm


def angles() -> st.SearchStrategy[float]:
    """A rotation angle in [0, π], with the special angles above drawn often."""
    return st.one_of(st.sampled_from(SPECIAL_ANGLES), st.floats(0.0, PI))


@st.composite
def one_quat(draw: st.DrawFn) -> np.ndarray:
    """One unit quaternion, from one of three sources, either sign."""
    kind = draw(st.sampled_from(["axis-angle", "exact", "components"]))
    if kind == "axis-angle":
        q = quat_from_axis_angle(draw(unit_axes()), draw(angles()))
    elif kind == "exact":
        q = draw(st.sampled_from(EXACT_QUATS))
    else:  # raw components: exact zeros, ±1, tiny entries
        v = draw(hnp.arrays(np.float64, 4, elements=finite))
        norm = float(np.linalg.norm(v))
        q = v / norm if norm > 1e-3 else EXACT_QUATS[2]
    return -q if draw(st.booleans()) else q


@st.composite
def quat_batches(draw: st.DrawFn, min_size: int = 1, max_drawn: int = 6, max_random: int = 32):
    """Unit quaternions (n, 4): a few Hypothesis-built edge cases, then Haar-random ones."""
    drawn = draw(st.lists(one_quat(), min_size=min_size, max_size=max_drawn))
    k = draw(st.integers(0, max_random))
    rand = haar_quats(np.random.default_rng(draw(seeds())), k)
    out = np.concatenate([np.reshape(drawn, (-1, 4)), rand]) if drawn else rand
    if out.shape[0] == 0:
        out = EXACT_QUATS[0][None]
    return out


@st.composite
def paired_quat_batches(draw: st.DrawFn, **kw):
    """Two unit-quaternion batches of the same length (n, 4), both with drawn edge cases."""
    a = draw(quat_batches(**kw))
    n = a.shape[0]
    m = draw(st.integers(0, min(n, 6)))
    b = haar_quats(np.random.default_rng(draw(seeds())), n)
    if m:
        b[:m] = draw(st.lists(one_quat(), min_size=m, max_size=m))
    return a, b


@st.composite
def relative_pairs(draw: st.DrawFn, max_random: int = 16):
    """Pairs (q1, q2) with q2 = q1 ⊗ r where r is any of ``quat_batches``: the relative rotation
    carries the edge cases (θ = 0, tiny, π …) while q1 is arbitrary. Returns (q1, q2, r)."""
    r = draw(quat_batches(max_random=max_random))
    rng = np.random.default_rng(draw(seeds()))
    q1 = haar_quats(rng, r.shape[0])
    if draw(st.booleans()):
        q1[0] = EXACT_QUATS[0]
    q2 = hamilton(q1, r)
    return q1, q2, r


def hamilton(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``(p₀q₀ − p⃗·q⃗, p₀q⃗ + q₀p⃗ + p⃗ × q⃗)``, written independently of the
    code under test (``np.cross``), for building inputs and as a second oracle."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    pw, pv = p[..., :1], p[..., 1:]
    qw, qv = q[..., :1], q[..., 1:]
    w = pw * qw - np.sum(pv * qv, axis=-1, keepdims=True)
    v = pw * qv + qw * pv + np.cross(pv, qv)
    return np.concatenate([w, v], axis=-1)


def quat_batch_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch shapes, including () and shapes with a 1."""
    return hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def rot(q: np.ndarray) -> Rotation:
    """scipy ``Rotation`` of scalar-first quaternions."""
    return Rotation.from_quat(np.asarray(q, dtype=np.float64).reshape(-1, 4), scalar_first=True)


def matrices(q: np.ndarray) -> np.ndarray:
    """Rotation matrices of scalar-first quaternions (..., 4) → (..., 3, 3), by scipy."""
    q = np.asarray(q, dtype=np.float64)
    return rot(q).as_matrix().reshape((*q.shape[:-1], 3, 3))


def same_rotation_quats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """max |a ∓ b| over the better sign, per quaternion (...)."""
    return np.minimum(np.abs(a - b).max(axis=-1), np.abs(a + b).max(axis=-1))


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angle difference wrapped to [−π, π]."""
    return np.angle(np.exp(1j * np.asarray(a)))


@st.composite
def rotation_sets(
    draw: st.DrawFn,
    max_n: int = 12,
    max_spread: float = 1.2,
    weighted: bool = True,
    allow_zero_weights: bool = True,
):
    """A set of N rotations around a random centre, spread by a drawn angle, and weights.

    Returns (Rs (N, 3, 3), qs (N, 4) with random signs, weights (N,) or None). The spread keeps
    the data inside a ball of radius < π/2 around the centre, where the L2 means are unique
    (Hartley et al. 2013, §5.3, Theorem 7) — but the draws include sets of one rotation, several
    copies of one rotation, and two rotations.
    """
    rng = np.random.default_rng(draw(seeds()))
    n = draw(st.integers(1, max_n))
    spread = draw(st.sampled_from([0.0, 1e-9, 1e-3, 0.1, 0.5, max_spread]))
    centre = haar_quats(rng, 1)[0]
    tangent = rng.standard_normal((n, 3))
    tangent *= spread / max(1.0, float(np.linalg.norm(tangent, axis=-1).max()))
    qs = hamilton(centre, Rotation.from_rotvec(tangent).as_quat(scalar_first=True))
    qs *= np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    Rs = matrices(qs)
    weights = None
    if weighted and draw(st.booleans()):
        w = rng.random(n) + 0.05
        if allow_zero_weights and n > 1 and draw(st.booleans()):
            w[rng.random(n) < 0.3] = 0.0
            if not np.any(w > 0):
                w[0] = 1.0
        weights = w
    return Rs, qs, weights
