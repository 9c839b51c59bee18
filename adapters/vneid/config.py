"""Relying-party configuration: everything that differs between the stand-in and the real VNeID.

Read from the application settings by duck typing (adapters never import ``api``); the claim and
``acr`` mappings are data, because no public relying-party spec fixes VNeID's claim names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALLOWED_ALGS = frozenset({"RS256", "ES256", "PS256"})
CLIENT_AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
DEFAULT_CLAIMS = {"personal_id": "SoDinhDanh", "full_name": "HoVaTen", "date_of_birth": "NgayThangNamSinh",
                  "level": "level"}
# Keycloak's default level-of-assurance mapping: acr "1"/"2" for the two VNeID account levels.
DEFAULT_ACR_LEVELS = {"1": 1, "2": 2}
STANDIN_PATH = "/dev/vneid"


class ConfigError(ValueError):
    pass


def parse_claims(raw: str) -> dict[str, str]:
    """``VNEID_CLAIMS``: JSON object overriding some of personal_id/full_name/date_of_birth/level."""
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        raise ValueError("expected a JSON object of claim names")
    unknown = set(value) - set(DEFAULT_CLAIMS)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; allowed: {sorted(DEFAULT_CLAIMS)}")
    return {**DEFAULT_CLAIMS, **value}


def parse_acr_levels(raw: str) -> dict[str, int]:
    """``VNEID_ACR_LEVELS``: JSON object acr value -> level (1 or 2)."""
    value = json.loads(raw) if raw.strip() else DEFAULT_ACR_LEVELS
    if not isinstance(value, dict) or not value or not all(v in (1, 2) for v in value.values()):
        raise ValueError("expected a JSON object mapping acr values to 1 or 2")
    return {str(k): int(v) for k, v in value.items()}


def parse_algs(raw: str) -> tuple[str, ...]:
    algs = tuple(a.strip() for a in raw.split(",") if a.strip())
    bad = [a for a in algs if a not in ALLOWED_ALGS]
    if not algs or bad:
        raise ValueError(f"expected a subset of {', '.join(sorted(ALLOWED_ALGS))}")
    return algs


@dataclass(frozen=True)
class VNeIDConfig:
    issuer: str
    client_id: str
    redirect_uri: str
    client_auth: str = "private_key_jwt"
    client_secret: str = ""
    client_key_file: Path | None = None
    assertion_audience: str = "issuer"  # or "token_endpoint" for providers that still want that
    scopes: tuple[str, ...] = ("openid", "profile", "citizen_id")
    claims: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    acr_levels: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACR_LEVELS))
    algorithms: tuple[str, ...] = ("RS256",)
    jwks_ttl_seconds: float = 6 * 3600
    jwks_cooldown_seconds: float = 60
    http_timeout_seconds: float = 10
    leeway_seconds: int = 60
    # Where server-side calls to the issuer's URLs go when that differs from the browser-facing
    # issuer: the local stand-in behind a PUBLIC_BASE_URL only a phone or emulator can reach.
    backchannel_issuer: str = ""

    def __post_init__(self) -> None:
        if self.client_auth not in CLIENT_AUTH_METHODS:
            raise ConfigError(f"VNEID_CLIENT_AUTH must be one of {CLIENT_AUTH_METHODS}")
        if self.client_auth == "private_key_jwt" and self.client_key_file is None:
            raise ConfigError("VNEID_CLIENT_KEY_FILE is required for private_key_jwt")
        if self.client_auth != "private_key_jwt" and not self.client_secret:
            raise ConfigError("VNEID_CLIENT_SECRET is required for client_secret_basic/post")
        if "openid" not in self.scopes:
            raise ConfigError("VNEID_SCOPES must contain openid")
        if not 0 <= self.leeway_seconds <= 60:
            raise ConfigError("clock skew allowance must be at most 60 s")

    def backchannel(self, url: str) -> str:
        """``url`` as this server must call it (browser-facing URLs are never passed through here)."""
        if self.backchannel_issuer and (url == self.issuer or url.startswith(self.issuer + "/")):
            return self.backchannel_issuer + url[len(self.issuer):]
        return url

    def acr_for(self, level: int) -> str | None:
        return next((acr for acr, lvl in self.acr_levels.items() if lvl == level), None)


def issuer_from(settings: Any) -> str:
    """Configured issuer, or the local stand-in's when stand-ins are on and none is configured."""
    issuer = str(getattr(settings, "vneid_issuer", "") or "")
    if issuer:
        return issuer
    if getattr(settings, "standins_enabled", False):
        return str(settings.base_url) + STANDIN_PATH
    raise ConfigError("VNEID_ISSUER is required when the local stand-ins are off")


def backchannel_issuer_from(settings: Any) -> str:
    """The stand-in's issuer as this process reaches it: its own listening address, not PUBLIC_BASE_URL.

    Empty when a real issuer is configured (calls go to the issuer itself) or nothing differs.
    """
    if getattr(settings, "vneid_issuer", "") or not getattr(settings, "standins_enabled", False):
        return ""
    host = str(settings.host)
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a wildcard listen address is reached via loopback
        host = "127.0.0.1"
    local = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}{STANDIN_PATH}"
    return "" if local == issuer_from(settings) else local


def redirect_uri_from(settings: Any) -> str:
    """The app's universal link in production; in development a page of the stand-in shows code/state."""
    uri = str(getattr(settings, "vneid_redirect_uri", "") or "")
    return uri or str(settings.base_url) + STANDIN_PATH + "/app-callback"


CONSOLE_CALLBACK_PATH = "/console/login/callback"


def console_redirect_uri_from(settings: Any) -> str:
    """The staff console's redirect URI (a browser page of ours): register it at VNeID next to the app's."""
    return str(settings.base_url) + CONSOLE_CALLBACK_PATH


def client_key_path(settings: Any) -> Path:
    raw = getattr(settings, "vneid_client_key_file", "") or ""
    return Path(raw) if raw else Path(settings.data_dir) / "keys" / "vneid-client.pem"


def config_from_settings(settings: Any) -> VNeIDConfig:
    return VNeIDConfig(
        issuer=issuer_from(settings),
        client_id=settings.vneid_client_id,
        redirect_uri=redirect_uri_from(settings),
        client_auth=settings.vneid_client_auth,
        client_secret=settings.vneid_client_secret,
        client_key_file=client_key_path(settings) if settings.vneid_client_auth == "private_key_jwt" else None,
        assertion_audience=settings.vneid_assertion_audience,
        scopes=tuple(settings.vneid_scopes),
        claims=dict(settings.vneid_claims),
        acr_levels=dict(settings.vneid_acr_levels),
        algorithms=tuple(settings.vneid_algorithms),
        jwks_ttl_seconds=settings.vneid_jwks_ttl_seconds,
        jwks_cooldown_seconds=settings.vneid_jwks_cooldown_seconds,
        http_timeout_seconds=settings.vneid_http_timeout_seconds,
        backchannel_issuer=backchannel_issuer_from(settings),
    )
