"""The catalogue's ``alarms:`` section: which alarm rules run, with which thresholds, where.

Every rule has built-in defaults (an empty or absent section runs every rule with them).
``rules:`` changes a rule's defaults for the whole municipality; each entry of ``overrides:``
changes them for one building, or one zone (an ``hvac`` load), device or point in it. Only the
fields an entry writes change; the most specific entry wins (building, then zone, then device,
then point; later entries over earlier ones of the same kind)::

    alarms:
      rules:
        comfort.too_cold: {raise_margin_k: 2.0, raise_after_min: 45}
        energy.after_hours: {enabled: false}
      overrides:
        - building: sports-hall
          zone: pool-hall
          rules:
            comfort.too_hot: {raise_margin_k: 3.0, clear_margin_k: 1.0}
        - building: town-hall
          point: town-hall-bms/outdoor-air-temperature
          rules:
            sensor.flatlined: {enabled: false}

Hysteresis: a rule raises on one condition and clears on a weaker one (``raise_*`` and
``clear_*`` thresholds or durations); between the two an open alarm stays open and a closed
one stays closed. Each rule's ``hysteresis`` pairs must stay ordered once every entry that
covers a subject is merged (checked by ``polis.common.catalogue.references``). What each
parameter means, and why its default: docs/alarms.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polis.common.catalogue.ids import ID_PATTERN

SeverityName = Literal["info", "warning", "major", "critical"]
Minutes = Annotated[float, Field(gt=0, le=7 * 24 * 60)]
Fraction = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
QualityFlag = Literal["out_of_range", "reset", "missing", "stale"]


class RuleParams(BaseModel):
    """What every rule has: whether it runs, and the severity of its alarms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    severity: SeverityName = "warning"
    # (clear, raise) settings whose order leaves a hysteresis band: the clear one must not
    # exceed the raise one
    hysteresis: ClassVar[tuple[tuple[str, str], ...]] = ()

    def consistency(self) -> list[str]:
        """What is wrong between this rule's fields (checked once the fields of every entry
        covering a subject are merged with the defaults they change)."""
        problems = []
        for lower, upper in self.hysteresis:
            low, high = getattr(self, lower), getattr(self, upper)
            if low > high:
                problems.append(f"{lower} ({low:g}) must not exceed {upper} ({high:g})")
        return problems


class StaleParams(RuleParams):
    """communication.stale: a device (or one point of a device that still answers) without a
    measured reading (quality other than ``missing``) for too long."""

    hysteresis = (("clear_within_intervals", "raise_after_intervals"),)
    severity: SeverityName = "major"
    point_severity: SeverityName = "warning"  # a single point of a device that still answers
    raise_after_intervals: Positive = 5.0  # poll intervals without a measured reading
    raise_after_min: Minutes = 10.0  # ... and at least this long
    clear_within_intervals: Positive = 2.0  # a measured reading this recent clears


class QualityParams(RuleParams):
    """communication.quality: the share of a device's readings flagged by the adapter."""

    hysteresis = (("clear_rate", "raise_rate"),)
    flags: tuple[QualityFlag, ...] = ("out_of_range", "reset", "missing")
    window_min: Minutes = 60.0
    raise_rate: Fraction = 0.2
    clear_rate: Fraction = 0.05
    min_readings: Annotated[int, Field(ge=1)] = 10  # a point with fewer is not judged


class ComfortParams(RuleParams):
    """comfort.too_cold / comfort.too_hot: a zone outside its occupied comfort band, widened
    by ``raise_margin_k``, for longer than ``raise_after_min`` of occupancy."""

    hysteresis = (("clear_margin_k", "raise_margin_k"),)
    raise_margin_k: NonNegative = 1.5
    clear_margin_k: NonNegative = 0.5  # back within the band widened by this clears
    raise_after_min: Minutes = 60.0
    clear_after_min: Minutes = 15.0
    startup_grace_min: Annotated[float, Field(ge=0, le=24 * 60)] = 60.0
    # the upper comfort limit is at least this (EN 16798-1 category II, summer)
    upper_limit_c: float = 26.0
    # the lower limit of a zone without comfort periods, judged in its calendar's hours
    # (EN 16798-1 category II, winter)
    default_lo_c: float = 20.0
    full_power: Fraction = 0.9  # heating (cooling) output that counts as the plant at full power
    # a zone warming (cooling) towards its band at least this fast is recovering, not faulty
    recovering_k_per_h: NonNegative = 0.3
    # the severity when the plant ran at full output (or the zone has no cooling) and still
    # could not hold the band: undersized or degraded rather than mis-controlled; None: severity
    under_capacity_severity: SeverityName | None = None


class SimultaneousParams(RuleParams):
    """hvac.simultaneous_heat_cool: heating and cooling output in one zone at once."""

    severity: SeverityName = "major"
    raise_output: Fraction = 0.05  # both outputs at least this (share of full) ...
    raise_after_min: Minutes = 15.0  # ... throughout this long
    clear_after_min: Minutes = 15.0  # never both for this long clears


class HeatingLimitParams(RuleParams):
    """hvac.heating_above_limit: heating while the outdoor air is above the zone's heating
    limit (its ``heating_limit_c`` in the catalogue, else its occupied comfort bound less
    ``limit_below_band_k``) by more than ``raise_margin_k``."""

    hysteresis = (("clear_margin_k", "raise_margin_k"),)
    limit_below_band_k: float = 4.0
    raise_margin_k: NonNegative = 2.0
    clear_margin_k: float = 1.0
    raise_output: Fraction = 0.2  # mean heating output (share of full) that counts as heating
    raise_after_min: Minutes = 60.0
    clear_after_min: Minutes = 30.0


class ShortCyclingParams(RuleParams):
    """hvac.short_cycling: heat-pump starts per hour."""

    hysteresis = (("clear_starts", "raise_starts"),)
    window_min: Minutes = 60.0
    raise_starts: Annotated[int, Field(ge=1)] = 6
    clear_starts: Annotated[int, Field(ge=0)] = 3


class FlatlineParams(RuleParams):
    """sensor.flatlined: a temperature sensor whose value does not move while its plant runs."""

    tolerance: NonNegative = 0.01  # spread (max - min) at or below this is "no change"
    raise_after_min: Minutes = 240.0
    clear_after_min: Minutes = 30.0
    plant_running: Fraction = 0.05  # mean output of the zone's heat pump that counts as running


class BaselineParams(RuleParams):
    """energy.above_baseline: consumption above the accepted baseline model's expectation."""

    hysteresis = (("clear_sigmas", "raise_sigmas"),)
    raise_sigmas: NonNegative = 3.0
    clear_sigmas: NonNegative = 2.0
    min_excess: NonNegative = 0.1  # and at least this share above the expectation
    min_kwh: NonNegative = 5.0  # and at least this many kWh above it


class AfterHoursParams(RuleParams):
    """energy.after_hours: mean power while unoccupied above the unoccupied expectation."""

    hysteresis = (("clear_sigmas", "raise_sigmas"),)
    window_min: Minutes = 120.0  # the last unoccupied stretch judged
    # hours this close to the next opening are the morning start (heating up), not after hours
    before_opening_min: Annotated[float, Field(ge=0, le=24 * 60)] = 180.0
    # and hours this soon after closing are the evening's wind-down (the last staff and the
    # cleaners, the plant pulling the zones to their setback), not after hours either
    after_closing_min: Annotated[float, Field(ge=0, le=24 * 60)] = 120.0
    raise_sigmas: NonNegative = 3.0
    clear_sigmas: NonNegative = 2.0
    min_excess: NonNegative = 0.2
    min_kw: NonNegative = 1.0


class PeakParams(RuleParams):
    """energy.peak_limit: a 15-minute demand above the building's contracted peak."""

    hysteresis = (("clear_fraction", "raise_fraction"),)
    severity: SeverityName = "major"
    window_min: Minutes = 60.0  # the demands judged: the last hour's quarter hours
    raise_fraction: Positive = 1.0  # of the contracted peak
    clear_fraction: Positive = 0.9


class OverrideLongParams(RuleParams):
    """control.override_long: an operator override in force for longer than this."""

    raise_after_min: Minutes = 24 * 60.0


class FallbackParams(RuleParams):
    """control.fallback_plan: a building on the optimizer's fallback plan for this long."""

    raise_after_min: Minutes = 60.0


class RefusedParams(RuleParams):
    """control.command_refused: refused commands of one point within a window."""

    window_min: Minutes = 60.0
    raise_count: Annotated[int, Field(ge=1)] = 1
    clear_after_min: Minutes = 60.0  # no refusal for this long clears


class ChargerParams(RuleParams):
    """ev.charger_faulted: an OCPP connector unavailable or faulted (status 7 or 8)."""

    raise_after_min: Minutes = 15.0
    clear_after_min: Minutes = 5.0


class RuleSet(BaseModel):
    """Parameters of every built-in rule, by rule id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stale: StaleParams = Field(default=StaleParams(), alias="communication.stale")
    quality: QualityParams = Field(default=QualityParams(), alias="communication.quality")
    too_cold: ComfortParams = Field(default=ComfortParams(), alias="comfort.too_cold")
    too_hot: ComfortParams = Field(
        default=ComfortParams(under_capacity_severity="info"), alias="comfort.too_hot"
    )
    simultaneous: SimultaneousParams = Field(
        default=SimultaneousParams(), alias="hvac.simultaneous_heat_cool"
    )
    heating_limit: HeatingLimitParams = Field(
        default=HeatingLimitParams(), alias="hvac.heating_above_limit"
    )
    short_cycling: ShortCyclingParams = Field(
        default=ShortCyclingParams(), alias="hvac.short_cycling"
    )
    flatlined: FlatlineParams = Field(default=FlatlineParams(), alias="sensor.flatlined")
    above_baseline: BaselineParams = Field(default=BaselineParams(), alias="energy.above_baseline")
    after_hours: AfterHoursParams = Field(default=AfterHoursParams(), alias="energy.after_hours")
    peak: PeakParams = Field(default=PeakParams(), alias="energy.peak_limit")
    override_long: OverrideLongParams = Field(
        default=OverrideLongParams(), alias="control.override_long"
    )
    fallback: FallbackParams = Field(default=FallbackParams(), alias="control.fallback_plan")
    refused: RefusedParams = Field(default=RefusedParams(), alias="control.command_refused")
    charger: ChargerParams = Field(default=ChargerParams(), alias="ev.charger_faulted")

    @model_validator(mode="before")
    @classmethod
    def _known_rules(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in data if k not in RULE_FIELDS)
            if unknown:
                raise ValueError(f"unknown rule(s) {unknown}; the rules are {sorted(RULE_FIELDS)}")
        return data

    def given(self) -> Iterator[tuple[str, RuleParams]]:
        """(rule id, parameters) of the rules this entry writes."""
        for rule, name in RULE_FIELDS.items():
            if name in self.model_fields_set:
                yield rule, getattr(self, name)


# rule id -> field name of RuleSet
RULE_FIELDS: dict[str, str] = {
    str(info.alias): name for name, info in RuleSet.model_fields.items() if info.alias
}
RULE_IDS: tuple[str, ...] = tuple(RULE_FIELDS)


class AlarmOverride(BaseModel):
    """Rule parameters for one building, or one zone, device or point in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    building: str = Field(pattern=ID_PATTERN)
    zone: str | None = Field(default=None, pattern=ID_PATTERN)  # an hvac load's id
    device: str | None = Field(default=None, pattern=ID_PATTERN)
    point: str | None = None  # device/point within the building
    rules: RuleSet

    @model_validator(mode="after")
    def _one_scope(self) -> AlarmOverride:
        named = [n for n in ("zone", "device", "point") if getattr(self, n) is not None]
        if len(named) > 1:
            raise ValueError(f"name at most one of zone, device, point (got {', '.join(named)})")
        if not self.rules.model_fields_set:
            raise ValueError("rules: name at least one rule to change")
        return self

    @property
    def rank(self) -> int:
        """How specific the entry is: building 0, zone 1, device 2, point 3."""
        return 3 if self.point else 2 if self.device else 1 if self.zone else 0


class AlarmsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: RuleSet = RuleSet()
    overrides: tuple[AlarmOverride, ...] = ()


def merged(base: RuleParams, change: RuleParams) -> RuleParams:
    """``base`` with the fields ``change`` writes."""
    written = {name: getattr(change, name) for name in change.model_fields_set}
    return base.model_copy(update=written)


def section_params(config: AlarmsConfig, rule: str) -> RuleParams:
    """A rule's parameters for the whole municipality: built-in defaults with ``rules:``."""
    name = RULE_FIELDS[rule]
    params: RuleParams = getattr(RuleSet(), name)
    return merged(params, getattr(config.rules, name))


Params = TypeVar("Params", bound=RuleParams)


def _applies(entry: AlarmOverride, building: str, scope: dict[str, str | None]) -> bool:
    if entry.building != building:
        return False
    return all(
        getattr(entry, name) is None or getattr(entry, name) == scope.get(name)
        for name in ("zone", "device", "point")
    )


def override_chain(
    config: AlarmsConfig,
    rule: str,
    building: str,
    scope: dict[str, str | None],
    candidates: Iterable[int] | None = None,
) -> list[int]:
    """The indexes of the ``overrides:`` entries that change ``rule`` for one subject, in the
    order they apply: least specific first, file order within a kind. ``candidates``: the
    indexes worth looking at (e.g. one building's entries), else every entry."""
    name = RULE_FIELDS[rule]
    entries = config.overrides
    found = [
        (entries[i].rank, i)
        for i in (range(len(entries)) if candidates is None else candidates)
        if name in entries[i].rules.model_fields_set and _applies(entries[i], building, scope)
    ]
    return [i for _, i in sorted(found)]


def along(config: AlarmsConfig, rule: str, chain: Sequence[int]) -> RuleParams:
    """The municipality's parameters of ``rule`` with the entries of ``chain`` merged in
    order."""
    name = RULE_FIELDS[rule]
    params = section_params(config, rule)
    for i in chain:
        params = merged(params, getattr(config.overrides[i].rules, name))
    return params


def resolve(
    config: AlarmsConfig,
    rule: str,
    kind: type[Params],
    building: str,
    *,
    zone: str | None = None,
    device: str | None = None,
    point: str | None = None,
) -> Params:
    """A rule's parameters for one subject: the defaults, ``rules:``, then every override
    entry that covers the subject, least specific first. ``point`` is ``device/point``; a
    point's device overrides apply to it too."""
    scope = {"zone": zone, "device": device, "point": point}
    params = along(config, rule, override_chain(config, rule, building, scope))
    if not isinstance(params, kind):
        raise TypeError(f"rule {rule} has {type(params).__name__}, not {kind.__name__}")
    return params
