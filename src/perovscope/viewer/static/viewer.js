// perovscope viewer: map chooser, frame slider, colour mapping of compact frames, hover read-out.
// State for tests and scripts is on window.viewerState; window.viewerApi offers setFrame/setVar.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const S = window.viewerState = {
    ready: false, frame: 0, nFrames: 0, var: null, cmap: "viridis", vmin: null, vmax: null,
    value: null, std: null, pixel: null, position_nm: null, layer: null,
    timelineCursorTime: null, drawn: null, lastFrameMs: null, error: null,
  };
  let index = null, entries = {}, timeline = null, playing = false, token = 0, current = null;

  // -- colour tables ----------------------------------------------------------------------------
  const LUT = {};
  for (const [key, cm] of Object.entries(window.PEROVSCOPE_COLORMAPS)) {
    const n = cm.hex.length / 6, t = new Uint8Array(n * 3);
    for (let i = 0; i < n * 3; i++) t[i] = parseInt(cm.hex.substr(i * 2, 2), 16);
    LUT[key] = {n, t, label: cm.label};
  }

  // -- float16 decoding (one table for all 65536 codes) ----------------------------------------
  const HALF = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    HALF[h] = e === 0 ? s * f * Math.pow(2, -24) : e === 31 ? (f ? NaN : s * Infinity)
      : s * (1 + f / 1024) * Math.pow(2, e - 15);
  }

  function decode(buf) {
    const n = new DataView(buf).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    const [h, w] = header.shape, off = 4 + n, count = h * w, out = new Float32Array(count);
    if (header.dtype === "float16") {
      const raw = new Uint16Array(buf, off, count);
      for (let i = 0; i < count; i++) out[i] = header.offset + header.scale * HALF[raw[i]];
    } else {
      const raw = new Uint8Array(buf, off, count);
      for (let i = 0; i < count; i++) out[i] = raw[i] === 255 ? NaN : header.offset + header.scale * raw[i];
    }
    return {header, values: out, w, h};
  }

  const frameCache = new Map();  // "var|frame" -> Promise of decoded frame (small LRU)
  function getFrame(varId, frame) {
    const key = varId + "|" + frame;
    if (frameCache.has(key)) {
      const p = frameCache.get(key); frameCache.delete(key); frameCache.set(key, p); return p;
    }
    const p = fetch(`/api/slice?var=${encodeURIComponent(varId)}&frame=${frame}`)
      .then((r) => { if (!r.ok) throw new Error(`slice ${varId} frame ${frame}: HTTP ${r.status}`); return r.arrayBuffer(); })
      .then(decode);
    p.catch(() => frameCache.delete(key));
    frameCache.set(key, p);
    while (frameCache.size > 96) frameCache.delete(frameCache.keys().next().value);
    return p;
  }

  // -- formatting -------------------------------------------------------------------------------
  function fmt(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "NaN";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-2 || a >= 1e5)) return v.toExponential(3);
    return Number(v.toPrecision(4)).toString();
  }
  const unitText = (u) => (u && u !== "1" ? " " + u : "");
  function labelName(e, v) {  // a label value's name; negative labels mean "unassigned"
    if (!Number.isFinite(v)) return "NaN";
    if (v < 0) return "(none)";
    return e.category_names && e.category_names[v] !== undefined ? e.category_names[v] : String(v);
  }

  // -- drawing ----------------------------------------------------------------------------------
  function mapGeometry(e) {
    const wNm = Math.abs(e.x.extent[1] - e.x.extent[0]) || e.shape[1];
    const hNm = Math.abs(e.y.extent[1] - e.y.extent[0]) || e.shape[0];
    const maxW = Math.min(640, Math.max(240, $("map-panel").clientWidth - 140)), maxH = 520;
    const k = Math.min(maxW / wNm, maxH / hNm);
    return {cssW: Math.max(1, Math.round(wNm * k)), cssH: Math.max(1, Math.round(hNm * k))};
  }

  function colourise(e, fr) {
    const img = new ImageData(fr.w, fr.h), px = img.data, v = fr.values;
    if (e.categorical) {
      const lut = LUT.categorical;
      for (let i = 0; i < v.length; i++) {
        const q = 4 * i;
        if (!Number.isFinite(v[i])) { px[q + 3] = 0; continue; }
        if (v[i] < 0) { px[q] = 200; px[q + 1] = 200; px[q + 2] = 200; px[q + 3] = 255; continue; }  // unassigned
        const c = ((Math.round(v[i]) % lut.n) + lut.n) % lut.n;
        px[q] = lut.t[3 * c]; px[q + 1] = lut.t[3 * c + 1]; px[q + 2] = lut.t[3 * c + 2]; px[q + 3] = 255;
      }
      return img;
    }
    const lut = LUT[S.cmap] || LUT.viridis, lo = S.vmin, span = (S.vmax - S.vmin) || 1, top = lut.n - 1;
    for (let i = 0; i < v.length; i++) {
      const q = 4 * i;
      if (!Number.isFinite(v[i])) { px[q] = 200; px[q + 1] = 200; px[q + 2] = 200; px[q + 3] = 255; continue; }
      const c = Math.max(0, Math.min(top, Math.round((v[i] - lo) / span * top)));
      px[q] = lut.t[3 * c]; px[q + 1] = lut.t[3 * c + 1]; px[q + 2] = lut.t[3 * c + 2]; px[q + 3] = 255;
    }
    return img;
  }

  function drawMap() {
    if (!current) return;
    const e = entries[current.var], fr = current.main, g = mapGeometry(e), cv = $("map");
    const dpr = window.devicePixelRatio || 1;
    cv.style.width = g.cssW + "px"; cv.style.height = g.cssH + "px";
    cv.width = Math.round(g.cssW * dpr); cv.height = Math.round(g.cssH * dpr);
    const off = document.createElement("canvas");
    off.width = fr.w; off.height = fr.h;
    off.getContext("2d").putImageData(colourise(e, fr), 0, 0);
    const ctx = cv.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, cv.width, cv.height);
    drawScaleBar(ctx, e, cv.width / dpr, cv.height / dpr, dpr);
    drawColourBar(e, g.cssH);
  }

  function drawScaleBar(ctx, e, w, h, dpr) {
    const widthNm = Math.abs(e.x.extent[1] - e.x.extent[0]);
    if (!(widthNm > 0) || e.x.units === "px") return;
    const target = widthNm / 5, mag = Math.pow(10, Math.floor(Math.log10(target)));
    const len = [1, 2, 5, 10].map((m) => m * mag).filter((s) => s <= target).pop() || mag;
    const px = len / widthNm * w;
    ctx.save(); ctx.scale(dpr, dpr);
    ctx.fillStyle = "rgba(0,0,0,0.55)"; ctx.fillRect(8, h - 26, px + 12, 20);
    ctx.fillStyle = "#fff"; ctx.fillRect(14, h - 12, px, 3);
    ctx.font = "11px system-ui, sans-serif"; ctx.fillText(`${fmt(len)} ${e.x.units}`, 14, h - 15);
    ctx.restore();
  }

  function drawColourBar(e, cssH) {
    const cv = $("colorbar"), dpr = window.devicePixelRatio || 1, W = 96;
    cv.style.width = W + "px"; cv.style.height = cssH + "px";
    cv.width = W * dpr; cv.height = Math.round(cssH * dpr);
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, cssH);
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#1d2430";
    if (e.categorical) {
      const lut = LUT.categorical, lo = e.range[0], hi = e.range[1];
      for (let v = lo, row = 0; v <= hi; v++, row++) {
        const c = ((v % lut.n) + lut.n) % lut.n;
        ctx.fillStyle = v < 0 ? "rgb(200,200,200)" : `rgb(${lut.t[3 * c]},${lut.t[3 * c + 1]},${lut.t[3 * c + 2]})`;
        ctx.fillRect(2, 4 + row * 18, 14, 14);
        ctx.fillStyle = "#1d2430";
        const name = labelName(e, v);
        ctx.fillText(name, 20, 15 + row * 18);
      }
      return;
    }
    const lut = LUT[S.cmap] || LUT.viridis, top = 8, bh = cssH - 16;
    for (let y = 0; y < bh; y++) {
      const c = Math.round((1 - y / Math.max(1, bh - 1)) * (lut.n - 1));
      ctx.fillStyle = `rgb(${lut.t[3 * c]},${lut.t[3 * c + 1]},${lut.t[3 * c + 2]})`;
      ctx.fillRect(2, top + y, 16, 1);
    }
    ctx.strokeStyle = "#667085"; ctx.strokeRect(2, top, 16, bh);
    ctx.fillStyle = "#1d2430";
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const y = top + (1 - f) * bh;
      ctx.fillRect(18, y, 4, 1);
      ctx.fillText(fmt(S.vmin + f * (S.vmax - S.vmin)), 25, y + 4);
    }
    ctx.save(); ctx.translate(W - 4, top + bh / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
    ctx.fillStyle = "#667085"; ctx.fillText(e.units && e.units !== "1" ? e.units : "dimensionless", 0, 0);
    ctx.restore();
  }

  // -- frames -----------------------------------------------------------------------------------
  function frameLabel() {
    const e = entries[S.var], t = e ? e.time_s[S.frame] : null;
    $("frame-label").textContent = `frame ${S.frame} / ${Math.max(0, S.nFrames - 1)}` +
      (t !== null && t !== undefined ? ` · t = ${fmt(t)} s` : "");
  }

  async function setFrame(f) {
    if (!S.var) return;
    f = Math.max(0, Math.min(S.nFrames - 1, Math.round(Number(f) || 0)));
    const t0 = performance.now(), my = ++token;
    S.frame = f;
    $("frame").value = String(f);
    frameLabel();
    tlView.setFrame(f);
    S.timelineCursorTime = tlView.cursorTime();
    $("timeline-cursor").textContent = "t = " + (S.timelineCursorTime === null ? "–" : fmt(S.timelineCursorTime) + " s");
    const e = entries[S.var];
    const jobs = [getFrame(S.var, f), e.std ? getFrame(e.std, f) : null,
      index.layer && index.layer !== S.var && entries[index.layer].frames > 0
        ? getFrame(index.layer, Math.min(f, entries[index.layer].frames - 1)) : null];
    try {
      const [main, std, layer] = await Promise.all(jobs);
      if (my !== token) return;
      current = {var: S.var, frame: f, main, std, layer: S.var === index.layer ? main : layer};
      drawMap();
      S.drawn = {var: S.var, frame: f};
      S.lastFrameMs = performance.now() - t0;
      if (S.pixel) readout(S.pixel[0], S.pixel[1]);
      if (f + 1 < S.nFrames) getFrame(S.var, f + 1);  // prefetch
    } catch (err) { showError(err); }
  }

  // -- hover read-out ---------------------------------------------------------------------------
  function layerAt(e, i, j) {
    if (!current || !current.layer || !index.layer) return null;
    const L = entries[index.layer], fr = current.layer;
    let li = i, lj = j;
    if (!(L.group === e.group && L.shape[0] === e.shape[0] && L.shape[1] === e.shape[1])) {
      const y = e.y.first + i * e.y.step, x = e.x.first + j * e.x.step;  // same nm position on the grid
      li = Math.round((y - L.y.first) / L.y.step); lj = Math.round((x - L.x.first) / L.x.step);
      if (li < 0 || lj < 0 || li >= fr.h || lj >= fr.w) return null;
    }
    const v = fr.values[li * fr.w + lj];
    if (!Number.isFinite(v)) return null;
    return labelName(L, v);
  }

  function readout(i, j) {
    const e = entries[current.var], fr = current.main, k = i * fr.w + j;
    const value = fr.values[k], std = current.std ? current.std.values[k] : null;
    const y = e.y.first + i * e.y.step, x = e.x.first + j * e.x.step;
    Object.assign(S, {pixel: [i, j], value: Number.isFinite(value) ? value : null,
      std: std !== null && Number.isFinite(std) ? std : null, position_nm: [y, x], layer: layerAt(e, i, j)});
    let text = e.categorical
      ? `${e.name} = ${labelName(e, value)}`
      : `${e.element ? e.name + "[" + e.element + "]" : e.name} = ${fmt(value)}` +
        (S.std !== null ? ` ± ${fmt(S.std)}` : "") + unitText(e.units);
    text += ` · y = ${fmt(y)} ${e.y.units}, x = ${fmt(x)} ${e.x.units} · pixel (${i}, ${j})`;
    if (S.layer !== null) text += ` · layer: ${S.layer}`;
    $("readout").textContent = text;
  }

  $("map").addEventListener("mousemove", (ev) => {
    if (!current) return;
    const r = $("map").getBoundingClientRect(), fr = current.main;
    const j = Math.floor((ev.clientX - r.left) / r.width * fr.w), i = Math.floor((ev.clientY - r.top) / r.height * fr.h);
    if (i < 0 || j < 0 || i >= fr.h || j >= fr.w) return;
    readout(i, j);
  });

  // -- choosers ---------------------------------------------------------------------------------
  function fillSelect(sel, items, chosen) {
    sel.replaceChildren(...items.map(([value, label]) => {
      const o = document.createElement("option"); o.value = value; o.textContent = label; return o;
    }));
    if (chosen !== undefined) sel.value = chosen;
  }

  function setGroup(group, varId) {
    const list = index.entries.filter((e) => e.group === group);
    fillSelect($("var"), list.map((e) => [e.id, (e.element ? `${e.name} · ${e.element}` : e.name) +
      (e.units && e.units !== "1" ? ` (${e.units})` : "")]));
    $("group").value = group;
    setVar(varId && entries[varId] && entries[varId].group === group ? varId : list[0].id);
  }

  function setVar(varId) {
    const e = entries[varId];
    if (!e) return;
    S.var = varId; S.nFrames = e.frames; S.pixel = null; S.shape = e.shape;
    $("var").value = varId;
    if ($("group").value !== e.group) $("group").value = e.group;
    S.cmap = e.categorical ? "categorical" : e.symmetric ? "diverging" : "viridis";
    $("cmap").value = e.categorical ? "viridis" : S.cmap;
    $("cmap").disabled = $("vmin").disabled = $("vmax").disabled = $("auto-range").disabled = e.categorical;
    resetRange();
    $("frame").max = String(Math.max(0, e.frames - 1));
    $("map-title").textContent = `${e.group} / ${e.name}${e.element ? " · " + e.element : ""}` +
      (e.long_name ? ` — ${e.long_name}` : "");
    $("range-note").textContent = e.range_note + (e.std ? ` · σ from ${e.std}` : "");
    $("readout").textContent = "move the pointer over the map";
    setFrame(Math.min(S.frame, e.frames - 1));
  }

  function resetRange() {
    const e = entries[S.var];
    [S.vmin, S.vmax] = e.range;
    $("vmin").value = fmt(S.vmin); $("vmax").value = fmt(S.vmax);
  }

  function rangeChanged() {
    const lo = parseFloat($("vmin").value), hi = parseFloat($("vmax").value);
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) { S.vmin = lo; S.vmax = hi; drawMap(); }
  }

  // -- play / keys ------------------------------------------------------------------------------
  async function playLoop() {
    while (playing) {
      const t0 = performance.now();
      await setFrame((S.frame + 1) % Math.max(1, S.nFrames));
      await new Promise((r) => setTimeout(r, Math.max(0, 300 - (performance.now() - t0))));
    }
  }
  function setPlaying(on) {
    playing = on && S.nFrames > 1;
    $("play").textContent = playing ? "❚❚ pause" : "▶ play";
    S.playing = playing;
    if (playing) playLoop();
  }

  function showError(err) {
    S.error = String(err && err.message ? err.message : err);
    $("status").textContent = S.error; $("status").className = "error";
  }

  const tlView = window.PerovTimeline($("timeline"), $("event-layer"), (f) => { setPlaying(false); setFrame(f); });

  async function start() {
    try {
      const [idx, tl, ev] = await Promise.all(["index", "timeline", "events"].map((n) =>
        fetch("/api/" + n).then((r) => { if (!r.ok) throw new Error(`/api/${n}: HTTP ${r.status}`); return r.json(); })));
      index = idx; timeline = tl;
      for (const e of index.entries) entries[e.id] = e;
      $("session").textContent = index.session || "";
      document.title = `perovscope · ${index.session || "results"}`;
      for (const [name, href] of Object.entries(index.files || {})) {
        const a = document.createElement("a"); a.href = href; a.textContent = name; $("links").appendChild(a);
      }
      fillSelect($("cmap"), Object.entries(LUT).filter(([k]) => k !== "categorical").map(([k, v]) => [k, v.label]));
      const skip = new Set(["resistance_ohm", "el_intensity", "voltage_V", "current_A", "t_start_s", "t_end_s"]);
      const qs = Object.keys(tl.columns).filter((c) => !skip.has(c));
      fillSelect($("quantity"), qs.map((c) => [c, c + (tl.columns[c].units && tl.columns[c].units !== "1" ? ` (${tl.columns[c].units})` : "")]));
      $("quantity").parentElement.hidden = qs.length === 0;
      tlView.setQuantity(qs[0] || null);
      tlView.setData(tl, ev.events);
      const notReached = ev.events.filter((x) => !(x.frame >= 0)).map((x) => x.name);
      $("events-note").textContent = notReached.length ? "not reached: " + notReached.join(", ") : "";
      if (!index.entries.length) { $("status").textContent = "no maps in this results folder"; S.ready = true; return; }
      fillSelect($("group"), index.groups.map((g) => [g, g]));
      const hash = new URLSearchParams(location.hash.slice(1));
      const first = entries[hash.get("var")] ? hash.get("var") : index.entries[0].id;
      S.frame = parseInt(hash.get("frame") || "0", 10) || 0;
      setGroup(entries[first].group, first);
      $("status").textContent = `${index.entries.length} maps · ${Math.max(...index.entries.map((e) => e.frames))} frames`;
      S.ready = true;
    } catch (err) { showError(err); }
  }

  $("group").addEventListener("change", () => setGroup($("group").value));
  $("var").addEventListener("change", () => setVar($("var").value));
  $("cmap").addEventListener("change", () => { S.cmap = $("cmap").value; drawMap(); });
  $("vmin").addEventListener("change", rangeChanged);
  $("vmax").addEventListener("change", rangeChanged);
  $("auto-range").addEventListener("click", () => { resetRange(); drawMap(); });
  $("frame").addEventListener("input", () => setFrame(parseInt($("frame").value, 10)));
  $("play").addEventListener("click", () => setPlaying(!playing));
  $("prev").addEventListener("click", () => setFrame(S.frame - 1));
  $("next").addEventListener("click", () => setFrame(S.frame + 1));
  $("quantity").addEventListener("change", () => tlView.setQuantity($("quantity").value));
  document.addEventListener("keydown", (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    if (ev.key === "ArrowRight") setFrame(S.frame + 1);
    else if (ev.key === "ArrowLeft") setFrame(S.frame - 1);
    else if (ev.key === " ") { ev.preventDefault(); setPlaying(!playing); }
  });
  window.addEventListener("resize", () => drawMap());
  window.viewerApi = {setFrame, setVar, setGroup, readout: (i, j) => current && readout(i, j)};
  start();
})();
