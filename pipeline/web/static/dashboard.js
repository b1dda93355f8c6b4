// The dashboard: poll /dashboard/data, redraw the charts (uPlot) and the lists in place.
// Article text is only ever set with textContent: the page never interprets what it shows.
"use strict";

const POLL_MS = 2000;
const PALETTE = ["#2b6cb0", "#38a169", "#e53e3e", "#805ad5", "#dd6b20", "#319795", "#d53f8c", "#718096"];

const charts = {};  // id → {plot, names}
window.dashboardState = { updates: 0, errors: 0, data: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "style") Object.assign(node.style, v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// One time series chart; rebuilt when its set of series changes (a new reason or partition).
function drawChart(id, times, series) {
  const box = document.getElementById(id);
  const names = Object.keys(series);
  const points = names.reduce((n, name) => n + series[name].filter(v => v !== null).length, 0);
  box.dataset.points = String(points);
  if (!times.length || !names.length) {
    if (charts[id]) { charts[id].plot.destroy(); delete charts[id]; }
    box.replaceChildren(el("div", { class: "empty", text: "no data yet" }));
    return;
  }
  const data = [times, ...names.map(name => series[name])];
  const known = charts[id];
  if (known && known.names.join("\u0000") === names.join("\u0000")) {
    known.plot.setData(data);
    return;
  }
  if (known) known.plot.destroy();
  box.replaceChildren();
  const opts = {
    width: Math.max(box.clientWidth, 300),
    height: 200,
    series: [{}, ...names.map((name, i) => ({
      label: name, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false,
    }))],
    axes: [{}, { size: 50 }],
    scales: { x: { time: true } },
    legend: { live: false },
  };
  charts[id] = { plot: new uPlot(opts, data, box), names };
}

function column(history, pick) {
  return history.map(point => {
    const v = pick(point);
    return v === undefined ? null : v;
  });
}

function keysOf(history, field) {
  const keys = new Set();
  for (const point of history) for (const k of Object.keys(point[field])) keys.add(k);
  return [...keys].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

function drawCharts(history) {
  const t = history.map(p => p.t);
  drawChart("chart-throughput", t, {
    consumed: column(history, p => p.consumed_per_s),
    enriched: column(history, p => p.enriched_per_s),
    "dead letters": column(history, p => Object.values(p.dead_letters_per_s).reduce((a, b) => a + b, 0)),
  });
  const reasons = {};
  for (const reason of keysOf(history, "dead_letters_per_s")) {
    reasons[reason] = column(history, p => p.dead_letters_per_s[reason] ?? 0);
  }
  drawChart("chart-dead-letters", t, reasons);
  const lag = {};
  for (const partition of keysOf(history, "lag")) {
    lag[`partition ${partition}`] = column(history, p => p.lag[partition] ?? null);
  }
  drawChart("chart-lag", t, lag);
  drawChart("chart-latency", t, {
    "tagging p50": column(history, p => p.tag_p50_s),
    "tagging p95": column(history, p => p.tag_p95_s),
    "input → enriched p50": column(history, p => p.latency_p50_s),
    "input → enriched p95": column(history, p => p.latency_p95_s),
  });
  drawChart("chart-batch", t, { "batch size": column(history, p => p.batch_size_mean) });
}

function drawLanguages(languages) {
  const box = document.getElementById("languages");
  const total = Object.values(languages).reduce((a, b) => a + b, 0);
  if (!total) {
    box.replaceChildren(el("div", { class: "empty", text: "no articles yet" }));
    return;
  }
  box.replaceChildren(...Object.entries(languages).map(([lang, n]) => el("div", { class: "row" },
    el("span", { text: lang }),
    el("div", { class: "bar", style: { width: `${(100 * n) / total}%` } }),
    el("span", { class: "num", text: `${Math.round((100 * n) / total)} %` }),
  )));
}

function stanceStack(stance, total) {
  const stances = window.dashboardState.data.stances;  // from the server (schemas/)
  const stack = el("div", { class: "stack", title: stances.map(s => `${s} ${stance[s]}`).join(" · ") });
  for (const s of stances) {
    if (stance[s]) stack.append(el("span", { class: s, style: { width: `${(100 * stance[s]) / total}%` } }));
  }
  return stack;
}

// Entity types shown in the top list; the server names the types (schemas/entity.schema.json).
const hiddenLabels = new Set();

function drawLabelFilter(order) {
  const box = document.getElementById("label-filter");
  if (box.childElementCount === order.length) return;
  box.replaceChildren(...order.map(label => {
    const input = el("input", { type: "checkbox", value: label });
    input.checked = !hiddenLabels.has(label);
    input.addEventListener("change", () => {
      if (input.checked) hiddenLabels.delete(label); else hiddenLabels.add(label);
      drawEntities(window.dashboardState.data.top_entities, order);
    });
    return el("label", {}, input, el("span", { class: "label", text: label, style: { background: `var(--${label})` } }));
  }));
}

function drawEntities(top, order) {
  const box = document.getElementById("entities");
  const labels = order.filter(label => top[label] && !hiddenLabels.has(label));
  if (!labels.length) {
    box.replaceChildren(el("div", { class: "empty", text: "no entities in the last 15 minutes" }));
    return;
  }
  box.replaceChildren(...labels.map(label => el("div", { "data-label": label },
    el("h3", {}, el("span", { class: "label", text: label, style: { background: `var(--${label})` } })),
    ...top[label].map(e => {
      const languages = Object.entries(e.languages).map(([lang, s]) => `${lang} ${Object.values(s).reduce((a, b) => a + b, 0)}`);
      const row = el("div", { class: "entity", "data-id": e.entity_id, tabindex: "0" },
        el("span", {
          class: "name", text: e.name,
          title: `${e.entity_id}\nalso written: ${e.forms.join(", ") || "–"}\narticles by language: ${languages.join(", ")}`,
        }),
        stanceStack(e.stance, e.articles),
        el("span", { class: "num", text: String(e.articles) }),
      );
      row.addEventListener("click", () => selectEntity(e.entity_id));
      row.addEventListener("keydown", event => { if (event.key === "Enter") selectEntity(e.entity_id); });
      return row;
    }),
  )));
}

// The entity picked in the top list: its stance per minute and language, and its articles.
let selectedEntity = null;

function selectEntity(entityId) {
  selectedEntity = entityId;
  drawEntity();
}

async function drawEntity() {
  const box = document.getElementById("entity-detail");
  if (!selectedEntity) { box.hidden = true; return; }
  const response = await fetch(`entity?id=${encodeURIComponent(selectedEntity)}`, { cache: "no-store" });
  if (!response.ok) return;
  const e = await response.json();
  const minutes = e.timeline.minutes.map(m => new Date(m * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  const close = el("button", { type: "button", text: "close" });
  close.addEventListener("click", () => selectEntity(null));
  const rows = Object.entries(e.timeline.languages).map(([lang, perMinute]) => el("div", { class: "minutes" },
    el("span", { class: "lang", text: lang }),
    ...perMinute.map((stance, i) => {
      const total = Object.values(stance).reduce((a, b) => a + b, 0);
      const stack = total ? stanceStack(stance, total) : el("div", { class: "stack none" });
      stack.title = `${minutes[i]} · ${lang} · ` + stack.title;
      return stack;
    }),
  ));
  box.replaceChildren(
    el("h2", {}, `${e.name} `, el("small", { text: `${e.entity_id} · also written: ${e.forms.join(", ") || "–"}` }), close),
    el("div", { class: "timeline" },
      el("div", { class: "minutes axis" }, el("span", { class: "lang" }), ...minutes.map(m => el("span", { text: m }))),
      ...rows),
    el("h3", { text: "Latest articles mentioning it" }),
    el("ul", { class: "mentions" }, ...(e.articles.length ? e.articles.map(a => el("li", {
      text: `${a.language} · ${a.title || a.id} · stance: ${a.stance || "not judged"}`,
    })) : [el("li", { class: "empty", text: "none among the latest articles" })])),
  );
  box.hidden = false;
}

// Text with each entity span wrapped in a <mark>; spans are Python string offsets (code points).
function highlighted(text, entities) {
  const chars = Array.from(text);
  const parts = [];
  let at = 0;
  for (const e of [...entities].sort((a, b) => a.start - b.start)) {
    if (e.start < at) continue;  // overlapping spans: keep the first
    parts.push(chars.slice(at, e.start).join(""));
    const stance = e.stance ? ` · ${e.stance}` : "";
    parts.push(el("mark", {
      class: `ent ${e.label}`, "data-label": e.label, title: `${e.label} · ${e.canonical} · ${e.entity_id}${stance}`,
      text: chars.slice(e.start, e.end).join(""),
    }));
    at = e.end;
  }
  parts.push(chars.slice(at).join(""));
  return parts;
}

function drawLatest(latest) {
  const box = document.getElementById("latest");
  if (!latest.length) {
    box.replaceChildren(el("div", { class: "empty", text: "no article enriched yet" }));
    return;
  }
  box.replaceChildren(...latest.map(a => {
    const meta = [a.language, a.published_at, a.source, a.id].filter(Boolean).join(" · ");
    const title = a.title ? el("h3", {}, ...highlighted(a.title, a.entities.filter(e => e.field === "title"))) : "";
    const body = el("div", { class: "body" }, ...highlighted(a.body, a.entities.filter(e => e.field === "body")));
    if (a.truncated) body.append("…");
    const topics = a.topics.length
      ? el("div", { class: "topics", text: "Topics: " + a.topics.map(t => `${t.target} → ${t.label} (${t.score.toFixed(2)})`).join("; ") })
      : "";
    return el("article", { "data-id": a.id }, title, el("div", { class: "meta", text: meta }), body, topics);
  }));
}

function drawHeader(data) {
  document.getElementById("app-id").textContent = data.app;
  const status = document.getElementById("status");
  const r = data.readiness;
  const failing = ["model_loaded", "broker_connected", "partitions_assigned", "not_rebalancing", "not_stalled"]
    .filter(k => !r[k]).map(k => k.replaceAll("_", " "));
  const stalled = Object.entries(r.stalled_partitions).map(([p, s]) => `partition ${p} ${Math.round(s)} s`);
  if (stalled.length) failing.push(`no commit with messages waiting: ${stalled.join(", ")}`);
  status.textContent = r.ready ? "ready" : `not ready: ${failing.join(", ")}`;
  status.className = `pill ${r.ready ? "ready" : "not-ready"}`;
  document.getElementById("totals").textContent =
    `enriched ${data.totals.enriched} · dead letters ${data.totals.dead_letters} · ` +
    `input partitions ${r.input_partitions.join(", ") || "none"} · ${r.models.join(", ") || "model loading"}`;
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  const problem = document.getElementById("problem");
  try {
    const response = await fetch("data", { cache: "no-store" });
    if (!response.ok) throw new Error(`data: HTTP ${response.status}`);
    const data = await response.json();
    drawHeader(data);
    drawCharts(data.history);
    drawLanguages(data.languages);
    window.dashboardState.data = data;
    drawLabelFilter(data.labels);
    drawEntities(data.top_entities, data.labels);
    drawEntity();
    drawLatest(data.latest);
    problem.hidden = true;
    window.dashboardState.updates += 1;
  } catch (error) {
    // The worker may be restarting: say so on the page and keep polling.
    window.dashboardState.errors += 1;
    problem.textContent = `Cannot reach the worker (${error.message}); retrying every ${POLL_MS / 1000} s.`;
    problem.hidden = false;
  }
}

window.addEventListener("resize", () => {
  for (const [id, chart] of Object.entries(charts)) {
    chart.plot.setSize({ width: Math.max(document.getElementById(id).clientWidth, 300), height: 200 });
  }
});

refresh();
setInterval(refresh, POLL_MS);
