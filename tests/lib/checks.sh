# What the CI check scripts share (tests/conformance/run.sh, tests/http/run.sh,
# examples/clients/run.sh): counting checks, the summary line and the exit status, the server
# binary, a Python venv kept in step with a requirements file, pytest's counts, and a server
# started on port 0 whose addresses are read from its JSON log.
#
# Source it with bash after `set -euo pipefail` and setting ROOT (the repository) and NAME (how
# messages call the run, e.g. "conformance"). The last line a run prints is
# `N passed, M failed`; its exit status is non-zero when any check failed or the setup did, and
# the server is always stopped on exit.

START=$(date +%s)
passed=0
failed=0
skipped=0
summary_done=0
SERVER_PID=
SERVER_RC=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/certequiv-${NAME// /-}.XXXXXX")

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "skip $*"; }
step() { echo; echo "==> $*"; }

summary() {
  summary_done=1
  echo
  if [ "$skipped" -gt 0 ]; then
    echo "$NAME: $(($(date +%s) - START))s; $skipped skipped or xfailed (not counted)"
  else
    echo "$NAME: $(($(date +%s) - START))s"
  fi
  echo "$passed passed, $failed failed"
}

# stop_server SECONDS: SIGTERM, then SIGKILL after SECONDS; sets SERVER_RC.
stop_server() {
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

checks_on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  stop_server 5
  if [ "$summary_done" = 0 ]; then
    echo "$NAME aborted (exit $rc) before all checks ran" >&2
    [ -s "$WORK/server.log" ] && { echo "--- server log (tail)"; tail -n 30 "$WORK/server.log"; }
    failed=$((failed + 1))
    summary
  fi
  rm -rf "$WORK"
  if [ "$failed" -gt 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
  exit "$rc"
}
trap checks_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# server_binary: sets BIN to $CERTEQUIV_BIN, or builds the debug server and uses it.
server_binary() {
  if [ -n "${CERTEQUIV_BIN:-}" ]; then
    BIN=$CERTEQUIV_BIN
  else
    step "cargo build -p certequiv-server --bin certequiv"
    (cd "$ROOT" && cargo build --locked -p certequiv-server --bin certequiv)
    local target_dir=${CARGO_TARGET_DIR:-target}
    case "$target_dir" in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
    BIN=$target_dir/debug/certequiv
  fi
  [ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 1; }
}

# python_venv VENV REQUIREMENTS: creates the venv if missing and installs REQUIREMENTS into it
# whenever the file changed since the last install.
python_venv() {
  local venv=$1 requirements=$2 hash stamp
  step "python venv at $venv"
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  stamp="$venv/.requirements-$(basename "$(dirname "$requirements")")"
  hash=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements"
    echo "$hash" >"$stamp"
  fi
}

# junit_counts PYTHON FILE: "tests failures errors skipped" of a pytest --junitxml file
# ("0 0 0 0" when it cannot be read).
junit_counts() {
  "$1" - "$2" <<'EOF' || echo "0 0 0 0"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"], n["failures"], n["errors"], n["skipped"])
EOF
}

# logged_addr MESSAGE: the address in the server's JSON log line for MESSAGE, e.g.
# {"message":"serving","addr":"127.0.0.1:PORT",…}; empty until the server logged it.
logged_addr() {
  sed -nE "/\"message\":\"$1\"/{s/.*\"addr\":\"([^\"]+)\".*/\1/p;q}" "$WORK/server.log"
}

# start_server: starts $BIN on port 0 (gRPC, metrics and HTTP) with its settings from the flags
# only, and waits until it serves; sets ADDR (gRPC), HTTP and METRICS. Its log is
# $WORK/server.log.
start_server() {
  step "start $BIN on port 0"
  # CERTEQUIV_* and OTEL_* variables of the caller would change the server's settings.
  while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(CERTEQUIV|OTEL)_' || true)
  # Created before the server starts: the wait below may read it before the background job
  # has opened it, and with pipefail a missing file would end the script.
  : >"$WORK/server.log"
  "$BIN" serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --log-format json >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ADDR=
  local i
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
  # Both are logged before "serving".
  HTTP=$(logged_addr 'http listening')
  METRICS=$(logged_addr 'metrics listening')
  echo "gRPC at $ADDR, HTTP/JSON at ${HTTP:-?}, metrics at ${METRICS:-?} (pid $SERVER_PID)"
}
