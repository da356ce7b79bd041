"""The harness: the only grader code that runs inside the learner's kernel (both sides).

``in_kernel``'s *source text* is executed inside the sandboxed kernel after the learner's notebook
has run; it calls the learner's functions on request and answers with plain data. The grader
imports the same module for the wire format (``encode_value``/``decode_value``). ``boot`` is the
grader's side: the code that defines the harness in the kernel, and the reading of its answers.
Nothing here knows an expected value.
"""

from autograder.harness.boot import answer_code, collect_answers, harness_boot_code
from autograder.harness.in_kernel import DecodeError, SympyTree, decode_value, encode_value

__all__ = [
    "DecodeError",
    "SympyTree",
    "answer_code",
    "collect_answers",
    "decode_value",
    "encode_value",
    "harness_boot_code",
]
