"""Problem set 6's hidden checks accept every correct answer the notebook's text allows, without a
sandbox.

* ``U_IDENTITY`` (Part F): the identity is not one point of the cube but the segments
  ``u₁ = 1``, ``u₃ ∈ {0, ½, 1}``, ``u₂`` free (``u₃ = ½`` gives ``q = −1``, the same rotation);
  the check accepts all of them and refuses points near them, outside the cube, or of the wrong
  shape.
* ``superposition_rmsd`` (Part C): the text allows the eigenvalue form
  ``√(max(0, G − 2λ_max)/Σw)``, whose cancellation leaves up to ≈ 3√(ε G/Σw) for an exact fit
  (≈ 1e-7 × the coordinates' spread); the check's tolerance is fair to it at protein-sized and
  far larger coordinates, and still refuses a wrong or unclipped answer.
* The mistakes the text now warns about are refused and named: the reflection fixed on the
  largest singular direction (Part A, mirror images only), the scales used as variances and ν
  in the prior of M (Part G, at ν ≠ 1 only).
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from grading_support import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import haar_quats, matrices

from autograder.checks import Case

PS = "ps06_superposition"
FOLDER = REPO / "assignments" / "problem_sets" / PS


def hidden_checks():
    name = "_ps06_hidden_checks_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FOLDER / "hidden_checks.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# -- Part F: every identity point of the cube ----------------------------------------------------


@given(u2=st.floats(0, 1), u3=st.sampled_from([0.0, 0.5, 1.0]), as_list=st.booleans())
def test_every_identity_point_of_the_cube_is_accepted(u2: float, u3: float, as_list: bool) -> None:
    hc = hidden_checks()
    u = [1.0, u2, u3] if as_list else np.array([1.0, u2, u3])
    assert hc.identity_u(u, hc.IDENTITY_PROPERTY, None) is None


@pytest.mark.parametrize(
    "u",
    [
        [0.9, 0.1, 0.9],  # the paper's initialisation: 80°
        [1 - 1e-6, 0.3, 0.0],  # u₁ just inside the cube: 2e-3 rad
        [1.0, 0.3, 0.25],  # a quarter turn of u₃: a half turn about z
        [1.0, 0.3, 1e-6],
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 1.5],  # the identity's formula, outside the cube
        [1.0, 0.0],
    ],
)
def test_points_that_are_not_the_identity_are_refused(u: list[float]) -> None:
    hc = hidden_checks()
    assert hc.identity_u(np.array(u), hc.IDENTITY_PROPERTY, None) is not None


# -- Part C: the RMSD's tolerance and the eigenvalue form ----------------------------------------


def eigenvalue_rmsd(P: np.ndarray, Q: np.ndarray, w: np.ndarray | None = None) -> float:
    """A learner's RMSD by the eigenvalue form the notebook teaches (Horn's K written out)."""
    w = np.ones(len(P)) if w is None else w
    Pc = P - w @ P / w.sum()
    Qc = Q - w @ Q / w.sum()
    (xx, xy, xz), (yx, yy, yz), (zx, zy, zz) = (w[:, None] * Pc).T @ Qc
    K = np.array(
        [
            [xx + yy + zz, yz - zy, zx - xz, xy - yx],
            [yz - zy, xx - yy - zz, xy + yx, zx + xz],
            [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
            [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
        ]
    )
    g = w @ (np.sum(Pc**2, axis=1) + np.sum(Qc**2, axis=1))
    return float(np.sqrt(max(g - 2 * np.linalg.eigvalsh(K)[-1], 0.0) / w.sum()))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(5, 400),
    spread=st.sampled_from([5.0, 20.0, 50.0, 200.0]),
    weighted=st.booleans(),
)
def test_an_eigenvalue_rmsd_of_an_exact_fit_is_accepted(
    seed: int, n: int, spread: float, weighted: bool
) -> None:
    hc = hidden_checks()
    rng = np.random.default_rng(seed)
    P = spread * rng.normal(size=(n, 3)) + 3 * spread * rng.normal(size=3)
    R = matrices(haar_quats(rng, 1))[0]
    Q = P @ R.T + spread * rng.normal(size=3)
    args = (P, Q, rng.integers(0, 4, size=n) + 0.5) if weighted else (P, Q)
    case = Case(args)
    expected = hc._rmsd_ref(*args)
    assert hc._rmsd_compare(eigenvalue_rmsd(*args), expected, case) is None
    assert hc._rmsd_compare(expected, expected, case) is None
    # the tolerance stays far below a real misfit: 1e-7 × the spread, times ten at most
    assert hc.rmsd_precision(case) <= max(1e-5, 2e-6 * spread)
    assert hc._rmsd_compare(expected + 1e-3 * spread, expected, case) is not None
    assert hc._rmsd_compare(float("nan"), expected, case) is not None  # sqrt of E_min < 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_graders_cases_accept_the_eigenvalue_form(seed: int) -> None:
    """On every case the grader draws — noisy, weighted, mirrored, exact, protein-sized — the
    eigenvalue form passes, and the mistakes the feedback names do not."""
    hc = hidden_checks()
    for case in hc.rmsd_cases(np.random.default_rng(seed)):
        expected = hc._rmsd_ref(*case.args)
        assert hc._rmsd_compare(eigenvalue_rmsd(*case.args), expected, case) is None, case.label
        if expected > 1e-3 and abs(expected - 1) > 1e-2:
            assert hc._rmsd_compare(expected**2, expected, case) is not None
            assert hc._rmsd_compare(hc._rmsd_single_eigenvalue(*case.args), expected, case)


# -- the mistakes the text now warns about are refused and named ---------------------------------


def _mistake(check, name: str):
    return next(m for m in check.mistakes if m.name == name)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_reflection_fixed_on_the_wrong_axis_fails_on_mirror_images_and_is_named(
    seed: int,
) -> None:
    """diag(d, 1, 1) gives up the largest singular direction: wrong exactly when d = −1."""
    hc = hidden_checks()
    check = hc.PART_A.checks[0]
    mistake = _mistake(check, "reflection fixed on the wrong singular direction")
    for case in check.cases(np.random.default_rng(seed)):
        wrong = mistake.answer(*case.args)
        if "mirror" in case.tags:
            assert check.compare(wrong, check.expected(*case.args), case) is not None
            assert check.diagnose(wrong, wrong, case) is None
        elif not case.visible:  # a rigid pair: d = +1, nothing to fix
            assert check.compare(wrong, check.expected(*case.args), case) is None


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_scales_as_variances_and_nu_in_the_prior_are_refused(seed: int) -> None:
    """The Part G text says sᵢ is a scale (not a variance) and ν is the likelihood's only."""
    hc = hidden_checks()
    check = hc.PART_G.checks[0]
    variances = _mistake(check, "scales used as variances")
    nu_prior = _mistake(check, "ν in the prior of M")
    for case in check.cases(np.random.default_rng(seed)):
        expected = check.expected(*case.args, **case.kwargs)
        assert check.compare(variances.answer(*case.args, **case.kwargs), expected, case)
        wrong = nu_prior.answer(*case.args, **case.kwargs)
        if case.kwargs["nu"] == 1.0:
            assert check.compare(wrong, expected, case) is None  # the same prior at ν = 1
        else:
            assert check.compare(wrong, expected, case) is not None
