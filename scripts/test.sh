#!/usr/bin/env bash
# Install everything the test suite needs, then run it (ruff, import-linter, pytest: fast tier, then the rest).
#   bash scripts/test.sh            # locally: optional parts (TF 2.9 kernel, Chromium) are skipped with a reason if missing
#   REQUIRE_TF29=1 REQUIRE_JAX=1 REQUIRE_GATEWAY=1 REQUIRE_BROWSER=1 bash scripts/test.sh   # CI: every part is mandatory
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}

step() { printf '\n== [%4d s] %s\n' "$SECONDS" "$*"; }  # seconds since the script started: each step's cost in CI's log

# The installs run side by side where they can (about 4 minutes one after another on a fresh clone of this 2-core machine):
# Chromium and the TF 2.9 venv need nothing of .venv's packages, the JAX venv and the gateway need its Python. Each
# background install writes its own log, printed under its heading once it has ended; any that failed ends the script
# (after all have ended), as it did when they ran one after another.
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
JOB_NAMES=()
JOB_PIDS=()
start_job() {  # start_job "HEADING" FUNCTION: run FUNCTION in the background, its output to a log of its own
  local log="$LOGS/${#JOB_NAMES[@]}.log"
  ( set -euo pipefail; "$2" ) >"$log" 2>&1 &
  JOB_NAMES+=("$1")
  JOB_PIDS+=("$!")
}
finish_jobs() {  # wait for every started job and print its log; exit 1 if any failed
  local index failed=0
  for index in "${!JOB_PIDS[@]}"; do
    local code=0
    wait "${JOB_PIDS[$index]}" || code=$?
    step "${JOB_NAMES[$index]}"
    cat "$LOGS/$index.log"
    if [ "$code" != 0 ]; then
      echo "(failed: exit $code)" >&2
      failed=1
    fi
  done
  JOB_NAMES=()
  JOB_PIDS=()
  [ "$failed" = 0 ] || exit 1
}

install_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    echo "chromium: $(command -v chromium)"
  elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ "${REQUIRE_BROWSER:-0}" = "1" ]; then
    echo "REQUIRE_BROWSER=1 but chromium is missing and cannot be installed here (need root + apt-get)" >&2
    return 1
  else
    echo "no chromium: the browser tests will be skipped"
  fi
}

install_tf29() {
  local py38=""
  if command -v pyenv >/dev/null 2>&1; then
    py38=$(ls -d "$(pyenv root)"/versions/3.8*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$py38" ] || py38=$(command -v python3.8 || true)
  if [ -n "$py38" ]; then
    [ -x .venv-tf29/bin/python ] || "$py38" -m venv .venv-tf29
    .venv-tf29/bin/python -m pip install -q --upgrade "pip<25"
    .venv-tf29/bin/python -m pip install -q --no-compile -r requirements-tf29.txt
    # Registered inside .venv (its share/jupyter is on the main interpreter's Jupyter path), not in the user's home.
    .venv-tf29/bin/python -m ipykernel install --prefix "$ROOT/.venv" --name repro-tf29 \
      --display-name "Python 3.8 · TensorFlow 2.9.3" >/dev/null
    echo "kernelspec repro-tf29 -> $py38"
  elif [ "${REQUIRE_TF29:-0}" = "1" ]; then
    echo "REQUIRE_TF29=1 but no Python 3.8 was found (pyenv or python3.8)" >&2
    return 1
  else
    echo "no Python 3.8: the TF 2.9 tests will be skipped"
  fi
}

install_jax() {
  # The timeline's own command, so the venv, its stamp (reused when timeline/requirements/keras-jax.txt is unchanged:
  # about 2 s) and the kernelspec are the ones `python -m timeline --backend jax` measures with. PyTorch is not installed
  # here (1.1 GB and longer to install); its live tests run where `python -m timeline --backend torch --provision-only` was run.
  if .venv/bin/python -m timeline --backend jax --provision-only; then
    :
  elif [ "${REQUIRE_JAX:-0}" = "1" ]; then
    echo "REQUIRE_JAX=1 but the keras-jax kernel could not be provisioned (needs pyenv's Python 3.11)" >&2
    return 1
  else
    echo "no keras-jax kernel: the JAX tests will be skipped"
  fi
}

install_gateway() {
  # EG pins jupyter_client<7, so it never shares .venv; its stamp makes a second run take under a second. The tests start
  # it themselves (tests/gateway_service.py) on 127.0.0.1 with a random port and token.
  if .venv/bin/python tests/gateway_service.py --provision-only; then
    :
  elif [ "${REQUIRE_GATEWAY:-0}" = "1" ]; then
    echo "REQUIRE_GATEWAY=1 but Enterprise Gateway could not be installed into .venv-gateway" >&2
    return 1
  else
    echo "no Enterprise Gateway: the gateway tests will be skipped"
  fi
}

start_job "Browser for the end-to-end tests: Debian's chromium" install_chromium
step "Python environment (.venv) with the pinned requirements"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
start_job "Second kernel: Python 3.8 + tensorflow-cpu 2.9.3 (the article's TensorFlow)" install_tf29
.venv/bin/python -m pip install -q --upgrade pip
# --no-compile: the bytecode is compiled later, beside the fast tier (compile_bytecode below), not on the installs' path
# (.venv installs in 29 s against 63 s on this machine)
.venv/bin/python -m pip install -q --no-compile -r requirements-dev.txt
start_job "Backend kernel: Keras 3 on JAX (Python 3.11, no TensorFlow), kernelspec keras-jax" install_jax
start_job "Kernel gateway: Jupyter Enterprise Gateway 3.3.0 in its own venv (.venv-gateway)" install_gateway

step "axe-core for the accessibility tests: npm ci in tests/browser (the version its package-lock.json pins)"
# The browser tests inject axe-core into each page (tests/browser/test_accessibility.py); node_modules is not committed.
# npm ci installs exactly the lockfile's version (about a second, from npm's cache after the first time).
if command -v npm >/dev/null 2>&1 && (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error); then
  echo "axe-core $(node -p "require('./tests/browser/node_modules/axe-core/package.json').version")"
elif [ "${REQUIRE_BROWSER:-0}" = "1" ]; then
  echo "REQUIRE_BROWSER=1 but axe-core could not be installed (npm ci in tests/browser; is npm there?)" >&2
  exit 1
else
  echo "no npm, or npm ci failed: the accessibility browser tests will be skipped"
fi

step "ruff"
.venv/bin/ruff check .

step "import-linter: the layers of pyproject.toml point down"
.venv/bin/lint-imports

finish_jobs  # the fast tier checks the kernelspecs the installs register

# pytest in two steps (markers: pyproject.toml): the fast tier (no kernel, no browser, no server; about a minute), then
# every slow test, the kernel, browser and load tests, three test files at a time (pytest-xdist; --dist loadgroup with
# tests/conftest.py making each file a group, so its module fixtures, such as a gateway, start once, and the files of a
# SHARED_BY group, which share a story run or the browser's server, one group; the longest groups first, in conftest's
# LONGEST_FIRST order, which --no-loadscope-reorder keeps: much of their time is kernel start-up and page waits, so three
# overlap well on two cores). The load tests assert correctness under load only (caps held, tables
# equal to the command line's, no out-of-memory kill); the figures they once printed are bench/hosted_bench.py's, so
# they need no idle machine. The two -m expressions partition the tests (tests/test_tiers.py checks it), so every test
# runs exactly once. Arguments go to every step (`bash scripts/test.sh -k compare`); a step they select nothing in
# (pytest's exit code 5) is passed over, but not all of them. Arguments with their own -m run as one pytest, as given.
FAST="not kernel and not browser and not load"
SLOW="kernel or browser or load"
own_marker=0
for arg in "$@"; do
  case "$arg" in -m | -m?*) own_marker=1 ;; esac
done
if [ "$own_marker" = "1" ]; then
  step "pytest $*"
  exec .venv/bin/python -m pytest "$@"
fi
NARGS=$#
ran=0
tier() {  # tier LABEL EXPRESSION [PYTEST ARGS...]: one pytest step; a failure ends the script
  local label=$1 expression=$2 code=0
  shift 2
  step "pytest, $label: -m \"$expression\""
  .venv/bin/python -m pytest -m "$expression" "$@" || code=$?
  if [ "$code" = 0 ]; then
    ran=1
  elif [ "$code" != 5 ] || [ "$NARGS" = 0 ]; then
    exit "$code"  # a failure, or (without arguments) a step that found no test
  fi
}
compile_bytecode() {
  # The bytecode pip --no-compile left out, for the venvs whose kernels the slow tests start (several at once, each of
  # which would otherwise compile TensorFlow's modules for itself), on the core the single-process fast tier leaves idle.
  # An optimisation only: a file a venv's Python cannot compile (some packages ship such test data) is passed over.
  local dir
  for dir in .venv .venv-tf29 timeline/.venvs/keras-jax; do
    [ -x "$dir/bin/python" ] || continue
    "$dir/bin/python" -m compileall -q -j 1 "$dir"/lib/python3*/site-packages >/dev/null 2>&1 || true
    echo "$dir: compiled"
  done
}
start_job "Bytecode of the venvs' packages (beside the fast tier)" compile_bytecode
tier "fast tier" "$FAST" "$@"
finish_jobs
tier "kernels, browser and load, three files at a time" "$SLOW" -n 3 --dist loadgroup --no-loadscope-reorder --durations=40 "$@"
[ "$ran" = 1 ] || exit 5  # the arguments selected no test in any step
