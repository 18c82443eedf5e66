// pywhisk dashboard: the normal REST API with the namespace's key as Basic auth.
// Everything the API returns is shown with textContent, never as HTML: activation results
// and logs are the actions' output, i.e. anyone's.
"use strict";

const KEY = "pywhisk.auth";  // sessionStorage: gone when the tab closes
const POLL_MS = 2000;
const USAGE_MS = 10000;
const SVG = "http://www.w3.org/2000/svg";
const seen = new Map();  // activationId -> summary, across polls (newest 500 kept)
let timers = [];
let selected = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

async function api(path) {
  const response = await fetch("/api/v1/namespaces" + path, {
    headers: {
      Authorization: "Basic " + btoa(sessionStorage.getItem(KEY) || ""),
      "X-Requested-With": "pywhisk-dashboard",  // a 401 without the browser's own dialog
    },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((body && body.error) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function annotation(a, key) {
  const found = (a.annotations || []).find((x) => x.key === key);
  return found ? found.value : undefined;
}

function actionName(a) {
  const path = annotation(a, "path");
  return typeof path === "string" && path.includes("/") ? path.slice(path.indexOf("/") + 1) : a.name;
}

const cold = (a) => annotation(a, "initTime") !== undefined;
const failed = (a) => a.statusCode !== undefined && a.statusCode !== 0;
const STATUS = ["success", "application error", "action developer error", "whisk internal error"];

// -- sign in ---------------------------------------------------------------------------------
async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  try {
    const namespaces = await api("");
    $("who").textContent = "namespace " + namespaces.join(", ");
  } catch (e) {
    sessionStorage.removeItem(KEY);
    $("signin-error").textContent = e.status === 401 ? "That key is not valid." : "Sign-in failed: " + e.message;
    return;
  }
  $("signin-error").textContent = "";
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  refresh();
  refreshUsage();
  timers = [setInterval(refresh, POLL_MS), setInterval(refreshUsage, USAGE_MS)];
}

function signOut() {
  sessionStorage.removeItem(KEY);
  timers.forEach(clearInterval);
  seen.clear();
  location.reload();
}

// -- activations -----------------------------------------------------------------------------
let history = true;  // the first poll fetches more, so the charts start with a past

async function refresh() {
  let list;
  try {
    list = await api("/_/activations?limit=" + (history ? 200 : 50));
    history = false;
  } catch (e) {
    $("updated").textContent = "(" + e.message + ")";
    return;
  }
  for (const a of list) seen.set(a.activationId, a);
  const newest = [...seen.values()].sort((x, y) => y.start - x.start).slice(0, 500);
  seen.clear();
  for (const a of newest) seen.set(a.activationId, a);
  renderTable(newest.slice(0, 50));
  renderCharts(newest);
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

function renderTable(rows) {
  const body = $("activations").tBodies[0];
  body.replaceChildren();
  for (const a of rows) {
    const tr = el("tr");
    tr.dataset.id = a.activationId;
    if (a.activationId === selected) tr.className = "selected";
    const done = a.statusCode !== undefined;
    tr.append(
      el("td", new Date(a.start).toLocaleTimeString()),
      el("td", actionName(a)),
      el("td", done ? STATUS[a.statusCode] || a.statusCode : "running", done ? (failed(a) ? "failure" : "success") : ""),
      el("td", a.duration !== undefined ? a.duration + " ms" : "", "num"),
      el("td", annotation(a, "kind") === "sequence" ? "sequence" : cold(a) ? "cold" : "warm", cold(a) ? "cold" : ""),
      el("td", a.activationId),
    );
    tr.addEventListener("click", () => show(a.activationId));
    body.append(tr);
  }
}

async function show(id) {
  selected = id;
  for (const tr of $("activations").tBodies[0].rows) tr.className = tr.dataset.id === id ? "selected" : "";
  const record = await api("/_/activations/" + encodeURIComponent(id));
  $("detail").hidden = false;
  $("detail-id").textContent = id;
  $("logs").textContent = (record.logs || []).join("\n") || "(no logs)";
  $("record").textContent = JSON.stringify(record, null, 2);
}

// -- per action charts (inline SVG) ----------------------------------------------------------
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function renderCharts(all) {
  const byAction = new Map();
  for (const a of all) {
    if (a.duration === undefined) continue;
    const name = actionName(a);
    if (!byAction.has(name)) byAction.set(name, []);
    byAction.get(name).push(a);
  }
  const box = $("charts");
  box.replaceChildren();
  for (const [name, runs] of [...byAction].sort()) {
    runs.sort((x, y) => x.start - y.start);
    box.append(chart(name, runs));
  }
}

// Latency as a line (cold starts and errors marked on it), and below it cold starts and
// errors counted per slice of the same time axis, so bursts show where they happened.
const SLICES = 12;

function chart(name, runs) {
  const W = 320, H = 90, P = 6, B = 26;  // B: the height of the counts' strip
  const t0 = runs[0].start, t1 = Math.max(runs[runs.length - 1].start, t0 + 1);
  const top = Math.max(...runs.map((a) => a.duration), 1);
  const x = (a) => P + ((a.start - t0) / (t1 - t0)) * (W - 2 * P);
  const y = (a) => H - P - (a.duration / top) * (H - 2 * P);
  const figure = el("div", undefined, "chart");
  figure.dataset.action = name;
  const durations = runs.map((a) => a.duration).sort((p, q) => p - q);
  const p50 = durations[Math.floor((durations.length - 1) / 2)];
  const colds = runs.filter(cold).length, errors = runs.filter(failed).length;
  figure.append(el("strong", name), el("div", `${runs.length} runs · p50 ${p50} ms · max ${top} ms · ${colds} cold · ${errors} errors`));
  const s = svg("svg", { width: W, height: H + B, viewBox: `0 0 ${W} ${H + B}`, role: "img" });
  s.append(svg("line", { x1: P, y1: H, x2: W - P, y2: H, stroke: "#d0d7de" }));
  s.append(svg("polyline", {
    points: runs.map((a) => `${x(a).toFixed(1)},${y(a).toFixed(1)}`).join(" "),
    fill: "none", stroke: "#57606a", "stroke-width": 1.5,
  }));
  for (const a of runs) {
    if (!cold(a) && !failed(a)) continue;
    const dot = svg("circle", { cx: x(a).toFixed(1), cy: y(a).toFixed(1), r: 3.5, fill: failed(a) ? "#cf222e" : "#0969da" });
    dot.classList.add(failed(a) ? "error-mark" : "cold-mark");
    s.append(dot);
  }
  const slices = Array.from({ length: SLICES }, () => ({ cold: 0, errors: 0 }));
  for (const a of runs) {
    const i = Math.min(SLICES - 1, Math.floor(((a.start - t0) / (t1 - t0)) * SLICES));
    if (cold(a)) slices[i].cold += 1;
    if (failed(a)) slices[i].errors += 1;
  }
  const most = Math.max(1, ...slices.map((c) => Math.max(c.cold, c.errors)));
  const slot = (W - 2 * P) / SLICES;
  slices.forEach((c, i) => {
    for (const [kind, n, offset, fill] of [["cold", c.cold, 0, "#0969da"], ["error", c.errors, slot / 2, "#cf222e"]]) {
      if (!n) continue;
      const h = (n / most) * (B - 4);
      const bar = svg("rect", { x: (P + i * slot + offset).toFixed(1), y: (H + B - h).toFixed(1), width: (slot / 2 - 1).toFixed(1), height: h.toFixed(1), fill });
      bar.classList.add(kind + "-bar");
      bar.dataset.count = n;
      s.append(bar);
    }
  });
  figure.append(s);
  const when = (t) => new Date(t).toLocaleTimeString();
  figure.append(el("div", `${when(t0)} – ${when(t1)} · bars: cold starts, errors per ${Math.max(1, Math.round((t1 - t0) / SLICES / 1000))} s`, "axis"));
  return figure;
}

// -- usage -----------------------------------------------------------------------------------
async function refreshUsage() {
  let usage;
  try {
    usage = await api("/_/usage?since=" + (Date.now() - 24 * 3600 * 1000));
  } catch (e) {
    return;
  }
  const priced = usage.price_per_gb_second !== undefined;  // a cost column only then
  $("usage").classList.toggle("priced", priced);
  const body = $("usage").tBodies[0];
  body.replaceChildren();
  const row = (name, u) => {
    const tr = el("tr");
    tr.dataset.action = name;
    tr.append(
      el("td", name), el("td", u.invocations, "num"), el("td", u.gb_seconds.toFixed(6), "num"),
      el("td", u.cold_starts, "num"), el("td", u.errors, "num"),
      el("td", u.cost !== undefined ? u.cost.toFixed(8) : "", "num cost"),
    );
    body.append(tr);
  };
  for (const a of usage.actions) row(a.name, a);
  row("total", usage.total);
}

// -- start -----------------------------------------------------------------------------------
$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("key").value.trim());
});
$("signout").addEventListener("click", signOut);
if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY));
