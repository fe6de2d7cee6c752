import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_DAILY: _ClassVar[ModelKind]
    MODEL_KIND_HOURLY: _ClassVar[ModelKind]
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_DAILY: ModelKind
MODEL_KIND_HOURLY: ModelKind

class ImportCsvRequest(_message.Message):
    __slots__ = ("csv", "source")
    CSV_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    csv: bytes
    source: str
    def __init__(self, csv: _Optional[bytes] = ..., source: _Optional[str] = ...) -> None: ...

class RowError(_message.Message):
    __slots__ = ("line", "field", "reason")
    LINE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    line: int
    field: str
    reason: str
    def __init__(self, line: _Optional[int] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportCsvResponse(_message.Message):
    __slots__ = ("rows", "points_written", "errors")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    POINTS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    rows: int
    points_written: int
    errors: _containers.RepeatedCompositeFieldContainer[RowError]
    def __init__(self, rows: _Optional[int] = ..., points_written: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[RowError, _Mapping]]] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ("building", "neighbourhood", "municipality", "baseline_start", "baseline_end", "reporting_start", "reporting_end", "model")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_FIELD_NUMBER: _ClassVar[int]
    BASELINE_START_FIELD_NUMBER: _ClassVar[int]
    BASELINE_END_FIELD_NUMBER: _ClassVar[int]
    REPORTING_START_FIELD_NUMBER: _ClassVar[int]
    REPORTING_END_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    building: str
    neighbourhood: str
    municipality: str
    baseline_start: _timestamp_pb2.Timestamp
    baseline_end: _timestamp_pb2.Timestamp
    reporting_start: _timestamp_pb2.Timestamp
    reporting_end: _timestamp_pb2.Timestamp
    model: ModelKind
    def __init__(self, building: _Optional[str] = ..., neighbourhood: _Optional[str] = ..., municipality: _Optional[str] = ..., baseline_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., baseline_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reporting_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reporting_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[_Union[ModelKind, str]] = ...) -> None: ...

class Statistics(_message.Message):
    __slots__ = ("r_squared", "cv_rmse", "nmbe", "n", "parameters", "accepted", "reason")
    R_SQUARED_FIELD_NUMBER: _ClassVar[int]
    CV_RMSE_FIELD_NUMBER: _ClassVar[int]
    NMBE_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    r_squared: float
    cv_rmse: float
    nmbe: float
    n: int
    parameters: int
    accepted: bool
    reason: str
    def __init__(self, r_squared: _Optional[float] = ..., cv_rmse: _Optional[float] = ..., nmbe: _Optional[float] = ..., n: _Optional[int] = ..., parameters: _Optional[int] = ..., accepted: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class PeriodSavings(_message.Message):
    __slots__ = ("period", "baseline_kwh", "actual_kwh", "avoided_kwh", "avoided_eur", "avoided_co2_kg", "fractional_savings", "uncertainty_68_kwh", "uncertainty_90_kwh")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_KWH_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_KWH_FIELD_NUMBER: _ClassVar[int]
    AVOIDED_KWH_FIELD_NUMBER: _ClassVar[int]
    AVOIDED_EUR_FIELD_NUMBER: _ClassVar[int]
    AVOIDED_CO2_KG_FIELD_NUMBER: _ClassVar[int]
    FRACTIONAL_SAVINGS_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_68_KWH_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_90_KWH_FIELD_NUMBER: _ClassVar[int]
    period: str
    baseline_kwh: float
    actual_kwh: float
    avoided_kwh: float
    avoided_eur: float
    avoided_co2_kg: float
    fractional_savings: float
    uncertainty_68_kwh: float
    uncertainty_90_kwh: float
    def __init__(self, period: _Optional[str] = ..., baseline_kwh: _Optional[float] = ..., actual_kwh: _Optional[float] = ..., avoided_kwh: _Optional[float] = ..., avoided_eur: _Optional[float] = ..., avoided_co2_kg: _Optional[float] = ..., fractional_savings: _Optional[float] = ..., uncertainty_68_kwh: _Optional[float] = ..., uncertainty_90_kwh: _Optional[float] = ...) -> None: ...

class BuildingSavings(_message.Message):
    __slots__ = ("building", "neighbourhood", "model", "statistics", "periods")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    building: str
    neighbourhood: str
    model: str
    statistics: Statistics
    periods: _containers.RepeatedCompositeFieldContainer[PeriodSavings]
    def __init__(self, building: _Optional[str] = ..., neighbourhood: _Optional[str] = ..., model: _Optional[str] = ..., statistics: _Optional[_Union[Statistics, _Mapping]] = ..., periods: _Optional[_Iterable[_Union[PeriodSavings, _Mapping]]] = ...) -> None: ...

class SavingsReport(_message.Message):
    __slots__ = ("buildings", "total", "method")
    BUILDINGS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    buildings: _containers.RepeatedCompositeFieldContainer[BuildingSavings]
    total: _containers.RepeatedCompositeFieldContainer[PeriodSavings]
    method: str
    def __init__(self, buildings: _Optional[_Iterable[_Union[BuildingSavings, _Mapping]]] = ..., total: _Optional[_Iterable[_Union[PeriodSavings, _Mapping]]] = ..., method: _Optional[str] = ...) -> None: ...

class ExpectationRequest(_message.Message):
    __slots__ = ("building", "baseline_start", "baseline_end", "start", "end", "model")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    BASELINE_START_FIELD_NUMBER: _ClassVar[int]
    BASELINE_END_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    building: str
    baseline_start: _timestamp_pb2.Timestamp
    baseline_end: _timestamp_pb2.Timestamp
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    model: ModelKind
    def __init__(self, building: _Optional[str] = ..., baseline_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., baseline_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[_Union[ModelKind, str]] = ...) -> None: ...

class ExpectationResponse(_message.Message):
    __slots__ = ("building", "model", "accepted", "reason", "expected_kwh", "uncertainty_kwh", "actual_kwh", "intervals", "unoccupied_kw", "unoccupied_uncertainty_kw", "expected_main_kwh")
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_KWH_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_KWH_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_KWH_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    UNOCCUPIED_KW_FIELD_NUMBER: _ClassVar[int]
    UNOCCUPIED_UNCERTAINTY_KW_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_MAIN_KWH_FIELD_NUMBER: _ClassVar[int]
    building: str
    model: str
    accepted: bool
    reason: str
    expected_kwh: float
    uncertainty_kwh: float
    actual_kwh: float
    intervals: int
    unoccupied_kw: float
    unoccupied_uncertainty_kw: float
    expected_main_kwh: float
    def __init__(self, building: _Optional[str] = ..., model: _Optional[str] = ..., accepted: _Optional[bool] = ..., reason: _Optional[str] = ..., expected_kwh: _Optional[float] = ..., uncertainty_kwh: _Optional[float] = ..., actual_kwh: _Optional[float] = ..., intervals: _Optional[int] = ..., unoccupied_kw: _Optional[float] = ..., unoccupied_uncertainty_kw: _Optional[float] = ..., expected_main_kwh: _Optional[float] = ...) -> None: ...
