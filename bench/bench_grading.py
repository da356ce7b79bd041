"""Grading throughput: stock ``nbgrader autograde`` against ``course grade``, in one run.

The same generated problem-set-1 submissions (correct, blank and the mutation bank's wrong
ones, in turn) are graded twice, each time in a fresh throwaway course:

* **stock**: nbgrader 0.9.6 with its default configuration — ``nbgrader autograde`` runs every
  notebook in its own unsandboxed kernel, one after the other (what a course gets out of the box);
* **course**: ``course grade --workers N`` — the sandbox, the hidden checks outside the kernel,
  N worker processes.

Printed: wall time and throughput of each, their ratio, and for ``course grade`` the
per-submission overhead beyond the learner's own code (the worker's time for a submission minus
the time its notebook's cells ran in the kernel). Targets (issue 5): ratio ≥ 2 on 2 cores,
overhead ≤ 1 s. Usage: ``python bench/bench_grading.py [--n 50] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from grading_support import append_to, learner_notebook, make_course, submit  # noqa: E402
from test_ps01_mutants import MUTANTS  # noqa: E402

from autograder.authoring import build_source, problem_set_dir  # noqa: E402
from autograder.grading import grade_assignment  # noqa: E402

PS = "ps01_quaternions"


def populate(root: Path, n: int) -> None:
    kinds = ["solved", "blank", *MUTANTS]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "solved":
            nb = learner_notebook(root, PS, solved=True)
        elif kind == "blank":
            nb = learner_notebook(root, PS, solved=False)
        else:
            cell, code, _, _ = MUTANTS[kind]
            nb = append_to(learner_notebook(root, PS), cell, code)
        submit(root, PS, f"learner{i:03d}", nb)


def stock(n: int, tmp: Path) -> float:
    root = tmp / "stock" / "assignments"
    shutil.copytree(problem_set_dir(REPO / "assignments", PS), problem_set_dir(root, PS))
    build_source(root, PS)  # nbgrader's source notebook, as `course release` builds it
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    # nbgrader runs `alembic` from PATH: the venv's bin first, activated or not
    env["PATH"] = f"{Path(nbgrader).parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run(
        [nbgrader, "generate_assignment", PS], cwd=root, env=env, check=True, capture_output=True
    )
    populate(root, n)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [nbgrader, "autograde", PS], cwd=root, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    graded = len(list((root / "autograded").glob(f"*/{PS}/{PS}.ipynb")))
    if graded != n:
        print(proc.stderr[-2000:])
        raise SystemExit(f"stock nbgrader graded {graded} of {n}")
    return wall


def course(n: int, workers: int, tmp: Path) -> tuple[float, list]:
    root = make_course(tmp / "course", PS)
    populate(root, n)
    t0 = time.perf_counter()
    outcomes = grade_assignment(root, PS, workers=workers, run_id="bench")
    wall = time.perf_counter() - t0
    bad = [o for o in outcomes if o.status != "graded"]
    if bad:
        raise SystemExit(f"course grade failed: {bad[:2]}")
    return wall, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating stock/course rounds")
    args = parser.parse_args()
    stock_walls, course_walls, outcomes = [], [], []
    for r in range(args.rounds):  # alternate, so that background load hits both alike
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
            stock_walls.append(stock(args.n, Path(tmp)))
            wall, outs = course(args.n, args.workers, Path(tmp))
            course_walls.append(wall)
            outcomes += outs
        print(
            f"round {r + 1}: stock {stock_walls[-1]:.1f} s, course {course_walls[-1]:.1f} s, "
            f"ratio {stock_walls[-1] / course_walls[-1]:.2f}",
            flush=True,
        )
    t_stock, t_course = statistics.median(stock_walls), statistics.median(course_walls)
    overhead = [o.seconds - o.timings.get("learner_cells", 0.0) for o in outcomes]
    learner = [o.timings.get("learner_cells", 0.0) for o in outcomes]
    per_sub = [o.seconds for o in outcomes]
    print(f"{args.n} PS1 submissions, {os.cpu_count()} CPUs")
    print(f"{'':28}{'wall s':>9}{'subs/min':>10}")
    print(f"{'stock nbgrader autograde':28}{t_stock:9.1f}{60 * args.n / t_stock:10.1f}")
    print(
        f"{f'course grade --workers {args.workers}':28}{t_course:9.1f}{60 * args.n / t_course:10.1f}"
    )
    ratio = statistics.median(s / c for s, c in zip(stock_walls, course_walls, strict=True))
    met = "met" if ratio >= 2 else "MISSED"
    print(
        f"throughput ratio course/stock, median of {args.rounds} rounds: {ratio:.2f}x (target >= 2: {met})"
    )
    print(
        f"course grade, per submission in a worker: median {statistics.median(per_sub):.2f} s, of which the "
        f"notebook's own cells {statistics.median(learner):.2f} s"
    )
    med, worst = statistics.median(overhead), max(overhead)
    p90 = statistics.quantiles(overhead, n=10)[-1]
    over = sum(1 for x in overhead if x > 1)
    print(
        f"overhead beyond the learner's code: median {med:.2f} s, 90th percentile {p90:.2f} s, "
        f"max {worst:.2f} s, {over} of {len(overhead)} over 1 s "
        f"(target <= 1 s: {'met' if med <= 1 else 'MISSED'} by the median)"
    )
    keys = ["kernel_start", "learner_cells", "checks", "total"]
    print(
        "median seconds inside the preprocessor: "
        + ", ".join(
            f"{k} {statistics.median(o.timings.get(k, 0.0) for o in outcomes):.2f}" for k in keys
        )
    )


if __name__ == "__main__":
    main()
