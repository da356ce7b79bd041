"""The answer key never reaches a learner's environment.

What a learner's Jupyter server and kernel can import is built from ``learner/`` (the
distribution ``cryoem-course-learner``), ``hub/requirements-learner.txt`` and
``hub/requirements-kernel.txt`` — on this machine (the hub's learner environment, the grading
sandbox's kernel environment) and in the learner image (``hub/Dockerfile``). These tests prove
that none of them holds the reference implementation, the grader, the hidden checks, the
mutation banks or a solution: by what the distribution declares and packs, by what the image
copies and installs, and by scanning the built environments for any line of those files.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LEARNER = REPO / "learner"
HUB = REPO / "hub"
FORBIDDEN_MODULES = ("reference_impl", "autograder")
#: How many lines of the answer key make a file a copy of it.
MIN_HITS = 4
#: A line of code (a call, an assignment, an index), not a rule or a sentence.
CODE = re.compile(r"[A-Za-z_]\w*\s*[(=\[]")


def _requirements(path: Path) -> list[str]:
    return [
        ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()
    ]


def answer_key_lines() -> set[str]:
    """Distinctive lines (40+ characters) of the answer key: the reference implementation,
    the hidden checks, the mutation banks, the solution regions of the problem-set notebooks
    (the grader's own code is kept out by package name: no ``autograder`` anywhere)."""
    files = list((REPO / "reference_impl").rglob("*.py"))
    for ps in (REPO / "assignments" / "problem_sets").iterdir():
        files += [ps / "hidden_checks.py", ps / "mutants.py"]
    lines = {ln.strip() for f in files if f.is_file() for ln in f.read_text().splitlines()}
    for src in (REPO / "assignments" / "problem_sets").glob("*/ps*.py"):
        for region in re.findall(
            r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", src.read_text(), re.S
        ):
            lines |= {ln.strip() for ln in region.splitlines()}
    return {
        ln
        for ln in lines
        if len(ln) >= 40 and CODE.search(ln) and not ln.startswith(("#", '"""', "from ", "import "))
    }


def leaks_in(
    folder: Path, suffixes: tuple[str, ...] = (".py", ".ipynb", ".json", ".txt")
) -> list[str]:
    """Files below ``folder`` that contain a line of the answer key, or are named like its
    modules."""
    key = answer_key_lines()
    found = []
    for path in folder.rglob("*"):
        if path.is_dir() and path.name in FORBIDDEN_MODULES:
            found.append(f"{path} (a package of the instructor's)")
        if path.name in ("hidden_checks.py", "mutants.py"):
            found.append(str(path))
        if not path.is_file() or path.suffix not in suffixes or path.stat().st_size > 4 * 2**20:
            continue
        try:
            text = path.read_text(errors="ignore")
        except OSError:
            continue
        hits = {ln.strip() for ln in text.splitlines()} & key
        if len(hits) >= MIN_HITS:  # a generic line or two (a type signature) is not a copy
            found.append(f"{path}: {len(hits)} lines, e.g. {sorted(hits)[0][:80]}")
    return found


def test_the_scan_would_find_the_answer_key() -> None:
    """The scan can fail: on the repository's own reference implementation it finds it."""
    assert len(answer_key_lines()) > 500
    modules = list((REPO / "reference_impl").glob("*.py"))
    found = leaks_in(REPO / "reference_impl")
    assert len(found) >= 0.8 * len(modules), found
    for ps in (REPO / "assignments" / "problem_sets").iterdir():
        source = ps / f"{ps.name}.py"  # the notebook with its solutions
        assert any(str(source) in f for f in leaks_in(ps)), ps.name


def test_the_learner_package_imports_nothing_of_the_instructors() -> None:
    for path in (LEARNER / "course_learner").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path} imports {name}"
    assert not leaks_in(LEARNER)


def test_the_learner_distribution_packs_and_requires_no_answer_key(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(LEARNER),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("cryoem_course_learner-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"course_learner"}, tops
    requires = [
        ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")
    ]
    assert requires
    assert not any(re.match(r"(?i)cryoem[-_.]course(?![-_.]learner)", r) for r in requires), (
        requires
    )


def test_kernel_requirements_are_the_sandbox_kernels() -> None:
    from autograder.sandbox.bubblewrap import KERNEL_PACKAGES

    assert _requirements(HUB / "requirements-kernel.txt") == KERNEL_PACKAGES
    # none of the learners' requirements is the instructor's distribution or SciPy
    for line in _requirements(HUB / "requirements-learner.txt") + KERNEL_PACKAGES:
        name = re.split(r"[=<>\[ ]", line)[0].lower()
        assert name not in ("cryoem-course", "scipy"), line


def test_course_ids_agree() -> None:
    from course_learner import COURSE_ID

    from autograder.config import COURSE_ID as INSTRUCTORS

    assert COURSE_ID == INSTRUCTORS


def test_the_learner_image_installs_exactly_the_learner_requirements() -> None:
    """The image copies only learner-side files and installs exactly the files the hub's
    learner environment and the sandbox's kernel environment are built from (no Docker engine
    runs here: this is checked on the Dockerfile)."""
    text = (HUB / "Dockerfile").read_text()
    copies = [ln.split()[1:-1] for ln in text.splitlines() if ln.startswith("COPY")]
    sources = {s for c in copies for s in c}
    assert sources == {
        "hub/requirements-learner.txt",
        "hub/requirements-kernel.txt",
        "learner",
        "hub/etc/jupyter",
    }, sources
    installs = re.findall(r"pip install [^\n\\&]*", text)
    assert any("requirements-kernel.txt" in i for i in installs)
    assert any("requirements-learner.txt" in i for i in installs)
    assert any(i.rstrip().endswith("learner") for i in installs)
    # what it copies holds no answer key
    for src in sources:
        assert not leaks_in(REPO / src), src


def _env_pythons() -> list[Path]:
    from autograder.hub.environment import DEFAULT_HUB_ENV
    from autograder.sandbox.bubblewrap import default_kernel_env

    return [DEFAULT_HUB_ENV, default_kernel_env()]


@pytest.mark.hub
@pytest.mark.slow
@pytest.mark.parametrize("which", ["hub-env", "kernel-env"])
def test_the_built_learner_environments_hold_no_answer_key(which: str) -> None:
    import os

    env = _env_pythons()[0 if which == "hub-env" else 1]
    if not (env / "bin" / "python").exists():
        if os.environ.get("COURSE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{env} is not built (scripts/dev.sh setup builds it as root)")
        pytest.skip(f"{env} is not built")
    probe = "import importlib.util as u; print([m for m in {!r} if u.find_spec(m)])".format(
        (*FORBIDDEN_MODULES, "scipy")
    )
    out = subprocess.run(
        [str(env / "bin" / "python"), "-I", "-c", probe], capture_output=True, text=True, cwd="/"
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
    site = next((env / "lib").glob("python3*/site-packages"))
    ours = [p for p in site.iterdir() if p.name.startswith(("course_learner", "cryoem_course"))]
    assert all("learner" in p.name for p in ours), ours
    if which == "hub-env":
        assert (site / "course_learner").is_dir() and not (site / "course_learner").is_symlink()
        assert not leaks_in(env / "etc")
    assert not leaks_in(site, suffixes=(".py", ".ipynb", ".pth"))
