// End-to-end test of the dashboard: the real `vouch dev` (target/debug/vouch) and headless
// Chromium. The page is opened as soon as the coordinator listens, so what happens afterwards
// reaches it over GET /v1/events: jobs settle, and the dishonest worker's result is challenged,
// walked down move by move, overturned and its bond slashed.
//
// Needs: target/debug/vouch (`cargo build --workspace --locked`), Chromium at /usr/bin/chromium
// (or $CHROMIUM), anvil from contracts/node_modules (`npm ci --prefix contracts`).
// Screenshots go to test-artifacts/web/ at the repository root.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const vouch = process.env.VOUCH_BIN || join(root, "target", "debug", "vouch");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = join(root, "test-artifacts", "web");

// Flags that let Chromium run headless in a container with no network beyond localhost.
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const MINUTE = 60_000;

/** Starts `vouch dev` on free ports; resolves with its dashboard URL once it prints it. */
function startDev(dataDir) {
  const child = spawn(vouch, [
    "dev", "--anvil-port", "0", "--http", "127.0.0.1:0", "--jobs", "2",
    "--window-secs", "10", "--data-dir", dataDir,
  ], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const url = new Promise((resolveUrl, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        log.push(line);
        console.log(`[vouch dev] ${line}`);
        const m = line.match(/^dashboard\s+(http:\/\/\S+)/);
        if (m) resolveUrl(m[1]);
      }
    });
    child.stderr.on("data", (chunk) => log.push(String(chunk).trimEnd()));
    child.on("exit", (code) => reject(new Error(`vouch dev exited (${code}) before printing the dashboard URL:\n${log.slice(-30).join("\n")}`)));
  });
  return { child, url, log };
}

async function stopDev(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

async function shoot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

test("the dashboard follows vouch dev live: a job settles, a dispute is played and resolved", { timeout: 12 * MINUTE }, async () => {
  assert.ok(existsSync(vouch), `${vouch} is missing: build it with \`cargo build --workspace --locked\``);
  assert.ok(existsSync(chromiumPath), `Chromium is missing at ${chromiumPath}: apt-get install chromium (or set CHROMIUM)`);
  mkdirSync(artifacts, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "vouch-web-"));
  // The browser first (it is the slow part to start), so the page opens as soon as the
  // coordinator listens, before the dispute is played.
  const context = await chromium.launchPersistentContext(join(scratch, "profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1000 },
  });
  const dev = startDev(join(scratch, "dev"));
  try {
    const url = await dev.url;
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

    const response = await page.goto(url);
    assert.equal(response.status(), 200);
    await page.waitForSelector("#live[data-state='live']", { timeout: MINUTE });
    await page.waitForSelector("#models tr[data-model-id]", { timeout: MINUTE });
    await shoot(page, "1-loaded");

    // A job goes through its lifecycle on the page, pushed by the event stream.
    await page.waitForSelector("#jobs tr[data-status='settled']", { timeout: 5 * MINUTE });
    await page.waitForSelector("#activity li[data-type='job_settled']", { timeout: MINUTE });
    await shoot(page, "2-job-settled");

    // The dispute: opened, narrowed move by move, resolved for the challenger.
    await page.waitForSelector(".game[data-game-id]", { timeout: 5 * MINUTE });
    const won = await page.waitForSelector(".game[data-status='challenger_won']", { timeout: 6 * MINUTE });
    const kinds = await won.$$eval(".moves li", (lis) => lis.map((li) => li.dataset.kind));
    assert.equal(kinds[0], "opened", kinds.join(","));
    assert.equal(kinds.at(-1), "resolved", kinds.join(","));
    for (const k of ["descended", "slot_disputed", "element_named", "step_proven"]) {
      assert.ok(kinds.includes(k), `move ${k} shown: ${kinds.join(",")}`);
    }
    const live = await page.$$eval("#activity li", (lis) => lis.map((li) => li.dataset.type));
    // On a loaded machine the page may open after the game did; its resolution comes live.
    for (const t of ["game_moved", "game_resolved", "job_overturned"]) {
      assert.ok(live.includes(t), `event ${t} arrived live: ${live.join(",")}`);
    }

    // The liar's bond shows as slashed among the accounts; the overturned job settles again.
    await page.waitForSelector("#accounts td[data-slashed]:not([data-slashed='0'])", { timeout: MINUTE });
    await page.waitForFunction(() => document.querySelectorAll("#jobs tr[data-status='settled']").length >= 3,
      null, { timeout: 5 * MINUTE });
    await page.waitForTimeout(500);
    await shoot(page, "3-dispute-resolved");

    // The page's state equals a fresh load's (nothing missed or duplicated by the stream).
    const rows = () => page.$$eval("#jobs tr[data-job-id]", (trs) => trs.map((tr) => `${tr.dataset.jobId}:${tr.dataset.status}`));
    const moves = () => page.$$eval(".game", (gs) => gs.map((g) => `${g.dataset.gameId}:${g.dataset.status}:${g.dataset.moves}`));
    const before = [await rows(), await moves()];
    await page.reload();
    await page.waitForSelector("#live[data-state='live']", { timeout: MINUTE });
    await page.waitForSelector(".game[data-status='challenger_won']", { timeout: MINUTE });
    assert.deepEqual([await rows(), await moves()], before);
    assert.deepEqual(errors, [], "no errors in the page");
  } catch (e) {
    console.log(`vouch dev output (last lines):\n${dev.log.slice(-40).join("\n")}`);
    throw e;
  } finally {
    await context.close();
    await stopDev(dev.child);
    rmSync(scratch, { recursive: true, force: true });
  }
});
