"""A unit of the city's directory as apps see it: the names that stand for the ``unit_id`` other answers carry."""

from __future__ import annotations

import enum
import uuid

import msgspec


class UnitKind(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"  # quận/huyện/thị xã
    WARD = "ward"  # phường/xã/thị trấn
    DEPARTMENT = "department"  # sở, ban, ngành


class Centroid(msgspec.Struct, frozen=True):
    lat: float
    lon: float


class Unit(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    kind: UnitKind
    name_vi: str
    name_en: str
    parent_id: uuid.UUID | None
    centroid: Centroid | None  # departments have no place of their own
