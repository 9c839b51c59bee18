"""Notifications domain against in-memory fakes: policy, quiet hours, delivery outcomes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from domain.errors import InvalidInput
from domain.notifications.delivery import (
    OUTAGE_RETRY_MAX_S,
    DeliverPushBatch,
    DeliveryPolicy,
    backoff_s,
    collapse_key,
)
from domain.notifications.delivery_model import ClaimedRow, PushMessage, Reschedule, SendOutcome, TopicOutcome
from domain.notifications.inbox import checked_preferences
from domain.notifications.model import Notification
from domain.notifications.preferences import Preferences, push_available_at
from domain.notifications.templates import TEMPLATES, Template, deep_link, render

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


class FakeClock:
    def now(self) -> datetime:
        return NOW


class FakeOutbox:
    def __init__(self, rows: list[ClaimedRow]) -> None:
        self.rows = rows
        self.finished: dict[str, object] = {}
        self.released: list[uuid.UUID] = []

    async def claim(self, kinds: tuple[str, ...], limit: int, lease_s: float, claim_id: uuid.UUID) -> list[ClaimedRow]:
        out, self.rows = [r for r in self.rows if r.kind in kinds][:limit], []
        return out

    async def finish(self, claim_id: uuid.UUID, *, sent: list[uuid.UUID], dead: list[tuple[uuid.UUID, str]],
                     retry: list[Reschedule], drop_devices: list[uuid.UUID], drop_tokens: list[str]) -> None:
        self.finished = {"sent": sent, "dead": dead, "retry": retry, "drop_devices": drop_devices}

    async def release(self, claim_id: uuid.UUID) -> None:
        self.released.append(claim_id)

    async def stats(self, now: datetime) -> dict[str, float]:
        return {}


class FakeGateway:
    max_batch = 500
    max_subscription_batch = 1000

    def __init__(self, outcome: str = "sent", hang: bool = False) -> None:
        self.outcome, self.hang = outcome, hang
        self.sent: list[PushMessage] = []

    async def send(self, messages: list[PushMessage]) -> list[SendOutcome]:
        if self.hang:
            await asyncio.sleep(3600)
        self.sent.extend(messages)
        return [SendOutcome(self.outcome)] * len(messages)  # type: ignore[arg-type]

    async def manage_topic(self, subscribe: bool, tokens: list[str], topic: str) -> list[TopicOutcome]:
        return [TopicOutcome("sent")] * len(tokens)


def row(attempts: int = 1, **kw: object) -> ClaimedRow:
    return ClaimedRow(id=uuid.uuid4(), kind="token", idempotency_key="k", attempts=attempts,
                      device_id=uuid.uuid4(), token="t", payload={"title": "a", "body": "b", "data": {"x": 1}},
                      **kw)  # type: ignore[arg-type]


def test_default_idempotency_key() -> None:
    uid = uuid.uuid4()
    n = Notification(user_id=uid, category="feedback", template="t", object_type="feedback_report", object_id="9")
    assert n.key == f"t:feedback_report:9:{uid}"
    assert Notification(user_id=uid, category="c", template="t", object_type="o", object_id="1",
                        idempotency_key="mine").key == "mine"


def test_templates_render_both_locales_and_contexts_can_register() -> None:
    TEMPLATES["test.hello"] = Template(title={"vi": "Chào {name}", "en": "Hello {name}"}, body={"vi": "-", "en": "-"})
    texts = render("test.hello", {"name": "An"})
    assert (texts["vi"].title, texts["en"].title) == ("Chào An", "Hello An")
    assert deep_link("feedback_report", "abc") == "thudo://feedback/reports/abc"
    with pytest.raises(KeyError):
        render("test.hello", {})


def test_backoff_grows_exponentially_with_jitter_and_cap() -> None:
    policy = DeliveryPolicy(backoff_base_s=5, backoff_max_s=60)
    assert backoff_s(policy, 1, lambda: 1.0) == 5
    assert backoff_s(policy, 3, lambda: 1.0) == 20
    assert backoff_s(policy, 3, lambda: 0.0) == 10  # jitter: never below half
    assert backoff_s(policy, 10, lambda: 1.0) == 60


def test_collapse_key_fits_every_platform() -> None:
    assert len(collapse_key("x" * 500)) == 32
    assert collapse_key("a") == collapse_key("a") != collapse_key("b")


@pytest.mark.parametrize(("hanoi", "expected_delay_h"), [(time(23, 30), 7.5), (time(6, 0), 1.0), (time(12, 0), 0)])
def test_quiet_hours_delay_until_their_end(hanoi: time, expected_delay_h: float) -> None:
    prefs = Preferences(quiet_start=time(22, 0), quiet_end=time(7, 0))
    now = datetime(2026, 3, 2, hanoi.hour, hanoi.minute, tzinfo=UTC) - timedelta(hours=7)
    when = push_available_at(prefs, "feedback", False, now)
    assert when is not None
    assert (when - now) == timedelta(hours=expected_delay_h)


def test_opt_out_drops_push_except_legally_required() -> None:
    prefs = Preferences(opted_out=frozenset({"feedback"}))
    assert push_available_at(prefs, "feedback", False, NOW) is None
    assert push_available_at(prefs, "feedback", True, NOW) == NOW
    assert push_available_at(prefs, "health", False, NOW) == NOW


def test_preferences_input_is_checked() -> None:
    with pytest.raises(InvalidInput) as err:
        checked_preferences(["feedback", "nope"], None, None)
    assert (err.value.field, err.value.rule) == ("opted_out[1]", "enum")
    with pytest.raises(InvalidInput):
        checked_preferences([], time(22), time(22))
    assert checked_preferences(["health"], time(22), time(6)).opted_out == {"health"}


async def test_outcomes_map_to_sent_retry_dead_and_token_removal() -> None:
    policy = DeliveryPolicy(max_attempts=3, backoff_base_s=10)
    for outcome, attempts, expect in [("sent", 1, "sent"), ("retry", 1, "retry"), ("retry", 3, "dead"),
                                      ("quota", 9, "retry"), ("unavailable", 9, "retry"), ("failed", 1, "dead"),
                                      ("unregistered", 1, "dead")]:
        r = row(attempts)
        outbox = FakeOutbox([r])
        report = await DeliverPushBatch(outbox, FakeGateway(outcome), FakeClock(), policy, lambda: 1.0).execute()
        got = {k for k in ("sent", "dead", "retry") if outbox.finished[k]}
        assert got == {expect}, (outcome, attempts)
        if outcome == "unregistered":
            assert outbox.finished["drop_devices"] == [r.device_id]
        if outcome in ("quota", "unavailable"):
            assert report.pause_s > 0
        if expect == "retry":
            [again] = outbox.finished["retry"]  # type: ignore[misc]
            assert again.available_at > NOW


class DownGateway(FakeGateway):
    async def send(self, messages: list[PushMessage]) -> list[SendOutcome]:
        raise ConnectionError("FCM unreachable")


async def test_a_provider_outage_never_dead_letters_however_long_it_lasts() -> None:
    # Attempts spent while FCM itself is down say nothing about the message: it waits for FCM to return.
    policy = DeliveryPolicy(max_attempts=3, backoff_base_s=10)
    outbox = FakeOutbox([row(50), row(1)])
    report = await DeliverPushBatch(outbox, DownGateway(), FakeClock(), policy, lambda: 1.0).execute()
    assert not outbox.finished["dead"]
    assert len(outbox.finished["retry"]) == 2  # type: ignore[arg-type]
    assert report.pause_s > 0


async def test_during_an_outage_fcm_is_tried_again_within_a_minute_however_long_it_lasted() -> None:
    # Backoff grows with the attempts an outage used up; capped so that the first pass after FCM returns
    # comes within a minute rather than after WORKER_BACKOFF_MAX_SECONDS (an hour by default).
    policy = DeliveryPolicy(backoff_base_s=5, backoff_max_s=3600)
    outbox = FakeOutbox([row(20)])
    report = await DeliverPushBatch(outbox, DownGateway(), FakeClock(), policy, lambda: 1.0).execute()
    [again] = outbox.finished["retry"]  # type: ignore[misc]
    assert (again.available_at - NOW).total_seconds() == report.pause_s == OUTAGE_RETRY_MAX_S


async def test_message_carries_payload_and_collapse_key() -> None:
    gateway = FakeGateway()
    await DeliverPushBatch(FakeOutbox([row(legally_required=True)]), gateway, FakeClock(), DeliveryPolicy()).execute()
    [msg] = gateway.sent
    assert (msg.title, msg.body, msg.data, msg.token) == ("a", "b", {"x": "1"}, "t")
    assert msg.collapse_key == collapse_key("k")
    assert msg.high_priority


async def test_cancelled_send_gives_the_claimed_rows_back() -> None:
    outbox = FakeOutbox([row()])
    uc = DeliverPushBatch(outbox, FakeGateway(hang=True), FakeClock(), DeliveryPolicy())
    task = asyncio.create_task(uc.execute())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(outbox.released) == 1
    assert outbox.finished == {}
