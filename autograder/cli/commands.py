"""The ``course`` command line, for instructors and learners.

Instructors: ``release``, ``collect``, ``grade``, ``feedback``, ``report``, ``export``,
``extend``, ``sandbox``, ``build``, ``serve``. Learners: ``check``, ``submit``, ``fetch-feedback`` (``course_learner.cli``, the
learners' own ``course``). Run from the repository root or from ``assignments/``.

Exit codes: 0 success; 1 a check failed, or some submissions could not be graded because of a
grading error; 2 bad usage or bad input (a clear message on stderr); 3 the environment is not
ready (no sandbox, a failed book build, an invalid release).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from course_learner.cli import add_learner_commands

from autograder.config import ConfigError, Course, CourseNotFound, repo_root

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3

log = logging.getLogger("course")


def _fail(msg: str, code: int) -> int:
    print(f"course: {msg}", file=sys.stderr)
    return code


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print ``text``, or ``data`` as JSON with ``--json``."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=1, default=str))
    else:
        print(text)


def _course(args: argparse.Namespace) -> Course:
    """The course, built once per command (``args.course`` caches it)."""
    if getattr(args, "course", None) is None:
        args.course = Course.find()
    course: Course = args.course
    return course


def _problem_sets(root: Path) -> list[str]:
    from autograder.authoring import problem_sets

    return problem_sets(root)


def _resolve(root: Path, name: str) -> str:
    """Accept ``ps01`` for ``ps01_quaternions``."""
    names = _problem_sets(root)
    if name in names:
        return name
    matches = [n for n in names if n.startswith(name + "_") or n.split("_")[0] == name]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"unknown problem set {name!r}; known: {', '.join(names) or 'none'}")


# -- instructor commands ---------------------------------------------------------------------------
def _when(text: str | None, tz: str) -> dt.datetime:
    """``--date``: the end of that day in the schedule's time zone; default ``$COURSE_NOW``
    (an ISO date-time, for rehearsing a week) or now."""
    from zoneinfo import ZoneInfo

    text = text or os.environ.get("COURSE_NOW")
    if not text or text == "now":
        return dt.datetime.now(ZoneInfo(tz))
    if "T" in text or " " in text:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))
    day = dt.date.fromisoformat(text)
    return dt.datetime.combine(day, dt.time(23, 59, 59), ZoneInfo(tz))


def _cmd_release_due(args: argparse.Namespace) -> int:
    from autograder.publish.releases import ReleaseTarget, release_due, release_target

    course = _course(args)
    target = release_target(repo=course.repo)
    if args.remote:
        target = ReleaseTarget(args.remote, target.branch)
    now = _when(args.date, course.schedule.timezone)
    log.info("releasing what is due by %s", f"{now:%Y-%m-%d %H:%M %Z}")
    report = release_due(course.root, now, target, course.schedule, exchange=not args.no_exchange)
    lines = [f"release time {now:%Y-%m-%d %H:%M %Z} → {target.remote} (branch {target.branch})"]
    for label, names in (
        ("released and published", report.released),
        ("already published", report.already),
        ("not due yet", report.not_yet),
        ("in the schedule but no source", report.missing),
    ):
        if names:
            lines.append(f"  {label}: {', '.join(names)}")
    data = {"now": now.isoformat(), "remote": target.remote, "branch": target.branch}
    _emit(args, {**data, **dataclasses.asdict(report)}, "\n".join(lines))
    return EXIT_OK


def _cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import ReleaseError, release_assignment

    if args.due:
        return _cmd_release_due(args)
    course = _course(args)
    names = (
        _problem_sets(course.root)
        if args.all
        else [_resolve(course.root, n) for n in args.assignment]
    )
    if not names:
        return _fail("name a problem set, or --all", EXIT_USAGE)
    reports = []
    for i, name in enumerate(names, 1):
        log.info("[%d/%d] releasing %s", i, len(names), name)
        try:
            report = release_assignment(course.root, name)
        except ReleaseError as exc:
            return _fail(str(exc), EXIT_ENV)
        reports.append(report)
    _emit(
        args,
        [dataclasses.asdict(r) for r in reports],
        "\n".join(
            f"released {r.assignment}: solution {r.solution_score:g}/{r.max_score:g}, "
            f"blank {r.blank_score:g}/{r.max_score:g}, nothing hidden in release/{r.assignment}"
            for r in reports
        ),
    )
    return EXIT_OK


def _cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grading import format_summary, grade_assignment, progress_printer

    course = _course(args)
    name = _resolve(course.root, args.assignment)
    log.info("grading %s with %s", name, args.scheduler or f"{args.workers} worker(s)")
    quiet = args.quiet or args.json or log.getEffectiveLevel() > logging.INFO
    outcomes = grade_assignment(
        course.root,
        name,
        workers=args.workers,
        force=args.force,
        learners=args.learner or None,
        progress=None if quiet else progress_printer(),
        run_id=args.run_id,
        scheduler=args.scheduler,
        accept_weak_limits=args.accept_weak_limits or None,
    )
    _emit(args, [dataclasses.asdict(o) for o in outcomes], format_summary(outcomes))
    return EXIT_FAILED if any(o.status == "error" for o in outcomes) else EXIT_OK


def _cmd_feedback(args: argparse.Namespace) -> int:
    from autograder.feedback import generate_feedback

    course = _course(args)
    name = _resolve(course.root, args.assignment)
    log.info("writing the feedback of %s", name)
    files = generate_feedback(course.root, name)
    lines = [f"{len(files)} feedback file(s) in {course.root / 'feedback'}/<learner>/{name}/"]
    released: list[str] = []
    skipped: list[str] = []
    if not args.no_release:
        from autograder.publish import release_feedback

        log.info("releasing the feedback of %s to the exchange", name)
        released, skipped = release_feedback(course.root, name)
        lines.append(
            f"feedback of {len(released)} learner(s) released to the exchange "
            "(learners: Fetch Feedback, or `course fetch-feedback`)"
        )
        if skipped:
            lines.append(
                f"not submitted through the exchange, feedback left in feedback/: {', '.join(skipped)}"
            )
    data = {"files": [str(f) for f in files], "released": released, "left": skipped}
    _emit(args, data, "\n".join(lines))
    return EXIT_OK


def _cmd_collect(args: argparse.Namespace) -> int:
    from autograder.publish import collect

    course = _course(args)
    name = _resolve(course.root, args.assignment)
    log.info("collecting %s from the exchange at %s", name, course.exchange)
    learners = collect(course.root, name)
    text = f"collected {len(learners)} submission(s) of {name} into {course.root / 'submitted'}"
    _emit(args, {"assignment": name, "learners": learners}, text)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from autograder.feedback import format_pass_rates, pass_rates
    from autograder.service import assignment_figures, format_figures, open_ledger

    course = _course(args)
    name = _resolve(course.root, args.assignment)
    rows = pass_rates(course.root, name)
    ledger = open_ledger(course.root)  # the grading service's, when it ran
    try:
        figures = assignment_figures(course.root, name, ledger)
    finally:
        if ledger is not None:
            ledger.close()
    if not rows and not figures.counts:
        return _fail(
            f"no graded submissions of {name}: run `course grade {name}` first", EXIT_USAGE
        )
    text = format_pass_rates(rows) + "\n\n" + format_figures(figures)
    _emit(args, {"checks": rows, **figures.as_json()}, text)
    return EXIT_OK


def _cmd_publish_book(args: argparse.Namespace) -> int:
    from autograder.publish import html_dir, publish_book, release_target

    root = repo_root()
    if not args.no_build:
        code = _cmd_build(argparse.Namespace(no_strict=False, book_only=True))
        if code != EXIT_OK:
            return code
    remote = args.remote or release_target(repo=root).remote
    log.info("publishing %s to %s", html_dir(root), remote)
    commit = publish_book(html_dir(root), remote, branch=args.branch)
    print(f"published the book to {remote} (branch {args.branch}, commit {commit[:12]})")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder.feedback import export_grades

    course = _course(args)
    out = Path(args.to) if args.to else course.root / "grades.csv"
    grades, parts = export_grades(course.root, out.resolve())
    from autograder.feedback.canvas import export_canvas

    canvas = export_canvas(course.root, grades.with_name(grades.stem + "-canvas.csv"))
    _emit(
        args,
        {"grades": str(grades), "parts": str(parts), "canvas": str(canvas)},
        f"grades: {grades}\nparts:  {parts}\ncanvas: {canvas} (Canvas: Grades → Import)",
    )
    return EXIT_OK


def _cmd_extend(args: argparse.Namespace) -> int:
    from autograder.grading.deadlines import reassess_late_penalty
    from autograder.schedule.extensions import (
        load_extensions,
        parse_until,
        set_extension,
    )

    course = _course(args)
    name = _resolve(course.root, args.assignment)
    tz = course.schedule.timezone if course.schedule_path.is_file() else "UTC"
    if args.learner is None:
        granted = load_extensions(course.root).get(name, {})
        text = "\n".join(
            f"{who}: until {until:%Y-%m-%d %H:%M %Z}" for who, until in sorted(granted.items())
        )
        _emit(
            args, {k: v.isoformat() for k, v in granted.items()}, text or f"no extensions of {name}"
        )
        return EXIT_OK
    if args.revoke == (args.until is not None):
        return _fail("give --until WHEN or --revoke", EXIT_USAGE)
    until = None if args.revoke else parse_until(args.until, tz)
    before = set_extension(course.root, name, args.learner, until)
    penalty = reassess_late_penalty(course.root, name, args.learner)
    said = (
        f"{args.learner}'s extension of {name} revoked"
        if until is None
        else f"{args.learner} may submit {name} until {until:%Y-%m-%d %H:%M %Z}"
    )
    if before is not None and until is not None:
        said += f" (was {before:%Y-%m-%d %H:%M %Z})"
    if penalty is not None:
        said += (
            f"; the late penalty of their graded submission is now {penalty:g} point(s) in the "
            "gradebook (feedback already released shows the one it was graded with until "
            f"`course feedback {name}` rewrites it)"
        )
    _emit(
        args,
        {
            "assignment": name,
            "learner": args.learner,
            "until": None if until is None else until.isoformat(),
            "late_penalty": penalty,
        },
        said,
    )
    return EXIT_OK


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from autograder.sandbox import SandboxUnavailable, check_sandbox, current_slot, setup_kernel_env

    if args.action == "setup":
        log.info("setting up the learners' kernel environment")
        path = setup_kernel_env(quiet=args.quiet)
        if not args.quiet:
            print(f"learners' kernel environment: {path}")
    try:
        course: Course | None = _course(args)
    except CourseNotFound:
        course = None
    try:
        from autograder.sandbox import SandboxConfig

        config = course.sandbox(current_slot()) if course else SandboxConfig()
        report = check_sandbox(config, secret_paths=[course.repo] if course else [])
    except SandboxUnavailable as exc:
        return _fail(str(exc), EXIT_ENV)
    from autograder.sandbox.enforcement import format_report, limits_report
    from autograder.sandbox.reclaim import reclaim

    reclaim(config.enforcement)
    report["limits"] = limits_report(config)
    if not args.quiet:
        _emit(
            args,
            report,
            f"sandbox OK: uid {report['uid']}, no network, course files invisible, {report['python']}\n"
            f"limits of each grading slot here:\n{format_report(report['limits'])}",
        )
    return EXIT_OK


def _cmd_config(args: argparse.Namespace) -> int:
    from autograder.config import config_files
    from autograder.config.options import describe_options

    course = _course(args)
    options = describe_options(course.config)
    files = [str(p) for p in config_files(course.root)]
    lines = [f"configuration files: {', '.join(files) or 'none (the course defaults)'}", ""]
    for opt in options:
        lines.append(f"c.{opt['name']} = {opt['value']!r}")
        lines.append(f"    {opt['help']}")
    _emit(args, {"files": files, "options": options}, "\n".join(lines))
    return EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    from autograder.publish import build_book

    root = repo_root()
    if not args.book_only:
        code = _cmd_release(argparse.Namespace(all=True, assignment=[], due=False))
        if code != EXIT_OK:
            return code
    log.info("building the book (jupyter-book, warnings are errors)")
    try:
        out = build_book(
            root, strict=not args.no_strict, quiet=log.getEffectiveLevel() > logging.DEBUG
        )
    except subprocess.CalledProcessError as exc:
        return _fail(f"the book build failed (exit {exc.returncode})", EXIT_ENV)
    print(f"book built: {out / 'index.html'}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from autograder.publish import html_dir, serve_directory

    try:
        serve_directory(html_dir(repo_root()), port=args.port, host=args.host)
    except FileNotFoundError as exc:
        return _fail(str(exc), EXIT_ENV)
    return EXIT_OK


# -- learner commands: course_learner's (the learners' own distribution), shared ---------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="The cryo-EM study group's course platform: book, problem sets, grading.",
        epilog="Exit codes: 0 ok, 1 checks/grading failed, 2 bad usage or input, 3 environment not ready.",
    )
    levels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=levels,
        help="what is logged on stderr (default INFO: a line per step of a long command)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log everything (--log-level DEBUG)"
    )
    # the same options after the command (`course grade ps01 -v`), as nbgrader accepts them
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default=argparse.SUPPRESS, choices=levels)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    def json_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = command("release", help="generate a problem set's release and validate it")
    p.add_argument("assignment", nargs="*", help="e.g. ps01 or ps01_quaternions")
    p.add_argument("--all", action="store_true", help="every problem set in problem_sets/")
    p.add_argument(
        "--due",
        action="store_true",
        help="release and publish what book/schedule.yml makes due by --date (idempotent)",
    )
    p.add_argument(
        "--date", help="with --due: YYYY-MM-DD (end of that day, schedule's time zone); default now"
    )
    p.add_argument("--remote", help="with --due: the learners' git remote (default: _config.yml)")
    p.add_argument(
        "--no-exchange", action="store_true", help="with --due: skip nbgrader's exchange"
    )
    json_flag(p)
    p.set_defaults(func=_cmd_release)

    p = command("collect", help="collect submissions from nbgrader's exchange")
    p.add_argument("assignment")
    json_flag(p)
    p.set_defaults(func=_cmd_collect)

    p = command("grade", help="grade every submission of a problem set (sandboxed, parallel)")
    p.add_argument("assignment")
    p.add_argument("--workers", type=int, default=2, help="parallel graders (default 2)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--learner", action="append", help="grade only this learner (repeatable)")
    p.add_argument("--run-id", help="seed of the hidden cases (default: random, recorded)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--scheduler", help="a Dask scheduler address (tcp://host:8786): grade on its workers"
    )
    p.add_argument(
        "--accept-weak-limits",
        action="store_true",
        help="grade even where the slots' memory or process budget cannot be enforced "
        "(see `course sandbox setup`); refused otherwise, exit 3",
    )
    json_flag(p)
    p.set_defaults(func=_cmd_grade)

    p = command("feedback", help="write feedback (HTML) and release it to the exchange")
    p.add_argument("assignment")
    p.add_argument("--no-release", action="store_true", help="do not copy it to the exchange")
    json_flag(p)
    p.set_defaults(func=_cmd_feedback)

    p = command(
        "report",
        help="pass rates per check and part, the scores, the grading service's queue and latency",
    )
    p.add_argument("assignment")
    json_flag(p)
    p.set_defaults(func=_cmd_report)

    p = command("publish-book", help="build the book and publish it to a gh-pages branch")
    p.add_argument("--remote", help="git remote URL (default: _config.yml repository)")
    p.add_argument("--branch", default="gh-pages")
    p.add_argument("--no-build", action="store_true", help="publish the existing _build/html")
    p.set_defaults(func=_cmd_publish_book)

    p = command(
        "export", help="export grades to CSV (nbgrader's, per part, and Canvas's gradebook import)"
    )
    p.add_argument("--to", help="CSV path (default: assignments/grades.csv)")
    json_flag(p)
    p.set_defaults(func=_cmd_export)

    p = command(
        "extend",
        help="extend a learner's due date (late penalty, feedback release, grading policy)",
    )
    p.add_argument("assignment")
    p.add_argument("learner", nargs="?", help="without: list the problem set's extensions")
    p.add_argument(
        "--until", help="YYYY-MM-DD (end of day), 'YYYY-MM-DD HH:MM' (schedule's time zone) or ISO"
    )
    p.add_argument("--revoke", action="store_true", help="take the extension back")
    json_flag(p)
    p.set_defaults(func=_cmd_extend)

    # check, submit, fetch-feedback: the learner's commands (course_learner.cli, the learners'
    # own distribution); here a check requires the sandbox unless --no-sandbox
    add_learner_commands(sub, sandbox_default="required", parents=[common])

    p = command("sandbox", help="set up or check the grading sandbox")
    p.add_argument("action", choices=["setup", "check"])
    p.add_argument("--quiet", action="store_true")
    json_flag(p)
    p.set_defaults(func=_cmd_sandbox)

    p = command("config", help="every course option (nbgrader_config.py) with its help and value")
    json_flag(p)
    p.set_defaults(func=_cmd_config)

    p = command("build", help="release every problem set, then build the book")
    p.add_argument("--no-strict", action="store_true", help="do not turn book warnings into errors")
    p.add_argument("--book-only", action="store_true", help="skip the problem sets")
    p.set_defaults(func=_cmd_build)

    p = command("serve", help="serve the built book on localhost")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[course] %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel("DEBUG" if args.verbose else args.log_level)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", module="sqlalchemy")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CourseNotFound as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_ENV)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except FileNotFoundError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted; finished grades are kept, rerun to continue", 130)
    except Exception as exc:
        from autograder.sandbox.bubblewrap import SandboxUnavailable

        if isinstance(exc, SandboxUnavailable):
            return _fail(f"{exc}", EXIT_ENV)
        raise


if __name__ == "__main__":
    sys.exit(main())
