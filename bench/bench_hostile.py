"""The hostile corpus's cost: batch wall time with and without it, and the grader's memory.

Grades, in one process and with the same limits as ``tests/test_hostile_submissions.py``:

1. an ordinary batch — ``--ordinary`` learners, alternately solved and blank;
2. the same batch with every kind of ``tests/test_hostile_submissions.py``'s corpus mixed in;

and prints each batch's wall time, the slowest submissions and the verdict of every hostile
kind, and the largest resident memory (``VmHWM``) of any grading process (the pool workers,
which hold the gradebook and run the hidden checks, and this process) during each batch — not
of the sandboxes or of the short-lived evaluation children, which are separate processes with
their own limits. Also prints what ``course sandbox setup`` reports about the limits here, and
(unless ``--no-feedback``) the time ``course feedback`` takes for the batch with the hostile
corpus, each page within the test's budget (20 s and 512 MiB to render, the same to typeset),
with this process's peak memory during it (the render children excluded: they have the budget).

    PYTHONPATH=. .venv/bin/python bench/bench_hostile.py [--workers 3] [--ordinary 12] [--no-feedback]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import test_hostile_submissions as corpus  # noqa: E402
from grading_support import grade, learner_notebook, make_course, submit, verify  # noqa: E402

from autograder.sandbox import SandboxConfig  # noqa: E402
from autograder.sandbox.enforcement import format_report, limits_report  # noqa: E402


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakMemory(threading.Thread):
    """The largest VmHWM of this process and (``children``) its direct children (the grading
    pool)."""

    def __init__(self, children: bool = True) -> None:
        super().__init__(daemon=True)
        self.children = children
        self.peak: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.wait(0.1):
            try:
                kids = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            except OSError:
                kids = []
            if not self.children:
                kids = []
            for pid in [me, *map(int, kids)]:
                self.peak[pid] = max(self.peak.get(pid, 0), _hwm(pid))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak.values(), default=0)


def run_batch(names: dict[str, object], workers: int) -> tuple[float, int, dict, Path]:
    root = make_course(Path(tempfile.mkdtemp(prefix="bench-hostile-")), corpus.PS, corpus.CONFIG)
    for name, build in names.items():
        content = build(root) if callable(build) else build
        extra = {"notes.txt": b"my notes"} if name == "missing_notebook" else None
        submit(root, corpus.PS, name, content, extra)
    watch = PeakMemory()
    watch.start()
    t0 = time.monotonic()
    outcomes = grade(root, corpus.PS, workers=workers, **corpus.LIMITS)
    wall = time.monotonic() - t0
    return wall, watch.stop(), outcomes, root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=corpus.WORKERS)
    parser.add_argument("--ordinary", type=int, default=12)
    parser.add_argument("--no-feedback", action="store_true", help="skip `course feedback`")
    args = parser.parse_args()

    print("limits of a grading slot here (course sandbox setup):")
    print(format_report(limits_report(SandboxConfig(slot=0))))

    ordinary = {
        f"learner{i:02d}": (lambda root, i=i: learner_notebook(root, corpus.PS, solved=i % 2 == 0))
        for i in range(args.ordinary)
    }
    hostile = {name: build for name, (build, _) in corpus.CORPUS.items()}
    wall0, rss0, _, _ = run_batch(ordinary, args.workers)
    wall1, rss1, outcomes, root = run_batch({**ordinary, **hostile}, args.workers)
    print(f"\n{args.workers} grading processes, {os.cpu_count()} CPUs")
    print(
        f"ordinary batch: {len(ordinary)} submissions, {wall0:.0f} s, grader peak RSS {rss0 >> 20} MiB"
    )
    print(
        f"with the hostile corpus: {len(ordinary) + len(hostile)} submissions ({len(hostile)} "
        f"kinds), {wall1:.0f} s, grader peak RSS {rss1 >> 20} MiB"
    )
    print("\nkind | status | score | seconds | verdict as expected")
    for name, (_, expect) in corpus.CORPUS.items():
        o = outcomes[name]
        score = "—" if o.score is None else f"{o.score:g}/{o.max_score:g}"
        ok = "yes" if not verify(o, expect) else f"NO: {verify(o, expect)[:1]}"
        notes = "; ".join(sorted({p.get("note", "") for p in o.parts.values()} - {""}))[:80]
        print(f"{name} | {o.status} | {score} | {o.seconds:.1f} | {ok} {notes}")
    if not args.no_feedback:
        from autograder.feedback.generate import LIMIT_NOTE as RENDER_NOTE
        from autograder.feedback.generate import generate_feedback
        from autograder.feedback.typeset import LIMIT_NOTE as TYPESET_NOTE

        watch = PeakMemory(children=False)
        watch.start()
        t0 = time.monotonic()
        files = generate_feedback(root, corpus.PS, corpus.FEEDBACK_SECONDS, corpus.FEEDBACK_MB)
        took = time.monotonic() - t0
        peak = watch.stop()
        pages = {f.parent.parent.name: f.read_text() for f in files}
        over = sorted(n for n, page in pages.items() if RENDER_NOTE[1:] in page)
        untypeset = sorted(n for n, page in pages.items() if TYPESET_NOTE in page)
        print(
            f"\ncourse feedback with the hostile corpus: {len(pages)} pages, {took:.0f} s, "
            f"this process's peak RSS {peak >> 20} MiB; not rendered within the limits: "
            f"{over}; mathematics not typeset within the limits: {untypeset}"
        )


if __name__ == "__main__":
    main()
