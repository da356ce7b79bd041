"""``course check NOTEBOOK``: a learner's self-check, through the grader's own code path.

The notebook is run exactly as the grader runs it (``preprocessor.run_cells``: a fresh kernel —
in the sandbox when this machine has one — with the same time limits), and every autograder-test
cell is reported: passed or failed, with its points. Hidden checks are not run (they live only
with the instructor); the visible tests are the same ones the grader shows in feedback.
Exit status: 0 all visible tests pass, 1 some fail, 2 the notebook cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils

from autograder.grading.notebook_run import run_cells
from autograder.grading.submissions import inspect_notebook
from autograder.sandbox.bubblewrap import SandboxConfig, check_sandbox
from autograder.sandbox.kernel import LocalKernel, SandboxedKernel

__all__ = ["CheckReport", "check_notebook"]


@dataclass
class CheckReport:
    notebook: Path
    sandboxed: bool
    results: list[tuple[str, float, bool, str]] = field(default_factory=list)  # id, points, ok, why
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(ok for _, _, ok, _ in self.results)

    def format(self) -> str:
        lines = [
            f"course check {self.notebook.name} ({'sandboxed' if self.sandboxed else 'NOT sandboxed'} kernel)"
        ]
        for gid, points, ok, why in self.results:
            mark = "✓" if ok else "✗"
            lines.append(f"  {mark} {gid} ({points:g} points){'' if ok else ': ' + why}")
        lines += [f"  note: {n}" for n in self.notes]
        passed = sum(p for _, p, ok, _ in self.results if ok)
        total = sum(p for _, p, _, _ in self.results)
        lines.append(
            f"visible tests pass in parts worth {passed:g} of {total:g} points "
            "(hidden checks decide the grade when you submit)"
        )
        return "\n".join(lines)


def check_notebook(
    path: Path, sandbox: bool = True, cell_timeout: float = 30, notebook_timeout: float = 180
) -> CheckReport:
    """Run ``path`` like the grader and report its visible tests (raises ``ValueError`` when the
    notebook cannot be read, ``SandboxUnavailable`` when a sandbox was asked for and is missing)."""
    problem = inspect_notebook(path)
    if problem:
        raise ValueError(problem)
    nb = nbformat.read(path, as_version=4)
    if sandbox:
        check_sandbox(SandboxConfig())
        kernel: SandboxedKernel = SandboxedKernel(SandboxConfig(), files_from=path.parent)
    else:
        kernel = LocalKernel(files_from=path.parent)
    report = CheckReport(path, sandboxed=sandbox)
    with kernel:
        events = run_cells(nb, kernel, cell_timeout, notebook_timeout, max_restarts=2)
    report.notes = events["notes"]
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
            res = events["in_kernel"].get(idx)
            ok = res is not None and res.status == "ok"
            why = "not run" if res is None else f"{res.ename}: {res.evalue}".strip(": ")
            report.results.append(
                (
                    cell.metadata.nbgrader["grade_id"],
                    float(cell.metadata.nbgrader["points"]),
                    ok,
                    why[:300],
                )
            )
    return report
