"""Fees as dated configuration: a request is priced by the rules in force on its submission date.

Three kinds of rule, each with an effective period in Asia/Ho_Chi_Minh calendar days
(``effective_to`` inclusive, ``None`` = open-ended):

* ``FeeRule`` — the statutory fee (Ministry of Finance circular): base fee, the reduced fee for
  students / revolutionary merit / martyrs' relatives, copies included and the price of each
  extra copy. Exempt categories pay no fee at all (extra copies included).
* ``SupportRule`` — the city paying a share of the fee for people who apply online (Hanoi
  People's Council resolutions): who qualifies (e-ID level, Hanoi residents only) and the share.
* ``PostageRule`` — the postal delivery of a paper copy, which the citizen always pays.

The shipped defaults (``DEFAULT_SCHEDULE``) encode Circular 244/2016/TT-BTC (amounts kept by
Circular 16/2025/TT-BTC), Resolution 07 and Resolution 77/2025 of the Hanoi People's Council;
operations replace them with a JSON file when a rule changes (see docs/judicial.md). The effective
dates of the resolutions in the defaults are configuration to be confirmed against the gazette.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import TypeVar

import msgspec

from domain.judicial.model import (
    EXEMPT,
    REDUCED,
    Delivery,
    FeeBreakdown,
    FeeCategory,
    FeeLine,
)
from domain.shared.time import HANOI


class FeeRule(msgspec.Struct, frozen=True, kw_only=True):
    effective_from: date
    effective_to: date | None = None
    base: int
    reduced: int
    included_copies: int = 2
    extra_copy: int
    source: str


class SupportRule(msgspec.Struct, frozen=True, kw_only=True):
    effective_from: date
    effective_to: date | None = None
    percent: int                      # share of the fee the city pays (0–100)
    min_level: int = 2                # e-ID level required
    residents_only: bool = True       # permanent or temporary residence in Hanoi
    online_only: bool = True
    source: str


class PostageRule(msgspec.Struct, frozen=True, kw_only=True):
    effective_from: date
    effective_to: date | None = None
    amount: int
    source: str = ""


def _check_periods(kind: str, periods: list[tuple[date, date | None]]) -> None:
    ordered = sorted(periods)
    for start, end in ordered:
        if end is not None and end < start:
            raise ValueError(f"{kind} rule ends before it starts ({start})")
    for (_, a_end), (b_start, _) in itertools.pairwise(ordered):
        if a_end is None or a_end >= b_start:
            raise ValueError(f"{kind} rules overlap at {b_start}")


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    fees: tuple[FeeRule, ...]
    support: tuple[SupportRule, ...] = ()
    postage: tuple[PostageRule, ...] = ()

    def __post_init__(self) -> None:
        _check_periods("fees", [(r.effective_from, r.effective_to) for r in self.fees])
        _check_periods("support", [(r.effective_from, r.effective_to) for r in self.support])
        _check_periods("postage", [(r.effective_from, r.effective_to) for r in self.postage])
        for s in self.support:
            if not 0 <= s.percent <= 100:
                raise ValueError("support percent must be within 0..100")


R = TypeVar("R", FeeRule, SupportRule, PostageRule)


def _in_force(rules: tuple[R, ...], day: date) -> R | None:
    for r in rules:
        if r.effective_from <= day and (r.effective_to is None or day <= r.effective_to):
            return r
    return None


class PricingInput(msgspec.Struct, frozen=True, kw_only=True):
    submitted_at: datetime            # the instant; the rules of its Hanoi calendar day apply
    category: FeeCategory
    copies: int
    delivery: Delivery
    online: bool
    level: int
    hanoi_resident: bool


def price(schedule: FeeSchedule, p: PricingInput) -> FeeBreakdown:
    day = p.submitted_at.astimezone(HANOI).date()
    rule = _in_force(schedule.fees, day)
    if rule is None:
        raise LookupError(f"no fee rule in force on {day}")
    lines = [FeeLine(code="base", amount=rule.base, source=rule.source)]
    extra = max(0, p.copies - rule.included_copies)
    if p.category in EXEMPT:
        fee = 0
        lines.append(FeeLine(code="exemption", amount=-(rule.base + extra * rule.extra_copy), source=rule.source))
    else:
        fee = rule.base
        if p.category in REDUCED:
            lines.append(FeeLine(code="reduction", amount=rule.reduced - rule.base, source=rule.source))
            fee = rule.reduced
        fee += extra * rule.extra_copy
    if extra:
        lines.insert(1, FeeLine(code="extra_copies", amount=extra * rule.extra_copy, source=rule.source))
    support = 0
    s = _in_force(schedule.support, day)
    if (s is not None and fee > 0 and p.level >= s.min_level and (p.online or not s.online_only)
            and (p.hanoi_resident or not s.residents_only)):
        support = fee * s.percent // 100
        lines.append(FeeLine(code="city_support", amount=-support, source=s.source))
    postage = 0
    if p.delivery is Delivery.POST:
        pr = _in_force(schedule.postage, day)
        if pr is None:
            raise LookupError(f"no postage rule in force on {day}")
        postage = pr.amount
        lines.append(FeeLine(code="postage", amount=postage, source=pr.source))
    return FeeBreakdown(priced_on=day, category=p.category, copies=p.copies, lines=tuple(lines), fee=fee,
                        city_support=support, postage=postage, amount_due=fee - support + postage)


CIRCULAR_244 = "Thông tư 244/2016/TT-BTC (mức thu giữ nguyên tại Thông tư 16/2025/TT-BTC)"
RESOLUTION_07 = "Nghị quyết 07 của HĐND Thành phố Hà Nội"
RESOLUTION_77 = "Nghị quyết 77/2025/NQ-HĐND của HĐND Thành phố Hà Nội"

DEFAULT_SCHEDULE = FeeSchedule(
    fees=(FeeRule(effective_from=date(2017, 1, 1), base=200_000, reduced=100_000, included_copies=2,
                  extra_copy=5_000, source=CIRCULAR_244),),
    support=(
        # Online judicial record requests of Hanoi residents with a level-2 e-ID: the city pays 100 %.
        SupportRule(effective_from=date(2024, 1, 1), effective_to=date(2025, 12, 31), percent=100,
                    source=RESOLUTION_07),
        # From 1 January 2026 the city pays the fees of all online procedures.
        SupportRule(effective_from=date(2026, 1, 1), percent=100, source=RESOLUTION_77),
    ),
    postage=(PostageRule(effective_from=date(2017, 1, 1), amount=30_000, source="Bưu điện (VNPost)"),),
)
