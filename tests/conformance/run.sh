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

NAME=conformance
# shellcheck source=../lib/checks.sh
source "$ROOT/tests/lib/checks.sh"

server_binary

# --- Python venv with the pinned client packages ------------------------------------------------
python_venv "$VENV" "$HERE/requirements.txt"
printf '*\n' >"$VENV/.gitignore"
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
start_server
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
read -r t_total t_failures t_errors t_skipped <<<"$(junit_counts "$VENV/bin/python" "$WORK/pytest.xml")"
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
