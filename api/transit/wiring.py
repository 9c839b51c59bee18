"""Wiring of the transit context: the issuer key ring, QR rendering and the per-request bundle of ports its
use cases receive. Pass purchases are collected through the payments context (``api.payments.wiring``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from adapters.blobs.local import LocalBlobStore
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import connect
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens, unit_id_by_code
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.postgres.transit.orders import PgOrders
from adapters.postgres.uow import ACQUIRE_TIMEOUT_S
from adapters.transit_crypto.keyring import IssuerKeyRing, ensure_issuer_key
from adapters.transit_crypto.p256 import P256Verifier
from api.platform.settings import Settings, Spec
from domain.shared.time import Clock
from domain.transit.trust import TrustStore
from domain.transit.usecases.common import Deps
from domain.transit.validation import VerifiedCredentials

# Transit's own environment variables (``Context.settings``; README's configuration table lists them).
SETTINGS: dict[str, Spec] = {
    "transit_keys_dir": Spec("TRANSIT_KEYS_DIR", str, "",
                             "Directory of the transit issuer's P-256 keys (<kid>.pem + <kid>.json window) that "
                             "sign pass credentials, paper tickets and deny lists. Empty: DATA_DIR/keys/transit, "
                             "generated in development; required in production."),
    "transit_staff_unit": Spec("TRANSIT_STAFF_UNIT", str, "S-GTVT",
                               "Code of the unit whose staff review concession documents and sell paper tickets."),
}

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


@dataclass
class TransitServices:
    settings: Settings
    pool: asyncpg.Pool[Any]
    ring: IssuerKeyRing
    trust: TrustStore
    verifier: P256Verifier = field(default_factory=P256Verifier)
    # Online validation's memory of issuer signatures already verified (one per process, as at a gate).
    credentials: VerifiedCredentials = field(default_factory=VerifiedCredentials)
    renderer: LazyQrImages = field(default_factory=LazyQrImages)
    blobs: LocalBlobStore | None = None
    _published: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _staff_unit: uuid.UUID | None = None

    async def publish_keys(self) -> None:
        """Publishes the ring's public keys once per process, on a connection of its own (so a request
        that rolls back cannot take the publication with it).

        Not a pooled one: the first transit requests call this while holding their unit of work's
        connection, so under a burst on a fresh process every pooled connection was held by a request
        waiting for this one to get another — each lock holder timed out in turn (5 s stalls, 503s)."""
        if self._published:
            return
        async with self._lock:
            if self._published:
                return
            if self.settings.database_url:
                conn = await connect(self.settings.database_url)
                try:
                    await self._publish_on(conn)
                finally:
                    await conn.close()
            else:  # a pool handed in without a URL (tests): bounded like a unit of work's acquire
                async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as pooled:
                    await self._publish_on(pooled)
            self._published = True

    async def _publish_on(self, conn: Any) -> None:
        keys = PgIssuerKeys(conn)
        for key in self.ring.published():
            await keys.add(key)

    async def staff_unit(self, conn: Any) -> uuid.UUID | None:
        if self._staff_unit is None:
            self._staff_unit = await unit_id_by_code(conn, self.settings.of("transit_staff_unit", str))
        return self._staff_unit


def build_transit(settings: Settings, pool: asyncpg.Pool[Any]) -> TransitServices:
    directory = keys_dir(settings)
    prepare_keys(settings)
    ring = IssuerKeyRing.load(directory)
    blob_root = Path(settings.blob_dir) if settings.blob_dir else Path(settings.data_dir) / "blobs"
    return TransitServices(settings=settings, pool=pool, ring=ring, trust=TrustStore(ring.published()),
                           blobs=LocalBlobStore(blob_root))


def transit_deps(services: TransitServices, conn: Any, clock: Clock, *, staff_unit: uuid.UUID | None = None) -> Deps:
    """The ports of one unit of work (all on the request's connection = one transaction)."""
    return Deps(catalog=PgCatalog(conn), citizens=PgCitizens(conn), applications=PgApplications(conn),
                cards=PgCards(conn), passes=PgPasses(conn), bindings=PgBindings(conn), keys=PgIssuerKeys(conn),
                deny=PgDenyList(conn), taps=PgTaps(conn), tickets=PgPaperTickets(conn), orders=PgOrders(conn),
                notifier=PgNotifier(conn, clock), clock=clock,
                signer=services.ring.signer(int(clock.now().timestamp())), verifier=services.verifier,
                renderer=services.renderer, transit_unit_id=staff_unit)
