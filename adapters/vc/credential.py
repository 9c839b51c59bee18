"""The certificate as a W3C Verifiable Credential 2.0 secured with JOSE (VC-JOSE-COSE, ``vc+jwt``).

The JWT's claims set *is* the credential (``@context``, ``type``, ``issuer``, ``validFrom`` …);
the registered claims ``iss``, ``jti``, ``iat``, ``nbf`` and ``exp`` repeat ``issuer.id``, ``id``,
``validFrom`` and ``validUntil`` for generic JWT tooling. The header says ``typ: vc+jwt``,
``cty: vc``, ``alg: ES256`` and the ``kid`` of the authority's key in the published JWKS.

Each authority has its own key ring (``adapters.signing.keys.KeyRing``): the newest key signs,
all keys stay in the JWKS, so rotating never invalidates credentials already issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt

from adapters.signing.keys import KeyRing, ensure_signing_key
from domain.judicial.model import CertificateContent, CertificateType, StatusRef

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "JudicialRecordCertificate"
HEADER_TYP = "vc+jwt"


def iso(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Issuers:
    """The issuing authorities' key rings and the URLs the credentials point to."""

    def __init__(self, rings: Mapping[str, KeyRing], base_url: str) -> None:
        self.rings = dict(rings)
        self.base_url = base_url.rstrip("/")

    @classmethod
    def load(cls, keys_dir: Path, codes: tuple[str, ...], base_url: str, *, generate: bool) -> Issuers:
        """One sub-directory of ES256 PEM keys per authority code; ``generate`` in development."""
        rings = {}
        for code in codes:
            directory = keys_dir / code
            if generate:
                ensure_signing_key(directory)
            rings[code] = KeyRing.load(directory)
        return cls(rings, base_url)

    def issuer_id(self, code: str) -> str:
        return f"{self.base_url}/api/v1/public/judicial/issuers/{code}"

    def status_list_url(self, list_id: object) -> str:
        return f"{self.base_url}/api/v1/public/judicial/status-lists/{list_id}"

    @property
    def jwks(self) -> dict[str, Any]:
        """Every authority's keys, current and retired, in one JWK Set."""
        return {"keys": [k for ring in self.rings.values() for k in ring.jwks["keys"]]}

    def sign(self, code: str, claims: dict[str, Any]) -> str:
        ring = self.rings[code]
        return jwt.encode(claims, ring.signing_key, algorithm="ES256",
                          headers={"typ": HEADER_TYP, "cty": "vc", "kid": ring.signing_kid})


def _subject(c: CertificateContent) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "type": "JudicialRecordSubject",
        "name": c.full_name,
        "gender": c.sex.value,
        "birthDate": c.date_of_birth.isoformat(),
        "birthPlace": c.place_of_birth,
        "nationality": c.nationality,
        "identityDocument": {"type": c.id_document_kind, "number": c.id_document_number},
        "permanentResidence": c.permanent_residence,
        "fatherName": c.father_name,
        "motherName": c.mother_name,
        "judicialRecord": {
            "certificateType": "No1" if c.certificate_type is CertificateType.NO1 else "No2",
            "hasConvictions": bool(c.convictions),
            "convictions": [{"judgment": x.judgment, "offence": x.offence, "sentence": x.sentence,
                             "expunged": x.expunged} for x in c.convictions],
        },
    }
    if c.certificate_type is CertificateType.NO2:
        subject["judicialRecord"]["bans"] = [{"text": b.text, "decision": b.decision} for b in c.bans]
    return subject


class VcJwtSigner:
    """``CredentialSigner`` port: the certificate content → a signed ``vc+jwt``."""

    def __init__(self, issuers: Issuers) -> None:
        self.issuers = issuers

    def credential(self, c: CertificateContent, status: tuple[StatusRef, ...]) -> dict[str, Any]:
        issuer = self.issuers.issuer_id(c.authority_code)
        cred_id = f"urn:uuid:{c.certificate_id}"
        return {
            "@context": [VC_CONTEXT],
            "id": cred_id,
            "type": ["VerifiableCredential", CREDENTIAL_TYPE],
            "issuer": {"id": issuer, "name": c.authority_name_vi},
            "name": "Phiếu lý lịch tư pháp số " + c.certificate_type.value,
            "validFrom": iso(c.issued_at),
            "validUntil": iso(c.valid_until),
            "credentialSubject": _subject(c),
            "credentialStatus": [self.status_entry(ref) for ref in status],
            "certificateNumber": c.number,
            "purpose": c.purpose,
            # Registered JWT claims mirroring the credential for generic JWT libraries.
            "iss": issuer,
            "jti": cred_id,
            "iat": int(c.issued_at.timestamp()),
            "nbf": int(c.issued_at.timestamp()),
            "exp": int(c.valid_until.timestamp()),
        }

    def status_entry(self, ref: StatusRef) -> dict[str, Any]:
        url = self.issuers.status_list_url(ref.list_id)
        return {"id": f"{url}#{ref.index}", "type": "BitstringStatusListEntry",
                "statusPurpose": ref.purpose.value, "statusListIndex": str(ref.index),
                "statusListCredential": url}

    def sign(self, content: CertificateContent, status: tuple[StatusRef, ...]) -> str:
        return self.issuers.sign(content.authority_code, self.credential(content, status))


