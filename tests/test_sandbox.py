"""The sandbox a learner's kernel runs in, probed from inside a real sandboxed kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.sandbox import SandboxConfig, SandboxedKernel, SandboxUnavailable, check_sandbox
from autograder.sandbox.bubblewrap import slot_cgroups

pytestmark = [pytest.mark.sandbox]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def kernel() -> SandboxedKernel:
    with SandboxedKernel(SandboxConfig(), files_from=REPO / "book" / "figures") as k:
        yield k


def run(kernel: SandboxedKernel, code: str, timeout: float = 20) -> str:
    res = kernel.execute(code, timeout)
    assert res.status == "ok", res
    return "".join(o.get("text", "") for o in res.outputs if o["output_type"] == "stream")


def test_check_sandbox_passes() -> None:
    report = check_sandbox(secret_paths=[REPO, REPO / "reference_impl" / "so3.py"])
    assert report["network"] is False and report["imports"]["scipy"] is False
    if os.geteuid() == 0:
        assert report["uid"] != 0


def test_sees_only_its_own_files(kernel: SandboxedKernel) -> None:
    out = run(
        kernel,
        "import os\nprint(sorted(os.listdir('/submission')))\nprint(sorted(os.listdir('/')))",
    )
    own, root = out.splitlines()
    assert "double-cover.md" in own  # the files it was given, copied
    for hidden in ("work", "root", "home", "var"):
        assert f"'{hidden}'" not in root
    assert (
        run(kernel, "import os\nprint(os.listdir('/opt'))").strip() == "['cryoem-course']"
    )  # the kernel env
    denied = run(
        kernel, f"import os\nprint(os.path.exists({str(REPO)!r}), os.path.exists('/etc/passwd'))"
    )
    assert denied.strip() == "False False"


def test_cannot_escalate_or_reach_out(kernel: SandboxedKernel) -> None:
    out = run(
        kernel,
        "import os, socket\n"
        "print(os.getuid())\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1); print('net')\nexcept OSError: print('no-net')\n"
        "try:\n    os.unshare(os.CLONE_NEWUSER); print('userns')\nexcept (OSError, AttributeError): print('no-userns')\n"
        "try:\n    open('/usr/lib/x', 'w'); print('write-usr')\nexcept OSError: print('ro-usr')\n"
        "import resource\nprint(resource.getrlimit(resource.RLIMIT_NPROC)[0], resource.getrlimit(resource.RLIMIT_CORE)[0])",
    )
    uid, net, userns, usr, limits = out.split()[:4] + [" ".join(out.split()[4:])]
    if os.geteuid() == 0:
        assert uid != "0"
    assert (net, userns, usr) == ("no-net", "no-userns", "ro-usr")
    assert limits == f"{SandboxConfig().processes} 0"


def test_cannot_signal_outside(kernel: SandboxedKernel) -> None:
    out = run(
        kernel,
        "import os\ntry:\n    os.kill(-1, 9)\nexcept OSError as e:\n    print(type(e).__name__)\nprint('alive')",
    )
    assert "alive" in out
    assert os.getpid()  # we are alive too


@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups need root")
def test_slot_cgroups_hold_the_kernel(kernel: SandboxedKernel) -> None:
    groups = slot_cgroups(kernel.config)
    if not groups:
        pytest.skip("no cgroup on this machine")
    assert kernel.proc is not None and kernel.leaves
    assert {leaf.parent for leaf in kernel.leaves} == set(groups)
    for leaf in kernel.leaves:
        assert str(kernel.proc.pid) in (leaf / "cgroup.procs").read_text().split()


def test_missing_kernel_env_is_loud(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="course sandbox setup"):
        check_sandbox(SandboxConfig(kernel_env=tmp_path / "nothing"))
