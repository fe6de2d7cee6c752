import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExcitationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXCITATION_STATE_UNSPECIFIED: _ClassVar[ExcitationState]
    EXCITATION_STATE_RUNNING: _ClassVar[ExcitationState]
    EXCITATION_STATE_DONE: _ClassVar[ExcitationState]
    EXCITATION_STATE_STOPPED: _ClassVar[ExcitationState]
EXCITATION_STATE_UNSPECIFIED: ExcitationState
EXCITATION_STATE_RUNNING: ExcitationState
EXCITATION_STATE_DONE: ExcitationState
EXCITATION_STATE_STOPPED: ExcitationState

class GetReportRequest(_message.Message):
    __slots__ = ("building",)
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    building: str
    def __init__(self, building: _Optional[str] = ...) -> None: ...

class Parameter(_message.Message):
    __slots__ = ("name", "value", "standard_error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    standard_error: float
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., standard_error: _Optional[float] = ...) -> None: ...

class ZoneReport(_message.Message):
    __slots__ = ("zone", "accepted", "reasons", "structure", "parameters", "holdout_rmse_k", "energy_cv", "holdout_days", "cop_source", "notes", "points", "readings", "has_plot")
    class PointsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ReadingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ZONE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    STRUCTURE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_RMSE_K_FIELD_NUMBER: _ClassVar[int]
    ENERGY_CV_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_DAYS_FIELD_NUMBER: _ClassVar[int]
    COP_SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    READINGS_FIELD_NUMBER: _ClassVar[int]
    HAS_PLOT_FIELD_NUMBER: _ClassVar[int]
    zone: str
    accepted: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    structure: str
    parameters: _containers.RepeatedCompositeFieldContainer[Parameter]
    holdout_rmse_k: float
    energy_cv: float
    holdout_days: int
    cop_source: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    points: _containers.ScalarMap[str, str]
    readings: _containers.ScalarMap[str, int]
    has_plot: bool
    def __init__(self, zone: _Optional[str] = ..., accepted: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ..., structure: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[Parameter, _Mapping]]] = ..., holdout_rmse_k: _Optional[float] = ..., energy_cv: _Optional[float] = ..., holdout_days: _Optional[int] = ..., cop_source: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ..., points: _Optional[_Mapping[str, str]] = ..., readings: _Optional[_Mapping[str, int]] = ..., has_plot: _Optional[bool] = ...) -> None: ...

class Report(_message.Message):
    __slots__ = ("building", "since", "until", "generated_at", "zones")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    building: str
    since: str
    until: str
    generated_at: _timestamp_pb2.Timestamp
    zones: _containers.RepeatedCompositeFieldContainer[ZoneReport]
    def __init__(self, building: _Optional[str] = ..., since: _Optional[str] = ..., until: _Optional[str] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., zones: _Optional[_Iterable[_Union[ZoneReport, _Mapping]]] = ...) -> None: ...

class GetPlotRequest(_message.Message):
    __slots__ = ("building", "zone")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    building: str
    zone: str
    def __init__(self, building: _Optional[str] = ..., zone: _Optional[str] = ...) -> None: ...

class Plot(_message.Message):
    __slots__ = ("media_type", "data", "generated_at")
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    media_type: str
    data: bytes
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, media_type: _Optional[str] = ..., data: _Optional[bytes] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartExcitationRequest(_message.Message):
    __slots__ = ("building", "zones", "days", "start", "requested_by")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    building: str
    zones: _containers.RepeatedScalarFieldContainer[str]
    days: float
    start: _timestamp_pb2.Timestamp
    requested_by: str
    def __init__(self, building: _Optional[str] = ..., zones: _Optional[_Iterable[str]] = ..., days: _Optional[float] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requested_by: _Optional[str] = ...) -> None: ...

class StopExcitationRequest(_message.Message):
    __slots__ = ("building", "zones", "requested_by")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    building: str
    zones: _containers.RepeatedScalarFieldContainer[str]
    requested_by: str
    def __init__(self, building: _Optional[str] = ..., zones: _Optional[_Iterable[str]] = ..., requested_by: _Optional[str] = ...) -> None: ...

class ListExcitationsRequest(_message.Message):
    __slots__ = ("building",)
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    building: str
    def __init__(self, building: _Optional[str] = ...) -> None: ...

class Excitation(_message.Message):
    __slots__ = ("building", "zone", "point_id", "state", "start", "end", "base_c", "amplitude_k", "steps", "written", "refused", "overridden", "last_setpoint_c", "message")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    BASE_C_FIELD_NUMBER: _ClassVar[int]
    AMPLITUDE_K_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SETPOINT_C_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    building: str
    zone: str
    point_id: str
    state: ExcitationState
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    base_c: float
    amplitude_k: float
    steps: int
    written: int
    refused: int
    overridden: int
    last_setpoint_c: float
    message: str
    def __init__(self, building: _Optional[str] = ..., zone: _Optional[str] = ..., point_id: _Optional[str] = ..., state: _Optional[_Union[ExcitationState, str]] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., base_c: _Optional[float] = ..., amplitude_k: _Optional[float] = ..., steps: _Optional[int] = ..., written: _Optional[int] = ..., refused: _Optional[int] = ..., overridden: _Optional[int] = ..., last_setpoint_c: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class ExcitationList(_message.Message):
    __slots__ = ("excitations",)
    EXCITATIONS_FIELD_NUMBER: _ClassVar[int]
    excitations: _containers.RepeatedCompositeFieldContainer[Excitation]
    def __init__(self, excitations: _Optional[_Iterable[_Union[Excitation, _Mapping]]] = ...) -> None: ...
