"""The issuer's side of the format: sign credentials, paper tickets and deny lists."""

from __future__ import annotations

from domain.transit.denylist import DenyEntry, ListType, deny_to_sign
from domain.transit.ports import IssuerSigner
from domain.transit.qr import (
    MAX_CREDENTIAL_SECONDS,
    PassFacts,
    assemble_credential,
    assemble_paper,
    credential_to_sign,
    paper_to_sign,
)


def credential_expiry(issued_at: int, pass_valid_until: int, lifetime_s: int = MAX_CREDENTIAL_SECONDS) -> int:
    """A credential lives ``lifetime_s`` (at most 72 h) and never beyond its pass."""
    return min(issued_at + min(lifetime_s, MAX_CREDENTIAL_SECONDS), pass_valid_until)


def sign_credential(signer: IssuerSigner, facts: PassFacts, device_key: bytes, issued_at: int,
                    expires_at: int) -> bytes:
    body = credential_to_sign(signer.kid, facts, issued_at, expires_at, device_key)
    return assemble_credential(body, signer.sign(body))


def sign_paper_ticket(signer: IssuerSigner, facts: PassFacts) -> bytes:
    body = paper_to_sign(signer.kid, facts)
    return assemble_paper(body, signer.sign(body))


def sign_deny_list(signer: IssuerSigner, list_type: ListType, from_seq: int, to_seq: int, issued_at: int,
                   entries: list[DenyEntry] | tuple[DenyEntry, ...]) -> bytes:
    body = deny_to_sign(signer.kid, list_type, from_seq, to_seq, issued_at, entries)
    return body + signer.sign(body)
