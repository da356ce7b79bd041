"""``course check NOTEBOOK`` (and the hub's Validate button): run a notebook's visible tests.

The notebook runs as the grader runs it: a fresh kernel on a private copy of its folder, every
code cell in order with a time limit per cell and for the whole notebook — in the grading
sandbox when this host has one, else in the learner's own kernel (the visible tests are public:
nothing hidden runs here). Every autograder-test cell is reported, passed or failed, with its
points; the report says which kernel ran them. Hidden checks are not run: they live only with
the instructor, and decide the grade when the notebook is submitted.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode

from course_learner.notebook import inspect_notebook
from course_learner.sandbox import (
    SandboxUnavailable,
    hand_over,
    kernel_manager,
    prepare,
    sandbox_problem,
)
from course_learner.settings import kernel_env

__all__ = ["CheckReport", "TestResult", "check_notebook"]

#: Files larger than this are not copied next to the notebook for the check.
_MAX_COPY_BYTES = 64 * 2**20


@dataclass(frozen=True)
class TestResult:
    """One autograder-test cell: its ``grade_id``, points, whether it passed and why not."""

    grade_id: str
    points: float
    ok: bool
    why: str = ""
    source: str = ""


@dataclass
class CheckReport:
    notebook: Path
    sandboxed: bool
    results: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def kernel(self) -> str:
        return "sandboxed" if self.sandboxed else "NOT sandboxed"

    def format(self) -> str:
        lines = [f"course check {self.notebook.name} ({self.kernel} kernel)"]
        for r in self.results:
            mark = "✓" if r.ok else "✗"
            lines.append(
                f"  {mark} {r.grade_id} ({r.points:g} points){'' if r.ok else ': ' + r.why}"
            )
        lines += [f"  note: {n}" for n in self.notes]
        passed = sum(r.points for r in self.results if r.ok)
        total = sum(r.points for r in self.results)
        lines.append(
            f"visible tests pass in parts worth {passed:g} of {total:g} points "
            "(hidden checks decide the grade when you submit)"
        )
        return "\n".join(lines)


def _is_test(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _copy_folder(src: Path, dest: Path) -> None:
    """The regular files below ``src`` (no links, no special files, at most 64 MB in all)."""
    total = 0
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        size = path.stat().st_size
        if total + size > _MAX_COPY_BYTES:
            continue
        total += size
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _error_of(cell: NotebookNode) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', '')}: {out.get('evalue', '')}".strip(": ")
    return None


def check_notebook(
    path: Path,
    sandbox: bool | None = None,
    cell_timeout: float = 30,
    notebook_timeout: float = 180,
) -> CheckReport:
    """Run ``path``'s cells like the grader and report its visible tests.

    ``sandbox``: True requires the grading sandbox (``SandboxUnavailable`` when this host has
    none), False runs the learner's own kernel, None (the hub's default) uses the sandbox when
    the host has one and the learner's own kernel otherwise. Raises ``ValueError`` when the file
    cannot be read as a notebook.
    """
    path = Path(path)
    problem = inspect_notebook(path)
    if problem:
        raise ValueError(problem)
    nb = nbformat.read(path, as_version=4)
    env = kernel_env()
    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
        base = Path(tmp)
        notes: list[str] = []
        use_sandbox = False
        if sandbox is not False:
            why = sandbox_problem(env, base / "probe")
            if why is None:
                use_sandbox = True
            elif sandbox:
                raise SandboxUnavailable(f"no grading sandbox here: {why}")
            else:
                notes.append(
                    f"this host has no grading sandbox ({why}): the visible tests ran in your "
                    "own kernel; the grader runs them in its sandbox"
                )
        work, run = prepare(base / "kernel") if use_sandbox else (base / "work", base / "run")
        work.mkdir(exist_ok=True)
        run.mkdir(exist_ok=True)
        _copy_folder(path.parent, work)
        if use_sandbox:
            hand_over(work)
        report = CheckReport(path, sandboxed=use_sandbox, notes=notes)
        km = kernel_manager(work, run, use_sandbox, env)
        _run(nb, km, work, cell_timeout, notebook_timeout, report)
    return report


def _run(
    nb: NotebookNode,
    km: object,
    work: Path,
    cell_timeout: float,
    notebook_timeout: float,
    report: CheckReport,
) -> None:
    client = NotebookClient(
        nb,
        km=km,  # type: ignore[arg-type]
        timeout=int(cell_timeout),
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"longer than {cell_timeout:g} s"},
        startup_timeout=60,
        resources={"metadata": {"path": str(work)}},
    )
    deadline = time.monotonic() + notebook_timeout
    ran: set[int] = set()
    with client.setup_kernel(cwd=str(work)):
        for idx, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                report.notes.append(f"cell {idx}: not run (the notebook time limit was reached)")
                break
            client.timeout = max(1, int(min(cell_timeout, remaining)))
            try:
                client.execute_cell(cell, idx)
            except DeadKernelError:
                report.notes.append(f"cell {idx}: the kernel died; the rest was not run")
                break
            ran.add(idx)
    for idx, cell in enumerate(nb.cells):
        if not _is_test(cell):
            continue
        meta = cell.metadata.nbgrader
        error = _error_of(cell) if idx in ran else "not run"
        report.results.append(
            TestResult(
                meta["grade_id"],
                float(meta.get("points", 0)),
                error is None,
                (error or "")[:300],
                cell.source,
            )
        )
