"""``python -m autograder.service serve``: the grading service, as the hub starts it.

Started and supervised by JupyterHub as a managed service (``hub/jupyterhub_config.py``: the
hub restarts it when it exits, and gives it its address and its OAuth client in
``$JUPYTERHUB_SERVICE_URL``, ``$JUPYTERHUB_SERVICE_PREFIX``…); runs without a hub too (no page
then, unless ``--port``). The course is found as ``course`` finds it (``$COURSE_ROOT``, the
exchange ``$COURSE_EXCHANGE``). SIGTERM stops it; a SIGKILL loses nothing (``runner``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from autograder.service.runner import GradingService

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.service",
        description="The course's grading service: grades each submission when it arrives.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("serve", help="watch the exchange, grade, release feedback")
    p.add_argument("--state", help="the service's folder (default: <course>/.course-service)")
    p.add_argument("--workers", type=int, default=2, help="local grading processes (default 2)")
    p.add_argument("--scheduler", help="a Dask scheduler (tcp://host:8786): grade on its workers")
    p.add_argument("--poll", type=float, default=0.5, help="seconds between looks (default 0.5)")
    p.add_argument(
        "--instructors",
        default=os.environ.get("COURSE_INSTRUCTORS", ""),
        help="comma-separated hub users who may see the page (default $COURSE_INSTRUCTORS)",
    )
    p.add_argument("--port", type=int, help="serve the page here (default: the hub's address)")
    p.add_argument("--overrides", help="JSON: SandboxedAutograde settings (tests: short limits)")
    p.add_argument(
        "--job-timeout",
        type=float,
        default=900.0,
        help="seconds before a grading with no verdict counts as failed (default 900)",
    )
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started it is gone (the hub passes it: a hub killed "
        "before it could stop its services leaves no grading service behind)",
    )
    return parser


async def _serve(service: GradingService, args: argparse.Namespace) -> None:
    from tornado.ioloop import PeriodicCallback

    from autograder.service.figures import assignment_figures

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    port = args.port or (urlparse(url).port if url else None)
    if port:
        from autograder.service.web import make_app

        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/grader/")
        instructors = {n.strip() for n in args.instructors.split(",") if n.strip()}

        def all_figures() -> list[Any]:
            names = sorted(set(service.ledger.assignments()) | service.released_assignments())
            return [assignment_figures(service.root, name, service.ledger) for name in names]

        app = make_app(prefix, all_figures, instructors)
        app.listen(port, address=urlparse(url).hostname if url else "127.0.0.1")
        logging.getLogger("course.service").info("instructor page on port %d at %s", port, prefix)

    parent = os.getppid()

    def tick() -> None:
        if args.exit_with_parent and os.getppid() != parent:
            # the hub starts the service in a session of its own, so a SIGKILLed hub's process
            # group does not take it along; the next hub would start a second one
            logging.getLogger("course.service").warning(
                "the process that started the service (%d) is gone: stopping", parent
            )
            stopping.set()
            return
        try:
            service.tick()
        except Exception:
            logging.getLogger("course.service").exception("a tick failed; going on")

    # start-up (the sandbox's check, the grading processes and their spare kernels: many
    # seconds) after the page listens, so that the hub finds the service up at once
    await loop.run_in_executor(None, service.start)

    def wake() -> None:  # a grading finished (in another thread): the next turn at once
        # after SIGTERM the loop is closed while the pool fails its running gradings: nothing
        # to wake (the ledger still says "grading"; the next start takes them up again)
        with contextlib.suppress(RuntimeError):  # "Event loop is closed"
            loop.call_soon_threadsafe(tick)

    service.wake = wake
    callback = PeriodicCallback(tick, args.poll * 1000)
    callback.start()
    await stopping.wait()
    callback.stop()


def main(argv: Sequence[str] | None = None) -> int:
    from autograder.config.paths import course_root
    from autograder.service.ledger import service_state
    from autograder.service.runner import GradingService, ServiceConfig

    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    root = course_root()
    import json

    config = ServiceConfig(
        course_root=root,
        state_dir=Path(args.state) if args.state else service_state(root),
        workers=args.workers,
        scheduler=args.scheduler,
        poll=args.poll,
        overrides=json.loads(args.overrides) if args.overrides else {},
        job_timeout=args.job_timeout,
    )
    service = GradingService(config)
    try:
        asyncio.run(_serve(service, args))
    finally:
        service.close()
    return 0
