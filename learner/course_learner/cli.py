"""The learner's ``course`` command: ``check``, ``submit``, ``fetch-feedback``.

Exit codes: 0 ok; 1 a visible test failed, or the exchange refused; 2 bad usage or a file that is
not a notebook; 3 a sandbox was required (``--sandbox``) and this host has none.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["add_learner_commands", "cmd_check", "cmd_fetch_feedback", "cmd_submit", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3


def _fail(msg: str, code: int) -> int:
    print(f"course: {msg}", file=sys.stderr)
    return code


def cmd_check(args: argparse.Namespace) -> int:
    from course_learner.check import check_notebook
    from course_learner.sandbox import SandboxUnavailable

    path = Path(args.notebook)
    sandbox = False if args.no_sandbox else (True if args.sandbox else None)
    try:
        report = check_notebook(path.resolve(), sandbox=sandbox, cell_timeout=args.timeout)
    except ValueError as exc:
        return _fail(f"cannot check {path}: {exc}", EXIT_USAGE)
    except SandboxUnavailable as exc:
        return _fail(
            f"{exc}\n(without --sandbox, `course check` runs your own kernel where there is none)",
            EXIT_ENV,
        )
    print(report.format())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_submit(args: argparse.Namespace) -> int:
    from course_learner.exchange import ExchangeError, submit

    try:
        log = submit(args.assignment, Path.cwd(), args.learner)
    except ExchangeError as exc:
        return _fail(str(exc), EXIT_FAILED)
    print(log.strip() or f"submitted {args.assignment}")
    return EXIT_OK


def cmd_fetch_feedback(args: argparse.Namespace) -> int:
    from course_learner.exchange import ExchangeError, fetch_feedback

    try:
        files = fetch_feedback(args.assignment, Path.cwd(), args.learner)
    except ExchangeError as exc:
        return _fail(str(exc), EXIT_FAILED)
    if not files:
        return _fail(f"no feedback for {args.assignment} yet", EXIT_FAILED)
    for f in files:
        print(f)
    return EXIT_OK


def add_learner_commands(
    sub: argparse._SubParsersAction,
    sandbox_default: str = "auto",
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``check``, ``submit`` and ``fetch-feedback`` to a ``course`` parser (the learner's
    own, and the instructor's, which delegates to these, with its common options ``parents``)."""
    p = sub.add_parser(
        "check",
        parents=list(parents),
        help="(learners) run a notebook like the grader, report visible tests",
    )
    p.add_argument("notebook")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--no-sandbox", action="store_true", help="run your own kernel even where a sandbox is"
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=sandbox_default == "required",
        help="require the grading sandbox (exit 3 where there is none)",
    )
    p.add_argument("--timeout", type=float, default=30, help="seconds per cell (default 30)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "submit",
        parents=list(parents),
        help="(learners) submit <assignment>/ from this folder to the exchange",
    )
    p.add_argument("assignment")
    p.add_argument("--learner", help="your learner id (default: $JUPYTERHUB_USER or login name)")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser(
        "fetch-feedback",
        parents=list(parents),
        help="(learners) fetch your feedback into <assignment>/feedback/",
    )
    p.add_argument("assignment")
    p.add_argument("--learner", help="your learner id (default: $JUPYTERHUB_USER or login name)")
    p.set_defaults(func=cmd_fetch_feedback)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="The cryo-EM study group's problem sets: check, submit, fetch feedback.",
        epilog="Exit codes: 0 ok, 1 a test failed or the exchange refused, 2 bad usage, "
        "3 no sandbox where one was required.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_learner_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
