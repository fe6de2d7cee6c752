"use strict";
Polis.init(async () => {
  const { json, el, fmt, param, lineChart, planTimeline, live } = Polis;
  const id = param("b");
  const building = await json(`/buildings/${encodeURIComponent(id)}`);
  document.title = `${building.name} · Polis`;
  document.getElementById("title").textContent = building.name;
  document.getElementById("meta").textContent =
    `${building.neighbourhood}, ${building.municipality} · ${building.devices} devices · ${building.points} points`;
  document.getElementById("savings-link").href = `/dashboard/savings?scope=building&id=${encodeURIComponent(id)}`;

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
  const newest = last.length ? new Date(Math.max(...last.map((v) => Date.parse(v.time)))) : new Date();
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

  try {
    const plan = await json(`/buildings/${encodeURIComponent(id)}/plan`);
    const s = plan.expected_savings;
    document.getElementById("plan-summary").replaceChildren(el("p", {},
      el("span", { class: `badge ${plan.mode}`, text: plan.mode.replace("_", "-") }), " ",
      `Expected savings: ${fmt(s.energy_kwh)} kWh, €${fmt(s.cost_eur, 2)}, ${fmt(s.co2_kg)} kg CO₂; peak ${fmt(plan.planned.peak_kw)} kW (baseline ${fmt(plan.baseline.peak_kw)} kW).`));
    document.getElementById("plan").replaceChildren(planTimeline(plan));
    document.getElementById("plan-explanations").replaceChildren(...plan.loads.map((l) =>
      el("li", {}, el("strong", { text: `${l.load_id} (${l.kind}): ` }), l.explanation)));
  } catch (error) {
    Polis.showError("plan-error", error);
  }
});
