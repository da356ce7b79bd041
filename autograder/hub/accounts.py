"""Real Unix accounts for the hub's users (as root): each learner's server runs as its owner.

``ensure_account`` creates the user (``useradd``) with a private home (mode 0700: no other
learner can read it; ``useradd -m`` makes 0755 on Debian), and sets the password PAM checks at
the hub's login (``chpasswd``).
"""

from __future__ import annotations

import pwd
import re
import secrets
import shutil
import subprocess
from pathlib import Path

__all__ = ["ensure_account", "new_password", "reset_home"]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def new_password() -> str:
    """A fresh password of 12 URL-safe characters."""
    return secrets.token_urlsafe(9)


def ensure_account(name: str, password: str) -> Path:
    """Create the Unix user ``name`` (idempotent), set its password, make its home private;
    return the home."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a valid account name (a-z, 0-9, -)")
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
            check=True,
            capture_output=True,
        )
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    home = Path(pwd.getpwnam(name).pw_dir)
    home.mkdir(mode=0o700, exist_ok=True)
    entry = pwd.getpwnam(name)
    shutil.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return home


def reset_home(name: str) -> Path:
    """Empty ``name``'s home (a rehearsal starts from a fresh one); keep it private."""
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    if home.is_dir():
        for child in home.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    return home
