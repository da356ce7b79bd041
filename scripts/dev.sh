#!/usr/bin/env bash
# The project's one entry point for people and CI.
#
#   scripts/dev.sh serve   set up, then the whole platform on this machine: the demo course's
#                          accounts, the problem sets due (COURSE_NOW), the book, the hub and
#                          its grading service (each submission graded when it arrives)
#   scripts/dev.sh test    set up, then lint, type-check and run the whole test suite
#   scripts/dev.sh setup   only set up (safe to run any number of times)
#   scripts/dev.sh bench   set up with the benchmark peers, run the benchmarks in bench/
#
# Set-up: Debian packages the tests need (chromium, bubblewrap, postgresql, nodejs/npm; apt-get
# update first), the project environment in .venv/ (torch pinned to the CPU build 2.13.0), the
# learners' kernel environment for the grading sandbox (see autograder/sandbox/), the hub's proxy
# and MathJax (npm ci in hub/) and, as root, the hub's learner environment (autograder/hub/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
TORCH_PIN="torch==2.13.0"
PORT="${PORT:-8000}"

log() { printf '\033[1m[dev] %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

setup_debian() {
  local need=()
  command -v chromium >/dev/null || need+=(chromium)
  command -v bwrap >/dev/null || need+=(bubblewrap)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || need+=(postgresql)
  command -v git >/dev/null || need+=(git)
  command -v npm >/dev/null || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
}

base_python() {
  # /usr/bin/python3 (Debian's) rather than a pyenv build under /root: the sandboxed kernel runs
  # as an unprivileged user, who must be able to read the interpreter.
  if /usr/bin/python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo /usr/bin/python3
  else
    command -v python3
  fi
}

setup_venv() {
  local extras="${1:-dev,gpu}"
  local stamp="$VENV/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
  if [ -f "$stamp" ]; then return; fi
  [ -x "$PY" ] || { log "creating $VENV"; "$(base_python)" -m venv "$VENV"; }
  "$PY" -m pip install -q --upgrade pip setuptools wheel
  log "installing $TORCH_PIN (CPU build) and the project [$extras]"
  "$PY" -m pip install -q "$TORCH_PIN"
  "$PY" -m pip install -q -e ".[$extras]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
}

setup() {
  setup_debian
  setup_venv "${1:-dev,gpu}"
  # The grading sandbox: the learners' kernel environment (no scipy, no course code) and a
  # self-check that it is isolated. Loud on failure: grading never runs unsandboxed.
  "$VENV/bin/course" sandbox setup --quiet
  # the hub: its proxy and the feedback's MathJax (hub/package-lock.json), and the learner
  # environment (/opt/cryoem-course/hub-env; root builds it: it is every learner's)
  if [ ! -f hub/node_modules/.package-lock.json ] || [ hub/package-lock.json -nt hub/node_modules/.package-lock.json ]; then
    log "npm ci in hub/ (configurable-http-proxy, mathjax-full)"
    (cd hub && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ "$(id -u)" = 0 ]; then "$PY" -m autograder.hub setup >/dev/null; fi
}

case "${1:-}" in
  setup) setup ;;
  serve)
    setup
    shift
    # the demo course: accounts (printed), what book/schedule.yml makes due at $COURSE_NOW
    # (default 2022-02-25 10:00) released, the book built, the hub on http://127.0.0.1:$PORT
    # with the grading service (autograder/service) it starts and supervises
    as_root "$PY" -m autograder.hub serve --port "$PORT" "$@"
    ;;
  test)
    setup
    shift
    log "ruff format --check, ruff check, mypy (the packages, then the problem sets)"
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/ruff" check .
    "$VENV/bin/mypy"
    "$VENV/bin/mypy" assignments/problem_sets
    log "pytest"
    # services the tests start themselves (PostgreSQL, chromium, bubblewrap) must be there
    export COURSE_REQUIRE_SERVICES=1
    exec "$PY" -m pytest "$@"
    ;;
  bench)
    setup dev,gpu,bench
    shift
    for b in bench/bench_*.py; do log "$b"; "$PY" "$b" "$@"; done
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
