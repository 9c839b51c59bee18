"""Settings from environment variables (12-factor), validated at start with clear errors.

Each setting is declared once in ``SETTINGS`` (name, type, default, description); README's
configuration table lists the same names. ``load_settings`` fails fast with every problem at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return raw
    return parse


@dataclass(frozen=True)
class Spec:
    env: str
    parse: Callable[[str], Any]
    default: str | None
    doc: str


SETTINGS: dict[str, Spec] = {
    "database_url": Spec("DATABASE_URL", str, None,
                         "PostgreSQL DSN. Unset: start an embedded PostgreSQL under DATA_DIR (development)."),
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
}


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def standins_enabled(self) -> bool:
        return self.embedded if self.standins is None else self.standins

    @property
    def worker_inline(self) -> bool:
        return self.embedded if self.run_worker is None else self.run_worker

    @property
    def seed_enabled(self) -> bool:
        return self.embedded if self.seed_demo is None else self.seed_demo


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, spec in SETTINGS.items():
        raw = env.get(spec.env)
        if raw is None or raw == "":
            raw = spec.default
        if raw is None:
            continue
        try:
            values[name] = spec.parse(raw)
        except ValueError as exc:
            problems.append(f"{spec.env}={raw!r}: {exc}")
    values.update(overrides)
    settings = Settings(**values)
    if settings.environment == "production":
        if settings.standins_enabled:
            problems.append("STANDINS: the local stand-ins cannot run with ENVIRONMENT=production")
        if settings.embedded:
            problems.append("DATABASE_URL is required with ENVIRONMENT=production")
    if problems:
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems))
    return settings
