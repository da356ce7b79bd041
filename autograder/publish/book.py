"""Build the Jupyter Book (warnings are errors) and serve the built site on localhost."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
from pathlib import Path

__all__ = ["build_book", "html_dir", "serve_directory"]


def html_dir(root: Path) -> Path:
    """Where ``jupyter-book`` writes the site: ``<root>/_build/html``."""
    return root / "_build" / "html"


def build_book(root: Path, strict: bool = True, quiet: bool = False) -> Path:
    """Run ``jupyter-book build`` on the repository ``root`` and return the HTML folder.

    ``strict`` turns Sphinx warnings into errors (``--warningiserror``, with ``--keep-going`` so
    every warning is reported). Executed notebooks are cached by jupyter-cache (``_config.yml``:
    ``execute_notebooks: cache``), so a rebuild only re-runs what changed.
    Raises ``subprocess.CalledProcessError`` when the build fails.
    """
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(root),
        "--path-output",
        str(root),
    ]
    if strict:
        cmd += ["--warningiserror", "--keep-going"]
    subprocess.run(cmd, check=True, cwd=root, capture_output=quiet)
    return html_dir(root)


def serve_directory(directory: Path, port: int = 8000, host: str = "127.0.0.1") -> None:
    """Serve ``directory`` over HTTP until interrupted."""
    if not (directory / "index.html").is_file():
        raise FileNotFoundError(f"{directory} has no index.html: build the book first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer((host, port), handler) as httpd:
        print(f"serving {directory} at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
