"""Local stand-in for the social-insurance (BHXH) receiver: records what it received, drops repeats
by key (as the real receiver must), and can be told to be down for the next N calls."""

from __future__ import annotations

from domain.health.insurance import InsuranceMessage, InsuranceUnavailable


class RecordingInsuranceGateway:
    def __init__(self) -> None:
        self.received: dict[str, InsuranceMessage] = {}
        self.calls = 0
        self.down_for = 0

    async def send(self, message: InsuranceMessage) -> None:
        self.calls += 1
        if self.down_for > 0:
            self.down_for -= 1
            raise InsuranceUnavailable()
        self.received.setdefault(message.key, message)
