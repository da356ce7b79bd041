"""The hidden checks of problem sets 2 and 3 are sound, on many seeds, without a sandbox.

* The reference implementation, answering through the same wire format as a learner's kernel
  (``harness_kernel.run_requests`` in this process), passes every check of every part whose
  function it has — so the checks' tolerances and properties hold for a correct answer on any
  learner's inputs, not just on the seeds of the mutation banks.
* The quaternion means the checks expect are the global maximisers of Σ wᵢ|q·qᵢ| (found by
  trying every sign pattern): the hidden inputs have one right answer.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest
from grading_support import REPO

from autograder.checks import Case, check_in_namespace, load_parts, part_seed
from reference_impl import averaging, so3

SEEDS = range(6)
REFERENCE = {
    "ps02_so3_metrics": {name: getattr(so3, name) for name in so3.__all__},
    "ps03_rotation_averaging": {name: getattr(averaging, name) for name in averaging.__all__},
}


def parts(ps: str) -> list:
    return load_parts(REPO / "assignments" / "problem_sets" / ps, ps)


@pytest.mark.parametrize("ps", sorted(REFERENCE))
@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_passes_every_check(ps: str, seed: int) -> None:
    namespace = REFERENCE[ps]
    checked = 0
    for part in parts(ps):
        rng = np.random.default_rng(part_seed("soundness", str(seed), part.grade_id))
        plan, result = check_in_namespace(part, namespace, rng)
        for i, check in enumerate(result.checks):
            if not plan.asks(i) <= set(namespace):
                continue  # a check of a name the reference does not have (a question)
            assert check.passed == check.total, (part.grade_id, check.title, check.lines)
            checked += 1
    assert checked >= 6


def _brute_force_quaternion_mean(qs: np.ndarray, w: np.ndarray) -> np.ndarray:
    best, best_q = -1.0, qs[0]
    for signs in itertools.product((1.0, -1.0), repeat=len(qs) - 1):
        total = np.einsum("n,n,ni->i", w, np.array((1.0, *signs)), qs)
        if np.linalg.norm(total) > best:
            best, best_q = float(np.linalg.norm(total)), total / np.linalg.norm(total)
    return best_q


@pytest.mark.parametrize("seed", SEEDS)
def test_quaternion_mean_inputs_have_one_answer(seed: int) -> None:
    (part,) = [p for p in parts("ps03_rotation_averaging") if p.grade_id == "test_quaternion_mean"]
    rng = np.random.default_rng(part_seed("one-answer", str(seed)))
    cases: list[Case] = list(part.checks[0].cases(rng))
    for case in cases:
        qs = np.asarray(case.args[0], dtype=np.float64)
        if qs.ndim != 2:
            continue  # batches: their problems are drawn like the single ones
        w = np.asarray(case.kwargs.get("weights", np.ones(len(qs))), dtype=np.float64)
        best = _brute_force_quaternion_mean(qs, w)
        got = averaging.quaternion_mean(qs, w)
        assert so3.quat_geodesic_distance(best, got) < 1e-9, case.label


def test_the_stubs_have_the_reference_names_and_signatures() -> None:
    for ps, functions in REFERENCE.items():
        notebook = (REPO / "assignments" / "problem_sets" / ps / f"{ps}.py").read_text()
        for name, fn in functions.items():
            params = [
                p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
                for p in inspect.signature(fn).parameters.values()
            ]
            assert f"def {name}({', '.join(params)}):" in notebook, (ps, name, params)
