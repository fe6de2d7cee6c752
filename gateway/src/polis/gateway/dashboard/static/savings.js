"use strict";
Polis.init(async () => {
  const { json, request, el, fmt, param, download } = Polis;
  const scope = param("scope") || "building", id = param("id");
  document.getElementById("title").textContent = `Savings report · ${scope} ${id}`;
  const form = document.getElementById("period-form");
  const field = (name) => document.getElementById(name);
  const today = Polis.now();
  const iso = (d) => d.toISOString().slice(0, 10);
  if (!field("reporting_end").value) {
    const reportingStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 3, 1));
    field("reporting_end").value = iso(today);
    field("reporting_start").value = iso(reportingStart);
    field("baseline_end").value = iso(reportingStart);
    field("baseline_start").value = iso(new Date(Date.UTC(reportingStart.getUTCFullYear() - 1, reportingStart.getUTCMonth(), 1)));
  }
  const query = (extra = {}) => new URLSearchParams(Object.assign({ scope, id,
    baseline_start: `${field("baseline_start").value}T00:00:00Z`, baseline_end: `${field("baseline_end").value}T00:00:00Z`,
    reporting_start: `${field("reporting_start").value}T00:00:00Z`, reporting_end: `${field("reporting_end").value}T00:00:00Z` }, extra));

  // A report asked for earlier (the page's default period) may arrive after a later one:
  // only the latest request may fill the page, and both its calls use the same period.
  let latest = 0;
  async function show() {
    const notice = document.getElementById("report-error");
    notice.hidden = true;
    const run = ++latest;
    const params = query();
    try {
      const report = await json(`/savings/report?${params}`);
      const chart = await (await request(`/savings/chart.svg?${params}`)).text();
      if (run !== latest) return;
      const doc = new DOMParser().parseFromString(chart, "image/svg+xml");
      document.getElementById("chart").replaceChildren(document.importNode(doc.documentElement, true));
      document.getElementById("method").textContent = report.method;
      document.querySelector("#periods tbody").replaceChildren(...report.total.map((p) => el("tr", {},
        el("th", { scope: "row", text: p.period }), el("td", { class: "num", text: fmt(p.baseline_kwh, 0) }),
        el("td", { class: "num", text: fmt(p.actual_kwh, 0) }), el("td", { class: "num", text: fmt(p.avoided_kwh, 0) }),
        el("td", { class: "num", text: fmt(p.avoided_eur, 2) }), el("td", { class: "num", text: fmt(100 * p.fractional_savings, 1) }),
        el("td", { class: "num", text: fmt(p.uncertainty_90_kwh, 0) }))));
    } catch (error) { if (run === latest) Polis.showError("report-error", error); }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  field("csv").addEventListener("click", () =>
    download(`/savings/report?${query({ format: "csv" })}`, `savings-${scope}-${id}.csv`).catch((e) => Polis.showError("report-error", e)));
  await show();
});
