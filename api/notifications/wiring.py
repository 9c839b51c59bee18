"""Builds the push gateway (FCM via firebase-admin) and, in development, the local FCM stand-in.

Without ``FCM_CREDENTIALS_FILE`` and ``FCM_ENDPOINT`` and with the stand-ins on, the gateway is
pointed at the stand-in mounted in this server, with a generated dev service account whose
``token_uri`` is the stand-in's token endpoint; otherwise it talks to Google with the given
service-account file or application default credentials.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar import Router

from adapters.dev.push_standin import STANDIN_PATH, PushStandIn, ensure_dev_service_account, push_standin_router
from adapters.fcm.gateway import FcmGateway
from api.platform.settings import Settings


def _standin_defaults(settings: Settings) -> bool:
    return settings.standins_enabled and not settings.fcm_credentials_file and not settings.fcm_endpoint


def dev_service_account(settings: Settings) -> str:
    return str(ensure_dev_service_account(settings.data_dir, settings.fcm_project_id,
                                          settings.base_url + STANDIN_PATH + "/token"))


def build_push_gateway(settings: Settings) -> FcmGateway:
    if _standin_defaults(settings):
        return FcmGateway(project_id=settings.fcm_project_id, credentials_file=dev_service_account(settings),
                          endpoint=settings.base_url + STANDIN_PATH, max_in_flight=settings.fcm_max_in_flight)
    return FcmGateway(project_id=settings.fcm_project_id, credentials_file=settings.fcm_credentials_file,
                      endpoint=settings.fcm_endpoint, max_in_flight=settings.fcm_max_in_flight)


def push_standin(settings: Settings) -> Router:
    """The stand-in's routes (mounted by ``api.platform.app`` only when the stand-ins are enabled)."""
    return push_standin_router(PushStandIn(Path(dev_service_account(settings)),
                                           latency_s=settings.fcm_standin_latency_ms / 1000),
                               settings.fcm_project_id)


class NotificationServices:
    """The push gateway of this process, built on first use: only processes that deliver pushes (the
    worker, or a server running it inline) pay for firebase-admin's start-up."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._gateway: FcmGateway | None = None
        self._lock = asyncio.Lock()

    async def gateway(self) -> FcmGateway:
        if self._gateway is None:
            async with self._lock:
                if self._gateway is None:
                    self._gateway = await asyncio.to_thread(build_push_gateway, self._settings)
        return self._gateway

    async def close(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()


def build_notifications(settings: Settings, _pool: object) -> NotificationServices:
    return NotificationServices(settings)
