"""The hidden checks of problem set 5 are sound, without a sandbox.

* The reference implementation (``reference_impl``), answering through the wire format in this
  process under the notebook's function names, passes every check of every part it has a
  function for, on several seeds.
* The checks that *measure* a construction (Parts F–H) accept the other correct constructions a
  learner may write — θ stepped by exactly δ, floor or ceiling ring counts, staggered rings,
  the active matrix instead of SPIDER's, either sign of each quaternion, Hopf grids, Gaussian
  random quaternions — and reject the wrong ones: grids uniform in the Euler angles, one
  hemisphere, no in-plane angles, random points for a grid, normalised cube points, uniform
  Euler angles for random rotations.
* Part B's eq. 8 accepts every form equal to eq. 8 on the unit sphere S³ and rejects, by name, a
  form that divides by e₁² + e₂² + e₃² (0/0 at the identity).
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import sympy
from grading_support import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.checks import Case, Part, check_in_namespace, load_parts, part_seed
from reference_impl import euler as E
from reference_impl import haar as H
from reference_impl import quaternion as Q
from reference_impl import sampling as S
from reference_impl import transforms as T

PS = "ps05_transforms_sampling"
FOLDER = REPO / "assignments" / "problem_sets" / PS

REFERENCE = {
    "dyadic": T.dyadic,
    "rodrigues": T.axis_angle_to_matrix,
    "rigid_transform": T.rigid_transform,
    "apply_transform": T.apply_transform,
    "compose_rt": T.compose_rt,
    "invert_transform": T.invert_transform,
    "pre_post_transform": T.pre_post_transform,
    "euler_matrix": E.euler_to_matrix,
    "matrix_to_euler": E.matrix_to_euler,
    "convert_euler": T.convert_euler,
    "spin_line_element": H.spin_line_element,
    "dn_squared": H.sphere_line_element_sq,
    "haar_angle_density": H.haar_angle_density,
    "ball_fraction": H.ball_volume_fraction,
    "euler_density": H.euler_haar_density,
    "angular_step": S.angular_step_for_radius,
    "projection_directions": S.projection_directions,
    "orientation_grid": S.orientation_grid_quat,
    "shoemake_quat": S.shoemake_quat,
    "deterministic_quat": S.super_fibonacci_quat,
    "sphere_points": S.fibonacci_sphere,
}


def hidden_checks():
    name = "_ps05_hidden_checks_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FOLDER / "hidden_checks.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.parametrize("seed", range(3))
def test_the_reference_passes_every_check(seed: int) -> None:
    checked = 0
    for part in load_parts(FOLDER, PS):
        rng = np.random.default_rng(part_seed("soundness", str(seed), part.grade_id))
        _, part_result = check_in_namespace(part, REFERENCE, rng)
        for check, result in zip(part.checks, part_result.checks, strict=True):
            if getattr(check, "function", None) not in REFERENCE:
                continue
            assert result.passed == result.total, (part.grade_id, result.title, result.lines)
            checked += 1
    assert checked == len(REFERENCE)


# -- other correct constructions, and wrong ones -------------------------------------------------


def directions(
    step: float, counts=np.round, exact_theta=False, stagger=False, sin_theta=True, top=np.pi
):
    """Projection directions (φ, θ) built the ways a learner may build them."""
    if exact_theta:
        thetas = np.arange(0.0, top + 1e-12, step)
    else:
        k = max(1, round(top / step))
        thetas = top * np.arange(k + 1) / k
    rows = []
    for i, th in enumerate(thetas):
        n = max(1, int(counts(2 * np.pi * (np.sin(th) if sin_theta else 1.0) / step)))
        phi = 2 * np.pi * (np.arange(n) + (0.5 if stagger and i % 2 else 0.0)) / n
        rows.append(np.stack([phi, np.full(n, th)], axis=-1))
    return np.concatenate(rows)


def grid(d: np.ndarray, step: float, counts=np.round, active=False, psi=True, flip=None):
    n = max(1, int(counts(2 * np.pi / step))) if psi else 1
    angles = np.stack(
        [
            np.repeat(d[:, 0], n),
            np.repeat(d[:, 1], n),
            np.tile(2 * np.pi * np.arange(n) / n, len(d)),
        ],
        axis=-1,
    )
    R = E.euler_to_matrix(angles, "spider")
    q = Q.matrix_to_quat(np.swapaxes(R, -1, -2) if active else R)
    if flip is not None:
        q = q * np.where(flip.random(len(q)) < 0.5, -1.0, 1.0)[:, None]
    return q


def hopf_grid(n: int) -> np.ndarray:
    """m Fibonacci directions × k in-plane angles, k ≈ √(πm), mk ≥ n, in Hopf coordinates."""
    m = int(np.ceil((n * n / np.pi) ** (1 / 3)))
    while m * max(1, round(np.sqrt(np.pi * m))) < n:
        m += 1
    k = max(1, round(np.sqrt(np.pi * m)))
    u = S.fibonacci_sphere(m)
    th, ph = (
        np.repeat(np.arccos(np.clip(u[:, 2], -1, 1)), k),
        np.repeat(np.arctan2(u[:, 1], u[:, 0]), k),
    )
    psi = np.tile(2 * np.pi * np.arange(k) / k, m)
    return np.stack(
        [
            np.cos(th / 2) * np.cos(psi / 2),
            np.cos(th / 2) * np.sin(psi / 2),
            np.sin(th / 2) * np.cos(ph + psi / 2),
            np.sin(th / 2) * np.sin(ph + psi / 2),
        ],
        axis=-1,
    )


def gaussian_quats(n: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed).normal(size=(n, 4))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


CORRECT_DIRECTIONS = {
    "rounded rings": {},
    "θ exactly δ apart": {"exact_theta": True},
    "floor counts": {"counts": np.floor},
    "ceiling counts": {"counts": np.ceil},
    "staggered rings": {"stagger": True},
    "exact θ, floor, staggered": {"exact_theta": True, "counts": np.floor, "stagger": True},
}


@settings(max_examples=12, deadline=None)
@given(
    deg=st.floats(15.0, 30.0),
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(sorted(CORRECT_DIRECTIONS)),
)
def test_other_correct_grids_pass(deg: float, seed: int, kind: str) -> None:
    hc = hidden_checks()
    step = np.deg2rad(deg)
    rng = np.random.default_rng(seed)
    d = directions(step, **CORRECT_DIRECTIONS[kind])
    case = Case((step,), key=seed, tags=("grid",))
    assert hc.measured_directions()(d, None, case) is None
    if deg >= 20.0:
        for counts in (np.round, np.floor, np.ceil):
            q = grid(d, step, counts=counts, active=bool(rng.integers(2)), flip=rng)
            assert hc.measured_grid()(q, None, case) is None, (kind, counts.__name__)


@pytest.mark.parametrize("deg", [15.0, 21.0, 29.0])
def test_wrong_grids_fail_and_are_named(deg: float) -> None:
    hc = hidden_checks()
    step = np.deg2rad(deg)
    case = Case((step,), key=7, tags=("grid",))
    no_sin = directions(step, sin_theta=False)
    hemisphere = directions(step, top=np.pi / 2)
    assert hc.measured_directions()(no_sin, None, case) is not None
    assert hc.measured_directions()(hemisphere, None, case) is not None
    assert hc._hemisphere_dirs(hemisphere, case)
    assert hc._swapped_columns(directions(step)[:, ::-1], case)
    wrong_grids = {
        "uniform in the Euler angles": grid(no_sin, step),
        "one hemisphere only": grid(hemisphere, step),
        "no in-plane angles": grid(directions(step), step, psi=False),
    }
    for name, q in wrong_grids.items():
        assert hc.measured_grid()(q, None, case) is not None, name
    assert hc._count_ratio_grid(wrong_grids["uniform in the Euler angles"], case) > 1.4
    assert hc._hemisphere_grid(wrong_grids["one hemisphere only"], case)
    assert hc._count_ratio_grid(wrong_grids["no in-plane angles"], case) < 0.3


@settings(max_examples=8, deadline=None)
@given(n=st.integers(300, 700), seed=st.integers(0, 2**31 - 1))
def test_deterministic_grids_pass_and_random_sets_fail(n: int, seed: int) -> None:
    hc = hidden_checks()
    case = Case((n,), key=seed, tags=("grid",))
    for q in (S.super_fibonacci_quat(n), hopf_grid(n)):
        assert hc.measured_deterministic()(q, None, case) is None
    random = gaussian_quats(n, seed)
    assert hc.measured_deterministic()(random, None, case) is not None
    assert hc._close_fraction(random) > 0.5
    assert hc.measured_sphere()(S.fibonacci_sphere(n), None, case) is None
    v = np.random.default_rng(seed).normal(size=(n, 3))
    assert (
        hc.measured_sphere()(v / np.linalg.norm(v, axis=1, keepdims=True), None, case) is not None
    )


@pytest.mark.parametrize("seed", range(4))
def test_random_samplers_pass_and_biased_ones_fail(seed: int) -> None:
    hc = hidden_checks()
    n = hc.N_RANDOM
    case = Case((n, seed))
    for q in (S.shoemake_quat(n, seed), gaussian_quats(n, seed)):
        assert hc.measured_random()(q, None, case) is None
    rng = np.random.default_rng(seed)
    cube = rng.uniform(-1, 1, (n, 4))
    cube /= np.linalg.norm(cube, axis=1, keepdims=True)
    euler = Q.matrix_to_quat(
        E.euler_to_matrix(
            np.stack(
                [
                    rng.uniform(0, 2 * np.pi, n),
                    rng.uniform(0, np.pi, n),
                    rng.uniform(0, 2 * np.pi, n),
                ],
                -1,
            ),
            "spider",
        )
    )
    v = rng.normal(size=(n, 3))
    ball = Q.rotvec_to_quat(
        v / np.linalg.norm(v, axis=1, keepdims=True) * np.pi * rng.random((n, 1)) ** (1 / 3)
    )
    for name, q in {"cube": cube, "Euler": euler, "rotation-vector ball": ball}.items():
        assert hc.measured_random()(q, None, case) is not None, name
    assert hc._looks_like_cube(cube, case) and not hc._looks_like_cube(
        S.shoemake_quat(n, seed), case
    )
    assert hc._uniform_theta(euler, case) and not hc._uniform_theta(S.shoemake_quat(n, seed), case)
    assert hc.measured_random()(S.super_fibonacci_quat(n), None, case) is not None  # not random


def _eq8_result(answer):
    """Part B's eq. 8 check on one answer (a SymPy matrix), through the wire format."""
    part = next(p for p in load_parts(FOLDER, PS) if p.grade_id == "test_eq8")
    check = next(c for c in part.checks if getattr(c, "function", None) == "eq8_from_eq7")
    one = Part(part.grade_id, part.title, [check])
    _, result = check_in_namespace(one, {"eq8_from_eq7": lambda: answer}, np.random.default_rng(0))
    return result.checks[0]


def test_eq8_accepts_any_form_on_s3_and_rejects_one_undefined_at_the_identity() -> None:
    """The notebook's rule for eq. 8: equal to it at every unit quaternion, the identity
    included. Forms that used e₀² + e·e = 1 pass; the c² − s² route, whose entries keep a
    1/(e₁² + e₂² + e₃²) (equal to eq. 8 elsewhere on S³, 0/0 at the identity), fails and is
    named."""
    e0, e1, e2, e3 = sympy.symbols("e0 e1 e2 e3", real=True)
    e = sympy.Matrix([e1, e2, e3])
    K = sympy.Matrix([[0, -e3, e2], [e3, 0, -e1], [-e2, e1, 0]])
    dot = (e.T * e)[0]
    eq8 = (e0**2 - dot) * sympy.eye(3) + 2 * e * e.T + 2 * e0 * K
    one_minus = (1 - 2 * dot) * sympy.eye(3) + 2 * e * e.T + 2 * e0 * K
    for answer in (eq8, one_minus):
        result = _eq8_result(answer)
        assert result.passed == result.total, result.lines
    # (1 − cos θ) nᵢnⱼ with cos θ = c² − s², nᵢ = eᵢ/s: (1 − e₀² + e·e) eᵢeⱼ / e·e
    divided = (
        (e0**2 - dot) * sympy.eye(3) + (1 - e0**2 + dot) * e * e.T / dot + 2 * e0 * K
    ).applyfunc(sympy.expand)
    result = _eq8_result(divided)
    assert result.passed == 0, result.lines
    assert result.diagnosis is not None
    assert result.diagnosis.name == "division by e·e (undefined at the identity)"
