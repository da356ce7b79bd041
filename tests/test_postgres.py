"""The gradebook on a real PostgreSQL server: grading, the CLI and the exports work exactly as
with SQLite (nbgrader's ``Gradebook`` with a ``postgresql+psycopg2://`` URL)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading_support import (
    REPO,
    Expect,
    append_to,
    grade,
    learner_notebook,
    make_course,
    submit,
    verify,
)
from services import postgres_server

from autograder.authoring import load_mutants, problem_set_dir

pytestmark = [pytest.mark.postgres, pytest.mark.sandbox, pytest.mark.slow]

MUTANTS = {
    m.name: m for m in load_mutants(problem_set_dir(REPO / "assignments", "ps01_quaternions"))
}
PS = "ps01_quaternions"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as url:
        # nbgrader runs `alembic` as a subprocess to create the schema: it must be on PATH
        os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        yield url


def test_grading_against_postgres(pg_url: str, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    # the instructor names the gradebook in nbgrader's own configuration file
    root = make_course(tmp_path, PS, config=f"c.CourseDirectory.db_url = {pg_url!r}\n")
    assert not (root / "gradebook.db").exists()  # nothing went to SQLite
    submit(root, PS, "solution", learner_notebook(root, PS, solved=True))
    submit(root, PS, "blank", learner_notebook(root, PS, solved=False))
    submit(root, PS, "broken", b"{ not json")
    picked = ["swapped_product_order", "transposed_matrix", "jacobian_missing_factor_two"]
    for name in picked:
        m = MUTANTS[name]
        submit(root, PS, name, append_to(learner_notebook(root, PS), m.cell, str(m.code)))
    outcomes = grade(root, PS, workers=2)
    assert verify(outcomes["solution"], Expect(total=36.0)) == []
    assert verify(outcomes["blank"], Expect(total=0.0, others="zero")) == []
    assert outcomes["broken"].status == "broken"
    for name in picked:
        m = MUTANTS[name]
        expect = Expect(reduced=set(m.loses), diagnosis=dict(m.diagnoses))
        assert verify(outcomes[name], expect) == [], name
    with Gradebook(pg_url) as gb:
        assert gb.db.bind.dialect.name == "postgresql"
        scores = {s.student.id: s.score for s in gb.assignment_submissions(PS)}
    assert scores["solution"] == 36.0 and scores["blank"] == 0.0 and scores["broken"] == 0.0
    assert len(scores) == 3 + len(picked)

    (tmp_path / "_toc.yml").write_text("")
    course = str(Path(sys.executable).with_name("course"))
    env = {**os.environ, "COURSE_ROOT": str(tmp_path)}
    out = subprocess.run(
        [course, "export", "--to", str(tmp_path / "g.csv")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert rows == scores
