"""``SandboxedAutograde``: the nbgrader preprocessor that executes a submission and grades it.

It takes the place of nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors`` (see
``autograder.config.nbgrader``); the rest of nbgrader's pipeline is unchanged — sanitising
(``OverwriteCells`` restores locked and test cells, re-adds deleted ones), ``SaveAutoGrades``
writes the gradebook, ``AssignLatePenalties``, feedback.

For one notebook:

1. Start the learner's kernel in the sandbox (``autograder.sandbox.kernel``) on a private copy of the
   submission's files. A sandbox that cannot start is an error, never a fallback.
2. Run every code cell with a per-cell and a per-notebook wall-clock limit. A cell that kills the
   kernel (``os._exit``, a segfault, a memory or CPU limit) is recorded; the kernel is restarted,
   the cells that ran before are replayed, and the rest of the notebook goes on.
3. For each autograder-test cell with hidden checks (``hidden_checks.py``), ask the kernel to call
   the learner's functions on inputs drawn from a seed per learner and per run, and compare the
   answers here, outside the kernel, with ``reference_impl``. The visible tests that ran in the
   kernel are shown but never decide a score: a learner who patches ``assert`` or
   ``numpy.allclose`` in their own process changes nothing here. The answers are untrusted
   input to this process: each part's are decoded, rebuilt, compared and reported in a
   short-lived child within a time and memory budget (``evaluation``); over it, the part's
   verdict is "your answer could not be evaluated within the limits", and grading goes on.
4. Replace each test cell's outputs by a report and an ``execute_result`` holding the score,
   which nbgrader's ``determine_grade`` reads as partial credit; add a summary cell at the top
   and record an attestation in the notebook's metadata (``cryoem_course``), which
   ``course grade`` requires — proof that this preprocessor, and so the sandbox, graded it.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader import utils as nbutils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from autograder.authoring.notebook_source import problem_set_dir
from autograder.checks.evaluate import part_rng, plan_part
from autograder.checks.loader import load_parts
from autograder.checks.parts import Part, PartResult
from autograder.grading.attestation import ATTESTATION_KEY, GRADED_BY
from autograder.grading.evaluation import EvaluationLimits, evaluate_part
from autograder.grading.failpoints import arm_gradebook_failpoint
from autograder.grading.notebook_run import acquire_kernel, revive, run_cells
from autograder.grading.report import cell_output_text, part_report_lines, summary_markdown
from autograder.harness.boot import answer_code, collect_answers, harness_boot_code
from autograder.sandbox.kernel import ExecResult, SandboxedKernel
from autograder.sandbox.limits import SandboxLimits
from autograder.sandbox.slots import current_slot

__all__ = ["DropEmptyNbgraderMetadata", "SandboxedAutograde", "test_cells"]


def test_cells(nb: NotebookNode) -> dict[str, tuple[int, float]]:
    """The notebook's autograder-test cells: ``grade_id`` → (cell index, points)."""
    return {
        c.metadata.nbgrader["grade_id"]: (i, float(c.metadata.nbgrader["points"]))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and nbutils.is_grade(c) and not nbutils.is_solution(c)
    }


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
    prewarm = Bool(
        True, help="Keep one pre-started spare sandbox per process for the next notebook."
    ).tag(config=True)
    evaluate_timeout = Float(
        30.0,
        min=0.1,
        help="Seconds (wall clock, and CPU) for evaluating one part's answers in the grader "
        "(decoding, rebuilding expressions, comparing, the report); over it, the part's verdict "
        "is 'your answer could not be evaluated within the limits'.",
    ).tag(config=True)
    evaluate_memory_mb = Integer(
        1024,
        min=16,
        help="Memory for evaluating one part's answers, MiB (address space beyond the grading "
        "process's own); over it, the same verdict.",
    ).tag(config=True)
    notebook_output_kb = Integer(
        2048,
        min=1,
        help="Outputs kept in the graded notebook (and so in the feedback), all cells "
        "together, KiB; each cell keeps at most 256 KiB. Later outputs are replaced by a note.",
    ).tag(config=True)

    # -- nbgrader entry point -----------------------------------------------------------------
    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        t0 = time.perf_counter()
        info = resources["nbgrader"]
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        coursedir = CourseDirectory(config=self.config)
        parts = load_parts(problem_set_dir(Path(coursedir.root), assignment), notebook)
        run_id = self.run_id or secrets.token_hex(8)
        slot = current_slot()
        config = SandboxLimits(config=self.config).sandbox_config(slot)
        # raises when the sandbox cannot start: never a silent fallback
        kernel = acquire_kernel(config, Path(resources["metadata"]["path"]), self.prewarm)
        try:
            events = run_cells(
                nb,
                kernel,
                self.cell_timeout,
                self.notebook_timeout,
                self.max_restarts,
                max_output_bytes=self.notebook_output_kb * 1024,
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
        arm_gradebook_failpoint()
        nb.metadata[ATTESTATION_KEY] = {
            "graded_by": f"{__name__}.{GRADED_BY}",
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
                    # the answers' evaluation in the grader (bounded by evaluate_timeout)
                    "evaluate_seconds": round(events["evaluate_seconds"].get(r.grade_id, 0.0), 3),
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
        cells = test_cells(nb)
        events["evaluate_seconds"] = {}
        course_id = CourseDirectory(config=self.config).course_id
        results: dict[str, PartResult] = {}
        booted_at: int | None = None  # kernel.restarts when the harness was defined
        limits = (self.cell_timeout, self.max_restarts)
        cell_deadline = time.monotonic() + self.notebook_timeout
        budget = EvaluationLimits(self.evaluate_timeout, self.evaluate_memory_mb * 2**20)
        for part in parts:
            if part.grade_id not in cells:
                continue
            rng = part_rng(course_id, *who, part.grade_id)
            plan = plan_part(part, cells[part.grade_id][1], rng)
            if not kernel.alive and not revive(
                kernel,
                nb,
                events["ran"],
                cell_deadline + self.part_timeout,
                events["notes"],
                limits,
            ):
                results[part.grade_id] = plan.no_answers(
                    "not checked: the kernel could not be restarted"
                )
                continue
            if booted_at != kernel.restarts:
                boot = kernel.execute(harness_boot_code(), timeout=30)
                booted_at = kernel.restarts if boot.status == "ok" else None
            nonce = secrets.token_hex(8)
            res = kernel.execute(answer_code(nonce, plan.requests), timeout=self.part_timeout)
            answers, note = collect_answers(res, nonce, len(plan.requests))
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
            t_eval = time.perf_counter()
            results[part.grade_id] = evaluate_part(plan, answers, note, budget)
            events["evaluate_seconds"][part.grade_id] = time.perf_counter() - t_eval
        return results

    # -- writing the graded notebook ------------------------------------------------------------
    def _write_outputs(
        self, nb: NotebookNode, results: dict[str, PartResult], events: dict[str, Any]
    ) -> None:
        in_kernel: dict[int, ExecResult] = events["in_kernel"]
        for gid, (idx, max_score) in test_cells(nb).items():
            cell = nb.cells[idx]
            visible = in_kernel.get(idx)
            result = results.get(gid)
            lines = []
            if visible is not None:
                status = "passed" if visible.status == "ok" else f"failed ({visible.ename})"
                lines.append(f"Visible tests in your kernel: {status}.")
                text = cell_output_text(visible.outputs)
                if text.strip() and visible.status != "ok":
                    lines.append("```\n" + text.strip() + "\n```")
            if result is None:
                # no hidden checks for this cell: the visible tests decide, as in stock nbgrader
                score = max_score if visible is not None and visible.status == "ok" else 0.0
            else:
                score = result.score
                lines += part_report_lines(result)
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
        summary = summary_markdown(results, events["notes"])
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
