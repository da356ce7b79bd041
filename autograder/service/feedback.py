"""Feedback for one submission: written, kept, and released to the exchange — or, while there
is none yet, a notice in its place.

nbgrader addresses feedback to one submission: ``<exchange>/<course>/feedback/<h>.html`` with
``h = md5(submission secret + notebook name)`` (``nbgrader.utils.notebook_hash``), which the
learner's Fetch Feedback looks for, for each submission in their cache, and copies into
``<ps>/feedback/<timestamp>/``. ``write_feedback`` makes the course's feedback page for the
learner's graded submission (``autograder.feedback``: nbgrader's ``GenerateFeedback`` with the
course's template, the mathematics typeset by this grading process's MathJax, ``typesetter``) and keeps a copy per submission in the service's
store, so that feedback held until the due date is still this submission's when it is
released; ``publish`` puts a page at its address (written whole, then renamed: a learner never
fetches half a file). A notice — received, waiting for the hour's cap, held until the due
date, superseded — takes the same address until the feedback replaces it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["feedback_address", "notice_html", "publish", "write_feedback"]


def feedback_address(exchange_feedback: Path, secret: str, notebook: str) -> Path:
    """Where nbgrader's Fetch Feedback looks for ``notebook``'s feedback of the submission with
    ``secret``."""
    from nbgrader.utils import notebook_hash

    return exchange_feedback / f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"


def publish(exchange_feedback: Path, secret: str, notebook: str, page: bytes) -> Path:
    """Put ``page`` at the submission's feedback address, whole (mode 0644, as nbgrader)."""
    exchange_feedback.mkdir(parents=True, exist_ok=True)
    exchange_feedback.chmod(0o755)
    dest = feedback_address(exchange_feedback, secret, notebook)
    tmp = dest.with_name(f".{dest.stem}.{os.getpid()}.tmp")
    tmp.write_bytes(page)
    tmp.chmod(0o644)
    os.replace(tmp, dest)
    return dest


def write_feedback(course_root: Path, assignment: str, learner: str, store: Path) -> list[str]:
    """The feedback pages of ``learner``'s graded submission of ``assignment``, kept in
    ``store`` (replaced whole); returns their paths there."""
    from autograder.feedback.generate import render_feedback
    from autograder.feedback.typeset import node_modules
    from autograder.service.typesetter import typeset_pages

    # in a child within a time and memory budget: a page too large to render is the learner's
    # plain page with their grade, and this grading process goes on (issue 14)
    render_feedback(course_root, assignment, learner)
    folder = course_root / "feedback" / learner / assignment
    pages = sorted(folder.glob("*.html"))
    typeset_pages(pages, node_modules(course_root.parent))
    tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for page in pages:
        shutil.copyfile(page, tmp / page.name)
    if store.exists():
        shutil.rmtree(store)
    os.replace(tmp, store)
    return [str(store / page.name) for page in pages]


# -- notices ---------------------------------------------------------------------------------------
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 46rem;
       margin: 2.5rem auto; padding: 0 1rem; line-height: 1.5; color: #1f2328; }
h1 { font-size: 1.4rem; } .box { border-left: 4px solid #0969da; background: #f6f8fa;
       padding: .8rem 1rem; } .when { font-weight: 600; } small { color: #57606a; }
"""


def _when(moment: float, tz: str) -> str:
    local = dt.datetime.fromtimestamp(moment, ZoneInfo(tz))
    utc = local.astimezone(dt.UTC)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()} ({utc:%H:%M} UTC)"


def notice_html(
    kind: str,
    *,
    assignment: str,
    submitted_at: float,
    tz: str,
    until: float | None = None,
    cap: int | None = None,
    reason: str = "",
    later: str = "",
) -> bytes:
    """The page a learner fetches while their submission has no feedback yet: ``kind`` is
    ``received``, ``waiting`` (over the cap, graded at ``until``), ``held`` (graded; released at
    ``until``), ``superseded`` (by the submission of ``later``), ``refused`` or ``failed``."""
    sub = f"Your submission of {html.escape(assignment)} of {_when(submitted_at, tz)}"
    at = f'<span class="when">{_when(until, tz)}</span>' if until else ""
    title, body = {
        "received": (
            "Received: being graded",
            f"{sub} has arrived and is in the grading queue. Its feedback replaces this page "
            "within a few minutes: press <b>Fetch Feedback</b> again then.",
        ),
        "waiting": (
            "Kept: graded later this hour",
            f"{sub} is kept, not lost. This problem set grades at most {cap} submission"
            f"{'s' if (cap or 0) > 1 else ''} of yours per hour, and that many were graded in "
            f"the past hour; this one will be graded at {at}. Press <b>Fetch Feedback</b> after "
            "that. If you submit again before then, only your latest submission is graded.",
        ),
        "held": (
            "Graded: feedback after the due date",
            f"{sub} is graded. Feedback on this problem set is released after the due date: "
            f"{at}. Press <b>Fetch Feedback</b> after that. Your latest submission counts.",
        ),
        "superseded": (
            "Replaced by your later submission",
            f"{sub} was not graded: you submitted again ({html.escape(later)}) before its turn, "
            "and your latest submission is the one that counts. Its feedback is on that one.",
        ),
        "refused": (
            "Not graded",
            f"{sub} could not be graded: {html.escape(reason)}.",
        ),
        "failed": (
            "Not graded yet",
            f"{sub} could not be graded automatically: the grading machinery failed, not your "
            "notebook. The instructors have been told and will grade it.",
        ),
    }[kind]
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(assignment)}: {html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(assignment)}: {html.escape(title)}</h1>"
        f"<div class='box' id='course-notice' data-kind='{kind}'><p>{body}</p></div>"
        "<p><small>From the course's grading service. Times are in the course's time zone "
        "and in UTC.</small></p></body></html>\n"
    )
    return page.encode()
