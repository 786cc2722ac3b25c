#!/usr/bin/env bash
# Compiles the contracts and refreshes artifacts/ (what the Rust crates load). Needs `npm ci` first.
set -euo pipefail
cd "$(dirname "$0")"
FORGE=node_modules/.bin/forge
if [ ! -x "$FORGE" ]; then
  echo "build.sh: $FORGE not found; run 'npm ci' in contracts/ first" >&2
  exit 1
fi
"$FORGE" build
node scripts/export-artifacts.js
