"use strict";
Polis.init(async () => {
  const { json, el, fmt } = Polis;
  const list = document.getElementById("buildings");
  const hoods = document.getElementById("neighbourhoods");
  list.replaceChildren(); hoods.replaceChildren();
  const buildings = await json("/buildings");
  PolisAlarms.portfolioCounts(Object.fromEntries(buildings.map((b) => [b.id, b.name]))).catch(() => {});
  if (!buildings.length) list.append(el("p", { class: "muted", text: "No buildings in your scope." }));
  for (const b of buildings) {
    const power = el("div", { class: "metric", text: "…" });
    list.append(el("article", { class: "card building-card" },
      el("h3", {}, el("a", { href: `/dashboard/building?b=${encodeURIComponent(b.id)}`, text: b.name })),
      el("p", { class: "muted", text: `${b.neighbourhood}, ${b.municipality} · ${b.points} points` }),
      power, el("span", { class: "muted", text: "kW now" })));
    json(`/readings/last?building=${encodeURIComponent(b.id)}`).then((values) => {
      const kw = values.filter((v) => v.quantity === "active_power" && !/pv|solar/i.test(v.device))
        .reduce((sum, v) => sum + v.value, 0);
      power.textContent = values.length ? fmt(kw) : "–";
    }).catch(() => { power.textContent = "–"; });
  }
  const neighbourhoods = await json("/neighbourhoods");
  if (!neighbourhoods.length) hoods.append(el("p", { class: "muted", text: "No neighbourhood aggregates in your scope." }));
  for (const n of neighbourhoods) {
    hoods.append(el("article", { class: "card" },
      el("h3", {}, el("a", { href: `/dashboard/neighbourhood?n=${encodeURIComponent(n.id)}`, text: n.name })),
      el("p", { class: "muted", text: `${n.municipality} · ${n.buildings} buildings` })));
  }
});
