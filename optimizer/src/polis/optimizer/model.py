"""CP-SAT model of one or more buildings' flexible loads.

CP-SAT works on integers, so every quantity is scaled deliberately (see docs/optimizer.md):

============  =========================  =============================================
quantity      unit in the model          why
============  =========================  =============================================
power         0.01 kW (10 W)             ``POWER_SCALE = 100``; forecasts rounded to 10 W
energy        ``0.01 kW * dt / 1000``    ``ENERGY_SCALE = 1000``: efficiencies to 0.1 %
temperature   1e-6 K (slacks 1e-3 K)     ``TEMP_SCALE``, ``SLACK_SCALE``; affine in powers
money         1e-7 EUR                   ``MONEY_SCALE = 10**7``; prices to ~0.1 %
============  =========================  =============================================

The model stays tight: no big-M constraints (on/off logic uses enforcement literals and
implications), every variable has the narrowest physical domain, and grid import/export need
no binary because the feed-in price never exceeds the import price.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from polis.optimizer.baseline import BaselineSchedule, building_baseline
from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Neighbourhood,
    ThermalZone,
    WaterTank,
)

POWER_SCALE = 100
ENERGY_SCALE = 1000
TEMP_SCALE = 10**6
SLACK_SCALE = 1000
MONEY_SCALE = 10**7
# transformer overload in the soft neighbourhood model: 100 EUR per kW per slot
OVERLOAD_PENALTY = 100 * MONEY_SCALE // POWER_SCALE

# cp_model expressions mix ints, IntVars and numpy scalars; typed loosely on purpose
LinearExpr = Any


def kw(value: float) -> int:
    return round(value * POWER_SCALE)


def kw_ceil(value: float) -> int:
    return math.ceil(value * POWER_SCALE - 1e-9)


@dataclass(frozen=True)
class Decision:
    """A primary decision variable of one slot and how to read its value off a power series."""

    var: cp_model.IntVar
    slot: int
    rule: Callable[[float], int]  # kW in that slot -> the variable's value


@dataclass(frozen=True)
class DeferrableVars:
    """A deferrable load's on and start literals, by slot of its window."""

    on: Mapping[int, cp_model.IntVar]
    start: Mapping[int, cp_model.IntVar]


@dataclass(frozen=True)
class ZoneVars:
    """A thermal zone's heat pump power per slot and the temperatures it implies."""

    power: tuple[cp_model.IntVar, ...]
    temps: tuple[LinearExpr, ...]  # at the end of each slot, in TEMP_SCALE units
    # comfort slacks (SLACK_SCALE units) per slot; empty for a hard comfort band
    below: tuple[cp_model.IntVar, ...] = ()
    above: tuple[cp_model.IntVar, ...] = ()


@dataclass(frozen=True)
class TankVars:
    """A water tank's heater per slot (an on literal, or a power) and its stored energy."""

    heater: tuple[cp_model.IntVar, ...]
    energy: tuple[cp_model.IntVar, ...]
    on_off: bool


@dataclass(frozen=True)
class EVVars:
    """An EV session's charging power, by slot of the session."""

    power: Mapping[int, cp_model.IntVar]


@dataclass(frozen=True)
class BatteryVars:
    """A battery's charge and discharge power, direction literal and state of charge per slot."""

    charge: tuple[cp_model.IntVar, ...]
    discharge: tuple[cp_model.IntVar, ...]
    charging: tuple[cp_model.IntVar, ...]
    soc: tuple[cp_model.IntVar, ...]


LoadHandles = DeferrableVars | ZoneVars | TankVars | EVVars | BatteryVars


@dataclass(frozen=True)
class LoadVars:
    """One load in the model: its own variables, and what the rest of the solve reads of it.

    ``power`` is the electric power of each slot (model units, 0 where the load cannot run);
    ``decisions`` are the variables that fix everything else about the load once set.
    """

    handles: LoadHandles
    power: tuple[LinearExpr, ...]
    decisions: tuple[Decision, ...]
    penalty: tuple[LinearExpr, ...] = ()

    def decide(self, power_kw: Sequence[float]) -> list[tuple[cp_model.IntVar, int]]:
        """Values of the primary decisions that reproduce ``power_kw``."""
        return [(d.var, d.rule(power_kw[d.slot])) for d in self.decisions]


@dataclass(frozen=True)
class BuildingVars:
    """One building in the model: its loads' variables and its grid exchange per slot."""

    building: Building
    loads: Mapping[str, LoadVars]
    imports: tuple[cp_model.IntVar, ...]
    exports: tuple[cp_model.IntVar, ...]
    shared_pv: tuple[cp_model.IntVar, ...]  # empty without shared PV
    net: tuple[LinearExpr, ...]
    cost_terms: tuple[LinearExpr, ...]
    baseline: BaselineSchedule
    # index of each slot's grid balance constraint (import - export = net demand)
    balance: tuple[int, ...] = ()


@dataclass(frozen=True)
class Coordination:
    """Decomposition inputs for one building: price adders and an import cap per slot."""

    price_adder_eur_per_kwh: Sequence[float] | None = None
    import_cap_kw: Sequence[float] | None = None
    # a soft cap may be exceeded at OVERLOAD_PENALTY, so the as-is schedule stays a first plan
    soft_cap: bool = True


@dataclass
class _Grid:
    """A building's grid exchange while it is added: bounds in, variables out, by slot."""

    uncontrolled: list[int]
    max_import: list[int]
    max_export: list[int]
    shared: list[cp_model.IntVar]
    imports: list[cp_model.IntVar] = field(default_factory=list)
    exports: list[cp_model.IntVar] = field(default_factory=list)
    net: list[LinearExpr] = field(default_factory=list)
    balance: list[int] = field(default_factory=list)


class PlanModel:
    """Builds the CP-SAT model; with ``diagnose`` every hard group gets an assumption."""

    def __init__(self, diagnose: bool = False, soft_transformer: bool = False) -> None:
        self.model = cp_model.CpModel()
        self.diagnose = diagnose
        self.soft_transformer = soft_transformer and not diagnose
        self.overload: list[cp_model.IntVar] = []
        self.groups: dict[int, str] = {}  # assumption literal index -> hard group
        self._literals: dict[str, cp_model.IntVar] = {}  # hard group -> its literal
        self.buildings: dict[str, BuildingVars] = {}
        self.objective_terms: list[LinearExpr] = []
        self.constant_eur = 0.0
        self.hints: list[tuple[cp_model.IntVar, int]] = []
        # decisions that only act as enforcement literals (free in the LP relaxation)
        self.free_literals: set[int] = set()
        self.objective: LinearExpr = 0

    # -- hard constraint groups -------------------------------------------------------------
    def _group(self, name: str) -> cp_model.IntVar | None:
        if not self.diagnose:
            return None
        if name in self._literals:
            return self._literals[name]
        literal = self.model.new_bool_var(name)
        self.groups[literal.index] = name
        self._literals[name] = literal
        self.model.add_assumptions([literal])
        return literal

    def _hard(self, name: str, constraint: cp_model.Constraint) -> None:
        literal = self._group(name)
        if literal is not None:
            constraint.only_enforce_if(literal)

    # -- buildings ------------------------------------------------------------------------
    def add_building(
        self,
        building: Building,
        coordination: Coordination | None = None,
        shared_pv_kw: Sequence[float] | None = None,
        fixed: Mapping[str, Sequence[float]] | None = None,
        others_flow_kw: Sequence[float] | None = None,
        transformer_kw: float | None = None,
    ) -> BuildingVars:
        """Add a building; loads in ``fixed`` keep the given power series (no variables).

        ``others_flow_kw`` and ``transformer_kw`` add the neighbourhood's transformer limit
        for this building alone, the other buildings' flows being fixed (decomposition).
        """
        slots = building.horizon.slots
        baseline = building_baseline(building)
        fixed = fixed or {}
        uncontrolled = [
            kw(
                building.base_load_kw[t]
                - building.pv_kw[t]
                + sum(series[t] for series in fixed.values())
            )
            for t in range(slots)
        ]
        max_import = [max(0, u) for u in uncontrolled]
        max_export = [max(0, -u) for u in uncontrolled]
        loads = self._loads(building, fixed, max_import, max_export)
        shared: list[cp_model.IntVar] = []
        if shared_pv_kw is not None:
            shared = [
                self.model.new_int_var(
                    0, max(0, kw(shared_pv_kw[t])), f"{building.id}/shared_pv[{t}]"
                )
                for t in range(slots)
            ]
        grid = _Grid(uncontrolled, max_import, max_export, shared)
        for t in range(slots):
            self._grid_slot(building.id, t, grid, loads, coordination)
        self._contracted_peak(building, grid.imports)
        terms = self._energy_terms(building, coordination, grid)
        self.constant_eur += building.weights.cost * building.tariff.fixed_eur
        for load_id, lv in loads.items():
            own = next(s for s in baseline.loads if s.load_id == load_id)
            self.hints.extend(lv.decide(own.power_kw))
        if others_flow_kw is not None and transformer_kw is not None:
            self._transformer_rows(
                building.id, [others_flow_kw[t] for t in range(slots)], grid.net, transformer_kw
            )
        self.objective_terms.extend(terms)
        for lv in loads.values():
            self.objective_terms.extend(lv.penalty)
        bv = BuildingVars(
            building,
            loads,
            tuple(grid.imports),
            tuple(grid.exports),
            tuple(shared),
            tuple(grid.net),
            tuple(terms),
            baseline,
            tuple(grid.balance),
        )
        self.buildings[building.id] = bv
        return bv

    def _loads(
        self,
        building: Building,
        fixed: Mapping[str, Sequence[float]],
        max_import: list[int],
        max_export: list[int],
    ) -> dict[str, LoadVars]:
        """Variables of every load not in ``fixed``; widens the grid exchange bounds to fit."""
        horizon = building.horizon
        slots, dt = horizon.slots, horizon.dt_h
        loads: dict[str, LoadVars] = {}
        for load in building.loads:
            if load.id in fixed:
                continue
            name = f"{building.id}/{load.id}"
            if isinstance(load, DeferrableLoad):
                lv = self._deferrable(name, load, slots)
            elif isinstance(load, ThermalZone):
                lv = self._zone(name, load, slots, dt, building.weights.comfort)
            elif isinstance(load, WaterTank):
                lv = self._tank(name, load, slots, dt)
            elif isinstance(load, EVSession):
                lv = self._ev(name, load, slots, dt)
            else:
                lv = self._battery(name, load, slots, dt)
                for t in range(slots):
                    max_export[t] += kw(load.max_discharge_kw)
            loads[load.id] = lv
            upper = _upper_power(load)
            for t in range(slots):
                max_import[t] += upper
        return loads

    def _grid_slot(
        self,
        building_id: str,
        t: int,
        grid: _Grid,
        loads: Mapping[str, LoadVars],
        coordination: Coordination | None,
    ) -> None:
        """Import and export of slot ``t`` and its balance with the building's demand."""
        m = self.model
        flex = sum(lv.power[t] for lv in loads.values())
        expr = grid.uncontrolled[t] + flex
        if grid.shared:
            expr = expr - grid.shared[t]
        hi_imp = grid.max_import[t]
        cap = coordination.import_cap_kw if coordination else None
        capped = None if cap is None else math.floor(cap[t] * POWER_SCALE + 1e-9)
        soft = coordination is not None and coordination.soft_cap
        if capped is not None and not soft:
            hi_imp = max(0, min(hi_imp, capped))
        imp = m.new_int_var(0, hi_imp, f"{building_id}/import[{t}]")
        if capped is not None and soft:
            over = m.new_int_var(0, max(0, hi_imp), f"{building_id}/over_cap[{t}]")
            m.add(imp - over <= max(0, capped))
            self.overload.append(over)
            self.objective_terms.append(OVERLOAD_PENALTY * over)
        exp = m.new_int_var(0, grid.max_export[t], f"{building_id}/export[{t}]")
        grid.balance.append(m.add(imp - exp == expr).index)
        grid.imports.append(imp)
        grid.exports.append(exp)
        grid.net.append(imp - exp)

    def _contracted_peak(self, building: Building, imports: Sequence[cp_model.IntVar]) -> None:
        peak_kw = building.tariff.contracted_peak_kw
        if peak_kw is None:
            return
        limit = math.floor(peak_kw * POWER_SCALE + 1e-9)
        group = f"{building.id}: contracted peak {peak_kw:g} kW"
        for imp in imports:
            self._hard(group, self.model.add(imp <= limit))

    def _energy_terms(
        self, building: Building, coordination: Coordination | None, grid: _Grid
    ) -> list[LinearExpr]:
        """The building's energy, CO2 and demand charge terms of the objective (1e-7 EUR)."""
        tariff, weights = building.tariff, building.weights
        adder = coordination.price_adder_eur_per_kwh if coordination else None
        terms: list[LinearExpr] = []
        unit_kwh = building.horizon.dt_h / POWER_SCALE
        for t, (imp, exp) in enumerate(zip(grid.imports, grid.exports, strict=True)):
            price = (
                weights.cost * tariff.import_eur_per_kwh[t]
                + weights.co2_eur_per_kg * tariff.co2_kg_per_kwh[t]
            )
            if adder is not None:
                price += adder[t]
            feed = weights.cost * tariff.feed_in_eur_per_kwh[t]
            terms.append(round(price * unit_kwh * MONEY_SCALE) * imp)
            terms.append(-round(feed * unit_kwh * MONEY_SCALE) * exp)
        if tariff.demand_charge_eur_per_kw > 0:
            already = kw(tariff.peak_already_kw)
            top = max(already, *grid.max_import)
            peak = self.model.new_int_var(already, top, f"{building.id}/peak")
            for imp in grid.imports:
                self.model.add(peak >= imp)
            coef = round(weights.cost * tariff.demand_charge_eur_per_kw / POWER_SCALE * MONEY_SCALE)
            terms.append(coef * (peak - already))
        return terms

    def _deferrable(self, name: str, load: DeferrableLoad, slots: int) -> LoadVars:
        m = self.model
        window = range(load.earliest, min(load.latest, slots))
        on = {t: m.new_bool_var(f"{name}/on[{t}]") for t in window}
        start = {t: m.new_bool_var(f"{name}/start[{t}]") for t in window}
        self._hard(
            f"{name}: run {load.run_slots} slots in window",
            m.add(sum(on.values()) == load.run_slots),
        )
        switching = f"{name}: min run/off and max starts"
        for t in window:
            self._switching(switching, load, on, start, t)
        if load.max_starts is not None:
            self._hard(switching, m.add(sum(start.values()) <= load.max_starts))
        p = kw(load.power_kw)
        power: list[LinearExpr] = [p * on[t] if t in on else 0 for t in range(slots)]
        decisions = tuple(Decision(on[t], t, _positive) for t in window)
        return LoadVars(DeferrableVars(on, start), tuple(power), decisions)

    def _switching(
        self,
        group: str,
        load: DeferrableLoad,
        on: Mapping[int, cp_model.IntVar],
        start: Mapping[int, cp_model.IntVar],
        t: int,
    ) -> None:
        """What a start in slot ``t`` means: a run begins, lasts and follows a pause."""
        m = self.model
        prev = on.get(t - 1)
        if prev is None:
            m.add(start[t] == on[t])
        else:
            m.add(start[t] >= on[t] - prev)
            m.add(start[t] + prev <= 1)
        m.add_implication(start[t], on[t])
        for k in range(1, load.min_run_slots):
            follower = on.get(t + k)
            if follower is None:
                self._hard(group, m.add(start[t] == 0))
                break
            self._hard(group, m.add(follower >= start[t]))
        for k in range(1, load.min_off_slots + 1):
            before = on.get(t - k)
            if before is not None and k > 1:
                self._hard(group, m.add(start[t] + before <= 1))

    def _zone(
        self, name: str, zone: ThermalZone, slots: int, dt: float, comfort_weight: float
    ) -> LoadVars:
        """Zone temperature as the free response plus the step responses of the heat pump.

        Writing ``T[t]`` as an affine function of past powers (rather than as a state
        variable chained by equalities with fractional coefficients) keeps every constraint an
        inequality with exact integer terms, which CP-SAT propagates and relaxes well.
        """
        m = self.model
        a = zone.decay(dt)
        if zone.levels_kw is None:
            domain = cp_model.Domain(0, kw(zone.max_kw))
        else:
            domain = cp_model.Domain.from_values(sorted({kw(v) for v in zone.levels_kw} | {0}))
        power = [m.new_int_var_from_domain(domain, f"{name}/p[{t}]") for t in range(slots)]
        gain = [
            (1 - a) * zone.r_k_per_kw * zone.cop[t] * zone.sign / POWER_SCALE * TEMP_SCALE
            for t in range(slots)
        ]
        temps: list[LinearExpr] = []
        free = zone.initial_temp_c
        for t in range(slots):
            free = a * free + (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * zone.gains_kw[t])
            coefs = [round(gain[s] * a ** (t - s)) for s in range(t + 1)]
            temps.append(
                round(free * TEMP_SCALE) + cp_model.LinearExpr.weighted_sum(power[: t + 1], coefs)
            )
        handles = self._comfort(name, zone, power, temps)
        # comfort slacks are counted in mK (SLACK_SCALE) so the penalty coefficient stays exact
        pen_coef = round(
            comfort_weight * zone.comfort_penalty_eur_per_kh * dt / SLACK_SCALE * MONEY_SCALE
        )
        penalty = tuple(
            pen_coef * (below + above)
            for below, above in zip(handles.below, handles.above, strict=True)
        )
        snap = _snapper(domain)
        decisions = tuple(Decision(power[t], t, snap) for t in range(slots))
        return LoadVars(handles, tuple(power), decisions, penalty)

    def _comfort(
        self,
        name: str,
        zone: ThermalZone,
        power: Sequence[cp_model.IntVar],
        temps: Sequence[LinearExpr],
    ) -> ZoneVars:
        """The comfort band on the zone's temperatures: hard, or soft with slacks per slot."""
        m = self.model
        group = f"{name}: comfort band"
        per_slack = TEMP_SCALE // SLACK_SCALE
        span = 60 * SLACK_SCALE
        below: list[cp_model.IntVar] = []
        above: list[cp_model.IntVar] = []
        for t, temp in enumerate(temps):
            lo = round(zone.comfort_lo[t] * TEMP_SCALE)
            hi = round(zone.comfort_hi[t] * TEMP_SCALE)
            if zone.comfort_hard:
                self._hard(group, m.add(temp >= lo))
                self._hard(group, m.add(temp <= hi))
                continue
            under = m.new_int_var(0, span, f"{name}/below[{t}]")
            over = m.new_int_var(0, span, f"{name}/above[{t}]")
            m.add(temp + per_slack * under >= lo)
            m.add(temp - per_slack * over <= hi)
            below.append(under)
            above.append(over)
        return ZoneVars(tuple(power), tuple(temps), tuple(below), tuple(above))

    def _tank(self, name: str, tank: WaterTank, slots: int, dt: float) -> LoadVars:
        m = self.model
        unit = dt / POWER_SCALE / ENERGY_SCALE  # kWh per energy unit
        heater: list[cp_model.IntVar]
        if tank.on_off:
            heater = [m.new_bool_var(f"{name}/on[{t}]") for t in range(slots)]
            power: list[LinearExpr] = [kw(tank.heater_kw) * v for v in heater]
            rule: Callable[[float], int] = _positive
        else:
            heater = [m.new_int_var(0, kw(tank.heater_kw), f"{name}/p[{t}]") for t in range(slots)]
            power = list(heater)
            rule = _snapper(cp_model.Domain(0, kw(tank.heater_kw)), down=True)
        limits = f"{name}: storage limits"
        lo, hi = math.ceil(tank.min_kwh / unit - 1e-6), math.floor(tank.max_kwh / unit + 1e-6)
        level: LinearExpr = round(tank.initial_kwh / unit)
        eff = round(tank.efficiency * ENERGY_SCALE)
        states = []
        for t in range(slots):
            loss = round((tank.draw_kwh[t] + tank.loss_kw * dt) / unit)
            state = self._state(f"{name}/E[{t}]", lo, hi, limits)
            m.add(state == level + eff * power[t] - loss)
            states.append(state)
            level = state
        decisions = tuple(Decision(heater[t], t, rule) for t in range(slots))
        handles = TankVars(tuple(heater), tuple(states), tank.on_off)
        return LoadVars(handles, tuple(power), decisions)

    def _state(self, name: str, lo: int, hi: int, group: str) -> cp_model.IntVar:
        """A storage state within ``lo``..``hi``: its domain, or a hard group when diagnosing."""
        if not self.diagnose:
            return self.model.new_int_var(lo, hi, name)
        state = self.model.new_int_var(-(10**12), 10**12, name)
        self._hard(group, self.model.add(state >= lo))
        self._hard(group, self.model.add(state <= hi))
        return state

    def _ev(self, name: str, ev: EVSession, slots: int, dt: float) -> LoadVars:
        m = self.model
        domain = cp_model.Domain.from_intervals([[0, 0], [kw_ceil(ev.min_kw), kw(ev.max_kw)]])
        window = range(ev.arrival, min(ev.departure, slots))
        power_vars = {t: m.new_int_var_from_domain(domain, f"{name}/p[{t}]") for t in window}
        unit = dt / POWER_SCALE / ENERGY_SCALE
        need = math.ceil(ev.energy_kwh / unit - 1e-6)
        eff = round(ev.efficiency * ENERGY_SCALE)
        self._hard(
            f"{name}: {ev.energy_kwh:g} kWh by departure",
            m.add(eff * sum(power_vars.values()) >= need),
        )
        power: list[LinearExpr] = [power_vars.get(t, 0) for t in range(slots)]
        snap = _snapper(domain, up=True)
        decisions = tuple(Decision(v, t, snap) for t, v in power_vars.items())
        return LoadVars(EVVars(power_vars), tuple(power), decisions)

    def _battery(self, name: str, bat: Battery, slots: int, dt: float) -> LoadVars:
        m = self.model
        unit = dt / POWER_SCALE / ENERGY_SCALE
        charge_eff = round(bat.charge_efficiency * ENERGY_SCALE)
        discharge_eff = round(ENERGY_SCALE / bat.discharge_efficiency)
        lo, hi = math.ceil(bat.min_kwh / unit - 1e-6), math.floor(bat.upper_kwh / unit + 1e-6)
        limits = f"{name}: state-of-charge limits"
        level: LinearExpr = round(bat.initial_kwh / unit)
        charge: list[cp_model.IntVar] = []
        discharge: list[cp_model.IntVar] = []
        charging: list[cp_model.IntVar] = []
        socs: list[cp_model.IntVar] = []
        decisions: list[Decision] = []
        for t in range(slots):
            c = m.new_int_var(0, kw(bat.max_charge_kw), f"{name}/c[{t}]")
            d = m.new_int_var(0, kw(bat.max_discharge_kw), f"{name}/d[{t}]")
            direction = m.new_bool_var(f"{name}/charging[{t}]")
            self.free_literals.add(direction.index)
            m.add(c == 0).only_enforce_if(~direction)
            m.add(d == 0).only_enforce_if(direction)
            soc = self._state(f"{name}/soc[{t}]", lo, hi, limits)
            m.add(soc == level + charge_eff * c - discharge_eff * d)
            level = soc
            charge.append(c)
            discharge.append(d)
            charging.append(direction)
            socs.append(soc)
            decisions += [
                Decision(c, t, _snapper(cp_model.Domain(0, kw(bat.max_charge_kw)))),
                Decision(d, t, _snapper(cp_model.Domain(0, kw(bat.max_discharge_kw)), sign=-1)),
                Decision(direction, t, _positive),
            ]
        terminal = math.ceil(min(bat.terminal_kwh, bat.upper_kwh) / unit - 1e-6)
        self._hard(f"{name}: end-of-horizon charge", m.add(level >= terminal))
        handles = BatteryVars(tuple(charge), tuple(discharge), tuple(charging), tuple(socs))
        power = tuple(c - d for c, d in zip(charge, discharge, strict=True))
        return LoadVars(handles, power, tuple(decisions))

    # -- neighbourhood coupling ----------------------------------------------------------------
    def add_neighbourhood(self, hood: Neighbourhood) -> None:
        for building in hood.buildings:
            self.add_building(building, shared_pv_kw=hood.shared_pv_kw)
        slots = hood.buildings[0].horizon.slots if hood.buildings else 0
        if hood.shared_pv_kw is not None:
            dt = hood.buildings[0].horizon.dt_h
            feed = hood.shared_feed_in_eur_per_kwh or (0.0,) * slots
            for t in range(slots):
                used = [bv.shared_pv[t] for bv in self.buildings.values()]
                self.model.add(sum(used) <= kw(hood.shared_pv_kw[t]))
                # shared PV not used by the members is sold at the community feed-in price
                coef = round(feed[t] * dt / POWER_SCALE * MONEY_SCALE)
                self.objective_terms.append(coef * sum(used))
                self.constant_eur -= feed[t] * hood.shared_pv_kw[t] * dt
        for t in range(slots):
            limit_kw = hood.limit_kw(t)
            if limit_kw is None:
                continue
            limit = math.floor(limit_kw * POWER_SCALE + 1e-9)
            group = f"{hood.id}: transformer limit {limit_kw:g} kW"
            flow = sum(bv.net[t] for bv in self.buildings.values())
            if hood.shared_pv_kw is not None:
                flow = flow - (
                    kw(hood.shared_pv_kw[t])
                    - sum(bv.shared_pv[t] for bv in self.buildings.values())
                )
            self._limit_flow(group, flow, limit, f"{hood.id}/overload[{t}]")

    def _limit_flow(self, group: str, flow: LinearExpr, limit: int, name: str) -> None:
        if self.soft_transformer:
            # overload is allowed at a prohibitive price, so the as-is schedule is a first
            # plan; a plan is only published as feasible with zero overload, and the bound
            # stays valid (the soft model relaxes the hard one)
            over = self.model.new_int_var(0, 10**9, name)
            self.model.add(flow - over <= limit)
            self.model.add(flow + over >= -limit)
            self.overload.append(over)
            self.objective_terms.append(OVERLOAD_PENALTY * over)
        else:
            self._hard(group, self.model.add(flow <= limit))
            self._hard(group, self.model.add(flow >= -limit))

    def _transformer_rows(
        self, building: str, others_kw: list[float], net: list[LinearExpr], limit_kw: float
    ) -> None:
        limit = math.floor(limit_kw * POWER_SCALE + 1e-9)
        group = f"transformer limit {limit_kw:g} kW"
        for t, other in enumerate(others_kw):
            self._limit_flow(group, kw(other) + net[t], limit, f"{building}/overload[{t}]")

    def finish(self) -> None:
        """Set the objective (in 1e-7 EUR, fixed charges included as a constant)."""
        offset = round(self.constant_eur * MONEY_SCALE)
        self.objective = sum(self.objective_terms) + offset
        self.model.minimize(self.objective)


def _positive(value: float) -> int:
    return int(value > 1e-9)


def _snapper(
    domain: cp_model.Domain, sign: int = 1, up: bool = False, down: bool = False
) -> Callable[[float], int]:
    """Round a kW value (times ``sign``, clipped at 0) to the nearest value in ``domain``.

    ``up`` rounds up to the power unit first, for energy that must be delivered in full;
    ``down`` rounds down, for storage that must not overflow.
    """
    bounds = domain.flattened_intervals()
    intervals = list(zip(bounds[::2], bounds[1::2], strict=True))

    def snap(value: float) -> int:
        scaled = sign * value * POWER_SCALE
        exact = math.ceil(scaled - 1e-6) if up else math.floor(scaled + 1e-6) if down else None
        target = max(0, exact if exact is not None else kw(sign * value))
        best, distance = intervals[0][0], math.inf
        for lo, hi in intervals:
            candidate = min(max(target, lo), hi)
            if abs(candidate - target) < distance:
                best, distance = candidate, abs(candidate - target)
        return int(best)

    return snap


def _upper_power(load: object) -> int:
    if isinstance(load, DeferrableLoad):
        return kw(load.power_kw)
    if isinstance(load, ThermalZone):
        return kw(load.max_kw)
    if isinstance(load, WaterTank):
        return kw(load.heater_kw)
    if isinstance(load, EVSession):
        return kw(load.max_kw)
    if isinstance(load, Battery):
        return kw(load.max_charge_kw)
    raise TypeError(type(load).__name__)
