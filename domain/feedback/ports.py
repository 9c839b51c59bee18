"""Ports of the feedback context: narrow Protocols, implemented by Postgres/disk/Pillow adapters
and by in-memory fakes in unit tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import msgspec

from domain.feedback.geo import BBox
from domain.feedback.model import Attachment, Category, Event, Rating, Report, UnitRef


class Categories(Protocol):
    async def get(self, category_id: uuid.UUID) -> Category | None: ...

    async def code_taken(self, code: str, except_id: uuid.UUID | None = None) -> bool: ...

    async def add(self, category: Category) -> None: ...

    async def update(self, category: Category) -> None: ...


class Units(Protocol):
    async def get(self, unit_id: uuid.UUID) -> UnitRef | None: ...

    async def locate(self, lat: float, lon: float) -> UnitRef | None:
        """The locality of a point: the nearest ward (by centroid) of the nearest district, or that
        district when none of its wards is known."""
        ...

    async def staff_roles(self, user_id: uuid.UUID, unit_id: uuid.UUID) -> frozenset[str]: ...

    async def supervisors(self, unit_id: uuid.UUID) -> list[uuid.UUID]: ...


class Overdue(msgspec.Struct, frozen=True):
    report: Report
    deadline: str       # "acknowledge" | "handle"
    due_at: datetime


class Reports(Protocol):
    async def add(self, report: Report, first_event: Event | None = None) -> None:
        """Insert a new report and assign its reference code (``report.ref``, e.g. PA-2026-000123);
        ``first_event`` (its timeline's first entry) is inserted with it."""
        ...

    async def get(self, report_id: uuid.UUID, *, for_update: bool = False) -> Report | None: ...

    async def save(self, report: Report) -> None: ...

    async def add_event(self, event: Event) -> None: ...

    async def add_follower(self, report_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> bool: ...

    async def remove_follower(self, report_id: uuid.UUID, user_id: uuid.UUID) -> bool: ...

    async def follower_ids(self, report_id: uuid.UUID) -> list[uuid.UUID]: ...

    async def add_attachment(self, attachment: Attachment) -> None: ...

    async def attachments(self, report_id: uuid.UUID) -> list[Attachment]: ...

    async def mark_attachments_used(self, ids: list[uuid.UUID]) -> None: ...

    async def add_rating(self, rating: Rating) -> bool: ...

    async def nearby(self, category_id: uuid.UUID, box: BBox, since: datetime, limit: int) -> list[Report]: ...

    async def overdue(self, now: datetime, limit: int) -> list[Overdue]: ...

    async def record_escalation(self, report_id: uuid.UUID, deadline: str, due_at: datetime,
                                at: datetime) -> bool: ...


class ProcessedImage(msgspec.Struct, frozen=True):
    content_type: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int


class ImageProcessor(Protocol):
    """Checks the content (magic bytes, decodable), re-encodes without metadata, makes a thumbnail.

    Raises ``InvalidInput`` (rule ``image_type``) for anything that is not JPEG/PNG/WebP/HEIC.
    """

    async def process(self, data: bytes) -> ProcessedImage: ...


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...
