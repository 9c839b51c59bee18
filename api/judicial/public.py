"""Public endpoints for verifiers: share code + date of birth → credential and live status (rate
limited per client and per code), the PDF's QR status page, the issuers' JWKS and the Bitstring
Status List credentials (cacheable). No login."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from adapters.postgres.judicial.repositories import PgStatusLists
from api.judicial import schemas as s
from api.judicial.citizen import client_key
from api.judicial.wiring import judicial_deps, services
from api.platform.conditional import not_modified, strong_etag
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.problems import problem_response, problem_spec
from domain.errors import NotFound
from domain.judicial.model import VerificationOutcome
from domain.judicial.usecases import sharing

JWKS_PATH = "/api/v1/public/judicial/jwks"


VERIFY_RESPONSES = {
    404: problem_spec("Unknown code, or a date of birth that does not match it"),
    410: problem_spec("The share code expired or was revoked by the holder"),
    429: problem_spec("Too many attempts from this client or on this code (Retry-After)"),
}
_REFUSED = {
    VerificationOutcome.WRONG_DATE_OF_BIRTH: (404, "judicial.share_code_not_found"),
    VerificationOutcome.CODE_EXPIRED: (410, "judicial.share_code_expired"),
    VerificationOutcome.CODE_REVOKED: (410, "judicial.share_code_revoked"),
    VerificationOutcome.LOCKED: (429, "judicial.verify_rate_limited"),
}


class PublicJudicialController(Controller):
    path = "/public/judicial"
    tags = ["judicial verification"]

    @post("/verifications", operation_id="judicialVerifyShareCode", status_code=200, responses=VERIFY_RESPONSES,
          summary="Verify a certificate with the holder's share code and date of birth",
          description="Returns the credential (vc+jwt) and its live status: valid, revoked, suspended or "
                      "expired. A wrong date of birth is indistinguishable from an unknown code (404); five "
                      "wrong dates lock the code for 15 minutes (429). Expired or revoked codes: 410. Every "
                      "use is logged and shown to the holder.")
    async def verify(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                     data: JSONBody[s.VerifyIn]) -> Response[s.VerifiedOut]:
        result = await sharing.VerifyShareCode(await judicial_deps(container, uow.conn)).execute(
            sharing.VerifyInput(code=data.code, date_of_birth=data.date_of_birth, verifier=data.verifier,
                                client=client_key(request)))
        if result.outcome is not VerificationOutcome.SHOWN or result.certificate is None:
            # Returned, not raised: the attempt that was counted and logged must commit.
            status, code = _REFUSED[result.outcome]
            headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
            # A refusal is problem+json, documented in VERIFY_RESPONSES; the annotation types the 200.
            return problem_response(request, status, code, headers=headers)  # type: ignore[return-value]
        c = result.certificate
        assert result.status is not None
        assert result.share_expires_at is not None
        return Response(s.VerifiedOut(
            status=result.status.value, certificate_number=c.number, certificate_type=c.certificate_type.value,
            issued_at=c.issued_at, valid_until=c.valid_until, purpose=result.purpose,
            share_expires_at=result.share_expires_at, vc_jwt=c.vc_jwt,
            jwks_url=f"{container.settings.base_url}{JWKS_PATH}"), headers={"Cache-Control": "no-store"})

    @get("/verify/{token:str}", operation_id="judicialPublicStatus",
         summary="The status page the PDF's QR code opens: number, dates and live status (no personal data)")
    async def status(self, container: AppContainer, uow: UnitOfWork, token: FromPath[str]) -> s.PublicStatusOut:
        if len(token) > 64:
            raise NotFound("judicial.certificate_not_found")
        cert, st = await sharing.PublicStatus(await judicial_deps(container, uow.conn)).execute(token)
        return s.PublicStatusOut(certificate_number=cert.number, certificate_type=cert.certificate_type.value,
                                 authority_code=cert.authority_code, issued_at=cert.issued_at,
                                 valid_until=cert.valid_until, status=st.value)

    @get("/jwks", operation_id="judicialJwks", summary="The issuing authorities' public keys (current and retired)")
    async def jwks(self, container: AppContainer, uow: UnitOfWork) -> Response[dict[str, Any]]:
        certs = await services(container).certificates(uow.conn)
        return Response(certs.issuers.jwks, headers={"Cache-Control": "public, max-age=3600"})

    @get("/issuers/{code:str}", operation_id="judicialIssuer", summary="An issuing authority (the VC issuer id)")
    async def issuer(self, container: AppContainer, uow: UnitOfWork, code: FromPath[str]) -> dict[str, Any]:
        schedule = await services(container).authorities(uow.conn)
        period = next((p for p in schedule.periods if p.code == code), None)
        if period is None:
            raise NotFound("judicial.issuer_not_found")
        return {"id": f"{container.settings.base_url}/api/v1/public/judicial/issuers/{code}",
                "name": period.name_vi, "name_en": period.name_en,
                "effective_from": period.effective_from.isoformat(),
                "effective_to": period.effective_to.isoformat() if period.effective_to else None,
                "jwks_uri": f"{container.settings.base_url}{JWKS_PATH}"}

    @get("/status-lists/{list_id:uuid}", operation_id="judicialStatusList", media_type="application/vc+jwt",
         summary="A Bitstring Status List credential (vc+jwt), cacheable until it expires",
         description="Verifiers poll this. The answer carries a strong `ETag` (a hash of the exact credential) "
                     "and `Cache-Control: public, max-age=…, must-revalidate` (the seconds the credential has "
                     "left before it is re-signed, at most 4 minutes): send the ETag back in `If-None-Match` "
                     "and get a body-less 304 while the same credential is served. It changes when a "
                     "certificate of the list is revoked, suspended or reinstated, and when it is re-signed "
                     "before its `validUntil`.",
         responses={304: ResponseSpec(None, description="Not modified: the credential of `If-None-Match`")})
    async def status_list(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                          list_id: FromPath[uuid.UUID]) -> Response[str]:
        view = await PgStatusLists(uow.conn).view(list_id)
        if view is None:
            raise NotFound("judicial.status_list_not_found")
        certs = await services(container).certificates(uow.conn)
        now = container.clock.now()
        token, until = certs.publisher.get(view.id, view.authority_code, view.purpose, view.size, view.version,
                                           view.set_indexes, now)
        # Until a minute before ``validUntil`` the same credential is served (then it is re-signed): a cache
        # keeps it no longer than that, and revalidates rather than serve it stale.
        max_age = max(0, int((until - now).total_seconds()) - 60)
        etag = strong_etag(token.encode())
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}, must-revalidate"}
        if not_modified(request, etag):
            return Response("", status_code=304, headers=headers)
        return Response(token, media_type="application/vc+jwt", headers=headers)
