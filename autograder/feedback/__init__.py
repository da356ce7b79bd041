"""Feedback and grades, from the gradebook and the graded notebooks (instructor side)."""

from autograder.feedback.export import export_grades, read_markers
from autograder.feedback.generate import generate_feedback
from autograder.feedback.rates import format_pass_rates, pass_rates

__all__ = ["export_grades", "format_pass_rates", "generate_feedback", "pass_rates", "read_markers"]
