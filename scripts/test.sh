#!/usr/bin/env bash
# Every test Vouch has: contracts (build, format, forge unit/fuzz/invariant tests, committed artifacts
# up to date), then Rust (format, clippy, unit/property/differential tests, anvil integration tests), then the
# TypeScript SDK (its tests run the `vouch` binary the cargo tests built).
# Needs cargo, node and npm; installs the pinned Foundry + solc from npm by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> contracts: npm ci"
if [ ! -x contracts/node_modules/.bin/forge ] || [ contracts/package-lock.json -nt contracts/node_modules/.package-lock.json ]; then
  npm ci --prefix contracts --no-audit --no-fund
fi

echo "==> contracts: build, fmt, forge test, artifacts"
contracts/check.sh

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
