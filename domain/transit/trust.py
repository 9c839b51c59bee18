"""Issuer public keys with validity windows: what a gate trusts, and nothing else.

A key is usable for a signature only if the key is inside its window both *now* and at the
moment the signed document claims it was made (a credential's issue time, a ticket's start).
So a retired key stops working at ``valid_until`` even for credentials it signed earlier, and a
leaked future key cannot back-date documents. The issuer signs with a key only until 72 h before
its ``valid_until``, so no credential outlives its key.
"""

from __future__ import annotations

import msgspec


class IssuerKey(msgspec.Struct, frozen=True):
    kid: int
    public_key: bytes      # SEC1 compressed P-256, 33 bytes
    valid_from: int        # epoch seconds
    valid_until: int

    def usable(self, now: int, signed_at: int) -> bool:
        return (self.valid_from <= now <= self.valid_until
                and self.valid_from <= signed_at <= self.valid_until)


class TrustStore:
    """The gate's set of issuer keys, replaced as a whole when the published list changes."""

    def __init__(self, keys: list[IssuerKey] | tuple[IssuerKey, ...] = ()) -> None:
        self._keys: dict[int, IssuerKey] = {k.kid: k for k in keys}

    def get(self, kid: int) -> IssuerKey | None:
        return self._keys.get(kid)

    def replace(self, keys: list[IssuerKey]) -> None:
        self._keys = {k.kid: k for k in keys}

    def __len__(self) -> int:
        return len(self._keys)
