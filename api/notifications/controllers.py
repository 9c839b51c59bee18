"""Notifications over HTTP: my inbox, my preferences, and city announcements (city admins).

Every inbox query is scoped by ``principal.id``: another citizen's item id is a 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from adapters.postgres.notifications.inbox import PgInbox, district_topic, queue_announcement
from api.identity.auth import CurrentUser, city_admin_guard
from api.platform import i18n
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.lean import LEAN
from api.platform.params import Limit
from domain.errors import InvalidInput, NotFound
from domain.notifications.inbox import InboxItem, checked_preferences
from domain.notifications.preferences import CATEGORIES, Preferences
from domain.shared.ids import new_id
from domain.shared.paging import Page, decode_id_cursor, encode_cursor
from domain.shared.time import HANOI

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"

i18n.register({
    "notifications.inbox_item_not_found": {"vi": "Không tìm thấy thông báo", "en": "Notification not found"},
    "notifications.district_not_found": {"vi": "Không tìm thấy quận/huyện", "en": "District not found"},
})


class UnreadCount(msgspec.Struct):
    unread: int


class Marked(msgspec.Struct):
    marked: int


class QuietHours(msgspec.Struct, forbid_unknown_fields=True):
    start: Annotated[str, Meta(pattern=_HHMM, description="HH:MM, Asia/Ho_Chi_Minh")]
    end: Annotated[str, Meta(pattern=_HHMM, description="HH:MM, Asia/Ho_Chi_Minh")]


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    opted_out: Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    quiet_hours: QuietHours | None = None


class CategoryOut(msgspec.Struct, kw_only=True):
    category: str
    label: str
    enabled: bool


class PreferencesOut(msgspec.Struct, kw_only=True):
    categories: list[CategoryOut]
    opted_out: list[str]
    quiet_hours: QuietHours | None
    timezone: str = str(HANOI)
    note: str = "Legally required notices are always delivered; quiet hours only delay them."


Text = Annotated[str, Meta(min_length=1, max_length=200)]
Body = Annotated[str, Meta(min_length=1, max_length=2000)]


class AnnouncementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    district_id: uuid.UUID | None = None  # null: the whole city
    title_vi: Text
    title_en: Text
    body_vi: Body
    body_en: Body


class AnnouncementOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    topic: str
    district_id: uuid.UUID | None


def _hhmm(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def _prefs_out(prefs: Preferences, lang: str) -> PreferencesOut:
    start, end = _hhmm(prefs.quiet_start), _hhmm(prefs.quiet_end)
    return PreferencesOut(
        categories=[CategoryOut(category=c, label=labels.get(lang, labels["vi"]), enabled=c not in prefs.opted_out)
                    for c, labels in CATEGORIES.items()],
        opted_out=sorted(prefs.opted_out),
        quiet_hours=QuietHours(start, end) if start and end else None)


def _lang(request: Request[Any, Any, Any]) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "vi"


class InboxController(Controller):
    path = "/me"
    tags = ["notifications"]
    security = BEARER

    @get("/inbox", operation_id="meInboxList", summary="My notifications, newest first (cursor paged)", opt=LEAN)
    async def inbox(self, principal: CurrentUser, uow: UnitOfWork,
                    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
                    limit: Limit = 20) -> Page[InboxItem]:
        before = None
        if cursor:
            before = decode_id_cursor(cursor)
        items = await PgInbox(uow.conn).page(principal.id, before, limit + 1)
        more = len(items) > limit
        items = items[:limit]
        return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if more else None)

    @get("/inbox/unread-count", operation_id="meInboxUnreadCount", opt=LEAN,
         summary="How many of my notifications are unread")
    async def unread(self, principal: CurrentUser, uow: UnitOfWork) -> UnreadCount:
        return UnreadCount(await PgInbox(uow.conn).unread_count(principal.id))

    @post("/inbox/{item_id:uuid}/read", operation_id="meInboxMarkRead", summary="Mark one notification read",
          status_code=200)
    async def mark_read(self, principal: CurrentUser, uow: UnitOfWork, container: AppContainer,
                        item_id: FromPath[uuid.UUID]) -> InboxItem:
        item = await PgInbox(uow.conn).mark_read(principal.id, item_id, container.clock.now())
        if item is None:
            raise NotFound("notifications.inbox_item_not_found")
        return item

    @post("/inbox/read-all", operation_id="meInboxMarkAllRead", summary="Mark all my notifications read",
          status_code=200)
    async def mark_all(self, principal: CurrentUser, uow: UnitOfWork, container: AppContainer) -> Marked:
        return Marked(await PgInbox(uow.conn).mark_all_read(principal.id, container.clock.now()))

    @get("/notification-preferences", operation_id="meNotificationPreferencesGet",
         summary="My per-category push opt-outs and quiet hours")
    async def preferences(self, request: Request[Any, Any, Any], principal: CurrentUser,
                          uow: UnitOfWork) -> PreferencesOut:
        return _prefs_out(await PgInbox(uow.conn).preferences(principal.id), _lang(request))

    @put("/notification-preferences", operation_id="meNotificationPreferencesPut",
         summary="Replace my push opt-outs and quiet hours (inbox entries are always kept)")
    async def set_preferences(self, request: Request[Any, Any, Any], principal: CurrentUser, uow: UnitOfWork,
                              data: JSONBody[PreferencesIn]) -> PreferencesOut:
        qh = data.quiet_hours
        prefs = checked_preferences(data.opted_out, dt.time.fromisoformat(qh.start) if qh else None,
                                    dt.time.fromisoformat(qh.end) if qh else None)
        await PgInbox(uow.conn).save_preferences(principal.id, prefs)
        return _prefs_out(prefs, _lang(request))


class AnnouncementController(Controller):
    path = "/admin/announcements"
    tags = ["notifications", "admin"]
    security = BEARER
    guards = [city_admin_guard]

    @post("", operation_id="adminAnnouncementsCreate", status_code=202,
          summary="Send a city announcement to one district's topic or the whole city (city admins)")
    async def create(self, request: Request[Any, Any, Any], principal: CurrentUser, uow: UnitOfWork,
                     data: JSONBody[AnnouncementIn]) -> Response[AnnouncementOut]:
        async def make() -> Response[Any]:
            topic = "city"
            if data.district_id is not None:
                found = await district_topic(uow.conn, data.district_id)
                if found is None:
                    raise InvalidInput("notifications.district_not_found", field="district_id", rule="invalid")
                topic = found
            aid = new_id()
            await queue_announcement(uow.conn, announcement_id=aid, district_id=data.district_id, topic=topic,
                                     content={"vi": {"title": data.title_vi, "body": data.body_vi},
                                              "en": {"title": data.title_en, "body": data.body_en}},
                                     created_by=principal.id)
            return Response(msgspec.to_builtins(AnnouncementOut(id=aid, topic=topic, district_id=data.district_id)),
                            status_code=202)

        return await idempotent(request, uow, f"user:{principal.id}", make)


CONTROLLERS = [InboxController, AnnouncementController]
