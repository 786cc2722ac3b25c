#!/usr/bin/env bash
# CI gate for contracts/: formatting, tests, code size headroom, complete error ABIs, and committed artifacts that
# match the sources.
# Fails when a deployable contract's runtime code exceeds MAX_RUNTIME bytes (EIP-170 allows 24,576; we keep 2 KiB
# spare for what comes next), when artifacts/ differs from what build.sh produces, or is not committed at all.
set -euo pipefail
cd "$(dirname "$0")"
FORGE=node_modules/.bin/forge
MAX_RUNTIME=22528
# Every artifact the Rust crates and the SDK load (keep in step with scripts/export-artifacts.js).
ARTIFACTS=(ModelRegistry JobMarket DisputeGame OneStepProver LlmStepProver LlmOps VouchConsumerExample VouchLlmConsumerExample)
# The protocol's own contracts (the example consumers are a dApp's, whose reverts the market's ABI decodes).
PROTOCOL=(ModelRegistry JobMarket DisputeGame OneStepProver LlmStepProver LlmOps)
./build.sh
# Every custom error a call of a protocol contract can revert with (its own and those it passes through) is in its ABI.
node scripts/check-errors.js "${PROTOCOL[@]}"
# Every function, event and error in those ABIs carries a NatSpec @notice (the artifacts keep userdoc and devdoc).
node scripts/check-natspec.js "${ARTIFACTS[@]}"
"$FORGE" fmt --check
"$FORGE" test
# Sizes of everything outside test/ and script/ (those hold test-only contracts no one deploys).
"$FORGE" build --skip test --skip script --sizes --json | node -e '
  const max = Number(process.argv[1]);
  const sizes = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const over = Object.entries(sizes).filter(([, s]) => s.runtime_size > max);
  for (const [name, s] of Object.entries(sizes)) {
    if (s.runtime_size > 100) console.log(`check.sh: ${name} runtime ${s.runtime_size} B (limit ${max})`);
  }
  for (const [name, s] of over) console.error(`check.sh: ${name} runtime code is ${s.runtime_size} B > ${max} B`);
  if (Object.keys(sizes).length === 0 || over.length > 0) process.exit(1);
' "$MAX_RUNTIME"
for name in "${ARTIFACTS[@]}"; do
  f="artifacts/$name.json"
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
