"""Builds the push gateway (FCM via firebase-admin) and, in development, the local FCM stand-in.

Without ``FCM_CREDENTIALS_FILE`` and ``FCM_ENDPOINT`` and with the stand-ins on, the gateway is
pointed at the stand-in mounted in this server, with a generated dev service account whose
``token_uri`` is the stand-in's token endpoint; otherwise it talks to Google with the given
service-account file or application default credentials.
"""

from __future__ import annotations

from litestar import Router

from adapters.dev.push_standin import STANDIN_PATH, PushStandIn, ensure_dev_service_account, push_standin_router
from adapters.fcm.gateway import FcmGateway
from api.settings import Settings


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
    """The stand-in's routes (mounted by ``api.app`` only when the stand-ins are enabled)."""
    return push_standin_router(PushStandIn(dev_service_account(settings)), settings.fcm_project_id)
