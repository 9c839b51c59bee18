"""The validator API (gates, bus readers, inspector handsets): registered machine clients of kind
``validator`` only. Issuer keys with windows, the signed deny list (delta or snapshot), batch tap
upload and online validation (docs/transit-validators.md)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from adapters.postgres.uow import PgUnitOfWork
from api.identity.auth import CLIENT_KIND_OPT, CurrentClient
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.lean import LEAN
from api.transit.common import BEARER, deps, services
from api.transit.schemas import (
    KeysOut,
    TapBatchIn,
    TapBatchOut,
    ValidateIn,
    VerdictOut,
    key_out,
    unb64u,
)
from domain.identity.access import require_client_kind
from domain.identity.principal import ClientKind
from domain.transit.codes import Network
from domain.transit.model import Medium
from domain.transit.usecases import gates
from domain.transit.validation import Gate

DENY_MEDIA = "application/octet-stream"


class ValidatorTransitController(Controller):
    path = "/transit/validator"
    tags = ["transit validators"]
    security = BEARER
    # Before the body is read: only registered validator devices (a facility client or a citizen is 403).
    opt = {CLIENT_KIND_OPT: ClientKind.VALIDATOR}

    @get("/keys", operation_id="transitValidatorKeys",
         summary="Issuer public keys with their validity windows (docs/transit-qr.md §10)")
    async def keys(self, client_principal: CurrentClient, container: AppContainer, uow: UnitOfWork) -> KeysOut:
        require_client_kind(client_principal, ClientKind.VALIDATOR)
        found = await gates.PublishedKeys(await deps(container, uow.conn)).execute()
        return KeysOut(keys=[key_out(k) for k in found])

    @get("/deny-list", operation_id="transitValidatorDenyList", media_type=DENY_MEDIA,
         summary="The issuer-signed deny list: the delta after ?since=N, or a snapshot without it",
         description="Binary document of docs/transit-qr.md §8. Headers: X-Deny-List-Type (snapshot|delta), "
                     "X-Deny-From-Seq, X-Deny-To-Seq, X-Deny-Count.")
    async def deny_list(self, client_principal: CurrentClient, container: AppContainer, uow: UnitOfWork,
                        since: Annotated[int | None, QueryParameter(ge=0, le=2**62)] = None) -> Response[bytes]:
        require_client_kind(client_principal, ClientKind.VALIDATOR)
        doc = await gates.BuildDenyList(await deps(container, uow.conn)).execute(client_principal, since)
        return Response(doc.document, media_type=DENY_MEDIA, headers={
            "X-Deny-List-Type": doc.list_type.name.lower(), "X-Deny-From-Seq": str(doc.from_seq),
            "X-Deny-To-Seq": str(doc.to_seq), "X-Deny-Count": str(doc.count), "Cache-Control": "no-store"})

    @post("/taps", operation_id="transitValidatorTaps", status_code=200,
          summary="Upload a batch of up to 1,000 taps (idempotent by tap id; late and out-of-order accepted)")
    async def taps(self, request: Request[Any, Any, Any], client_principal: CurrentClient, container: AppContainer,
                   uow: UnitOfWork, data: JSONBody[TapBatchIn]) -> Response[TapBatchOut]:
        require_client_kind(client_principal, ClientKind.VALIDATOR)
        rows = [gates.TapIn(id=t.id, medium=Medium(t.medium), subject_id=t.subject_id, direction=t.direction,
                            network=Network(t.network), route=t.route, stop=t.stop, occurred_at=t.occurred_at,
                            code_timestamp=t.code_timestamp, counter=t.counter, accepted=t.accepted, reason=t.reason)
                for t in data.taps]

        async def run() -> Response[Any]:
            received, inserted = await gates.UploadTaps(await deps(container, uow.conn)).execute(
                client_principal, rows)
            return Response(TapBatchOut(received=received, inserted=inserted), status_code=200)
        return await idempotent(request, uow, f"client:{client_principal.id}", run)

    @post("/validate", operation_id="transitValidatorValidate", status_code=200, opt=LEAN,
          summary="Online validation fallback: the reference checks with the server's live deny list and taps")
    async def validate(self, client_principal: CurrentClient, container: AppContainer,
                       data: JSONBody[ValidateIn]) -> VerdictOut:
        require_client_kind(client_principal, ClientKind.VALIDATOR)
        code = unb64u(data.code, "code")
        s = services(container)
        # Its own unit of work: a transaction only when the use case may write more than one row.
        async with PgUnitOfWork(container.pool,
                                autocommit=not gates.ValidateOnline.needs_transaction(code)) as uow:
            verdict = await gates.ValidateOnline(await deps(container, uow.conn), s.trust, s.credentials).execute(
                client_principal, code, Gate(Network(data.network), data.route, data.direction), data.stop,
                data.tap_id)
            await uow.commit()
        facts = verdict.facts
        return VerdictOut(accepted=verdict.accepted, reason=verdict.reason.value if verdict.reason else None,
                          kind=verdict.kind, pass_id=facts.pass_id if facts else None,
                          product=facts.product.slug if facts else None, category=facts.category if facts else None)
