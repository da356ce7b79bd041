"""Hidden checks, evaluated in the grader process — never inside the learner's kernel.

A problem set's ``hidden_checks.py`` (in its folder, kept out of releases and out of the sandbox)
lists ``Part``s, one per nbgrader autograder-test cell (``grade_id``), each holding checks, and
holds only what is particular to the problem set: its cases, its references and its mistakes.
Everything else lives here, once:

* ``cases`` — ``Case`` (arguments, label, key, tags) and the per-learner seed;
* ``precision`` — ``float32_variant`` of a case (tagged ``FLOAT32``) and ``reference64``, the
  reference on double-precision copies of the arguments;
* ``compare`` — comparisons: ``close(tol64, tol32, dtypes=…)`` with ``Elementwise`` or
  ``OfLargest`` tolerances, ``number_close``, ``quat_close``, ``tuple_of``, ``answer_array`` for
  a problem set's own measure, ``any_of`` and ``lost_where`` for matching mistakes…;
* ``function`` — ``FunctionCheck`` (one call per case, one expected value) and ``ValueCheck``;
* ``probe`` — ``ProbeCheck``: cases (``Probe``s) that send several requests and are judged on
  all their answers together;
* ``requests`` — what a check asks the kernel (``Call``, ``Vjp``, ``MethodCall``,
  ``ReadValue``), the only writer of the harness's wire format here, and ``vjp_answer``;
* ``parts`` — ``Part``, ``Mistake``, results and scores; ``one_thread`` — ``OneThread``;
* ``symbolic`` — ``sympy_equal`` for SymPy answers, which arrive as a ``SympyTree`` that
  ``rebuild_sympy`` rebuilds from an allow-list (raising ``DecodeError``);
* ``evaluate`` — the loop every caller shares: ``plan_part`` draws the cases and numbers the
  requests, the kernel's harness answers with plain data, ``PartPlan.evaluate`` compares the
  answers with ``reference_impl`` here; ``check_in_namespace`` runs that loop in this process
  for tests, ``answer_of`` is a kernel's answer for a value.

Feedback never shows hidden inputs or their expected values.
"""

from autograder.checks.cases import Case, part_seed
from autograder.checks.compare import (
    NUMBER_KINDS,
    Compare,
    Dtypes,
    Elementwise,
    OfLargest,
    Tolerance,
    allclose,
    answer_array,
    any_of,
    as_array,
    choice,
    close,
    lost_where,
    number_close,
    quat_close,
    tuple_of,
)
from autograder.checks.evaluate import (
    PartPlan,
    answer_in_namespace,
    answer_of,
    check_in_namespace,
    part_rng,
    plan_part,
)
from autograder.checks.function import (
    NO_ANSWER,
    FunctionCheck,
    ValueCheck,
    decode_answers,
    hidden_failures,
)
from autograder.checks.loader import HIDDEN_CHECKS, load_parts
from autograder.checks.one_thread import OneThread, one_torch_thread
from autograder.checks.parts import (
    Check,
    CheckResult,
    Mistake,
    Part,
    PartResult,
    best_mistake,
    score_part,
)
from autograder.checks.precision import (
    FLOAT32,
    as_numpy,
    float32_variant,
    reference64,
    to_double,
    to_single,
)
from autograder.checks.probe import Judge, Probe, ProbeCheck
from autograder.checks.requests import (
    Call,
    MethodCall,
    ReadValue,
    Request,
    Vjp,
    VjpAnswer,
    to_wire,
    vjp_answer,
)
from autograder.checks.symbolic import rational_points, sympy_equal
from autograder.checks.sympy_tree import rebuild_sympy
from autograder.harness.in_kernel import DecodeError, SympyTree

__all__ = [
    "FLOAT32",
    "HIDDEN_CHECKS",
    "NO_ANSWER",
    "NUMBER_KINDS",
    "Call",
    "Case",
    "Check",
    "CheckResult",
    "Compare",
    "DecodeError",
    "Dtypes",
    "Elementwise",
    "FunctionCheck",
    "Judge",
    "MethodCall",
    "Mistake",
    "OfLargest",
    "OneThread",
    "Part",
    "PartPlan",
    "PartResult",
    "Probe",
    "ProbeCheck",
    "ReadValue",
    "Request",
    "SympyTree",
    "Tolerance",
    "ValueCheck",
    "Vjp",
    "VjpAnswer",
    "allclose",
    "answer_array",
    "answer_in_namespace",
    "answer_of",
    "any_of",
    "as_array",
    "as_numpy",
    "best_mistake",
    "check_in_namespace",
    "choice",
    "close",
    "decode_answers",
    "float32_variant",
    "hidden_failures",
    "load_parts",
    "lost_where",
    "number_close",
    "one_torch_thread",
    "part_rng",
    "part_seed",
    "plan_part",
    "quat_close",
    "rational_points",
    "rebuild_sympy",
    "reference64",
    "score_part",
    "sympy_equal",
    "to_double",
    "to_single",
    "to_wire",
    "tuple_of",
    "vjp_answer",
]
