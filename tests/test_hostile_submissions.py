"""A corpus of hostile and malformed problem-set-1 submissions, graded in one batch.

Each entry is built from the real release — solved correctly (36 points) or left blank (0) —
plus one attack or defect, and states the verdict it must get. Attacks that could only gain
points start from the blank notebook and must still score 0; crashes start from the solved one
and must cost exactly the part they hit (or nothing, when they sit in a cell of their own). The
batch must finish, every submission must get a recorded verdict, and no attack may change
another learner's grade or any file outside its sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from grading_support import (
    Expect,
    append_to,
    grade,
    graded_notebook,
    insert_cell,
    learner_notebook,
    make_course,
    outputs_text,
    submit,
    verify,
)

PS = "ps01_quaternions"
A, B, C, D = "test_quat_multiply", "test_conjugate_inverse", "test_quat_rotate", "test_quat_matrix"
G = "test_many_points"
TESTS = [
    "test_quat_multiply",
    "test_conjugate_inverse",
    "test_quat_rotate",
    "test_quat_matrix",
    "test_axis_angle",
    "test_euler",
    "test_many_points",
    "test_symbolic_matrix",
    "test_symbolic_jacobian",
]
FULL, ZERO = Expect(total=36.0), Expect(total=0.0, others="zero")
BROKEN = Expect(status="broken", total=0.0, others="zero")

Builder = Callable[[Path], Any]  # course root → notebook, bytes or None
CORPUS: dict[str, tuple[Builder, Expect]] = {}


def entry(name: str, expect: Expect) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        CORPUS[name] = (build, expect)
        return build

    return register


def solved(root: Path) -> Any:
    return learner_notebook(root, PS, solved=True)


def blank(root: Path) -> Any:
    return learner_notebook(root, PS, solved=False)


def with_cell(base: Callable[[Path], Any], code: str, after: str = "quat_rotate") -> Builder:
    return lambda root: insert_cell(base(root), after, code)


def redefine(cell: str, code: str, base: Callable[[Path], Any] = solved) -> Builder:
    return lambda root: append_to(base(root), cell, code)


# -- references -------------------------------------------------------------------------------
entry("correct", FULL)(solved)
entry("blank_release", ZERO)(blank)

# -- time ------------------------------------------------------------------------------------
entry("infinite_loop_cell", FULL)(with_cell(solved, "while True:\n    pass"))
entry("infinite_loop_in_function", Expect(total=32.0, zero={A}))(
    redefine("quat_multiply", "def quat_multiply(p, q):\n    while True:\n        pass")
)
entry("sleep_forever_cell", FULL)(with_cell(solved, "import time\ntime.sleep(10**6)"))
entry("sleep_forever_in_function", Expect(total=32.0, zero={C}))(
    redefine("quat_rotate", "def quat_rotate(q, v):\n    import time\n    time.sleep(10**6)")
)
entry("uninterruptible_loop_in_function", Expect(total=33.0, zero={B}))(
    redefine(
        "conjugate_inverse",
        "def quat_conjugate(q):\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass",
    )
)

# -- memory, processes, crashes ------------------------------------------------------------------
entry("memory_bomb_cell", FULL)(
    with_cell(solved, "hog = []\nwhile True:\n    hog.append(bytearray(2**28))")
)
entry("memory_bomb_in_function", Expect(reduced={D, G}))(
    redefine("quat_matrix", "def quat_to_matrix(q):\n    return np.ones(10**11)")
)
entry("fork_bomb", ZERO)(
    with_cell(
        blank,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    )
)
entry("sys_exit_mid_notebook", FULL)(with_cell(solved, "import sys\nsys.exit(3)"))
entry("os_exit_mid_notebook", FULL)(with_cell(solved, "import os\nos._exit(3)"))
entry("segfault_mid_notebook", FULL)(with_cell(solved, "import ctypes\nctypes.string_at(0)"))
entry("segfault_in_function", Expect(total=33.0, zero={B}))(
    redefine(
        "conjugate_inverse",
        "def quat_conjugate(q):\n    import ctypes\n    return ctypes.string_at(0)",
    )
)
entry("deep_recursion", FULL)(
    with_cell(
        solved, "import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)"
    )
)
entry("output_flood", FULL)(with_cell(solved, "print('x' * 10**8)"))
entry("odd_return_values", Expect(reduced={D, "test_axis_angle", "test_euler"}))(
    redefine(
        "euler",
        "def quat_to_axis_angle(q):\n    return ('x', np.zeros((0, 7)))\n"
        "def matrix_to_euler(R, convention='xyz'):\n    return np.zeros((2, 0))\n"
        "def matrix_to_quat(R):\n    return 1j * np.ones(4)",
    )
)
entry("huge_return_value", Expect(total=32.0, zero={A}))(
    redefine("quat_multiply", "def quat_multiply(p, q):\n    return np.zeros(10**8)")
)


# -- the filesystem and the network ---------------------------------------------------------------
def probe(paths: list[str], mode: str = "r") -> str:
    """A learner cell that tries each path and prints what happened (kept in the graded notebook)."""
    return (
        "for path in " + json.dumps(paths) + ":\n"
        "    try:\n"
        f"        with open(path, {mode!r}) as f:\n"
        + (
            "            f.write('pwned')\n"
            if "w" in mode or "a" in mode
            else "            f.read(100)\n"
        )
        + "        print('PROBE-OK', path)\n"
        "    except Exception as exc:\n"
        "        print('PROBE-FAIL', path, type(exc).__name__)\n"
    )


def read_probe(paths: Callable[[Path], list[str]]) -> Builder:
    return lambda root: insert_cell(blank(root), "quat_rotate", probe(paths(root)))


entry("write_outside_folder", ZERO)(
    lambda root: insert_cell(
        blank(root),
        "quat_rotate",
        probe(
            [
                str(root / "gradebook.db"),
                str(root / "PWNED"),
                "/etc/PWNED",
                "../../PWNED",
                "/submission/../PWNED",
            ],
            "w",
        ),
    )
)
entry("read_course_source", ZERO)(
    read_probe(
        lambda root: [
            str(root / "problem_sets" / PS / "hidden_checks.py"),
            str(root / "problem_sets" / PS / f"{PS}.py"),
            str(root / "source" / PS / f"{PS}.ipynb"),
        ]
    )
)
entry("read_gradebook", ZERO)(read_probe(lambda root: [str(root / "gradebook.db")]))
entry("read_other_learner", ZERO)(
    read_probe(
        lambda root: [str(root / "submitted" / "correct" / PS / f"{PS}.ipynb"), "../correct/" + PS]
    )
)
entry("read_etc_passwd", ZERO)(
    read_probe(lambda root: ["/etc/passwd", "/etc/shadow", "/root/.bashrc"])
)
entry("read_reference_impl", ZERO)(
    read_probe(
        lambda root: [
            str(Path(__file__).resolve().parent.parent / "reference_impl" / "quaternion.py")
        ]
    )
)
entry("network_request", ZERO)(
    with_cell(
        blank,
        "import socket, urllib.request\n"
        "for target in [('1.1.1.1', 53), ('127.0.0.1', 22), ('pypi.org', 443)]:\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=2).close()\n"
        "        print('PROBE-OK', target)\n"
        "    except Exception as exc:\n"
        "        print('PROBE-FAIL', target, type(exc).__name__)\n"
        "try:\n"
        "    urllib.request.urlopen('https://pypi.org/simple/', timeout=2)\n"
        "    print('PROBE-OK url')\n"
        "except Exception as exc:\n"
        "    print('PROBE-FAIL url', type(exc).__name__)",
    )
)
entry("import_reference_impl", ZERO)(
    redefine(
        "quat_multiply",
        "from reference_impl.quaternion import *\nfrom scipy.spatial.transform import Rotation",
        base=blank,
    )
)

# -- tampering with the tests -------------------------------------------------------------------
WRONG = (
    "def quat_multiply(p, q):\n    return np.zeros(np.broadcast_shapes(np.shape(p), np.shape(q)))\n"
    "def quat_rotate(q, v):\n    return np.zeros(np.broadcast_shapes(np.shape(q)[:-1] + (3,), np.shape(v)))\n"
)
entry("patch_numpy_testing", ZERO)(
    redefine(
        "quat_multiply",
        WRONG
        + "import numpy.testing\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True",
        base=blank,
    )
)
entry("eq_always_true", ZERO)(
    redefine(
        "quat_multiply",
        "class Anything:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 10**6\n"
        "    def __array__(self, *a, **k):\n        raise TypeError('no')\n"
        "def quat_multiply(p, q):\n    return Anything()",
        base=blank,
    )
)
entry("blank_showtraceback", ZERO)(
    with_cell(
        blank,
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None",
        after="imports",
    )
)
NEUTER = """
def neuter(lines):
    if '__course_h__' in ''.join(lines):
        return ['pass\\n']
    return [line.replace('assert ', 'assert True or ') for line in lines]
get_ipython().input_transformers_post.append(neuter)
"""
FORGE = """
import json, re

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
MIME = 'application/vnd.cryoem-course.results+json'
def forge(lines):
    text = ''.join(lines)
    m = re.search(r'"nonce": "([0-9a-f]+)"', text)
    if m is None or '__course_h__.answer' not in text:
        return lines
    n = text.count('"id":')
    answers = [{'id': i, 'ok': True, 'value': {'t': 'float', 'v': '0.0'}} for i in range(n)]
    bundle = {MIME: {'nonce': m.group(1), 'answers': answers}}
    return ['from IPython.display import display\\n', 'display(' + repr(bundle) + ', raw=True)\\n']
get_ipython().input_transformers_post.append(forge)
"""
entry("input_transformer", ZERO)(with_cell(blank, NEUTER, after="imports"))
entry("forged_results", ZERO)(with_cell(blank, FORGE, after="imports"))
entry("tamper_builtins_import", ZERO)(
    with_cell(
        blank,
        "import builtins\nbuiltins.__import__ = lambda *a, **k: (_ for _ in ()).throw(ImportError('no'))",
        after="imports",
    )
)


def edit_tests(base: Callable[[Path], Any], how: str) -> Builder:
    def build(root: Path) -> Any:
        nb = base(root)
        cells = []
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in TESTS:
                if how == "edit":
                    cell.source = "pass  # tests removed by the learner"
                elif how == "delete":
                    continue
                elif how == "duplicate":
                    cells.append(nbformat.from_dict(json.loads(json.dumps(cell))))
                elif how == "retype":
                    cell = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
            cells.append(cell)
        nb.cells = cells
        return nb

    return build


entry("edited_locked_cells_blank", ZERO)(edit_tests(blank, "edit"))
entry("edited_locked_cells_solved", FULL)(edit_tests(solved, "edit"))
entry("deleted_test_cells", ZERO)(edit_tests(blank, "delete"))
entry("deleted_test_cells_solved", FULL)(edit_tests(solved, "delete"))
entry("duplicated_test_cells", FULL)(edit_tests(solved, "duplicate"))
entry("retyped_test_cells", FULL)(edit_tests(solved, "retype"))
entry("renamed_function", Expect(total=32.0, zero={C}))(
    redefine("quat_rotate", "rotate_quat = quat_rotate\ndel quat_rotate")
)
entry("syntax_error_in_cell", Expect(total=32.0, zero={A}))(
    lambda root: learner_notebook(
        root, PS, replace={"quat_multiply": "def quat_multiply(p, q)\n    return p"}
    )
)

# -- files that are not gradable notebooks ------------------------------------------------------
entry("not_json", BROKEN)(lambda root: b"this is not a notebook {")
entry("empty_file", BROKEN)(lambda root: b"")
entry("too_new_nbformat", BROKEN)(
    lambda root: json.dumps(
        {**json.loads(nbformat.writes(solved(root))), "nbformat_minor": 99}
    ).encode()
)
entry("nbformat_5", BROKEN)(
    lambda root: json.dumps({**json.loads(nbformat.writes(solved(root))), "nbformat": 5}).encode()
)
entry("missing_notebook", BROKEN)(lambda root: None)
entry("json_not_a_notebook", BROKEN)(lambda root: b'{"cells": "nope", "nbformat": 4}')


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = make_course(tmp_path_factory.mktemp("hostile"), PS)
    for name, (build, _) in CORPUS.items():
        extra = {"notes.txt": b"my notes"} if name == "missing_notebook" else None
        submit(root, PS, name, build(root), extra)
    link = submit(root, PS, "symlink_in_submission", solved(root))
    (link / "secrets").symlink_to("/etc/shadow")
    # lstat: the link itself, not /etc/shadow (which changes when a user is added)
    before = {p: p.lstat().st_mtime_ns for p in (root / "submitted").rglob("*")}
    outcomes = grade(root, PS, workers=3)  # most of the batch waits on time limits
    after = {p: p.lstat().st_mtime_ns for p in (root / "submitted").rglob("*")}
    assert before == after, "grading modified a submission"
    return root, outcomes


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) + 1 >= 30


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_verdict(batch: tuple[Path, dict], name: str) -> None:
    _, outcomes = batch
    outcome = outcomes[name]
    assert outcome.verdict, "every submission gets a recorded verdict"
    assert verify(outcome, CORPUS[name][1]) == [], f"{name}: {outcome}"


def test_symlinked_secret_is_refused(batch: tuple[Path, dict]) -> None:
    _, outcomes = batch
    outcome = outcomes["symlink_in_submission"]
    assert verify(outcome, BROKEN) == [] and "link" in outcome.verdict


def test_probes_all_failed(batch: tuple[Path, dict]) -> None:
    """The reads, writes and connections were attempted inside the sandbox, and all failed."""
    root, _ = batch
    for name in [
        "write_outside_folder",
        "read_course_source",
        "read_gradebook",
        "read_other_learner",
        "read_etc_passwd",
        "read_reference_impl",
        "network_request",
    ]:
        text = outputs_text(graded_notebook(root, PS, name))
        assert "PROBE-FAIL" in text, name
        assert "PROBE-OK" not in text, name
    assert not (root / "PWNED").exists() and not Path("/etc/PWNED").exists()


def test_no_collateral_damage(batch: tuple[Path, dict]) -> None:
    """The correct submission graded beside all of this still has full marks in the gradebook."""
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    root, _ = batch
    with Gradebook(db_url(root)) as gb:
        assert gb.find_submission(PS, "correct").score == 36.0
        for name, (_, expect) in CORPUS.items():
            if expect.total is not None:
                assert gb.find_submission(PS, name).score == expect.total, name


def test_output_is_capped(batch: tuple[Path, dict]) -> None:
    root, _ = batch
    path = root / "autograded" / "output_flood" / PS / f"{PS}.ipynb"
    assert path.stat().st_size < 2 * 2**20
    assert "bytes of output dropped" in path.read_text()


def test_feedback_for_broken_submissions_explains(batch: tuple[Path, dict]) -> None:
    root, _ = batch
    nb = graded_notebook(root, PS, "not_json")
    assert "could not be graded" in nb.cells[0].source and "not valid JSON" in nb.cells[0].source
