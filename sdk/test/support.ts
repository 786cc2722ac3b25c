// What the SDK's tests share: paths, a seeded random source, and the real `vouch` binary and anvil as child
// processes.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bytesToHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

/** sdk/ (the tests run from sdk/build/test/). */
export const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repository root. */
export const REPO = resolve(SDK, '..');
/** The `vouch` binary `cargo build --workspace --locked` produces (or `$VOUCH_BIN`). */
export const VOUCH = process.env.VOUCH_BIN ?? join(REPO, 'target', 'debug', 'vouch');
/** The pinned anvil from `npm ci --prefix contracts` (or `$VOUCH_ANVIL`). */
export const ANVIL = process.env.VOUCH_ANVIL ?? join(REPO, 'contracts', 'node_modules', '.bin', 'anvil');

/** anvil's default mnemonic: its funded development accounts. */
const MNEMONIC = 'test test test test test test test test test test test junk';

/** Development account `i` of anvil. */
export function devAccount(i: number) {
  return mnemonicToAccount(MNEMONIC, { addressIndex: i });
}

/** Its private key, hex (for `VOUCH_PRIVATE_KEY`). */
export function devKey(i: number): Hex {
  return bytesToHex(devAccount(i).getHdKey().privateKey!);
}

/** A seeded random source (mulberry32); the seed is `$VOUCH_SEED` or fresh, and printed to replay a failure. */
export function seededRandom(label: string): { seed: number; int: (lo: number, hi: number) => number } {
  const seed = process.env.VOUCH_SEED !== undefined ? Number(process.env.VOUCH_SEED) : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${label}: VOUCH_SEED=${seed}`);
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { seed, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** A temporary directory, removed by `dispose`. */
export function tempDir(): { path: string; dispose: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'vouch-sdk-'));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Fails with a useful message when the `vouch` binary is missing. */
export function requireVouch(): void {
  if (!existsSync(VOUCH)) {
    throw new Error(`${VOUCH} not found: build it with \`cargo build --workspace --locked\` (or set VOUCH_BIN)`);
  }
}

/** Runs `vouch args…` to completion and returns its stdout (stderr on failure, in the error). */
export async function vouch(args: string[], env: Record<string, string> = {}): Promise<string> {
  requireVouch();
  try {
    const { stdout } = await promisify(execFile)(VOUCH, args, {
      env: { ...process.env, RUST_LOG: 'warn', ...env },
      maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`vouch ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

/** What the reference interpreter says of `input` on a model (`vouch model run`). */
export interface Reference {
  /** Every slot's tensor root: slot 0 is the input's, the last the output's. */
  slotRoots: Hex[];
  outputRoot: Hex;
  output: number[];
  /** The argmax line: the label (or index) of the highest score. */
  argmax: string;
}

/** Runs `vouch model run model --input` on int8 `input` in `dir`. */
export async function referenceRun(model: string, input: readonly number[], dir: string): Promise<Reference> {
  const file = join(dir, `input-${process.hrtime.bigint()}.json`);
  writeFileSync(file, JSON.stringify(input));
  const out = await vouch(['model', 'run', model, '--input', file]);
  const line = (name: string) => {
    const m = out.match(new RegExp(`^${name}\\s{2,}(.*)$`, 'm'));
    if (!m) throw new Error(`no "${name}" line in: ${out}`);
    return m[1]!.trim();
  };
  return {
    slotRoots: [...out.matchAll(/^slot \d+\s+(0x[0-9a-f]{64})$/gm)].map((m) => m[1] as Hex),
    outputRoot: line('output root') as Hex,
    output: JSON.parse(line('output')) as number[],
    argmax: line('argmax'),
  };
}

/** A model's input and output shapes, from `vouch model inspect`. */
export async function modelShapes(model: string): Promise<{ input: number[]; output: number[] }> {
  const out = await vouch(['model', 'inspect', model]);
  const shape = (name: string) => {
    const m = out.match(new RegExp(`^${name}\\s+\\[(\\d+), (\\d+), (\\d+)\\]`, 'm'));
    if (!m) throw new Error(`no ${name} shape in: ${out}`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  };
  return { input: shape('input'), output: shape('output') };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** A child process logging to `log`, killed by `stop`. */
export class Daemon {
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly log: string,
    env: Record<string, string> = {},
  ) {
    const out = createWriteStream(log);
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.pipe(out);
    this.child.stderr!.pipe(out);
  }

  /** Its log so far. */
  text(): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((ok) => this.child.once('exit', ok));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Polls `ready` every 100 ms until it is true, failing after `timeoutMs` with `what` and the daemon's log. */
export async function until(what: string, ready: () => Promise<boolean>, timeoutMs: number, daemon?: Daemon) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ready()) return;
    } catch {
      // not yet
    }
    if (daemon && daemon.child.exitCode !== null) {
      throw new Error(`${daemon.name} exited (${daemon.child.exitCode}) before ${what}:\n${daemon.text()}`);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${daemon ? `:\n${daemon.text()}` : ''}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
