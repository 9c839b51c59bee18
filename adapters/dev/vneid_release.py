"""What the VNeID stand-in releases under which scope, and its ``acr`` values (``VNEID_STANDIN_RELEASE``).

A standard provider (OpenID Connect Core §5.4) releases profile claims only under the scopes that
carry them, and publishes its scope, claim and ``acr`` names in discovery. The stand-in does the
same, configurably, so that a relying-party configuration that works here works against a real
provider — and one that asks for too little fails here first. Standard library only: the settings
parser imports it on every start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

FIELDS = ("personal_id", "full_name", "date_of_birth", "level")
# Keycloak-style: standard ``profile`` for name and birth date, a custom client scope for the
# personal identification number and the account level.
DEFAULT_SCOPES: dict[str, dict[str, str]] = {
    "profile": {"full_name": "HoVaTen", "date_of_birth": "NgayThangNamSinh"},
    "citizen_id": {"personal_id": "SoDinhDanh", "level": "level"},
}
DEFAULT_ACR = {1: "1", 2: "2"}


@dataclass(frozen=True)
class ReleasePolicy:
    scopes: dict[str, dict[str, str]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_SCOPES.items()})
    acr: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_ACR))  # account level -> acr value

    def claims_for(self, granted_scopes: list[str], values: dict[str, object]) -> dict[str, object]:
        """The claims released for ``granted_scopes`` (``openid`` alone releases none but ``sub``)."""
        out: dict[str, object] = {}
        for scope in granted_scopes:
            for name, claim in self.scopes.get(scope, {}).items():
                out[claim] = values[name]
        return out

    @property
    def scopes_supported(self) -> list[str]:
        return ["openid", *self.scopes]

    @property
    def claims_supported(self) -> list[str]:
        return ["sub", "iss", "aud", "acr", "auth_time", *(c for m in self.scopes.values() for c in m.values())]


def parse_release(raw: str) -> ReleasePolicy:
    """``{"scopes": {scope: {field: claim name}}, "acr": {"1": value, "2": value}}``; each key optional."""
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or set(value) - {"scopes", "acr"}:
        raise ValueError('expected a JSON object with "scopes" and/or "acr"')
    scopes = value.get("scopes", DEFAULT_SCOPES)
    if not isinstance(scopes, dict) or "openid" in scopes or not all(
            isinstance(m, dict) and set(m) <= set(FIELDS) and all(isinstance(c, str) and c for c in m.values())
            for m in scopes.values()):
        raise ValueError(f"scopes: scope -> {{field: claim name}}, fields among {', '.join(FIELDS)}, not openid")
    acr = value.get("acr", {str(k): v for k, v in DEFAULT_ACR.items()})
    if not isinstance(acr, dict) or set(acr) != {"1", "2"} or not all(isinstance(v, str) and v for v in acr.values()):
        raise ValueError('acr: {"1": value, "2": value}')
    return ReleasePolicy(scopes={k: dict(v) for k, v in scopes.items()}, acr={int(k): v for k, v in acr.items()})
