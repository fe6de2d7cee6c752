import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Quantity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUANTITY_UNSPECIFIED: _ClassVar[Quantity]
    QUANTITY_ACTIVE_ENERGY: _ClassVar[Quantity]
    QUANTITY_ACTIVE_POWER: _ClassVar[Quantity]
    QUANTITY_TEMPERATURE: _ClassVar[Quantity]
    QUANTITY_SETPOINT: _ClassVar[Quantity]
    QUANTITY_STATUS: _ClassVar[Quantity]
    QUANTITY_VOLTAGE: _ClassVar[Quantity]
    QUANTITY_CURRENT: _ClassVar[Quantity]
    QUANTITY_REACTIVE_POWER: _ClassVar[Quantity]
    QUANTITY_POWER_FACTOR: _ClassVar[Quantity]
    QUANTITY_FREQUENCY: _ClassVar[Quantity]
    QUANTITY_STATE_OF_CHARGE: _ClassVar[Quantity]
    QUANTITY_APPARENT_POWER: _ClassVar[Quantity]
    QUANTITY_REACTIVE_ENERGY: _ClassVar[Quantity]
    QUANTITY_RELATIVE_HUMIDITY: _ClassVar[Quantity]
    QUANTITY_CO2_CONCENTRATION: _ClassVar[Quantity]
    QUANTITY_VOLUME: _ClassVar[Quantity]
    QUANTITY_VOLUME_FLOW: _ClassVar[Quantity]
    QUANTITY_PRESSURE: _ClassVar[Quantity]
    QUANTITY_POSITION: _ClassVar[Quantity]
    QUANTITY_THERMAL_ENERGY: _ClassVar[Quantity]
    QUANTITY_THERMAL_POWER: _ClassVar[Quantity]

class PointKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POINT_KIND_UNSPECIFIED: _ClassVar[PointKind]
    POINT_KIND_CUMULATIVE: _ClassVar[PointKind]
    POINT_KIND_INSTANTANEOUS: _ClassVar[PointKind]
    POINT_KIND_STATE: _ClassVar[PointKind]
    POINT_KIND_COMMAND: _ClassVar[PointKind]

class Quality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_UNSPECIFIED: _ClassVar[Quality]
    QUALITY_GOOD: _ClassVar[Quality]
    QUALITY_STALE: _ClassVar[Quality]
    QUALITY_OUT_OF_RANGE: _ClassVar[Quality]
    QUALITY_MISSING: _ClassVar[Quality]
    QUALITY_RESET: _ClassVar[Quality]
QUANTITY_UNSPECIFIED: Quantity
QUANTITY_ACTIVE_ENERGY: Quantity
QUANTITY_ACTIVE_POWER: Quantity
QUANTITY_TEMPERATURE: Quantity
QUANTITY_SETPOINT: Quantity
QUANTITY_STATUS: Quantity
QUANTITY_VOLTAGE: Quantity
QUANTITY_CURRENT: Quantity
QUANTITY_REACTIVE_POWER: Quantity
QUANTITY_POWER_FACTOR: Quantity
QUANTITY_FREQUENCY: Quantity
QUANTITY_STATE_OF_CHARGE: Quantity
QUANTITY_APPARENT_POWER: Quantity
QUANTITY_REACTIVE_ENERGY: Quantity
QUANTITY_RELATIVE_HUMIDITY: Quantity
QUANTITY_CO2_CONCENTRATION: Quantity
QUANTITY_VOLUME: Quantity
QUANTITY_VOLUME_FLOW: Quantity
QUANTITY_PRESSURE: Quantity
QUANTITY_POSITION: Quantity
QUANTITY_THERMAL_ENERGY: Quantity
QUANTITY_THERMAL_POWER: Quantity
POINT_KIND_UNSPECIFIED: PointKind
POINT_KIND_CUMULATIVE: PointKind
POINT_KIND_INSTANTANEOUS: PointKind
POINT_KIND_STATE: PointKind
POINT_KIND_COMMAND: PointKind
QUALITY_UNSPECIFIED: Quality
QUALITY_GOOD: Quality
QUALITY_STALE: Quality
QUALITY_OUT_OF_RANGE: Quality
QUALITY_MISSING: Quality
QUALITY_RESET: Quality

class Point(_message.Message):
    __slots__ = ("id", "municipality", "neighbourhood", "building", "device", "quantity", "unit", "kind", "brick_class", "description", "min_value", "max_value")
    ID_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    BUILDING_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BRICK_CLASS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_FIELD_NUMBER: _ClassVar[int]
    id: str
    municipality: str
    neighbourhood: str
    building: str
    device: str
    quantity: Quantity
    unit: str
    kind: PointKind
    brick_class: str
    description: str
    min_value: float
    max_value: float
    def __init__(self, id: _Optional[str] = ..., municipality: _Optional[str] = ..., neighbourhood: _Optional[str] = ..., building: _Optional[str] = ..., device: _Optional[str] = ..., quantity: _Optional[_Union[Quantity, str]] = ..., unit: _Optional[str] = ..., kind: _Optional[_Union[PointKind, str]] = ..., brick_class: _Optional[str] = ..., description: _Optional[str] = ..., min_value: _Optional[float] = ..., max_value: _Optional[float] = ...) -> None: ...

class Reading(_message.Message):
    __slots__ = ("point_id", "time", "value", "quality")
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    point_id: str
    time: _timestamp_pb2.Timestamp
    value: float
    quality: Quality
    def __init__(self, point_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[float] = ..., quality: _Optional[_Union[Quality, str]] = ...) -> None: ...
