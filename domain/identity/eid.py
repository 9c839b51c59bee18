"""Port to the national e-ID provider (VNeID) as an OpenID Connect relying party."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import msgspec


class EIdIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """A person as asserted by a validated ID token plus userinfo."""

    issuer: str
    subject: str
    personal_id: str  # 12-digit personal identification number (SoDinhDanh): never log it
    full_name: str
    date_of_birth: dt.date | None = None
    level: int  # 1 or 2, mapped from acr / the configured userinfo claim


class AuthorizationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the relying party must remember for one login transaction (never sent to the app
    except ``authorization_url``)."""

    authorization_url: str
    state: str
    nonce: str
    code_verifier: str


class EIdProvider(Protocol):
    async def begin(self, *, redirect_uri: str, level: int = 2) -> AuthorizationRequest:
        """Build the authorization request (PKCE S256, PAR when advertised)."""
        ...

    async def finish(self, *, code: str, code_verifier: str, nonce: str, redirect_uri: str,
                     issuer: str | None = None) -> EIdIdentity:
        """Exchange the code, validate the ID token (every check), read userinfo.

        ``issuer`` is the authorization response's ``iss`` parameter (RFC 9207) when the app passed
        it: compared with the configured issuer before the code is sent anywhere.
        """
        ...
