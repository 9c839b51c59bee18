"""City admins manage the category catalogue: names (vi/en), level, SLA, routing, extra questions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from adapters.postgres.feedback.repositories import PgCategories
from api.feedback.common import BEARER, deps
from api.identity.auth import CurrentUser, city_admin_guard
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from domain.feedback.model import Category, CategoryInput, Datatype, Level
from domain.feedback.usecases.admin import SaveCategory

Name = Annotated[str, Meta(min_length=2, max_length=200)]
Desc = Annotated[str, Meta(max_length=2000)]
Code = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Hours = Annotated[int, Meta(ge=1, le=2000)]


class ValueIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Code
    name_vi: Name
    name_en: Name


class QuestionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    datatype: Datatype
    required: bool = False
    label_vi: Name
    label_en: Name
    description_vi: Desc = ""
    description_en: Desc = ""
    values: Annotated[list[ValueIn], Meta(max_length=50)] = msgspec.field(default_factory=list)


class SlaIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    normal_hours: Hours
    complex_hours: Hours
    urgent_hours: Annotated[int, Meta(ge=1, le=4)] = 4  # Decision 1207: urgent within 4 working hours


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name_vi: Name
    name_en: Name
    description_vi: Desc = ""
    description_en: Desc = ""
    group: Annotated[str, Meta(max_length=64)] = ""
    keywords: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=20)] = \
        msgspec.field(default_factory=list)
    default_level: Level = Level.NORMAL
    sla: SlaIn
    department_id: uuid.UUID | None = None
    route_to_department: bool = False
    questions: Annotated[list[QuestionIn], Meta(max_length=30)] = msgspec.field(default_factory=list)
    active: bool = True


def category_input(data: CategoryIn) -> CategoryInput:
    return msgspec.convert(msgspec.to_builtins(data), CategoryInput)


class AdminFeedbackController(Controller):
    path = "/admin/feedback/categories"
    tags = ["feedback-admin"]
    security = BEARER
    guards = [city_admin_guard]

    @get("", operation_id="feedbackAdminCategories", summary="All categories, including inactive ones")
    async def list(self, uow: UnitOfWork) -> list[Category]:
        return await PgCategories(uow.conn).list(active_only=False)

    @post("", operation_id="feedbackAdminCategoryCreate", summary="Create a category", status_code=201)
    async def create(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, data: JSONBody[CategoryIn]) -> Response[Category]:
        async def run() -> Response[Any]:
            category = await SaveCategory(deps(container, uow.conn)).execute(principal, category_input(data))
            return Response(msgspec.to_builtins(category), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @put("/{category_id:uuid}", operation_id="feedbackAdminCategoryUpdate",
         summary="Replace a category (set active=false to retire it; existing reports keep it)")
    async def update(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     category_id: FromPath[uuid.UUID],
                     data: JSONBody[CategoryIn]) -> Category:
        return await SaveCategory(deps(container, uow.conn)).execute(principal, category_input(data), category_id)
