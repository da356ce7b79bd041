"""The hidden checks of problem set 4 are sound, without a sandbox.

* The variants the mistakes are computed from are the reference when no error is applied, so a
  diagnosis compares a learner's answer with the reference *plus exactly one error*.
* Every known mistake of a ``FunctionCheck`` shows on the hidden inputs (each of its forms fails
  the check on some case: odd N for the shifts, D and N of different parities for the offset…),
  and a learner who makes exactly that mistake is diagnosed with it, not with another one.
* The stubs keep the reference's names and signatures.
* The solution's answers to a part fit in what the grader reads back from a kernel.
"""

from __future__ import annotations

import inspect
import json
import warnings

import numpy as np
import pytest
import torch
from grading_support import REPO

from autograder.checks import (
    FLOAT32,
    FunctionCheck,
    answer_in_namespace,
    answer_of,
    load_parts,
    part_seed,
    plan_part,
)
from autograder.harness import in_kernel as harness_kernel
from autograder.sandbox import SandboxedKernel
from reference_impl import projection as P

PS = "ps04_projection_layer"
SEEDS = range(3)


@pytest.fixture(scope="module")
def parts() -> list:
    return load_parts(REPO / "assignments" / "problem_sets" / PS, PS)


@pytest.fixture(scope="module")
def hc(parts: list):  # the hidden_checks module load_parts loaded
    import sys

    path = REPO / "assignments" / "problem_sets" / PS / "hidden_checks.py"
    (module,) = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(path)]
    return module


def function_checks(parts: list) -> list[tuple[str, FunctionCheck]]:
    return [
        (part.grade_id, wrapped.check)
        for part in parts
        for wrapped in part.checks
        if isinstance(wrapped.check, FunctionCheck)
    ]


def test_the_variants_without_an_error_are_the_reference(hc) -> None:
    gen = torch.Generator().manual_seed(0)
    for D, pad in ((7, 1.0), (8, 1.5), (9, 2.0), (6, 2.5)):
        V = torch.randn(D, D, D, dtype=torch.float64, generator=gen)
        R = torch.tensor(hc.rotations(np.random.default_rng(D), 2).numpy())
        for sinc2 in (False, True):
            assert torch.allclose(
                hc.fourier_volume_variant(V, pad, sinc2), P.fourier_volume(V, pad, sinc2=sinc2)
            )
            ref = P.project_fourier(V, R, pad, kernel="trilinear", image_pad=pad, sinc2=sinc2)
            assert torch.allclose(hc.project_variant(V, R, pad, sinc2), ref, atol=1e-12)
            assert torch.allclose(hc.classic(V, R, pad, sinc2=sinc2), ref)
        ft = P.fourier_volume(V, pad)
        N = ft.shape[0]
        assert torch.allclose(hc.sample_variant(ft, R), P.extract_central_slices(ft, R))
        S = torch.randn(2, N, N // 2 + 1, dtype=torch.complex128, generator=gen)
        assert torch.allclose(hc.insert_variant(S, R, N, "conj"), P.insert_central_slices(S, R, N))


def _cases(check: FunctionCheck, grade_id: str, seed: int) -> list:
    return list(check.cases(np.random.default_rng(part_seed("ps04-mistakes", grade_id, str(seed)))))


NOT_A_VALUE = {"last block not computed"}  # judged by its own compare, not by a value


def test_every_form_of_every_mistake_shows(parts: list) -> None:
    for grade_id, check in function_checks(parts):
        for mistake in check.mistakes:
            if mistake.name in NOT_A_VALUE:
                continue
            shown: dict[int, bool] = {}
            for seed in SEEDS:
                for case in _cases(check, grade_id, seed):
                    assert check.expected is not None
                    expected = check.expected(*case.args, **case.kwargs)
                    answer = mistake.answer(*case.args, **case.kwargs)
                    forms = answer if isinstance(answer, list) else [answer]
                    for i, form in enumerate(forms):
                        lost = check.compare(np.asarray(form), expected, case) is not None
                        shown[i] = shown.get(i, False) or lost
            assert shown and all(shown.values()), (grade_id, mistake.name, shown)


def _wire(value: np.ndarray, case) -> dict:
    """The answer of a kernel that returns ``value`` (in the case's precision)."""
    if FLOAT32 in case.tags:
        value = value.astype(np.complex64 if np.iscomplexobj(value) else np.float32)
    return answer_of(np.asarray(value))


def test_a_learner_who_makes_one_mistake_is_diagnosed_with_it(parts: list) -> None:
    for grade_id, check in function_checks(parts):
        for mistake in check.mistakes:
            if mistake.name in NOT_A_VALUE:
                continue
            for seed in SEEDS:
                rng = np.random.default_rng(part_seed("ps04-diagnosis", grade_id, str(seed)))
                plan = check.plan(rng)
                answers = []
                for case in plan.cases:
                    assert check.expected is not None
                    answer = mistake.answer(*case.args, **case.kwargs)
                    if isinstance(answer, list):  # its first form, where it can show
                        answer = answer[0] if answer else check.expected(*case.args, **case.kwargs)
                    answers.append(_wire(np.asarray(answer), case))
                result = plan.evaluate(answers)
                assert result.passed < result.total, (grade_id, mistake.name)
                assert result.diagnosis is not None, (grade_id, mistake.name, result.lines)
                assert result.diagnosis.name == mistake.name, (grade_id, mistake.name)


@pytest.fixture(scope="module")
def solution() -> dict:
    from test_solutions_pass_on_every_seed import solution_namespace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return solution_namespace(PS)


def _plain(fn: object) -> inspect.Signature:
    """The signature without annotations (the notebook has none)."""
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return sig.replace(
        parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
        return_annotation=sig.empty,
    )


def test_the_stubs_have_the_reference_names_and_signatures(solution: dict) -> None:
    for name in (
        "project_real_space",
        "fourier_volume",
        "extract_central_slices",
        "insert_central_slices",
    ):
        assert _plain(solution[name]) == _plain(getattr(P, name)), name
    for method in ("__init__", "forward"):
        mine = _plain(getattr(solution["Projector"], method))
        assert mine == _plain(getattr(P.Projector, method)), method
    # the classic scheme of the reference's project_fourier: cutoff=None, image_pad=pad
    assert str(inspect.signature(solution["project_fourier"])) == (
        "(volume, rotations, pad=2.0, *, sinc2=True)"
    )
    assert isinstance(solution["ExtractCentralSlices"], type)
    assert issubclass(solution["ExtractCentralSlices"], torch.autograd.Function)


def test_the_answers_fit_in_what_the_grader_reads_back(parts: list, solution: dict) -> None:
    cap = inspect.signature(SandboxedKernel.__init__).parameters["max_output_bytes"].default
    for part in parts:
        for seed in SEEDS:
            rng = np.random.default_rng(part_seed("ps04-size", part.grade_id, str(seed)))
            plan = plan_part(part, 1.0, rng)
            answers = answer_in_namespace(plan.requests, solution)
            out = {"nonce": "n", "answers": answers}
            size = len(json.dumps({"data": {harness_kernel.MIME: out}}))
            assert size < 0.75 * cap, (part.grade_id, size, cap)
