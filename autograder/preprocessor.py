"""``SandboxedAutograde``: the nbgrader preprocessor that executes a submission and grades it.

It takes the place of nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors`` (see
``autograder.nbgrader_setup``); the rest of nbgrader's pipeline is unchanged — sanitising
(``OverwriteCells`` restores locked and test cells, re-adds deleted ones), ``SaveAutoGrades``
writes the gradebook, ``AssignLatePenalties``, feedback.

For one notebook:

1. Start the learner's kernel in the sandbox (``autograder.kernel``) on a private copy of the
   submission's files. A sandbox that cannot start is an error, never a fallback.
2. Run every code cell with a per-cell and a per-notebook wall-clock limit. A cell that kills the
   kernel (``os._exit``, a segfault, a memory or CPU limit) is recorded; the kernel is restarted,
   the cells that ran before are replayed, and the rest of the notebook goes on.
3. For each autograder-test cell with hidden checks (``hidden_checks.py``), ask the kernel to call
   the learner's functions on inputs drawn from a seed per learner and per run, and compare the
   answers here, outside the kernel, with ``reference_impl``. The visible tests that ran in the
   kernel are shown but never decide a score: a learner who patches ``assert`` or
   ``numpy.allclose`` in their own process changes nothing here.
4. Replace each test cell's outputs by a report and an ``execute_result`` holding the score,
   which nbgrader's ``determine_grade`` reads as partial credit; add a summary cell at the top
   and record an attestation in the notebook's metadata (``cryoem_course``), which
   ``course grade`` requires — proof that this preprocessor, and so the sandbox, graded it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader import utils as nbutils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from autograder import harness_kernel
from autograder.checks import CheckResult, Part, PartResult, part_seed, score_part
from autograder.kernel import ExecResult, SandboxedKernel
from autograder.sandbox import SandboxConfig
from autograder.slots import current_slot

__all__ = [
    "ATTESTATION_KEY",
    "DropEmptyNbgraderMetadata",
    "SandboxedAutograde",
    "load_parts",
    "revive",
    "run_cells",
]

ATTESTATION_KEY = "cryoem_course"
HIDDEN_CHECKS = "hidden_checks.py"
_BOOT = "__course_h__"
_MAX_ANSWER_BYTES = 64 * 2**20


def load_parts(source_dir: Path, notebook_id: str) -> list[Part]:
    """The ``Part``s of ``notebook_id`` from ``<source_dir>/hidden_checks.py``.

    The module defines ``PARTS`` (a list) or ``PARTS_BY_NOTEBOOK`` (a dict of lists). It is
    instructor code, loaded in the grader process only.
    """
    path = source_dir / HIDDEN_CHECKS
    if not path.is_file():
        return []
    name = f"_course_hidden_checks_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    by_nb = getattr(module, "PARTS_BY_NOTEBOOK", None)
    if by_nb is not None:
        return list(by_nb.get(notebook_id, []))
    return list(getattr(module, "PARTS", []))


_SPARES: dict[SandboxConfig, SandboxedKernel] = {}


def _kill_spares() -> None:
    while _SPARES:
        _SPARES.popitem()[1].shutdown()


atexit.register(_kill_spares)


def acquire_kernel(config: SandboxConfig, files_from: Path, prewarm: bool) -> SandboxedKernel:
    """A started sandboxed kernel holding the files of ``files_from``.

    With ``prewarm``, a spare kernel — a fresh sandbox in which nothing has run yet, its
    ``/submission`` empty — is launched for the next notebook as soon as this one is handed
    out, so that starting a kernel overlaps with grading instead of preceding it.
    """
    spare = _SPARES.pop(config, None)
    kernel: SandboxedKernel | None = None
    if spare is not None:
        try:
            spare.wait_ready()
            spare.add_files(files_from)
            kernel = spare
        except Exception:
            spare.shutdown()
    if kernel is None:
        kernel = SandboxedKernel(config, files_from=files_from)
        kernel.start()
    if prewarm:
        nxt = SandboxedKernel(config)
        try:
            nxt.launch()
            _SPARES[config] = nxt
        except Exception:
            nxt.shutdown()
    return kernel


def prewarm_spare(config: SandboxConfig) -> None:
    """Launch the spare kernel of ``config`` now (a grading process's first notebook then
    starts in a sandbox that is already up, like every later one). Best effort: a failure
    here is left to ``acquire_kernel``, which raises it for a real notebook."""
    if config in _SPARES:
        return
    spare = SandboxedKernel(config)
    try:
        spare.launch()
        _SPARES[config] = spare
    except Exception:
        spare.shutdown()


def sandbox_config(kernel_env: str, slot: int) -> SandboxConfig:
    """The sandbox of a grading process: the course's kernel environment, the claimed slot."""
    config = SandboxConfig(kernel_env=Path(kernel_env)) if kernel_env else SandboxConfig()
    return config.for_slot(slot)


def harness_boot_code() -> str:
    """Code that defines the harness module in the kernel (from ``harness_kernel``'s source)."""
    source = Path(harness_kernel.__file__).read_text()
    return (
        "def __course_boot__(src):\n"
        "    import types\n"
        "    mod = types.ModuleType('course_harness')\n"
        "    exec(compile(src, '<course-harness>', 'exec'), mod.__dict__)\n"
        "    return mod\n"
        f"{_BOOT} = __course_boot__({source!r})\n"
        "del __course_boot__\n"
    )


def _text_of(outputs: list[dict[str, Any]]) -> str:
    """Plain text of what a cell printed or raised in the kernel (for the report)."""
    parts = []
    for out in outputs:
        if out["output_type"] == "stream":
            parts.append(out.get("text", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}\n")
        elif "text/plain" in out.get("data", {}):
            parts.append(str(out["data"]["text/plain"]) + "\n")
    text = "".join(parts)
    return text if len(text) < 4000 else text[:4000] + "\n[...]\n"


class DropEmptyNbgraderMetadata(NbGraderPreprocessor):
    """Remove the empty ``nbgrader`` metadata that ``DeduplicateIds`` leaves on duplicated cells.

    nbgrader 0.9.6's ``OverwriteCells.add_missing_task_cells`` indexes ``["grade_id"]`` of every
    cell with an ``nbgrader`` key and crashes on those (a learner who copied a test cell made the
    whole submission fail). Without the key the duplicate is an ordinary learner cell.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if "nbgrader" in cell.metadata and not cell.metadata["nbgrader"]:
            del cell.metadata["nbgrader"]
        return cell, resources


class SandboxedAutograde(NbGraderPreprocessor):
    """Execute the notebook in the sandbox and grade it with the hidden checks (see module)."""

    cell_timeout = Float(30.0, help="Wall-clock seconds per cell.").tag(config=True)
    notebook_timeout = Float(180.0, help="Wall-clock seconds for all cells.").tag(config=True)
    part_timeout = Float(60.0, help="Wall-clock seconds for one part's checks.").tag(config=True)
    max_restarts = Integer(3, help="Kernel restarts allowed per notebook.").tag(config=True)
    run_id = Unicode("", help="Identifies this grading run; part of the case seed.").tag(
        config=True
    )
    kernel_env = Unicode("", help="The learners' kernel environment (default: sandbox's).").tag(
        config=True
    )
    course_id = Unicode("cryoem-study-group-2022").tag(config=True)
    prewarm = Bool(
        True, help="Keep one pre-started spare sandbox per process for the next notebook."
    ).tag(config=True)

    # -- nbgrader entry point -----------------------------------------------------------------
    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        t0 = time.perf_counter()
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        coursedir = CourseDirectory(config=self.config)
        source_dir = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        parts = load_parts(source_dir, notebook)
        run_id = self.run_id or secrets.token_hex(8)
        slot = current_slot()
        config = sandbox_config(self.kernel_env, slot)
        # raises when the sandbox cannot start: never a silent fallback
        kernel = acquire_kernel(config, Path(resources["metadata"]["path"]), self.prewarm)
        try:
            events = run_cells(
                nb, kernel, self.cell_timeout, self.notebook_timeout, self.max_restarts
            )
            t_checks = time.perf_counter()
            results = self._run_parts(
                nb, kernel, parts, events, (assignment, student, notebook, run_id)
            )
            check_seconds = time.perf_counter() - t_checks
        finally:
            kernel.shutdown()
        learner_seconds = sum(r.elapsed for r in events["in_kernel"].values())
        self._write_outputs(nb, results, events)
        nb.metadata[ATTESTATION_KEY] = {
            "graded_by": f"{__name__}.SandboxedAutograde",
            "sandbox": {"bwrap": True, "uid": config.for_slot(slot).uid, "slot": slot},
            "run_id": run_id,
            "kernel_restarts": kernel.restarts,
            "seconds": {
                "kernel_start": round(kernel.start_seconds, 3),
                "learner_cells": round(
                    learner_seconds, 3
                ),  # the notebook's own code, in the kernel
                "checks": round(check_seconds, 3),  # hidden checks: learner functions + comparison
                "total": round(time.perf_counter() - t0, 3),
            },
            "events": events["notes"],
            "parts": {
                r.grade_id: {
                    "score": r.score,
                    "max_score": r.max_score,
                    "checks": [[c.title, c.passed, c.total] for c in r.checks],
                    "diagnoses": [m.name for m in r.diagnoses],
                    "note": r.note,
                }
                for r in results.values()
            },
        }
        return nb, resources

    # -- hidden checks --------------------------------------------------------------------------
    def _run_parts(
        self,
        nb: NotebookNode,
        kernel: SandboxedKernel,
        parts: list[Part],
        events: dict[str, Any],
        who: tuple[str, str, str, str],
    ) -> dict[str, PartResult]:
        assignment, student, notebook, run_id = who
        max_scores = {
            c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
            for c in nb.cells
            if nbutils.is_grade(c) and c.cell_type == "code" and not nbutils.is_solution(c)
        }
        results: dict[str, PartResult] = {}
        booted_at: int | None = None  # kernel.restarts when the harness was defined
        limits = (self.cell_timeout, self.max_restarts)
        cell_deadline = time.monotonic() + self.notebook_timeout
        for part in parts:
            if part.grade_id not in max_scores:
                continue
            max_score = max_scores[part.grade_id]
            rng = np.random.default_rng(
                part_seed(self.course_id, assignment, student, notebook, run_id, part.grade_id)
            )
            plans = [check.plan(rng) for check in part.checks]
            requests: list[dict[str, Any]] = []
            for plan in plans:
                for req in plan.requests:
                    requests.append({**req, "id": len(requests)})
            note = ""
            answers: list[dict[str, Any] | None] = [None] * len(requests)
            if not kernel.alive and not revive(
                kernel,
                nb,
                events["ran"],
                cell_deadline + self.part_timeout,
                events["notes"],
                limits,
            ):
                note = "not checked: the kernel could not be restarted"
            else:
                if booted_at != kernel.restarts:
                    boot = kernel.execute(harness_boot_code(), timeout=30)
                    booted_at = kernel.restarts if boot.status == "ok" else None
                nonce = secrets.token_hex(8)
                payload = json.dumps({"nonce": nonce, "requests": requests})
                res = kernel.execute(
                    f"{_BOOT}.answer({payload!r}, globals())", timeout=self.part_timeout
                )
                answers, problem = _collect_answers(res, nonce, len(requests))
                if res.status == "died":
                    note = f"the kernel died while your code ran ({res.evalue})"
                    events["notes"].append(f"{part.grade_id}: {note}")
                    revive(
                        kernel,
                        nb,
                        events["ran"],
                        time.monotonic() + self.notebook_timeout,
                        events["notes"],
                        limits,
                    )
                elif res.status == "timeout":
                    note = f"your code ran longer than {self.part_timeout:g} s and was interrupted"
                elif problem:
                    note = problem
            check_results: list[CheckResult] = []
            offset = 0
            for plan in plans:
                n = len(plan.requests)
                check_results.append(plan.evaluate(answers[offset : offset + n]))
                offset += n
            results[part.grade_id] = score_part(part, max_score, check_results, note)
        return results

    # -- writing the graded notebook ------------------------------------------------------------
    def _write_outputs(
        self, nb: NotebookNode, results: dict[str, PartResult], events: dict[str, Any]
    ) -> None:
        in_kernel: dict[int, ExecResult] = events["in_kernel"]
        for idx, cell in enumerate(nb.cells):
            if not (
                nbutils.is_grade(cell)
                and cell.cell_type == "code"
                and not nbutils.is_solution(cell)
            ):
                continue
            gid = cell.metadata.nbgrader["grade_id"]
            max_score = float(cell.metadata.nbgrader["points"])
            visible = in_kernel.get(idx)
            result = results.get(gid)
            lines = []
            if visible is not None:
                status = "passed" if visible.status == "ok" else f"failed ({visible.ename})"
                lines.append(f"Visible tests in your kernel: {status}.")
                text = _text_of(visible.outputs)
                if text.strip() and visible.status != "ok":
                    lines.append("```\n" + text.strip() + "\n```")
            if result is None:
                # no hidden checks for this cell: the visible tests decide, as in stock nbgrader
                score = max_score if visible is not None and visible.status == "ok" else 0.0
            else:
                score = result.score
                lines += _report_lines(result)
            report = "\n\n".join(lines)
            cell.outputs = [
                from_dict(
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/markdown": report, "text/plain": report},
                    }
                ),
                from_dict(
                    {
                        "output_type": "execute_result",
                        "execution_count": cell.get("execution_count"),
                        "metadata": {},
                        "data": {"text/plain": repr(float(score))},
                    }
                ),
            ]
        summary = _summary_markdown(results, events["notes"])
        nb.cells.insert(
            0,
            from_dict(
                {
                    "cell_type": "markdown",
                    "metadata": {"cryoem_course_summary": True},
                    "source": summary,
                }
            ),
        )


def run_cells(
    nb: NotebookNode,
    kernel: SandboxedKernel,
    cell_timeout: float,
    notebook_timeout: float,
    max_restarts: int,
) -> dict[str, Any]:
    """Run every code cell of ``nb`` in ``kernel``, storing outputs in the cells.

    Returns ``ran`` (cells that completed without killing the kernel, replayed after a
    restart), ``killers`` (cells that killed it), ``notes`` (what happened, for the report) and
    ``in_kernel`` (each cell's ``ExecResult``).
    """
    deadline = time.monotonic() + notebook_timeout
    ran: list[int] = []
    killers: list[int] = []
    notes: list[str] = []
    in_kernel: dict[int, ExecResult] = {}
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            cell.outputs = [
                _error("NotebookTimeoutError", "not run: the notebook time limit was reached")
            ]
            notes.append(f"cell {idx}: not run (notebook time limit)")
            continue
        res = kernel.execute(cell.source, timeout=min(cell_timeout, remaining))
        cell.outputs = [from_dict(o) for o in res.outputs]
        cell.execution_count = res.execution_count
        in_kernel[idx] = res
        if res.status == "died":
            killers.append(idx)
            notes.append(f"cell {idx}: {res.ename}: {res.evalue}")
            if not revive(kernel, nb, ran, deadline, notes, (cell_timeout, max_restarts)):
                break
        else:
            if res.status == "timeout":
                notes.append(f"cell {idx}: interrupted after {cell_timeout:g} s")
            ran.append(idx)
    return {"ran": ran, "killers": killers, "notes": notes, "in_kernel": in_kernel}


def revive(
    kernel: SandboxedKernel,
    nb: NotebookNode,
    ran: list[int],
    deadline: float,
    notes: list[str],
    limits: tuple[float, int],
) -> bool:
    """Restart a dead kernel and replay the cells that ran; False when that is impossible."""
    cell_timeout, max_restarts = limits
    if kernel.restarts >= max_restarts:
        notes.append("the kernel died too often: the rest of the notebook was not run")
        return False
    kernel.restart()
    for idx in ran:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        res = kernel.execute(nb.cells[idx].source, timeout=min(cell_timeout, remaining))
        if res.status == "died":
            notes.append(f"cell {idx} killed the kernel when replayed")
            return False
    return True


def _error(ename: str, evalue: str) -> NotebookNode:
    return from_dict(
        {
            "output_type": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"],
        }
    )


def _collect_answers(
    res: ExecResult, nonce: str, n: int
) -> tuple[list[dict[str, Any] | None], str]:
    """The answers published by the harness (matched by nonce), or Nones and why."""
    answers: list[dict[str, Any] | None] = [None] * n
    for out in res.outputs:
        data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
        blob = data.get(harness_kernel.MIME)
        if not isinstance(blob, dict) or blob.get("nonce") != nonce:
            continue
        if len(json.dumps(blob)) > _MAX_ANSWER_BYTES:
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


def _report_lines(result: PartResult) -> list[str]:
    lines = [f"**{result.title}: {result.score:g} / {result.max_score:g} points.**"]
    if result.note:
        lines.append(f"⚠ {result.note}.")
    for chk in result.checks:
        lines.append(f"- {chk.title}: {chk.passed}/{chk.total} cases passed.")
        lines += [f"  - {line}" for line in chk.lines[:6]]
    for mistake in result.diagnoses:
        lines.append(f"**Diagnosis — {mistake.name}:** {mistake.message}")
    return lines


def _summary_markdown(results: dict[str, PartResult], notes: list[str]) -> str:
    total = sum(r.score for r in results.values())
    maximum = sum(r.max_score for r in results.values())
    rows = ["| part | points | diagnosis |", "|---|---|---|"]
    for r in results.values():
        diag = "; ".join(m.name for m in r.diagnoses) or ("—" if not r.note else r.note)
        rows.append(f"| {r.title} | {r.score:g} / {r.max_score:g} | {diag} |")
    text = (
        "## Autograder report\n\n"
        f"Hidden checks ran outside your kernel on inputs drawn for you: **{total:g} / {maximum:g}** "
        "points from them (the gradebook total also counts any manually graded cells).\n\n"
        + "\n".join(rows)
    )
    if notes:
        text += "\n\nWhile running your notebook:\n\n" + "\n".join(f"- {n}" for n in notes[:20])
    return text
