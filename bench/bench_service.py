"""Graded on submit: 50 learners submit problem set 1 within one minute; how long until each one's
feedback is released, against the instructor's batch ``course grade`` of the same 50.

**Service.** A throwaway course with its own exchange; the grading service
(``python -m autograder.service serve --workers N``, the course's default limits) is started and
left to come up; then ``--learners`` learners submit through the exchange — nbgrader's submit,
each with their own cache, as on the hub — at random moments spread over ``--window`` seconds
(correct, blank and the mutation bank's wrong notebooks, in turn). A watcher looks in the
exchange, every 0.2 s, for each submission's feedback at the address nbgrader's Fetch Feedback
reads (``md5(secret + notebook)``) and notes when the real feedback (not a notice) is there.
Latency = that moment minus the moment the learner's submit returned. Reported: median, 95th
percentile and maximum latency, throughput (released per minute from the first submission to
the last release), and the checks: none lost (each submission has its feedback, the ledger says
``released``), none graded twice (the journal of gradings has one line per submission).

**Batch.** A second course receives the same notebooks in its exchange; the instructor runs, at
the end of the minute, ``course collect``, ``course grade --workers N`` and ``course feedback``
(which releases to the exchange). Its latency for a submission = the end of the batch minus
the submission's moment.

Usage: ``PYTHONPATH=. .venv/bin/python bench/bench_service.py [--learners 50] [--window 60]
[--workers 2] [--seed 0] [--json out.json]``. Run as root (the sandbox's slots). The load
average of the machine is printed with the figures: on a shared host they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from grading_support import append_to, learner_notebook  # noqa: E402
from service_support import ServiceCourse, wait_for  # noqa: E402

from autograder.authoring import load_mutants, problem_set_dir  # noqa: E402
from autograder.service.feedback import feedback_address  # noqa: E402
from autograder.service.figures import percentile  # noqa: E402

PS = "ps01_quaternions"
COURSE = str(Path(sys.executable).with_name("course"))


def notebooks(root: Path, n: int) -> list[Any]:
    mutants = load_mutants(problem_set_dir(REPO / "assignments", PS))
    kinds: list[Any] = ["solved", "blank", *mutants]
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "solved":
            out.append(learner_notebook(root, PS, solved=True))
        elif kind == "blank":
            out.append(learner_notebook(root, PS, solved=False))
        else:
            nb = learner_notebook(root, PS)
            code = (
                kind.code
                if isinstance(kind.code, str)
                else kind.code(
                    {
                        c.metadata["nbgrader"]["grade_id"]: c.source
                        for c in nb.cells
                        if c.metadata.get("nbgrader", {}).get("solution")
                    }
                )
            )
            out.append(append_to(nb, kind.cell, code))
    return out


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class CpuAccount:
    """CPU seconds used by a process and everything it starts (grading processes, sandboxed
    kernels, MathJax), from a cgroup-v1 ``cpuacct`` group of its own; None where there is no
    writable cpuacct hierarchy."""

    BASE = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, name: str) -> None:
        self.path: Path | None = self.BASE / f"cryoem-bench-{name}-{os.getpid()}"
        try:
            self.path.mkdir(exist_ok=True)
        except OSError:
            self.path = None

    def add(self, pid: int) -> None:
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(pid))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.path is not None:
            for pid in (self.path / "cgroup.procs").read_text().split():
                try:
                    (self.BASE / "cgroup.procs").write_text(pid)
                except OSError:
                    pass
            try:
                self.path.rmdir()
            except OSError:
                pass


def _secret(course: ServiceCourse, learner: str) -> str:
    found = [p for p in course.inbound() if p.name.startswith(f"{learner}+")]
    return (found[0] / "submission_secret.txt").read_text().strip()


def run_service(tmp: Path, n: int, window: float, workers: int, seed: int) -> dict[str, Any]:
    course = ServiceCourse(tmp / "service", workers=workers, overrides={})
    nbs = notebooks(course.root, n)
    learners = [f"learner{i:03d}" for i in range(n)]
    rng = random.Random(seed)
    offsets = sorted(rng.uniform(0, window) for _ in range(n))
    account = CpuAccount("service")
    course.start()
    assert course.proc is not None
    account.add(course.proc.pid)  # before it starts its grading processes
    t_up = time.monotonic()
    wait_for(lambda: "grading service:" in course.log_tail(100000), 600, 0.5, "the service up")
    print(f"service up in {time.monotonic() - t_up:.1f} s (load {_load()})", flush=True)
    cpu0 = account.seconds()
    submitted: dict[str, float] = {}
    seen: dict[str, float] = {}
    feedback_dir = course.exchange / "cryoem-study-group-2022" / "feedback"
    done = threading.Event()

    def watch() -> None:
        addresses: dict[str, Path] = {}
        while not done.is_set():
            for learner in list(submitted):
                if learner in seen:
                    continue
                if learner not in addresses:
                    addresses[learner] = feedback_address(
                        feedback_dir, _secret(course, learner), PS
                    )
                path = addresses[learner]
                try:
                    page = path.read_bytes()
                except FileNotFoundError:
                    continue
                if b"course-notice" not in page and b"Autograder report" in page:
                    seen[learner] = time.time()
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    load_start = _load()
    t0 = time.time()
    for learner, nb, offset in zip(learners, nbs, offsets, strict=True):
        delay = t0 + offset - time.time()
        if delay > 0:
            time.sleep(delay)
        course.submit(learner, nb)
        submitted[learner] = time.time()
    print(f"{n} submitted in {time.time() - t0:.1f} s (load {_load()})", flush=True)
    try:
        wait_for(lambda: len(seen) == n, 3600, 1, "every feedback")
    finally:
        done.set()
        watcher.join()
    load_end = _load()
    cpu1 = account.seconds()
    course.stop()
    account.close()
    latencies = [seen[k] - submitted[k] for k in learners]
    entries = course.entries()
    journal = course.journal()
    per_fp: dict[str, int] = {}
    for e in journal:
        per_fp[e["fingerprint"]] = per_fp.get(e["fingerprint"], 0) + 1
    result = {
        "learners": n,
        "window_s": window,
        "workers": workers,
        "median_s": statistics.median(latencies),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies),
        "throughput_per_min": n / (max(seen.values()) - min(submitted.values())) * 60,
        "released": sum(e.state == "released" for e in entries),
        "lost": n - len(seen),
        "graded_twice": sum(1 for c in per_fp.values() if c > 1),
        "gradings": len(journal),
        "grading_s_median": statistics.median(e.seconds or 0 for e in entries),
        "load_start": load_start,
        "load_end": load_end,
        "service_side_latency_p95_s": percentile([e.latency or 0 for e in entries], 95),
        "cpu_s_per_submission": None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / n,
    }
    course.cleanup()
    return result


def run_batch(tmp: Path, n: int, window: float, workers: int, seed: int) -> dict[str, Any]:
    course = ServiceCourse(tmp / "batch", workers=workers, overrides={})
    nbs = notebooks(course.root, n)
    learners = [f"learner{i:03d}" for i in range(n)]
    rng = random.Random(seed)
    offsets = sorted(rng.uniform(0, window) for _ in range(n))
    # the same minute of submissions; the instructor grades when it is over
    t0 = time.time()
    for learner, nb in zip(learners, nbs, strict=True):
        course.submit(learner, nb)
    moments = {learner: t0 + off for learner, off in zip(learners, offsets, strict=True)}
    load_start = _load()
    env = {**os.environ, **course.env}
    start = time.time()
    steps = {}
    account = CpuAccount("batch")
    cpu0 = account.seconds()
    for cmd in (
        ["collect", PS],
        ["grade", PS, "--workers", str(workers), "--quiet"],
        ["feedback", PS],
    ):
        s = time.time()
        proc = subprocess.Popen(
            [COURSE, *cmd],
            cwd=course.repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        account.add(proc.pid)
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"course {' '.join(cmd)} failed:\n{err[-3000:]}")
        steps[cmd[0]] = time.time() - s
    wall = time.time() - start
    cpu1 = account.seconds()
    account.close()
    # as if the batch started when the minute of submissions ended
    end = t0 + window + wall
    latencies = [end - moments[k] for k in learners]
    result = {
        "learners": n,
        "workers": workers,
        "wall_s": wall,
        "steps_s": steps,
        "throughput_per_min": n / steps["grade"] * 60,
        "median_s": statistics.median(latencies),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies),
        "gradings": len(course.journal()),
        "cpu_s_per_submission": None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / n,
        "load_start": load_start,
        "load_end": _load(),
    }
    course.cleanup()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["service", "batch"])
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {_load()} (1/5/15 min)", flush=True)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        if args.only != "batch":
            out["service"] = run_service(
                Path(tmp), args.learners, args.window, args.workers, args.seed
            )
            print(json.dumps(out["service"], indent=1), flush=True)
        if args.only != "service":
            out["batch"] = run_batch(Path(tmp), args.learners, args.window, args.workers, args.seed)
            print(json.dumps(out["batch"], indent=1), flush=True)
    if "service" in out:
        s = out["service"]
        print(
            f"\nservice: median {s['median_s']:.1f} s, p95 {s['p95_s']:.1f} s, max {s['max_s']:.1f} s, "
            f"{s['throughput_per_min']:.1f}/min; lost {s['lost']}, graded twice {s['graded_twice']} "
            f"— target p95 ≤ 90 s: {'met' if s['p95_s'] <= 90 and not s['lost'] and not s['graded_twice'] else 'NOT met'}"
        )
    if "batch" in out:
        b = out["batch"]
        print(
            f"batch:   median {b['median_s']:.1f} s, p95 {b['p95_s']:.1f} s, max {b['max_s']:.1f} s "
            f"(collect+grade+feedback {b['wall_s']:.1f} s after the minute), grading {b['throughput_per_min']:.1f}/min"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
