#!/usr/bin/env bash
# CI gate for contracts/: formatting, tests, and committed artifacts that match the sources.
# Fails when artifacts/ differs from what build.sh produces, or is not committed at all.
set -euo pipefail
cd "$(dirname "$0")"
FORGE=node_modules/.bin/forge
./build.sh
"$FORGE" fmt --check
"$FORGE" test
for f in artifacts/ModelRegistry.json artifacts/JobMarket.json artifacts/OneStepProver.json; do
  if ! git ls-files --error-unmatch "$f" >/dev/null 2>&1; then
    echo "check.sh: $f is not committed; run ./build.sh and commit it" >&2
    exit 1
  fi
done
if ! git diff --exit-code -- artifacts; then
  echo "check.sh: artifacts/ is stale; run ./build.sh and commit the result" >&2
  exit 1
fi
echo "check.sh: ok"
