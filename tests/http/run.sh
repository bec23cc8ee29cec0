#!/usr/bin/env bash
# HTTP/JSON checks, run by CI as `bash tests/http/run.sh` (any cwd):
#
# 1. openapi-spec-validator: docs/openapi.json is a valid OpenAPI 3.1 document (that it is the
#    one generated from proto/ is a cargo test: certequiv-server gateway::openapi).
# 2. Starts the debug server with --http-listen on port 0, reading the port from its log.
# 3. The served /openapi.json is byte for byte the committed one.
# 4. schemathesis drives the live API from the served document with at most EXAMPLES generated
#    requests per operation and phase (default 25): no 5xx, every answer conforms to the
#    document (status codes, content types, schemas, headers); tests/http/schemathesis.toml
#    says which checks are left out and why.
# 5. The server exits 0 on SIGTERM, with no panic in its log.
# The server is always stopped on exit. The last line is `N passed, M failed`.
#
# Environment: VENV (default <repo>/.venv-http), PYTHON (default python3), CERTEQUIV_BIN (use
# this server binary instead of building one), EXAMPLES, SEED (schemathesis seed, default 1:
# CI runs the same cases every time; pass another to explore).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/.venv-http}
case "$VENV" in /*) ;; *) VENV=$PWD/$VENV ;; esac
PYTHON=${PYTHON:-python3}
EXAMPLES=${EXAMPLES:-25}
SEED=${SEED:-1}
START=$(date +%s)

passed=0
failed=0
summary_done=0
SERVER_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certequiv-http.XXXXXX")

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
step() { echo; echo "==> $*"; }

summary() {
  summary_done=1
  echo
  echo "http checks: $(( $(date +%s) - START ))s"
  echo "$passed passed, $failed failed"
}

on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  if [ -n "$SERVER_PID" ]; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  if [ "$summary_done" = 0 ]; then
    echo "http checks aborted (exit $rc) before all checks ran" >&2
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
  (cd "$ROOT" && cargo build --locked -p certequiv-server --bin certequiv)
  target_dir=${CARGO_TARGET_DIR:-target}
  case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
  BIN=$target_dir/debug/certequiv
fi
[ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 1; }

# --- Python venv with the pinned tools ----------------------------------------------------------
step "python venv at $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
req_hash=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV/.http-requirements" 2>/dev/null)" != "$req_hash" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$HERE/requirements.txt"
  echo "$req_hash" >"$VENV/.http-requirements"
fi
echo "$("$VENV/bin/openapi-spec-validator" --version 2>&1 | head -n 1); $("$VENV/bin/schemathesis" --version)"

# --- 1. the committed document ------------------------------------------------------------------
step "openapi-spec-validator docs/openapi.json"
if "$VENV/bin/openapi-spec-validator" "$ROOT/docs/openapi.json"; then
  pass "docs/openapi.json is a valid OpenAPI document"
else
  fail "docs/openapi.json does not validate"
fi

# --- 2. server on port 0 ------------------------------------------------------------------------
step "start $BIN with --http-listen 127.0.0.1:0"
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^CERTEQUIV_' || true)
# JSON log lines: the bound addresses are read from them (logged_addr).
"$BIN" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --log-format json >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
# logged_addr MESSAGE: the address in the server's JSON log line for MESSAGE, e.g.
# {"message":"serving","addr":"127.0.0.1:PORT",…}; empty until the server logged it.
logged_addr() {
  sed -nE "/\"message\":\"$1\"/{s/.*\"addr\":\"([^\"]+)\".*/\1/p;q}" "$WORK/server.log"
}
HTTP=
for ((i = 0; i < 600; i++)); do
  # "http listening" is logged before "serving".
  if [ -n "$(logged_addr serving)" ]; then
    HTTP=$(logged_addr 'http listening')
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$HTTP" ] || { echo "no 'http listening' line with an addr before 'serving'" >&2; exit 1; }
echo "HTTP/JSON at $HTTP (pid $SERVER_PID)"

# --- 3. the served document ---------------------------------------------------------------------
step "GET /openapi.json"
if curl -sf "http://$HTTP/openapi.json" -o "$WORK/served.json" \
  && cmp -s "$WORK/served.json" "$ROOT/docs/openapi.json"; then
  pass "the served document is docs/openapi.json"
else
  fail "the served /openapi.json differs from docs/openapi.json"
fi

# --- 4. schemathesis ----------------------------------------------------------------------------
step "schemathesis run (max $EXAMPLES examples per operation, seed $SEED)"
set +e
(cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$HERE/schemathesis.toml" run \
  "http://$HTTP/openapi.json" --max-examples "$EXAMPLES" --seed "$SEED" \
  --generation-database none --request-timeout 10 --no-color)
st_rc=$?
set -e
if [ "$st_rc" -eq 0 ]; then
  pass "schemathesis: no 5xx, answers conform to the document"
else
  fail "schemathesis exited $st_rc"
fi

# --- 5. shutdown --------------------------------------------------------------------------------
step "stop the server (SIGTERM)"
pid=$SERVER_PID
SERVER_PID=
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
if [ "$rc" = 0 ]; then pass "server exits 0 on SIGTERM"; else fail "server exit status $rc"; fi
if grep -q 'panicked' "$WORK/server.log"; then
  fail "the server log has a panic"
  grep -m 5 -A 3 'panicked' "$WORK/server.log"
else
  pass "no panic in the server log"
fi

summary
