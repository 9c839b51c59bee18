"""``PushGateway`` on the real firebase-admin SDK (FCM HTTP v1).

Credentials come from a service-account JSON file or, without one, from Google application
default credentials; the project id from settings. ``endpoint`` replaces
``https://fcm.googleapis.com`` so the same code talks to the local stand-in in development: the
SDK (7.x) builds its URLs once per app in ``_MessagingService.__init__`` (``_fcm_url`` for
``messages:send`` and ``_fcm_topic_url`` for topic registrations) and offers no option for them,
so the adapter sets those two attributes.

Sending uses the *public* ``messaging.send_each_async`` (the service method of the same name
defaults to ``dry_run=True``, which would silently deliver nothing).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import warnings
from typing import Any

import firebase_admin
import httpx
from firebase_admin import credentials, exceptions, messaging
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport
from google.auth.credentials import TokenState
from google.auth.transport.requests import Request as GoogleAuthRequest

from domain.notifications.delivery_model import Outcome, PushMessage, SendOutcome, TopicOutcome

log = logging.getLogger("thudo.fcm")
# FCM HTTP v1 still takes registration tokens (what the apps register); the SDK's suggested
# Firebase installation ids are a different identifier the apps do not send us.
warnings.filterwarnings("ignore", message="Message.token is deprecated", category=DeprecationWarning)

_apps = itertools.count()
_MESSAGE_NAME = re.compile(r"^projects/[^/]+/messages/[^/]+$")
# FCM answers INVALID_ARGUMENT both for malformed messages and for garbage tokens; only the
# latter means "forget this token".
_BAD_TOKEN = re.compile(r"registration token", re.IGNORECASE)
_TOPIC_UNREGISTERED = {"UNREGISTERED", "NOT_FOUND", "INVALID_ARGUMENT", "registration-token-not-registered",
                       "invalid-argument"}
_TOPIC_QUOTA = {"RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "too-many-topics"}


def classify_error(exc: BaseException) -> SendOutcome:
    """Map an SDK exception for one message to what the worker should do with its row."""
    name = type(exc).__name__
    outcome: Outcome
    if isinstance(exc, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        outcome = "unregistered"
    elif isinstance(exc, exceptions.InvalidArgumentError):
        outcome = "unregistered" if _BAD_TOKEN.search(str(exc)) else "failed"
    elif isinstance(exc, messaging.QuotaExceededError | exceptions.ResourceExhaustedError):
        outcome = "quota"
    elif isinstance(exc, exceptions.UnavailableError | exceptions.DeadlineExceededError):
        # FCM down or unreachable (503 UNAVAILABLE, connection errors, timeouts): nothing about this message.
        outcome = "unavailable"
    else:  # 500 INTERNAL and anything else about this one message (a poison message still dead-letters)
        outcome = "retry"
    # Only the class name is kept: FCM error texts may echo the token.
    return SendOutcome(outcome, name)


class _BoundedTransport(httpx.AsyncBaseTransport):
    """At most ``limit`` requests in flight; the others wait on a semaphore.

    ``send_each_async`` starts all (up to 500) requests at once. Left alone they queue inside
    httpcore's connection pool, whose request-to-connection assignment costs time proportional
    to queue × connections on every state change — measured here as most of the worker's CPU.
    Waiting on a semaphore instead is O(1) per request. Over HTTP/2 to Google, ``limit`` is the
    number of concurrent streams.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._slots:
            response = await self._inner.handle_async_request(request)
            await response.aread()  # the slot (and HTTP/1.1 connection) is free only after the body
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _fcm_message(m: PushMessage) -> messaging.Message:
    return messaging.Message(
        token=m.token, topic=m.topic, data=m.data,
        notification=messaging.Notification(title=m.title, body=m.body),
        android=messaging.AndroidConfig(
            collapse_key=m.collapse_key, priority="high" if m.high_priority else "normal",
            notification=messaging.AndroidNotification(tag=m.collapse_key)),
        apns=messaging.APNSConfig(headers={"apns-collapse-id": m.collapse_key,
                                           "apns-priority": "10" if m.high_priority else "5"}),
        webpush=messaging.WebpushConfig(headers={"Topic": m.collapse_key}),
    )


class FcmGateway:
    """Implements ``domain.notifications.ports.PushGateway``."""

    max_batch = 500
    max_subscription_batch = 1000

    def __init__(self, *, project_id: str, credentials_file: str = "", endpoint: str = "",
                 credential: credentials.Base | None = None, max_in_flight: int = 32) -> None:
        cred = credential or (credentials.Certificate(credentials_file) if credentials_file
                              else credentials.ApplicationDefault())
        # A named app per gateway: tests and the bench build several side by side.
        self._app = firebase_admin.initialize_app(cred, {"projectId": project_id},
                                                  name=f"thudo-push-{next(_apps)}")
        self._service: Any = messaging._get_messaging_service(self._app)
        self._google_credential = self._service._credential
        client = self._service._async_client.async_client
        for transport in client._mounts.values():
            if isinstance(transport, HttpxRetryTransport):
                # No retries inside the SDK: its retry loop sends again without closing the refused
                # response, so during an FCM outage every 503 keeps a connection busy until the pool is
                # exhausted and the send hangs for good (tests/integration/test_fcm_outage.py). A refused
                # message goes back to the outbox instead, which retries it durably with backoff.
                transport._retry = HttpxRetry(max_retries=0)
        # The SDK offers no option for this; wrap its own transports (auth unchanged).
        client._mounts = {pattern: _BoundedTransport(transport, max_in_flight) if transport else transport
                          for pattern, transport in client._mounts.items()}
        if endpoint:
            base = endpoint.rstrip("/")
            self._service._fcm_url = f"{base}/v1/projects/{project_id}/messages:send"
            self._service._fcm_topic_url = f"{base}/v1/projects/{project_id}/registrations"

    async def _fresh_token(self) -> None:
        # google-auth refreshes with blocking `requests` inside the SDK's auth flow; doing it here
        # in a thread keeps the event loop free (and cannot deadlock against a stand-in served
        # by this same loop).
        if self._google_credential.token_state != TokenState.FRESH:
            await asyncio.to_thread(self._google_credential.refresh, GoogleAuthRequest())

    async def send(self, messages: list[PushMessage]) -> list[SendOutcome]:
        if len(messages) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} messages per call")
        await self._fresh_token()
        batch = await messaging.send_each_async([_fcm_message(m) for m in messages], app=self._app)
        out: list[SendOutcome] = []
        for r in batch.responses:
            if r.success:
                # Unsafe-consumption guard: a 200 without a proper message name is not a delivery.
                ok = isinstance(r.message_id, str) and _MESSAGE_NAME.match(r.message_id)
                out.append(SendOutcome("sent", message_id=r.message_id) if ok
                           else SendOutcome("retry", "malformed FCM response"))
            else:
                out.append(classify_error(r.exception))
        return out

    async def manage_topic(self, subscribe: bool, tokens: list[str], topic: str) -> list[TopicOutcome]:
        await self._fresh_token()
        call = messaging.subscribe_to_topic_async if subscribe else messaging.unsubscribe_from_topic_async
        resp = await call(tokens, topic, app=self._app)
        out = [TopicOutcome("sent")] * len(tokens)
        for err in resp.errors:
            reason = str(err.reason)
            kind: Outcome = ("unregistered" if reason in _TOPIC_UNREGISTERED
                             else "quota" if reason in _TOPIC_QUOTA else "retry")
            out[err.index] = TopicOutcome(kind, reason)
        return out

    async def close(self) -> None:
        await self._service._async_client.async_client.aclose()
        # delete_app() closes the service with asyncio.run(), which needs a thread without a loop.
        await asyncio.to_thread(firebase_admin.delete_app, self._app)
