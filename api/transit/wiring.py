"""Wiring of the transit context: the issuer key ring, QR rendering, the payment provider used to
collect pass purchases, and the per-request bundle of ports its use cases receive."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from adapters.blobs.local import LocalBlobStore
from adapters.payments.bank_notifications import VietQrConfig, VietQrProvider
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.payments import PgPaymentIntents
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens, unit_id_by_code
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.postgres.uow import ACQUIRE_TIMEOUT_S
from adapters.transit_crypto.keyring import IssuerKeyRing, ensure_issuer_key
from adapters.transit_crypto.p256 import P256Verifier
from api.platform.settings import Settings, Spec
from domain.payments.intents import CreatePaymentIntent
from domain.payments.ports import PaymentProvider
from domain.shared.time import Clock
from domain.transit.trust import TrustStore
from domain.transit.usecases.common import Deps

# Transit's own environment variables (``Context.settings``; README's configuration table lists them).
SETTINGS: dict[str, Spec] = {
    "transit_keys_dir": Spec("TRANSIT_KEYS_DIR", str, "",
                             "Directory of the transit issuer's P-256 keys (<kid>.pem + <kid>.json window) that "
                             "sign pass credentials, paper tickets and deny lists. Empty: DATA_DIR/keys/transit, "
                             "generated in development; required in production."),
    "transit_staff_unit": Spec("TRANSIT_STAFF_UNIT", str, "S-GTVT",
                               "Code of the unit whose staff review concession documents and sell paper tickets."),
    # The collecting account for pass purchases (VietQR); the payments context may take these over.
    "payments_bank_bin": Spec("PAYMENTS_BANK_BIN", str, "970418",
                              "NAPAS BIN of the bank holding the city's collecting account (VietQR)."),
    "payments_account_number": Spec("PAYMENTS_ACCOUNT_NUMBER", str, "1200012345678",
                                    "The city's collecting account number (VietQR)."),
    "payments_account_name": Spec("PAYMENTS_ACCOUNT_NAME", str, "THU DO SO",
                                  "Account holder name shown in the banking app."),
    "payments_bank_api_url": Spec("PAYMENTS_BANK_API_URL", str, "",
                                  "The bank's API (status, refunds). Empty: the local stand-in under /dev/payments."),
    "payments_secret": Spec("PAYMENTS_SECRET", str, "",
                            "Shared HMAC secret of the bank's signed notifications. Empty: a development "
                            "secret; required in production."),
}

PROVIDER = "vietqr"
# Only for development and tests: production refuses to start without PAYMENTS_SECRET.
DEV_PAYMENTS_SECRET = b"thudo-dev-payments-secret"


class TransitConfigError(RuntimeError):
    pass


def keys_dir(settings: Settings) -> Path:
    configured = settings.of("transit_keys_dir", str)
    if configured:
        return Path(configured)
    if settings.environment == "production":
        raise TransitConfigError("TRANSIT_KEYS_DIR is required with ENVIRONMENT=production")
    return Path(settings.data_dir) / "keys" / "transit"


def prepare_keys(settings: Settings) -> None:
    """Development: a first issuer key under DATA_DIR; production brings its own (TRANSIT_KEYS_DIR)."""
    directory = keys_dir(settings)
    if settings.environment != "production":
        ensure_issuer_key(directory, int(time.time()))


class LazyQrImages:
    """``QrRenderer`` whose qrcode (and Pillow) imports happen at the first ticket, not at start-up."""

    def __init__(self) -> None:
        self._impl: Any = None

    def _images(self) -> Any:
        if self._impl is None:
            from adapters.transit_images.render import QrImages

            self._impl = QrImages()
        return self._impl

    def png(self, data: bytes) -> bytes:
        return bytes(self._images().png(data))

    def svg(self, data: bytes) -> str:
        return str(self._images().svg(data))


class _Providers:
    def __init__(self, providers: dict[str, PaymentProvider]) -> None:
        self._providers = providers

    def get(self, name: str) -> PaymentProvider | None:
        return self._providers.get(name)


@dataclass
class TransitServices:
    settings: Settings
    pool: asyncpg.Pool[Any]
    ring: IssuerKeyRing
    trust: TrustStore
    http: httpx.AsyncClient
    providers: _Providers
    verifier: P256Verifier = field(default_factory=P256Verifier)
    renderer: LazyQrImages = field(default_factory=LazyQrImages)
    blobs: LocalBlobStore | None = None
    _published: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _staff_unit: uuid.UUID | None = None

    async def publish_keys(self) -> None:
        """Publishes the ring's public keys once per process, on a connection of its own (so a request
        that rolls back cannot take the publication with it)."""
        if self._published:
            return
        async with self._lock:
            if self._published:
                return
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
                keys = PgIssuerKeys(conn)
                for key in self.ring.published():
                    await keys.add(key)
            self._published = True

    async def staff_unit(self, conn: Any) -> uuid.UUID | None:
        if self._staff_unit is None:
            self._staff_unit = await unit_id_by_code(conn, self.settings.of("transit_staff_unit", str))
        return self._staff_unit

    def intents(self, conn: Any, clock: Clock) -> CreatePaymentIntent:
        return CreatePaymentIntent(PgPaymentIntents(conn), self.providers, clock, default_provider=PROVIDER)

    async def close(self) -> None:
        await self.http.aclose()


def build_transit(settings: Settings, pool: asyncpg.Pool[Any]) -> TransitServices:
    directory = keys_dir(settings)
    prepare_keys(settings)
    ring = IssuerKeyRing.load(directory)
    http = httpx.AsyncClient(timeout=10.0)
    configured_secret = settings.of("payments_secret", str)
    if not configured_secret and settings.environment == "production":
        raise TransitConfigError("PAYMENTS_SECRET is required with ENVIRONMENT=production")
    secret = configured_secret.encode() if configured_secret else DEV_PAYMENTS_SECRET
    bank_api = settings.of("payments_bank_api_url", str) or f"{settings.base_url}/dev/payments"
    vietqr = VietQrProvider(VietQrConfig(bank_bin=settings.of("payments_bank_bin", str),
                                         account_number=settings.of("payments_account_number", str),
                                         account_name=settings.of("payments_account_name", str),
                                         bank_api_url=bank_api, secrets=[secret], name=PROVIDER), http)
    blob_root = Path(settings.blob_dir) if settings.blob_dir else Path(settings.data_dir) / "blobs"
    return TransitServices(settings=settings, pool=pool, ring=ring, trust=TrustStore(ring.published()), http=http,
                           providers=_Providers({PROVIDER: vietqr}), blobs=LocalBlobStore(blob_root))


def transit_deps(services: TransitServices, conn: Any, clock: Clock, *, staff_unit: uuid.UUID | None = None) -> Deps:
    """The ports of one unit of work (all on the request's connection = one transaction)."""
    return Deps(catalog=PgCatalog(conn), citizens=PgCitizens(conn), applications=PgApplications(conn),
                cards=PgCards(conn), passes=PgPasses(conn), bindings=PgBindings(conn), keys=PgIssuerKeys(conn),
                deny=PgDenyList(conn), taps=PgTaps(conn), tickets=PgPaperTickets(conn),
                notifier=PgNotifier(conn, clock), clock=clock,
                signer=services.ring.signer(int(clock.now().timestamp())), verifier=services.verifier,
                renderer=services.renderer, transit_unit_id=staff_unit)
