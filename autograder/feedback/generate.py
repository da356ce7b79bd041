"""``course feedback``: nbgrader's feedback HTML for every graded submission.

nbgrader's ``generate_feedback`` with the course's template (``templates/course_feedback``:
legible report tables, each test cell named after its part by ``PartTitles``, no MathJax from a
CDN), then the mathematics typeset into the page (``typeset``), so that it shows offline and in
JupyterLab's HTML viewer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

from traitlets.config import Config

from autograder.config.nbgrader import course_config
from autograder.feedback.typeset import MathUnavailable, node_modules, typeset_math
from autograder.grading.submissions import MARKER

__all__ = ["MathUnavailable", "feedback_config", "generate_feedback"]

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


def generate_feedback(course_root: Path, assignment: str) -> list[Path]:
    """nbgrader ``generate_feedback`` for every graded submission, mathematics typeset;
    returns the HTML files (``MathUnavailable`` when node or MathJax is missing)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log, temp_attrs

    cfg = feedback_config(course_root)
    coursedir = CourseDirectory(config=cfg)
    api = NbGraderAPI(coursedir=coursedir, config=cfg)
    graded = sorted(
        p.parent.parent.name for p in (course_root / "autograded").glob(f"*/{assignment}/{MARKER}")
    )
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for i, learner in enumerate(graded, 1):
            log.info("  [%d/%d] feedback for %s", i, len(graded), learner)
            # as NbGraderAPI.generate_feedback, which would impose nbgrader's own template
            with temp_attrs(coursedir, assignment_id=assignment, student_id=learner):
                app = GenerateFeedback(coursedir=coursedir, parent=api)
                app.force = True
                result = capture_log(app)
            if not result.get("success"):
                raise RuntimeError(
                    f"feedback for {learner} failed:\n{result.get('log')}\n{result.get('error')}"
                )
    files = sorted(
        course_root / "feedback" / learner / assignment / f"{nb.name}"
        for learner in graded
        for nb in (course_root / "feedback" / learner / assignment).glob("*.html")
    )
    typeset_math(files, node_modules(course_root.parent))
    return sorted((course_root / "feedback").glob(f"*/{assignment}/*.html"))
