#!/usr/bin/env bash
# The local demo: installs the pinned Foundry (anvil) from npm, builds Vouch, and runs `vouch dev`:
# anvil + contracts + coordinator (SQLite) + workers + a challenger, jobs posted and settled, a fraud
# slashed. Ctrl-C stops it. Extra arguments go to `vouch dev` (see `vouch dev --help`); with
# `--model smollm2` the pinned SmolLM2-135M-Instruct is fetched first (scripts/fetch-smollm2.sh,
# sha256-checked, cached outside git) and the demo is a language model answering questions as text.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x contracts/node_modules/.bin/anvil ] || [ contracts/package-lock.json -nt contracts/node_modules/.package-lock.json ]; then
  npm ci --prefix contracts --no-audit --no-fund
fi
for arg in "$@"; do
  if [ "$arg" = smollm2 ] || [ "$arg" = --model=smollm2 ]; then
    VOUCH_SMOLLM2="$(scripts/fetch-smollm2.sh)"
    export VOUCH_SMOLLM2
  fi
done
exec cargo run --locked -p vouch-cli -- dev "$@"
