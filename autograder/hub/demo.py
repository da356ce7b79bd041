"""The demo course on one machine: ``scripts/dev.sh serve`` (``python -m autograder.hub serve``).

Brings up the whole platform as root (``LocalPlatform``): an instructor and two learner accounts
(passwords kept in the hub's state folder, so a rerun keeps them), the problem sets that
``book/schedule.yml`` makes due at ``COURSE_NOW`` (default: the week of 25 Feb 2022, so that
several problem sets are out, from the meetings of 21 January to 25 February) released, validated and published to the learners' repository and
nbgrader's exchange, the book built with its launch links pointing at this hub and served by it
at ``/services/book/``, and the hub. Prints the addresses and the credentials.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from pathlib import Path

from autograder.hub.accounts import new_password
from autograder.hub.launch import stop_hub
from autograder.hub.platform import LocalPlatform

__all__ = ["DEMO_NOW", "demo_platform", "serve_demo"]

DEMO_NOW = "2022-02-25T10:00"
DEMO_PUBLIC = Path("/srv/cryoem-course/demo")
DEMO_STATE = Path("/srv/cryoem-course/demo-hub")
INSTRUCTORS = ("ines",)
LEARNERS = ("ada", "ben")


def _credentials(state: Path) -> dict[str, str]:
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state / "credentials.json"
    known = json.loads(path.read_text()) if path.is_file() else {}
    for name in (*INSTRUCTORS, *LEARNERS):
        known.setdefault(name, new_password())
    path.write_text(json.dumps(known, indent=2))
    path.chmod(0o600)
    return known


def demo_platform(repo: Path, port: int, ip: str = "127.0.0.1") -> LocalPlatform:
    creds = _credentials(DEMO_STATE)
    return LocalPlatform(
        repo=repo,
        public=DEMO_PUBLIC,
        state=DEMO_STATE,
        port=port,
        ip=ip,
        learners={n: creds[n] for n in LEARNERS},
        instructors={n: creds[n] for n in INSTRUCTORS},
    )


def _say(text: str) -> None:
    print(text, flush=True)


def serve_demo(repo: Path, port: int, now: str | None = None, ip: str = "127.0.0.1") -> int:
    now = now or os.environ.get("COURSE_NOW") or DEMO_NOW
    pf = demo_platform(repo, port, ip)
    _say("[hub] accounts, the learner environment, the proxy, the exchange")
    pf.prepare()
    _say(f"[hub] releasing what book/schedule.yml makes due at {now}")
    released = pf.release_due(now)
    _say(released.rstrip())
    _say("[hub] building the book (its launch links point at this hub)")
    pf.course("build", "--book-only", now=now)
    proc = pf.start()
    env = pf.course_env(now)
    exports = " ".join(
        f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()) if k.startswith("COURSE_")
    )
    (pf.state / "instructor.env").write_text(exports.replace(" ", "\n") + "\n")
    rows = [("instructor", n, p) for n, p in pf.instructors.items()]
    rows += [("learner", n, p) for n, p in pf.learners.items()]
    _say(
        "\n".join(
            [
                "",
                "The course platform is up on this machine (Ctrl-C stops it).",
                f"  the book: {pf.book_url}/",
                f"  the hub:  {pf.url}/hub/login",
                "  accounts (Unix users of this machine; log in to the hub with them):",
                *[f"    {role:<10} {name:<6} password {pw}" for role, name, pw in rows],
                "  a week: log in as a learner, open a problem set's page in the book, follow",
                "  'open on JupyterHub', work, press Validate, submit in Nbgrader → Assignment List.",
                "  The grading service grades each submission when it arrives: a minute or two",
                "  later, Fetch Feedback in the Assignment List shows it. Its page, for the",
                f"  instructors: {pf.url}/services/grader/",
                "  The instructor may also grade by hand in a terminal on this machine, as root,",
                "  in the course repository, with this platform's settings:",
                f"    set -a; . {pf.state / 'instructor.env'}; set +a",
                "    course collect ps01 && course grade ps01 && course feedback ps01",
                "    course report ps01     # the service's queue and latencies, pass rates, scores",
                "",
            ]
        )
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_hub(proc)
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    from autograder.config.paths import repo_root

    parser = argparse.ArgumentParser(prog="python -m autograder.hub")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("serve", help="the demo course: book, hub, accounts, released problem sets")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--ip", default="127.0.0.1", help="0.0.0.0 to reach the hub from elsewhere")
    p.add_argument(
        "--date", help=f"release what is due at this time (default $COURSE_NOW or {DEMO_NOW})"
    )
    p = sub.add_parser("setup", help="build the learner environment and the proxy")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the hub runs as root (Unix accounts, the spawner): use sudo", file=sys.stderr)
        return 3
    repo = repo_root()
    if args.action == "setup":
        from autograder.hub.environment import ensure_hub_env, ensure_node_modules

        print(ensure_hub_env(repo), ensure_node_modules(repo))
        return 0
    return serve_demo(repo, args.port, args.date, args.ip)
