"""``course feedback``: nbgrader's feedback HTML for every graded submission.

nbgrader's ``generate_feedback`` with the course's template (``templates/course_feedback``:
legible report tables, each test cell named after its part by ``PartTitles``, no MathJax from a
CDN), then the mathematics typeset into the page (``typeset``), so that it shows offline and in
JupyterLab's HTML viewer.

A graded notebook holds what its learner wrote — markdown cells up to the notebook size limit
(outputs are capped when graded) — and rendering it is work done for that learner: each
learner's page is rendered in a forked child within a time and memory budget
(``grading.evaluation.run_within``; measured here, nbconvert took 10 min and 4 GiB for one 11 MB
markdown cell). Over it, the learner gets a plain page with their score that says their feedback
"could not be rendered within the limits", and the other pages are made as usual.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

from traitlets.config import Config

from autograder.config.nbgrader import course_config
from autograder.feedback.typeset import MathUnavailable, node_modules, typeset_math
from autograder.grading.evaluation import EvaluationLimits, run_within
from autograder.grading.locking import submission_lock
from autograder.grading.submissions import MARKER

__all__ = [
    "LIMIT_NOTE",
    "MathUnavailable",
    "feedback_config",
    "generate_feedback",
    "render_feedback",
]

LIMIT_NOTE = "your feedback page could not be rendered within the limits"
_OVER = re.compile(r"\b(MemoryError|RecursionError)\b")

TEMPLATES = Path(__file__).with_name("templates")


def feedback_config(course_root: Path) -> Config:
    """The course's nbgrader configuration with the course's feedback page."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from autograder.feedback.part_titles import PartTitles

    cfg = course_config(course_root)
    cfg.GenerateFeedback.preprocessors = [GetGrades, PartTitles, CSSHTMLHeaderPreprocessor]
    cfg.HTMLExporter.template_name = "course_feedback"
    import nbgrader

    nbgrader_templates = Path(str(nbgrader.__file__)).parent / "server_extensions" / "formgrader"
    nbgrader_templates = nbgrader_templates / "templates"
    cfg.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    return cfg


log = logging.getLogger("course.feedback")


def render_feedback(
    course_root: Path,
    assignment: str,
    learner: str,
    seconds: float = 120.0,
    memory_mb: int = 2048,
    api: Any = None,
) -> str:
    """nbgrader's ``GenerateFeedback`` for one learner (the course's template), in a forked child
    within ``seconds`` and ``memory_mb`` (beyond this process's own): ``""`` when the pages are
    written, or why they could not be rendered within the limits — the learner's page is then
    the plain one with their grade (``LIMIT_NOTE``). Mathematics is not typeset here. Raises
    ``RuntimeError`` when nbgrader itself fails (the grader's fault, not the page's)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log, temp_attrs

    if api is None:
        cfg = feedback_config(course_root)
        api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    coursedir = api.coursedir

    def render() -> dict[str, Any]:
        # as NbGraderAPI.generate_feedback, which would impose nbgrader's own template
        with temp_attrs(coursedir, assignment_id=assignment, student_id=learner):
            app = GenerateFeedback(coursedir=coursedir, parent=api)
            app.force = True
            result = capture_log(app)
        over = _OVER.search(f"{result.get('error')}{result.get('log')}")
        if not result.get("success") and over:  # nbgrader caught it: the budget's verdict
            raise MemoryError if over.group(1) == "MemoryError" else RecursionError
        return {
            "success": bool(result.get("success")),
            "log": str(result.get("log", ""))[-4000:],
            "error": str(result.get("error", ""))[-4000:],
        }

    budget = EvaluationLimits(seconds=seconds, memory=memory_mb * 2**20, result_bytes=2**20)
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        payload, why = run_within(render, budget)
    if payload is None:
        log.warning("  feedback for %s: %s (%s)", learner, LIMIT_NOTE, why)
        _limit_page(course_root, assignment, learner, why)
        return why
    if "error" in payload:
        raise RuntimeError(f"feedback for {learner} failed:\n{payload['error']}")
    if not payload["ok"]["success"]:
        raise RuntimeError(
            f"feedback for {learner} failed:\n{payload['ok']['log']}\n{payload['ok']['error']}"
        )
    return ""


def generate_feedback(
    course_root: Path,
    assignment: str,
    seconds: float = 120.0,
    memory_mb: int = 2048,
    learners: list[str] | None = None,
) -> list[Path]:
    """nbgrader ``generate_feedback`` for every graded submission, mathematics typeset;
    returns the HTML files (``MathUnavailable`` when node or MathJax is missing; a
    ``RuntimeError`` naming the learners whose page nbgrader failed to make, once every other
    page is made). Each learner's page is rendered within ``seconds`` and ``memory_mb``
    (``render_feedback``), and its mathematics typeset within ``seconds`` and ``memory_mb``
    (see the module). ``learners``: only theirs (default: every graded submission's)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = feedback_config(course_root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    graded = sorted(
        p.parent.parent.name for p in (course_root / "autograded").glob(f"*/{assignment}/{MARKER}")
    )
    if learners is not None:
        graded = [g for g in graded if g in learners]
    failed: dict[str, str] = {}  # the grader's own failures: the others' pages are still made
    for i, learner in enumerate(graded, 1):
        log.info("  [%d/%d] feedback for %s", i, len(graded), learner)
        try:
            # the grading service may be regrading this learner: one of us at a time
            with submission_lock(course_root, learner, assignment):
                render_feedback(course_root, assignment, learner, seconds, memory_mb, api)
        except RuntimeError as exc:
            failed[learner] = str(exc)
    files = sorted(
        course_root / "feedback" / learner / assignment / f"{nb.name}"
        for learner in graded
        for nb in (course_root / "feedback" / learner / assignment).glob("*.html")
    )
    typeset_math(files, node_modules(course_root.parent), seconds, memory_mb)
    if failed:
        raise RuntimeError(
            "feedback failed for "
            + ", ".join(failed)
            + "".join(f"\n--- {who}:\n{why[-2000:]}" for who, why in failed.items())
        )
    return sorted(
        f
        for learner in graded
        for f in (course_root / "feedback" / learner / assignment).glob("*.html")
    )


def _limit_page(course_root: Path, assignment: str, learner: str, why: str) -> None:
    """The page of a learner whose feedback could not be rendered: the verdict and score of
    each part, from the grader's marker, and why there is no more."""
    marker = json.loads((course_root / "autograded" / learner / assignment / MARKER).read_text())
    rows = "".join(
        f"<tr><td>{html.escape(str(gid))}</td><td>{float(part.get('score', 0)):g} / "
        f"{float(part.get('max_score', 0)):g}</td></tr>"
        for gid, part in sorted(marker.get("parts", {}).items())
    )
    score = marker.get("score")
    total = (
        f"{float(score):g} / {float(marker.get('max_score') or 0):g}" if score is not None else "—"
    )
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(assignment)}: feedback</title></head><body>"
        f"<h1>{html.escape(assignment)}</h1>"
        f"<p><strong>{html.escape(LIMIT_NOTE[0].upper() + LIMIT_NOTE[1:])}</strong> "
        f"({html.escape(why)}). Your grade is recorded: {html.escape(total)}.</p>"
        f"<table><tr><th>part</th><th>score</th></tr>{rows}</table></body></html>"
    )
    folder = course_root / "feedback" / learner / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.html"):
        stale.unlink()
    for name in {
        p.stem for p in (course_root / "autograded" / learner / assignment).glob("*.ipynb")
    }:
        (folder / f"{name}.html").write_text(page)
