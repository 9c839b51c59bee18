"""Residence history since age 14: each documented rule rejects what it should, naming the line."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from domain.errors import InvalidInput
from domain.judicial.model import Address, ResidencePeriod
from domain.judicial.residence import validate_history
from tests.support.judicial import HANOI_ADDR, history

BORN = date(1995, 3, 14)
TODAY = date(2026, 3, 2)


def period(a: str, b: str | None, addr: Address = HANOI_ADDR) -> ResidencePeriod:
    return ResidencePeriod(from_month=a, to_month=b, address=addr)


def rule(periods: tuple[ResidencePeriod, ...], born: date = BORN) -> tuple[str | None, str | None]:
    with pytest.raises(InvalidInput) as e:
        validate_history(periods, born, TODAY)
    return e.value.field, e.value.rule


def test_a_complete_history_passes_and_moves_within_a_month_are_allowed() -> None:
    validate_history(history(), BORN, TODAY)
    validate_history((period("2009-01", "2015-05"), period("2015-05", "2026-03")), BORN, TODAY)


def test_gap_and_overlap() -> None:
    assert rule((period("2009-03", "2015-05"), period("2015-07", None))) == ("residence_history[1].from_month", "gap")
    assert rule((period("2009-03", "2015-05"), period("2015-04", None))) == (
        "residence_history[1].from_month", "overlap")
    assert rule((period("2012-01", "2015-05"), period("2009-03", None))) == ("residence_history[1].from_month", "order")


def test_coverage_from_age_14_until_now() -> None:
    assert rule((period("2010-01", None),)) == ("residence_history[0].from_month", "from_age_14")
    assert rule((period("2009-03", "2025-12"),)) == ("residence_history[0].to_month", "until_now")
    assert rule(()) == ("residence_history", "required")
    validate_history((), date(2014, 1, 1), TODAY)  # a 12-year-old has no history to give


def test_bounds_and_formats() -> None:
    assert rule((period("1994-12", None),)) == ("residence_history[0].from_month", "before_birth")
    assert rule((period("2009-03", "2026-04"),)) == ("residence_history[0].to_month", "in_future")
    assert rule((period("2015-03", "2012-01"),)) == ("residence_history[0].to_month", "before_start")
    assert rule((period("2009-3", None),)) == ("residence_history[0].from_month", "month_format")
    assert rule((period("2009-03", None), period("2010-01", None))) == (
        "residence_history[0].to_month", "open_ended_not_last")
    assert rule((period("2009-03", None, Address(text="  ")),)) == ("residence_history[0].address", "required")
    assert rule((period("2009-03", None, Address(text="Hà Nội")),)) == (
        "residence_history[0].address.province_code", "required")
    abroad = Address(text="Tokyo", country="JP")
    validate_history((period("2009-03", "2012-01", abroad), period("2012-02", None)), BORN, TODAY)
    too_many = tuple(msgspec.structs.replace(period("2009-03", "2009-03")) for _ in range(61))
    assert rule(too_many) == ("residence_history", "max_items")
