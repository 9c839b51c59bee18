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
from adapters.transit_images.render import QrImages
from api.platform.settings import Settings
from domain.payments.intents import CreatePaymentIntent
from domain.payments.ports import PaymentProvider
from domain.shared.time import Clock
from domain.transit.trust import TrustStore
from domain.transit.usecases.common import Deps

PROVIDER = "vietqr"
# Only for development and tests: production refuses to start without PAYMENTS_SECRET.
DEV_PAYMENTS_SECRET = b"thudo-dev-payments-secret"


def keys_dir(settings: Settings) -> Path:
    if settings.transit_keys_dir:
        return Path(settings.transit_keys_dir)
    return Path(settings.data_dir) / "keys" / "transit"


def prepare_keys(settings: Settings) -> None:
    """Development: a first issuer key under DATA_DIR; production brings its own (TRANSIT_KEYS_DIR)."""
    if settings.environment != "production":
        ensure_issuer_key(keys_dir(settings), int(time.time()))


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
    renderer: QrImages = field(default_factory=QrImages)
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
            self._staff_unit = await unit_id_by_code(conn, self.settings.transit_staff_unit)
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
    secret = settings.payments_secret.encode() if settings.payments_secret else DEV_PAYMENTS_SECRET
    bank_api = settings.payments_bank_api_url or f"{settings.base_url}/dev/payments"
    vietqr = VietQrProvider(VietQrConfig(bank_bin=settings.payments_bank_bin,
                                         account_number=settings.payments_account_number,
                                         account_name=settings.payments_account_name, bank_api_url=bank_api,
                                         secrets=[secret], name=PROVIDER), http)
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
