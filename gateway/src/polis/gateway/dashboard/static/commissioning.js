"use strict";
// A building's commissioning report: per zone the learned parameters with their standard
// errors, the held-out figures, accepted or rejected with the reasons, and the fit plot.
const PARAMETERS = {
  tau_h: ["Time constant τ = R·C", "h"],
  r_k_per_kw: ["Resistance R", "K/kW"],
  c_kwh_per_k: ["Heat capacity C", "kWh/K"],
  gains_occupied_kw: ["Gains, occupied", "kW"],
  gains_unoccupied_kw: ["Gains, unoccupied", "kW"],
  solar_aperture_m2: ["Solar aperture", "m²"],
  cop_nominal: ["COP at the reference temperature", ""],
  cop_slope_per_k: ["COP slope", "per K"],
  cop_reference_c: ["COP reference temperature", "°C"],
};

function sig(value) {
  return value === null || value === undefined ? "–" : String(Number(Number(value).toPrecision(3)));
}

Polis.init(async () => {
  const { json, el, fmt, param } = Polis;
  const id = param("b");
  const base = `/buildings/${encodeURIComponent(id)}`;
  const building = await json(base);
  document.title = `Commissioning: ${building.name} · Polis`;
  document.getElementById("title").textContent = `Commissioning: ${building.name}`;
  document.getElementById("back").href = `/dashboard/building?b=${encodeURIComponent(id)}`;
  document.getElementById("back").textContent = `Back to ${building.name}`;

  let report;
  try {
    report = await json(`${base}/commissioning`);
  } catch (error) {
    if (error.status !== 404) throw error;
    const missing = document.getElementById("missing");
    missing.hidden = false;
    missing.textContent = "No commissioning report for this building yet. Run " +
      `python -m polis.optimizer commission --building ${id} --report <the optimizer's reports directory> (docs/commissioning.md).`;
    return;
  }

  const day = (text) => text.slice(0, 10);
  const made = report.generated_at ? ` · report of ${report.generated_at.slice(0, 16).replace("T", " ")} UTC` : "";
  document.getElementById("summary").textContent =
    `History ${day(report.span.since)} to ${day(report.span.until)}${made} · ` +
    `${report.accepted.length} accepted, ${report.rejected.length} rejected`;

  const tau = (zone) => (zone.parameters.find((p) => p.name === "tau_h") || {}).value;
  const verdict = (zone) => el("span", { class: `badge ${zone.accepted ? "accepted" : "rejected"}`,
    text: zone.accepted ? "accepted" : "rejected" });
  const cv = (zone) => (zone.energy_cv === null ? "–" : fmt(100 * zone.energy_cv, 1));
  document.querySelector("#zones tbody").replaceChildren(...report.zones.map((zone) => el("tr", { "data-zone": zone.zone },
    el("th", { scope: "row" }, el("a", { href: `#zone-${zone.zone}`, text: zone.zone })),
    el("td", {}, verdict(zone)),
    el("td", { class: "num", text: sig(tau(zone)) }),
    el("td", { class: "num", text: zone.holdout_rmse_k === null ? "–" : fmt(zone.holdout_rmse_k, 3) }),
    el("td", { class: "num", text: cv(zone) }),
    el("td", { text: zone.reasons.join("; ") || "—" }))));
  document.getElementById("overview").hidden = false;

  const details = document.getElementById("zone-details");
  details.replaceChildren(...report.zones.map(zoneSection));
  await Promise.all(report.zones.filter((zone) => zone.plot).map(showPlot));

  function zoneSection(zone) {
    const section = el("section", { id: `zone-${zone.zone}`, class: "zone", "aria-labelledby": `zone-${zone.zone}-title` },
      el("h2", { id: `zone-${zone.zone}-title` }, `${zone.zone} `, verdict(zone)));
    if (zone.reasons.length) {
      section.append(el("ul", { class: "reasons" }, ...zone.reasons.map((r) => el("li", { class: "error", text: r }))));
    }
    if (zone.parameters.length) {
      section.append(el("div", { class: "table-wrap" }, el("table", { class: "parameters" },
        el("caption", { class: "muted", text: `${zone.structure || "model"}; ± one standard error from the fit (optimistic)` }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Parameter" }), el("th", { scope: "col", class: "num", text: "Value" }),
          el("th", { scope: "col", class: "num", text: "± standard error" }), el("th", { scope: "col", text: "Unit" }))),
        el("tbody", {}, ...zone.parameters.map((p) => {
          const [label, unit] = PARAMETERS[p.name] || [p.name, ""];
          return el("tr", { "data-parameter": p.name }, el("th", { scope: "row", text: label }), el("td", { class: "num", text: sig(p.value) }),
            el("td", { class: "num", text: p.standard_error === null ? "–" : `± ${sig(p.standard_error)}` }), el("td", { text: unit }));
        })))));
    }
    const figures = [];
    if (zone.holdout_rmse_k !== null) figures.push(`held-out RMSE ${fmt(zone.holdout_rmse_k, 3)} K over ${zone.holdout_days} days`);
    if (zone.energy_cv !== null) figures.push(`daily energy CV ${fmt(100 * zone.energy_cv, 1)} %`);
    if (zone.cop_source) figures.push(`COP line: ${zone.cop_source}`);
    if (figures.length) section.append(el("p", { class: "figures", text: figures.join(" · ") }));
    if (zone.plot) {
      section.append(el("figure", {}, el("img", { class: "fit-plot", alt: `Fit of ${zone.zone}: measured zone temperature against the model run 24 hours ahead from each midnight, held-out days shaded; heat pump power and outdoor temperature below.` }),
        el("figcaption", { class: "muted", text: "Measured temperature against the model, 24 h ahead from each midnight (held-out days shaded)." })));
    }
    const used = Object.entries(zone.points);
    if (used.length || zone.notes.length) {
      const more = el("details", {}, el("summary", { text: "Points and notes" }));
      if (used.length) more.append(el("ul", {}, ...used.map(([role, point]) =>
        el("li", { text: `${role}: ${point} (${zone.readings[role] ?? 0} readings)` }))));
      if (zone.notes.length) more.append(el("ul", {}, ...zone.notes.map((n) => el("li", { text: n }))));
      section.append(more);
    }
    return section;
  }

  // The API key cannot ride on an <img> request: fetch the PNG, show it as a data URL.
  async function showPlot(zone) {
    const img = document.querySelector(`#zone-${CSS.escape(zone.zone)} img.fit-plot`);
    try {
      const blob = await (await Polis.request(zone.plot.replace(/^\/api\/v1/, ""))).blob();
      const url = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(blob);
      });
      img.src = url;
    } catch (error) {
      img.replaceWith(el("p", { class: "error", text: `Fit plot unavailable: ${error.message}` }));
    }
  }
});
