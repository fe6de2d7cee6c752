"use strict";
Polis.init(async (me) => {
  const { json, el, fmt, param, lineChart, planTimeline, live } = Polis;
  const id = param("b");
  const building = await json(`/buildings/${encodeURIComponent(id)}`);
  document.title = `${building.name} · Polis`;
  document.getElementById("title").textContent = building.name;
  document.getElementById("meta").textContent =
    `${building.neighbourhood}, ${building.municipality} · ${building.devices} devices · ${building.points} points`;
  document.getElementById("savings-link").href = `/dashboard/savings?scope=building&id=${encodeURIComponent(id)}`;
  PolisAlarms.buildingPanel(id).catch(() => {});
  document.getElementById("commissioning-link").href = `/dashboard/commissioning?b=${encodeURIComponent(id)}`;

  const tbody = document.querySelector("#live tbody");
  const showValues = (values) => {
    tbody.replaceChildren(...values.map((v) => el("tr", {},
      el("td", { text: v.point }), el("td", { class: "num", text: fmt(v.value, 2) }),
      el("td", { text: v.unit }), el("td", { text: v.time.slice(0, 19).replace("T", " ") }))));
  };
  const last = await json(`/readings/last?building=${encodeURIComponent(id)}`);
  showValues(last);
  live(`/buildings/${encodeURIComponent(id)}/live`, showValues).catch(() => {});

  // Energy chart: hourly mean power over the 24 hours up to the newest reading.
  const powers = last.filter((v) => v.quantity === "active_power");
  const newest = last.length ? new Date(Math.max(...last.map((v) => Date.parse(v.time)))) : Polis.now();
  const end = new Date(newest.getTime() + 1000), start = new Date(end.getTime() - 24 * 3600 * 1000);
  const series = [];
  const colours = ["#1f6feb", "#2da44e", "#bf8700", "#8250df"];
  if (powers.length) {
    const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString(), window: "15m", limit: "10000" });
    powers.forEach((p) => query.append("point", p.point));
    const page = await json(`/readings?${query}`);
    powers.forEach((p, i) => series.push({ name: p.point, colour: colours[i % colours.length],
      points: page.items.filter((r) => r.point === p.point).map((r) => [new Date(r.time), r.value]) }));
  }
  const energy = document.getElementById("energy");
  energy.replaceChildren(lineChart(series, { title: `Power at ${building.name}, 15-minute means`, unit: "kW" }),
    el("p", { class: "muted", text: series.map((s) => s.name).join(" · ") }));

  const base = `/buildings/${encodeURIComponent(id)}`;
  const showPlan = async () => {
    const plan = await json(`${base}/plan`);
    const s = plan.expected_savings;
    document.getElementById("plan-summary").replaceChildren(el("p", {},
      el("span", { class: `badge ${plan.mode}`, text: plan.mode.replace("_", "-") }), " ",
      `Expected savings: ${fmt(s.energy_kwh)} kWh, €${fmt(s.cost_eur, 2)}, ${fmt(s.co2_kg)} kg CO₂; peak ${fmt(plan.planned.peak_kw)} kW (baseline ${fmt(plan.baseline.peak_kw)} kW).`));
    document.getElementById("plan").replaceChildren(planTimeline(plan));
    document.getElementById("plan-explanations").replaceChildren(...plan.loads.map((l) =>
      el("li", {}, el("strong", { text: `${l.load_id} (${l.kind}): ` }), l.explanation)));
    document.getElementById("mode").value = plan.mode === "apply" ? "apply" : "dry_run";
  };
  try { await showPlan(); } catch (error) { Polis.showError("plan-error", error); }

  savingsSummary(id).catch(() => {});
  if (me && me.can_control) await controls(id, base, showPlan);
});

async function savingsSummary(id) {
  const { json, fmt } = Polis;
  const now = Polis.now();
  const reportingStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 3, 1));
  const baselineStart = new Date(Date.UTC(reportingStart.getUTCFullYear() - 1, reportingStart.getUTCMonth(), 1));
  const query = new URLSearchParams({ scope: "building", id, baseline_start: baselineStart.toISOString(),
    baseline_end: reportingStart.toISOString(), reporting_start: reportingStart.toISOString(), reporting_end: now.toISOString() });
  const report = await json(`/savings/report?${query}`);
  const total = report.total.find((p) => p.period === "total");
  if (total) {
    document.getElementById("savings-summary").textContent =
      `Last three months: ${fmt(total.avoided_kwh, 0)} kWh avoided (${fmt(100 * total.fractional_savings)} %), €${fmt(total.avoided_eur, 2)}.`;
  }
}

async function controls(id, base, showPlan) {
  const { json, el, fmt } = Polis;
  const answer = document.getElementById("control-answer");
  const say = (text, ok = true) => { answer.className = ok ? "" : "error"; answer.textContent = text; };
  const points = (await json(`${base}/points`)).filter((p) => p.kind === "command");
  document.getElementById("override-point").replaceChildren(...points.map((p) =>
    el("option", { value: p.id, text: `${p.id} (${p.unit}${p.min_value !== null ? `, ${p.min_value}–${p.max_value}` : ""})` })));

  const tbody = document.querySelector("#overrides tbody");
  const showOverrides = async () => {
    const rows = (await json(`${base}/overrides`)).filter((o) => o.status !== "cancelled");
    tbody.replaceChildren(...rows.map((o) => {
      const cancel = el("button", { type: "button", class: "secondary", text: "Cancel" });
      cancel.setAttribute("aria-label", `Cancel override of ${o.point_id}`);
      cancel.addEventListener("click", async () => {
        try { await json(`${base}/overrides/${o.id}`, { method: "DELETE" }); say(`Override ${o.id} cancelled.`); await showOverrides(); }
        catch (error) { say(error.message, false); }
      });
      return el("tr", {}, el("td", { text: o.point_id }), el("td", { class: "num", text: fmt(o.value) }),
        el("td", { text: o.status }), el("td", { text: (o.expires_at || "").slice(0, 16).replace("T", " ") }), el("td", {}, cancel));
    }));
  };
  await showOverrides();

  document.getElementById("mode-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = document.getElementById("mode").value;
    try {
      await json(`${base}/mode`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ mode }) });
      say(`Mode set to ${mode.replace("_", "-")}.`);
      await showPlan();
    } catch (error) { say(error.message, false); }
  });
  document.getElementById("plan-now").addEventListener("click", async () => {
    say("Planning…");
    try {
      const solved = await json(`${base}/plan`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      say(`New plan: ${solved.status}${solved.conflicts.length ? ` (${solved.conflicts.join("; ")})` : ""}.`, solved.status !== "fallback");
      await showPlan();
    } catch (error) { say(error.message, false); }
  });
  document.getElementById("override-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { point_id: document.getElementById("override-point").value,
      value: Number(document.getElementById("override-value").value),
      duration_minutes: Number(document.getElementById("override-minutes").value),
      reason: document.getElementById("override-reason").value };
    try {
      const created = await json(`${base}/overrides`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      say(`Override ${created.status}: ${created.point_id} at ${fmt(created.present_value)}.`, created.status === "applied");
      await showOverrides();
    } catch (error) {
      say(error.problem.field ? `${error.problem.field}: ${error.message}` : error.message, false);
    }
  });
  // Shown only once every handler is attached, so no submit can fall through to the browser.
  document.getElementById("control").hidden = false;
}
