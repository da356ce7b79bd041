"""Shared by the grading tests: a throwaway course, learner notebooks, batch grading.

Not a test module. A course is a temporary ``assignments/`` folder holding a copy of a problem
set's source, released with nbgrader (``autograder.release.validation.generate``) and its own gradebook.
Learner notebooks start from the real release, with solution cells filled in from the source
(a correct learner) or left as released (a blank one), then changed as a test needs.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from autograder.authoring import problem_set_dir  # noqa: E402
from autograder.grading import Outcome, grade_assignment  # noqa: E402
from autograder.release import generate  # noqa: E402

_REGION = re.compile(r"[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n")

#: Short limits so that hostile submissions cost seconds, not minutes.
FAST_LIMITS = {
    "cell_timeout": 4.0,
    "part_timeout": 10.0,
    "notebook_timeout": 60.0,
    "max_restarts": 3,
}


def make_course(tmp: Path, ps: str, config: str = "") -> Path:
    """A course root in ``tmp`` with ``ps`` released (no validation: tests check that);
    ``config`` is written to its ``nbgrader_config.py`` first (the instructor's settings)."""
    root = tmp / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", ps), problem_set_dir(root, ps))
    if config:
        (root / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + config)
    generate(root, ps)
    return root


def solutions(root: Path, ps: str) -> dict[str, str]:
    """grade_id → the source's solution-cell text, markers removed."""
    nb = nbformat.read(root / "source" / ps / f"{ps}.ipynb", as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: _REGION.sub("", c.source)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def learner_notebook(
    root: Path, ps: str, solved: bool = True, replace: dict[str, str] | None = None
) -> Any:
    """The release notebook with solution cells solved (or blank), then ``replace``'d."""
    nb = nbformat.read(root / "release" / ps / f"{ps}.ipynb", as_version=4)
    sols = solutions(root, ps)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution") and solved:
            cell.source = sols[gid]
        if replace and gid in replace:
            cell.source = replace[gid]
    return nb


def append_to(nb: Any, grade_id: str, code: str) -> Any:
    """Append ``code`` to the cell ``grade_id`` (e.g. a mutant redefining a function)."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = cell.source + "\n\n" + code
            return nb
    raise KeyError(grade_id)


def insert_cell(nb: Any, after_grade_id: str, code: str) -> Any:
    """Insert a new (learner's own) code cell after ``after_grade_id``."""
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == after_grade_id:
            nb.cells.insert(i + 1, nbformat.v4.new_code_cell(code))
            return nb
    raise KeyError(after_grade_id)


def submit(
    root: Path, ps: str, learner: str, content: Any, extra: dict[str, bytes] | None = None
) -> Path:
    """Write a submission: a notebook object, raw bytes, or None (no notebook at all)."""
    folder = root / "submitted" / learner / ps
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    target = folder / f"{ps}.ipynb"
    if isinstance(content, bytes):
        target.write_bytes(content)
    elif content is not None:
        nbformat.write(content, target)
    for name, data in (extra or {}).items():
        (folder / name).write_bytes(data)
    (folder / "timestamp.txt").write_text("2022-02-10 12:00:00.000000 America/Vancouver")
    return folder


def grade(root: Path, ps: str, workers: int = 2, **overrides: Any) -> dict[str, Outcome]:
    outcomes = grade_assignment(
        root, ps, workers=workers, run_id="tests", overrides={**FAST_LIMITS, **overrides}
    )
    return {o.learner: o for o in outcomes}


def graded_notebook(root: Path, ps: str, learner: str) -> Any:
    return nbformat.read(root / "autograded" / learner / ps / f"{ps}.ipynb", as_version=4)


def outputs_text(nb: Any) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells])


@dataclass
class Expect:
    """What a submission must get: a status, a total, parts at zero / below full, and what every
    other part must score (``others``: "full", "zero" or "any")."""

    status: str = "graded"
    total: float | None = None
    others: str = "full"
    zero: set[str] = field(default_factory=set)
    reduced: set[str] = field(default_factory=set)
    diagnosis: dict[str, str] = field(default_factory=dict)  # part → a mistake name
    check: Callable[[Outcome], str | None] | None = None  # extra condition, None when fine


def verify(outcome: Outcome, expect: Expect) -> list[str]:
    """Every way ``outcome`` differs from ``expect`` (empty when it matches)."""
    problems = []
    if outcome.status != expect.status:
        problems.append(
            f"status {outcome.status!r} ({outcome.verdict}), expected {expect.status!r}"
        )
        return problems
    if expect.total is not None and outcome.score != expect.total:
        problems.append(f"total {outcome.score}, expected {expect.total}")
    for gid, part in outcome.parts.items():
        score, full = part["score"], part["max_score"]
        if gid in expect.zero and score != 0:
            problems.append(f"{gid}: {score}/{full}, expected 0")
        elif gid in expect.reduced and not score < full:
            problems.append(f"{gid}: {score}/{full}, expected to lose points")
        elif gid not in expect.zero | expect.reduced:
            if expect.others == "full" and score != full:
                problems.append(
                    f"{gid}: {score}/{full}, expected full marks ({part.get('note') or part.get('checks')})"
                )
            if expect.others == "zero" and score != 0:
                problems.append(f"{gid}: {score}/{full}, expected 0")
    for gid, name in expect.diagnosis.items():
        got = outcome.parts.get(gid, {}).get("diagnoses", [])
        if name not in got:
            problems.append(f"{gid}: diagnosis {got}, expected {name!r}")
    if expect.check is not None:
        extra = expect.check(outcome)
        if extra:
            problems.append(extra)
    return problems
