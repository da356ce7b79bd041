"""The whole platform on one machine: the course repository, the learners' repository, nbgrader's
exchange, the hub and its accounts — what ``scripts/dev.sh serve`` brings up, and what the hub's
end-to-end tests start.

Who owns what:

* the course repository (solutions, hidden checks, gradebook): root's, made private (0700) —
  no learner can read it;
* ``public``: world-readable, what every learner may see — the learners' repository
  (``problem-sets.git``, which the launch links pull) and nbgrader's exchange (``exchange/``,
  mode 1777, nbgrader's own permissions inside);
* ``state``: the hub's database, cookie secret and settings, root's only;
* each learner's home: theirs only (0700).

The course commands run as root with ``course_env()``: the exchange, the learners' repository,
the hub's address and the book's address of this platform (``COURSE_*`` overrides of
``_config.yml``), so that the book's launch links and the notebooks' links point at this hub;
``release_due`` publishes to this platform's learners' repository (``--remote``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.hub.accounts import ensure_account
from autograder.hub.environment import DEFAULT_HUB_ENV, ensure_hub_env, ensure_node_modules
from autograder.hub.launch import HubSettings, start_hub

__all__ = ["LocalPlatform"]


@dataclass
class LocalPlatform:
    repo: Path  # the course repository (root's)
    public: Path  # world-readable: the learners' repository and the exchange
    state: Path  # the hub's state (root's)
    port: int
    learners: dict[str, str]  # account → password
    instructors: dict[str, str]
    ip: str = "127.0.0.1"
    hub_env: Path = DEFAULT_HUB_ENV
    serve_book: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    #: grading processes of the grading service the hub starts (0: no service; the
    #: instructor grades with ``course grade``)
    grader_workers: int = 2

    # -- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("", "0.0.0.0") else self.ip
        return f"http://{host}:{self.port}"

    @property
    def book_url(self) -> str:
        return f"{self.url}/services/book"

    @property
    def remote(self) -> Path:
        return self.public / "problem-sets.git"

    @property
    def gitconfig(self) -> Path:
        """The learners' git system configuration: the system's, and the learners' repository
        declared safe (git refuses a repository that another user owns; ``file://`` clones
        ignore configuration given in the environment, not this file)."""
        return self.public / "gitconfig"

    @property
    def exchange(self) -> Path:
        return self.public / "exchange"

    def course_env(self, now: str | None = None) -> dict[str, str]:
        """The environment of the instructor's ``course`` commands on this platform."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
                "COURSE_ROOT": str(self.repo),
                "COURSE_EXCHANGE": str(self.exchange),
                "COURSE_RELEASE_REMOTE": self.remote.as_uri(),
                "COURSE_JUPYTERHUB_URL": self.url,
                "COURSE_BOOK_URL": self.book_url,
                **self.extra_env,
            }
        )
        if now:
            env["COURSE_NOW"] = now
        return env

    # -- set-up ----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Everything but the hub's process: folders and their permissions, the learners'
        repository, the accounts, the learner environment and the proxy. Idempotent."""
        self.repo.chmod(0o700)  # the answer key is root's
        self.public.mkdir(parents=True, exist_ok=True)
        self.public.chmod(0o755)
        self.exchange.mkdir(exist_ok=True)
        self.exchange.chmod(0o1777)
        if not (self.remote / "HEAD").is_file():
            subprocess.run(
                ["git", "init", "--quiet", "--bare", "--initial-branch=releases", str(self.remote)],
                check=True,
            )
        self.gitconfig.write_text(
            f"[include]\n\tpath = /etc/gitconfig\n[safe]\n\tdirectory = {self.remote}\n"
        )
        self.gitconfig.chmod(0o644)
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, password in {**self.instructors, **self.learners}.items():
            ensure_account(name, password)
        ensure_hub_env(self.repo, self.hub_env)
        ensure_node_modules(self.repo)

    def course(self, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run an instructor's ``course`` command on this platform (raises on failure)."""
        exe = shutil.which("course", path=str(Path(sys.executable).parent)) or "course"
        proc = subprocess.run(
            [exe, *args],
            cwd=self.repo,
            env=self.course_env(now),
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"course {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def release_due(self, now: str) -> str:
        """``course release --due`` at ``now`` to this platform's learners' repository and
        exchange; returns what it printed."""
        return self.course("release", "--due", "--remote", self.remote.as_uri(), now=now).stdout

    def settings(self) -> HubSettings:
        from autograder.sandbox.bubblewrap import default_kernel_env

        folder = self.remote.name.removesuffix(".git")  # where the launch links pull into
        book = self.repo / "_build" / "html"
        return HubSettings(
            port=self.port,
            ip=self.ip,
            state_dir=str(self.state),
            hub_env=str(self.hub_env),
            proxy=str(ensure_node_modules(self.repo)),
            learners=sorted(self.learners),
            instructors=sorted(self.instructors),
            environment={
                # git refuses a repository another user owns unless it is declared safe
                "GIT_CONFIG_SYSTEM": str(self.gitconfig),
                "COURSE_EXCHANGE": str(self.exchange),
                "COURSE_KERNEL_ENV": str(default_kernel_env()),
                "COURSE_ASSIGNMENT_DIR": folder,
            },
            book_dir=str(book) if self.serve_book and (book / "index.html").is_file() else "",
            grader=self.grader_settings(),
        )

    def grader_settings(self) -> dict[str, Any]:
        """The grading service as the hub starts it (``autograder.service``): the course's
        ``course`` environment, run as root from the course repository, its page for the
        instructors at ``/services/grader/``."""
        if self.grader_workers <= 0:
            return {}
        from autograder.hub.launch import free_port

        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        env = {k: v for k, v in self.course_env().items() if k.startswith("COURSE_") or k in keep}
        env["COURSE_INSTRUCTORS"] = ",".join(sorted(self.instructors))
        return {
            "command": [
                sys.executable,
                "-m",
                "autograder.service",
                "serve",
                "--workers",
                str(self.grader_workers),
                "--exit-with-parent",
            ],
            "cwd": str(self.repo),
            "environment": env,
            "port": free_port(),
        }

    def start(self) -> subprocess.Popen[bytes]:
        """Start the hub (see ``hub/jupyterhub_config.py``); return its process."""
        return start_hub(self.settings(), self.repo / "hub" / "jupyterhub_config.py")
