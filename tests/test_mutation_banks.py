"""Every problem set's bank of wrong implementations (``problem_sets/<ps>/mutants.py``).

For each problem set, the solution, the blank release and every mutant are graded in one batch,
in the sandbox, exactly as learners' submissions are. The solution must score the notebook's
full points (declared once, in its test cells), the blank release zero, and each mutant must
lose points in exactly the parts it lists (zero in those it says), keep full marks in every
other, and its feedback must name its mistakes. The banks are the safety net of the hidden
checks: a check that stops recognising a mistake, or starts leaking credit, fails here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from grading_support import (
    REPO,
    Expect,
    Outcome,
    append_to,
    grade,
    learner_notebook,
    make_course,
    solutions,
    submit,
    verify,
)

from autograder.authoring import load_mutants, notebook_parts, problem_set_dir, problem_sets

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

COURSE = REPO / "assignments"
BANKS = {ps: load_mutants(problem_set_dir(COURSE, ps)) for ps in problem_sets(COURSE)}
CASES = [(ps, m.name) for ps, bank in BANKS.items() for m in bank]


def _total(ps: str) -> float:
    return sum(part.points for part in notebook_parts(COURSE, ps))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Outcome]]:
    """``graded(ps)``: the outcomes of ``ps``'s solution, blank release and every mutant, graded
    in one batch the first time they are asked for (once per problem set, whatever order the
    tests run in)."""
    done: dict[str, dict[str, Outcome]] = {}

    def outcomes(ps: str) -> dict[str, Outcome]:
        if ps not in done:
            root = make_course(tmp_path_factory.mktemp(f"{ps}-mutants"), ps)
            sols = solutions(root, ps)
            submit(root, ps, "solution", learner_notebook(root, ps, solved=True))
            submit(root, ps, "blank", learner_notebook(root, ps, solved=False))
            for m in BANKS[ps]:
                nb = append_to(learner_notebook(root, ps), m.cell, m.appended_code(sols))
                submit(root, ps, m.name, nb)
            done[ps] = grade(root, ps, workers=2)
        return done[ps]

    return outcomes


@pytest.mark.parametrize("ps", sorted(BANKS))
def test_each_bank_covers_every_part(ps: str) -> None:
    bank = BANKS[ps]
    assert len(bank) >= 12, f"{ps}: a bank needs at least 12 wrong implementations"
    parts = {g for part in notebook_parts(COURSE, ps) for g in part.grade_ids}
    assert {g for m in bank for g in m.loses} == parts, f"{ps}: some part has no mutant"
    module = __import__(f"_course_mutants_{ps}")
    named = {name for m in bank for name in m.diagnoses.values()}
    assert set(getattr(module, "KNOWN_MISTAKES", set())) <= named


@pytest.mark.parametrize("ps", sorted(BANKS))
def test_solution_scores_the_notebooks_points_and_blank_zero(graded, ps: str) -> None:
    outcomes = graded(ps)
    assert verify(outcomes["solution"], Expect(total=_total(ps))) == []
    assert verify(outcomes["blank"], Expect(total=0.0, others="zero")) == []


@pytest.mark.parametrize(("ps", "name"), CASES, ids=[f"{ps}:{name}" for ps, name in CASES])
def test_mutant_loses_exactly_its_parts(graded, ps: str, name: str) -> None:
    mutant = next(m for m in BANKS[ps] if m.name == name)
    outcome = graded(ps)[name]
    expect = Expect(
        zero=set(mutant.zero),
        reduced=set(mutant.loses - mutant.zero),
        diagnosis=dict(mutant.diagnoses),
    )
    problems = verify(outcome, expect)
    assert problems == [], f"{name}: {problems}"
    assert outcome.score is not None and outcome.score < _total(ps)
