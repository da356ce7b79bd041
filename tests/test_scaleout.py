"""``course grade --scheduler``: submissions fanned out to a Dask LocalCluster on loopback, each
worker grading in its own sandbox slot, every grade landing once in the one gradebook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading_support import FAST_LIMITS, learner_notebook, make_course, submit

from autograder.grading import grade_assignment
from autograder.grading.scaleout import SLOT_BASE

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

PS = "ps01_quaternions"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=3,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    ) as lc:
        yield lc.scheduler_address


def test_grade_on_a_local_cluster(cluster: str, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    root = make_course(tmp_path, PS)
    learners = {f"l{i}": i % 3 != 0 for i in range(9)}
    for name, solved in learners.items():
        submit(root, PS, name, learner_notebook(root, PS, solved=solved))
    outcomes = grade_assignment(root, PS, scheduler=cluster, run_id="dask", overrides=FAST_LIMITS)
    assert sorted(o.learner for o in outcomes) == sorted(learners)  # none lost, none twice
    for o in outcomes:
        assert o.status == "graded" and o.score == (36.0 if learners[o.learner] else 0.0), o
    slots = set()
    for name in learners:
        nb = json.loads((root / "autograded" / name / PS / f"{PS}.ipynb").read_text())
        slots.add(nb["metadata"]["cryoem_course"]["sandbox"]["slot"])
    assert (
        slots <= {SLOT_BASE, SLOT_BASE + 1, SLOT_BASE + 2} and len(slots) >= 2
    )  # several workers graded
    with Gradebook(db_url(root)) as gb:
        subs = gb.assignment_submissions(PS)
        assert sorted(s.student.id for s in subs) == sorted(learners)
        assert {s.student.id: s.score for s in subs} == {
            n: (36.0 if ok else 0.0) for n, ok in learners.items()
        }

    # rerun through the CLI: everything is already graded, nothing is graded again
    (tmp_path / "_toc.yml").write_text("")
    course = str(Path(sys.executable).with_name("course"))
    rerun = subprocess.run(
        [course, "grade", PS, "--scheduler", cluster],
        env={**os.environ, "COURSE_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(learners)} skipped" in rerun.stdout
