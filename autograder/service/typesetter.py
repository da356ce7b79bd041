"""The feedback's mathematics typeset by one long-running MathJax per grading process.

``course feedback`` starts node once for a whole batch (``autograder.feedback.typeset``); the
service writes one learner's feedback at a time, and starting node and loading MathJax cost
about two seconds each time. Here each grading process keeps ``typeset_math.js --serve`` running
(file paths in, one JSON line out per file) — the same script and the same MathJax settings —
and falls back to the one-shot run if it fails (it is then started again for the next file).
The node process ends with its grading process (its stdin closes).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from pathlib import Path

__all__ = ["Typesetter", "typeset_pages", "warm_up"]

#: node is restarted after this many files (MathJax's caches grow with every page)
RESTART_AFTER = 200


class Typesetter:
    """``typeset_math.js --serve`` with the MathJax of ``modules``."""

    def __init__(self, modules: Path) -> None:
        self.modules = modules
        self._proc: subprocess.Popen[str] | None = None
        self._served = 0

    def _start(self) -> subprocess.Popen[str]:
        import autograder.feedback.typeset as typeset

        node = shutil.which("node")
        if node is None:
            raise OSError("node is not installed")
        script = Path(typeset.__file__).with_name("typeset_math.js")
        self._proc = subprocess.Popen(
            [node, str(script), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env={**os.environ, "NODE_PATH": str(self.modules)},
        )
        self._served = 0
        return self._proc

    def _one(self, page: Path, timeout: float) -> int:
        proc = self._proc if self._proc and self._proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{page}\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"MathJax took longer than {timeout:.0f} s on {page}")
        line = proc.stdout.readline()
        if not line:
            raise OSError("MathJax stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise ValueError(answer["error"])
        self._served += 1
        return int(answer["typeset"])

    def typeset(self, pages: list[Path], timeout: float = 120) -> int:
        """Typeset ``pages`` in place; returns how many formulas were typeset."""
        from autograder.feedback.typeset import typeset_math

        total = 0
        for page in pages:
            try:
                total += self._one(page, timeout)
            except (OSError, TimeoutError, ValueError):
                self.close()
                total += typeset_math([page], self.modules)  # the one-shot run, which says why
        if self._served >= RESTART_AFTER:
            self.close()
        return total

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


_TYPESETTERS: dict[Path, Typesetter] = {}


def typeset_pages(pages: list[Path], modules: Path) -> int:
    """Typeset ``pages`` with this process's long-running MathJax (started on first use)."""
    if not pages:
        return 0
    typesetter = _TYPESETTERS.get(modules)
    if typesetter is None:
        typesetter = _TYPESETTERS[modules] = Typesetter(modules)
    return typesetter.typeset(pages)


def warm_up(course_root: str) -> int:
    """Start this process's MathJax before its first learner (a page with one formula);
    returns the process id."""
    import tempfile

    from autograder.feedback.typeset import node_modules

    with tempfile.TemporaryDirectory(prefix="course-typeset-") as tmp:
        page = Path(tmp) / "warm.html"
        page.write_text("<html><body><p>$q\\,p\\,q^{-1}$</p></body></html>")
        try:
            typeset_pages([page], node_modules(Path(course_root).parent))
        except Exception:  # no node here: the first feedback will say so
            pass
    return os.getpid()
