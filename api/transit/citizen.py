"""Citizen endpoints: eligibility and concession documents, virtual cards, buying and claiming
passes, the phone's device key, pass credentials and trip history. Every card and pass id is
scoped to its holder (anyone else gets 404)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from adapters.blobs.images import sniff
from adapters.postgres.payments import PgPaymentIntents
from adapters.postgres.transit.cards import PgPasses
from api.identity.auth import SESSION_IN_QUERY, CurrentUser, deferred_session, level2_guard, settle_deferred_session
from api.payments.wiring import intent_creator
from api.platform.container import Container
from api.platform.deps import READ_ONLY_PRIMARY, AppContainer, UnitOfWork
from api.platform.idempotency import Fold, idempotent, idempotent_folded
from api.platform.params import Limit
from api.platform.problems import ProblemError, problem_spec
from api.transit.common import BEARER, deps, services
from api.transit.schemas import (
    ApplicationOut,
    CardIn,
    CardOut,
    CredentialOut,
    FreeClaimIn,
    OrderIn,
    PassOut,
    PurchaseOut,
    RevokeIn,
    TransitDeviceIn,
    TransitDeviceOut,
    TripOut,
    application_out,
    b64u,
    card_out,
    checkout_out,
    pass_out,
    trip_out,
    unb64u,
)
from domain.errors import InvalidInput
from domain.payments.intents import CreateIntent, IntentView
from domain.payments.model import PAID
from domain.shared.ids import new_id
from domain.shared.paging import Page
from domain.transit.model import Pass
from domain.transit.usecases import cards, gates, passes, purchase

# The card named in the body is not one of the caller's (or does not exist).
CARD_NOT_FOUND = {404: problem_spec("The card does not exist or belongs to someone else")}
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
UPLOAD_BODY_LIMIT = MAX_DOCUMENT_BYTES + 64 * 1024


class EligibilityOut(msgspec.Struct, kw_only=True):
    category: str
    eligible: bool
    rule: str | None = None     # why not: min_age, max_age, document_required, document_expired, ...


class DocumentUpload(msgspec.Struct):
    category: str
    file: UploadFile


def _purchase_out(quote: passes.Quote, key: str, view: IntentView, paid: Pass | None) -> PurchaseOut:
    intent = view.intent
    return PurchaseOut(order=key, amount_vnd=quote.amount_vnd, valid_from=quote.valid_from,
                       valid_until=quote.valid_until, payment_intent_id=intent.id, payment_status=intent.status.value,
                       payment_ref=intent.ref, expires_at=intent.expires_at, checkout=checkout_out(view.checkout),
                       pass_id=paid.id if paid else None)


async def _purchase(container: Container, uow: Any, principal: Any, order: passes.PassOrder,
                    fold: Fold | None) -> Response[PurchaseOut]:
    """The order's payment intent. With ``fold`` the answer is built from the intent's draft and its
    idempotency row goes in the intent's insert (one round trip for both, if the order is new)."""
    d = await deps(container, uow.conn)
    quote, key = await purchase.PlaceOrder(d).execute(principal, order)
    intents = PgPaymentIntents(uow.conn)
    creator = intent_creator(container, uow.conn, intents)
    cmd = CreateIntent(owner_id=principal.id, purpose=purchase.PASS_PURPOSE, object_id=key, amount=quote.amount_vnd,
                       description=f"Ve {quote.product.code} the {quote.card.number}")
    draft = await creator.draft(cmd)
    if fold is not None:
        intents.rider = fold.row(201, _purchase_out(quote, key, draft, None))
    view = await creator.execute(cmd, draft)
    paid = await d.passes.by_payment_ref(str(view.intent.id)) if view.intent.status in PAID else None
    return Response(_purchase_out(quote, key, view, paid), status_code=201)


class CitizenTransitController(Controller):
    path = "/transit"
    tags = ["transit"]
    security = BEARER

    # -- concessions -------------------------------------------------------------------------------

    @get("/eligibility/{category:str}", operation_id="transitEligibility",
         summary="Am I eligible for a passenger category today (age from my e-ID, approved documents)?")
    async def eligibility(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                          category: FromPath[str]) -> EligibilityOut:
        d = await deps(container, uow.conn)
        try:
            await cards.Eligibility(d).execute(principal.id, category)
        except InvalidInput as exc:
            if exc.code != "transit.not_eligible":
                raise
            return EligibilityOut(category=category, eligible=False, rule=exc.rule)
        return EligibilityOut(category=category, eligible=True)

    @post("/applications", operation_id="transitApplicationCreate", status_code=201, guards=[level2_guard],
          summary="Upload a student/worker card or certificate for staff to verify (multipart: category, file)",
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def apply(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)]
                    ) -> ApplicationOut:
        if not isinstance(getattr(data, "file", None), UploadFile):
            raise ProblemError(422, "transit.file_required", errors=[("file", "required", {})])
        content = await data.file.read(MAX_DOCUMENT_BYTES + 1)
        if len(content) > MAX_DOCUMENT_BYTES:
            raise ProblemError(413, "transit.file_too_large", limit=MAX_DOCUMENT_BYTES)
        kind = sniff(content)
        if kind is None:
            raise ProblemError(415, "transit.unsupported_file", errors=[("file", "image", {})])
        d = await deps(container, uow.conn)
        key = f"transit/applications/{principal.id}/{new_id()}.{kind}"
        application = await cards.SubmitApplication(d).execute(principal, str(data.category), key)
        blobs = services(container).blobs
        assert blobs is not None
        await blobs.put(key, content)  # after the checks: a refused upload leaves no file behind
        return application_out(application)

    @get("/applications", operation_id="transitApplicationList",
         summary="My concession applications, newest first (cursor paged)")
    async def applications(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                           cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[ApplicationOut]:
        found = await cards.ListApplications(await deps(container, uow.conn)).execute(principal, cursor, limit)
        return Page(items=[application_out(a) for a in found.items], next_cursor=found.next_cursor)

    # -- cards ------------------------------------------------------------------------------------

    @post("/cards", operation_id="transitCardCreate", status_code=201, guards=[level2_guard],
          summary="Open a virtual card in a category I am eligible for (several per account)",
          description="Send an Idempotency-Key: a retry returns the first card.")
    async def open_card(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                        uow: UnitOfWork, data: JSONBody[CardIn]) -> Response[CardOut]:
        async def run() -> Response[Any]:
            card = await cards.OpenCard(await deps(container, uow.conn)).execute(principal, data.category)
            return Response(card_out(card), status_code=201, headers={"Location": f"/api/v1/transit/cards/{card.id}"})
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @get("/cards", operation_id="transitCardList", summary="My virtual cards, oldest first (cursor paged)")
    async def cards_list(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[CardOut]:
        found = await cards.ListCards(await deps(container, uow.conn)).execute(principal, cursor, limit)
        return Page(items=[card_out(c) for c in found.items], next_cursor=found.next_cursor)

    @get("/cards/{card_id:uuid}", operation_id="transitCardGet", summary="One of my cards")
    async def card(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   card_id: FromPath[uuid.UUID]) -> CardOut:
        d = await deps(container, uow.conn)
        return card_out(await cards.OpenCard(d).own_card(principal, card_id))

    # -- passes -----------------------------------------------------------------------------------

    @post("/purchases", operation_id="transitPassPurchase", status_code=201, guards=[level2_guard],
          responses=CARD_NOT_FOUND,
          summary="Buy a pass: creates the order's payment intent; the pass is issued when payment succeeds",
          description="One payment intent per order (card, product, start date): buying the same again returns "
                      "the same intent. Send an Idempotency-Key as well.")
    async def buy(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                  uow: UnitOfWork, data: JSONBody[OrderIn]) -> Response[PurchaseOut]:
        order = passes.PassOrder(card_id=data.card_id, product_id=data.product_id, start_date=data.start_date)

        async def run(fold: Fold | None) -> Response[Any]:
            return await _purchase(container, uow, principal, order, fold)
        return await idempotent_folded(request, uow, f"user:{principal.id}", run)

    @post("/passes/{pass_id:uuid}/renewal", operation_id="transitPassRenew", status_code=201, guards=[level2_guard],
          summary="Renew a pass: the same card and product from the day after it ends (paid like a purchase)")
    async def renew(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                    uow: UnitOfWork, pass_id: FromPath[uuid.UUID]) -> Response[PurchaseOut]:
        async def run(fold: Fold | None) -> Response[Any]:
            order = await passes.RenewalOrder(await deps(container, uow.conn)).execute(principal, pass_id)
            return await _purchase(container, uow, principal, order, fold)
        return await idempotent_folded(request, uow, f"user:{principal.id}", run)

    @post("/passes/free", operation_id="transitPassClaimFree", status_code=201, guards=[level2_guard],
          responses=CARD_NOT_FOUND,
          summary="Claim a free pass (aged 60+, under 6, merit, disability, poor household)")
    async def claim_free(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                         uow: UnitOfWork, data: JSONBody[FreeClaimIn]) -> Response[PassOut]:
        async def run() -> Response[Any]:
            p = await purchase.ClaimFree(await deps(container, uow.conn)).execute(principal, data.card_id,
                                                                                  data.product_id)
            return Response(pass_out(p), status_code=201, headers={"Location": f"/api/v1/transit/passes/{p.id}"})
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @get("/passes", operation_id="transitPassList", summary="My passes, newest first (cursor paged)")
    async def passes_list(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                          cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[PassOut]:
        found = await passes.ListPasses(await deps(container, uow.conn)).execute(principal, cursor, limit)
        return Page(items=[pass_out(p) for p in found.items], next_cursor=found.next_cursor)

    @get("/passes/{pass_id:uuid}", operation_id="transitPassGet", summary="One of my passes")
    async def pass_get(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       pass_id: FromPath[uuid.UUID]) -> PassOut:
        return pass_out(await passes.GetPass(await deps(container, uow.conn)).execute(principal, pass_id))

    @post("/passes/{pass_id:uuid}/cancel", operation_id="transitPassCancel", status_code=200,
          summary="Cancel my pass: it stops at once, and offline once gates sync the deny list")
    async def cancel(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     pass_id: FromPath[uuid.UUID], data: JSONBody[RevokeIn]) -> PassOut:
        d = await deps(container, uow.conn)
        return pass_out(await passes.RevokePass(d).execute(principal, pass_id, data.reason))

    # -- device and credentials --------------------------------------------------------------------

    @put("/device", operation_id="transitDeviceBind", status_code=200,
         summary="Register my phone's P-256 public key (a new phone revokes the old binding)")
    async def bind(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   data: JSONBody[TransitDeviceIn]) -> TransitDeviceOut:
        public_key = unb64u(data.public_key, "public_key")
        proof = unb64u(data.proof, "proof")
        binding = await passes.BindDevice(await deps(container, uow.conn)).execute(principal, public_key, proof,
                                                                                   data.platform)
        return TransitDeviceOut(id=binding.id, public_key=b64u(binding.public_key), platform=binding.platform,
                         bound_at=binding.bound_at)

    @post("/passes/{pass_id:uuid}/credential", operation_id="transitCredentialIssue", status_code=200,
          summary="Get (or refresh) the pass credential for my bound phone, with the server time",
          opt={**READ_ONLY_PRIMARY, **SESSION_IN_QUERY})
    async def credential(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                         uow: UnitOfWork, pass_id: FromPath[uuid.UUID]) -> CredentialOut:
        # Issuing writes nothing (the credential is signed here): a read, on the primary even with a replica.
        issue = passes.IssueCredential(await deps(container, uow.conn))
        session_id = deferred_session(request)
        if session_id is None:  # checked on its own already
            issued = await issue.execute(principal, pass_id)
        else:
            # One round trip: the pass and the phone's binding, read only while the caller's session is live.
            facts = await PgPasses(uow.conn).credential_facts_in_session(principal.id, pass_id, session_id)
            issued = issue.issue(principal, settle_deferred_session(request, facts))
        return CredentialOut(credential=b64u(issued.credential), kid=issued.kid, pass_id=pass_id,
                             issued_at=issued.issued_at, expires_at=issued.expires_at,
                             server_time=issued.server_time, server_time_epoch=int(issued.server_time.timestamp()))

    @get("/trips", operation_id="transitTripHistory",
         summary="My trips (tap-in/tap-out pairs), newest first (cursor paged)")
    async def trips(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    days: Annotated[int, QueryParameter(ge=1, le=92)] = 30, cursor: FromQuery[str | None] = None,
                    limit: Limit = 20) -> Page[TripOut]:
        found = await gates.TripHistory(await deps(container, uow.conn)).execute(principal, days, cursor, limit)
        return Page(items=[trip_out(t) for t in found.items], next_cursor=found.next_cursor)
