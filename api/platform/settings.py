"""Settings from environment variables (12-factor), validated at start with clear errors.

Each platform setting is declared once in ``SETTINGS`` (name, type, default, description); a bounded
context declares its own in its ``Context.settings`` and reads them with ``settings.of(name, type)``.
README's configuration table lists every name (a test checks). ``load_settings`` fails fast with every
problem at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from adapters.vneid.config import (
    CLIENT_AUTH_METHODS,
    DEFAULT_ACR_LEVELS,
    DEFAULT_CLAIMS,
    parse_acr_levels,
    parse_algs,
    parse_claims,
    redirect_uri_from,
)
from domain.feedback.calendar import parse_dates, parse_periods

T = TypeVar("T")


class SettingsError(Exception):
    pass


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected zero or a positive integer")
    return value


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return raw
    return parse


def _working_hours(raw: str) -> str:
    parse_periods(raw)  # ValueError with the reason
    return raw


@dataclass(frozen=True)
class Spec:
    env: str
    parse: Callable[[str], Any]
    default: str | None
    doc: str


SETTINGS: dict[str, Spec] = {
    "database_url": Spec("DATABASE_URL", str, None,
                         "PostgreSQL DSN. Unset: start an embedded PostgreSQL under DATA_DIR (development)."),
    "database_read_url": Spec("DATABASE_READ_URL", str, "",
                              "PostgreSQL DSN of a streaming replica that serves read-only requests, with "
                              "read-your-writes per caller (empty: every request on the primary)."),
    "database_read_max_lag_seconds": Spec("DATABASE_READ_MAX_LAG_SECONDS", _positive_float, "2",
                                          "Replica lag beyond which read-only requests go to the primary."),
    "data_dir": Spec("DATA_DIR", Path, ".thudo", "Embedded PostgreSQL data, local blobs and dev keys."),
    "host": Spec("HOST", str, "127.0.0.1", "Address to listen on."),
    "port": Spec("PORT", _positive_int, "8000", "Port to listen on."),
    "workers": Spec("WORKERS", _positive_int, "1", "Server worker processes (granian)."),
    "public_base_url": Spec("PUBLIC_BASE_URL", str, "",
                            "External base URL (links, OIDC redirect). Default http://HOST:PORT."),
    "environment": Spec("ENVIRONMENT", _choice("development", "test", "production"), "development",
                        "development | test | production. Production refuses dev stand-ins."),
    "log_level": Spec("LOG_LEVEL", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Log level."),
    "cors_origins": Spec("CORS_ORIGINS", _csv, "", "Comma-separated CORS allow-list (empty: no CORS)."),
    "max_body_bytes": Spec("MAX_BODY_BYTES", _positive_int, "1048576",
                           "Largest JSON request body in bytes (uploads have their own limit)."),
    "db_pool_max": Spec("DB_POOL_MAX", _positive_int, "10", "Max connections per worker process."),
    "db_statement_timeout_ms": Spec("DB_STATEMENT_TIMEOUT_MS", _positive_int, "10000",
                                    "Statement timeout for request queries."),
    "redis_url": Spec("REDIS_URL", str, "", "Redis for shared rate limits (empty: in-process store)."),
    "standins": Spec("STANDINS", _bool, None,
                     "Mount the local VNeID and FCM stand-ins. Default: on with the embedded database, "
                     "off otherwise; never allowed with ENVIRONMENT=production."),
    "run_worker": Spec("RUN_WORKER", _bool, None,
                       "Run the background worker inside the server. Default: on with the embedded database."),
    "seed_demo": Spec("SEED_DEMO", _bool, None,
                      "Load demo data at start. Default: on with the embedded database."),
    # --- VNeID relying party (docs/vneid.md) ---
    "vneid_issuer": Spec("VNEID_ISSUER", str, "",
                         "VNeID OIDC issuer, compared exactly. Empty: the local stand-in (BASE_URL/dev/vneid)."),
    "vneid_client_id": Spec("VNEID_CLIENT_ID", str, "thudo-dev", "Our client id at VNeID."),
    "vneid_client_auth": Spec("VNEID_CLIENT_AUTH", _choice(*CLIENT_AUTH_METHODS), "private_key_jwt",
                              "Token endpoint authentication: private_key_jwt | client_secret_basic | "
                              "client_secret_post."),
    "vneid_client_secret": Spec("VNEID_CLIENT_SECRET", str, "", "Client secret (client_secret_* methods)."),
    "vneid_client_key_file": Spec("VNEID_CLIENT_KEY_FILE", str, "",
                                  "PEM private key (EC P-256 or RSA) for private_key_jwt. Empty: "
                                  "DATA_DIR/keys/vneid-client.pem, generated when the stand-ins are on."),
    "vneid_assertion_audience": Spec("VNEID_ASSERTION_AUDIENCE", _choice("issuer", "token_endpoint"), "issuer",
                                     "aud of our client assertion: the issuer (FAPI 2.0) or the token endpoint."),
    "vneid_redirect_uri": Spec("VNEID_REDIRECT_URI", str, "",
                               "Redirect URI registered at VNeID (the app's universal link). Empty: "
                               "BASE_URL/dev/vneid/app-callback (shows code and state, development)."),
    "vneid_scopes": Spec("VNEID_SCOPES", _csv, "openid,profile,citizen_id",
                         "Comma-separated scopes (must include openid); every scope that carries a claim of "
                         "VNEID_CLAIMS (OIDC Core 5.4: openid alone releases none)."),
    "vneid_claims": Spec("VNEID_CLAIMS", parse_claims, "",
                         "JSON claim names for personal_id, full_name, date_of_birth, level (defaults "
                         "SoDinhDanh, HoVaTen, NgayThangNamSinh, level)."),
    "vneid_acr_levels": Spec("VNEID_ACR_LEVELS", parse_acr_levels, "",
                             'JSON map acr value -> account level, default {"1": 1, "2": 2}.'),
    "vneid_algorithms": Spec("VNEID_ALGORITHMS", parse_algs, "RS256",
                             "ID token signature algorithms accepted (subset of RS256, ES256, PS256)."),
    "vneid_jwks_ttl_seconds": Spec("VNEID_JWKS_TTL_SECONDS", _positive_int, "21600",
                                   "How long provider metadata and JWKS are cached."),
    "vneid_jwks_cooldown_seconds": Spec("VNEID_JWKS_COOLDOWN_SECONDS", _positive_int, "60",
                                        "Least time between JWKS refetches caused by an unknown kid."),
    "vneid_http_timeout_seconds": Spec("VNEID_HTTP_TIMEOUT_SECONDS", _positive_int, "10",
                                       "Timeout of each call to VNeID."),
    # --- our tokens, PII protection, rate limits (docs/login.md) ---
    "token_keys_dir": Spec("TOKEN_KEYS_DIR", str, "",
                           "Directory of ES256 PEM keys for our access tokens; the last by name signs, all "
                           "verify. Empty: DATA_DIR/keys/tokens, generated in development."),
    "token_ttl_seconds": Spec("TOKEN_TTL_SECONDS", _positive_int, "600", "Access token lifetime (at most 900)."),
    "token_issuer": Spec("TOKEN_ISSUER", str, "", "iss of our access tokens. Empty: the public base URL."),
    "token_audience": Spec("TOKEN_AUDIENCE", str, "thudo-api", "aud of our access tokens."),
    "refresh_ttl_days": Spec("REFRESH_TTL_DAYS", _positive_int, "30", "Session (refresh token family) lifetime."),
    "pii_key": Spec("PII_KEY", str, "", "Base64 32-byte master key for personal id hashing/encryption. "
                    "Empty: DATA_DIR/keys/pii.key, generated in development; required in production."),
    "rate_limit_ip_per_minute": Spec("RATE_LIMIT_IP_PER_MINUTE", _positive_int, "60",
                                     "Login/refresh/token attempts per client IP and endpoint per minute."),
    "rate_limit_account_per_minute": Spec("RATE_LIMIT_ACCOUNT_PER_MINUTE", _positive_int, "10",
                                          "Login/refresh/token attempts per account (person, session, client) "
                                          "per minute."),
    # --- push notifications and the background worker (docs/notifications.md) ---
    "fcm_project_id": Spec("FCM_PROJECT_ID", str, "thudo-dev", "Firebase project id for FCM."),
    "fcm_credentials_file": Spec("FCM_CREDENTIALS_FILE", str, "",
                                 "Service-account JSON for FCM. Empty: application default credentials, or a "
                                 "generated dev account for the local stand-in when STANDINS is on."),
    "fcm_endpoint": Spec("FCM_ENDPOINT", str, "",
                         "Base URL replacing https://fcm.googleapis.com. Empty: Google, or the local "
                         "stand-in (BASE_URL/dev/push) when STANDINS is on and no credentials file is set."),
    "fcm_max_in_flight": Spec("FCM_MAX_IN_FLIGHT", _positive_int, "32",
                              "Concurrent FCM requests per worker process (HTTP/2 streams to Google); chosen by "
                              "bench.notifications_bench (docs/performance.md, push)."),
    "fcm_standin_latency_ms": Spec("FCM_STANDIN_LATENCY_MS", _non_negative_int, "0",
                                   "Development: the local FCM stand-in answers each send after this long "
                                   "(Google's round trip), e.g. to choose FCM_MAX_IN_FLIGHT by measurement."),
    "worker_batch_size": Spec("WORKER_BATCH_SIZE", _positive_int, "500",
                              "Push messages claimed and sent per batch (FCM allows at most 500)."),
    "worker_max_attempts": Spec("WORKER_MAX_ATTEMPTS", _positive_int, "8",
                                "Send attempts before a push is dead-lettered."),
    "worker_backoff_base_seconds": Spec("WORKER_BACKOFF_BASE_SECONDS", _positive_int, "5",
                                        "First retry delay; doubles per attempt, with jitter."),
    "worker_backoff_max_seconds": Spec("WORKER_BACKOFF_MAX_SECONDS", _positive_int, "3600",
                                       "Longest retry delay."),
    "worker_lease_seconds": Spec("WORKER_LEASE_SECONDS", _positive_int, "120",
                                 "How long a claimed batch stays invisible to other workers (crash recovery)."),
    "worker_metrics_port": Spec("WORKER_METRICS_PORT", int, "0",
                                "Port for /metrics of a separate `thudo worker` process (0: none)."),
    "blob_dir": Spec("BLOB_DIR", str, "", "Directory for uploaded files (photos, evidence). Empty: DATA_DIR/blobs."),
    "feedback_max_upload_bytes": Spec("FEEDBACK_MAX_UPLOAD_BYTES", _positive_int, "10485760",
                                      "Largest photo/evidence file accepted (bytes)."),
    "feedback_max_photos": Spec("FEEDBACK_MAX_PHOTOS", _positive_int, "5", "Photos per feedback report."),
    "feedback_working_hours": Spec("FEEDBACK_WORKING_HOURS", _working_hours, "08:00-12:00,13:30-17:30",
                                   "Working periods of a working day (Asia/Ho_Chi_Minh) for SLA deadlines."),
    "feedback_makeup_workdays": Spec("FEEDBACK_MAKEUP_WORKDAYS", parse_dates, "",
                                     "Comma-separated dates (YYYY-MM-DD) of weekend days worked to bridge holidays."),
    "feedback_extra_days_off": Spec("FEEDBACK_EXTRA_DAYS_OFF", parse_dates, "",
                                    "Comma-separated extra official days off beyond the statutory holidays."),
    "feedback_reopen_days": Spec("FEEDBACK_REOPEN_DAYS", _positive_int, "7",
                                 "Days after handling during which the reporter may reopen a report."),
    "open311_requests_per_minute": Spec("OPEN311_REQUESTS_PER_MINUTE", _positive_int, "300",
                                        "Open311 calls per partner api_key (or per client IP without one) per "
                                        "minute."),
}


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    database_read_url: str = ""
    database_read_max_lag_seconds: float = 2.0
    data_dir: Path = Path(".thudo")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    public_base_url: str = ""
    environment: str = "development"
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    db_pool_max: int = 10
    db_statement_timeout_ms: int = 10_000
    redis_url: str = ""
    standins: bool | None = None
    run_worker: bool | None = None
    seed_demo: bool | None = None
    vneid_issuer: str = ""
    vneid_client_id: str = "thudo-dev"
    vneid_client_auth: str = "private_key_jwt"
    vneid_client_secret: str = ""
    vneid_client_key_file: str = ""
    vneid_assertion_audience: str = "issuer"
    vneid_redirect_uri: str = ""
    vneid_scopes: tuple[str, ...] = ("openid", "profile", "citizen_id")
    vneid_claims: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    vneid_acr_levels: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACR_LEVELS))
    vneid_algorithms: tuple[str, ...] = ("RS256",)
    vneid_jwks_ttl_seconds: int = 21600
    vneid_jwks_cooldown_seconds: int = 60
    vneid_http_timeout_seconds: int = 10
    token_keys_dir: str = ""
    token_ttl_seconds: int = 600
    token_issuer: str = ""
    token_audience: str = "thudo-api"  # noqa: S105 - an audience name, not a secret
    refresh_ttl_days: int = 30
    pii_key: str = ""
    rate_limit_ip_per_minute: int = 60
    rate_limit_account_per_minute: int = 10
    fcm_project_id: str = "thudo-dev"
    fcm_credentials_file: str = ""
    fcm_endpoint: str = ""
    fcm_max_in_flight: int = 32
    fcm_standin_latency_ms: int = 0
    worker_batch_size: int = 500
    worker_max_attempts: int = 8
    worker_backoff_base_seconds: int = 5
    worker_backoff_max_seconds: int = 3600
    worker_lease_seconds: int = 120
    worker_metrics_port: int = 0
    blob_dir: str = ""
    feedback_max_upload_bytes: int = 10 * 1024 * 1024
    feedback_max_photos: int = 5
    feedback_working_hours: str = "08:00-12:00,13:30-17:30"
    feedback_makeup_workdays: frozenset[date] = frozenset()
    feedback_extra_days_off: frozenset[date] = frozenset()
    feedback_reopen_days: int = 7
    open311_requests_per_minute: int = 300
    # The contexts' own settings (``Context.settings``), parsed like the platform's, by name.
    extra: dict[str, Any] = field(default_factory=dict)

    def of(self, name: str, kind: type[T]) -> T:
        """A context's setting, typed: ``settings.of("transit_keys_dir", str)``."""
        value = self.extra[name]
        if not isinstance(value, kind):
            raise TypeError(f"setting {name} is {type(value).__name__}, not {kind.__name__}")
        return value

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def vneid_redirect_url(self) -> str:
        """Redirect URI to pass to the e-ID provider's ``begin``/``finish`` (dev default resolved)."""
        return redirect_uri_from(self)

    @property
    def standins_enabled(self) -> bool:
        return self.embedded if self.standins is None else self.standins

    @property
    def worker_inline(self) -> bool:
        return self.embedded if self.run_worker is None else self.run_worker

    @property
    def seed_enabled(self) -> bool:
        return self.embedded if self.seed_demo is None else self.seed_demo


def context_settings() -> dict[str, Spec]:
    """Every registered context's own settings (``Context.settings``), by name."""
    from api.platform.registry import CONTEXTS  # the contexts import this module: resolved at call time

    return {name: spec for context in CONTEXTS for name, spec in context.settings.items()}


def _parse(specs: Mapping[str, Spec], env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = env.get(spec.env)
        if raw is None or raw == "":
            raw = spec.default
        if raw is None:
            continue
        try:
            values[name] = spec.parse(raw)
        except ValueError as exc:
            problems.append(f"{spec.env}={raw!r}: {exc}")
    return values


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if environ is None else environ
    problems: list[str] = []
    values = _parse(SETTINGS, env, problems)
    extra = _parse(context_settings(), env, problems)
    values.update(overrides)
    values["extra"] = {**extra, **values.get("extra", {})}
    settings = Settings(**values)
    if settings.environment == "production":
        if settings.standins_enabled:
            problems.append("STANDINS: the local stand-ins cannot run with ENVIRONMENT=production")
        if settings.embedded:
            problems.append("DATABASE_URL is required with ENVIRONMENT=production")
        if not settings.vneid_issuer or not settings.vneid_redirect_uri:
            problems.append("VNEID_ISSUER and VNEID_REDIRECT_URI are required with ENVIRONMENT=production")
        if not settings.pii_key or not settings.token_keys_dir:
            problems.append("PII_KEY and TOKEN_KEYS_DIR are required with ENVIRONMENT=production")
    if settings.database_read_url and settings.embedded:
        problems.append("DATABASE_READ_URL: a read replica needs DATABASE_URL (the primary it replicates)")
    if settings.token_ttl_seconds > 900:
        problems.append("TOKEN_TTL_SECONDS: access tokens live at most 900 seconds")
    if problems:
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems))
    return settings
