"""Where the service's gradings run: a local pool of grading processes (the default), or the
workers of a Dask cluster (``--scheduler``), as with the batch ``course grade``.

Each grading process is set up as the batch's are (``autograder.grading.worker.init_worker``):
its own sandbox slot, its spare kernel started before its first submission, and — for a local
pool worker — killed with the service however the service dies (so are its sandboxes). The
local pool's processes are started fresh (``spawn``), not forked from the service's process
with its event loop and its threads.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from autograder.service.job import Job, JobResult, run_job

__all__ = ["DaskPool", "Executor", "LocalPool"]


class Executor(Protocol):
    def capacity(self) -> int: ...

    def submit(self, job: Job) -> Any: ...  # a future: done(), result()

    def restart(self) -> None: ...

    def close(self) -> None: ...


class LocalPool:
    """``workers`` grading processes on this machine."""

    def __init__(self, course_root: Path, workers: int, overrides: dict[str, Any]) -> None:
        self.course_root, self.workers, self.overrides = course_root, max(1, workers), overrides
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from autograder.grading.worker import init_worker

            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(str(self.course_root), True, self.overrides),
            )
        return self._pool

    def start(self) -> None:
        """Start every grading process now (each starts its spare sandbox and its MathJax), not
        on the first submission."""
        from autograder.service.typesetter import warm_up

        pool = self._executor()
        for f in [pool.submit(warm_up, str(self.course_root)) for _ in range(self.workers)]:
            f.result()

    def capacity(self) -> int:
        return self.workers

    def submit(self, job: Job) -> Future[JobResult]:
        return self._executor().submit(run_job, str(self.course_root), job, self.overrides)

    def restart(self) -> None:
        """After a grading process died: a fresh pool (what ran on the old one failed)."""
        self.close()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)


def _on_dask_worker(
    course_root: str, job: Job, overrides: dict[str, Any], env: dict[str, str]
) -> JobResult:
    from autograder.grading.scaleout import SLOT_BASE
    from autograder.grading.worker import init_worker, worker_slot

    os.environ.update({k: v for k, v in env.items() if k != "COURSE_SANDBOX_SLOT"})
    if worker_slot() is None:  # this worker process's first grading: claim a slot of its own
        os.environ.pop("COURSE_SANDBOX_SLOT", None)
        init_worker(course_root, False, overrides, first_slot=SLOT_BASE)
    return run_job(course_root, job, overrides)


class DaskPool:
    """The workers of the Dask cluster whose scheduler is at ``address`` (each with the course
    checkout, the exchange, bubblewrap and the kernel environment)."""

    def __init__(self, course_root: Path, address: str, overrides: dict[str, Any]) -> None:
        from distributed import Client

        self.course_root, self.address, self.overrides = course_root, address, overrides
        self._client = Client(address, timeout="30s")
        self._env = {k: v for k, v in os.environ.items() if k.startswith("COURSE_")}

    def capacity(self) -> int:
        return max(1, sum(self._client.nthreads().values()))

    def submit(self, job: Job) -> Any:
        return self._client.submit(
            _on_dask_worker,
            str(self.course_root),
            job,
            self.overrides,
            self._env,
            key=f"service-{job.entry_id}-{os.getpid()}-{id(job)}",
            pure=False,
        )

    def restart(self) -> None:
        pass  # Dask replaces its lost workers itself

    def close(self) -> None:
        self._client.close()
