#!/usr/bin/env bash
# The local demo: installs the pinned Foundry (anvil) from npm, builds Vouch, and runs `vouch dev`:
# anvil + contracts + coordinator (SQLite) + worker, a few jobs posted and settled. Ctrl-C stops it.
# Extra arguments go to `vouch dev` (see `vouch dev --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x contracts/node_modules/.bin/anvil ] || [ contracts/package-lock.json -nt contracts/node_modules/.package-lock.json ]; then
  npm ci --prefix contracts --no-audit --no-fund
fi
exec cargo run --locked -p vouch-cli -- dev "$@"
