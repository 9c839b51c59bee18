"""Provider metadata (OpenID discovery) and the JWKS cache, both async and shared by all logins.

The JWKS cache refetches at most once per cool-down when a token names a ``kid`` it does not know:
that is how a provider's key rotation is picked up at once, while a flood of tokens with bogus
``kid``s cannot make us hammer the provider (they all wait on one lock and share one fetch).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from adapters.vneid import errors
from domain.errors import Unavailable

MAX_DOCUMENT_BYTES = 512 * 1024


class ProviderMetadata(msgspec.Struct, frozen=True):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    pushed_authorization_request_endpoint: str | None = None
    code_challenge_methods_supported: list[str] | None = None
    scopes_supported: list[str] | None = None
    claims_supported: list[str] | None = None
    acr_values_supported: list[str] | None = None


async def get_json(http: httpx.AsyncClient, url: str, limit_s: float, what: str) -> bytes:
    try:
        response = await http.get(url, timeout=limit_s, headers={"Accept": "application/json"})
    except httpx.HTTPError:
        errors.unavailable(errors.UNAVAILABLE, f"{what}: network error")
    if response.status_code != 200:
        errors.unavailable(errors.UNAVAILABLE, f"{what}: HTTP {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        errors.unavailable(errors.UNAVAILABLE, f"{what}: document too large")
    return response.content


class Discovery:
    """``{issuer}/.well-known/openid-configuration``, cached for ``ttl`` seconds."""

    def __init__(self, http: httpx.AsyncClient, issuer: str, *, ttl: float, timeout: float,
                 clock: Callable[[], float] = time.monotonic, fetch_url: Callable[[str], str] = str) -> None:
        self._http, self._issuer, self._ttl, self._timeout, self._clock = http, issuer, ttl, timeout, clock
        self._fetch_url = fetch_url
        self._meta: ProviderMetadata | None = None
        self._expires = -math.inf
        self._lock = asyncio.Lock()

    async def get(self) -> ProviderMetadata:
        if self._meta is not None and self._clock() < self._expires:
            return self._meta
        async with self._lock:
            if self._meta is not None and self._clock() < self._expires:
                return self._meta
            try:
                self._meta = await self._fetch()
            except Unavailable:
                if self._meta is None:
                    raise
                # A provider blip should not stop logins while the last good metadata is recent.
            self._expires = self._clock() + self._ttl
            return self._meta

    async def _fetch(self) -> ProviderMetadata:
        url = self._fetch_url(self._issuer.rstrip("/") + "/.well-known/openid-configuration")
        body = await get_json(self._http, url, self._timeout, "discovery")
        try:
            meta = msgspec.json.decode(body, type=ProviderMetadata)
        except msgspec.DecodeError:
            errors.unavailable(errors.DISCOVERY_INVALID, "discovery: malformed document")
        # OpenID Connect Discovery §4.3: a document naming another issuer is an attack or a
        # misconfiguration; either way none of its endpoints may be used.
        if meta.issuer != self._issuer:
            errors.unavailable(errors.DISCOVERY_INVALID, "discovery: issuer differs from configuration")
        if meta.code_challenge_methods_supported is not None and "S256" not in meta.code_challenge_methods_supported:
            errors.unavailable(errors.DISCOVERY_INVALID, "discovery: provider lacks PKCE S256")
        return meta


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    kty: str
    alg: str | None
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    def fits(self, alg: str) -> bool:
        if self.alg is not None and self.alg != alg:
            return False
        if alg in ("RS256", "PS256"):
            return self.kty == "RSA"
        return alg == "ES256" and self.kty == "EC" and isinstance(self.key, ec.EllipticCurvePublicKey) \
            and isinstance(self.key.curve, ec.SECP256R1)


def parse_jwks(body: bytes) -> dict[str, VerificationKey]:
    try:
        document = json.loads(body)
        raw_keys = document["keys"]
        if not isinstance(raw_keys, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        errors.unavailable(errors.UNAVAILABLE, "jwks: malformed document")
    keys: dict[str, VerificationKey] = {}
    for jwk in raw_keys:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
            continue
        try:
            if jwk.get("kty") == "RSA":
                key: Any = RSAAlgorithm.from_jwk(jwk)
            elif jwk.get("kty") == "EC":
                key = ECAlgorithm.from_jwk(jwk)
            else:
                continue
        except Exception:  # noqa: S112 - an unusable key is skipped; the others stay usable
            continue
        if isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
            keys[jwk["kid"]] = VerificationKey(jwk["kid"], jwk["kty"], jwk.get("alg"), key)
    return keys


class JwksCache:
    def __init__(self, http: httpx.AsyncClient, jwks_uri: Callable[[], Awaitable[str]], *, ttl: float,
                 cooldown: float, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._http, self._jwks_uri, self._ttl, self._cooldown = http, jwks_uri, ttl, cooldown
        self._timeout, self._clock = timeout, clock
        self._keys: dict[str, VerificationKey] | None = None
        self._expires = -math.inf
        self._last_unknown_refetch = -math.inf
        self._lock = asyncio.Lock()
        self.fetches = 0  # observable by tests and metrics

    async def key(self, kid: str) -> VerificationKey:
        keys = self._keys
        if keys is None or self._clock() >= self._expires:
            async with self._lock:
                if self._keys is None or self._clock() >= self._expires:
                    await self._refresh(keep_stale=True)
            keys = self._keys or {}
        if kid in keys:
            return keys[kid]
        async with self._lock:
            # Another waiter may already have refetched while we queued for the lock.
            if self._keys and kid in self._keys:
                return self._keys[kid]
            if self._clock() - self._last_unknown_refetch >= self._cooldown:
                self._last_unknown_refetch = self._clock()
                await self._refresh(keep_stale=False)
        if self._keys and kid in self._keys:
            return self._keys[kid]
        errors.reject(errors.KEY_UNKNOWN, "id token names a key the provider does not publish")

    async def _refresh(self, *, keep_stale: bool) -> None:
        self.fetches += 1
        try:
            body = await get_json(self._http, await self._jwks_uri(), self._timeout, "jwks")
            self._keys = parse_jwks(body)
        except Unavailable:
            if not (keep_stale and self._keys):
                raise
        self._expires = self._clock() + self._ttl
