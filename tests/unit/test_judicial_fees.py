"""Fees as dated configuration: full fee, reduction, exemption, extra copies, city support,
postage, and the rules switching at midnight Hanoi time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest

from domain.judicial.fees import (
    DEFAULT_SCHEDULE,
    RESOLUTION_07,
    RESOLUTION_77,
    FeeRule,
    FeeSchedule,
    PricingInput,
    SupportRule,
    price,
)
from domain.judicial.model import Delivery, FeeCategory


def quote(at: datetime, *, category: FeeCategory = FeeCategory.STANDARD, copies: int = 2,
          delivery: Delivery = Delivery.ELECTRONIC, online: bool = True, level: int = 2, resident: bool = True,
          schedule: FeeSchedule = DEFAULT_SCHEDULE):  # type: ignore[no-untyped-def]
    return price(schedule, PricingInput(submitted_at=at, category=category, copies=copies, delivery=delivery,
                                        online=online, level=level, hanoi_resident=resident))


BEFORE_SUPPORT = datetime(2023, 6, 1, 3, 0, tzinfo=UTC)
UNDER_07 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
UNDER_77 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_full_fee_before_any_city_support() -> None:
    q = quote(BEFORE_SUPPORT)
    assert (q.fee, q.city_support, q.amount_due) == (200_000, 0, 200_000)
    assert [line.code for line in q.lines] == ["base"]
    assert q.priced_on == date(2023, 6, 1)


def test_reduction_exemption_and_extra_copies() -> None:
    assert quote(BEFORE_SUPPORT, category=FeeCategory.STUDENT).amount_due == 100_000
    assert quote(BEFORE_SUPPORT, category=FeeCategory.MARTYR_RELATIVE).fee == 100_000
    exempt = quote(BEFORE_SUPPORT, category=FeeCategory.POOR_HOUSEHOLD, copies=5)
    assert (exempt.fee, exempt.amount_due) == (0, 0)
    assert sum(line.amount for line in exempt.lines) == 0  # base + extra copies - exemption
    four = quote(BEFORE_SUPPORT, copies=4)
    assert four.fee == 200_000 + 2 * 5_000
    assert [(line.code, line.amount) for line in four.lines] == [("base", 200_000), ("extra_copies", 10_000)]
    student = quote(BEFORE_SUPPORT, category=FeeCategory.STUDENT, copies=3)
    assert student.fee == 105_000


def test_resolution_07_zero_fee_for_online_level2_residents() -> None:
    q = quote(UNDER_07, copies=3)
    assert (q.fee, q.city_support, q.amount_due) == (205_000, 205_000, 0)
    assert q.lines[-1].code == "city_support"
    assert q.lines[-1].source == RESOLUTION_07
    # The support needs a level-2 e-ID, an online request and Hanoi residence.
    assert quote(UNDER_07, level=1).amount_due == 200_000
    assert quote(UNDER_07, online=False).amount_due == 200_000
    assert quote(UNDER_07, resident=False).amount_due == 200_000


def test_resolution_77_from_2026_and_postage_is_always_owed() -> None:
    q = quote(UNDER_77, delivery=Delivery.POST)
    assert q.city_support == 200_000
    assert q.postage == 30_000
    assert q.amount_due == 30_000
    assert any(line.source == RESOLUTION_77 for line in q.lines)
    assert quote(UNDER_77, category=FeeCategory.STUDENT).city_support == 100_000
    assert quote(UNDER_77, category=FeeCategory.CHILD).city_support == 0  # nothing to support


def test_rule_change_at_midnight_hanoi_time() -> None:
    # Resolution 07 takes effect on 1 January 2024 in Hanoi = 31 December 2023 17:00 UTC.
    last_second = quote(datetime(2023, 12, 31, 16, 59, 59, tzinfo=UTC))
    first_second = quote(datetime(2023, 12, 31, 17, 0, 0, tzinfo=UTC))
    assert (last_second.priced_on, last_second.amount_due) == (date(2023, 12, 31), 200_000)
    assert (first_second.priced_on, first_second.amount_due) == (date(2024, 1, 1), 0)


def test_a_new_circular_switches_the_base_fee_at_midnight() -> None:
    schedule = FeeSchedule(
        fees=(FeeRule(effective_from=date(2017, 1, 1), effective_to=date(2026, 6, 30), base=200_000,
                      reduced=100_000, extra_copy=5_000, source="old"),
              FeeRule(effective_from=date(2026, 7, 1), base=250_000, reduced=120_000, extra_copy=6_000,
                      source="new")),
        support=(SupportRule(effective_from=date(2026, 1, 1), percent=50, source="half"),))
    before = quote(datetime(2026, 6, 30, 16, 59, 59, tzinfo=UTC), copies=3, schedule=schedule)
    after = quote(datetime(2026, 6, 30, 17, 0, tzinfo=UTC), copies=3, schedule=schedule)
    assert (before.fee, before.city_support, before.amount_due) == (205_000, 102_500, 102_500)
    assert (after.fee, after.city_support, after.amount_due) == (256_000, 128_000, 128_000)


def test_schedule_refuses_overlapping_rules_and_dates_without_a_rule() -> None:
    with pytest.raises(ValueError, match="overlap"):
        FeeSchedule(fees=(FeeRule(effective_from=date(2020, 1, 1), base=1, reduced=1, extra_copy=1, source="a"),
                          FeeRule(effective_from=date(2021, 1, 1), base=1, reduced=1, extra_copy=1, source="b")))
    with pytest.raises(LookupError):
        quote(datetime(2016, 6, 1, tzinfo=UTC))


def test_schedule_is_replaceable_by_a_validated_json_document() -> None:
    data = msgspec.json.encode(DEFAULT_SCHEDULE)
    assert msgspec.json.decode(data, type=FeeSchedule) == DEFAULT_SCHEDULE
    overlapping = {"fees": [
        {"effective_from": "2017-01-01", "base": 200000, "reduced": 100000, "extra_copy": 5000, "source": "a"},
        {"effective_from": "2026-07-01", "base": 250000, "reduced": 120000, "extra_copy": 6000, "source": "b"}]}
    with pytest.raises(msgspec.ValidationError, match="overlap"):
        msgspec.json.decode(msgspec.json.encode(overlapping), type=FeeSchedule)
    overlapping["fees"][0]["effective_to"] = "2026-06-30"
    fixed = msgspec.json.decode(msgspec.json.encode(overlapping), type=FeeSchedule)
    assert quote(datetime(2026, 7, 1, tzinfo=UTC), schedule=fixed).lines[0].amount == 250_000
