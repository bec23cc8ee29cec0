#!/usr/bin/env bash
# The client kit, run by CI as `bash examples/clients/run.sh` (any cwd):
#
# 1. installs the local plugins and runtimes: grpcio-tools & co. into <repo>/.venv-clients
#    (python/requirements.txt), protoc-gen-es & connect-node into typescript/node_modules
#    (package-lock.json), buf into <repo>/.ci/.tools;
# 2. `buf generate` (buf.gen.yaml at the repository root) into the gitignored gen/ directories,
#    then type-checks and compiles the TypeScript example;
# 3. pytest python/test_service_config.py: the recommended service config (round_robin,
#    retries, timeouts) against a stand-in server in the test process;
# 4. starts the debug server on port 0 and runs the Python and TypeScript examples against it,
#    checking what they print.
# The last line is `N passed, M failed`; the exit status is non-zero when any check failed.
#
# Environment: CERTEQUIV_BIN (use this server binary instead of building one), PYTHON
# (default python3).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=$ROOT/.venv-clients # buf.gen.yaml runs grpcio-tools from here
PYTHON=${PYTHON:-python3}
BUF_VERSION=1.75.0

NAME="client kit"
# shellcheck source=../../tests/lib/checks.sh
source "$ROOT/tests/lib/checks.sh"

# --- tools -----------------------------------------------------------------------------------------
python_venv "$VENV" "$HERE/python/requirements.txt"

step "npm ci (examples/clients/typescript)"
lock_hash=$(sha256sum "$HERE/typescript/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$HERE/typescript/node_modules/.clients-lock" 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --prefix "$HERE/typescript" --silent --no-audit --no-fund
  echo "$lock_hash" >"$HERE/typescript/node_modules/.clients-lock"
fi

step "buf $BUF_VERSION"
BUF=$ROOT/.ci/.tools/node_modules/.bin/buf
if [ ! -x "$BUF" ] || [ "$("$BUF" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  mkdir -p "$ROOT/.ci/.tools"
  npm install --prefix "$ROOT/.ci/.tools" --silent --no-audit --no-fund \
    "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi

# --- generate ---------------------------------------------------------------------------------------
step "buf generate (buf.gen.yaml)"
if (cd "$ROOT" && "$BUF" generate) \
  && [ -f "$HERE/python/gen/certequiv/v1/equivalence_pb2_grpc.py" ] \
  && [ -f "$HERE/typescript/gen/certequiv/v1/equivalence_pb.ts" ]; then
  pass "buf generate: Python and TypeScript stubs"
else
  fail "buf generate"
fi

step "tsc (type-checks the example against the generated code)"
rm -rf "$HERE/typescript/dist"
if (cd "$HERE/typescript" && ./node_modules/.bin/tsc -p tsconfig.json); then
  pass "tsc"
else
  fail "tsc"
fi

# --- service config ---------------------------------------------------------------------------------
step "pytest python/test_service_config.py"
export PYTHONDONTWRITEBYTECODE=1
set +e
(cd "$HERE/python" && "$VENV/bin/python" -m pytest test_service_config.py -p no:cacheprovider \
  -q -rfE --junitxml "$WORK/pytest.xml")
pytest_rc=$?
set -e
read -r t_total t_failures t_errors t_skipped <<<"$(junit_counts "$VENV/bin/python" "$WORK/pytest.xml")"
passed=$((passed + t_total - t_failures - t_errors - t_skipped))
failed=$((failed + t_failures + t_errors))
skipped=$((skipped + t_skipped))
if [ "$pytest_rc" -ne 0 ] && [ $((t_failures + t_errors)) -eq 0 ]; then fail "pytest exited $pytest_rc"; fi

# --- the examples against the real server -----------------------------------------------------------
server_binary
start_server

# What both examples must print: the answers the README documents for these inputs.
check_output() {  # check_output NAME FILE
  local name=$1 file=$2 expected
  for expected in \
    "search .FCCA.: 1 result" \
    "  fcca  .*TITLE_LEVEL_ASSOCIATE_SENIOR .*MATCH_KIND_ABBREVIATION" \
    "search .IEEE.: 2 result.*[(]ambiguous" \
    "VERDICT_RECOGNIZED, highest level TITLE_LEVEL_INTERMEDIATE" \
    "  WORK_FIELD: CONDITION_STATUS_SATISFIED" \
    "Verdict: recognized\."; do
    if ! grep -qE "$expected" "$file"; then
      fail "$name example: no line matches /$expected/"
      return
    fi
  done
  pass "$name example: search and evaluation answers"
}

step "python examples/clients/python/main.py $ADDR"
if "$VENV/bin/python" "$HERE/python/main.py" "$ADDR" | tee "$WORK/python.txt"; then
  check_output Python "$WORK/python.txt"
else
  fail "Python example exited non-zero"
fi

step "node examples/clients/typescript/dist/main.js http://$ADDR"
if node "$HERE/typescript/dist/main.js" "http://$ADDR" | tee "$WORK/typescript.txt"; then
  check_output TypeScript "$WORK/typescript.txt"
else
  fail "TypeScript example exited non-zero"
fi

summary
