#!/usr/bin/env bash
# Renders the review pages in a real browser and checks what a reader gets: the catalog page
# (`certequiv export --format html`) must show all 33 entries of the embedded catalog, every
# expected-verdict case passing; the diff page (`certequiv diff --format html`) of a copy whose
# CFA entry was raised from 中级 to 副高级 must show that level change. Headless Chromium
# (Debian's package) loads each page from a file, its DOM is read back with --dump-dom and
# checked by check_dom.py; screenshots and a print rendering (PDF) stay in target/review/.
#
# Usage: bash tests/review/check.sh      (from any directory; installs chromium if missing)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/target/review"
step() { printf '==> %s\n' "$*"; }

# Debian's chromium, and a CJK font so that screenshots show Chinese rather than boxes.
if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  step "installing chromium and a CJK font (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
chromium --version | sed 's/^/    /'

step "building certequiv"
cargo build --quiet --locked -p certequiv-server --bin certequiv
BIN="$ROOT/target/debug/certequiv"

rm -rf "$OUT"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
PROFILES=()
cleanup() { rm -rf "$WORK" "${PROFILES[@]}"; }
trap cleanup EXIT

browser() {
  # A fresh profile per run; no network, no first-run or background traffic.
  local profile
  profile="$(mktemp -d)"
  PROFILES+=("$profile")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$profile" "$@" 2>>"$OUT/chromium.log"
}

step "certequiv export --format html (embedded catalog)"
"$BIN" export --format html >"$OUT/catalog.html"
"$BIN" export --format json >"$WORK/catalog.json"

step "certequiv diff --format html (a copy with the CFA entry raised to 副高级)"
mkdir -p "$WORK/new"
cp "$ROOT"/crates/storage/catalogs/beijing-attachment-5.toml "$WORK/new/"
python3 - "$WORK/new/beijing-attachment-5.toml" <<'PY'
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
at = text.index('id = "cfa"')
level = text.index('title_level = "中级"', at)
text = text[:level] + 'title_level = "副高级"' + text[level + len('title_level = "中级"'):]
open(path, "w", encoding="utf-8").write(text)
PY
status=0
"$BIN" diff --format html "$ROOT/crates/storage/catalogs/beijing-attachment-5.toml" \
  "$WORK/new/beijing-attachment-5.toml" >"$OUT/diff.html" || status=$?
if [[ $status -ne 1 ]]; then
  echo "certequiv diff exited $status, expected 1 (changes)" >&2
  exit 1
fi

for page in catalog diff; do
  step "chromium: $page.html (DOM, screenshot, print)"
  browser --dump-dom "file://$OUT/$page.html" >"$OUT/$page.dom.html"
  browser --window-size=1280,2400 --screenshot="$OUT/$page.png" "file://$OUT/$page.html"
  browser --no-pdf-header-footer --print-to-pdf="$OUT/$page.pdf" "file://$OUT/$page.html"
done

step "checking the rendered pages"
python3 "$ROOT/tests/review/check_dom.py" \
  --catalog-dom "$OUT/catalog.dom.html" --catalog-json "$WORK/catalog.json" \
  --diff-dom "$OUT/diff.dom.html" \
  --screenshots "$OUT/catalog.png" "$OUT/diff.png" --pdfs "$OUT/catalog.pdf" "$OUT/diff.pdf"
printf '    screenshots and PDFs: %s\n' "${OUT#"$ROOT"/}"
