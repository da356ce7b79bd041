"""Scale-out: ``course grade`` on a 2-worker Dask LocalCluster against the local process pool.

The same generated problem-set-1 submissions (correct, blank and the mutation bank's, in turn)
are graded twice in fresh throwaway courses: ``--workers 2`` (a local process pool) and
``--scheduler`` of a ``LocalCluster(n_workers=2)`` on loopback. Printed: wall time, throughput,
the median per-submission overhead beyond the notebook's own code, and the ratio (cluster /
pool throughput; 1.0 means the cluster costs nothing over the pool on one machine).
Usage: ``python bench/bench_scaleout.py [--n 200]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from bench_grading import PS, populate  # noqa: E402
from grading_support import make_course  # noqa: E402

from autograder.grading import grade_assignment  # noqa: E402


def run(n: int, tmp: Path, scheduler: str | None) -> tuple[float, list]:
    root = make_course(tmp, PS)
    populate(root, n)
    t0 = time.perf_counter()
    outcomes = grade_assignment(root, PS, workers=2, scheduler=scheduler, run_id="bench")
    wall = time.perf_counter() - t0
    assert all(o.status == "graded" for o in outcomes) and len(outcomes) == n
    return wall, outcomes


def main() -> None:
    from distributed import LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        results["local pool, 2 workers"] = run(args.n, Path(tmp) / "pool", None)
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        ) as cluster:
            results["Dask LocalCluster, 2 workers"] = run(
                args.n, Path(tmp) / "dask", cluster.scheduler_address
            )
    print(f"{args.n} PS1 submissions")
    print(f"{'':32}{'wall s':>8}{'subs/min':>10}{'overhead s':>12}")
    for name, (wall, outcomes) in results.items():
        over = statistics.median(o.seconds - o.timings.get("learner_cells", 0.0) for o in outcomes)
        print(f"{name:32}{wall:8.1f}{60 * args.n / wall:10.1f}{over:12.2f}")
    (pool, _), (dask, _) = results.values()
    print(f"scaling ratio (cluster / pool throughput): {pool / dask:.2f}")


if __name__ == "__main__":
    main()
