"""``course grade``: grade every submission of an assignment, in parallel, safely and resumably.

Submissions are nbgrader's ``submitted/<learner>/<assignment>/`` folders, never modified. Each is
graded by nbgrader's own autograde (``NbGraderAPI.autograde``) with the course configuration
passed explicitly, in a worker process that owns one sandbox slot (its own uid), so that
concurrent learners never share a process budget.

* **Verdicts.** Every submission ends with a recorded verdict: ``graded``; or, for a notebook
  that cannot be graded — missing, empty, not JSON, a too-new nbformat, not a notebook — a
  zero in the gradebook, the reason, and a feedback notebook saying so. A failure of the grading
  machinery itself (not the learner's fault) is ``error``: nothing is recorded, the submission is
  retried on the next run, and the command exits non-zero.
* **Resumable.** When a submission is done, ``autograded/<learner>/<assignment>/.course-graded.json``
  records the submission's fingerprint (a hash of its files). A rerun skips submissions whose
  marker matches, regrades the rest; a killed run leaves no marker for what it did not finish.
* **Attested.** A graded notebook must carry ``SandboxedAutograde``'s attestation; if nbgrader
  graded without it (its configuration not loaded), the run stops with an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.nbgrader_setup import course_config, db_url
from autograder.preprocessor import ATTESTATION_KEY

__all__ = [
    "MARKER",
    "Outcome",
    "Submission",
    "find_submissions",
    "grade_assignment",
    "grade_one",
    "inspect_notebook",
]

MARKER = ".course-graded.json"
_MAX_NOTEBOOK_BYTES = 50 * 2**20


@dataclass(frozen=True)
class Submission:
    learner: str
    assignment: str
    path: Path
    fingerprint: str


@dataclass
class Outcome:
    """The verdict of one submission. ``status``: graded | broken | skipped | error.
    ``score`` is before, ``penalty`` the late-submission penalty nbgrader took off."""

    learner: str
    status: str
    verdict: str
    score: float | None = None
    max_score: float | None = None
    penalty: float = 0.0
    seconds: float = 0.0
    parts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # from the attestation, summed


def _fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()


def find_submissions(course_root: Path, assignment: str) -> list[Submission]:
    """Every ``submitted/<learner>/<assignment>/`` folder, sorted by learner."""
    base = course_root / "submitted"
    subs = []
    if base.is_dir():
        for learner_dir in sorted(base.iterdir()):
            folder = learner_dir / assignment
            if learner_dir.is_dir() and not learner_dir.is_symlink() and folder.is_dir():
                subs.append(Submission(learner_dir.name, assignment, folder, _fingerprint(folder)))
    return subs


def expected_notebooks(course_root: Path, assignment: str) -> list[str]:
    """Notebook names of the assignment, from its release (or source) folder."""
    for kind in ("release", "source"):
        folder = course_root / kind / assignment
        if folder.is_dir():
            names = sorted(p.stem for p in folder.glob("*.ipynb"))
            if names:
                return names
    raise FileNotFoundError(
        f"no notebooks for {assignment}: run `course release {assignment}` first"
    )


def inspect_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None when it can."""
    if not path.exists():
        return f"missing notebook: {path.name} is not in the submission"
    if path.is_symlink() or not path.is_file():
        return f"{path.name} is not a regular file"
    size = path.stat().st_size
    if size == 0:
        return f"{path.name} is an empty file"
    if size > _MAX_NOTEBOOK_BYTES:
        return f"{path.name} is larger than {_MAX_NOTEBOOK_BYTES >> 20} MB"
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return f"{path.name} is not valid JSON (is it a notebook?)"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return f"{path.name} is not a Jupyter notebook"
    major, minor = raw.get("nbformat"), raw.get("nbformat_minor")
    if major != nbformat.current_nbformat or not isinstance(minor, int):
        return f"{path.name} has nbformat {major}; version 4 is required"
    if minor > nbformat.current_nbformat_minor:
        return (
            f"{path.name} has nbformat 4.{minor}, newer than the 4.{nbformat.current_nbformat_minor} "
            "this grader reads"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
            nbformat.validate(nb)
    except Exception as exc:
        return f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def unsafe_files(folder: Path) -> list[str]:
    """Symbolic links and special files in a submission. nbgrader (run by root) would copy a
    link's *target* — ``/etc/shadow``, another learner's work — into the graded folder, where
    the learner's code could read it, so such a submission is refused whole."""
    problems = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink():
            problems.append(f"{rel} is a symbolic link (not allowed in a submission)")
        elif not (path.is_file() or path.is_dir()):
            problems.append(f"{rel} is not a regular file")
    return problems


# -- the worker ------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the ``course grade`` process dies, however it dies, so a
    killed run leaves nothing grading behind it (the sandbox follows: bwrap --die-with-parent)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(1)


def _init_worker(
    course_root: str, pool: bool, overrides: dict[str, Any], first_slot: int = 0
) -> None:
    """Per grading process: die with ``course grade`` (pool workers), claim a sandbox slot."""
    from autograder.slots import acquire_slot

    if pool:
        _die_with_parent()
        os.environ.pop("COURSE_SANDBOX_SLOT", None)  # inherited from the parent: not ours
    slot = (
        int(os.environ["COURSE_SANDBOX_SLOT"])
        if "COURSE_SANDBOX_SLOT" in os.environ
        else acquire_slot(first_slot)
    )
    _WORKER.update(course_root=course_root, overrides=overrides, slot=slot)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    _prewarm(Path(course_root), overrides, slot)


def _prewarm(course_root: Path, overrides: dict[str, Any], slot: int) -> None:
    """Before the first submission: start this process's spare sandbox and import what every
    submission needs (nbgrader's pipeline and gradebook, the libraries the hidden checks
    import), so that the first submission costs what every later one does."""
    import importlib

    from autograder.preprocessor import prewarm_spare, sandbox_config

    for module in (
        "nbgrader.apps",
        "nbgrader.converters.autograde",
        "nbgrader.api",
        "autograder.checks",
        "autograder.symbolic",
        "reference_impl.quaternion",
        "reference_impl.euler",
        "reference_impl.so3",
        "reference_impl.averaging",
        "scipy.spatial.transform",
    ):
        importlib.import_module(module)

    traits = course_config(course_root, **overrides).SandboxedAutograde
    if traits.get("prewarm", True):
        prewarm_spare(sandbox_config(str(traits.get("kernel_env", "")), slot))


def _api(course_root: Path, overrides: dict[str, Any]) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = course_config(course_root, **overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def grade_one(course_root: Path, sub: Submission, overrides: dict[str, Any]) -> Outcome:
    """Grade one submission with nbgrader and record its verdict (also in the marker file)."""
    t0 = time.perf_counter()
    names = expected_notebooks(course_root, sub.assignment)
    dest = course_root / "autograded" / sub.learner / sub.assignment
    problems = unsafe_files(sub.path)
    problems += [p for p in (inspect_notebook(sub.path / f"{n}.ipynb") for n in names) if p]
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        if problems:
            outcome = _record_broken(course_root, sub, names, "; ".join(problems), overrides)
        else:
            api = _api(course_root, overrides)
            result = api.autograde(sub.assignment, sub.learner, force=True, create=True)
            if not result.get("success"):
                log = str(result.get("error", "")) + str(result.get("log", ""))
                if "SandboxUnavailable" in log or "KernelStartError" in log:
                    raise RuntimeError(
                        f"the sandbox failed while grading {sub.learner}:\n{log[-3000:]}"
                    )
                return Outcome(
                    sub.learner,
                    "error",
                    f"nbgrader failed: {log.strip()[-800:]}",
                    seconds=time.perf_counter() - t0,
                )
            outcome = _collect(course_root, sub, names, dest)
    outcome.seconds = time.perf_counter() - t0
    marker = {
        **asdict(outcome),
        "fingerprint": sub.fingerprint,
        "run_id": overrides.get("run_id", ""),
    }
    (dest / MARKER).write_text(json.dumps(marker, indent=1))
    return outcome


def _collect(course_root: Path, sub: Submission, names: list[str], dest: Path) -> Outcome:
    from nbgrader.api import Gradebook

    parts: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in names:
        path = dest / f"{name}.ipynb"
        meta = nbformat.read(path, as_version=4).metadata.get(ATTESTATION_KEY)
        if not meta or meta.get("graded_by", "").split(".")[-1] != "SandboxedAutograde":
            raise RuntimeError(
                f"{path} was not graded by the course's sandboxed preprocessor: nbgrader's "
                "configuration was not applied — refusing to record an unsandboxed grade"
            )
        parts.update(meta.get("parts", {}))
        for key, value in meta.get("seconds", {}).items():
            timings[key] = timings.get(key, 0.0) + float(value)
    with Gradebook(db_url(course_root)) as gb:
        submission = gb.find_submission(sub.assignment, sub.learner)
        score, max_score = float(submission.score), float(submission.max_score)
        penalty = float(submission.late_submission_penalty or 0.0)
    return Outcome(
        sub.learner, "graded", "graded", score, max_score, penalty, parts=parts, timings=timings
    )


def _record_broken(
    course_root: Path, sub: Submission, names: list[str], reason: str, overrides: dict[str, Any]
) -> Outcome:
    """Zero in the gradebook, the reason, and a notebook for feedback that explains it."""
    from nbgrader.api import Gradebook

    coursedir_ts = sub.path / "timestamp.txt"
    timestamp = coursedir_ts.read_text().strip() if coursedir_ts.is_file() else None
    with Gradebook(
        db_url(course_root), course_id=course_config(course_root).CourseDirectory.course_id
    ) as gb:
        gb.update_or_create_student(sub.learner)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        try:
            submission = gb.update_or_create_submission(sub.assignment, sub.learner, **kwargs)
        except Exception:
            submission = gb.update_or_create_submission(sub.assignment, sub.learner)
        for nb in submission.notebooks:
            for grade in nb.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()
        max_score = float(submission.max_score)
    dest = course_root / "autograded" / sub.learner / sub.assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if coursedir_ts.is_file():
        shutil.copyfile(coursedir_ts, dest / "timestamp.txt")
    for name in names:
        release = course_root / "release" / sub.assignment / f"{name}.ipynb"
        nb = (
            nbformat.read(release, as_version=4) if release.exists() else nbformat.v4.new_notebook()
        )
        nb.cells.insert(
            0,
            nbformat.v4.new_markdown_cell(
                "## Autograder report\n\n**This submission could not be graded: "
                f"{reason}.** It scores 0. The notebook below is the blank release; submit a "
                "notebook saved by Jupyter to be graded."
            ),
        )
        nb.metadata[ATTESTATION_KEY] = {"graded_by": "verdict", "verdict": reason, "parts": {}}
        nbformat.write(nb, dest / f"{name}.ipynb")
    return Outcome(sub.learner, "broken", reason, 0.0, max_score)


# -- the orchestration -----------------------------------------------------------------------------
def _load_marker(course_root: Path, sub: Submission) -> dict[str, Any] | None:
    path = course_root / "autograded" / sub.learner / sub.assignment / MARKER
    try:
        marker = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return marker if marker.get("fingerprint") == sub.fingerprint else None


def _enable_wal(course_root: Path) -> None:
    url = db_url(course_root)
    if url.startswith("sqlite:///"):
        import sqlite3

        con = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()


def _run_local(
    course_root: Path,
    todo: list[Submission],
    workers: int,
    overrides: dict[str, Any],
    on_done: Callable[[Outcome], None],
) -> None:
    if workers <= 1:
        _init_worker(str(course_root), False, overrides)
        for sub in todo:
            on_done(grade_one(course_root, sub, overrides))
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(str(course_root), True, overrides),
    ) as pool:
        pending: dict[Future[Outcome], Submission] = {
            pool.submit(grade_one, course_root, sub, overrides): sub for sub in todo
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    sub = pending.pop(fut)
                    try:
                        on_done(fut.result())
                    except RuntimeError:
                        raise
                    except Exception as exc:  # a worker crashed: not the learner's fault
                        on_done(
                            Outcome(
                                sub.learner, "error", f"grading error: {type(exc).__name__}: {exc}"
                            )
                        )
        except BaseException:
            for fut in pending:
                fut.cancel()
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            raise


def grade_assignment(
    course_root: Path,
    assignment: str,
    workers: int = 2,
    run_id: str | None = None,
    force: bool = False,
    learners: Iterable[str] | None = None,
    progress: Callable[[int, int, Outcome], None] | None = None,
    overrides: dict[str, Any] | None = None,
    scheduler: str | None = None,
) -> list[Outcome]:
    """Grade the submissions of ``assignment``; returns one ``Outcome`` per submission.

    ``workers`` local processes, or the Dask cluster whose scheduler is at ``scheduler``.
    """
    import secrets

    from autograder.sandbox import SandboxConfig, check_sandbox

    course_root = course_root.resolve()
    expected_notebooks(course_root, assignment)  # fails early when not released
    check_sandbox(
        SandboxConfig(),
        secret_paths=[course_root / "source", course_root.parent / "reference_impl"],
    )
    subs = find_submissions(course_root, assignment)
    if learners is not None:
        wanted = set(learners)
        subs = [s for s in subs if s.learner in wanted]
    run_id = run_id or secrets.token_hex(8)
    opts = {"run_id": run_id, **(overrides or {})}
    outcomes: list[Outcome] = []
    todo: list[Submission] = []
    for sub in subs:
        marker = None if force else _load_marker(course_root, sub)
        if marker is not None:
            outcomes.append(
                Outcome(
                    sub.learner,
                    "skipped",
                    f"already graded ({marker.get('verdict')})",
                    marker.get("score"),
                    marker.get("max_score"),
                )
            )
        else:
            todo.append(sub)
    total = len(subs)

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress is not None:
            progress(len(outcomes), total, outcome)

    for outcome in list(outcomes):
        if progress is not None:
            progress(outcomes.index(outcome) + 1, total, outcome)
    _enable_wal(course_root)
    if scheduler:
        from autograder.scaleout import grade_on_cluster

        grade_on_cluster(scheduler, course_root, todo, opts, done)
    else:
        _run_local(course_root, todo, workers, opts, done)
    order = {s.learner: i for i, s in enumerate(subs)}
    return sorted(outcomes, key=lambda o: order.get(o.learner, 0))


def format_summary(outcomes: list[Outcome]) -> str:
    """A plain-text table of the outcomes."""
    rows = [("learner", "score", "status", "seconds", "verdict")]
    for o in outcomes:
        score = "—" if o.score is None else f"{o.score:g}/{o.max_score:g}"
        if o.penalty:
            score += f" (late −{o.penalty:g})"
        rows.append((o.learner, score, o.status, f"{o.seconds:.1f}", o.verdict[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no submissions")
    return "\n".join(lines)


def progress_printer(stream: Any = sys.stderr) -> Callable[[int, int, Outcome], None]:
    """A progress bar on a terminal, one line per submission otherwise."""
    tty = hasattr(stream, "isatty") and stream.isatty()

    def show(i: int, n: int, o: Outcome) -> None:
        score = "" if o.score is None else f" {o.score:g}/{o.max_score:g}"
        if tty:
            width = 30
            filled = int(width * i / max(n, 1))
            stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {i}/{n} {o.learner}{score} ({o.status})\033[K"
            )
            if i == n:
                stream.write("\n")
        else:
            stream.write(f"[{i}/{n}] {o.learner}: {o.status}{score} ({o.seconds:.1f} s)\n")
        stream.flush()

    return show
