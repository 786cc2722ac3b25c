#!/usr/bin/env node
// Checks that a deployed contract's committed ABI (artifacts/<Name>.json) holds every custom error any of its calls
// can revert with, so a client decodes every revert with that one ABI. solc puts into a contract's ABI only the errors
// its own code uses or declares; an error that a callee raises and the call passes through (a bubbled revert) is
// missing unless declared (IJobMarket declares the ones the market passes through).
//
// Reachability, from the AST of src/ (solc-js, parse and analysis only): from every external/public function, the
// constructor, receive and fallback of the contract, follow internal and library calls, modifiers, `new C(...)` (C's
// constructor) and external calls through an interface or contract type (to the src/ contract that implements the
// function, its reverts bubble), and collect every custom error referenced on the way. Not followed, because their
// reverts cannot bubble: the external call of a `try` (caught), low-level `.call`/`.staticcall`/`.delegatecall`
// (checked by the caller, which reverts with its own error) and inline assembly (the market's callback). An
// assembly `revert` with data would escape this analysis, so the script refuses any in src/.
//
// Usage: node scripts/check-errors.js JobMarket [...]   (exit 1 and a list when an error is missing)
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const root = path.resolve(__dirname, '..');
const names = process.argv.slice(2);
if (names.length === 0) throw new Error('usage: check-errors.js <ContractName>...');

function sources(dir) {
  const out = {};
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(out, sources(rel));
    else if (entry.name.endsWith('.sol')) out[rel] = { content: fs.readFileSync(path.join(root, rel), 'utf8') };
  }
  return out;
}

const input = {
  language: 'Solidity',
  sources: sources('src'),
  // Analysis (types and references) without code generation: only the AST is selected.
  settings: { outputSelection: { '*': { '': ['ast'] } } },
};
const output = JSON.parse(
  solc.compile(JSON.stringify(input), {
    import: (p) => ({ contents: fs.readFileSync(path.join(root, p), 'utf8') }),
  }),
);
const fatal = (output.errors || []).filter((e) => e.severity === 'error');
if (fatal.length > 0) throw new Error(fatal.map((e) => e.formattedMessage).join('\n'));

// Every node with an id, and the contract each node sits in.
const byId = new Map();
const contractOf = new Map();
function index(node, contract) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => index(n, contract));
  if (node.nodeType === 'ContractDefinition') contract = node;
  if (typeof node.id === 'number' && node.nodeType) {
    byId.set(node.id, node);
    contractOf.set(node.id, contract);
  }
  for (const v of Object.values(node)) if (v && typeof v === 'object') index(v, contract);
}
for (const { ast } of Object.values(output.sources)) index(ast, null);
const contracts = [...byId.values()].filter((n) => n.nodeType === 'ContractDefinition');

function walkAll(node, visit) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => walkAll(n, visit));
  visit(node);
  for (const v of Object.values(node)) if (v && typeof v === 'object') walkAll(v, visit);
}
walkAll(Object.values(output.sources).map((s) => s.ast), (n) => {
  if (n.nodeType === 'YulFunctionCall' && n.functionName.name === 'revert') {
    const size = n.arguments[1];
    if (!(size.nodeType === 'YulLiteral' && Number(size.value) === 0)) {
      throw new Error(`assembly revert with data at ${n.src}: this check cannot follow it`);
    }
  }
});

// The concrete contract implementing external function `fn` for a call through type `typeContract`.
function implementation(fn, typeContract) {
  if (!fn.functionSelector) return null; // a public state variable getter or an event
  const candidates = contracts.filter(
    (c) => c.contractKind === 'contract' && !c.abstract && c.linearizedBaseContracts.includes(typeContract.id),
  );
  return candidates.map((c) => {
    for (const baseId of c.linearizedBaseContracts) {
      const hit = byId.get(baseId).nodes.find(
        (n) => n.nodeType === 'FunctionDefinition' && n.functionSelector === fn.functionSelector && n.body,
      );
      if (hit) return hit;
    }
    return null;
  }).filter(Boolean);
}

function errorSignature(err) {
  const types = err.parameters.parameters.map((p) => p.typeDescriptions.typeString.replace(/^(contract|enum) [\w.]+$/, (t) =>
    t.startsWith('contract') ? 'address' : 'uint8'));
  return `${err.name}(${types.join(',')})`;
}

function reachableErrors(entries) {
  const seen = new Set();
  const errors = new Map(); // signature -> where
  const stack = [...entries];
  while (stack.length > 0) {
    const fn = stack.pop();
    if (!fn || seen.has(fn.id)) continue;
    seen.add(fn.id);
    const owner = contractOf.get(fn.id);
    const follow = (node, caught) => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n) => follow(n, caught));
      if (node.nodeType === 'InlineAssembly') return;
      if (node.nodeType === 'TryStatement') {
        // The external call's own revert is caught; its arguments are evaluated (and can revert) before it.
        follow(node.externalCall.arguments, false);
        return follow(node.clauses, false);
      }
      const ref = node.referencedDeclaration !== undefined ? byId.get(node.referencedDeclaration) : null;
      if (ref && ref.nodeType === 'ErrorDefinition') {
        errors.set(errorSignature(ref), `${owner.name}.${fn.name || fn.kind}`);
      }
      if (ref && (ref.nodeType === 'FunctionDefinition' || ref.nodeType === 'ModifierDefinition')) {
        const viaType = node.nodeType === 'MemberAccess' && /^contract /.test(node.expression.typeDescriptions.typeString || '');
        if (viaType && !caught) {
          const typeId = Number(node.expression.typeDescriptions.typeIdentifier.match(/^t_contract\$_\w+?_\$(\d+)/)[1]);
          for (const impl of implementation(ref, byId.get(typeId))) stack.push(impl);
        } else if (!viaType) {
          stack.push(ref); // internal and library calls, modifiers (src/ has no virtual internal functions)
        }
      }
      if (node.nodeType === 'NewExpression') {
        const created = byId.get(node.typeName.referencedDeclaration);
        if (created) {
          for (const baseId of created.linearizedBaseContracts) {
            stack.push(byId.get(baseId).nodes.find((n) => n.nodeType === 'FunctionDefinition' && n.kind === 'constructor'));
          }
        }
      }
      for (const [k, v] of Object.entries(node)) if (v && typeof v === 'object' && k !== 'documentation') follow(v, caught);
    };
    follow(fn.modifiers, false);
    follow(fn.body, false);
  }
  return errors;
}

let missingAny = false;
for (const name of names) {
  const contract = contracts.find((c) => c.name === name && c.contractKind === 'contract');
  if (!contract) throw new Error(`no contract ${name} in src/`);
  const entries = contract.linearizedBaseContracts.flatMap((id) => byId.get(id).nodes).filter(
    (n) => n.nodeType === 'FunctionDefinition' && n.body &&
      (['constructor', 'receive', 'fallback'].includes(n.kind) || ['external', 'public'].includes(n.visibility)),
  );
  // Modifiers are followed through their invocations; public state-variable getters revert with no custom error.
  const reachable = reachableErrors(entries);
  const abi = JSON.parse(fs.readFileSync(path.join(root, 'artifacts', `${name}.json`), 'utf8')).abi;
  const inAbi = new Set(abi.filter((e) => e.type === 'error').map((e) => `${e.name}(${e.inputs.map((i) => i.type).join(',')})`));
  const missing = [...reachable.keys()].filter((sig) => !inAbi.has(sig)).sort();
  console.log(`check-errors: ${name}: ${reachable.size} reachable custom errors, ${inAbi.size} in artifacts/${name}.json`);
  for (const sig of missing) console.error(`check-errors: ${name}: ${sig} (reached from ${reachable.get(sig)}) is not in its ABI`);
  if (missing.length > 0) missingAny = true;
}
if (missingAny) process.exit(1);
