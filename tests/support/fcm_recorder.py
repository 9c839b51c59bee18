"""The FCM stand-in of the multi-process and fault tests: counts every message it accepted, and can be
told to fail like an FCM outage (503 UNAVAILABLE on every call).

The stand-in's own routes (``adapters.dev.push_standin``: token endpoint, v1 send, topic calls) run
unchanged behind an ASGI wrapper that records each accepted ``messages:send`` by its token (the
stand-in keeps only the last 1,000) and, while ``failing`` is set, answers every FCM call as Google does
during an outage. Workers reach it through ``FCM_ENDPOINT`` and ``FCM_CREDENTIALS_FILE``, exactly as they
reach Google in production.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar

from adapters.dev.push_standin import STANDIN_PATH, PushStandIn, ensure_dev_service_account, push_standin_router
from tests.support.live import free_port, serve

PROJECT = "thudo-faults"
_OUTAGE = json.dumps(
    {"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}
).encode()


@dataclass
class Recorder:
    endpoint: str  # FCM_ENDPOINT
    credentials_file: Path  # FCM_CREDENTIALS_FILE
    failing: bool = False
    delay_s: float = 0.0  # every FCM call takes this long (a batch stays in flight)
    received: Counter[str] = field(default_factory=Counter)  # accepted messages by token
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        return {
            "FCM_ENDPOINT": self.endpoint,
            "FCM_CREDENTIALS_FILE": str(self.credentials_file),
            "FCM_PROJECT_ID": PROJECT,
        }

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


def _wrap(inner: Any, recorder: Recorder) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(STANDIN_PATH + "/v1/"):
            await inner(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if recorder.delay_s:
            await asyncio.sleep(recorder.delay_s)
        if recorder.failing:
            with recorder.lock:
                recorder.refused += 1
            await send(
                {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": _OUTAGE})
            return
        status: list[int] = []

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await inner(scope, replay, capture)
        if path.endswith("messages:send") and status == [200]:
            token = json.loads(body)["message"].get("token") or ""
            with recorder.lock:
                recorder.received[token] += 1

    return app


@contextmanager
def fcm_recorder(tmp: Path) -> Iterator[Recorder]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    account = ensure_dev_service_account(tmp, PROJECT, base + STANDIN_PATH + "/token")
    standin = Litestar([push_standin_router(PushStandIn(account), PROJECT)], openapi_config=None)
    recorder = Recorder(endpoint=base + STANDIN_PATH, credentials_file=account)
    with serve(_wrap(standin, recorder), port):  # type: ignore[arg-type]
        yield recorder
