"""Citizen endpoints: drafts pre-filled from the e-ID, documents, the fee quote, submit, withdraw,
supplement; my requests, my certificates (credential + signed PDF), share codes and who verified.
Every id is scoped to its requester/holder (anyone else gets 404)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from msgspec.structs import replace

from adapters.postgres.judicial.repositories import PgRequests
from api.identity.auth import CurrentUser
from api.judicial import schemas as s
from api.judicial.wiring import judicial_deps
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import Fold, idempotent_folded
from api.platform.params import Limit
from api.platform.problems import ProblemError
from domain.judicial.model import FeeBreakdown
from domain.judicial.usecases import citizen, sharing
from domain.judicial.usecases.common import FeePaymentOf
from domain.judicial.usecases.staff import RequestDocument

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
UPLOAD_BODY_LIMIT = 10 * 1024 * 1024 + 64 * 1024


class Upload(msgspec.Struct):
    file: UploadFile


class CitizenJudicialController(Controller):
    path = "/judicial"
    tags = ["judicial"]
    security = BEARER

    @post("/requests", operation_id="judicialDraftCreate", status_code=201,
          summary="Start a request (draft), pre-filled from the population database",
          description="For oneself (Mẫu 03): the fields VNeID knows are filled and listed in `prefilled` "
                      "(read-only). With `proxy_relation` (Mẫu 04, certificate No. 1 only) nothing is "
                      "pre-filled. Needs a level-2 e-ID. Send an Idempotency-Key.")
    async def create(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, data: JSONBody[s.DraftIn]) -> Response[dict[str, Any]]:
        async def run(fold: Fold | None) -> Response[Any]:
            d = await judicial_deps(container, uow.conn)
            cmd = s.to_domain(data, citizen.DraftInput)
            start, now = citizen.StartDraft(d), container.clock.now()
            draft, step = await start.draft(principal, cmd)
            headers = {"Location": f"/api/v1/judicial/requests/{draft.id}"}
            if fold is None:
                r = await start.execute(principal, cmd, (draft, step))
                return Response(s.request_out(r, now), status_code=201, headers=headers)
            # The answer before the insert, so that the key's row goes in the insert's statement (one round
            # trip fewer); the reference the insert draws replaces the blank, in SQL and in the row's body,
            # which is then the response itself: the answer is built and encoded once.
            assert isinstance(d.requests, PgRequests)
            blank = fold.blank()
            rider = d.requests.rider = fold.row(201, s.request_out(replace(draft, ref=blank), now), headers,
                                                blank=blank)
            r = await start.execute(principal, cmd, (draft, step))
            if rider.stored:  # the stored request is the draft with the reference drawn (PgRequests.add)
                return fold.response(headers)
            # The key was taken (a retry, or a concurrent request): the usual path answers, from this.
            return Response(s.request_out(r, now), status_code=201, headers=headers)
        return await idempotent_folded(request, uow, f"user:{principal.id}", run)

    @put("/requests/{request_id:uuid}", operation_id="judicialDraftUpdate", summary="Save my draft")
    async def update(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     request_id: FromPath[uuid.UUID], data: JSONBody[s.DraftIn]) -> dict[str, Any]:
        d = await judicial_deps(container, uow.conn)
        r = await citizen.UpdateDraft(d).execute(principal, request_id, s.to_domain(data, citizen.DraftInput))
        return s.request_out(r, container.clock.now())

    @post("/requests/{request_id:uuid}/documents", operation_id="judicialDocumentUpload", status_code=201,
          summary="Upload the proxy's authorisation (kind=proxy) or a fee category proof (kind=fee)",
          description="PDF, JPEG or PNG (checked by content), at most 10 MB; multipart field 'file'.",
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     request_id: FromPath[uuid.UUID], kind: FromQuery[str],
                     data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict[str, Any]:
        if not isinstance(getattr(data, "file", None), UploadFile):
            raise ProblemError(422, "judicial.field_required", errors=[("file", "required", {})])
        d = await judicial_deps(container, uow.conn)
        content = await data.file.read(d.settings.max_upload_bytes + 1)
        doc = await citizen.AttachDocument(d).execute(principal, request_id, kind, content,
                                                      data.file.content_type or "")
        out: dict[str, Any] = msgspec.to_builtins(doc)
        return out

    @get("/requests/{request_id:uuid}/documents/{key:path}", operation_id="judicialDocumentGet",
         summary="A file uploaded with my request", media_type="application/octet-stream")
    async def document(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       request_id: FromPath[uuid.UUID], key: FromPath[str]) -> Response[bytes]:
        ctype, content = await RequestDocument(await judicial_deps(container, uow.conn)).execute(
            principal, request_id, key.lstrip("/"))
        return Response(content, media_type=ctype, headers={"Cache-Control": "private, no-store"})

    @get("/requests/{request_id:uuid}/quote", operation_id="judicialQuote",
         summary="The fee breakdown if submitted now (base, reductions, extra copies, city support, postage)")
    async def quote(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    request_id: FromPath[uuid.UUID]) -> FeeBreakdown:
        return await citizen.Quote(await judicial_deps(container, uow.conn)).execute(principal, request_id)

    @post("/requests/{request_id:uuid}/submit", operation_id="judicialSubmit", status_code=200,
          summary="Submit my draft: priced by the rules of today (Hanoi), routed to the authority in force",
          description="`amount_due` of the stored fee is what the citizen still owes (e.g. postage); the "
                      "payment intent is created for it.")
    async def submit(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     request_id: FromPath[uuid.UUID], data: JSONBody[s.SubmitIn]) -> dict[str, Any]:
        d = await judicial_deps(container, uow.conn)
        r = await citizen.Submit(d).execute(principal, request_id, accepted_amount_due=data.accepted_amount_due)
        return s.request_out(r, container.clock.now(), fee_payment=await FeePaymentOf(d).execute(r))

    @post("/requests/{request_id:uuid}/withdraw", operation_id="judicialWithdraw", status_code=200,
          summary="Withdraw my request before the authority receives it (a draft is discarded)")
    async def withdraw(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       request_id: FromPath[uuid.UUID], data: JSONBody[s.WithdrawIn]) -> dict[str, Any]:
        r = await citizen.Withdraw(await judicial_deps(container, uow.conn)).execute(principal, request_id,
                                                                                    data.reason)
        return s.request_out(r, container.clock.now())

    @post("/requests/{request_id:uuid}/supplement", operation_id="judicialSupplement", status_code=200,
          summary="Answer the authority's supplement request (the deadline resumes)")
    async def supplement(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         request_id: FromPath[uuid.UUID], data: JSONBody[s.SupplementIn]) -> dict[str, Any]:
        r = await citizen.Supplement(await judicial_deps(container, uow.conn)).execute(
            principal, request_id, s.to_domain(data, citizen.SupplementInput))
        return s.request_out(r, container.clock.now())

    @get("/requests", operation_id="judicialMyRequests", summary="My requests, newest first (cursor paged)")
    async def mine(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   cursor: FromQuery[str | None] = None, limit: Limit = 20) -> dict[str, Any]:
        page = await citizen.MyRequests(await judicial_deps(container, uow.conn)).execute(principal, cursor, limit)
        now = container.clock.now()
        return {"items": [s.request_out(r, now) for r in page.items], "next_cursor": page.next_cursor}

    @get("/requests/{request_id:uuid}", operation_id="judicialMyRequest",
         summary="One of my requests with its steps (who and when)")
    async def one(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                  request_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        d = await judicial_deps(container, uow.conn)
        r, steps = await citizen.GetRequest(d).execute(principal, request_id)
        return s.request_out(r, container.clock.now(), steps, fee_payment=await FeePaymentOf(d).execute(r))

    @get("/certificates", operation_id="judicialMyCertificates", summary="My certificates and their live status")
    async def certificates(self, principal: CurrentUser, container: AppContainer,
                           uow: UnitOfWork) -> list[s.CertificateOut]:
        found = await sharing.MyCertificates(await judicial_deps(container, uow.conn)).execute(principal)
        return [s.certificate_out(c, st) for c, st in found]

    @get("/certificates/{certificate_id:uuid}/pdf", operation_id="judicialCertificatePdf",
         summary="Download my certificate as a PAdES-signed PDF", media_type="application/pdf")
    async def pdf(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                  certificate_id: FromPath[uuid.UUID]) -> Response[bytes]:
        cert, content = await sharing.DownloadPdf(await judicial_deps(container, uow.conn)).execute(
            principal, certificate_id)
        return Response(content, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{cert.number}.pdf"', "Cache-Control": "private, no-store"})

    @post("/certificates/{certificate_id:uuid}/shares", operation_id="judicialShareCreate", status_code=201,
          summary="Create a purpose-bound share code (shown once; No. 1 only; ≤ 90 days)")
    async def share(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    certificate_id: FromPath[uuid.UUID], data: JSONBody[s.ShareIn]) -> s.ShareOut:
        share, code = await sharing.CreateShareCode(await judicial_deps(container, uow.conn)).execute(
            principal, certificate_id, data.purpose, data.days)
        return s.share_out(share, code)

    @get("/shares", operation_id="judicialMyShares", summary="My share codes")
    async def shares(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> list[s.ShareOut]:
        found = await sharing.MyShareCodes(await judicial_deps(container, uow.conn)).execute(principal)
        return [s.share_out(x) for x in found]

    @delete("/shares/{share_id:uuid}", operation_id="judicialShareRevoke", status_code=204,
            summary="Revoke one of my share codes")
    async def revoke_share(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                           share_id: FromPath[uuid.UUID]) -> None:
        await sharing.RevokeShareCode(await judicial_deps(container, uow.conn)).execute(principal, share_id)

    @get("/verifications", operation_id="judicialMyVerifications",
         summary="Every use of my share codes (who, for what, outcome, when)")
    async def verifications(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                            certificate_id: FromQuery[uuid.UUID | None] = None) -> list[s.VerificationOut]:
        found = await sharing.MyVerifications(await judicial_deps(container, uow.conn)).execute(
            principal, certificate_id)
        return [s.verification_out(v) for v in found]


def client_key(request: Request[Any, Any, Any]) -> str:
    """A keyed hash of the caller's address for limits and the holder's log (never the address)."""
    client = request.scope.get("client")
    peer = str(client[0]) if client else "unknown"
    return hashlib.sha256(b"thudo/judicial/client\x00" + peer.encode()).hexdigest()[:32]
