#!/usr/bin/env bash
# Conformance suite for certequiv.v1, run by CI as `bash tests/conformance/run.sh` (any cwd).
#
# 1. buf lint on proto/, and buf breaking against the previous commit (skipped, with the reason,
#    when there is none or it has no proto/).
# 2. Starts the debug server on port 0 (gRPC and metrics), reading the ports from its log.
# 3. grpcurl_session.sh: grpcurl (reflection v1alpha) calls every RPC and checks the output.
# 4. pytest: the official grpcio packages discover the API by reflection only and call it.
# The server is always stopped on exit. The last line is `N passed, M failed` over all checks;
# the exit status is non-zero when any check failed or the setup did.
#
# Environment: VENV (default <repo>/.venv-conformance), PYTHON (default python3),
# CERTEQUIV_BIN (use this server binary instead of building one).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/.venv-conformance}
PYTHON=${PYTHON:-python3}
BUF_VERSION=1.75.0
START=$(date +%s)

passed=0
failed=0
skipped=0
summary_done=0
SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certequiv-conformance.XXXXXX")

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "skip $*"; }
step() { echo; echo "==> $*"; }

SERVER_RC=
stop_server() {  # stop_server SECONDS: SIGTERM, then SIGKILL after SECONDS; sets SERVER_RC
  local pid=$SERVER_PID i
  SERVER_PID=
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $1 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "server did not stop within $1s of SIGTERM: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  SERVER_RC=0
  wait "$pid" 2>/dev/null || SERVER_RC=$?
}

summary() {
  summary_done=1
  echo
  echo "conformance: $(( $(date +%s) - START ))s; $skipped skipped or xfailed (not counted)"
  echo "$passed passed, $failed failed"
}

on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  [ -z "$SERVER_PID" ] || stop_server 5
  if [ "$summary_done" = 0 ]; then
    echo "conformance run aborted (exit $rc) before all checks ran" >&2
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

# --- server binary ------------------------------------------------------------------------------
if [ -n "${CERTEQUIV_BIN:-}" ]; then
  BIN=$CERTEQUIV_BIN
else
  step "cargo build -p certequiv-server --bin certequiv"
  (cd "$ROOT" && cargo build -p certequiv-server --bin certequiv)
  target_dir=${CARGO_TARGET_DIR:-target}
  case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
  BIN=$target_dir/debug/certequiv
fi
[ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 1; }

# --- Python venv with the pinned client packages ------------------------------------------------
step "python venv at $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
printf '*\n' >"$VENV/.gitignore"
req_hash=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV/.conformance-requirements" 2>/dev/null)" != "$req_hash" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$HERE/requirements.txt"
  echo "$req_hash" >"$VENV/.conformance-requirements"
fi
"$VENV/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' '
echo

# --- buf -----------------------------------------------------------------------------------------
step "buf $BUF_VERSION"
BUF=
for candidate in "$ROOT/.ci/.tools/node_modules/.bin/buf" "$HERE/.tools/node_modules/.bin/buf"; do
  if [ -x "$candidate" ] && [ "$("$candidate" --version 2>/dev/null)" = "$BUF_VERSION" ]; then
    BUF=$candidate
    break
  fi
done
if [ -z "$BUF" ]; then
  mkdir -p "$HERE/.tools"
  npm install --prefix "$HERE/.tools" --silent --no-audit --no-fund "@bufbuild/buf@$BUF_VERSION" \
    >/dev/null
  BUF=$HERE/.tools/node_modules/.bin/buf
fi
echo "using $BUF ($("$BUF" --version))"

step "buf lint proto"
if (cd "$ROOT" && "$BUF" lint proto); then pass "buf lint"; else fail "buf lint"; fi

step "buf breaking proto --against '.git#ref=HEAD~1,subdir=proto'"
if ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 || [ ! -d "$ROOT/.git" ]; then
  skip "buf breaking: $ROOT is not a plain git checkout"
elif ! git -C "$ROOT" rev-parse --verify -q 'HEAD~1^{commit}' >/dev/null; then
  skip "buf breaking: no previous commit (single commit or shallow clone)"
elif ! git -C "$ROOT" cat-file -e 'HEAD~1:proto' 2>/dev/null; then
  skip "buf breaking: HEAD~1 has no proto/ directory"
elif (cd "$ROOT" && "$BUF" breaking proto --against '.git#ref=HEAD~1,subdir=proto'); then
  pass "buf breaking against HEAD~1 ($(git -C "$ROOT" rev-parse --short HEAD~1))"
else
  fail "buf breaking against HEAD~1 ($(git -C "$ROOT" rev-parse --short HEAD~1))"
fi

# --- server on port 0 ----------------------------------------------------------------------------
step "start $BIN on port 0"
# Settings come from the flags below only (CERTEQUIV_* variables would override the defaults).
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^CERTEQUIV_' || true)
# Created before the server starts: the wait loop below may read it before the background
# job has opened it, and with pipefail a missing file would end the script.
: >"$WORK/server.log"
# JSON log lines: the bound addresses are read from them (logged_addr).
"$BIN" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --log-format json \
  >"$WORK/server.log" 2>&1 &
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
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server exited before serving:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "server did not log 'serving' within 60s" >&2; exit 1; }
METRICS=$(logged_addr 'metrics listening')
echo "gRPC at $ADDR, metrics at ${METRICS:-?} (pid $SERVER_PID)"
export PYTHONDONTWRITEBYTECODE=1

# --- grpcurl ---------------------------------------------------------------------------------------
step "grpcurl session (tests/conformance/grpcurl_session.sh)"
set +e
PATH="$VENV/bin:$PATH" ADDR=$ADDR bash "$HERE/grpcurl_session.sh" | tee "$WORK/grpcurl.txt"
session_rc=${PIPESTATUS[0]}
set -e
g_ok=$(grep -c '^ok ' "$WORK/grpcurl.txt" || true)
g_fail=$(grep -c '^FAIL ' "$WORK/grpcurl.txt" || true)
passed=$((passed + g_ok))
failed=$((failed + g_fail))
if [ "$session_rc" -ne 0 ] && [ "$g_fail" -eq 0 ]; then
  fail "grpcurl session exited $session_rc"
fi

# --- Python client through reflection ------------------------------------------------------------
step "pytest (grpcio, reflection only)"
set +e
(cd "$HERE" && CERTEQUIV_ADDR=$ADDR "$VENV/bin/python" -m pytest . --rootdir . \
  -p no:cacheprovider -q -rfEsxX --junitxml "$WORK/pytest.xml")
pytest_rc=$?
set -e
counts=$("$VENV/bin/python" - "$WORK/pytest.xml" <<'EOF' || echo "0 0 0 0"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"], n["failures"], n["errors"], n["skipped"])
EOF
)
read -r t_total t_failures t_errors t_skipped <<<"$counts"
passed=$((passed + t_total - t_failures - t_errors - t_skipped))
failed=$((failed + t_failures + t_errors))
skipped=$((skipped + t_skipped))
if [ "$pytest_rc" -ne 0 ] && [ $((t_failures + t_errors)) -eq 0 ]; then
  fail "pytest exited $pytest_rc"
fi

# --- shutdown --------------------------------------------------------------------------------------
step "stop the server (SIGTERM)"
stop_server 15
if [ "$SERVER_RC" = 0 ]; then
  pass "server exits 0 on SIGTERM"
else
  fail "server exit status after SIGTERM: $SERVER_RC"
  tail -n 30 "$WORK/server.log"
fi

summary
