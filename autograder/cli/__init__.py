"""The ``course`` command line (``commands``): instructors' and learners' verbs."""

from autograder.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
