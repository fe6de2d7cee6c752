import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_DRY_RUN: _ClassVar[Mode]
    MODE_APPLY: _ClassVar[Mode]

class SolveStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOLVE_STATUS_UNSPECIFIED: _ClassVar[SolveStatus]
    SOLVE_STATUS_OPTIMAL: _ClassVar[SolveStatus]
    SOLVE_STATUS_FEASIBLE: _ClassVar[SolveStatus]
    SOLVE_STATUS_INFEASIBLE: _ClassVar[SolveStatus]
    SOLVE_STATUS_FALLBACK: _ClassVar[SolveStatus]
MODE_UNSPECIFIED: Mode
MODE_DRY_RUN: Mode
MODE_APPLY: Mode
SOLVE_STATUS_UNSPECIFIED: SolveStatus
SOLVE_STATUS_OPTIMAL: SolveStatus
SOLVE_STATUS_FEASIBLE: SolveStatus
SOLVE_STATUS_INFEASIBLE: SolveStatus
SOLVE_STATUS_FALLBACK: SolveStatus

class SolveRequest(_message.Message):
    __slots__ = ("building", "neighbourhood", "start", "horizon_slots", "time_limit_s", "relative_gap")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    HORIZON_SLOTS_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_GAP_FIELD_NUMBER: _ClassVar[int]
    building: str
    neighbourhood: str
    start: _timestamp_pb2.Timestamp
    horizon_slots: int
    time_limit_s: float
    relative_gap: float
    def __init__(self, building: _Optional[str] = ..., neighbourhood: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., horizon_slots: _Optional[int] = ..., time_limit_s: _Optional[float] = ..., relative_gap: _Optional[float] = ...) -> None: ...

class SolveResponse(_message.Message):
    __slots__ = ("plans", "status", "objective", "best_bound", "gap", "solve_time_s", "conflicts")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BEST_BOUND_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    SOLVE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    status: SolveStatus
    objective: float
    best_bound: float
    gap: float
    solve_time_s: float
    conflicts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ..., status: _Optional[_Union[SolveStatus, str]] = ..., objective: _Optional[float] = ..., best_bound: _Optional[float] = ..., gap: _Optional[float] = ..., solve_time_s: _Optional[float] = ..., conflicts: _Optional[_Iterable[str]] = ...) -> None: ...

class Figures(_message.Message):
    __slots__ = ("energy_kwh", "cost_eur", "peak_kw", "co2_kg")
    ENERGY_KWH_FIELD_NUMBER: _ClassVar[int]
    COST_EUR_FIELD_NUMBER: _ClassVar[int]
    PEAK_KW_FIELD_NUMBER: _ClassVar[int]
    CO2_KG_FIELD_NUMBER: _ClassVar[int]
    energy_kwh: float
    cost_eur: float
    peak_kw: float
    co2_kg: float
    def __init__(self, energy_kwh: _Optional[float] = ..., cost_eur: _Optional[float] = ..., peak_kw: _Optional[float] = ..., co2_kg: _Optional[float] = ...) -> None: ...

class LoadSchedule(_message.Message):
    __slots__ = ("load_id", "kind", "power_kw", "setpoint", "explanation")
    LOAD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POWER_KW_FIELD_NUMBER: _ClassVar[int]
    SETPOINT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    load_id: str
    kind: str
    power_kw: _containers.RepeatedScalarFieldContainer[float]
    setpoint: _containers.RepeatedScalarFieldContainer[float]
    explanation: str
    def __init__(self, load_id: _Optional[str] = ..., kind: _Optional[str] = ..., power_kw: _Optional[_Iterable[float]] = ..., setpoint: _Optional[_Iterable[float]] = ..., explanation: _Optional[str] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("building", "neighbourhood", "start", "slot_minutes", "loads", "planned", "baseline", "status", "gap", "mode", "created_at", "conflicts", "grid_kw")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    SLOT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    GRID_KW_FIELD_NUMBER: _ClassVar[int]
    building: str
    neighbourhood: str
    start: _timestamp_pb2.Timestamp
    slot_minutes: int
    loads: _containers.RepeatedCompositeFieldContainer[LoadSchedule]
    planned: Figures
    baseline: Figures
    status: SolveStatus
    gap: float
    mode: Mode
    created_at: _timestamp_pb2.Timestamp
    conflicts: _containers.RepeatedScalarFieldContainer[str]
    grid_kw: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, building: _Optional[str] = ..., neighbourhood: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., slot_minutes: _Optional[int] = ..., loads: _Optional[_Iterable[_Union[LoadSchedule, _Mapping]]] = ..., planned: _Optional[_Union[Figures, _Mapping]] = ..., baseline: _Optional[_Union[Figures, _Mapping]] = ..., status: _Optional[_Union[SolveStatus, str]] = ..., gap: _Optional[float] = ..., mode: _Optional[_Union[Mode, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conflicts: _Optional[_Iterable[str]] = ..., grid_kw: _Optional[_Iterable[float]] = ...) -> None: ...

class GetCurrentPlanRequest(_message.Message):
    __slots__ = ("building",)
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    building: str
    def __init__(self, building: _Optional[str] = ...) -> None: ...

class SetModeRequest(_message.Message):
    __slots__ = ("building", "mode")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    building: str
    mode: Mode
    def __init__(self, building: _Optional[str] = ..., mode: _Optional[_Union[Mode, str]] = ...) -> None: ...

class SetModeResponse(_message.Message):
    __slots__ = ("building", "mode")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    building: str
    mode: Mode
    def __init__(self, building: _Optional[str] = ..., mode: _Optional[_Union[Mode, str]] = ...) -> None: ...

class FlexibilityRequest(_message.Message):
    __slots__ = ("neighbourhood", "window_start", "window_end", "peak_limit_kw", "requested_by")
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    PEAK_LIMIT_KW_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    neighbourhood: str
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    peak_limit_kw: float
    requested_by: str
    def __init__(self, neighbourhood: _Optional[str] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., peak_limit_kw: _Optional[float] = ..., requested_by: _Optional[str] = ...) -> None: ...

class FlexibilityResponse(_message.Message):
    __slots__ = ("outcome", "achieved_peak_kw", "reduction_kw", "message")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[FlexibilityResponse.Outcome]
        OUTCOME_ACCEPTED: _ClassVar[FlexibilityResponse.Outcome]
        OUTCOME_PARTIAL: _ClassVar[FlexibilityResponse.Outcome]
        OUTCOME_REJECTED: _ClassVar[FlexibilityResponse.Outcome]
    OUTCOME_UNSPECIFIED: FlexibilityResponse.Outcome
    OUTCOME_ACCEPTED: FlexibilityResponse.Outcome
    OUTCOME_PARTIAL: FlexibilityResponse.Outcome
    OUTCOME_REJECTED: FlexibilityResponse.Outcome
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACHIEVED_PEAK_KW_FIELD_NUMBER: _ClassVar[int]
    REDUCTION_KW_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    outcome: FlexibilityResponse.Outcome
    achieved_peak_kw: float
    reduction_kw: float
    message: str
    def __init__(self, outcome: _Optional[_Union[FlexibilityResponse.Outcome, str]] = ..., achieved_peak_kw: _Optional[float] = ..., reduction_kw: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...
