"use strict";
Polis.init(async () => {
  const { json, fmt, param } = Polis;
  const id = param("n");
  document.getElementById("title").textContent = `Neighbourhood ${id}`;
  document.getElementById("savings-link").href = `/dashboard/savings?scope=neighbourhood&id=${encodeURIComponent(id)}`;

  const form = document.getElementById("flex-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = document.getElementById("flex-answer");
    const utc = (name) => `${document.getElementById(name).value}:00Z`;
    try {
      const response = await json(`/neighbourhoods/${encodeURIComponent(id)}/flexibility-requests`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ window_start: utc("window_start"), window_end: utc("window_end"),
          peak_limit_kw: Number(document.getElementById("peak_limit_kw").value) }) });
      answer.className = "";
      answer.textContent = `${response.outcome}: planned peak ${fmt(response.achieved_peak_kw)} kW, ` +
        `reduction ${fmt(response.reduction_kw)} kW. ${response.message}`;
    } catch (error) {
      answer.className = "error";
      answer.textContent = error.problem.field ? `${error.problem.field}: ${error.message}` : error.message;
    }
  });

  // Handlers first, data second: a quick submit never falls through to a page reload.
  const agg = await json(`/neighbourhoods/${encodeURIComponent(id)}/aggregate`);
  document.getElementById("load").textContent = fmt(agg.load_kw);
  document.getElementById("pv").textContent = fmt(agg.pv_kw);
  document.getElementById("flex").textContent = agg.flexibility_kw === null ? "unavailable" : fmt(agg.flexibility_kw);
});
