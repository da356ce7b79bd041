"""A corpus of hostile and malformed problem-set-1 submissions, graded in one batch.

Each entry is built from the real release — solved correctly (36 points) or left blank (0) —
plus one attack or defect, and states the verdict it must get. Attacks that could only gain
points start from the blank notebook and must still score 0; crashes start from the solved one
and must cost exactly the part they hit (or nothing, when they sit in a cell of their own). The
batch must finish, every submission must get a recorded verdict, and no attack may change
another learner's grade or any file outside its sandbox.

The section "the grader process" holds answers and outputs aimed at the grader itself, which
runs outside the sandbox: an expression that explodes when rebuilt, messages larger than the
grader accepts, a message its JSON parser cannot nest, an answer too large to be sent, floods of
output, a full scratch folder, a slot's memory exhausted by forked processes. The batch's wall
time must stay within what the configured limits allow (``test_batch_time_is_bounded``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from grading_support import (
    FAST_LIMITS,
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

from autograder.grading.evaluation import LIMIT_NOTE

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

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

# -- the grader process: answers and outputs aimed at it ---------------------------------------------
H = "test_symbolic_matrix"
TOWER = (
    "def rotation_matrix_symbolic():\n"
    "    tower = sp.Rational(3, 7)\n"
    "    for _ in range(6):\n"
    "        tower = sp.Pow(tower, 64, evaluate=False)  # (3/7)**(64**6) once evaluated\n"
    "    return sp.ImmutableMatrix(3, 3, [tower] * 9)"
)


def limit_verdict(part: str) -> Callable[[Any], str | None]:
    def check(outcome: Any) -> str | None:
        note = outcome.parts.get(part, {}).get("note", "")
        return None if LIMIT_NOTE in note else f"{part}: note {note!r}, expected the limits"

    return check


entry("sympy_power_tower", Expect(total=33.0, zero={H}, check=limit_verdict(H)))(
    redefine("symbolic_matrix", TOWER)
)
entry("message_over_the_size_limit", FULL)(
    with_cell(
        solved,
        "from IPython.display import display\ndisplay({'text/plain': 'x' * (64 * 2**20)}, raw=True)",
    )
)
entry("answer_over_the_size_limit", Expect(total=32.0, zero={A}))(
    redefine(
        "quat_multiply",
        "import sys\n_right = quat_multiply\n_sent = []\n"
        "def quat_multiply(p, q):  # one answer of 6 MB: the part's answers are one message\n"
        "    if sys._getframe(1).f_code.co_filename == '<course-harness>' and not _sent:\n"
        "        _sent.append(1)\n"
        "        return np.zeros(750_000)\n"
        "    return _right(p, q)",
    )
)
DEEP_JSON = """
import hashlib, hmac, json, uuid
kernel = get_ipython().kernel
session = kernel.session
def part(obj):
    return json.dumps(obj).encode()
header = part({'msg_id': uuid.uuid4().hex, 'msg_type': 'display_data', 'session': session.session,
               'username': 'x', 'date': '2022-01-01T00:00:00Z', 'version': '5.3'})
parts = [header, part({}), part({}), b'[' * 200000 + b']' * 200000]
digest = hmac.new(session.key, digestmod=hashlib.sha256)
for p in parts:
    digest.update(p)
kernel.iopub_socket.send_multipart([b'', b'<IDS|MSG>', digest.hexdigest().encode(), *parts])
print('sent')
"""
entry("message_nested_beyond_the_parser", FULL)(with_cell(solved, DEEP_JSON))
entry("output_flood_many_cells", FULL)(
    lambda root: _many_cells(solved(root), "print('y' * 200_000)", 150)
)
entry("scratch_folder_filled", FULL)(
    with_cell(
        solved,
        "for i in range(8):\n"
        "    try:\n"
        "        with open(f'fill{i}', 'wb') as f:\n"
        "            f.write(b'z' * (60 * 2**20))\n"
        "    except OSError as exc:\n"
        "        print('SCRATCH-FULL', exc.errno)\n"
        "        break",
    )
)
entry("scratch_folder_many_files", FULL)(
    with_cell(
        solved,
        "import os\n"
        "try:\n"
        "    for i in range(50_000):\n"
        "        open(f'empty{i}', 'w').close()\n"
        "except OSError as exc:\n"
        "    print('SCRATCH-FILES-FULL', exc.errno)",
    )
)
entry("slot_memory_by_forks", FULL)(
    with_cell(
        solved,
        "import os, time\n"
        "kids = []\n"
        "for _ in range(4):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        hog = b'h' * (700 * 2**20)\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "time.sleep(2)\n"
        "print('HOGS-ENDED', sum(os.waitpid(k, os.WNOHANG) != (0, 0) for k in kids))",
    )
)
entry("output_flood_on_stderr_fd", FULL)(
    with_cell(solved, "import os\nfor _ in range(200):\n    os.write(2, b'e' * 2**20)")
)


def with_markdown(base: Callable[[Path], Any], text: str) -> Builder:
    """``base`` with a learner's markdown cell (copied into the feedback page as written)."""

    def build(root: Path) -> Any:
        nb = base(root)
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(text))
        return nb

    return build


#: 3 MB of emphasis and links: nbconvert's markdown took 19 s for 0.55 MB, 10 min and 4 GiB
#: for 11 MB here; the learner's feedback page is then a plain one with the grade.
entry("markdown_render_bomb", FULL)(with_markdown(solved, "*a* [b](c) " * 280_000))
#: 40 000 formulas (0.6 MB): the page renders, its MathJax typesetting goes over the budget.
entry("markdown_math_bomb", FULL)(
    with_markdown(solved, " ".join(f"$x_{{{i}}}^2 + y_{{{i}}}$" for i in range(40_000)))
)


def _many_cells(nb: Any, code: str, n: int) -> Any:
    for _ in range(n):
        nb = insert_cell(nb, "quat_rotate", code)
    return nb


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


#: The hostile batch's limits: the tests' short ones — but 10 s per cell, because importing
#: SymPy alone took more than 4 s while this 2-core machine was shared with a load of 20 —,
#: a slot of 2 GiB (so that four forked 700 MiB processes exceed it) and 10 s to evaluate a
#: part in the grader.
LIMITS = {**FAST_LIMITS, "cell_timeout": 10.0, "notebook_timeout": 90.0, "evaluate_timeout": 10.0}
CONFIG = "c.SandboxLimits.memory_mb = 2048\n"
WORKERS = 3


def _mtimes(folder: Path) -> dict[Path, int]:
    """Modification times of everything below ``folder``, folders included (links themselves,
    not their targets: a link to /etc/shadow changes whenever the host adds a user)."""
    return {p: p.lstat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    root = make_course(tmp_path_factory.mktemp("hostile"), PS, config=CONFIG)
    for name, (build, _) in CORPUS.items():
        extra = {"notes.txt": b"my notes"} if name == "missing_notebook" else None
        submit(root, PS, name, build(root), extra)
    link = submit(root, PS, "symlink_in_submission", solved(root))
    (link / "secrets").symlink_to("/etc/shadow")
    before = _mtimes(root / "submitted")
    t0 = time.monotonic()
    outcomes = grade(root, PS, workers=WORKERS, **LIMITS)  # most of it waits on time limits
    wall = time.monotonic() - t0
    after = _mtimes(root / "submitted")
    assert before == after, "grading modified a submission"
    return root, outcomes, wall


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) + 1 >= 30


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_verdict(batch: tuple[Path, dict, float], name: str) -> None:
    _, outcomes, _ = batch
    outcome = outcomes[name]
    assert outcome.verdict, "every submission gets a recorded verdict"
    assert verify(outcome, CORPUS[name][1]) == [], f"{name}: {outcome}"


def test_symlinked_secret_is_refused(batch: tuple[Path, dict, float]) -> None:
    _, outcomes, _ = batch
    outcome = outcomes["symlink_in_submission"]
    assert verify(outcome, BROKEN) == [] and "link" in outcome.verdict


def test_probes_all_failed(batch: tuple[Path, dict, float]) -> None:
    """The reads, writes and connections were attempted inside the sandbox, and all failed."""
    root, _, _ = batch
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


def test_no_collateral_damage(batch: tuple[Path, dict, float]) -> None:
    """The correct submission graded beside all of this still has full marks in the gradebook."""
    from nbgrader.api import Gradebook

    from autograder.config import db_url

    root, _, _ = batch
    with Gradebook(db_url(root)) as gb:
        assert gb.find_submission(PS, "correct").score == 36.0
        for name, (_, expect) in CORPUS.items():
            if expect.total is not None:
                assert gb.find_submission(PS, name).score == expect.total, name


def test_output_is_capped(batch: tuple[Path, dict, float]) -> None:
    root, _, _ = batch
    path = root / "autograded" / "output_flood" / PS / f"{PS}.ipynb"
    assert path.stat().st_size < 2 * 2**20
    text = path.read_text()  # dropped as it came, or never received (over the message limit)
    assert "bytes of output dropped" in text or "output not received" in text


def test_feedback_for_broken_submissions_explains(batch: tuple[Path, dict, float]) -> None:
    root, _, _ = batch
    nb = graded_notebook(root, PS, "not_json")
    assert "could not be graded" in nb.cells[0].source and "not valid JSON" in nb.cells[0].source


# -- the grader process ---------------------------------------------------------------------------
def test_grader_side_attacks_hit_their_limits(batch: tuple[Path, dict, float]) -> None:
    """Each attack on the grader met the limit meant for it (seen in the graded notebooks)."""
    root, _, _ = batch
    flood = graded_notebook(root, PS, "output_flood_many_cells")
    assert len(nbformat.writes(flood)) < 3 * 2**20  # 150 cells × 200 kB without the cap
    assert "notebook output limit" in outputs_text(flood)
    assert "outputs dropped from here on" in flood.cells[0].source  # the summary says so
    from autograder.sandbox import SandboxConfig

    if SandboxConfig(slot=0).enforcement.scratch == "tmpfs":  # else the supervisor ends it
        assert "SCRATCH-FULL 28" in outputs_text(graded_notebook(root, PS, "scratch_folder_filled"))
        many = outputs_text(graded_notebook(root, PS, "scratch_folder_many_files"))
        assert "SCRATCH-FILES-FULL 28" in many


def _restarts(root: Path, learner: str) -> int:
    meta = graded_notebook(root, PS, learner).metadata.get("cryoem_course", {})
    return int(meta.get("kernel_restarts", 0))


def test_batch_time_is_bounded(batch: tuple[Path, dict, float]) -> None:
    """No answer or output makes the grader wait beyond its limits.

    * every part's evaluation in the grader ended within twice ``evaluate_timeout`` (the
      answers' evaluation, then the checks' account of "no answers" when it was over) and 1 s
      to kill a child and read its result;
    * every submission finished within the bound its limits imply: a kernel start, the
      notebook's time and the last cell's grace, a restart and a replay per recorded kernel
      restart, and per part the harness's boot, the part's time, the graces and the evaluation;
    * the batch finished within what list scheduling on ``WORKERS`` processes allows.
    """
    root, outcomes, wall = batch
    start, grace = 60.0, 10.0  # SandboxedKernel.startup_timeout; interrupt + idle grace
    nt, pt, et = LIMITS["notebook_timeout"], LIMITS["part_timeout"], LIMITS["evaluate_timeout"]
    graded = {n: o for n, o in outcomes.items() if o.status == "graded"}
    for name, outcome in graded.items():
        for gid, part in outcome.parts.items():
            assert part["evaluate_seconds"] <= 2 * et + 1.0, (name, gid, part["evaluate_seconds"])
        per_part = 30 + pt + 2 * grace + 2 * et + 5  # boot, answers, graces, evaluation, reconnect
        bound = start + nt + grace + _restarts(root, name) * (start + nt)
        bound += len(outcome.parts) * per_part + 30  # + nbgrader's own steps
        assert outcome.seconds <= bound, (name, outcome.seconds, bound)
    seconds = [o.seconds for o in outcomes.values()]
    assert wall <= sum(seconds) / WORKERS + max(seconds) + 60, (wall, sum(seconds))
    print(f"\nhostile batch: {len(outcomes)} submissions, {wall:.0f} s on {WORKERS} workers")


#: The feedback's budget per page in the test (rendering, then typesetting).
FEEDBACK_SECONDS, FEEDBACK_MB = 20.0, 512


def test_feedback_of_hostile_kinds_is_bounded(batch: tuple[Path, dict, float]) -> None:
    """``course feedback`` for the learners whose pages attack it: every one gets a page within
    the budget — the render bomb a plain page with its grade, the math bomb its page with the
    TeX left as text and a note — and the pages beside them are made as usual."""
    from autograder.feedback.generate import LIMIT_NOTE as RENDER_NOTE
    from autograder.feedback.generate import generate_feedback
    from autograder.feedback.typeset import LIMIT_NOTE as TYPESET_NOTE

    root, _, _ = batch
    who = [
        "correct",
        "markdown_render_bomb",
        "markdown_math_bomb",
        "output_flood_many_cells",
        "sympy_power_tower",
    ]
    t0 = time.monotonic()
    files = generate_feedback(root, PS, FEEDBACK_SECONDS, FEEDBACK_MB, learners=who)
    took = time.monotonic() - t0
    pages = {f.parent.parent.name: f.read_text() for f in files}
    assert sorted(pages) == sorted(who)
    render = pages["markdown_render_bomb"]
    assert RENDER_NOTE[1:] in render and "36 / 36" in render, render[:2000]
    math = pages["markdown_math_bomb"]
    assert TYPESET_NOTE in math and "<mjx-container" not in math
    for name in ("correct", "output_flood_many_cells", "sympy_power_tower"):
        assert RENDER_NOTE[1:] not in pages[name] and TYPESET_NOTE not in pages[name], name
        assert pages[name].count("<mjx-container") > 10, name
    assert len(pages["output_flood_many_cells"]) < 4 * 2**20
    # each page: its render and its typesetting within the budget, plus node's and a fork's start
    assert took < len(who) * 2 * (FEEDBACK_SECONDS + 10), took
