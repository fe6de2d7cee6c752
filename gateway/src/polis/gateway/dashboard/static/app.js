// Polis dashboard: shared helpers. No framework, no CDN; every request goes to /api/v1.
"use strict";

const Polis = (() => {
  const KEY = "polis.apiKey";
  const api = "/api/v1";

  function credentials() { return sessionStorage.getItem(KEY); }

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function request(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    const key = credentials();
    if (key) headers["X-API-Key"] = key;
    const response = await fetch(api + path, Object.assign({}, options, { headers }));
    if (response.status === 401) { showLogin(); }
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, problem);
    }
    return response;
  }

  async function json(path, options) { return (await request(path, options)).json(); }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value; else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function fmt(value, digits = 1) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-GB", {
      maximumFractionDigits: digits, minimumFractionDigits: digits });
  }

  function param(name) { return new URLSearchParams(location.search).get(name); }

  function showError(target, error) {
    const box = document.getElementById(target);
    if (!box) return;
    box.hidden = false;
    box.textContent = error.status === 503
      ? `Temporarily unavailable (${error.problem.service || "service"}); retry shortly.`
      : error.message;
  }

  function showLogin() {
    const login = document.getElementById("login");
    if (!login) return;
    login.hidden = false;
    document.getElementById("content").hidden = true;
    document.getElementById("api-key").focus();
  }

  function init(render) {
    const form = document.getElementById("login-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY, document.getElementById("api-key").value.trim());
      document.getElementById("api-key").value = "";
      start(render);
    });
    document.getElementById("logout").addEventListener("click", () => {
      sessionStorage.removeItem(KEY);
      showLogin();
    });
    if (credentials()) start(render); else showLogin();
  }

  // "Now" is the gateway's: on a simulated clock it is not this browser's time.
  let clock = { at: Date.now(), now: Date.now(), speed: 1 };
  function now() { return new Date(clock.now + (Date.now() - clock.at) * clock.speed); }

  async function syncClock() {
    const sent = Date.now();
    const answer = await json("/clock");
    const received = Date.now();
    clock = { at: (sent + received) / 2, now: Date.parse(answer.now), speed: answer.speed };
    const shown = document.getElementById("clock");
    if (shown && answer.virtual) {
      shown.hidden = false;
      const tick = () => {
        shown.textContent = `Simulated time ${now().toISOString().slice(0, 16).replace("T", " ")} UTC` +
          (clock.speed !== 1 ? ` (×${fmt(clock.speed, 0)})` : "");
      };
      tick();
      setInterval(tick, 1000);
    }
  }

  let me = null;
  async function start(render) {
    document.getElementById("login").hidden = true;
    document.getElementById("content").hidden = false;
    try {
      [me] = await Promise.all([json("/me"), syncClock()]);
      const who = document.getElementById("who-role");
      if (who) who.textContent = me.role.replace("_", " ");
      await render(me);
    } catch (error) { showError("page-error", error); }
  }

  // A line chart of one or more series [{name, colour, points:[[Date, value]]}].
  function lineChart(series, { title, unit }) {
    const W = 640, H = 240, L = 52, R = 12, T = 16, B = 28;
    const all = series.flatMap((s) => s.points);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
    root.append(svg("title", {}, title));
    if (!all.length) {
      root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data"));
      return root;
    }
    const t0 = Math.min(...all.map((p) => p[0].getTime()));
    const t1 = Math.max(...all.map((p) => p[0].getTime()));
    const lo = Math.min(0, ...all.map((p) => p[1]));
    const hi = Math.max(...all.map((p) => p[1])) || 1;
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / Math.max(1e-9, hi - lo)) * (H - T - B);
    root.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), stroke: "#8c959f" }));
    root.append(svg("text", { x: 4, y: T + 8, "font-size": 11 }, `${fmt(hi)} ${unit}`));
    root.append(svg("text", { x: L, y: H - 8, "font-size": 11 }, new Date(t0).toISOString().slice(0, 16).replace("T", " ")));
    root.append(svg("text", { x: W - R, y: H - 8, "font-size": 11, "text-anchor": "end" }, new Date(t1).toISOString().slice(0, 16).replace("T", " ")));
    for (const s of series) {
      const points = s.points.map((p) => `${x(p[0].getTime()).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
      root.append(svg("polyline", { points, fill: "none", stroke: s.colour, "stroke-width": 2, class: "series" }));
    }
    return root;
  }

  // The plan as a timeline: one row per load, bar height by power in each slot.
  function planTimeline(plan) {
    const rows = plan.loads.length, slots = Math.max(1, ...plan.loads.map((l) => l.power_kw.length));
    const W = 640, L = 90, rowH = 36, H = rows * rowH + 24;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "timeline",
      "aria-label": `Plan for ${plan.building}: ${rows} loads over ${slots} slots of ${plan.slot_minutes} minutes` });
    const step = (W - L - 8) / slots;
    plan.loads.forEach((load, i) => {
      const top = i * rowH + 4, peak = Math.max(1e-9, ...load.power_kw.map(Math.abs));
      root.append(svg("text", { x: 4, y: top + rowH / 2 + 4 }, load.load_id));
      const g = svg("g", { class: "load-row" });
      g.append(svg("title", {}, `${load.load_id} (${load.kind}): ${load.explanation}`));
      load.power_kw.forEach((kw, s) => {
        const h = (Math.abs(kw) / peak) * (rowH - 8);
        g.append(svg("rect", { x: (L + s * step).toFixed(1), y: (top + rowH - 4 - h).toFixed(1),
          width: Math.max(0.5, step - 0.5).toFixed(1), height: h.toFixed(1), fill: kw < 0 ? "#2da44e" : "#1f6feb" }));
      });
      root.append(g);
    });
    const start = new Date(plan.start);
    root.append(svg("text", { x: L, y: H - 4 }, start.toISOString().slice(11, 16) + " UTC"));
    root.append(svg("text", { x: W - 8, y: H - 4, "text-anchor": "end" },
      `+${(slots * plan.slot_minutes) / 60} h`));
    return root;
  }

  // Live values: a fetch stream of Server-Sent Events (EventSource cannot send the API key).
  async function live(path, onReadings, signal) {
    const response = await request(path, { signal, headers: { Accept: "text/event-stream" } });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const event = (block.match(/^event: (.*)$/m) || [])[1];
        const data = (block.match(/^data: (.*)$/m) || [])[1];
        if (event === "readings" && data) onReadings(JSON.parse(data));
      }
    }
  }

  async function download(path, filename) {
    const blob = await (await request(path)).blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(link); link.click(); link.remove();
  }

  return { json, request, me: () => me, now, el, svg, fmt, param, init, showError, lineChart, planTimeline, live, download };
})();
