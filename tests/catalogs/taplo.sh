#!/usr/bin/env bash
# Checks every catalog and cases file of the repository with taplo against the JSON Schema
# its `#:schema` directive names (the schemas are generated from the loader's own types:
# `certequiv schema catalog|cases`), as an editor with the Even Better TOML extension would.
# A catalog file without the directive would only be checked for TOML syntax, so the
# directive is required here.
#
# Usage: bash tests/catalogs/taplo.sh [TAPLO]     (default: taplo from .ci/.tools, installed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TAPLO="${1:-$ROOT/.ci/.tools/node_modules/.bin/taplo}"
if [[ ! -x "$TAPLO" ]]; then
  npm install --prefix "$ROOT/.ci/.tools" --silent --no-audit --no-fund @taplo/cli@0.7.0 >/dev/null
fi

mapfile -t files < <(git ls-files -- 'crates/storage/catalogs/*.toml' 'crates/storage/tests/data/editions/*.toml')
if [[ ${#files[@]} -eq 0 ]]; then
  echo "no catalog files found" >&2
  exit 1
fi
missing=0
for file in "${files[@]}"; do
  if ! head -n 1 "$file" | grep -q '^#:schema '; then
    echo "$file: the first line must be a '#:schema <path to the JSON Schema>' directive" >&2
    missing=1
  fi
done
[[ $missing -eq 0 ]]
"$TAPLO" check --colors never "${files[@]}"
printf '    %s catalog and cases files valid against their schemas\n' "${#files[@]}"
