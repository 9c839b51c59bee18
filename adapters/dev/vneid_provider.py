"""Local stand-in for VNeID: a real OpenID Connect provider over HTTP (development and tests only).

It speaks the protocol the production adapter speaks (discovery, PAR, authorize, token with PKCE
and client authentication, JWKS, userinfo), so ``adapters.vneid`` runs unchanged against it; only
the issuer and credentials differ. Mounted at ``/dev/vneid`` when ``STANDINS`` is on.

Codes, pushed requests and access tokens are sealed (AES-GCM) rather than stored, and the signing
and sealing keys live under ``DATA_DIR/keys``, so several server workers agree on them. What stays
per process: single-use bookkeeping, people added through ``POST /people`` and ``/rotate-keys``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlencode

import jwt
import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Request, Response, Router, get, post
from litestar.enums import MediaType
from litestar.params import Body

from adapters.dev import vneid_pages
from adapters.dev.vneid_release import ReleasePolicy
from adapters.vneid.client import ASSERTION_TYPE, pkce_challenge
from adapters.vneid.config import STANDIN_PATH, client_key_path, console_redirect_uri_from, redirect_uri_from
from adapters.vneid.keys import (
    PrivateKey,
    PublicKey,
    b64url,
    ensure_ec_key_file,
    load_private_key,
    new_rsa_key,
    pem,
    public_jwk,
    signing_alg,
    write_once,
)

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
CODE_TTL_S, PAR_TTL_S, PENDING_TTL_S, TOKEN_TTL_S = 60, 90, 600, 300


class Person(msgspec.Struct, frozen=True, kw_only=True):
    personal_id: Annotated[str, msgspec.Meta(pattern=r"^\d{12}$")]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date_of_birth: str = msgspec.field(default="")  # dd/mm/yyyy, as VNeID writes it
    level: Annotated[int, msgspec.Meta(ge=1, le=2)] = 2
    role: str = "công dân"


class PersonIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    personal_id: Annotated[str, msgspec.Meta(pattern=r"^\d{12}$")]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    date_of_birth: Annotated[str, msgspec.Meta(pattern=r"^\d{2}/\d{2}/\d{4}$")]
    level: Annotated[int, msgspec.Meta(ge=1, le=2)]


class RotateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    keep_old: bool = True


# Well-formed but fictitious: 001 = Hà Nội, then century/sex digit, birth year, serial.
DEMO_PEOPLE: tuple[Person, ...] = (
    Person(personal_id="001085000101", full_name="Nguyễn Văn An", date_of_birth="12/03/1985", level=2,
           role="công dân mức 2"),
    Person(personal_id="001192000202", full_name="Trần Thị Bình", date_of_birth="25/07/1992", level=1,
           role="công dân mức 1"),
    Person(personal_id="001080000303", full_name="Lê Văn Cường", date_of_birth="02/11/1980", level=2,
           role="cán bộ phường"),
    Person(personal_id="001175000404", full_name="Phạm Thị Dung", date_of_birth="20/01/1975", level=2,
           role="quản trị thành phố"),
)


@dataclass
class RegisteredClient:
    client_id: str
    public_key: PublicKey | None = None
    secret: str = ""
    redirect_uris: tuple[str, ...] = ()  # registered redirect URIs; empty: any absolute URI (tests)


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.status = error, status


@dataclass
class StandInProvider:
    issuer: str
    clients: dict[str, RegisteredClient]
    signing_keys: list[tuple[str, PrivateKey]]
    seal_key: bytes
    people: dict[str, Person] = field(default_factory=lambda: {p.personal_id: p for p in DEMO_PEOPLE})
    used: dict[str, float] = field(default_factory=dict)
    jwks_requests: int = 0
    advertise_par: bool = True  # tests switch it off to exercise the plain authorization request
    release: ReleasePolicy = field(default_factory=ReleasePolicy)

    # --- sealed, self-contained artefacts -------------------------------------------------------
    def seal(self, kind: str, payload: dict[str, Any], ttl: int) -> str:
        body = msgspec.json.encode({**payload, "jti": secrets.token_urlsafe(12), "exp": time.time() + ttl})
        nonce = os.urandom(12)
        return b64url(nonce + AESGCM(self.seal_key).encrypt(nonce, body, kind.encode()))

    def unseal(self, kind: str, value: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            payload: dict[str, Any] = json.loads(AESGCM(self.seal_key).decrypt(raw[:12], raw[12:], kind.encode()))
        except (ValueError, InvalidTag):
            return None
        return payload if payload["exp"] > time.time() else None

    def consume(self, jti: str, exp: float) -> bool:
        """Single use: False when ``jti`` was seen before (codes, request URIs, client assertions)."""
        now = time.time()
        if len(self.used) > 10_000:
            self.used = {k: v for k, v in self.used.items() if v > now}
        if jti in self.used:
            return False
        self.used[jti] = exp
        return True

    def subject(self, personal_id: str) -> str:
        # Stable per person like Keycloak's user id, without exposing the personal id number.
        return str(hmac.new(self.seal_key, personal_id.encode(), hashlib.sha256).hexdigest()[:32])

    # --- endpoints' logic -----------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        base = self.issuer
        meta: dict[str, Any] = {
            "issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo", "jwks_uri": f"{base}/jwks",
            "pushed_authorization_request_endpoint": f"{base}/par",
            "response_types_supported": ["code"], "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": self.release.scopes_supported,
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic",
                                                      "client_secret_post"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "acr_values_supported": [self.release.acr[level] for level in sorted(self.release.acr)],
            "claims_supported": self.release.claims_supported,
            "authorization_response_iss_parameter_supported": True,
        }
        if not self.advertise_par:
            del meta["pushed_authorization_request_endpoint"]
        return meta

    def jwks(self) -> dict[str, Any]:
        self.jwks_requests += 1
        return {"keys": [public_jwk(key) for _, key in self.signing_keys]}

    def rotate(self, keep_old: bool) -> str:
        key = new_rsa_key()
        kid = str(public_jwk(key)["kid"])
        self.signing_keys = [(kid, key), *(self.signing_keys if keep_old else [])]
        return kid

    def client_for_redirect(self, params: Mapping[str, str]) -> RegisteredClient:
        """Checks that must not redirect (OAuth 2.0 §4.1.2.1): unknown client or bad redirect URI."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise OAuthError("unknown client_id")
        if not params.get("redirect_uri", "").partition(":")[2]:
            raise OAuthError("redirect_uri is missing or not absolute")
        if client.redirect_uris and params["redirect_uri"] not in client.redirect_uris:
            raise OAuthError("invalid_request")  # Keycloak: "Invalid parameter: redirect_uri"
        return client

    def check_authorization(self, params: Mapping[str, str]) -> dict[str, str]:
        """Validates an authorization request; returns only the fields the provider keeps."""
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type")
        if "openid" not in params.get("scope", "").split():
            raise OAuthError("invalid_scope")
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) != 43:
            raise OAuthError("invalid_request")  # PKCE S256 is mandatory here
        keep = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                "code_challenge_method", "acr_values", "login_hint")
        return {k: params[k] for k in keep if params.get(k)}

    def authenticate(self, form: Mapping[str, str], headers: Mapping[str, str]) -> RegisteredClient:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                ident, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                raise OAuthError("invalid_client", 401) from None
            return self._by_secret(unquote_plus(ident), unquote_plus(secret))
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            return self._by_assertion(form.get("client_assertion", ""), form.get("client_id"))
        if form.get("client_secret"):
            return self._by_secret(form.get("client_id", ""), form["client_secret"])
        raise OAuthError("invalid_client", 401)

    def _by_secret(self, client_id: str, secret: str) -> RegisteredClient:
        client = self.clients.get(client_id)
        if client is None or not client.secret or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise OAuthError("invalid_client", 401)
        return client

    def _by_assertion(self, assertion: str, client_id: str | None) -> RegisteredClient:
        try:
            claimed = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
            client = self.clients.get(claimed)
            if client is None or client.public_key is None or (client_id and client_id != claimed):
                raise OAuthError("invalid_client", 401)
            claims = jwt.decode(
                assertion, client.public_key, algorithms=[signing_alg(client.public_key)], issuer=claimed,
                audience=[self.issuer, f"{self.issuer}/token", f"{self.issuer}/par"], leeway=5,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", 401) from None
        if claims["sub"] != claimed or claims["exp"] - claims["iat"] > 300 or \
                not self.consume("assertion:" + str(claims["jti"]), float(claims["exp"])):
            raise OAuthError("invalid_client", 401)
        return client

    def issue_code(self, request: Mapping[str, str], person: Person) -> str:
        return self.seal("code", {**request, "person": msgspec.to_builtins(person), "auth_time": int(time.time())},
                         CODE_TTL_S)

    def redirect_with(self, request: Mapping[str, str], **params: str) -> str:
        if request.get("state"):
            params["state"] = request["state"]
        params["iss"] = self.issuer  # RFC 9207: lets the client detect mix-up attacks
        sep = "&" if "?" in request["redirect_uri"] else "?"
        return request["redirect_uri"] + sep + urlencode(params)

    def exchange(self, form: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Any]:
        client = self.authenticate(form, headers)
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type")
        code = self.unseal("code", form.get("code", ""))
        if code is None or code["client_id"] != client.client_id or not self.consume("code:" + code["jti"],
                                                                                       code["exp"]):
            raise OAuthError("invalid_grant")  # unknown, expired, another client's or already used
        verifier = form.get("code_verifier", "")
        if form.get("redirect_uri") != code["redirect_uri"] or not 43 <= len(verifier) <= 128 or \
                not hmac.compare_digest(pkce_challenge(verifier), code["code_challenge"]):
            raise OAuthError("invalid_grant")
        person = msgspec.convert(code["person"], Person)
        sub = self.subject(person.personal_id)
        access = self.seal("access", {"sub": sub, "client_id": client.client_id, "person": code["person"],
                                      "scope": self.granted_scopes(code)}, TOKEN_TTL_S)
        return {"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_TTL_S,
                "scope": " ".join(self.granted_scopes(code)),
                "id_token": self.id_token(client.client_id, sub, person, code, access)}

    def id_token(self, client_id: str, sub: str, person: Person, code: Mapping[str, Any], access: str) -> str:
        now = int(time.time())
        kid, key = self.signing_keys[0]
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": sub, "aud": client_id, "azp": client_id, "iat": now,
            "exp": now + TOKEN_TTL_S, "auth_time": code["auth_time"], "acr": self.release.acr[person.level],
            "at_hash": b64url(hashlib.sha256(access.encode()).digest()[:16]),
        }
        if code.get("nonce"):
            claims["nonce"] = code["nonce"]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def userinfo(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        access = self.unseal("access", token.strip()) if scheme.lower() == "bearer" else None
        if access is None:
            raise OAuthError("invalid_token", 401)
        person = msgspec.convert(access["person"], Person)
        values: dict[str, object] = {"personal_id": person.personal_id, "full_name": person.full_name,
                                     "date_of_birth": person.date_of_birth, "level": person.level}
        # OIDC Core §5.4: claims only under the scopes that carry them; openid alone gives just sub.
        return {"sub": access["sub"], **self.release.claims_for(access["scope"], values)}

    def granted_scopes(self, request: Mapping[str, Any]) -> list[str]:
        """Requested scopes the provider knows (unknown ones are ignored, as OAuth 2.0 §3.3 allows)."""
        supported = self.release.scopes_supported
        return [s for s in str(request.get("scope", "")).split() if s in supported]


# --- HTTP ---------------------------------------------------------------------------------------
def _oauth_error(exc: OAuthError) -> Response[Any]:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"' if exc.error == "invalid_token" else "Basic"
    return Response({"error": exc.error}, status_code=exc.status, headers=headers)


def _html(body: str, status: int = 200) -> Response[str]:
    return Response(body, status_code=status, media_type=MediaType.HTML,
                    headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _redirect(location: str, status: int = 302) -> Response[str]:
    return Response("", status_code=status, headers={"Location": location, "Cache-Control": "no-store"})


def standin_router(provider: StandInProvider, path: str = STANDIN_PATH) -> Router:
    """The provider's endpoints. Left out of our OpenAPI: they imitate an external system."""

    @get("/.well-known/openid-configuration", sync_to_thread=False)
    def discovery() -> dict[str, Any]:
        return provider.metadata()

    @get("/jwks", sync_to_thread=False)
    def jwks() -> dict[str, Any]:
        return provider.jwks()

    def _approve_or_show(request: dict[str, str], hint: str | None) -> Response[str]:
        person = provider.people.get(hint or "")
        if person is not None:  # automation: login_hint picks the person without a page
            return _redirect(provider.redirect_with(request, code=provider.issue_code(request, person)))
        pending = provider.seal("pending", request, PENDING_TTL_S)
        notice = "Không tìm thấy người dùng theo login_hint" if hint else ""
        return _html(vneid_pages.consent_page(list(provider.people.values()), pending, request["client_id"], notice))

    @get("/authorize", sync_to_thread=False)
    def authorize(request: Request[Any, Any, Any]) -> Response[str]:
        query = {k: v for k, v in request.query_params.items()}
        if "request_uri" in query:
            pushed = provider.unseal("par", query["request_uri"].removeprefix(REQUEST_URI_PREFIX))
            if pushed is None or pushed["client_id"] != query.get("client_id") or \
                    not provider.consume("par:" + pushed["jti"], pushed["exp"]):
                return _html(vneid_pages.error_page("request_uri is unknown, expired or used"), 400)
            params = {k: v for k, v in pushed.items() if k not in ("jti", "exp")}
        else:
            params = query
        try:
            provider.client_for_redirect(params)
        except OAuthError as exc:
            return _html(vneid_pages.error_page(exc.error), 400)
        try:
            kept = provider.check_authorization(params)
        except OAuthError as exc:
            return _redirect(provider.redirect_with(params, error=exc.error))
        return _approve_or_show(kept, query.get("login_hint") or kept.get("login_hint"))

    @post("/authorize", status_code=303)
    async def approve(request: Request[Any, Any, Any]) -> Response[str]:
        form = await request.form()
        pending = provider.unseal("pending", str(form.get("pending", "")))
        cancelled = form.get("action") == "cancel"
        person = provider.people.get(str(form.get("personal_id", "")))
        if pending is None or (person is None and not cancelled) or \
                not provider.consume("pending:" + pending["jti"], pending["exp"]):
            return _html(vneid_pages.error_page("the login page expired or was already used"), 400)
        request_params = {k: v for k, v in pending.items() if k not in ("jti", "exp")}
        if cancelled or person is None:  # RFC 6749 §4.1.2.1: the user refused
            return _redirect(provider.redirect_with(request_params, error="access_denied"), 303)
        return _redirect(provider.redirect_with(request_params, code=provider.issue_code(request_params, person)),
                         303)

    @post("/par", status_code=201)
    async def par(request: Request[Any, Any, Any]) -> Response[Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = provider.authenticate(form, request.headers)
            if form.get("client_id", client.client_id) != client.client_id or "request_uri" in form:
                raise OAuthError("invalid_request")
            provider.client_for_redirect({**form, "client_id": client.client_id})
            kept = provider.check_authorization({**form, "client_id": client.client_id})
        except OAuthError as exc:
            return _oauth_error(exc)
        return Response({"request_uri": REQUEST_URI_PREFIX + provider.seal("par", kept, PAR_TTL_S),
                         "expires_in": PAR_TTL_S}, status_code=201, headers={"Cache-Control": "no-store"})

    @post("/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            body = provider.exchange(form, request.headers)
        except OAuthError as exc:
            return _oauth_error(exc)
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @get("/userinfo", sync_to_thread=False)
    def userinfo(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            return Response(provider.userinfo(request.headers.get("authorization", "")),
                            headers={"Cache-Control": "no-store"})
        except OAuthError as exc:
            return _oauth_error(exc)

    @get("/app-callback", sync_to_thread=False)
    def app_callback(request: Request[Any, Any, Any]) -> Response[str]:
        keep = ("code", "state", "iss", "error")
        return _html(vneid_pages.app_callback_page({k: v for k, v in request.query_params.items() if k in keep}))

    @post("/people", status_code=201, sync_to_thread=False)
    def add_person(data: Annotated[PersonIn, Body()]) -> dict[str, Any]:
        person = Person(**msgspec.structs.asdict(data), role="người kiểm thử")
        provider.people[person.personal_id] = person
        return {"personal_id": person.personal_id, "sub": provider.subject(person.personal_id)}

    @post("/rotate-keys", status_code=200, sync_to_thread=False)
    def rotate_keys(data: Annotated[RotateIn, Body()]) -> dict[str, Any]:
        kid = provider.rotate(data.keep_old)
        return {"kid": kid, "kids": [k for k, _ in provider.signing_keys]}

    return Router(path=path, include_in_schema=False, opt={"vneid_standin": provider},
                  route_handlers=[discovery, jwks, authorize, approve, par, token, userinfo, app_callback,
                                  add_person, rotate_keys])


# --- wiring from settings -----------------------------------------------------------------------
@dataclass(frozen=True)
class DevKeys:
    client_key: PrivateKey
    signing_key: PrivateKey
    seal_key: bytes


def ensure_vneid_dev_keys(settings: Any) -> DevKeys:
    """Create (once, race-safe) the RP's client key and the stand-in's keys under DATA_DIR/keys.

    ``thudo serve`` calls this before spawning workers so that every worker reads the same files.
    """
    keys_dir = Path(settings.data_dir) / "keys"
    client_key = ensure_ec_key_file(client_key_path(settings))
    signing = load_private_key(write_once(keys_dir / "vneid-standin-signing.pem", lambda: pem(new_rsa_key())))
    seal = write_once(keys_dir / "vneid-standin-seal.key", lambda: secrets.token_bytes(32))
    return DevKeys(client_key=client_key, signing_key=signing, seal_key=seal)


def vneid_standin_router(settings: Any) -> Router:
    keys = ensure_vneid_dev_keys(settings)
    # Registered like at a real provider: our client key and our redirect URIs only (the app's, the console's).
    client = RegisteredClient(settings.vneid_client_id, public_key=keys.client_key.public_key(),
                              secret=settings.vneid_client_secret,
                              redirect_uris=(redirect_uri_from(settings), console_redirect_uri_from(settings)))
    provider = StandInProvider(issuer=str(settings.base_url) + STANDIN_PATH, clients={client.client_id: client},
                               signing_keys=[(public_jwk(keys.signing_key)["kid"], keys.signing_key)],
                               seal_key=keys.seal_key,
                               release=settings.of("vneid_standin_release", ReleasePolicy))
    return standin_router(provider)
