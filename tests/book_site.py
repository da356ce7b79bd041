"""Shared by the book's tests: build the book once per test process, serve it, find its pages.

Not a test module (no ``test_`` prefix): ``tests/test_book.py`` and ``tests/test_schedule.py``
import it. The build is the project's own (``jupyter-book build --warningiserror --keep-going``
into ``<repo>/_build``); Sphinx rebuilds only what changed and executed notebooks are cached, so
a build over a fresh one takes seconds. A file lock keeps parallel test processes (xdist) from
building at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # this tree's autograder/ and reference_impl/, not an installed one
    sys.path.insert(0, str(REPO))

HTML = REPO / "_build" / "html"
SEED_NAME = "online-cryoem-study-group-2022.txt"
#: SHA-256 of the syllabus's meeting-recording passcode (the passcode itself is never stored).
PASSCODE_SHA256 = "a78e695df158f3dc8f9f8e2737f224d77b990bc7af0eb7767e9371c611b5ef42"

_built: dict[str, Path] = {}


def build_book() -> Path:
    """Build the book (warnings are errors) once per process and return ``_build/html``."""
    if "html" in _built:
        return _built["html"]
    (REPO / "_build").mkdir(exist_ok=True)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe), "build", str(REPO), "--path-output", str(REPO)]
    cmd += ["--warningiserror", "--keep-going"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    with open(REPO / "_build" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    if proc.returncode != 0:
        raise AssertionError(
            "jupyter-book build --warningiserror failed:\n" + (proc.stdout + proc.stderr)[-6000:]
        )
    _built["html"] = HTML
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free localhost port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def toc_docnames() -> list[str]:
    """Every document of ``_toc.yml`` (root first)."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            names.append(ch["file"])
            names += [s["file"] for s in ch.get("sections", [])]
    return names


def source_of(docname: str) -> Path:
    for ext in (".md", ".ipynb"):
        p = REPO / f"{docname}{ext}"
        if p.is_file():
            return p
    raise FileNotFoundError(docname)


def seed_file() -> Path | None:
    """The syllabus, where this checkout has ``shared/`` (inside or beside the repository)."""
    for base in (REPO / "shared", REPO.parent / "shared", Path("/work/shared")):
        p = base / "seed" / SEED_NAME
        if p.is_file():
            return p
    return None


def private_strings() -> list[str]:
    """The syllabus's private data as it could appear in a page: the sign-up form's link and the
    meeting recording's passcode, read from the syllabus itself (never stored in the repository),
    each also HTML-escaped and percent-encoded."""
    p = seed_file()
    if p is None:
        return []
    text = p.read_text(encoding="utf-8")
    found = re.findall(r"https?://forms\.gle/[A-Za-z0-9]+", text)
    for m in re.finditer(r"Passcode:\\?\s*\\?\s*([^\s}$]+)", text):
        found.append(m.group(1).replace("\\", ""))
    variants: set[str] = set()
    from html import escape
    from urllib.parse import quote

    for s in found:
        variants |= {s, escape(s), quote(s, safe=""), s.split("://", 1)[-1]}
    return sorted(variants)
