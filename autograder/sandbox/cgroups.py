"""Control groups for the grading slots: cgroup v1 (root) or a delegated cgroup v2 subtree.

Layout, the same on both versions: ``<base>/slot-<n>`` carries the slot's limits (memory, tasks,
CPU weight) and holds one leaf per sandbox, ``<base>/slot-<n>/sbx-<owner pid>-<k>``, into which
the sandbox's first process writes itself before it drops privileges. A leaf is removed when its
sandbox shuts down (its remaining tasks killed first), and the slot's group when it is empty, so
a finished run leaves no group behind; ``sweep`` reclaims the leaves of a grader that was killed
(its owner pid is gone).

* **cgroup v1** (``/sys/fs/cgroup/{memory,pids,cpu}``, writable by root): ``<base>`` is
  ``<controller mount>/cryoem-course``; ``memory.limit_in_bytes`` (and ``memory.memsw.…`` where
  swap accounting exists), ``pids.max``, ``cpu.shares`` = 1024 for every slot, and for
  ``<base>`` itself 1024 per slot (each slot weighs like one process of the host).
* **cgroup v2**: ``<base>`` is a *delegated* directory — one the grader may write to and whose
  ``cgroup.controllers`` offers ``memory`` and ``pids`` (``cpu`` too, for equal shares). As root
  it defaults to ``<cgroup2 mount>/cryoem-course``; an unprivileged grader must be started
  inside a delegated cgroup (systemd ``Delegate=yes``) and uses its own cgroup — the processes
  already there are moved into a ``grader`` leaf first, because cgroup v2 lets a group enable
  controllers for its children only when it holds no processes itself. ``memory.max``,
  ``memory.swap.max`` = 0, ``pids.max``, ``cpu.weight`` = 100; a leaf is emptied with
  ``cgroup.kill``.

``probe`` says which controllers each version offers here, without changing anything but the
creation of ``<base>`` (and, for v2, enabling the controllers in it).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CGROUP_FS", "GROUP", "CgroupLayout", "probe_v1", "probe_v2", "sweep", "v2_mount"]

CGROUP_FS = Path("/sys/fs/cgroup")
GROUP = "cryoem-course"
#: The controllers a slot's limits use, by name of the limit.
LIMITS = ("memory", "pids", "cpu")
_LEAVES = itertools.count(1)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, type, options) of every mount (``/proc/self/mounts``)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 4:
            out.append((fields[1].replace("\\040", " "), fields[2], fields[3]))
    return out


def v2_mount() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup`` on a unified host,
    ``/sys/fs/cgroup/unified`` on a hybrid one), or None."""
    for point, kind, _ in _mounts():
        if kind == "cgroup2":
            return Path(point)
    return None


def _own_v2_cgroup(mount: Path) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return mount / line[3:].lstrip("/")
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class CgroupLayout:
    """Where one cgroup version puts the slots' groups, and which limits it can set.

    ``bases``: (controller, base directory) pairs — one per v1 controller, or a single
    ``("", base)`` for v2. ``controllers``: the limits it enforces (of ``LIMITS``).
    """

    version: int
    bases: tuple[tuple[str, Path], ...]
    controllers: frozenset[str]
    note: str = ""

    def describe(self, limit: str) -> str:
        """How ``limit`` (memory, pids, cpu) is set, for the ``course sandbox setup`` report."""
        files = {
            1: {"memory": "memory.limit_in_bytes", "pids": "pids.max", "cpu": "cpu.shares"},
            2: {"memory": "memory.max", "pids": "pids.max", "cpu": "cpu.weight"},
        }[self.version][limit]
        base = dict(self.bases).get(limit if self.version == 1 else "", self.bases[0][1])
        return f"cgroup v{self.version} {files} of {base}/slot-<n>"

    def slot_groups(self, slot: int, memory: int, pids: int) -> list[Path]:
        """Create (idempotently) slot ``slot``'s groups with their limits; return them."""
        groups = []
        for controller, base in self.bases:
            group = base / f"slot-{slot}"
            group.mkdir(parents=True, exist_ok=True)
            if self.version == 1:
                if controller == "memory":
                    _write(group / "memory.limit_in_bytes", str(memory))
                    if (group / "memory.memsw.limit_in_bytes").exists():
                        _write(group / "memory.memsw.limit_in_bytes", str(memory))
                elif controller == "pids":
                    _write(group / "pids.max", str(pids))
                elif controller == "cpu":
                    _write(group / "cpu.shares", "1024")
            else:
                if "memory" in self.controllers:
                    _write(group / "memory.max", str(memory))
                    _write(group / "memory.swap.max", "0")
                if "pids" in self.controllers:
                    _write(group / "pids.max", str(pids))
                if "cpu" in self.controllers:
                    _write(group / "cpu.weight", "100")
            groups.append(group)
            if (controller == "cpu" and self.version == 1) or (
                self.version == 2 and "cpu" in self.controllers
            ):
                _weigh_slots(base, self.version)
        return groups

    def new_leaf(self, slot: int, memory: int, pids: int) -> list[Path]:
        """A fresh leaf group per hierarchy for one sandbox, named after this process."""
        name = f"sbx-{os.getpid()}-{next(_LEAVES)}"
        leaves = []
        for attempt in range(3):
            try:
                leaves = [g / name for g in self.slot_groups(slot, memory, pids)]
                for leaf in leaves:
                    leaf.mkdir(exist_ok=True)
                break
            except FileNotFoundError:  # a concurrent sweep removed the empty slot group
                if attempt == 2:
                    raise
        return leaves


def _weigh_slots(base: Path, version: int) -> None:
    """Give the course's group the CPU weight of one ordinary process per slot in use: every
    slot then competes with the host's other processes like one process, not all slots
    together like one (the default weight of a single group)."""
    busy = [g for g in base.glob("slot-*") if _members(g) or any(g.glob("sbx-*"))]
    slots = len(busy) + 1  # + the slot being set up
    if version == 1:
        _write(base / "cpu.shares", str(min(1024 * slots, 262144)))
    else:
        _write(base / "cpu.weight", str(min(100 * slots, 10000)))


def _members(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def remove_group(group: Path, timeout: float = 5.0) -> bool:
    """Kill every task left in ``group`` (``cgroup.kill`` on v2, SIGKILL on v1), then remove it."""
    if not group.is_dir():
        return True
    deadline = time.monotonic() + timeout
    while True:
        members = _members(group)
        if not members:
            try:
                group.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError as exc:
                if exc.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                    return False
        elif not _write(group / "cgroup.kill", "1"):
            for pid in members:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def remove_leaves(leaves: list[Path]) -> None:
    """Remove one sandbox's leaves, then its slot's groups and the course's base if empty."""
    for leaf in leaves:
        remove_group(leaf)
        for parent in (leaf.parent, leaf.parent.parent):
            if parent.name.startswith("slot-") or parent.name == GROUP:
                with contextlib.suppress(OSError):
                    parent.rmdir()  # fails while another sandbox (a spare) still uses it


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(layouts: list[CgroupLayout]) -> list[Path]:
    """Reclaim the leaves whose owning grader process is gone (killed): kill what is left in
    them and remove them, then remove empty slot groups. Returns the leaves removed."""
    removed = []
    for layout in layouts:
        for _, base in layout.bases:
            if not base.is_dir():
                continue
            for slot in sorted(base.glob("slot-*")):
                for leaf in sorted(slot.glob("sbx-*")):
                    try:
                        owner = int(leaf.name.split("-")[1])
                    except (IndexError, ValueError):
                        continue
                    if owner != os.getpid() and not _pid_alive(owner) and remove_group(leaf):
                        removed.append(leaf)
                with contextlib.suppress(OSError):
                    slot.rmdir()
    return removed


# -- what this host offers ------------------------------------------------------------------------
def probe_v1() -> CgroupLayout | None:
    """cgroup v1's ``memory``, ``pids`` and ``cpu`` hierarchies, where root can write them."""
    if os.geteuid() != 0:
        return None
    v1 = {point: opts for point, kind, opts in _mounts() if kind == "cgroup"}
    bases = []
    for controller in LIMITS:
        point = next(
            (Path(p) for p, opts in v1.items() if controller in opts.split(",")),
            None,
        )
        if point is None or not (point / "cgroup.procs").exists():
            continue
        base = point / GROUP
        try:
            base.mkdir(exist_ok=True)
        except OSError:
            continue
        bases.append((controller, base))
    if not bases:
        return None
    return CgroupLayout(1, tuple(bases), frozenset(c for c, _ in bases))


def _move_processes(group: Path, leaf: Path) -> None:
    """Move every process of ``group`` into its child ``leaf`` (cgroup v2's rule: a group that
    hands controllers to its children may hold no processes itself)."""
    pids = _members(group)
    if not pids:
        return
    leaf.mkdir(exist_ok=True)
    for pid in pids:
        with contextlib.suppress(OSError):
            (leaf / "cgroup.procs").write_text(str(pid))


def probe_v2(configured: str = "", require: bool = True) -> CgroupLayout | str:
    """The delegated cgroup v2 subtree the slots' groups go in, ready to use; or a string
    saying why there is none. ``configured`` is ``c.SandboxLimits.cgroup_v2_root`` (empty:
    ``<cgroup2 mount>/cryoem-course`` as root, else this process's own cgroup if delegated).
    With ``require``, a hierarchy that offers neither memory nor pids is not touched at all."""
    mount = v2_mount()
    if mount is None:
        return "no cgroup v2 hierarchy is mounted"
    if require and not configured:
        start = mount if os.geteuid() == 0 else _own_v2_cgroup(mount)
        try:
            offered = set((start / "cgroup.controllers").read_text().split()) if start else set()
        except OSError:
            offered = set()
        missing = [c for c in ("memory", "pids") if c not in offered]
        if len(missing) == 2:
            bound = (
                " (they are bound to cgroup v1 on this host)" if probe_v1_mounted(missing) else ""
            )
            return f"{start} offers no memory or pids controller{bound}"
    if configured:
        base = Path(configured)
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create {base}: {exc.strerror}"
        parent_enable = base.parent
    elif os.geteuid() == 0:
        base = mount / GROUP
        try:
            base.mkdir(exist_ok=True)
        except OSError as exc:
            return f"cannot create {base}: {exc.strerror}"
        parent_enable = mount
    else:
        own = _own_v2_cgroup(mount)
        if own is None or not os.access(own / "cgroup.subtree_control", os.W_OK):
            return (
                "this process's cgroup is not delegated to it (start the grader in a cgroup "
                "with Delegate=yes, or set c.SandboxLimits.cgroup_v2_root)"
            )
        _move_processes(own, own / "grader")
        base = own
        parent_enable = None
    offered = set((base / "cgroup.controllers").read_text().split()) if base.exists() else set()
    if parent_enable is not None and parent_enable != base:
        # ask the parent to hand the controllers down (allowed at the root, and in a parent
        # that holds no processes)
        parent_offers = set((parent_enable / "cgroup.controllers").read_text().split())
        for c in LIMITS:
            if c in parent_offers and c not in offered:
                _write(parent_enable / "cgroup.subtree_control", f"+{c}")
        offered = set((base / "cgroup.controllers").read_text().split())
    if _members(base) and base != mount:
        _move_processes(base, base / "grader")
    for c in LIMITS:
        if c in offered:
            _write(base / "cgroup.subtree_control", f"+{c}")
    enabled = set((base / "cgroup.subtree_control").read_text().split())
    controllers = frozenset(c for c in LIMITS if c in enabled)
    missing = [c for c in ("memory", "pids") if c not in controllers]
    note = (
        f"{base} offers no {' or '.join(missing)} controller"
        + (" (they are bound to cgroup v1 on this host)" if probe_v1_mounted(missing) else "")
        if missing
        else ""
    )
    return CgroupLayout(2, (("", base),), controllers, note)


def probe_v1_mounted(controllers: list[str]) -> bool:
    v1 = [opts.split(",") for _, kind, opts in _mounts() if kind == "cgroup"]
    return any(c in opts for c in controllers for opts in v1)
