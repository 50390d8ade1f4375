#!/usr/bin/env bash
# Re-create tests/browser/vendor/axe-core from the npm registry. Only the browser tests load it
# (it is never published with the book); the file is committed, so run this only to change version.
set -euo pipefail
AXE=4.14.1
dest=tests/browser/vendor/axe-core
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v npm >/dev/null || { echo "error: npm is needed to re-vendor axe-core (apt-get install npm)" >&2; exit 1; }
(cd "$tmp" && npm pack -q "axe-core@$AXE" >/dev/null && tar xzf "axe-core-$AXE.tgz")
mkdir -p "$dest"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dest/"
echo "$AXE" > "$dest/VERSION"
echo "vendored axe-core $AXE into $dest"
