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

NAME="http checks"
# shellcheck source=../lib/checks.sh
source "$ROOT/tests/lib/checks.sh"

server_binary

# --- Python venv with the pinned tools ----------------------------------------------------------
python_venv "$VENV" "$HERE/requirements.txt"
echo "$("$VENV/bin/openapi-spec-validator" --version 2>&1 | head -n 1); $("$VENV/bin/schemathesis" --version)"

# --- 1. the committed document ------------------------------------------------------------------
step "openapi-spec-validator docs/openapi.json"
if "$VENV/bin/openapi-spec-validator" "$ROOT/docs/openapi.json"; then
  pass "docs/openapi.json is a valid OpenAPI document"
else
  fail "docs/openapi.json does not validate"
fi

# --- 2. server on port 0 ------------------------------------------------------------------------
start_server
[ -n "$HTTP" ] || { echo "no 'http listening' line with an addr before 'serving'" >&2; exit 1; }

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
stop_server 15
rc=$SERVER_RC
if [ "$rc" = 0 ]; then pass "server exits 0 on SIGTERM"; else fail "server exit status $rc"; fi
if grep -q 'panicked' "$WORK/server.log"; then
  fail "the server log has a panic"
  grep -m 5 -A 3 'panicked' "$WORK/server.log"
else
  pass "no panic in the server log"
fi

summary
