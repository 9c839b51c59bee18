"""Local stand-in for Firebase Cloud Messaging (development, tests and the bench only).

It speaks FCM's wire protocol over HTTP, so the production adapter (``adapters.fcm``, the real
firebase-admin SDK) runs unchanged against it; only ``FCM_ENDPOINT`` and the credentials differ:

* ``POST /dev/push/token`` — an OAuth 2.0 token endpoint for the JWT-bearer grant (RFC 7523)
  that google-auth uses for service accounts. ``ensure_dev_service_account`` writes a
  service-account JSON with a generated RSA key whose ``token_uri`` points here.
* ``POST /dev/push/v1/projects/{project}/messages:send`` — FCM HTTP v1 send. The body is checked
  against the v1 message shape (unknown fields are rejected like FCM does); tokens starting with
  ``unregistered-`` get FCM's 404 UNREGISTERED and ``invalid-`` the 400 "not a valid FCM
  registration token", so token clean-up can be tried locally.
* ``POST|DELETE /dev/push/v1/projects/{project}/registrations/{token}/topicSubscriptions…`` —
  the v1 topic management calls the SDK makes.
* ``GET /dev/push/deliveries`` — what "was delivered", newest first (tokens shortened).

Mounted only when ``STANDINS`` is on (never in production).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Annotated, Any

import jwt
import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from adapters.vneid.keys import load_private_key, new_rsa_key, pem, write_once

STANDIN_PATH = "/dev/push"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TTL_S = 3600
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def dev_service_account_path(data_dir: Path) -> Path:
    return Path(data_dir) / "keys" / "fcm-dev-service-account.json"


def ensure_dev_service_account(data_dir: Path, project_id: str, token_uri: str) -> Path:
    """A service-account JSON for the stand-in (generated key, ``token_uri`` = the stand-in)."""
    keys = Path(data_dir) / "keys"
    key_pem = write_once(keys / "fcm-dev-sa.pem", lambda: pem(new_rsa_key()))
    info = {
        "type": "service_account", "project_id": project_id,
        "private_key_id": hashlib.sha256(key_pem).hexdigest()[:40], "private_key": key_pem.decode(),
        "client_email": f"thudo-dev@{project_id}.iam.gserviceaccount.com", "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    path = dev_service_account_path(data_dir)
    # Rewritten on each start (the port may change); atomic so parallel workers never read half a file.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, path)
    return path


# --- FCM HTTP v1 message shape (the parts the SDK emits) -------------------------------------

class _Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class _Notification(_Strict):
    title: str | None = None
    body: str | None = None
    image: str | None = None


class _AndroidNotification(_Strict):
    title: str | None = None
    body: str | None = None
    tag: str | None = None
    icon: str | None = None
    color: str | None = None
    sound: str | None = None
    click_action: str | None = None
    channel_id: str | None = None


class _Android(_Strict):
    collapse_key: str | None = None
    priority: Annotated[str, msgspec.Meta(pattern="^(normal|high)$")] | None = None
    ttl: str | None = None
    restricted_package_name: str | None = None
    data: dict[str, str] | None = None
    notification: _AndroidNotification | None = None
    direct_boot_ok: bool | None = None


class _Apns(_Strict):
    headers: dict[str, str] | None = None
    payload: dict[str, Any] | None = None
    fcm_options: dict[str, str] | None = None


class _Webpush(_Strict):
    headers: dict[str, str] | None = None
    data: dict[str, str] | None = None
    notification: dict[str, Any] | None = None
    fcm_options: dict[str, str] | None = None


class _Message(_Strict):
    token: str | None = None
    topic: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9\-_.~%]+$")] | None = None
    condition: str | None = None
    fid: str | None = None
    data: dict[str, str] | None = None
    notification: _Notification | None = None
    android: _Android | None = None
    apns: _Apns | None = None
    webpush: _Webpush | None = None
    fcm_options: dict[str, str] | None = None


class _SendRequest(_Strict):
    message: _Message
    validate_only: bool = False


_decode_send = msgspec.json.Decoder(_SendRequest).decode


def _fcm_error(status: int, code: str, message: str, fcm_code: str | None = None) -> Response[Any]:
    details = [{"@type": _FCM_ERROR, "errorCode": fcm_code}] if fcm_code else []
    return Response({"error": {"code": status, "message": message, "status": code, "details": details}},
                    status_code=status)


def _short(token: str) -> str:
    return token[:10] + "…" if len(token) > 12 else token


class PushStandIn:
    """State of one stand-in: signing secret, recorded deliveries and topic subscriptions."""

    def __init__(self, service_account_file: Path, history: int = 1000, latency_s: float = 0.0) -> None:
        # Each send is answered after ``latency_s`` (FCM_STANDIN_LATENCY_MS): Google is a network round
        # trip away, the stand-in on loopback is not, and how many requests a worker keeps in flight
        # only matters with that round trip.
        self.latency_s = latency_s
        info = json.loads(Path(service_account_file).read_text())
        key = load_private_key(info["private_key"].encode())
        self.client_email: str = info["client_email"]
        self.token_uri: str = info["token_uri"]
        # google-auth always puts Google's token endpoint in ``aud``, whatever ``token_uri`` says.
        self.audiences = [self.token_uri, GOOGLE_TOKEN_URI]
        self.public_key = key.public_key()
        # Access tokens are HMACs under a secret derived from the key, so every worker process
        # accepts the tokens any of them issued.
        self._secret = hashlib.sha256(b"thudo-push-standin" + pem(key)).digest()
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=history)
        self.delivered = 0
        self.topics: dict[str, set[str]] = {}

    def issue(self, now: float) -> str:
        exp = str(int(now) + TOKEN_TTL_S)
        return exp + "." + hmac.new(self._secret, exp.encode(), hashlib.sha256).hexdigest()

    def authorized(self, header: str | None, now: float) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        exp, _, mac = header[7:].partition(".")
        good = hmac.new(self._secret, exp.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, good) and exp.isdigit() and int(exp) > now

    def verify_assertion(self, assertion: str) -> bool:
        try:
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256"], audience=self.audiences,
                                issuer=self.client_email, options={"require": ["exp", "iat"]}, leeway=60)
        except jwt.PyJWTError:
            return False
        return int(claims["exp"]) - int(claims["iat"]) <= 3600


def push_standin_router(standin: PushStandIn, project_id: str) -> Router:
    unauthenticated = _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")

    @post("/token", operation_id="devPushToken", summary="Stand-in OAuth2 token endpoint (JWT bearer grant)",
          include_in_schema=False, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        if form.get("grant_type") != JWT_BEARER:
            return Response({"error": "unsupported_grant_type"}, status_code=400)
        if not standin.verify_assertion(str(form.get("assertion", ""))):
            return Response({"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                            status_code=400)
        return Response({"access_token": standin.issue(time.time()), "expires_in": TOKEN_TTL_S,
                         "token_type": "Bearer"})

    @post("/v1/projects/{project:str}/messages:send", operation_id="devPushSend",
          summary="Stand-in FCM HTTP v1 send", include_in_schema=False, status_code=200)
    async def send(request: Request[Any, Any, Any], project: FromPath[str]) -> Response[Any]:
        if not standin.authorized(request.headers.get("authorization"), time.time()):
            return unauthenticated
        if project != project_id:
            return _fcm_error(403, "PERMISSION_DENIED", "The caller does not have permission", "SENDER_ID_MISMATCH")
        try:
            req = _decode_send(await request.body())
        except msgspec.DecodeError as exc:
            return _fcm_error(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}")
        msg = req.message
        targets = [t for t in (msg.token, msg.topic, msg.condition, msg.fid) if t]
        if len(targets) != 1:
            return _fcm_error(400, "INVALID_ARGUMENT", "Exactly one of token, topic, condition or fid is required")
        if msg.token and msg.token.startswith("unregistered-"):
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if msg.token and msg.token.startswith("invalid-"):
            return _fcm_error(400, "INVALID_ARGUMENT",
                              "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT")
        name = f"projects/{project}/messages/{secrets.token_hex(8)}"
        if standin.latency_s:
            await asyncio.sleep(standin.latency_s)
        if not req.validate_only:
            standin.delivered += 1
            standin.deliveries.appendleft({
                "name": name, "token": _short(msg.token) if msg.token else None, "topic": msg.topic,
                "title": msg.notification.title if msg.notification else None,
                "body": msg.notification.body if msg.notification else None,
                "data": msg.data or {},
                "collapse_key": msg.android.collapse_key if msg.android else None,
                "at": time.time(),
            })
        return Response({"name": name})

    def _topic_call(request: Request[Any, Any, Any], project: str) -> Response[Any] | None:
        if not standin.authorized(request.headers.get("authorization"), time.time()):
            return unauthenticated
        if project != project_id:
            return _fcm_error(403, "PERMISSION_DENIED", "The caller does not have permission")
        return None

    @post("/v1/projects/{project:str}/registrations/{token:str}/topicSubscriptions",
          operation_id="devPushSubscribe", summary="Stand-in topic subscription", include_in_schema=False,
          status_code=200)
    async def subscribe(request: Request[Any, Any, Any], project: FromPath[str], token: FromPath[str],
                        topic_name: FromQuery[str]) -> Response[Any]:
        if (denied := _topic_call(request, project)) is not None:
            return denied
        if token.startswith(("unregistered-", "invalid-")):
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        standin.topics.setdefault(topic_name, set()).add(token)
        return Response({})

    @delete("/v1/projects/{project:str}/registrations/{token:str}/topicSubscriptions/{topic:str}",
            operation_id="devPushUnsubscribe", summary="Stand-in topic unsubscription", include_in_schema=False,
            status_code=200)
    async def unsubscribe(request: Request[Any, Any, Any], project: FromPath[str], token: FromPath[str],
                          topic: FromPath[str]) -> Response[Any]:
        if (denied := _topic_call(request, project)) is not None:
            return denied
        standin.topics.get(topic, set()).discard(token)
        return Response({})

    @get("/deliveries", operation_id="devPushDeliveries", summary="Pushes the stand-in received (newest first)",
         tags=["dev"])
    async def deliveries(limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50) -> dict[str, Any]:
        return {"delivered": standin.delivered, "items": list(standin.deliveries)[:limit],
                "topics": {t: len(tokens) for t, tokens in standin.topics.items()}}

    return Router(path=STANDIN_PATH, route_handlers=[token, send, subscribe, unsubscribe, deliveries])
