"""Hidden checks, evaluated in the grader process — never inside the learner's kernel.

A problem set's ``hidden_checks.py`` (in its folder, kept out of releases and out of the sandbox)
lists ``Part``s, one per nbgrader autograder-test cell (``grade_id``), each holding checks. A check
plans requests (``plan_part`` numbers them), the kernel's harness answers with plain data, and
``PartPlan.evaluate`` compares the answers with ``reference_impl`` here. Feedback never shows
hidden inputs or their expected values.
"""

from autograder.checks.cases import Case, part_seed
from autograder.checks.compare import Compare, allclose, as_array, choice, quat_close
from autograder.checks.evaluate import PartPlan, answer_in_namespace, part_rng, plan_part
from autograder.checks.function import (
    NO_ANSWER,
    FunctionCheck,
    ValueCheck,
    decode_answers,
    hidden_failures,
)
from autograder.checks.loader import HIDDEN_CHECKS, load_parts
from autograder.checks.parts import CheckResult, Mistake, Part, PartResult, score_part
from autograder.checks.symbolic import rational_points, sympy_equal
from autograder.checks.sympy_tree import rebuild_sympy

__all__ = [
    "HIDDEN_CHECKS",
    "NO_ANSWER",
    "Case",
    "CheckResult",
    "Compare",
    "FunctionCheck",
    "Mistake",
    "Part",
    "PartPlan",
    "PartResult",
    "ValueCheck",
    "allclose",
    "answer_in_namespace",
    "as_array",
    "choice",
    "decode_answers",
    "hidden_failures",
    "load_parts",
    "part_rng",
    "part_seed",
    "plan_part",
    "quat_close",
    "rational_points",
    "rebuild_sympy",
    "score_part",
    "sympy_equal",
]
