"""Running a notebook in a kernel, cell by cell, as the grader does (host side of the sandbox).

``run_cells`` runs every code cell with a per-cell and a per-notebook wall-clock limit; a cell that
kills the kernel (``os._exit``, a segfault, a memory or CPU limit) is recorded, the kernel is
restarted (``revive``), the cells that ran before are replayed, and the rest of the notebook goes
on. ``acquire_kernel`` hands out a started sandboxed kernel, keeping one pre-started spare per
process so that starting a sandbox overlaps with grading. ``course check`` and the grader's
``SandboxedAutograde`` share this code, so a learner's self-check runs a notebook exactly as the
grader will.
"""

from __future__ import annotations

import atexit
import json
import time
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict

from autograder.grading.failpoints import failpoint
from autograder.sandbox.bubblewrap import SandboxConfig
from autograder.sandbox.kernel import ExecResult, SandboxedKernel

__all__ = ["acquire_kernel", "kill_spares", "prewarm_spare", "revive", "run_cells"]


_SPARES: dict[SandboxConfig, SandboxedKernel] = {}


def kill_spares() -> None:
    """Shut this process's spare kernels down (at exit: their cgroup leaves and scratch
    folders go with them)."""
    while _SPARES:
        _SPARES.popitem()[1].shutdown()


atexit.register(kill_spares)


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


def run_cells(
    nb: NotebookNode,
    kernel: SandboxedKernel,
    cell_timeout: float,
    notebook_timeout: float,
    max_restarts: int,
    max_output_bytes: int = 2 * 2**20,
) -> dict[str, Any]:
    """Run every code cell of ``nb`` in ``kernel``, storing outputs in the cells.

    The kernel keeps at most its ``max_output_bytes`` per cell; the notebook keeps at most
    ``max_output_bytes`` (this function's) of outputs in all, so that many cells that each
    print up to their own cap cannot grow the graded notebook and its feedback without bound.

    Returns ``ran`` (cells that completed without killing the kernel, replayed after a
    restart), ``killers`` (cells that killed it), ``notes`` (what happened, for the report) and
    ``in_kernel`` (each cell's ``ExecResult``).
    """
    kept = 0
    capped = False
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
        if ran:
            failpoint("kernel-run")  # a crash test stops here, the learner's kernel running
        res = kernel.execute(cell.source, timeout=min(cell_timeout, remaining))
        size = len(json.dumps(res.outputs, default=str))
        if kept + size > max_output_bytes:
            if not capped:
                notes.append(
                    f"cell {idx}: outputs dropped from here on (the notebook's outputs are "
                    f"limited to {max_output_bytes >> 10} KiB)"
                )
            capped = True
            errors = [o for o in res.outputs if o.get("output_type") == "error"][:1]
            res.outputs = [_note(f"[{size} bytes of output dropped: notebook output limit]")]
            res.outputs += [
                {**e, "evalue": str(e.get("evalue", ""))[:500], "traceback": []} for e in errors
            ]
            size = len(json.dumps(res.outputs, default=str))
        kept += size
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


def _note(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


def _error(ename: str, evalue: str) -> NotebookNode:
    return from_dict(
        {
            "output_type": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"],
        }
    )
