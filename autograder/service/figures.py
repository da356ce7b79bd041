"""The figures of a problem set that the instructor page and ``course report`` show: the queue,
each recent grading's latency and verdict, per-part pass rates and the distribution of scores.

The queue and latencies come from the service's ledger (where there is one); the pass rates and
scores from the verdicts the graders recorded (the markers beside the graded submissions,
``autograder.feedback.read_markers``) — whoever graded them, the service or the batch — one per
learner, their latest.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.service.ledger import Entry, Ledger
from autograder.service.plot import histogram_bins

__all__ = [
    "AssignmentFigures",
    "PartRate",
    "assignment_figures",
    "format_figures",
    "percentile",
]


@dataclass(frozen=True)
class PartRate:
    part: str
    title: str
    learners: int
    full: float  # share of learners with every point of the part
    mean: float  # mean share of the part's points


@dataclass
class AssignmentFigures:
    assignment: str
    counts: dict[str, int] = field(default_factory=dict)  # by state, and waiting / held
    queue: list[Entry] = field(default_factory=list)  # queued, grading, held
    recent: list[Entry] = field(default_factory=list)  # latest gradings first
    latency: dict[str, float] = field(default_factory=dict)  # median, p95, max (s)
    throughput: float | None = None  # released per minute over the released ones' span
    parts: list[PartRate] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # one per learner, after late penalty
    max_score: float | None = None
    by_status: dict[str, int] = field(default_factory=dict)  # verdicts: graded, broken

    def as_json(self) -> dict[str, Any]:
        def row(e: Entry) -> dict[str, Any]:
            return {
                "learner": e.learner,
                "submitted_at": e.submitted_at,
                "state": e.state,
                "status": e.status,
                "verdict": e.verdict,
                "score": e.score,
                "max_score": e.max_score,
                "penalty": e.penalty,
                "latency": e.latency,
                "grading_seconds": e.seconds,
                "not_before": e.not_before,
                "release_at": e.release_at,
                "graded_by": e.graded_by,
            }

        return {
            "assignment": self.assignment,
            "counts": self.counts,
            "queue": [row(e) for e in self.queue],
            "recent": [row(e) for e in self.recent],
            "latency": self.latency,
            "throughput_per_minute": self.throughput,
            "parts": [p.__dict__ for p in self.parts],
            "scores": self.scores,
            "max_score": self.max_score,
            "verdicts": self.by_status,
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by the nearest-rank method: a value of ``values``."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _part_titles(course_root: Path, assignment: str) -> dict[str, str]:
    try:
        from autograder.authoring import problem_set_dir
        from autograder.checks.loader import load_parts

        folder = problem_set_dir(course_root, assignment)
        return {p.grade_id: p.title for p in load_parts(folder, assignment)}
    except Exception:  # no hidden checks for it: the grade ids name the parts
        return {}


def assignment_figures(
    course_root: Path, assignment: str, ledger: Ledger | None, recent: int = 30
) -> AssignmentFigures:
    """The figures of ``assignment`` (see the module)."""
    from autograder.feedback.export import read_markers

    out = AssignmentFigures(assignment)
    now = time.time()
    if ledger is not None:
        entries = ledger.entries(assignment)
        for e in entries:
            out.counts[e.state] = out.counts.get(e.state, 0) + 1
            if e.state == "queued" and e.wait_reason == "cap" and (e.not_before or 0) > now:
                out.counts["waiting"] = out.counts.get("waiting", 0) + 1
            if e.state == "graded" and (e.release_at or 0) > now:
                out.counts["held"] = out.counts.get("held", 0) + 1
        out.queue = [e for e in entries if e.state in ("queued", "grading", "graded")]
        done = [e for e in entries if e.graded_at is not None]
        out.recent = sorted(done, key=lambda e: e.graded_at or 0, reverse=True)[:recent]
        lat = [e.latency for e in entries if e.latency is not None and e.release_at is None]
        if lat:
            out.latency = {
                "count": float(len(lat)),
                "median": statistics.median(lat),
                "p95": percentile(lat, 95),
                "max": max(lat),
            }
        released = [e for e in entries if e.released_at is not None and e.release_at is None]
        if len(released) > 1:
            span = max(e.released_at or 0 for e in released) - min(e.submitted_at for e in released)
            out.throughput = len(released) / span * 60 if span > 0 else None
    markers = read_markers(course_root, assignment)
    titles = _part_titles(course_root, assignment)
    fractions: dict[str, list[float]] = {}
    for m in markers:
        out.by_status[m.get("status", "?")] = out.by_status.get(m.get("status", "?"), 0) + 1
        if m.get("score") is not None:
            out.scores.append(float(m["score"]) - float(m.get("penalty") or 0.0))
        if m.get("max_score") is not None:
            out.max_score = max(out.max_score or 0.0, float(m["max_score"]))
        if m.get("status") != "graded":
            continue
        for gid, part in (m.get("parts") or {}).items():
            full = float(part.get("max_score") or 0)
            if full > 0:
                fractions.setdefault(gid, []).append(float(part.get("score") or 0) / full)
    out.parts = sorted(
        (
            PartRate(
                gid,
                titles.get(gid, gid),
                len(fs),
                sum(f >= 1.0 - 1e-9 for f in fs) / len(fs),
                sum(fs) / len(fs),
            )
            for gid, fs in fractions.items()
        ),
        key=lambda p: (p.full, p.mean, p.part),
    )
    return out


def _clock(t: float | None) -> str:
    return "—" if t is None else dt.datetime.fromtimestamp(t).strftime("%d %b %H:%M:%S")


def format_figures(f: AssignmentFigures) -> str:
    """The figures as text (``course report``)."""
    lines = [f"{f.assignment}"]
    if f.counts:
        order = [
            "queued",
            "waiting",
            "grading",
            "graded",
            "held",
            "released",
            "superseded",
            "refused",
            "failed",
        ]
        lines.append(
            "  queue: " + ", ".join(f"{f.counts[k]} {k}" for k in order if f.counts.get(k))
        )
    if f.latency:
        lines.append(
            f"  submission → feedback over {int(f.latency['count'])} released: "
            f"median {f.latency['median']:.1f} s, 95th percentile {f.latency['p95']:.1f} s, "
            f"max {f.latency['max']:.1f} s"
            + (f"; throughput {f.throughput:.1f} / min" if f.throughput else "")
        )
    if f.queue:
        lines.append("  in the queue:")
        for e in f.queue:
            what = e.state
            if e.state == "queued" and e.wait_reason == "cap" and e.not_before:
                what = f"waiting for the hour's cap until {_clock(e.not_before)}"
            elif e.state == "graded" and e.release_at:
                what = f"graded, feedback held until {_clock(e.release_at)}"
            lines.append(f"    {e.learner:<16} submitted {_clock(e.submitted_at)}  {what}")
    if f.recent:
        lines.append("  recent gradings:")
        lines.append(
            f"    {'learner':<16} {'submitted':<16} {'latency':>8} {'grading':>8}  verdict"
        )
        for e in f.recent[:15]:
            lat = "—" if e.latency is None else f"{e.latency:.1f} s"
            score = "" if e.score is None else f" {e.score:g}/{e.max_score:g}"
            lines.append(
                f"    {e.learner:<16} {_clock(e.submitted_at):<16} {lat:>8} "
                f"{(e.seconds or 0):>6.1f} s  {e.status}{score} {e.verdict or ''}"[:140]
            )
    if f.parts:
        lines.append("  per part (graded submissions, each learner's latest):")
        width = max(len(p.title) for p in f.parts)
        for p in f.parts:
            lines.append(
                f"    {p.title:<{width}}  {100 * p.full:5.1f} % full marks, "
                f"mean {100 * p.mean:5.1f} % of the points ({p.learners} learners)"
            )
    if f.scores and f.max_score:
        counts = histogram_bins(f.scores, f.max_score)
        lines.append(
            f"  scores of {len(f.scores)} learner(s) (out of {f.max_score:g}; median "
            f"{statistics.median(f.scores):g}):"
        )
        for i, n in enumerate(counts):
            lo, hi = f.max_score * i / len(counts), f.max_score * (i + 1) / len(counts)
            lines.append(f"    {lo:6.1f}–{hi:<6.1f} {'█' * n} {n or ''}".rstrip())
    return "\n".join(lines)
