"""The hub's environments on one machine, built from the files in ``hub/``.

* The learner environment (``/opt/cryoem-course/hub-env``, readable by every user): JupyterHub,
  JupyterLab, nbgrader and nbgitpuller from ``hub/requirements-learner.txt`` and the learners'
  own distribution (``learner/``, installed as a copy, never as a link into the private course
  repository). The hub itself runs from it too. Its ``python3`` kernel is the learners' kernel
  environment — the one the grading sandbox uses (``course sandbox setup``) — and its
  ``etc/jupyter`` is ``hub/etc/jupyter``: the learners' nbgrader configuration, the server
  extensions (Validate runs ``course check``; nbgrader's instructor tools off) and JupyterLab's
  disabled plugins.
* The proxy: ``configurable-http-proxy`` from npm, in ``hub/node_modules`` (``hub/package.json``
  and its lock file), with MathJax for the feedback's typesetting.

Both are idempotent: a stamp of the inputs' hash skips a build that is up to date.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

__all__ = [
    "DEFAULT_HUB_ENV",
    "ensure_hub_env",
    "ensure_node_modules",
    "hub_dir",
    "learner_dir",
]

DEFAULT_HUB_ENV = Path("/opt/cryoem-course/hub-env")


def hub_dir(repo: Path) -> Path:
    return repo / "hub"


def learner_dir(repo: Path) -> Path:
    return repo / "learner"


def _inputs_hash(repo: Path, kernel_env: Path) -> str:
    h = hashlib.sha256()
    files = [
        hub_dir(repo) / "requirements-learner.txt",
        *sorted((hub_dir(repo) / "etc").rglob("*.*")),
        *sorted((learner_dir(repo)).rglob("*.py")),
        learner_dir(repo) / "pyproject.toml",
    ]
    for f in files:
        h.update(str(f.relative_to(repo)).encode())
        h.update(f.read_bytes())
    h.update(str(kernel_env).encode())
    return h.hexdigest()[:16]


def ensure_hub_env(
    repo: Path, env: Path = DEFAULT_HUB_ENV, kernel_env: Path | None = None, quiet: bool = True
) -> Path:
    """Build (or bring up to date) the learner environment at ``env``; return it."""
    from autograder.sandbox.bubblewrap import default_kernel_env

    kernel_env = kernel_env or default_kernel_env()
    stamp = env / ".course-stamp"
    wanted = _inputs_hash(repo, kernel_env)
    if stamp.is_file() and stamp.read_text() == wanted:
        return env
    python = env / "bin" / "python"
    if not python.exists():
        env.parent.mkdir(parents=True, exist_ok=True)
        base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"
        subprocess.run([base, "-m", "venv", str(env)], check=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    subprocess.run([*pip, "-r", str(hub_dir(repo) / "requirements-learner.txt")], check=True)
    # a copy of the learners' distribution (never a link into the private repository)
    subprocess.run([*pip, "--force-reinstall", "--no-deps", str(learner_dir(repo))], check=True)
    _configure(env, repo, kernel_env)
    stamp.write_text(wanted)
    return env


def _configure(env: Path, repo: Path, kernel_env: Path) -> None:
    # hub/etc/jupyter: the learners' nbgrader configuration, the server extensions (Validate is
    # course_learner's; nbgrader's instructor tools off), JupyterLab's disabled plugins — the
    # learner image copies the same folder
    shutil.copytree(hub_dir(repo) / "etc" / "jupyter", env / "etc" / "jupyter", dirs_exist_ok=True)
    # the learners' kernel: the grading sandbox's kernel environment, run as the learner
    spec = env / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(kernel_env / "bin" / "python"),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Python 3 (course)",
                "language": "python",
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
                "metadata": {"debugger": False},
            },
            indent=2,
        )
    )
    for path in [env, *env.rglob("*")]:  # readable by every learner
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o044 | (0o011 if path.is_dir() else 0))


def ensure_node_modules(repo: Path) -> Path:
    """``npm ci`` in ``hub/`` when ``node_modules`` is missing or older than the lock file;
    returns the proxy's executable."""
    hub = hub_dir(repo)
    proxy = hub / "node_modules" / ".bin" / "configurable-http-proxy"
    lock = hub / "package-lock.json"
    marker = hub / "node_modules" / ".package-lock.json"
    if not proxy.exists() or not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed for the hub's proxy: apt-get install nodejs npm")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=hub, check=True
        )
    return proxy
