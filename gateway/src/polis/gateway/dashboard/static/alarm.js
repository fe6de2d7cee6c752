"use strict";
// One alarm: what it says, the readings that triggered it, its history, and acknowledgement.
Polis.init(async (me) => {
  const { json, el, svg, fmt, param } = Polis;
  const { when, severityBadge, where } = PolisAlarms;
  const id = param("id");
  const colours = ["#cf222e", "#1f6feb", "#2da44e", "#bf8700", "#8250df"];

  function facts(alarm) {
    const rows = [
      ["Building", el("a", { href: `/dashboard/building?b=${encodeURIComponent(alarm.building)}`, text: alarm.building })],
      ["Subject", alarm.subject || "the building"],
      ["Points", alarm.points.join(", ") || "–"],
      ["First seen (UTC)", when(alarm.first_seen)],
      ["Last seen (UTC)", when(alarm.last_seen)],
    ];
    if (alarm.acknowledged_at) {
      rows.push(["Acknowledged", `${when(alarm.acknowledged_at)} by ${alarm.acknowledged_by}`]);
      rows.push(["Comment", alarm.acknowledged_comment || "–"]);
    }
    if (alarm.cleared_at) rows.push(["Cleared (UTC)", when(alarm.cleared_at)]);
    return rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)]);
  }

  // The evidence's own scale (not from zero: 17 °C against a 20 °C band must show), its
  // range and time span labelled, one polyline per series.
  function evidenceChart(series, { title, unit }) {
    const W = 640, H = 240, L = 64, R = 12, T = 16, B = 28;
    const all = series.flatMap((s) => s.points);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
    root.append(svg("title", {}, title));
    if (!all.length) {
      root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no readings"));
      return root;
    }
    const t0 = Math.min(...all.map((p) => p[0].getTime())), t1 = Math.max(...all.map((p) => p[0].getTime()));
    let lo = Math.min(...all.map((p) => p[1])), hi = Math.max(...all.map((p) => p[1]));
    const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.05 || 1;
    lo -= pad; hi += pad;
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    root.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#8c959f" }));
    root.append(svg("text", { x: 4, y: T + 8, "font-size": 11 }, `${fmt(hi)} ${unit}`));
    root.append(svg("text", { x: 4, y: H - B, "font-size": 11 }, `${fmt(lo)} ${unit}`));
    root.append(svg("text", { x: L, y: H - 8, "font-size": 11 }, when(new Date(t0).toISOString())));
    root.append(svg("text", { x: W - R, y: H - 8, "font-size": 11, "text-anchor": "end" }, when(new Date(t1).toISOString())));
    for (const s of series) {
      const points = s.points.map((p) => `${x(p[0].getTime()).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
      root.append(svg("polyline", { points, fill: "none", stroke: s.colour, "stroke-width": 2, class: "series" }));
      s.points.forEach((p) => root.append(svg("circle", { cx: x(p[0].getTime()).toFixed(1),
        cy: y(p[1]).toFixed(1), r: 2.5, fill: s.colour }, svg("title", {}, `${when(p[0].toISOString())}: ${fmt(p[1], 2)} ${unit}`))));
    }
    return root;
  }

  // One chart per unit: a temperature and a heating power do not share an axis.
  function charts(evidence, alarm) {
    const byUnit = new Map();
    evidence.series.forEach((s, i) => {
      const points = s.times.map((t, j) => [new Date(t), s.values[j]]).filter((p) => p[1] !== null);
      if (!byUnit.has(s.unit)) byUnit.set(s.unit, []);
      byUnit.get(s.unit).push({ name: `${s.label} (${s.point_id})`, colour: colours[i % colours.length], points });
    });
    if (!byUnit.size) return [el("p", { class: "muted", text: "This rule keeps no series; its figures are below." })];
    return [...byUnit].map(([unit, series]) => el("figure", { class: "evidence" },
      evidenceChart(series, { title: `${alarm.rule}: ${series.map((s) => s.name).join(", ")}`, unit }),
      el("figcaption", { class: "muted", text: series.map((s) => `${s.name}, ${unit}`).join(" · ") })));
  }

  function figure(value) { return typeof value === "number" ? fmt(value, 2) : String(value ?? "–"); }

  async function render() {
    const alarm = await json(`/alarms/${encodeURIComponent(id)}`);
    document.title = `${alarm.rule} · ${alarm.building} · Polis`;
    document.getElementById("title").textContent = `${alarm.rule} at ${where(alarm)}`;
    document.getElementById("alarm-summary").replaceChildren(severityBadge(alarm.severity), " ",
      el("span", { class: `badge state-${alarm.state}`, id: "alarm-state", text: alarm.state }), " ", alarm.message);
    document.getElementById("alarm-facts").replaceChildren(...facts(alarm));
    document.getElementById("evidence-charts").replaceChildren(...charts(alarm.evidence, alarm));
    document.querySelector("#evidence-figures tbody").replaceChildren(...Object.entries(alarm.evidence.figures).map(([k, v]) =>
      el("tr", {}, el("th", { scope: "row", text: k }), el("td", { class: "num", text: figure(v) }))));
    document.getElementById("alarm-events").replaceChildren(...alarm.events.map((e) => el("li", {},
      `${when(e.at)} UTC — ${e.kind}${e.actor !== "rules" ? ` by ${e.actor}` : ""} (${e.severity})` +
      (e.detail.comment ? `: “${e.detail.comment}”` : ""))));
    const mayAcknowledge = me && me.can_control && alarm.state === "active" &&
      (me.role === "admin" || me.buildings.includes(alarm.building));
    document.getElementById("acknowledge").hidden = !mayAcknowledge;
    return alarm;
  }

  const answer = document.getElementById("ack-answer");
  document.getElementById("ack-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const comment = document.getElementById("ack-comment").value;
    try {
      await json(`/alarms/${encodeURIComponent(id)}/acknowledge`, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ comment }) });
      answer.className = "";
      answer.textContent = "Acknowledged.";
      await render();
    } catch (error) {
      answer.className = "error";
      answer.textContent = error.problem.field ? `${error.problem.field}: ${error.message}` : error.message;
    }
  });
  await render();
});
