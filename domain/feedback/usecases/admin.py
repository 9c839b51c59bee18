"""City admins manage the category catalogue (which Open311 also publishes as services)."""

from __future__ import annotations

import uuid

import msgspec

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.feedback.model import Category, CategoryInput, UnitKind
from domain.feedback.questions import check_questions
from domain.feedback.usecases.common import UseCase
from domain.identity.principal import Principal
from domain.shared.ids import new_id


class SaveCategory(UseCase):
    """Create (``category_id`` None) or replace a category."""

    async def execute(self, principal: Principal, data: CategoryInput,
                      category_id: uuid.UUID | None = None) -> Category:
        if not principal.city_admin:
            raise Forbidden("feedback.city_admin_only")
        check_questions(data.questions)
        if data.route_to_department and data.department_id is None:
            raise InvalidInput("feedback.department_required", field="department_id", rule="required")
        if data.department_id is not None:
            unit = await self.d.units.get(data.department_id)
            if unit is None or unit.kind is not UnitKind.DEPARTMENT:
                raise InvalidInput("feedback.unknown_unit", field="department_id", rule="unknown_unit")
        if await self.d.categories.code_taken(data.code, category_id):
            raise Conflict("feedback.category_code_taken", field="code", rule="unique")
        category = Category(id=category_id or new_id(), updated_at=self.d.clock.now(),
                            **msgspec.structs.asdict(data))
        if category_id is None:
            await self.d.categories.add(category)
        else:
            if await self.d.categories.get(category_id) is None:
                raise NotFound("feedback.category_not_found")
            await self.d.categories.update(category)
        return category
