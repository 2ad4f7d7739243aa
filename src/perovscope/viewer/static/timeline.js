// perovscope viewer: the timeline under the map (resistance, EL and one chosen quantity against time),
// a cursor at the current frame, and event markers that jump to their frame when clicked.
"use strict";

window.PerovTimeline = function (canvas, eventLayer, onPick) {
  const ctx = canvas.getContext("2d");
  const M = {left: 86, right: 18, top: 18, bottom: 34, eventRow: 40, panelGap: 24};
  const COLOURS = {resistance_ohm: "#1d4ed8", el_intensity: "#b45309", quantity: "#047857"};
  let tl = null, events = [], quantity = null, frame = 0, geom = null, markerKey = null;

  function finite(v) { return v !== null && v !== undefined && Number.isFinite(v); }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out.length < 3 && n < 12 ? niceTicks(lo, hi, n * 2) : out;
  }

  function fmt(v) {
    if (!finite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-2 || a >= 1e5)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toString();
  }

  function panels() {
    if (!tl) return [];
    const out = [];
    for (const name of ["resistance_ohm", "el_intensity"]) {
      if (tl.columns[name]) out.push({name, colour: COLOURS[name]});
    }
    if (quantity && tl.columns[quantity] && !out.some((p) => p.name === quantity)) {
      out.push({name: quantity, colour: COLOURS.quantity});
    }
    return out;
  }

  function timeOfFrame(f) {
    if (!tl) return null;
    const k = tl.frame.indexOf(f);
    const t = tl.time_s[k >= 0 ? k : f];
    return finite(t) ? t : null;
  }

  function layout() {
    const ps = panels();
    const width = Math.max(360, canvas.parentElement.clientWidth || 960);
    const panelH = 80;
    const eventRow = events.some((ev) => eventTime(ev) !== null) ? M.eventRow : 0;
    const height = eventRow + M.top + ps.length * (panelH + M.panelGap) + M.bottom;
    const dpr = window.devicePixelRatio || 1;
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ts = tl ? tl.time_s.filter(finite) : [];
    let t0 = ts.length ? Math.min(...ts) : 0, t1 = ts.length ? Math.max(...ts) : 1;
    if (!(t1 > t0)) { t0 -= 0.5; t1 += 0.5; }
    const pad = (t1 - t0) * 0.02;
    t0 -= pad; t1 += pad;
    const x = (t) => M.left + (t - t0) / (t1 - t0) * (width - M.left - M.right);
    geom = {width, height, panelH, ps, t0, t1, x, plotTop: eventRow + M.top};
  }

  function drawPanel(p, top) {
    const col = tl.columns[p.name], h = geom.panelH, x = geom.x;
    const vals = col.values, std = col.std;
    let lo = Infinity, hi = -Infinity;
    vals.forEach((v, i) => {
      if (!finite(v)) return;
      const s = std && finite(std[i]) ? std[i] : 0;
      lo = Math.min(lo, v - s); hi = Math.max(hi, v + s);
    });
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (!(hi > lo)) { const d = Math.abs(lo) * 0.05 || 1; lo -= d; hi += d; }
    const y = (v) => top + h - (v - lo) / (hi - lo) * h;
    ctx.strokeStyle = "#d6dae1"; ctx.lineWidth = 1;
    ctx.strokeRect(M.left, top, geom.width - M.left - M.right, h);
    ctx.fillStyle = "#667085"; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "right";
    for (const v of niceTicks(lo, hi, 4)) {
      ctx.fillText(fmt(v), M.left - 6, y(v) + 4);
      ctx.beginPath(); ctx.moveTo(M.left - 3, y(v)); ctx.lineTo(M.left, y(v)); ctx.stroke();
    }
    ctx.textAlign = "left"; ctx.fillStyle = p.colour; ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillText(p.name + (col.units && col.units !== "1" ? " (" + col.units + ")" : ""), M.left, top - 6);
    if (std) {  // ±1σ band
      ctx.fillStyle = p.colour + "26"; ctx.beginPath();
      const idx = vals.map((v, i) => i).filter((i) => finite(vals[i]) && finite(tl.time_s[i]));
      idx.forEach((i, k) => {
        const s = finite(std[i]) ? std[i] : 0;
        if (k === 0) ctx.moveTo(x(tl.time_s[i]), y(vals[i] + s)); else ctx.lineTo(x(tl.time_s[i]), y(vals[i] + s));
      });
      idx.slice().reverse().forEach((i) => {
        const s = finite(std[i]) ? std[i] : 0;
        ctx.lineTo(x(tl.time_s[i]), y(vals[i] - s));
      });
      ctx.closePath(); ctx.fill();
    }
    ctx.strokeStyle = p.colour; ctx.lineWidth = 1.6; ctx.beginPath();
    let pen = false;
    vals.forEach((v, i) => {
      const t = tl.time_s[i];
      if (!finite(v) || !finite(t)) { pen = false; return; }
      if (pen) ctx.lineTo(x(t), y(v)); else ctx.moveTo(x(t), y(v));
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = p.colour;
    vals.forEach((v, i) => {
      if (finite(v) && finite(tl.time_s[i])) { ctx.beginPath(); ctx.arc(x(tl.time_s[i]), y(v), 2.2, 0, 7); ctx.fill(); }
    });
  }

  function draw() {
    layout();
    ctx.clearRect(0, 0, geom.width, geom.height);
    if (!tl || !tl.time_s.length) {
      ctx.fillStyle = "#667085"; ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("no timeline in this results folder", M.left, 40);
      placeMarkers();
      return;
    }
    let top = geom.plotTop;
    geom.ps.forEach((p) => { drawPanel(p, top); top += geom.panelH + M.panelGap; });
    const bottom = top - M.panelGap;
    ctx.strokeStyle = "#667085"; ctx.fillStyle = "#667085"; ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "center";
    for (const t of niceTicks(geom.t0, geom.t1, 8)) {
      const xt = geom.x(t);
      ctx.beginPath(); ctx.moveTo(xt, bottom); ctx.lineTo(xt, bottom + 4); ctx.stroke();
      ctx.fillText(fmt(t), xt, bottom + 16);
    }
    ctx.fillText("time (s)", (M.left + geom.width - M.right) / 2, bottom + 30);
    ctx.setLineDash([3, 3]); ctx.strokeStyle = "#c2410c99";
    for (const ev of events) {
      const t = eventTime(ev);
      if (t === null) continue;
      ctx.beginPath(); ctx.moveTo(geom.x(t), 0); ctx.lineTo(geom.x(t), bottom); ctx.stroke();
    }
    ctx.setLineDash([]);
    const tc = timeOfFrame(frame);
    if (tc !== null) {
      ctx.strokeStyle = "#111827"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(geom.x(tc), geom.plotTop - 4); ctx.lineTo(geom.x(tc), bottom); ctx.stroke();
    }
    placeMarkers();
  }

  function eventTime(ev) {
    if (!finite(ev.frame) || ev.frame < 0) return null;
    return finite(ev.time_s) ? ev.time_s : timeOfFrame(ev.frame);
  }

  function placeMarkers() {  // rebuilt only when the layout or the events change (keeps focus on a marker)
    const key = geom ? `${geom.width}|${geom.t0}|${geom.t1}|${events.length}` : "none";
    if (key === markerKey) return;
    markerKey = key;
    eventLayer.replaceChildren();
    let lastX = -1e9, row = 0;
    const reached = events.filter((ev) => eventTime(ev) !== null)
      .sort((a, b) => eventTime(a) - eventTime(b));
    for (const ev of reached) {
      const xe = geom ? geom.x(eventTime(ev)) : 0;
      row = xe - lastX < 120 ? (row + 1) % 2 : 0;
      lastX = xe;
      const b = document.createElement("button");
      b.type = "button"; b.className = "event-marker";
      b.textContent = ev.name;
      b.dataset.frame = String(ev.frame);
      b.dataset.name = String(ev.name);
      b.title = `${ev.name}: frame ${ev.frame}, t = ${fmt(eventTime(ev))} s` +
        (ev.quantity ? `\n${ev.quantity} crosses ${fmt(ev.threshold)} (${ev.method || ""})` : "") +
        (ev.reason ? `\n${ev.reason}` : "");
      b.style.left = xe + "px";
      if (geom && xe > geom.width - 70) b.classList.add("right-edge");  // keep the label inside
      b.style.top = (row * 19) + "px";
      b.addEventListener("click", () => onPick(ev.frame));
      eventLayer.appendChild(b);
    }
  }

  canvas.addEventListener("click", (e) => {
    if (!tl || !tl.time_s.length || !geom) return;
    const r = canvas.getBoundingClientRect(), xc = e.clientX - r.left;
    let best = 0, bestD = Infinity;
    tl.time_s.forEach((t, i) => {
      if (!finite(t)) return;
      const d = Math.abs(geom.x(t) - xc);
      if (d < bestD) { bestD = d; best = i; }
    });
    onPick(tl.frame[best] !== undefined ? tl.frame[best] : best);
  });
  window.addEventListener("resize", () => draw());

  return {
    setData(timeline, evs) { tl = timeline; events = evs || []; markerKey = null; draw(); },
    setQuantity(name) { quantity = name; draw(); },
    setFrame(f) { frame = f; draw(); },
    cursorTime() { return timeOfFrame(frame); },
    events() { return events; },
  };
};
