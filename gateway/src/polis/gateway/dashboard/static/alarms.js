"use strict";
// The alarm list: the caller's buildings' alarms, filtered, newest first, a page at a time.
Polis.init(async () => {
  const { json, el, param } = Polis;
  const PAGE = 50;
  const field = (id) => document.getElementById(id);
  const tbody = document.querySelector("#alarm-list tbody");
  const status = field("alarms-status");
  const older = field("alarms-older");

  const buildings = await json("/buildings");
  field("f-building").append(...buildings.map((b) => el("option", { value: b.id, text: b.name })));
  field("f-building").value = param("building") || "";
  field("f-state").value = param("state") || "open";
  field("f-severity").value = param("severity") || "";
  field("f-rule").value = param("rule") || "";

  function query(beforeId) {
    const q = new URLSearchParams({ state: field("f-state").value, limit: String(PAGE) });
    for (const [name, id] of [["building", "f-building"], ["severity", "f-severity"], ["rule", "f-rule"]]) {
      const value = field(id).value.trim();
      if (value) q.set(name, value);
    }
    if (beforeId) q.set("before_id", String(beforeId));
    return q;
  }

  // Only the newest request may fill the list (a slow answer to an older filter is dropped).
  let latest = 0, lastId = null;
  async function show(more = false) {
    const run = ++latest;
    status.textContent = "Loading…";
    try {
      const alarms = await json(`/alarms?${query(more ? lastId : null)}`);
      if (run !== latest) return;
      const shown = PolisAlarms.rows(alarms);
      if (more) tbody.append(...shown); else tbody.replaceChildren(...shown);
      lastId = alarms.length ? alarms[alarms.length - 1].id : lastId;
      older.hidden = alarms.length < PAGE;
      const count = tbody.children.length;
      status.textContent = count ? `${count} alarm${count === 1 ? "" : "s"} shown.` : "No alarms match.";
    } catch (error) {
      if (run === latest) { status.textContent = ""; Polis.showError("page-error", error); }
    }
  }
  field("alarm-filters").addEventListener("submit", (event) => { event.preventDefault(); show(false); });
  older.addEventListener("click", () => show(true));
  await show(false);
});
