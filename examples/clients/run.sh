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
START=$(date +%s)

passed=0
failed=0
summary_done=0
SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certequiv-clients.XXXXXX")

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
step() { echo; echo "==> $*"; }

summary() {
  summary_done=1
  echo
  echo "client kit: $(( $(date +%s) - START ))s"
  echo "$passed passed, $failed failed"
}

on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  if [ "$summary_done" = 0 ]; then
    echo "client kit run aborted (exit $rc) before all checks ran" >&2
    [ -s "$WORK/server.log" ] && { echo "--- server log (tail)"; tail -n 30 "$WORK/server.log"; }
    failed=$((failed + 1))
    summary
  fi
  rm -rf "$WORK"
  if [ "$failed" -gt 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -----------------------------------------------------------------------------------------
step "python venv at $VENV"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
req_hash=$(sha256sum "$HERE/python/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV/.clients-requirements" 2>/dev/null)" != "$req_hash" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$HERE/python/requirements.txt"
  echo "$req_hash" >"$VENV/.clients-requirements"
fi

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
read -r t_total t_bad <<<"$("$VENV/bin/python" - "$WORK/pytest.xml" <<'EOF' || echo "0 0"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"] - n["skipped"], n["failures"] + n["errors"])
EOF
)"
passed=$((passed + t_total - t_bad))
failed=$((failed + t_bad))
if [ "$pytest_rc" -ne 0 ] && [ "$t_bad" -eq 0 ]; then fail "pytest exited $pytest_rc"; fi

# --- the examples against the real server -----------------------------------------------------------
if [ -n "${CERTEQUIV_BIN:-}" ]; then
  BIN=$CERTEQUIV_BIN
else
  step "cargo build -p certequiv-server --bin certequiv"
  (cd "$ROOT" && cargo build --locked -p certequiv-server --bin certequiv)
  target_dir=${CARGO_TARGET_DIR:-target}
  case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
  BIN=$target_dir/debug/certequiv
fi
[ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 1; }

step "start $BIN on port 0"
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(CERTEQUIV|OTEL)_' || true)
# Created before the server starts: the wait loop below may read it before the background
# job has opened it, and with pipefail a missing file would end the script.
: >"$WORK/server.log"
# JSON log lines: the bound address is read from them (logged_addr).
"$BIN" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --log-format json >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
# logged_addr MESSAGE: the address in the server's JSON log line for MESSAGE, e.g.
# {"message":"serving","addr":"127.0.0.1:PORT",…}; empty until the server logged it.
logged_addr() {
  sed -nE "/\"message\":\"$1\"/{s/.*\"addr\":\"([^\"]+)\".*/\1/p;q}" "$WORK/server.log"
}
ADDR=
for ((i = 0; i < 600; i++)); do
  ADDR=$(logged_addr serving)
  [ -n "$ADDR" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "server did not log 'serving' within 60s" >&2; exit 1; }
echo "gRPC at $ADDR"

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
