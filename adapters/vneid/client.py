"""VNeID relying party: implements ``domain.identity.eid.EIdProvider`` as a confidential OIDC client.

Authorization code flow with PKCE S256, pushed authorization requests when the provider advertises
them, ``private_key_jwt`` client authentication (client secret as fallback), full ID token
validation and a userinfo read whose claims are mapped by configuration.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt
import msgspec

from adapters.vneid import errors
from adapters.vneid.config import ConfigError, VNeIDConfig, config_from_settings
from adapters.vneid.discovery import MAX_DOCUMENT_BYTES, Discovery, JwksCache, ProviderMetadata
from adapters.vneid.keys import PrivateKey, b64url, load_private_key, public_jwk, signing_alg
from adapters.vneid.tokens import validate_id_token
from domain.identity.eid import AuthorizationRequest, EIdIdentity

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 60  # well under the 2-minute ceiling FAPI 2.0 profiles demand
PERSONAL_ID = re.compile(r"\d{12}")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y%m%d", "%d.%m.%Y")


class TokenResponse(msgspec.Struct):
    access_token: str
    id_token: str
    token_type: str


def pkce_challenge(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def parse_date(value: Any) -> dt.date | None:
    """VNeID documents write dates as dd/mm/yyyy; standard providers use ISO 8601 (birthdate)."""
    if not isinstance(value, str):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


class VNeIDClient:
    def __init__(self, config: VNeIDConfig, http: httpx.AsyncClient, *, client_key: PrivateKey | None = None,
                 clock: Any = time.time) -> None:
        self.config = config
        self._http = http
        self._clock = clock
        self._key = client_key
        if config.client_auth == "private_key_jwt" and client_key is None:
            raise ValueError("private_key_jwt needs the client's private key")
        self._kid = public_jwk(client_key)["kid"] if client_key is not None else None
        self.discovery = Discovery(http, config.issuer, ttl=config.jwks_ttl_seconds,
                                   timeout=config.http_timeout_seconds, fetch_url=config.backchannel)
        self.jwks = JwksCache(http, self._jwks_uri, ttl=config.jwks_ttl_seconds,
                              cooldown=config.jwks_cooldown_seconds, timeout=config.http_timeout_seconds)

    async def _jwks_uri(self) -> str:
        return self.config.backchannel((await self.discovery.get()).jwks_uri)

    # --- EIdProvider ------------------------------------------------------------------------------
    async def begin(self, *, redirect_uri: str, level: int = 2) -> AuthorizationRequest:
        meta = await self.discovery.get()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43..128
        params = {
            "response_type": "code", "client_id": self.config.client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(self.config.scopes), "state": state, "nonce": nonce,
            "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256",
        }
        acr = self.config.acr_for(level)
        if acr is not None:
            params["acr_values"] = acr
        if meta.pushed_authorization_request_endpoint:
            request_uri = await self._push(meta, params)
            query = {"client_id": self.config.client_id, "request_uri": request_uri}
        else:
            query = params
        sep = "&" if "?" in meta.authorization_endpoint else "?"
        return AuthorizationRequest(authorization_url=meta.authorization_endpoint + sep + urlencode(query),
                                    state=state, nonce=nonce, code_verifier=verifier)

    async def finish(self, *, code: str, code_verifier: str, nonce: str, redirect_uri: str,
                     issuer: str | None = None) -> EIdIdentity:
        # RFC 9207 mix-up defence: a response naming another issuer must not have its code sent to ours.
        if issuer is not None and not hmac.compare_digest(issuer.encode(), self.config.issuer.encode()):
            errors.reject(errors.RESPONSE_ISSUER_MISMATCH, "authorization response iss differs from the issuer")
        meta = await self.discovery.get()
        tokens = await self._exchange(meta, code, code_verifier, redirect_uri)
        claims = await validate_id_token(tokens.id_token, config=self.config, jwks=self.jwks, nonce=nonce,
                                         access_token=tokens.access_token, now=self._clock())
        userinfo = await self._userinfo(meta, tokens.access_token)
        if not isinstance(userinfo.get("sub"), str) or not hmac.compare_digest(
                userinfo["sub"].encode(), str(claims["sub"]).encode()):
            errors.reject(errors.USERINFO_MISMATCH, "userinfo subject differs from the id token")
        return self._identity(claims, userinfo)

    async def check_provider(self) -> list[str]:
        """Compare our configuration with what the provider publishes; log and return each mismatch.

        Run at start: a provider that never releases a configured claim, or does not know the
        requested ``acr_values``, fails every login, and the operator should hear it before users do.
        """
        meta = await self.discovery.get()
        problems: list[str] = []
        acr_published = meta.acr_values_supported is not None and set(self.config.acr_levels) <= set(
            meta.acr_values_supported)
        # The level claim is only read when the signed acr does not give the level.
        claims = [c for k, c in self.config.claims.items() if k != "level" or not acr_published]
        published = (("acr_values_supported", "VNEID_ACR_LEVELS acr value", meta.acr_values_supported,
                      list(self.config.acr_levels)),
                     ("scopes_supported", "VNEID_SCOPES scope", meta.scopes_supported, list(self.config.scopes)),
                     ("claims_supported", "VNEID_CLAIMS claim", meta.claims_supported, claims))
        for name, what, supported, ours in published:
            if supported is not None:
                problems += [f"{what} {value!r} is not in the provider's {name} {supported}"
                             for value in ours if value not in supported]
        for problem in problems:
            errors.log.warning("e-ID provider configuration mismatch: %s", problem)
        return problems

    # --- protocol steps ---------------------------------------------------------------------------
    async def _push(self, meta: ProviderMetadata, params: dict[str, str]) -> str:
        assert meta.pushed_authorization_request_endpoint
        body = await self._post(meta.pushed_authorization_request_endpoint, params, meta, "par",
                                expected=(200, 201))
        try:
            request_uri = msgspec.json.decode(body)["request_uri"]
        except (msgspec.DecodeError, KeyError, TypeError):
            errors.unavailable(errors.UNAVAILABLE, "par: malformed response")
        if not isinstance(request_uri, str) or not request_uri:
            errors.unavailable(errors.UNAVAILABLE, "par: malformed response")
        return request_uri

    async def _exchange(self, meta: ProviderMetadata, code: str, verifier: str, redirect_uri: str) -> TokenResponse:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier}
        body = await self._post(meta.token_endpoint, form, meta, "token", expected=(200,))
        try:
            tokens = msgspec.json.decode(body, type=TokenResponse)
        except msgspec.DecodeError:
            errors.unavailable(errors.UNAVAILABLE, "token: malformed response")
        if tokens.token_type.lower() != "bearer":
            errors.unavailable(errors.UNAVAILABLE, "token: unsupported token type")
        return tokens

    async def _post(self, url: str, form: dict[str, str], meta: ProviderMetadata, what: str,
                    expected: tuple[int, ...]) -> bytes:
        form, headers = self._authenticate(dict(form), meta, url)
        headers["Accept"] = "application/json"
        try:
            response = await self._http.post(self.config.backchannel(url), data=form, headers=headers,
                                             timeout=self.config.http_timeout_seconds)
        except httpx.HTTPError:
            errors.unavailable(errors.UNAVAILABLE, f"{what}: network error")
        if response.status_code in expected and len(response.content) <= MAX_DOCUMENT_BYTES:
            return response.content
        oauth_error = _oauth_error(response)
        if what == "par":
            # The pushed request holds only our configuration (client, redirect URI, scopes, acr values),
            # never the user's input: a refusal is our misconfiguration, not a reason to log in again.
            errors.unavailable(errors.UNAVAILABLE, f"par: provider refused our authorization request with HTTP "
                               f"{response.status_code} {oauth_error or '(no error code)'}; check VNEID_CLIENT_ID, "
                               "VNEID_REDIRECT_URI, VNEID_SCOPES and VNEID_ACR_LEVELS against the registration")
        if response.status_code == 400 and oauth_error in ("invalid_grant", "invalid_request"):
            # The code, verifier or redirect URI was refused: this login cannot succeed, retrying won't help.
            errors.reject(errors.CODE_REJECTED, f"{what}: provider answered {oauth_error}")
        errors.unavailable(errors.UNAVAILABLE, f"{what}: HTTP {response.status_code} {oauth_error or ''}".strip())

    def _authenticate(self, form: dict[str, str], meta: ProviderMetadata,
                      endpoint: str) -> tuple[dict[str, str], dict[str, str]]:
        cfg = self.config
        if cfg.client_auth == "client_secret_basic":
            # RFC 6749 §2.3.1: form-urlencode id and secret before base64.
            raw = f"{_form_escape(cfg.client_id)}:{_form_escape(cfg.client_secret)}".encode()
            return form, {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        if cfg.client_auth == "client_secret_post":
            return {**form, "client_id": cfg.client_id, "client_secret": cfg.client_secret}, {}
        return {**form, "client_id": cfg.client_id, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.client_assertion(meta)}, {}

    def client_assertion(self, meta: ProviderMetadata) -> str:
        assert self._key is not None
        now = int(self._clock())
        aud = meta.issuer if self.config.assertion_audience == "issuer" else meta.token_endpoint
        claims = {"iss": self.config.client_id, "sub": self.config.client_id, "aud": aud,
                  "jti": secrets.token_urlsafe(24), "iat": now, "exp": now + ASSERTION_LIFETIME_S}
        return jwt.encode(claims, self._key, algorithm=signing_alg(self._key), headers={"kid": self._kid})

    async def _userinfo(self, meta: ProviderMetadata, access_token: str) -> dict[str, Any]:
        if not meta.userinfo_endpoint:
            errors.unavailable(errors.DISCOVERY_INVALID, "discovery: no userinfo endpoint")
        try:
            response = await self._http.get(self.config.backchannel(meta.userinfo_endpoint),
                                            timeout=self.config.http_timeout_seconds,
                                            headers={"Authorization": f"Bearer {access_token}",
                                                     "Accept": "application/json"})
        except httpx.HTTPError:
            errors.unavailable(errors.UNAVAILABLE, "userinfo: network error")
        if response.status_code != 200 or len(response.content) > MAX_DOCUMENT_BYTES:
            errors.unavailable(errors.UNAVAILABLE, f"userinfo: HTTP {response.status_code}")
        if not response.headers.get("content-type", "").lower().startswith("application/json"):
            errors.reject(errors.CLAIMS_INVALID, "userinfo is not plain JSON")
        try:
            info = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            errors.reject(errors.CLAIMS_INVALID, "userinfo is malformed")
        if not isinstance(info, dict):
            errors.reject(errors.CLAIMS_INVALID, "userinfo is not an object")
        return info

    # --- claims -----------------------------------------------------------------------------------
    def _identity(self, claims: dict[str, Any], userinfo: dict[str, Any]) -> EIdIdentity:
        names = self.config.claims

        def claim(key: str) -> Any:
            name = names[key]
            return userinfo[name] if name in userinfo else claims.get(name)

        personal_id = claim("personal_id")
        if not isinstance(personal_id, str) or not PERSONAL_ID.fullmatch(personal_id):
            errors.reject(errors.CLAIMS_INVALID, "personal id is missing or not 12 digits")
        full_name = claim("full_name")
        if not isinstance(full_name, str) or not full_name.strip():
            errors.reject(errors.CLAIMS_INVALID, "full name is missing")
        return EIdIdentity(issuer=str(claims["iss"]), subject=str(claims["sub"]), personal_id=personal_id,
                           full_name=" ".join(full_name.split()), date_of_birth=parse_date(claim("date_of_birth")),
                           level=self._level(claims, claim("level")))

    def _level(self, claims: dict[str, Any], level_claim: Any) -> int:
        # The signed acr wins; the userinfo level claim is the fallback for providers without acr.
        acr = claims.get("acr")
        if isinstance(acr, str) and acr in self.config.acr_levels:
            return self.config.acr_levels[acr]
        if isinstance(level_claim, (int, str)) and not isinstance(level_claim, bool) and \
                str(level_claim).strip() in ("1", "2"):
            return int(str(level_claim).strip())
        errors.reject(errors.CLAIMS_INVALID, "account level is missing or unknown")


def _form_escape(value: str) -> str:
    return quote_plus(value)


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = msgspec.json.decode(response.content[:4096])
    except msgspec.DecodeError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    # Only the registered error code is kept (for the log): descriptions may echo request data.
    return error if isinstance(error, str) and error.isascii() and len(error) < 64 else None


def build_vneid_provider(settings: Any, http_client: httpx.AsyncClient) -> VNeIDClient:
    """Factory for the composition root. ``settings`` is ``api.platform.settings.Settings`` (duck-typed here).

    Raises ``ConfigError`` (no network is touched) when the issuer or the client key is missing.
    """
    config = config_from_settings(settings)
    key = None
    if config.client_key_file is not None:
        if not config.client_key_file.is_file():
            raise ConfigError(f"VNEID_CLIENT_KEY_FILE {config.client_key_file} does not exist")
        key = load_private_key(config.client_key_file.read_bytes())
    return VNeIDClient(config, http_client, client_key=key)
