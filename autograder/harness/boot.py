"""Grader side of the harness: define it in a learner's kernel, and read back its answers.

``harness_boot_code`` is the code that defines ``autograder.harness.in_kernel`` inside the
sandboxed kernel (from that module's source text); ``answer_code`` asks it to answer a batch of
requests; ``collect_answers`` picks the answers out of the kernel's outputs, matched by a nonce
so that nothing the learner's code printed can pose as an answer, and bounded in size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.harness import in_kernel

__all__ = ["answer_code", "collect_answers", "harness_boot_code"]

_BOOT = "__course_h__"
MAX_ANSWER_BYTES = 64 * 2**20


def harness_boot_code() -> str:
    """Code that defines the harness module in the kernel (from ``in_kernel``'s source)."""
    source = Path(in_kernel.__file__).read_text()
    return (
        "def __course_boot__(src):\n"
        "    import types\n"
        "    mod = types.ModuleType('course_harness')\n"
        "    exec(compile(src, '<course-harness>', 'exec'), mod.__dict__)\n"
        "    return mod\n"
        f"{_BOOT} = __course_boot__({source!r})\n"
        "del __course_boot__\n"
    )


def answer_code(nonce: str, requests: list[dict[str, Any]]) -> str:
    """The code that makes the booted harness answer ``requests`` (published under ``nonce``)."""
    payload = json.dumps({"nonce": nonce, "requests": requests})
    return f"{_BOOT}.answer({payload!r}, globals())"


def collect_answers(res: Any, nonce: str, n: int) -> tuple[list[dict[str, Any] | None], str]:
    """The answers published by the harness (matched by nonce), or Nones and why."""
    answers: list[dict[str, Any] | None] = [None] * n
    for out in res.outputs:
        data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
        blob = data.get(in_kernel.MIME)
        if not isinstance(blob, dict) or blob.get("nonce") != nonce:
            continue
        if len(json.dumps(blob)) > MAX_ANSWER_BYTES:
            return answers, "your functions returned too much data"
        got = blob.get("answers")
        if not isinstance(got, list):
            return answers, "the checks could not read your answers"
        for ans in got:
            if isinstance(ans, dict) and isinstance(ans.get("id"), int) and 0 <= ans["id"] < n:
                answers[ans["id"]] = ans
        return answers, ""
    if res.status == "ok":
        return answers, "the checks got no answer from your kernel (was the output hijacked?)"
    if res.status == "error":
        return answers, f"the checks could not run in your kernel ({res.ename}: {res.evalue[:200]})"
    return answers, ""
