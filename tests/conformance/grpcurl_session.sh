#!/usr/bin/env bash
# A grpcurl session against a running certequiv server, discovering the API by reflection.
#
#   ADDR=127.0.0.1:50051 bash tests/conformance/grpcurl_session.sh
#
# The grpcurl commands below are the ones the README shows: copy them as they are (each reads
# the server address from $ADDR). The `| expect NAME TEXT...` after each one is the check: it
# reads the command's output (stdout and stderr) and passes when every TEXT occurs in it.
# grpcurl 1.8.6 speaks reflection v1alpha; `-plaintext` because the server runs without TLS here.
set -uo pipefail
shopt -s lastpipe # `| expect` runs in this shell, so its counts add up
: "${ADDR:?set ADDR to host:port of a running certequiv server}"

passed=0
failed=0
expect() {
  local name=$1 out missing=()
  shift
  out=$(cat)
  for text in "$@"; do
    grep -qF -- "$text" <<<"$out" || missing+=("$text")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   grpcurl $name"
  else
    failed=$((failed + 1))
    echo "FAIL grpcurl $name: missing ${missing[*]}"
    printf '%s\n' "$out" | head -c 4000 | sed 's/^/     | /'
  fi
}

# Services the server exposes.
grpcurl -plaintext "$ADDR" list 2>&1 \
  | expect list certequiv.v1.CertificateService certequiv.v1.EquivalenceService \
      grpc.health.v1.Health

# One service's RPCs, with their comments.
grpcurl -plaintext "$ADDR" describe certequiv.v1.CertificateService 2>&1 \
  | expect describe "rpc GetCertificate" "rpc ListCertificates" "rpc SearchCertificates" \
      "rpc ListCatalogs" "rpc GetCatalog"

# Health of one service.
grpcurl -plaintext -d '{"service": "certequiv.v1.CertificateService"}' \
  "$ADDR" grpc.health.v1.Health/Check 2>&1 \
  | expect health '"status": "SERVING"'

# One certificate by id.
grpcurl -plaintext -d '{"id": "fcca"}' \
  "$ADDR" certequiv.v1.CertificateService/GetCertificate 2>&1 \
  | expect GetCertificate '"id": "fcca"' '"nameZh": "ACCA资深会员证书（Fcca）"'

# The finance certificates, three per page (pass nextPageToken as page_token for the next page).
grpcurl -plaintext -d '{"filter": {"field": "金融"}, "page_size": 3}' \
  "$ADDR" certequiv.v1.CertificateService/ListCertificates 2>&1 \
  | expect ListCertificates '"id": "fcca"' '"nextPageToken"'

# What an applicant typed, best match first.
grpcurl -plaintext -d '{"query": "FCCA", "page_size": 3}' \
  "$ADDR" certequiv.v1.CertificateService/SearchCertificates 2>&1 \
  | expect SearchCertificates '"id": "fcca"' '"matchKind": "MATCH_KIND_ABBREVIATION"'

# Traditional script; a name pasted with its line break; the compact view for type-ahead.
grpcurl -plaintext -d '{"query":"國際註冊內部審計師"}' \
  "$ADDR" certequiv.v1.CertificateService/SearchCertificates 2>&1 \
  | expect SearchCertificates-traditional '"id": "cia"' '"matchKind": "MATCH_KIND_ALIAS"'
grpcurl -plaintext -d '{"query":"ACM高级会员\n证书"}' \
  "$ADDR" certequiv.v1.CertificateService/SearchCertificates 2>&1 \
  | expect SearchCertificates-pasted '"id": "acm-senior-member"' '"matchKind": "MATCH_KIND_EXACT"'
grpcurl -plaintext -d '{"query":"ACCA","view":"CERTIFICATE_VIEW_BASIC"}' \
  "$ADDR" certequiv.v1.CertificateService/SearchCertificates 2>&1 \
  | expect SearchCertificates-basic '"id": "acca"' '"itemNumber": 7'

# The catalogs loaded, and which one is used by default.
grpcurl -plaintext -d '{}' \
  "$ADDR" certequiv.v1.CertificateService/ListCatalogs 2>&1 \
  | expect ListCatalogs '"defaultCatalogId": "beijing-attachment-5"'

# One catalog's metadata.
grpcurl -plaintext -d '{"id": "beijing-attachment-5"}' \
  "$ADDR" certequiv.v1.CertificateService/GetCatalog 2>&1 \
  | expect GetCatalog '"id": "beijing-attachment-5"' '"certificateCount": 33'

# Evaluate one applicant.
grpcurl -plaintext -d '{
    "correlation_id": "demo-1",
    "claims": [{"text": "CFA"}],
    "applicant": {"work_field": "金融", "basic_conditions": "BASIC_CONDITIONS_CONFIRMED"}
  }' \
  "$ADDR" certequiv.v1.EquivalenceService/EvaluateEquivalence 2>&1 \
  | expect EvaluateEquivalence '"correlationId": "demo-1"' '"verdict": "VERDICT_RECOGNIZED"'

# Evaluate a stream of applicants: one JSON message after another on stdin (-d @).
grpcurl -plaintext -d @ "$ADDR" certequiv.v1.EquivalenceService/BatchEvaluate <<'EOF' 2>&1 \
  | expect BatchEvaluate '"correlationId": "row-1"' '"verdict": "VERDICT_RECOGNIZED"' \
      '"correlationId": "row-2"' '"verdict": "VERDICT_NEEDS_CONFIRMATION"' '"index": "1"'
{"correlation_id": "row-1", "claims": [{"text": "CFA"}],
 "applicant": {"work_field": "金融", "basic_conditions": "BASIC_CONDITIONS_CONFIRMED"}}
{"correlation_id": "row-2", "claims": [{"text": "IEEE"}]}
EOF

# An invalid request: INVALID_ARGUMENT with google.rpc.BadRequest naming the field.
grpcurl -plaintext -d '{"query": ""}' \
  "$ADDR" certequiv.v1.CertificateService/SearchCertificates 2>&1 \
  | expect invalid-argument "Code: InvalidArgument" "google.rpc.BadRequest" '"field":"query"'

echo "grpcurl session: $passed ok, $failed failed"
[ "$failed" -eq 0 ]
