"""Transit test helpers: an issuer with a P-256 key, pass facts, a phone, a gate."""

from __future__ import annotations

import uuid

from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import OfflineVerifier
from adapters.transit_crypto.p256 import P256Signer, generate
from domain.transit.codes import ALL_NETWORKS, Direction, Network, ProductKind
from domain.transit.denylist import DenyEntry, ListType
from domain.transit.issuing import credential_expiry, sign_credential, sign_deny_list, sign_paper_ticket
from domain.transit.passback import PassbackMemory
from domain.transit.qr import PassFacts
from domain.transit.trust import IssuerKey
from domain.transit.validation import Gate, Policy

NOW = 1_790_000_000          # 2026-09-21T13:33:20Z
DAY = 86_400


class Issuer:
    def __init__(self, kid: int = 7, valid_from: int = NOW - 30 * DAY, valid_until: int = NOW + 365 * DAY) -> None:
        self.signer = P256Signer(generate(), kid=kid)
        self.key = IssuerKey(kid, self.signer.public_key, valid_from, valid_until)

    def credential(self, facts: PassFacts, device_key: bytes, issued_at: int = NOW - 3600,
                   expires_at: int | None = None) -> bytes:
        expires = expires_at if expires_at is not None else credential_expiry(issued_at, facts.valid_until)
        return sign_credential(self.signer, facts, device_key, issued_at, expires)

    def paper(self, facts: PassFacts) -> bytes:
        return sign_paper_ticket(self.signer, facts)

    def deny(self, entries: list[DenyEntry], to_seq: int, from_seq: int = 0, at: int = NOW) -> bytes:
        kind = ListType.DELTA if from_seq else ListType.SNAPSHOT
        return sign_deny_list(self.signer, kind, from_seq, to_seq, at, entries)


def monthly_facts(pass_id: uuid.UUID | None = None, *, route: int = 0, networks: Network = ALL_NETWORKS,
                  product: ProductKind = ProductKind.MONTHLY_ALL) -> PassFacts:
    return PassFacts(pass_id or uuid.uuid4(), product, 1, networks, route, NOW - 10 * DAY, NOW + 20 * DAY)


def paper_facts(ticket_id: uuid.UUID | None = None) -> PassFacts:
    return PassFacts(ticket_id or uuid.uuid4(), ProductKind.SINGLE_RIDE, 1, Network.METRO, 0, NOW - 600,
                     NOW + DAY)


def phone_with(issuer: Issuer, facts: PassFacts, issued_at: int = NOW - 3600) -> ReferencePhone:
    phone = ReferencePhone()
    phone.install(issuer.credential(facts, phone.public_key, issued_at), server_time=issued_at,
                  local_time=issued_at)
    return phone


def gate(issuer: Issuer, *, networks: Network = Network.METRO, route: int = 3, direction: Direction = Direction.IN,
         memory: PassbackMemory | None = None, policy: Policy | None = None) -> OfflineVerifier:
    return OfflineVerifier(Gate(networks, route, direction), policy, memory, keys=[issuer.key])
