#!/usr/bin/env node
// Copies the forge artifacts the Rust side and the TypeScript SDK load (`alloy::sol!(JobMarket, …)`, `sdk/scripts/generate-abi.mjs`)
// from out/ to artifacts/, keeping only what does not depend on the machine, the paths or the set of files
// compiled with them: abi, bytecode.object, deployedBytecode.object, methodIdentifiers, and the NatSpec (userdoc,
// devdoc: every function, event and error documented, `scripts/check-natspec.js`). Source maps, the AST, the rest
// of the metadata and ids are dropped so the committed files are small and byte-for-byte reproducible.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const CONTRACTS = ['ModelRegistry', 'JobMarket', 'DisputeGame', 'OneStepProver', 'LlmStepProver', 'LlmOps', 'VouchConsumerExample', 'VouchLlmConsumerExample'];

fs.mkdirSync(path.join(root, 'artifacts'), { recursive: true });
for (const name of CONTRACTS) {
  const src = path.join(root, 'out', `${name}.sol`, `${name}.json`);
  const artifact = JSON.parse(fs.readFileSync(src, 'utf8'));
  const code = (b) => ({ object: b.object, linkReferences: b.linkReferences || {} });
  // forge's parsed `metadata` drops the events and errors of the NatSpec; solc's raw metadata has them all.
  const { userdoc, devdoc } = JSON.parse(artifact.rawMetadata).output;
  const kept = {
    abi: artifact.abi,
    userdoc,
    devdoc,
    bytecode: code(artifact.bytecode),
    deployedBytecode: code(artifact.deployedBytecode),
    methodIdentifiers: artifact.methodIdentifiers,
  };
  if (!kept.abi || !kept.bytecode.object || kept.bytecode.object === '0x') {
    throw new Error(`${src}: missing abi or bytecode`);
  }
  const dst = path.join(root, 'artifacts', `${name}.json`);
  fs.writeFileSync(dst, JSON.stringify(kept, null, 2) + '\n');
  console.log(`wrote ${path.relative(root, dst)} (${(kept.bytecode.object.length - 2) / 2} bytes of initcode)`);
}
