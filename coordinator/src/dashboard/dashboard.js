// The Vouch dashboard: loads its state from the coordinator's JSON API, then follows
// GET /v1/events (server-sent events) and redraws what changed. No framework, no build step.
// Everything shown comes from the chain via the coordinator; text is always set with
// textContent, never parsed as HTML (model names and the like are chosen by whoever posts them).
"use strict";

const MAX_JOBS = 100;
const MAX_GAMES = 30;
const MAX_ACTIVITY = 150;

const state = {
  models: new Map(),
  jobs: new Map(),
  games: new Map(), // id -> { game, moves: [] }
  accounts: [],
  indexedBlock: null,
  flashed: new Set(),
};

let loaded = false;
let pending = []; // events that arrived while the state was loading
let source = null;

// ---- helpers --------------------------------------------------------------------------------

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k in el) el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path) {
  const r = await fetch(path, { headers: { accept: "application/json" } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function short(addr) {
  if (!addr) return "—";
  return addr.length > 12 ? `${addr.slice(0, 6)}…${addr.slice(-4)}` : addr;
}

function addr(a) {
  return h("span", { class: "mono", title: a || "", text: short(a) });
}

// Wei (a decimal string, maybe negative) as ETH with up to 6 decimals.
function eth(wei) {
  if (wei === null || wei === undefined) return "—";
  let v = BigInt(wei);
  const neg = v < 0n;
  if (neg) v = -v;
  const unit = 10n ** 18n;
  const whole = v / unit;
  let frac = ((v % unit) * 1000000n / unit).toString().padStart(6, "0").replace(/0+$/, "");
  if (frac === "" && v % unit !== 0n) frac = "000000…";
  return `${neg ? "−" : ""}${whole}${frac ? "." + frac : ""} ETH`;
}

function badge(status) {
  return h("span", { class: `badge ${status}`, text: status.replace("_", " ") });
}

function argmax(xs) {
  let best = 0;
  xs.forEach((x, i) => { if (x > xs[best]) best = i; });
  return best;
}

function bumpBlock(block) {
  if (typeof block === "number" && (state.indexedBlock === null || block > state.indexedBlock)) {
    state.indexedBlock = block;
  }
}

// ---- loading --------------------------------------------------------------------------------

async function loadGame(id) {
  const detail = await api(`/v1/games/${id}`);
  const { moves, ...game } = detail;
  state.games.set(game.game_id, { game, moves });
}

async function loadAccounts() {
  state.accounts = await api("/v1/accounts");
}

async function loadAll() {
  const [deployment, health, models, jobs, games] = await Promise.all([
    api("/v1/deployment").catch(() => null),
    api("/health").catch(() => null),
    api("/v1/models"),
    api(`/v1/jobs?limit=${MAX_JOBS}`),
    api(`/v1/games?limit=${MAX_GAMES}`),
  ]);
  if (deployment) {
    document.getElementById("chain-id").textContent = String(deployment.chain_id);
    const market = document.getElementById("market");
    market.textContent = short(deployment.market);
    market.title = deployment.market;
  }
  state.indexedBlock = health ? health.indexed_block : null;
  state.models = new Map(models.map((m) => [m.id, m]));
  state.jobs = new Map(jobs.map((j) => [j.job_id, j]));
  state.games = new Map();
  await Promise.all(games.map((g) => loadGame(g.game_id)));
  await loadAccounts();
}

// ---- events ---------------------------------------------------------------------------------

function upsertMove(entry, move) {
  const key = (m) => `${m.block}|${m.kind}|${m.detail}`;
  if (!entry.moves.some((m) => key(m) === key(move))) entry.moves.push(move);
}

let accountsTimer = null;
function refreshAccountsSoon() {
  clearTimeout(accountsTimer);
  accountsTimer = setTimeout(() => loadAccounts().then(render).catch(console.error), 250);
}

const handlers = {
  job(data) {
    state.jobs.set(data.job.job_id, data.job);
    state.flashed.add(`job-${data.job.job_id}`);
  },
  game(data) {
    const id = data.game.game_id;
    const entry = state.games.get(id) || { game: data.game, moves: [] };
    entry.game = data.game;
    if (data.move) upsertMove(entry, data.move);
    state.games.set(id, entry);
    state.flashed.add(`game-${id}`);
  },
  model(data) {
    state.models.set(data.model.id, data.model);
  },
};

function summarize(type, data) {
  if (data.job) {
    const j = data.job;
    if (type === "job_overturned") {
      return `job ${j.job_id}: result ${data.attempt} by ${short(data.worker)} overturned, ${eth(data.slashed_wei)} slashed; open again`;
    }
    const who = j.worker ? ` by ${short(j.worker)}` : "";
    return `job ${j.job_id} on model ${j.model_id}: ${j.status}${j.status === "open" ? "" : who}`;
  }
  if (data.game) return `game ${data.game.game_id} (job ${data.game.job_id}): ${data.move ? data.move.detail : data.game.status}`;
  if (data.model) return `model ${data.model.id} ${data.model.name}: ${data.model.status}`;
  return "";
}

function logActivity(type, data) {
  const list = document.getElementById("activity");
  list.prepend(h("li", { "data-type": type },
    h("span", { class: "type", text: type }),
    summarize(type, data),
    h("span", { class: "block mono", text: data.block !== undefined ? `  @${data.block}` : "" })));
  while (list.children.length > MAX_ACTIVITY) list.lastChild.remove();
}

function apply(type, data) {
  bumpBlock(data.block);
  if (data.job) handlers.job(data);
  else if (data.game) handlers.game(data);
  else if (data.model) handlers.model(data);
  logActivity(type, data);
  if (/^(job_settled|job_overturned|job_submitted|game_opened|game_resolved)$/.test(type)) {
    refreshAccountsSoon();
  }
  render();
}

const EVENT_TYPES = [
  "job_posted", "job_submitted", "job_settled", "job_overturned", "job_expired",
  "game_opened", "game_moved", "game_resolved", "model_registered", "model_updated",
];

function setLive(s) {
  const el = document.getElementById("live");
  el.dataset.state = s;
  el.textContent = s;
}

async function reload() {
  loaded = false;
  try {
    await loadAll();
  } catch (e) {
    console.error(e);
    setTimeout(reload, 3000);
    return;
  }
  loaded = true;
  const queued = pending;
  pending = [];
  for (const [type, data] of queued) apply(type, data);
  render();
}

function connect() {
  source = new EventSource("/v1/events");
  source.onopen = () => setLive("live");
  source.onerror = () => {
    setLive("reconnecting");
    if (source.readyState === EventSource.CLOSED) {
      // Refused (e.g. 503, every stream taken): start over in a while, state included.
      setTimeout(() => { connect(); reload(); }, 5000);
    }
    // Otherwise the browser reconnects by itself with Last-Event-ID and the stream resumes.
  };
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (ev) => {
      const data = JSON.parse(ev.data);
      if (loaded) apply(type, data);
      else pending.push([type, data]);
    });
  }
  source.addEventListener("reset", () => reload());
}

// ---- rendering ------------------------------------------------------------------------------

let frame = null;
function render() {
  if (frame !== null) return;
  frame = requestAnimationFrame(() => {
    frame = null;
    draw();
  });
}

function replaceRows(table, rows) {
  table.tBodies[0].replaceChildren(...rows);
}

function overturnsOf(jobId) {
  let n = 0;
  for (const { game } of state.games.values()) {
    if (game.job_id === jobId && game.status === "challenger_won") n += 1;
  }
  return n;
}

function lifecycle(job) {
  const steps = [["open", "done"]];
  for (let i = 0; i < overturnsOf(job.job_id); i += 1) {
    steps.push(["submitted", "done"], ["overturned", "lost"], ["open", "done"]);
  }
  if (job.status === "submitted" || job.status === "settled") steps.push(["submitted", "done"]);
  if (job.status === "settled" || job.status === "expired") steps.push([job.status, "done"]);
  steps[steps.length - 1][1] = "now";
  return h("span", { class: "lifecycle" }, steps.map(([s, c]) => h("span", { class: c, text: s })));
}

function drawJobs() {
  const jobs = [...state.jobs.values()].sort((a, b) => b.job_id - a.job_id).slice(0, MAX_JOBS);
  replaceRows(document.getElementById("jobs"), jobs.map((j) => {
    const model = state.models.get(j.model_id);
    let output = "—";
    if (j.prompt_ids) {
      // A language model's job: the answer's text (the tokenizer's, served by the API).
      if (typeof j.answer === "string") output = j.answer.length > 60 ? `${j.answer.slice(0, 60)}…` : j.answer;
    } else if (j.output) {
      const labels = model ? labelsOf(model) : null;
      const k = argmax(j.output);
      output = `class ${labels && labels[k] !== undefined ? labels[k] : k}`;
    }
    return h("tr", { "data-job-id": j.job_id, "data-status": j.status, id: `job-${j.job_id}` },
      h("td", { class: "num", text: j.job_id }),
      h("td", { text: model ? `${model.id} ${model.name}` : j.model_id }),
      h("td", {}, badge(j.status)),
      h("td", {}, lifecycle(j)),
      h("td", {}, addr(j.worker)),
      h("td", { title: j.answer_ids ? JSON.stringify(j.answer_ids) : j.output ? JSON.stringify(j.output) : "", text: output }),
      h("td", { class: "num", text: eth(j.fee_wei) }));
  }));
}

function labelsOf(model) {
  try {
    const uri = model.uri || "";
    const i = uri.indexOf(",");
    if (!uri.startsWith("data:application/json") || i < 0) return null;
    const meta = JSON.parse(decodeURIComponent(uri.slice(i + 1)));
    return Array.isArray(meta.labels) ? meta.labels : null;
  } catch {
    return null;
  }
}

// Where the walk stands, as a row of stages: final state → slot → tensor → element → one step.
function walk(game, moves) {
  const kinds = new Set(moves.map((m) => m.kind));
  const stages = [
    ["final state", true],
    [game.slot === null ? "slot" : `slot ${game.slot}`, kinds.has("slot_disputed")],
    ["tensor", game.phase !== "slots"],
    [game.element_offset === null ? "element" : `byte ${game.element_offset}`, kinds.has("element_named")],
    ["one step", kinds.has("step_proven")],
  ];
  let last = 0;
  stages.forEach(([, reached], i) => { if (reached) last = i; });
  return h("div", { class: "walk" }, stages.map(([name, reached], i) => h("span", {
    class: i === last && game.status === "active" ? "current" : reached ? "reached" : "",
    text: name,
  })), h("span", { class: "depth", text: `depth ${game.depth}, node ${game.index}` }));
}

function drawGames() {
  const container = document.getElementById("games");
  const games = [...state.games.values()].sort((a, b) => b.game.game_id - a.game.game_id);
  if (games.length === 0) {
    container.replaceChildren(h("p", { class: "empty", text: "No dispute yet." }));
    return;
  }
  container.replaceChildren(...games.map(({ game, moves }) => {
    const step = game.step_op === null ? null : h("p", { class: "step" },
      `op ${game.step_op}, ${game.step_element === null ? "a padding element" : `element ${game.step_element}`}: `,
      `the worker claimed ${game.claimed}, the contract computed ${game.actual}`);
    const money = game.status === "active" ? null : h("p", { class: "facts" },
      `challenger credited ${eth(game.challenger_paid_wei)}, defender ${eth(game.defender_paid_wei)}, `,
      `burned ${eth(game.burned_wei)}`);
    return h("article", {
      class: "game", id: `game-${game.game_id}`,
      "data-game-id": game.game_id, "data-status": game.status, "data-moves": moves.length,
    },
    h("h3", {}, `Game ${game.game_id}`, badge(game.status)),
    h("p", { class: "facts" }, `job ${game.job_id}, result ${game.attempt} · challenger `,
      addr(game.challenger), ` · bond ${eth(game.bond_wei)} · phase ${game.phase}`),
    walk(game, moves),
    h("ol", { class: "moves" }, moves.map((m) => h("li", { "data-kind": m.kind },
      h("span", { class: "kind", text: m.kind }), m.detail,
      h("span", { class: "block", text: `block ${m.block}` })))),
    step, money);
  }));
}

function drawAccounts() {
  const rows = state.accounts.map((a) => {
    const roles = [];
    if (a.results_submitted > 0) roles.push("worker");
    if (a.games_challenged > 0) roles.push("challenger");
    const net = BigInt(a.net_wei);
    return h("tr", { "data-address": a.address },
      h("td", {}, addr(a.address)),
      h("td", { text: roles.join(", ") || "—" }),
      h("td", { text: `${a.results_settled} settled, ${a.results_overturned} overturned` }),
      h("td", { text: `${a.games_won} won, ${a.games_lost} lost, ${a.games_defended} defended` }),
      h("td", { class: "num", text: eth((BigInt(a.fees_wei) + BigInt(a.rewards_wei)).toString()) }),
      h("td", { class: `num ${a.slashed_wei !== "0" ? "neg" : ""}`, "data-slashed": a.slashed_wei, text: eth(a.slashed_wei) }),
      h("td", { class: `num ${net < 0n ? "neg" : "pos"}`, text: eth(a.net_wei) }));
  });
  if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 7, class: "empty", text: "No results yet." })));
  replaceRows(document.getElementById("accounts"), rows);
}

function drawModels() {
  const models = [...state.models.values()].sort((a, b) => a.id - b.id);
  replaceRows(document.getElementById("models"), models.map((m) => h("tr", { "data-model-id": m.id },
    h("td", { class: "num", text: m.id }),
    h("td", { text: m.name }),
    h("td", {}, badge(m.status)),
    h("td", { class: "num", text: m.op_count }),
    h("td", { class: "mono", text: m.llm_config ? `LLM, ${m.llm_config.context} tokens` : `[${m.input_shape.join(", ")}]` }),
    h("td", { class: "num", text: eth(m.fee_wei) }))));
}

function drawSummary() {
  const count = (xs, f) => xs.filter(f).length;
  const jobs = [...state.jobs.values()];
  const games = [...state.games.values()].map((e) => e.game);
  let slashed = 0n;
  for (const a of state.accounts) slashed += BigInt(a.slashed_wei);
  const stat = (n, label, id) => h("div", { class: "stat", id }, h("b", { text: n }), h("span", { text: label }));
  document.getElementById("summary").replaceChildren(
    stat(count(jobs, (j) => j.status === "open"), "open jobs", "stat-open"),
    stat(count(jobs, (j) => j.status === "submitted"), "in challenge window", "stat-submitted"),
    stat(count(jobs, (j) => j.status === "settled"), "settled", "stat-settled"),
    stat(count(games, (g) => g.status === "active"), "active disputes", "stat-active"),
    stat(count(games, (g) => g.status !== "active"), "resolved disputes", "stat-resolved"),
    stat(eth(slashed.toString()), "slashed", "stat-slashed"));
  document.getElementById("indexed-block").textContent =
    state.indexedBlock === null ? "—" : String(state.indexedBlock);
}

function draw() {
  drawSummary();
  drawGames();
  drawJobs();
  drawAccounts();
  drawModels();
  for (const id of state.flashed) {
    const el = document.getElementById(id);
    if (el) el.classList.add("flash");
  }
  state.flashed.clear();
}

// Stream first, then state: events that land while loading are queued and applied after it, so
// nothing between the snapshot and the stream is lost.
connect();
reload();
