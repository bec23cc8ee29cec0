#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 60 s): `bash bench/fuzz.sh [SECONDS]`.
# cargo-fuzz needs nightly compiler flags; this machine has only the stable toolchain, so the
# script sets RUSTC_BOOTSTRAP=1 to let stable accept them. Not run in CI (it is a search for
# bugs, not a check); a crash it finds becomes a regression test beside the code.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
mkdir -p fuzz/corpus/search fuzz/corpus/catalog_file
cp crates/storage/catalogs/*.toml fuzz/corpus/catalog_file/
for q in FCCA "华为 HCIE-Datacom" "ＡＣＣＡ资深会员" "IEEE Felow" 精算师 "CPA (Australia)"; do
  printf '%s' "$q" > "fuzz/corpus/search/$(printf '%s' "$q" | sha1sum | cut -c1-12)"
done
for target in search catalog_file; do
  echo "==> fuzz $target for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=4096
done
