#!/usr/bin/env bash
# Fails when `rust-version` in the root Cargo.toml is lower than what the locked dependencies
# declare, or when a workspace member does not inherit it (then Cargo and clippy ignore it).
#
# The honest check would build with that toolchain, but CI has one toolchain and no rustup
# downloads, so the check is `cargo metadata`: the largest `rust_version` among the packages
# the lock resolves for this platform (Linux, where the service runs). Platform filtering
# matters: the lock also holds crates that never build here (windows-* for Windows, and
# `generator` behind left-right's `cfg(loom)`), whose rust-version is higher.
# What the workspace's own code needs is checked elsewhere: clippy's `incompatible_msrv` lint
# (on by default, denied in CI) flags standard-library items newer than rust-version; language
# features are not flagged (let-chains need 1.88), so say in Cargo.toml why the number is what
# it is when you change it.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
metadata=$(mktemp)
trap 'rm -f "$metadata"' EXIT
cargo metadata --format-version 1 --locked --filter-platform "$host" >"$metadata"
python3 - "$metadata" <<'EOF'
import json, sys, tomllib


def parse(version):
    # "1.88" and "1.88.0" are the same requirement
    return tuple(int(x) for x in (version.split(".") + ["0", "0"])[:3])


with open("Cargo.toml", "rb") as f:
    declared = tomllib.load(f)["workspace"]["package"]["rust-version"]
with open(sys.argv[1]) as f:
    meta = json.load(f)
members = set(meta["workspace_members"])
in_resolve = {node["id"] for node in meta["resolve"]["nodes"]}
failed = False
for p in meta["packages"]:
    if p["id"] in members and p.get("rust_version") != declared:
        print(f"{p['name']}: rust-version {p.get('rust_version')}, not the workspace's {declared}"
              " (add `rust-version.workspace = true`)")
        failed = True
deps = sorted(
    ((parse(p["rust_version"]), p["name"], p["version"], p["rust_version"])
     for p in meta["packages"]
     if p["id"] in in_resolve and p["id"] not in members and p.get("rust_version")),
    reverse=True,
)
for key, name, version, needs in deps:
    if key > parse(declared):
        print(f"{name} {version} needs Rust {needs}, above the workspace rust-version {declared}")
        failed = True
if deps:
    _, name, version, needs = deps[0]
    print(f"rust-version {declared}; the highest dependency need is {name} {version} ({needs})")
sys.exit(1 if failed else 0)
EOF
