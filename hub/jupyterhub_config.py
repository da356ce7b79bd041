# The study group's JupyterHub on one machine. Started by the course's set-up
# (`scripts/dev.sh serve`, or `python -m autograder.hub serve`) as root:
#     jupyterhub -f hub/jupyterhub_config.py   with COURSE_HUB_SETTINGS=<settings.json>
# The settings file (written by autograder.hub.settings) says where things are; this file only
# needs JupyterHub and the standard library (it runs in the learner environment).
#
# Who may log in: PAM — each learner and instructor logs in with the password of their own Unix
# account — limited to the course's roster (allowed_users); instructors are the hub's admins.
# Each learner's server runs as that learner's own Unix user (LocalProcessSpawner), in their
# home (mode 0700). For other sign-ins see hub/README.md (nativeauthenticator: sign-up with
# instructor approval; oauthenticator: GitHub or an institution's OpenID Connect).
import json
import os
import sys
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821

settings_file = Path(os.environ.get("COURSE_HUB_SETTINGS", "/srv/cryoem-course/hub/settings.json"))
S = json.loads(settings_file.read_text())
state = Path(S["state_dir"])
hub_env = Path(S["hub_env"])

# -- network: everything on loopback but the public port ---------------------------------------
c.JupyterHub.bind_url = f"http://{S.get('ip', '127.0.0.1')}:{S['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(S["hub_port"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{S['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [S["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# -- state: the hub's database and secrets stay in a folder only root reads ---------------------
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the learners' servers and the proxy

# -- who logs in ------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login sessions (no systemd-logind here)
c.Authenticator.allowed_users = set(S["learners"]) | set(S["instructors"])
c.Authenticator.admin_users = set(S["instructors"])

# -- each user's server: their own Unix user, the learner environment ---------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(hub_env / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL"]  # nothing of root's environment
c.Spawner.environment = {
    "PATH": f"{hub_env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    **S.get("environment", {}),
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# -- the book, served by the hub at /services/book/ (same address as the hub) ------------------
if S.get("book_dir"):
    # the proxy forwards the whole path (/services/book/…): serve a folder holding the book there
    site = state / "book-site"
    (site / "services").mkdir(parents=True, exist_ok=True)
    link = site / "services" / "book"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(S["book_dir"], target_is_directory=True)
    c.JupyterHub.services = [
        {
            "name": "book",
            "url": f"http://127.0.0.1:{S['book_port']}",
            "command": [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(site),
                str(S["book_port"]),
            ],
        }
    ]

# -- the grading service (autograder/service): grades each submission when it arrives and releases
# its feedback to the exchange; a managed service, so the hub starts it, gives it its address
# and its OAuth client, and starts it again if it exits. Its page, /services/grader/, is for
# the instructors: only they hold the scope to reach it (a learner gets 403).
if S.get("grader"):
    G = S["grader"]
    c.JupyterHub.services.append(
        {
            "name": "grader",
            "url": f"http://127.0.0.1:{G['port']}",
            "command": G["command"],
            "cwd": G["cwd"],
            "environment": G["environment"],
            "oauth_no_confirm": True,
        }
    )
    c.JupyterHub.load_roles = [
        {
            "name": "grading-service-page",
            "description": "see the grading service's page (the instructors)",
            "scopes": ["access:services!service=grader"],
            "users": sorted(S["instructors"]),
        }
    ]
