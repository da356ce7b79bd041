"""The Jupyter server extension behind the hub's Validate button.

nbgrader's JupyterLab extension (the notebook's Validate button and the Assignments tab's
Validate) posts the notebook's path to ``/assignments/validate``. This extension serves that
route in place of nbgrader's ``validate_assignment`` (which the learner environment disables):
it runs ``course check`` (``course_learner.check``) — in the grading sandbox when the host has
one, else in the learner's own kernel — and answers in the format nbgrader's dialog shows:

* every visible test passes: nbgrader's "Success! Your notebook passes all the tests.";
* otherwise one entry per failed test (its cell and why it failed), the first one carrying
  ``course check``'s whole report (every test with its points, and which kernel ran them).

The full report is also in the answer's ``report`` field. ``/nbgrader_version`` is served as
nbgrader's own (the labextension asks for it).
"""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

__all__ = ["ValidateHandler", "validate_answer"]


def validate_answer(path: Path) -> dict[str, Any]:
    """nbgrader's validate answer for ``path``, from ``course check``'s report."""
    from course_learner.check import check_notebook

    try:
        report = check_notebook(path, sandbox=None)
    except ValueError as exc:
        return {"success": False, "value": f"cannot check {path.name}: {exc}"}
    text = report.format()
    value: dict[str, Any] = {}
    failed = [r for r in report.results if not r.ok]
    if failed:
        value["failed"] = [
            {
                "source": r.source,
                "error": html.escape(
                    (text + "\n\n" if i == 0 else "") + f"✗ {r.grade_id}: {r.why}"
                ),
            }
            for i, r in enumerate(failed)
        ]
    elif not report.results:
        value["failed"] = [{"source": "", "error": html.escape(text + "\n\nno visible tests ran")}]
    return {"success": True, "value": json.dumps(value), "report": text}


class ValidateHandler(JupyterHandler):
    """``POST /assignments/validate`` with ``path`` (form field or JSON body)."""

    @web.authenticated
    async def post(self) -> None:
        try:
            rel = self.get_argument("path")
        except web.MissingArgumentError:
            rel = (self.get_json_body() or {}).get("path", "")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, validate_answer, target)
        self.finish(json.dumps(answer))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "course_learner.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "assignments/validate"), ValidateHandler),
            (url_path_join(base, "nbgrader_version"), NbGraderVersionHandler),
        ],
    )
    serverapp.log.info("course_learner: Validate runs `course check`")
