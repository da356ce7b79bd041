"""The ``course`` command line, for instructors and learners.

Exit codes: 0 success; 1 a check or a grade failed; 2 bad usage or input (clear message on
stderr); 3 the environment is not ready (missing sandbox, book build failed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence

from autograder.book import build_book, html_dir, serve_directory
from autograder.paths import CourseNotFound, repo_root

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3


def _cmd_build(args: argparse.Namespace) -> int:
    root = repo_root()
    try:
        out = build_book(root, strict=not args.no_strict)
    except subprocess.CalledProcessError as exc:
        print(f"course build: the book build failed (exit {exc.returncode})", file=sys.stderr)
        return EXIT_ENV
    print(f"book built: {out / 'index.html'}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        serve_directory(html_dir(repo_root()), port=args.port, host=args.host)
    except FileNotFoundError as exc:
        print(f"course serve: {exc}", file=sys.stderr)
        return EXIT_ENV
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course",
        description="The cryo-EM study group's course platform: book, problem sets, grading.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="build the book (warnings are errors)")
    p.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("serve", help="serve the built book on localhost")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CourseNotFound as exc:
        print(f"course: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
