// Alarms in other pages: a building's open alarms, the portfolio's counts by severity, and
// the pieces the alarm pages share. Every call goes to /api/v1/alarms.
"use strict";

const PolisAlarms = (() => {
  const SEVERITIES = ["critical", "major", "warning", "info"];

  function when(text) { return text ? text.slice(0, 16).replace("T", " ") : "–"; }

  function severityBadge(severity) {
    return Polis.el("span", { class: `badge sev-${severity}`, text: severity });
  }

  function where(alarm) { return alarm.subject ? `${alarm.building} · ${alarm.subject}` : alarm.building; }

  function link(alarm, text) {
    return Polis.el("a", { href: `/dashboard/alarm?id=${alarm.id}`, text });
  }

  // Rows of an alarms table: severity, rule (a link to the alarm), where, message, times.
  function rows(alarms, { building = true } = {}) {
    const { el } = Polis;
    return alarms.map((a) => el("tr", { "data-alarm": a.id, "data-rule": a.rule },
      el("td", {}, severityBadge(a.severity)),
      el("th", { scope: "row" }, link(a, a.rule)),
      building ? el("td", { text: where(a) }) : el("td", { text: a.subject || "–" }),
      el("td", { text: a.message }),
      el("td", { text: when(a.first_seen) }),
      el("td", { text: when(a.last_seen) }),
      el("td", { class: `state-${a.state}`, text: a.state })));
  }

  // Not for this role (a neighbourhood scheme sees no building's alarms): say so, quietly.
  function forbidden(error) { return error && error.status === 403; }

  // A building page's panel: its open alarms, newest first.
  async function buildingPanel(building) {
    const section = document.getElementById("alarms-panel");
    if (!section) return;
    const tbody = section.querySelector("tbody");
    const status = document.getElementById("alarms-status");
    document.getElementById("alarms-all").href = `/dashboard/alarms?building=${encodeURIComponent(building)}`;
    document.getElementById("alarms-history").href =
      `/dashboard/alarms?building=${encodeURIComponent(building)}&state=cleared`;
    try {
      const open = await Polis.json(`/alarms?${new URLSearchParams({ building, state: "open" })}`);
      tbody.replaceChildren(...rows(open, { building: false }));
      status.textContent = open.length ? `${open.length} open` : "No open alarms.";
      section.hidden = false;
    } catch (error) {
      if (!forbidden(error)) { section.hidden = false; Polis.showError("alarms-status", error); }
    }
  }

  // The portfolio's counts: open alarms per building and severity, with the totals.
  async function portfolioCounts(names) {
    const section = document.getElementById("alarm-counts");
    if (!section) return;
    const { el } = Polis;
    let summary;
    try { summary = await Polis.json("/alarms/summary"); }
    catch (error) { if (!forbidden(error)) { section.hidden = false; Polis.showError("alarm-counts-status", error); } return; }
    const totals = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    const body = summary.map((b) => {
      SEVERITIES.forEach((s) => { totals[s] += b.counts[s] || 0; });
      const href = `/dashboard/alarms?building=${encodeURIComponent(b.building)}`;
      return el("tr", { "data-building": b.building },
        el("th", { scope: "row" }, el("a", { href, text: names[b.building] || b.building })),
        ...SEVERITIES.map((s) => el("td", { class: `num${b.counts[s] ? ` sev-${s}` : ""}`, text: String(b.counts[s] || 0) })));
    });
    section.querySelector("tbody").replaceChildren(...body);
    section.querySelector("tfoot").replaceChildren(el("tr", {}, el("th", { scope: "row", text: "All buildings" }),
      ...SEVERITIES.map((s) => el("td", { class: "num", "data-total": s, text: String(totals[s]) }))));
    document.getElementById("alarm-counts-status").textContent =
      summary.length ? "" : "No open alarms in your buildings.";
    section.hidden = false;
  }

  return { SEVERITIES, when, severityBadge, where, rows, buildingPanel, portfolioCounts };
})();
