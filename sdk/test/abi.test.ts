// The generated ABI modules match the committed contract artifacts.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SDK } from './support.js';

test('src/abi is up to date with contracts/artifacts', async () => {
  // Exits non-zero, naming the stale files, when any generated module differs from what the artifacts give.
  await promisify(execFile)(process.execPath, [join(SDK, 'scripts', 'generate-abi.mjs'), '--check']);
});
