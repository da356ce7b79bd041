"""Evaluate one part's answers in a short-lived child process, within a time and memory budget.

Whatever a learner's functions return is untrusted input to the grader process, which holds the
gradebook and the hidden checks. Decoding the answers (``harness.decode_value``), rebuilding
symbolic expressions (``checks.sympy_tree``), evaluating and comparing them
(``PartPlan.evaluate``) and the text of the report all happen here in a child forked from the
grading process, with

* ``RLIMIT_AS`` = the grader's own address space + ``memory`` bytes, and ``RLIMIT_CPU`` =
  ``seconds`` (a fork starts with no CPU time used);
* a wall-clock limit of ``seconds``, after which the child is killed;
* ``PR_SET_PDEATHSIG``: it dies with the grading process, however that one ends;
* torch on one thread (its OpenMP pool does not survive a fork: ``_one_thread``);
* a plain result: a JSON document of at most ``result_bytes``, each line of the report capped.

Over any limit — killed at the deadline, SIGXCPU, ``MemoryError``, ``RecursionError``, a result
too large — the part's verdict is ``LIMIT_NOTE``, recorded like any other verdict, and grading
goes on (the checks' account of "no answers", which gives the verdict its checks and numbers of
cases, runs in a second child with the same budget: a part costs at most twice the budget). Any other exception is the grader's own fault and is raised in the grading process
(the submission is then an ``error``, retried on the next run, never a wrong grade).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import json
import math
import os
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.checks.evaluate import PartPlan
from autograder.checks.parts import CheckResult, Mistake, PartResult
from autograder.grading.failpoints import failpoint

__all__ = ["LIMIT_NOTE", "EvaluationError", "EvaluationLimits", "evaluate_part", "run_within"]

LIMIT_NOTE = "your answer could not be evaluated within the limits"
_MAX_LINE = 1000
_MAX_LINES = 20
_MAX_CHECKS = 200
_MAX_TITLE = 300


class EvaluationError(RuntimeError):
    """The checks themselves failed (not the learner's answer): a grading error."""


@dataclass(frozen=True)
class EvaluationLimits:
    """The budget of one part's evaluation in the grader."""

    seconds: float = 30.0
    memory: int = 2**30  # address space beyond the grading process's own
    result_bytes: int = 2**20


def _clip(text: Any, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _plain(result: PartResult) -> dict[str, Any]:
    """The part's result as capped JSON-able data (diagnoses by name and message)."""
    return {
        "grade_id": _clip(result.grade_id, _MAX_TITLE),
        "title": _clip(result.title, _MAX_TITLE),
        "score": float(result.score),
        "max_score": float(result.max_score),
        "note": _clip(result.note, _MAX_LINE),
        "checks": [
            {
                "title": _clip(c.title, _MAX_TITLE),
                "passed": int(c.passed),
                "total": int(c.total),
                "weight": float(c.weight),
                "lines": [_clip(line, _MAX_LINE) for line in c.lines[:_MAX_LINES]],
                "diagnosis": (
                    None
                    if c.diagnosis is None
                    else [
                        _clip(c.diagnosis.name, _MAX_TITLE),
                        _clip(c.diagnosis.message, _MAX_LINE),
                    ]
                ),
            }
            for c in result.checks[:_MAX_CHECKS]
        ],
    }


def _gone(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a diagnosis rebuilt from an evaluation has no answer function")


def _rebuild(data: dict[str, Any]) -> PartResult:
    checks = []
    for c in data["checks"]:
        diagnosis = (
            None
            if c["diagnosis"] is None
            else Mistake(name=c["diagnosis"][0], message=c["diagnosis"][1], answer=_gone)
        )
        checks.append(
            CheckResult(
                c["title"], c["passed"], c["total"], c["weight"], list(c["lines"]), diagnosis
            )
        )
    return PartResult(
        data["grade_id"], data["title"], data["score"], data["max_score"], checks, data["note"]
    )


def _over_limits(plan: PartPlan, note: str, why: str, limits: EvaluationLimits) -> PartResult:
    """The part's verdict when its answers could not be evaluated within the limits: no case
    passes, every check says why. The checks' own account of "no answers" (their titles and
    numbers of cases, kept for the pass rates) is itself computed in a child, within the same
    limits; failing that, the part is one failed check."""
    full = f"{note}; {LIMIT_NOTE}" if note else LIMIT_NOTE
    line = f"✗ {LIMIT_NOTE} ({why})"
    payload, _ = run_within(lambda: _plain(plan.no_answers(full)), limits, "checks")
    if payload is not None and "ok" in payload:
        result = _rebuild(payload["ok"])
        for check in result.checks:
            check.lines = [line]
            check.diagnosis = None
        return result
    part = plan.part
    return PartResult(
        part.grade_id,
        part.title,
        0.0,
        plan.max_score,
        [CheckResult(part.title, 0, 1, 1.0, [line])],
        full,
    )


def _vm_size() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _die_with_parent() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _one_thread() -> None:
    """torch's OpenMP thread pool does not survive a fork: a child that enters a parallel region
    the parent had already used waits forever for threads that do not exist (measured here with
    torch 2.13.0+cpu, whose hidden checks compute projections). The child runs torch on one
    thread, which needs no pool."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _child(
    work: Callable[[], Any], limits: EvaluationLimits, fd: int, parent: int, point: str
) -> None:
    """In the forked child: run ``work``, write its result to ``fd``, exit. Never returns."""
    code = 0
    try:
        gc.disable()  # nothing of the parent's (sockets, kernels) may be finalised here
        _one_thread()
        faulthandler.disable()  # a crash here is reported by its exit status, quietly
        _die_with_parent()
        if os.getppid() != parent:
            os._exit(1)
        cpu = max(1, math.ceil(limits.seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        space = _vm_size() + limits.memory
        resource.setrlimit(resource.RLIMIT_AS, (space, space))
        if point:
            failpoint(point)
        try:
            payload: dict[str, Any] = {"ok": work()}
        except (MemoryError, RecursionError) as exc:
            payload = {"limit": type(exc).__name__}
        except BaseException:
            payload = {"error": traceback.format_exc()[-4000:]}
        data = json.dumps(payload).encode()
        if len(data) > limits.result_bytes:
            data = json.dumps({"limit": "the evaluation's report was too large"}).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def run_within(
    work: Callable[[], Any], limits: EvaluationLimits, point: str = ""
) -> tuple[dict[str, Any] | None, str]:
    """Run ``work`` in a forked child within ``limits`` (see the module): ``({"ok": its
    JSON-able result}, "")``, ``({"error": traceback}, "")`` when it raised, or ``(None, why)``
    when it went over a limit. ``point``: a fail point the child passes (crash tests)."""
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        _child(work, limits, write_fd, parent, point)
    os.close(write_fd)
    chunks: list[bytes] = []
    size = 0
    why = ""
    deadline = time.monotonic() + limits.seconds
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                why = f"more than {limits.seconds:g} s"
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.result_bytes:
                why = "its report was too large"
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if why:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if why:
        return None, why
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        names = {
            int(signal.SIGXCPU): f"more than {limits.seconds:g} s of CPU",
            int(signal.SIGKILL): "killed, out of memory?",
            int(signal.SIGSEGV): "it crashed",
        }
        return None, names.get(sig, f"signal {sig}")
    try:
        payload = json.loads(b"".join(chunks))
    except ValueError:
        return None, f"the evaluation ended without a result (status {status})"
    if "limit" in payload:
        reason = str(payload["limit"])
        return None, {"MemoryError": f"more than {limits.memory >> 20} MiB of memory"}.get(
            reason, reason
        )
    return payload, ""


def evaluate_part(
    plan: PartPlan,
    answers: Sequence[dict[str, Any] | None],
    note: str = "",
    limits: EvaluationLimits | None = None,
) -> PartResult:
    """``plan.evaluate(answers, note)``, run in a child within ``limits`` (see the module)."""
    limits = limits or EvaluationLimits()
    payload, why = run_within(lambda: _plain(plan.evaluate(answers, note)), limits, "checks")
    if payload is None:
        return _over_limits(plan, note, why, limits)
    if "error" in payload:
        raise EvaluationError(f"the hidden checks failed:\n{payload['error']}")
    return _rebuild(payload["ok"])
