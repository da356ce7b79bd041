"""The service's instructor page, behind the hub's login: ``/services/grader/``.

A tornado application in the service's own process (it reads the ledger the loop writes, on the
same thread). Every page is ``HubOAuthenticated``: a visitor logs in through the hub (the hub
gives the service's scope, ``access:services!service=grader``, to instructors only — see
``hub/jupyterhub_config.py``), and the page checks again that the hub user is one of the
course's instructors; anyone else gets 403. Per problem set it shows the queue, each recent
grading's latency and verdict, the per-part pass rates and the distribution of scores as an SVG
histogram; ``api/figures`` gives the same as JSON.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections.abc import Callable
from typing import Any

from tornado import web

from autograder.service.figures import AssignmentFigures
from autograder.service.plot import histogram_svg

__all__ = ["make_app", "render_page"]

FiguresFn = Callable[[], list[AssignmentFigures]]


def _clock(t: float | None) -> str:
    return "—" if t is None else dt.datetime.fromtimestamp(t, dt.UTC).strftime("%d %b %H:%M:%S UTC")


def _seconds(s: float | None) -> str:
    return "—" if s is None else f"{s:.1f} s"


def _queue_state(e: Any) -> str:
    if e.state == "queued" and e.wait_reason == "cap" and e.not_before:
        return f"waiting (cap) until {_clock(e.not_before)}"
    if e.state == "queued" and e.wait_reason == "retry" and e.not_before:
        return f"retry after {_clock(e.not_before)}"
    if e.state == "graded" and e.release_at:
        return f"graded, feedback held until {_clock(e.release_at)}"
    return str(e.state)


def _table(cls: str, headers: list[str], rows: list[list[str]]) -> str:
    """An HTML table of class ``cls``; ``rows`` hold cells already escaped."""
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>"
    body = ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "\n".join([f'<table class="{cls}">{head}', *body, "</table>"])


def _score(e: Any) -> str:
    score = "—" if e.score is None else f"{e.score:g} / {e.max_score:g}"
    return score + (f" (late −{e.penalty:g})" if e.penalty else "")


def _verdict(e: Any) -> str:
    verdict = str(e.status or e.state)
    if e.verdict and e.verdict != e.status:
        verdict += f": {e.verdict}"
    if e.graded_by == "adopted":
        verdict += " (graded earlier, adopted)"
    return verdict


def _section(f: AssignmentFigures) -> str:
    esc = html.escape
    out = [f'<section class="assignment" id="{esc(f.assignment)}"><h2>{esc(f.assignment)}</h2>']
    counts = ", ".join(f"{n} {esc(k)}" for k, n in sorted(f.counts.items())) or "nothing yet"
    out.append(f'<p class="counts">Submissions seen by the service: {counts}.</p>')
    if f.latency:
        out.append(
            f'<p class="latency">Submission → released feedback ({int(f.latency["count"])}): '
            f"median <b>{f.latency['median']:.1f} s</b>, 95th percentile "
            f"<b>{f.latency['p95']:.1f} s</b>, max {f.latency['max']:.1f} s"
            + (f"; {f.throughput:.1f} per minute" if f.throughput else "")
            + ".</p>"
        )
    out.append("<h3>Queue</h3>")
    out.append(
        _table(
            "queue",
            ["learner", "submitted", "state"],
            [[esc(e.learner), _clock(e.submitted_at), esc(_queue_state(e))] for e in f.queue],
        )
        if f.queue
        else '<p class="queue empty">Empty: every submission is graded.</p>'
    )
    out.append("<h3>Recent gradings</h3>")
    out.append(
        _table(
            "recent",
            ["learner", "submitted", "latency", "grading", "score", "verdict"],
            [
                [
                    esc(e.learner),
                    _clock(e.submitted_at),
                    _seconds(e.latency),
                    _seconds(e.seconds),
                    esc(_score(e)),
                    esc(_verdict(e)[:160]),
                ]
                for e in f.recent
            ],
        )
        if f.recent
        else "<p>None yet.</p>"
    )
    out.append("<h3>Per part</h3>")
    out.append(
        _table(
            "parts",
            ["part", "full marks", "mean share", "learners"],
            [
                [
                    esc(p.title),
                    f"<span class='meter' style='width:{100 * p.full:.0f}px'></span> "
                    f"{100 * p.full:.0f} %",
                    f"{100 * p.mean:.0f} %",
                    str(p.learners),
                ]
                for p in f.parts
            ],
        )
        if f.parts
        else "<p>No graded submission yet.</p>"
    )
    out.append("<h3>Scores</h3>")
    if f.scores and f.max_score:
        out.append(
            histogram_svg(
                f.scores, f.max_score, f"{f.assignment}: scores of {len(f.scores)} learner(s)"
            )
        )
    else:
        out.append("<p>No scores yet.</p>")
    out.append("</section>")
    return "\n".join(out)


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem 2rem;
       color: #1f2328; } h1 { font-size: 1.5rem; } h2 { border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; }
th { background: #f6f8fa; }
.meter { display: inline-block; height: .7rem; background: #0969da; vertical-align: middle; }
"""


def render_page(user: str, sections: list[AssignmentFigures]) -> str:
    body = "\n".join(_section(f) for f in sections) or "<p>No problem set is released yet.</p>"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>Grading service</title>"
        f"<style>{_STYLE}</style></head><body><h1>Grading service</h1>"
        f"<p>Signed in through the hub as <b>{html.escape(user)}</b> (instructor). Updated "
        f"{_clock(dt.datetime.now(dt.UTC).timestamp())}; reload for the latest.</p>{body}"
        "</body></html>\n"
    )


def make_app(
    prefix: str, figures_fn: FiguresFn, instructors: set[str], hub_auth: Any = None
) -> web.Application:
    """The page under ``prefix`` (``$JUPYTERHUB_SERVICE_PREFIX``); ``instructors``: who may see
    it (besides the hub's admins)."""
    from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
    from jupyterhub.utils import url_path_join

    auth = hub_auth or HubOAuth.instance()

    class InstructorHandler(HubOAuthenticated, web.RequestHandler):
        def initialize(self) -> None:
            self.hub_auth = auth

        def instructor(self) -> str:
            user = self.get_current_user()
            if not user:
                raise web.HTTPError(403)
            if user.get("kind", "user") != "user" or not (
                user["name"] in instructors or user.get("admin")
            ):
                raise web.HTTPError(403, "the grading service's page is for instructors only")
            return str(user["name"])

    class Page(InstructorHandler):
        @web.authenticated
        def get(self) -> None:
            name = self.instructor()
            self.set_header("Cache-Control", "no-store")
            self.write(render_page(name, figures_fn()))

    class Figures(InstructorHandler):
        @web.authenticated
        def get(self) -> None:
            self.instructor()
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps([f.as_json() for f in figures_fn()], default=str))

    return web.Application(
        [
            (prefix, Page),
            (url_path_join(prefix, "api/figures"), Figures),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )
