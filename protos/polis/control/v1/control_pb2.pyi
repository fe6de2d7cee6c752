import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from polis.points.v1 import points_pb2 as _points_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WriteStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WRITE_STATUS_UNSPECIFIED: _ClassVar[WriteStatus]
    WRITE_STATUS_APPLIED: _ClassVar[WriteStatus]
    WRITE_STATUS_OVERRIDDEN: _ClassVar[WriteStatus]
    WRITE_STATUS_UNCONFIRMED: _ClassVar[WriteStatus]
WRITE_STATUS_UNSPECIFIED: WriteStatus
WRITE_STATUS_APPLIED: WriteStatus
WRITE_STATUS_OVERRIDDEN: WriteStatus
WRITE_STATUS_UNCONFIRMED: WriteStatus

class ListPointsRequest(_message.Message):
    __slots__ = ("building",)
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    building: str
    def __init__(self, building: _Optional[str] = ...) -> None: ...

class ListPointsResponse(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[_points_pb2.Point]
    def __init__(self, points: _Optional[_Iterable[_Union[_points_pb2.Point, _Mapping]]] = ...) -> None: ...

class ReadPointsRequest(_message.Message):
    __slots__ = ("point_ids",)
    POINT_IDS_FIELD_NUMBER: _ClassVar[int]
    point_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, point_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReadPointsResponse(_message.Message):
    __slots__ = ("readings",)
    READINGS_FIELD_NUMBER: _ClassVar[int]
    readings: _containers.RepeatedCompositeFieldContainer[_points_pb2.Reading]
    def __init__(self, readings: _Optional[_Iterable[_Union[_points_pb2.Reading, _Mapping]]] = ...) -> None: ...

class WriteCommandRequest(_message.Message):
    __slots__ = ("point_id", "value", "priority", "duration", "requested_by", "reason", "min_value", "max_value")
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_FIELD_NUMBER: _ClassVar[int]
    point_id: str
    value: float
    priority: int
    duration: _duration_pb2.Duration
    requested_by: str
    reason: str
    min_value: float
    max_value: float
    def __init__(self, point_id: _Optional[str] = ..., value: _Optional[float] = ..., priority: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., requested_by: _Optional[str] = ..., reason: _Optional[str] = ..., min_value: _Optional[float] = ..., max_value: _Optional[float] = ...) -> None: ...

class WriteCommandResponse(_message.Message):
    __slots__ = ("status", "requested_value", "present_value", "priority", "active_priority", "expires_at", "audit_id", "message")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_VALUE_FIELD_NUMBER: _ClassVar[int]
    PRESENT_VALUE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status: WriteStatus
    requested_value: float
    present_value: float
    priority: int
    active_priority: int
    expires_at: _timestamp_pb2.Timestamp
    audit_id: str
    message: str
    def __init__(self, status: _Optional[_Union[WriteStatus, str]] = ..., requested_value: _Optional[float] = ..., present_value: _Optional[float] = ..., priority: _Optional[int] = ..., active_priority: _Optional[int] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., audit_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RelinquishRequest(_message.Message):
    __slots__ = ("point_id", "priority", "requested_by", "reason")
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    point_id: str
    priority: int
    requested_by: str
    reason: str
    def __init__(self, point_id: _Optional[str] = ..., priority: _Optional[int] = ..., requested_by: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RelinquishResponse(_message.Message):
    __slots__ = ("present_value", "audit_id")
    PRESENT_VALUE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ID_FIELD_NUMBER: _ClassVar[int]
    present_value: float
    audit_id: str
    def __init__(self, present_value: _Optional[float] = ..., audit_id: _Optional[str] = ...) -> None: ...
