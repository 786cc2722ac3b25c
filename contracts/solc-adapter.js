#!/usr/bin/env node
// solc-adapter: makes solc-js (npm `solc`, pinned in package.json) answer the two command lines that
// forge sends to a native solc binary:
//
//   solc --version
//   solc [--base-path P] [--include-path P]... [--allow-paths P[,P...]] --standard-json
//
// For `--standard-json` it reads the standard JSON input on stdin, compiles it with solc-js and writes the
// standard JSON output on stdout. Imports that forge did not inline are resolved against the base path and
// the include paths, and only inside the allowed paths (like native solc).
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, null];
    const value = () => (inline !== null ? inline : argv[++i]);
    switch (flag) {
      case '--version':
        opts.version = true;
        break;
      case '--standard-json':
        opts.standardJson = true;
        break;
      case '--base-path':
        opts.basePath = value();
        break;
      case '--include-path':
        opts.includePaths.push(value());
        break;
      case '--allow-paths':
        opts.allowPaths.push(...value().split(',').filter((p) => p.length > 0));
        break;
      default:
        // Native solc accepts more flags; forge sends none of them. Refuse loudly rather than ignore.
        process.stderr.write(`solc-adapter: unsupported argument ${arg}\n`);
        process.exit(2);
    }
  }
  return opts;
}

function isInside(file, dir) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function makeImportResolver(opts) {
  const roots = [];
  if (opts.basePath !== null) roots.push(path.resolve(opts.basePath));
  for (const p of opts.includePaths) roots.push(path.resolve(p));
  if (roots.length === 0) roots.push(process.cwd());
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];

  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const candidate of candidates) {
      const file = path.resolve(candidate);
      if (!allowed.some((dir) => isInside(file, dir))) continue;
      try {
        return { contents: fs.readFileSync(file, 'utf8') };
      } catch (_) {
        // try the next root
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc-adapter: only --version and --standard-json are supported\n');
    process.exit(2);
  }
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: makeImportResolver(opts) });
  process.stdout.write(output);
}

main();
