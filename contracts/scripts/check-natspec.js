#!/usr/bin/env node
// Checks that every function, event and error in a committed artifact's ABI carries a NatSpec `@notice` in its
// userdoc, so a client reading only artifacts/<Name>.json learns what each entry means (issue 10: ABIs a client
// can use). Public state variables count as functions (their getters).
//
// Usage: node scripts/check-natspec.js JobMarket [...]   (exit 1 and a list when an entry is undocumented)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const names = process.argv.slice(2);
if (names.length === 0) throw new Error('usage: check-natspec.js <ContractName>...');

const signature = (entry) => `${entry.name}(${entry.inputs.map(type).join(',')})`;
function type(input) {
  if (!input.type.startsWith('tuple')) return input.type;
  return `(${input.components.map(type).join(',')})${input.type.slice('tuple'.length)}`;
}
const noticed = (doc) => (Array.isArray(doc) ? doc.some((d) => d.notice) : Boolean(doc && doc.notice));

let missing = 0;
for (const name of names) {
  const artifact = JSON.parse(fs.readFileSync(path.join(root, 'artifacts', `${name}.json`), 'utf8'));
  const doc = artifact.userdoc;
  if (!doc) throw new Error(`artifacts/${name}.json has no userdoc; run ./build.sh`);
  const sections = new Map([
    ['function', doc.methods || {}],
    ['event', doc.events || {}],
    ['error', doc.errors || {}],
  ]);
  let count = 0;
  for (const entry of artifact.abi) {
    const section = sections.get(entry.type);
    if (!section) continue;
    count += 1;
    const sig = signature(entry);
    if (!noticed(Object.hasOwn(section, sig) ? section[sig] : undefined)) {
      console.error(`check-natspec: ${name}: ${entry.type} ${sig} has no @notice`);
      missing += 1;
    }
  }
  const methods = doc.methods || {};
  if (!noticed(Object.hasOwn(methods, 'constructor') ? methods.constructor : undefined) && artifact.abi.some((e) => e.type === 'constructor')) {
    console.error(`check-natspec: ${name}: the constructor has no @notice`);
    missing += 1;
  }
  console.log(`check-natspec: ${name}: ${count} functions, events and errors`);
}
if (missing > 0) process.exit(1);
