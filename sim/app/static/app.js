// townsim planner page: plain JavaScript, no external files (works offline).
"use strict";
const S = {lang: "en", init: null, job: null, poll: null, results: null, plan: null, view: null, base: null,
  drawing: null, drawn: {}};
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
// The per-start token printed with the page's URL: the server refuses API requests without it.
const TOKEN = new URLSearchParams(location.search).get("token") || "";
const api = (path, opts = {}) => fetch(path, {...opts, headers: {...(opts.headers || {}), "X-Townsim-Token": TOKEN}});
const withToken = (url) => `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(TOKEN)}`;

function T(key, vars) {
  const entry = S.init.text[key];
  let s = entry ? entry[S.lang] : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}
function nm(o) { return S.lang === "zh" ? (o.zh || o.en || o.id) : (o.en || o.zh || o.id); }
function unitName(u) { const x = S.init.map.units[u]; return x ? nm(x) : u; }
function fmt(x, d) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toLocaleString("en", {maximumFractionDigits: d, minimumFractionDigits: d});
}
function signed(x, d) { return x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + fmt(x, d); }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// ---------- controls ----------
function buildControls() {
  const init = S.init;
  const lines = $("line-list");
  lines.innerHTML = "";
  const ids = Object.keys(init.candidates);
  if (!ids.length) lines.append(el("p", {"data-t": "no_candidates"}, T("no_candidates")));
  for (const id of ids) {
    const label = el("label", {class: "line"});
    const box = el("input", {type: "checkbox", class: "line-toggle", "data-line": id});
    box.addEventListener("change", () => { drawLines(); markChanged(); });
    label.append(box, " ", el("span", {class: "line-name", "data-line": id}, nm(init.candidates[id])));
    lines.append(label, el("br"));
  }
  const body = $("facility-table").querySelector("tbody");
  body.innerHTML = "";
  for (const f of init.facilities) {
    const tr = el("tr");
    tr.append(el("td", {class: "fac-name", "data-fac": f.id}, nm(f)));
    const sel = el("select", {class: "action", "data-fac": f.id});
    for (const a of init.actions[f.kind]) sel.append(el("option", {value: a, "data-t": "a_" + a}, T("a_" + a)));
    sel.value = f.action;
    const inp = el("input", {type: "text", inputmode: "numeric", class: "servers", "data-fac": f.id, size: 4});
    inp.value = f.servers;
    sel.addEventListener("change", markChanged);
    inp.addEventListener("input", markChanged);
    const td1 = el("td"); td1.append(sel);
    const td2 = el("td"); td2.append(inp);
    const td3 = el("td", {class: "own-hours"});
    for (const [cls, key] of [["fac-open", "open"], ["fac-close", "close"]]) {
      const t = el("input", {type: "text", class: "time " + cls, "data-fac": f.id, size: 5});
      t.value = f.hours ? f.hours[key] : "";
      t.addEventListener("input", markChanged);
      td3.append(t, key === "open" ? "–" : "");
    }
    tr.append(td1, td2, td3);
    body.append(tr);
  }
  const hours = $("hours-list");
  hours.innerHTML = "";
  for (const [kind, h] of Object.entries(init.hours)) {
    const row = el("div", {class: "hours-row"});
    const open = el("input", {type: "text", class: "time hours-open", "data-kind": kind, value: h.open});
    const close = el("input", {type: "text", class: "time hours-close", "data-kind": kind, value: h.close});
    open.addEventListener("input", markChanged);
    close.addEventListener("input", markChanged);
    row.append(el("span", {"data-t": "k_" + kind}, T("k_" + kind)), " ", el("span", {"data-t": "opens"}, T("opens")), " ",
      open, " ", el("span", {"data-t": "closes"}, T("closes")), " ", close);
    hours.append(row);
  }
  markChanged();
  $("reps").value = init.defaults.replications;
  $("days").value = init.defaults.days;
  $("seed").value = init.defaults.seed;
}

function edits() {
  const out = {lines: [], drawn: {}, facilities: {}, hours: {}};
  for (const [id, l] of Object.entries(S.drawn)) out.drawn[id] = {name: l.name, stops: l.stops.map((x) => x.id),
    every_min: l.every_min, first: l.first, last: l.last};
  document.querySelectorAll(".line-toggle").forEach((b) => { if (b.checked) out.lines.push(b.dataset.line); });
  for (const f of S.init.facilities) {
    const action = document.querySelector(`select.action[data-fac="${f.id}"]`).value;
    const servers = document.querySelector(`input.servers[data-fac="${f.id}"]`).value;
    const edit = {action, servers};
    const own = ownHours(f);
    const base = f.hours ? [f.hours.open, f.hours.close] : ["", ""];
    const hoursChanged = own !== null && (own[0] !== base[0] || own[1] !== base[1]);
    if (hoursChanged) edit.hours = own[0] || own[1] ? {open: own[0], close: own[1]} : null;
    if (hoursChanged || action !== f.action || String(servers).trim() !== String(f.servers)) out.facilities[f.id] = edit;
  }
  for (const [kind, h] of Object.entries(S.init.hours)) {
    const open = document.querySelector(`.hours-open[data-kind="${kind}"]`).value;
    const close = document.querySelector(`.hours-close[data-kind="${kind}"]`).value;
    if (open !== h.open || close !== h.close) out.hours[kind] = {open, close};
  }
  return out;
}

// A facility's own hours as typed ([open, close], "" = its kind's), or null where they do not apply
// (closed, or downgraded: a service point takes the service points' hours).
function ownHours(f) {
  const open = document.querySelector(`.fac-open[data-fac="${f.id}"]`);
  const close = document.querySelector(`.fac-close[data-fac="${f.id}"]`);
  if (open.disabled) return null;
  return [open.value.trim(), close.value.trim()];
}
function kindHours(kind) {
  const open = document.querySelector(`.hours-open[data-kind="${kind}"]`);
  const close = document.querySelector(`.hours-close[data-kind="${kind}"]`);
  return open ? [open.value, close.value] : ["", ""];
}

function markChanged() {
  for (const f of S.init.facilities) {
    const sel = document.querySelector(`select.action[data-fac="${f.id}"]`);
    const inp = document.querySelector(`input.servers[data-fac="${f.id}"]`);
    sel.classList.toggle("changed", sel.value !== f.action);
    inp.classList.toggle("changed", String(inp.value).trim() !== String(f.servers));
    inp.disabled = sel.value === "close";
    const kind = sel.value === "downgrade" ? "service_point" : f.kind;
    const base = f.hours ? [f.hours.open, f.hours.close] : ["", ""];
    [".fac-open", ".fac-close"].forEach((cls, i) => {
      const t = document.querySelector(`${cls}[data-fac="${f.id}"]`);
      t.disabled = sel.value === "close" || sel.value === "downgrade";
      t.placeholder = kindHours(kind)[i];
      t.classList.toggle("changed", !t.disabled && t.value.trim() !== base[i]);
    });
  }
  for (const [kind, h] of Object.entries(S.init.hours)) {
    for (const [cls, v] of [["hours-open", h.open], ["hours-close", h.close]]) {
      const i = document.querySelector(`.${cls}[data-kind="${kind}"]`);
      i.classList.toggle("changed", i.value !== v);
    }
  }
}

function resetPlan() {
  S.drawn = {};
  S.drawing = null;
  listDrawn();
  showDrawing();
  buildControls();
  drawLines();
}

// ---------- drawing a new line ----------
function stopClicked(id, x, y, label) {
  if (!S.drawing) return false;
  S.drawing.stops.push({id, x, y, label});
  showDrawing();
  return true;
}
function showDrawing() {
  const on = !!S.drawing;
  $("draw-hint").hidden = !on;
  $("draw-save").disabled = !on || S.drawing.stops.length < 2;
  $("draw-cancel").disabled = !on;
  $("draw-start").disabled = on;
  $("draw-stops").textContent = on ? `${T("draw_stops", {n: S.drawing.stops.length})}: ${S.drawing.stops.map((x) => x.label).join(" → ")}` : "";
  drawLines();
}
function listDrawn() {
  const box = $("drawn-list");
  box.innerHTML = "";
  for (const [id, l] of Object.entries(S.drawn)) {
    const row = el("div", {class: "drawn", "data-line": id}, `${l.name} (${l.stops.map((x) => x.label).join(" → ")}; ${l.every_min} ${T("min")}, ${l.first}–${l.last}) `);
    const rm = el("button", {type: "button", class: "drawn-remove", "data-line": id}, T("draw_remove"));
    rm.onclick = () => { delete S.drawn[id]; listDrawn(); drawLines(); };
    row.append(rm);
    box.append(row);
  }
}
function setupDrawing() {
  $("draw-start").onclick = () => { S.drawing = {stops: []}; showDrawing(); };
  $("draw-cancel").onclick = () => { S.drawing = null; showDrawing(); };
  $("draw-save").onclick = () => {
    const n = Object.keys(S.drawn).length + 1;
    let id = `drawn_${n}`;
    for (let k = n; S.drawn[id]; k++) id = `drawn_${k + 1}`;
    S.drawn[id] = {name: $("draw-name").value.trim() || id, stops: S.drawing.stops, every_min: $("draw-every").value.trim(),
      first: $("draw-first").value.trim(), last: $("draw-last").value.trim()};
    S.drawing = null;
    listDrawn();
    showDrawing();
  };
}

// ---------- map ----------
function buildMap() {
  const m = S.init.map, map = $("map");
  map.innerHTML = "";
  const xs = [], ys = [];
  for (const v of m.villages) { xs.push(v.x); ys.push(v.y); }
  for (const e of m.edges) { xs.push(e[0], e[2]); ys.push(e[1], e[3]); }
  const pad = 2, x0 = Math.min(...xs) - pad, x1 = Math.max(...xs) + pad, y0 = Math.min(...ys) - pad, y1 = Math.max(...ys) + pad;
  S.base = [x0, -y1, x1 - x0, y1 - y0];
  S.view = S.base.slice();
  setView();
  const land = svg("g", {id: "land"});
  for (const ring of m.land || []) {
    land.append(svg("polygon", {points: ring.map(([x, y]) => `${x},${-y}`).join(" "), fill: "#fbf8ee",
      stroke: "#7a8a99", "stroke-width": 0.08}));
  }
  map.append(land);
  const roads = svg("g", {id: "roads"});
  const style = {trunk: ["#555", 0.25, ""], rural: ["#aaa", 0.12, ""], ferry: ["#0072B2", 0.15, "0.6 0.4"]};
  for (const e of m.edges) {
    const [c, w, d] = style[e[4]] || style.rural;
    const pts = [[e[0], e[1]], ...(e[5] || []), [e[2], e[3]]].map(([x, y]) => `${x},${-y}`).join(" ");
    roads.append(svg("polyline", {points: pts, fill: "none", stroke: c, "stroke-width": w, "stroke-dasharray": d}));
  }
  map.append(roads, svg("g", {id: "lines"}));
  const top = Math.max(...m.villages.map((v) => v.pop));
  const vg = svg("g", {id: "villages"});
  for (const v of m.villages) {
    const c = svg("circle", {cx: v.x, cy: -v.y, r: 0.15 + 0.45 * Math.sqrt(v.pop / top), fill: "#9e9e9e", stroke: "#555",
      "stroke-width": 0.04, class: "village", "data-id": v.id});
    c.append(svg("title"));
    c.addEventListener("mouseover", () => hover(villageLabel(v)));
    c.addEventListener("click", () => stopClicked(v.id, v.x, v.y, v.id));
    vg.append(c);
  }
  const fg = svg("g", {id: "facilities"});
  const colour = {hall: "#D55E00", service_point: "#E69F00", clinic: "#009E73"};
  for (const f of m.facilities) {
    const dx = f.kind === "clinic" ? 0.35 : 0, s = f.kind === "hall" ? 0.7 : 0.5;
    const r = svg("rect", {x: f.x + dx - s / 2, y: -f.y - s / 2, width: s, height: s, fill: colour[f.kind] || "#000",
      stroke: "#000", "stroke-width": 0.05, class: "facility", "data-id": f.id,
      transform: f.kind === "service_point" ? `rotate(45 ${f.x + dx} ${-f.y})` : ""});
    r.append(svg("title"));
    r.addEventListener("mouseover", () => hover(facilityLabel(f)));
    r.addEventListener("click", () => stopClicked(f.id, f.x, f.y, nm(f)));
    fg.append(r);
  }
  const names = svg("g", {id: "unit-names"});
  for (const [u, x] of Object.entries(m.units)) {
    if (x.x === undefined) continue;
    const t = svg("text", {x: x.x, y: -x.y - 0.9, "text-anchor": "middle", "font-size": 0.9, class: "unit-name",
      "data-unit": u, "paint-order": "stroke", stroke: "#fff", "stroke-width": 0.18, fill: "#25435f"});
    t.addEventListener("click", () => stopClicked(`seat:${u}`, x.x, x.y, unitName(u)));
    names.append(t);
  }
  map.append(vg, fg, names);
  drawLines();
  enableZoom(map);
  labelMap();
  drawScale();
}

function drawScale() {
  // scale bar and north arrow in screen pixels, redrawn for the current zoom
  const box = $("map").getBoundingClientRect(), o = $("overlay");
  if (!box.width || !S.view) return;
  const pxPerKm = box.width / S.view[2];
  const nice = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];
  const km = nice.filter((k) => k * pxPerKm <= 140).pop() || nice[0];
  const w = km * pxPerKm;
  o.innerHTML = "";
  o.append(svg("rect", {x: 10, y: 12, width: w, height: 6, fill: "#fff", stroke: "#222", "stroke-width": 1}));
  o.append(svg("rect", {x: 10, y: 12, width: w / 2, height: 6, fill: "#222"}));
  const label = svg("text", {x: 10 + w + 6, y: 19, "font-size": 12, id: "scale-label"});
  label.textContent = `${km} ${T("km")}`;
  o.append(label);
  const n = svg("g", {id: "north", transform: "translate(30, 44)"});
  n.append(svg("polygon", {points: "0,-14 7,6 0,1 -7,6", fill: "#222"}));
  const nt = svg("text", {x: 0, y: 20, "text-anchor": "middle", "font-size": 12});
  nt.textContent = T("north");
  n.append(nt);
  o.append(n);
}

function villageLabel(v) {
  let s = `${T("k_village")} ${v.id} · ${unitName(v.unit)} · ${v.pop.toLocaleString("en")} ${T("pop")}`;
  const r = S.results && S.results.villages[v.id];
  if (r) s += ` · ${T("change")} ${signed(r.diff, 1)} ${T("min")}`;
  return s;
}
function facilityLabel(f) { return `${nm(f)} (${T("k_" + f.kind)}, ${f.servers})`; }
function hover(text) { $("hover-info").textContent = text; }

function labelMap() {
  const m = S.init.map;
  document.querySelectorAll("#unit-names text").forEach((t) => { t.textContent = unitName(t.dataset.unit); });
  document.querySelectorAll("#villages circle").forEach((c, i) => { c.firstChild.textContent = villageLabel(m.villages[i]); });
  document.querySelectorAll("#facilities rect").forEach((r, i) => { r.firstChild.textContent = facilityLabel(m.facilities[i]); });
  document.querySelectorAll("#lines polyline.transit-line").forEach((p) => {
    const line = m.lines.find((l) => l.id === p.dataset.id);
    p.firstChild.textContent = `${T("line")}: ${nm(line)}`;
  });
}

function drawLines() {
  const g = $("lines");
  g.innerHTML = "";
  const on = new Set(edits().lines);
  for (const l of S.init.map.lines) {
    if (l.candidate && !on.has(l.id)) continue;
    const p = svg("polyline", {points: l.points.map((q) => `${q[0]},${-q[1]}`).join(" "), fill: "none",
      stroke: l.candidate ? "#CC79A7" : "#0072B2", "stroke-width": l.candidate ? 0.35 : 0.2,
      "stroke-dasharray": l.candidate ? "0.8 0.4" : "", "stroke-opacity": 0.85, class: "transit-line", "data-id": l.id});
    p.append(svg("title", {}));
    p.firstChild.textContent = `${T("line")}: ${nm(l)}`;
    p.addEventListener("mouseover", () => hover(`${T("line")}: ${nm(l)}`));
    g.append(p);
  }
  const own = Object.entries(S.drawn).map(([id, l]) => [id, l.name, l.stops]);
  if (S.drawing) own.push(["drawing", "", S.drawing.stops]);
  for (const [id, name, stops] of own) {
    if (stops.length < 1) continue;
    const p = svg("polyline", {points: stops.map((q) => `${q.x},${-q.y}`).join(" "), fill: "none", stroke: "#CC79A7",
      "stroke-width": 0.35, "stroke-dasharray": id === "drawing" ? "0.3 0.3" : "0.8 0.4", class: "drawn-line", "data-id": id});
    p.append(svg("title", {}));
    p.firstChild.textContent = name ? `${T("line")}: ${name}` : "";
    g.append(p);
  }
}

function setView() { $("map").setAttribute("viewBox", S.view.join(" ")); if ($("overlay")) drawScale(); }
function zoom(factor, cx, cy) {
  const [x, y, w, h] = S.view;
  if (cx === undefined) { cx = x + w / 2; cy = y + h / 2; }
  S.view = [cx - (cx - x) * factor, cy - (cy - y) * factor, w * factor, h * factor];
  setView();
}
function enableZoom(map) {
  map.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = map.getBoundingClientRect(), [x, y, w, h] = S.view;
    const scale = Math.max(w / r.width, h / r.height);
    const cx = x + w / 2 + (ev.clientX - r.left - r.width / 2) * scale, cy = y + h / 2 + (ev.clientY - r.top - r.height / 2) * scale;
    zoom(ev.deltaY > 0 ? 1.2 : 1 / 1.2, cx, cy);
  }, {passive: false});
  let drag = null;
  map.addEventListener("mousedown", (ev) => { drag = [ev.clientX, ev.clientY, S.view.slice()]; });
  window.addEventListener("mouseup", () => { drag = null; });
  map.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const r = map.getBoundingClientRect(), v = drag[2], scale = Math.max(v[2] / r.width, v[3] / r.height);
    S.view = [v[0] - (ev.clientX - drag[0]) * scale, v[1] - (ev.clientY - drag[1]) * scale, v[2], v[3]];
    setView();
  });
  $("zoom-in").onclick = () => zoom(1 / 1.5);
  $("zoom-out").onclick = () => zoom(1.5);
  $("zoom-reset").onclick = () => { S.view = S.base.slice(); setView(); };
}

function diffColour(d, top) {
  // ColorBrewer RdBu ends: blue (shorter) to red (longer), white at 0
  const t = Math.max(-1, Math.min(1, d / top));
  const end = t < 0 ? [33, 102, 172] : [178, 24, 43];
  const a = Math.abs(t);
  const c = [0, 1, 2].map((i) => Math.round(247 + (end[i] - 247) * a));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
function paintDifference() {
  const vs = S.results ? S.results.villages : null;
  $("diff-legend").hidden = !vs;
  const diffs = vs ? Object.values(vs).map((r) => Math.abs(r.diff)) : [];
  const top = Math.max(1e-9, ...diffs);
  const scale = $("colour-scale");
  scale.hidden = !vs;
  if (vs) {
    const d = top >= 10 ? 0 : top >= 1 ? 1 : 2;
    $("scale-low").textContent = signed(-top, d);
    $("scale-high").textContent = signed(top, d);
    $("scale-mid").textContent = "0";
    $("scale-bar").style.background = `linear-gradient(to right, ${diffColour(-top, top)}, ${diffColour(0, top)}, ${diffColour(top, top)})`;
  }
  document.querySelectorAll("#villages circle").forEach((c) => {
    const r = vs && vs[c.dataset.id];
    if (!r) { c.setAttribute("fill", "#9e9e9e"); c.setAttribute("stroke", "#555"); c.setAttribute("stroke-width", 0.04); return; }
    const col = diffColour(r.diff, top);
    c.setAttribute("fill", r.clear ? col : "none");
    c.setAttribute("stroke", r.clear ? "#555" : col === "rgb(247,247,247)" ? "#999" : col);
    c.setAttribute("stroke-width", r.clear ? 0.04 : 0.12);
  });
  labelMap();
}

// ---------- results ----------
function table(id, head, rows, signedCols) {
  const t = $(id);
  t.innerHTML = "";
  const thead = el("thead"), tr = el("tr");
  for (const h of head) tr.append(el("th", {}, h));
  thead.append(tr);
  const tbody = el("tbody");
  for (const row of rows) {
    const r = el("tr");
    row.forEach((cell, i) => {
      const td = el("td", {}, cell.text !== undefined ? cell.text : cell);
      if (cell.cls) td.className = cell.cls;
      if (cell.key) td.dataset.key = cell.key;
      r.append(td);
    });
    tbody.append(r);
  }
  t.append(thead, tbody);
}

function ciText(r) {
  return r.ci_low === null ? "–" : `${signed(r.ci_low, r.decimals)} … ${signed(r.ci_high, r.decimals)}`;
}
function excludesZero(r) { return r.ci_low !== null && (r.ci_low > 0 || r.ci_high < 0); }

function renderAnswer() {
  const ans = S.results ? S.results.answer : null;
  $("answer").hidden = !ans;
  if (!ans) return;
  const said = ans.sentences[S.lang];
  const county = said.find((x) => Object.keys(x.group).length === 0);
  // with townsim app --posterior: the county answer over the posterior draws (interval includes
  // parameter uncertainty; variance split), headline burden first
  const post = ans.posterior ? ans.posterior.sentences[S.lang] : [];
  $("county-sentence").textContent = post.length ? post[0] : county ? county.text : "";
  const list = $("unit-sentences");
  list.innerHTML = "";
  for (const x of said.filter((x) => x.group.former_unit !== undefined)) {
    const li = el("li", {"data-unit": x.group.former_unit}, x.text);
    list.append(li);
  }
  table("age-table", [T("age_band"), T("base"), T("plan"), T("change"), T("ci"), "n"],
    ans.tables.age_band.map((r) => [r.age_band, fmt(r.mean_a, r.decimals), fmt(r.mean_b, r.decimals),
      {text: signed(r.diff, r.decimals) + (excludesZero(r) ? " *" : ""), cls: excludesZero(r) ? (r.diff > 0 ? "pos" : "neg") : "",
       key: "age-" + r.age_band}, ciText(r), String(r.n)]));
  // heat table: former townships (rows) x age bands (columns), cells coloured by the change
  const cells = ans.tables.former_unit_age_band;
  const bands = ans.tables.age_band.map((r) => r.age_band);
  const units = [...new Set(cells.map((r) => r.former_unit))];
  const top = Math.max(1e-9, ...cells.filter(excludesZero).map((r) => Math.abs(r.diff)));
  const t = $("heat-table");
  t.innerHTML = "";
  const head = el("tr");
  head.append(el("th", {}, T("group")));
  for (const b of bands) head.append(el("th", {}, b));
  const thead = el("thead"); thead.append(head);
  const tbody = el("tbody");
  for (const u of units) {
    const tr = el("tr");
    tr.append(el("td", {}, unitName(u)));
    for (const b of bands) {
      const r = cells.find((x) => x.former_unit === u && x.age_band === b);
      const td = el("td", r ? {"data-key": `heat-${u}-${b}`, title: `${unitName(u)} ${b}: ${T("ci")} ${ciText(r)}`} : {},
        r ? signed(r.diff, r.decimals) + (excludesZero(r) ? "*" : "") : "–");
      if (r && excludesZero(r)) td.style.background = diffColour(r.diff, top);
      tr.append(td);
    }
    tbody.append(tr);
  }
  t.append(thead, tbody);
}

function renderResults() {
  const res = S.results;
  $("results").hidden = !res;
  paintDifference();
  renderAnswer();
  if (!res) return;
  const metricSel = $("metric"), current = metricSel.value || "burden_mean_min";
  metricSel.innerHTML = "";
  for (const m of ["burden_mean_min", "burden_p90_min", "share_burden_over_60", "trips_per_errand"])
    metricSel.append(el("option", {value: m}, T("m_" + m)));
  metricSel.value = current;
  const rows = res.by_unit.filter((r) => r.metric === current).map((r) => {
    const digits = r.decimals;  // the interval's precision: two significant digits of its half-width
    const clear = r.ci_low !== null && (r.ci_low > 0 || r.ci_high < 0);
    const cls = clear ? (r.mean_diff > 0 ? "pos" : "neg") : "";
    return [
      {text: r.group === "ALL" ? T("all") : unitName(r.group), key: r.group},
      fmt(r.mean_a, digits), fmt(r.mean_b, digits),
      {text: signed(r.mean_diff, digits), cls, key: "diff-" + r.group},
      r.ci_low === null ? "–" : `${signed(r.ci_low, digits)} … ${signed(r.ci_high, digits)}`,
      String(r.n),
    ];
  });
  table("unit-table", [T("group"), T("base"), T("plan"), T("change"), T("ci"), "n"], rows);
  table("per-seed", [T("seed_col"), T("base"), T("plan"), T("change")],
    res.per_seed.map((r) => [String(r.seed), fmt(r.a, 3), fmt(r.b, 3), {text: signed(r.diff, 3), key: "seed-" + r.seed}]));
  const lineName = (id) => { const l = S.init.map.lines.find((x) => x.id === id); return l ? nm(l) : id; };
  const ci = (pair, d) => (pair && pair[0] !== null ? `${signed(pair[0], d)} … ${signed(pair[1], d)}` : "–");
  table("line-table", [T("line"), `${T("boardings")} ${T("base")}`, `${T("boardings")} ${T("plan")}`, T("ci"),
    `${T("load_factor")} ${T("plan")}`, `${T("max_load")} ${T("plan")}`, `${T("left_behind")} ${T("plan")}`],
    res.lines.map((r) => [lineName(r.line), fmt(r.boardings_per_day_a, 1), fmt(r.boardings_per_day_b, 1), ci(r.boardings_ci, 1),
      fmt(r.mean_load_factor_b == null ? null : 100 * r.mean_load_factor_b, 1),
      fmt(r.max_load_factor_b == null ? null : 100 * r.max_load_factor_b, 0), fmt(r.left_behind_per_day_b, 1)]));
  const facName = (id) => { const f = S.init.map.facilities.find((x) => x.id === id) || S.init.facilities.find((x) => x.id === id); return f ? nm(f) : id; };
  const pct = (x) => (x == null ? null : 100 * x);
  table("queue-table", [T("facility"), T("windows"), `${T("arrivals")} ${T("base")}`, `${T("arrivals")} ${T("plan")}`,
    `${T("wait")} ${T("base")}`, `${T("wait")} ${T("plan")}`, `${T("change")} ${T("ci")}`, `${T("util")} ${T("base")}`,
    `${T("util")} ${T("plan")}`, `${T("turned")} ${T("plan")}`],
    res.facilities.map((r) => [facName(r.id), `${fmt(r.servers_a, 0)} → ${r.servers_b == null ? T("closed") : fmt(r.servers_b, 0)}`,
      fmt(r.arrivals_per_day_a, 1), fmt(r.arrivals_per_day_b, 1), fmt(r.mean_wait_min_a, 1), fmt(r.mean_wait_min_b, 1),
      ci(r.wait_ci, 1), fmt(pct(r.utilisation_a), 0), fmt(pct(r.utilisation_b), 0), fmt(r.turned_away_per_day_b, 1)]));
  const fam = res.families || [];  // school radius, boarding, escorts, ferries: scenarios with those blocks
  $("families").hidden = fam.length === 0;
  table("families-table", [T("measure"), T("base"), T("plan"), T("change"), T("ci"), "n"],
    fam.map((r) => [r.label[S.lang], fmt(r.mean_a, r.decimals), fmt(r.mean_b, r.decimals),
      {text: signed(r.mean_diff, r.decimals), key: "fam-" + r.metric},
      r.ci_low === null ? "–" : `${signed(r.ci_low, r.decimals)} … ${signed(r.ci_high, r.decimals)}`, String(r.n)]));
}

// ---------- run ----------
function showError(msg) { $("error").hidden = !msg; $("error").textContent = msg || ""; }

async function run() {
  showError(null);
  $("status").dataset.state = "starting";
  const body = {edits: edits(), replications: $("reps").value, days: $("days").value, seed: $("seed").value};
  const resp = await api("/api/run", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await resp.json();
  if (!resp.ok) { showError(data.error); $("status").dataset.state = "error"; $("status").textContent = T("error"); return; }
  // the results shown were of another plan: hide them until this Run is complete
  S.results = null;
  S.done = null;
  renderResults();
  $("downloads").hidden = true;
  S.job = data.job;
  S.plan = data.plan;
  $("cancel").disabled = false;
  $("progress").value = 0;
  $("status").dataset.state = "running";
  $("status").textContent = T("running", {done: 0, total: "…"});
  clearInterval(S.poll);
  S.poll = setInterval(poll, 300);
}

async function poll() {
  const job = S.job;
  const resp = await api(`/api/job/${job}`);
  if (!resp.ok || job !== S.job) return;
  const d = await resp.json();
  $("progress").max = Math.max(1, d.total);
  $("progress").value = d.state === "done" ? $("progress").max : d.done;
  $("status").dataset.state = d.state;
  if (d.state === "running") { $("status").textContent = T("running", {done: d.done, total: d.total}); return; }
  clearInterval(S.poll);
  $("cancel").disabled = true;
  if (d.state === "cancelled") { $("status").textContent = T("cancelled"); return; }
  if (d.state === "error") { $("status").textContent = T("error"); showError(d.error); return; }
  $("status").textContent = T("finished", {s: d.wall_s, n: d.replications, d: d.days});
  S.results = d.results;
  S.done = d;
  renderResults();
  $("downloads").hidden = false;
  $("dl-overlay").href = d.plan ? withToken(`/download/overlay/${d.plan}.yaml`) : "#";
  $("dl-overlay").hidden = !d.plan;
  $("dl-report").href = withToken(`/download/report/${job}.html?lang=${S.lang}`);
  $("commands").textContent = d.commands.join("\n");
}

async function cancel() { if (S.job) await api(`/api/job/${S.job}/cancel`, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}); }

// ---------- language ----------
function applyLanguage() {
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  document.title = T("title");
  const title = S.init.title;  // the scenario's own title, else its file
  $("scenario").textContent = title ? `${title[S.lang]} (${S.init.scenario})` : S.init.scenario;
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = T(e.dataset.t); });
  $("lang").textContent = T("lang");
  document.querySelectorAll(".line-name").forEach((e) => { e.textContent = nm(S.init.candidates[e.dataset.line]); });
  document.querySelectorAll(".fac-name").forEach((e) => {
    e.textContent = nm(S.init.facilities.find((f) => f.id === e.dataset.fac));
  });
  labelMap();
  drawLines();
  drawScale();
  listDrawn();
  showDrawing();
  if (S.results) renderResults();
  if (S.job && S.done) $("dl-report").href = withToken(`/download/report/${S.job}.html?lang=${S.lang}`);
}

async function main() {
  const initResp = await api("/api/init");
  S.init = await initResp.json();
  if (!initResp.ok) { showError(S.init.error); return; }  // e.g. opened without the token
  $("scenario").textContent = S.init.scenario;
  buildControls();
  buildMap();
  applyLanguage();
  $("lang").onclick = () => { S.lang = S.lang === "en" ? "zh" : "en"; applyLanguage(); };
  $("run").onclick = run;
  $("cancel").onclick = cancel;
  $("reset").onclick = resetPlan;
  setupDrawing();
  $("metric").onchange = renderResults;
  document.body.dataset.ready = "1";
}
main();
