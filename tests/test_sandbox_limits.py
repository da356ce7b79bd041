"""The slot's budgets — memory, processes, the scratch folder — hold, by every mechanism this
machine can run: cgroup v1 (as root), cgroup v2 grouping and clean-up (this machine's v2
hierarchy has no memory or pids controller: the limits themselves cannot be exercised here), the
grader's supervisor (forced), and the scratch tmpfs or the supervisor's folder quota. Each test
starts a real sandboxed kernel and attacks the budget from inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.sandbox import SandboxConfig, SandboxedKernel
from autograder.sandbox.cgroups import probe_v1, v2_mount
from autograder.sandbox.enforcement import enforcement, format_report, limits_report
from autograder.sandbox.reclaim import leftovers, reclaim

pytestmark = [pytest.mark.sandbox]

MIB = 2**20
#: A small slot, so that the attacks are cheap.
SMALL = dict(memory=768 * MIB, pids=64, scratch_size=48 * MIB, scratch_files=200)

FORK_HOGS = """
import os, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hog = b'h' * (300 * 2**20)
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
deadline = time.time() + 20
while time.time() < deadline:
    ended = [os.waitpid(k, os.WNOHANG) for k in kids]
    if any(pid for pid, _ in ended):
        break
    time.sleep(0.2)
print('ENDED', [status & 0x7F for pid, status in ended if pid])
"""

FORK_BOMB = """
import os, time
made = 0
for _ in range(200):
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        made += 1
    except OSError:
        break
print('FORKED', made)
"""

FILL = """
import errno
written = 0
try:
    for i in range(6):
        with open(f'fill{i}', 'wb') as f:
            f.write(b'z' * (20 * 2**20))
        written += 1
except OSError as exc:
    print('FULL', exc.errno)
print('WROTE', written)
import time
time.sleep(3)
print('STILL-HERE')
"""


def _config(**kw: object) -> SandboxConfig:
    return SandboxConfig(slot=90 + os.getpid() % 8, **{**SMALL, **kw})  # type: ignore[arg-type]


def _run(kernel: SandboxedKernel, code: str, timeout: float = 60) -> tuple[str, str]:
    res = kernel.execute(code, timeout)
    text = "".join(o.get("text", "") for o in res.outputs if o["output_type"] == "stream")
    return res.status, text + " ".join(str(o.get("evalue", "")) for o in res.outputs)


def test_report_on_this_machine() -> None:
    """Every limit is reported, and memory and processes are enforced by some mechanism."""
    report = limits_report(SandboxConfig(slot=0))
    text = format_report(report)
    for key in ("memory", "processes", "cpu", "scratch", "per_process", "messages"):
        assert key in report and report[key]["by"], key
    assert report["weak"] == [] and "NOT ENFORCED" not in text.split("cpu")[0]
    if os.geteuid() == 0 and probe_v1() is not None:
        assert report["memory"]["by"].startswith("cgroup v1")
        assert report["scratch"]["by"].startswith("a tmpfs")


def test_forced_none_is_weak() -> None:
    plan = enforcement("none", "auto", "")
    assert plan.weak == ["memory", "processes"] and plan.layouts == ()
    assert "grading refuses to start" in format_report(limits_report(_config(slot_limits="none")))


# -- cgroup v1 ----------------------------------------------------------------------------------
v1_only = pytest.mark.skipif(
    os.geteuid() != 0 or probe_v1() is None, reason="cgroup v1 needs root and its hierarchies"
)


@v1_only
def test_cgroup_v1_holds_the_slot_memory() -> None:
    config = _config(slot_limits="cgroup-v1")
    assert config.enforcement.memory == "cgroup v1"
    with SandboxedKernel(config) as kernel:
        memory_leaf = next(p for p in kernel.leaves if "/memory/" in str(p))
        status, out = _run(kernel, FORK_HOGS)
        peak = int((memory_leaf.parent / "memory.max_usage_in_bytes").read_text())
    assert "ENDED [9" in out or status == "died", out  # the OOM killer (SIGKILL) in the slot
    assert peak <= config.memory


@v1_only
def test_cgroup_v1_holds_the_slot_processes() -> None:
    config = _config(slot_limits="cgroup-v1")
    with SandboxedKernel(config) as kernel:
        status, out = _run(kernel, FORK_BOMB)
    assert status == "ok" and "FORKED" in out
    assert int(out.split("FORKED")[1].split()[0]) < config.pids


# -- cgroup v2 ------------------------------------------------------------------------------------
@pytest.mark.skipif(os.geteuid() != 0 or v2_mount() is None, reason="needs a cgroup v2 mount")
def test_cgroup_v2_groups_the_sandbox_and_cleans_up() -> None:
    """In a cgroup v2 subtree: the kernel and what it forks live in the sandbox's leaf; the
    slot's limits are written where the controllers exist; at shutdown ``cgroup.kill`` empties
    the leaf and the groups are removed. (On this machine v2 offers neither memory nor pids, so
    the report must say they are not enforced by it.)"""
    mount = v2_mount()
    assert mount is not None
    root = mount / f"course-test-{os.getpid()}"
    enforcement.cache_clear()
    try:
        config = _config(slot_limits="cgroup-v2", cgroup_v2_root=str(root))
        plan = config.enforcement
        layout = plan.layout(2)
        assert layout is not None and layout.bases == (("", root),)
        with SandboxedKernel(config) as kernel:
            (leaf,) = kernel.leaves
            assert leaf.parent.parent == root and leaf.name.startswith(f"sbx-{os.getpid()}-")
            status, out = _run(
                kernel, "import os, time\nif os.fork() == 0:\n    time.sleep(600)\nprint('forked')"
            )
            assert status == "ok", out
            members = _started((leaf / "cgroup.procs").read_text().split())
            assert kernel.proc is not None and str(kernel.proc.pid) in members
            assert len(members) >= 3  # bwrap, the kernel, its forked child (at least)
            if "memory" in layout.controllers:  # a cgroup v2 host with its controllers
                assert int((leaf.parent / "memory.max").read_text()) == config.memory
                assert int((leaf.parent / "pids.max").read_text()) == config.pids
                status, out = _run(kernel, FORK_HOGS)
                assert "ENDED [9" in out or status == "died", out  # the slot's OOM killer
                if status == "died":
                    kernel.restart()
                    (leaf,) = kernel.leaves
                status, out = _run(kernel, FORK_BOMB)
                assert status == "ok" and int(out.split("FORKED")[1].split()[0]) < config.pids
                members = _started((leaf / "cgroup.procs").read_text().split())
            else:
                assert plan.memory == "none" and "memory" in plan.weak
        assert not leaf.exists() and not leaf.parent.exists()
        for pid, started in members.items():
            assert not _still_running(pid, started), pid
    finally:
        enforcement.cache_clear()
        for group in sorted(root.glob("**/"), key=lambda p: -len(p.parts)):
            group.rmdir()


#: Run as an unprivileged grader inside a delegated cgroup v2 (see the test below).
DELEGATED_GRADER = """
import json, os, sys
from autograder.sandbox import SandboxConfig, SandboxedKernel
config = SandboxConfig(slot=int(sys.argv[1]), slot_limits="cgroup-v2")
plan = config.enforcement
out = {"uid": os.getuid(), "memory": plan.memory, "layouts": [str(b) for l in plan.layouts
       for _, b in l.bases], "own": open("/proc/self/cgroup").read().split("0::")[1].strip()}
with SandboxedKernel(config) as kernel:
    out["leaves"] = [str(p) for p in kernel.leaves]
    res = kernel.execute("import os, time\\nif os.fork() == 0:\\n    time.sleep(600)\\nprint(os.getuid())", 60)
    out["status"] = res.status
    out["members"] = {p: open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[19]
                      for p in open(f"{kernel.leaves[0]}/cgroup.procs").read().split()}
    out["kernel"] = kernel.proc.pid
out["left"] = [p for p in out["leaves"] if os.path.exists(p)]
print("RESULT", json.dumps(out))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or v2_mount() is None or shutil.which("setpriv") is None,
    reason="needs root (to delegate), a cgroup v2 mount and setpriv",
)
def test_cgroup_v2_delegated_to_an_unprivileged_grader() -> None:
    """What systemd's ``Delegate=yes`` gives a service, done by hand: root makes a cgroup v2
    group, hands it (the folder, ``cgroup.procs``, ``cgroup.threads``,
    ``cgroup.subtree_control``) to an unprivileged uid and starts that uid's grader in it. The
    grader, not root, finds its own cgroup delegated, moves itself into a ``grader`` leaf (v2
    lets only a group without processes hand controllers down), puts the sandbox's processes
    in a leaf of the slot's group, and removes leaf and slot group at shutdown, killing what
    the kernel forked. (No memory or pids controller can be enabled in v2 on this machine:
    the limits themselves are written and exercised only where the host offers them.)"""
    mount = v2_mount()
    assert mount is not None
    group = mount / f"course-delegated-{os.getpid()}"
    group.mkdir()
    uid = 64000 + os.getpid() % 1000
    home = Path(tempfile.mkdtemp(prefix="course-delegated-"))
    os.chown(home, uid, uid)
    try:
        for path in (
            group,
            *(group / f for f in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control")),
        ):
            os.chown(path, uid, uid)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": "/tmp",
            "COURSE_KERNEL_ENV": str(SandboxConfig().kernel_env),
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        run = subprocess.run(
            [
                "sh",
                "-c",
                f"echo $$ > {group}/cgroup.procs && exec setpriv --reuid={uid} --regid={uid} "
                f'--clear-groups "$0" -c "$1" 7',
                sys.executable,
                DELEGATED_GRADER,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert "RESULT" in run.stdout, run.stdout[-2000:] + run.stderr[-3000:]
        out = json.loads(run.stdout.split("RESULT", 1)[1])
        assert out["uid"] == uid and out["own"] == f"/{group.name}/grader"
        assert out["layouts"] == [str(group)]
        (leaf,) = out["leaves"]
        assert leaf.startswith(f"{group}/slot-7/sbx-")
        assert out["status"] == "ok" and str(out["kernel"]) in out["members"]
        assert len(out["members"]) >= 3  # bwrap, the kernel, its forked child (at least)
        assert out["left"] == [] and not (group / "slot-7").exists()
        for pid, started in out["members"].items():
            assert not _still_running(pid, started), pid
        if out["memory"] != "cgroup v2":
            assert out["memory"] == "none"  # forced v2 without its controller: not enforced
    finally:
        shutil.rmtree(home, ignore_errors=True)
        for sub in sorted(group.glob("**/"), key=lambda p: -len(p.parts)):
            sub.rmdir()


def _start_time(pid: str) -> str | None:
    """``/proc/<pid>/stat``'s start time (field 22): with the pid, it names one process (pids
    are reused, and soon: pid_max is 32768 here); None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _started(pids: list[str]) -> dict[str, str | None]:
    return {pid: _start_time(pid) for pid in pids}


def _still_running(pid: str, started: str | None) -> bool:
    """Whether the process that was ``pid`` (started at ``started``) lives on, not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


# -- the supervisor -----------------------------------------------------------------------------
def test_supervisor_ends_a_slot_over_its_memory() -> None:
    config = _config(slot_limits="supervisor")
    assert config.enforcement.memory == "supervisor" and config.enforcement.layouts == ()
    with SandboxedKernel(config) as kernel:
        assert kernel.supervisor is not None and kernel.leaves == []
        status, out = _run(kernel, FORK_HOGS)
        assert status == "died" and "more than 768 MiB of memory" in out, out
        assert kernel.supervisor is None or not kernel.alive
        peak = kernel.supervisor.peak_memory if kernel.supervisor else 0
    assert peak < 2 * config.memory  # sampled every 0.1 s: it overshoots, by little


def test_supervisor_ends_a_fork_bomb() -> None:
    config = _config(slot_limits="supervisor", processes=4096)  # so the supervisor acts first
    with SandboxedKernel(config) as kernel:
        status, out = _run(kernel, FORK_BOMB.replace("range(200)", "range(2000)"))
    assert status == "died" and "more than 64 processes" in out, out


def test_supervised_kernel_restarts_cleanly() -> None:
    config = _config(slot_limits="supervisor")
    kernel = SandboxedKernel(config)
    with kernel:
        status, _ = _run(kernel, FORK_HOGS)
        assert status == "died"
        kernel.restart()
        assert kernel.ended_because == "" and _run(kernel, "print(6 * 7)")[1].strip() == "42"


# -- the scratch folder -----------------------------------------------------------------------------
@pytest.mark.skipif(os.geteuid() != 0, reason="the scratch tmpfs needs root")
def test_scratch_tmpfs_quota() -> None:
    config = _config(scratch_quota_by="tmpfs")
    with SandboxedKernel(config) as kernel:
        status, out = _run(kernel, FILL)
        assert status == "ok", out
        assert "FULL 28" in out and "WROTE 2" in out and "STILL-HERE" in out, out
        _, out = _run(
            kernel,
            "try:\n    [open(f'e{i}', 'w').close() for i in range(1000)]\nexcept OSError as e:\n    print('FILES', e.errno)",
        )
        assert "FILES 28" in out
        assert kernel.base is not None
        host_work = kernel.base / "work"
        assert list(host_work.iterdir()) == []  # the files are in the sandbox's tmpfs only
    assert "course-scratch" not in Path("/proc/self/mounts").read_text()


def test_scratch_quota_by_the_supervisor() -> None:
    config = _config(scratch_quota_by="supervisor")
    with SandboxedKernel(config) as kernel:
        status, out = _run(kernel, FILL)
    assert status == "died" and "/submission grew beyond its quota of 48 MiB" in out, out


def test_learner_files_over_the_quota_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_text("hello")
    (tmp_path / "big.bin").write_bytes(b"b" * (60 * MIB))
    config = _config()
    with SandboxedKernel(config, files_from=tmp_path) as kernel:
        _, out = _run(kernel, "import os\nprint(sorted(os.listdir('.')))")
    assert "small.txt" in out
    if config.enforcement.scratch == "tmpfs":
        assert "big.bin" not in out


# -- what a killed grader leaves --------------------------------------------------------------------
def test_reclaim_removes_only_what_dead_graders_left(tmp_path: Path) -> None:
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f"course-sbx-{dead}-abc"
    (stale / "work").mkdir(parents=True)
    mine = tmp_path / f"course-sbx-{os.getpid()}-abc"
    mine.mkdir()
    other = tmp_path / "course-sbx-notapid"
    other.mkdir()
    assert leftovers(tmp_path) == [stale]
    assert reclaim(tmp=tmp_path) == [str(stale)]
    assert not stale.exists() and mine.exists() and other.exists()


@v1_only
def test_reclaim_removes_the_cgroup_leaves_of_a_dead_grader() -> None:
    config = _config(slot_limits="cgroup-v1")
    plan = config.enforcement
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    slot = replace(config, slot=config.slot + 1)
    leaves = []
    for layout in plan.layouts:
        for group in layout.slot_groups(slot.slot, slot.memory, slot.pids):
            leaf = group / f"sbx-{dead}-1"
            leaf.mkdir()
            leaves.append(leaf)
    removed = reclaim(plan, tmp=Path("/nonexistent"))
    assert set(removed) >= {str(leaf) for leaf in leaves}
    assert not any(leaf.exists() for leaf in leaves)
    assert not any(leaf.parent.exists() for leaf in leaves)  # the empty slot groups too
