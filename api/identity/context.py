"""The identity context's registration: e-ID login, our tokens, the person's account, administration."""

from __future__ import annotations

from typing import Any

import asyncpg

from adapters.dev.vneid_release import parse_release
from adapters.postgres.identity.seed import seed_identity
from adapters.postgres.uow import PgUnitOfWork
from api.identity.admin import ClientsController, Open311KeysController, StaffGrantsController, UsersController
from api.identity.cli import COMMANDS
from api.identity.login import AuthController, JwksController
from api.identity.me import MeController
from api.identity.support import my_account
from api.identity.wiring import build_identity, build_pii, prepare, vneid_standin
from api.platform.container import Container
from api.platform.context import Context
from api.platform.settings import Settings, Spec
from domain.identity.principal import Principal


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    return await my_account(container, uow).export(principal.id)


async def _seed(conn: asyncpg.Connection[Any], settings: Settings) -> None:
    # Demo staff/admin grants are keyed by the personal id's keyed hash.
    await seed_identity(conn, build_pii(settings))


IDENTITY = Context(
    name="identity",
    api_v1=[AuthController, MeController, StaffGrantsController, UsersController, ClientsController,
            Open311KeysController],
    root=[JwksController],
    services=build_identity,
    exporter=_export,
    seed=_seed,
    standins=vneid_standin,
    prepare=prepare,
    commands=COMMANDS,
    settings={
        "vneid_standin_release": Spec(
            "VNEID_STANDIN_RELEASE", parse_release, "",
            'Local VNeID stand-in only: claims per scope and acr values, as a provider publishes them, JSON '
            '{"scopes": {scope: {field: claim}}, "acr": {"1": v, "2": v}}. Empty: profile = HoVaTen, '
            'NgayThangNamSinh; citizen_id = SoDinhDanh, level; acr 1/2.'),
    },
)
