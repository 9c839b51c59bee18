"""Small pieces console pages share: the staff member's units with their names, form reading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import MediaType, Request, Response

from adapters.postgres.units.directory import PgUnitDirectory
from adapters.postgres.uow import PgUnitOfWork
from api.platform.problems import ProblemError, parse_validation_message
from api.platform.text_guard import NUL_RULE
from domain.identity.principal import Principal, StaffRole
from domain.units.model import Unit

Req = Request[Any, Any, Any]
S = TypeVar("S", bound=msgspec.Struct)


@dataclass(frozen=True)
class MyUnit:
    unit: Unit
    roles: tuple[StaffRole, ...]

    def name(self, lang: str) -> str:
        return self.unit.name_vi if lang == "vi" else self.unit.name_en


async def my_units(uow: PgUnitOfWork, staff: Principal) -> list[MyUnit]:
    """The units the staff member holds a role in, with their names (one query)."""
    units = await PgUnitDirectory(uow.conn).get_many(sorted(staff.unit_ids))
    return [MyUnit(unit, tuple(sorted(staff.roles_in(unit.id)))) for unit in units]


def see_other(location: str) -> Response[str]:
    """POST-redirect-GET: after a form, the browser loads the page again (a reload never re-posts)."""
    return Response(
        "", status_code=303, media_type=MediaType.TEXT, headers={"Location": location, "Cache-Control": "no-store"}
    )


def fields(form: Any, *names: str) -> dict[str, str]:
    """The named text fields of a posted form that were filled in (an empty optional field is "not given"),
    trimmed. A NUL character (which PostgreSQL cannot store) is refused here, as the API refuses it in JSON."""
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        if value in (None, ""):
            continue
        text = str(value).strip()
        if "\x00" in text:
            raise ProblemError(422, "validation_failed", errors=[(name, NUL_RULE, {})])
        out[name] = text
    return out


def form_as(struct: type[S], values: dict[str, Any]) -> S:
    """A form held to the API's schema for the same step (lengths, patterns, UUIDs, numbers given as text):
    422 naming the field otherwise."""
    try:
        return msgspec.convert(values, struct, strict=False)
    except msgspec.ValidationError as exc:
        raise ProblemError(422, "validation_failed", errors=[parse_validation_message(str(exc))]) from None
