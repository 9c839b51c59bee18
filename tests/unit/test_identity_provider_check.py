"""The start-up check of the e-ID provider's published configuration runs once the provider answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from api.identity.wiring import _check_provider
from domain.errors import Unavailable


class Flaky:
    """Discovery unreachable for the first ``failures`` calls, as while the server is still starting."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    async def check_provider(self) -> list[str]:
        self.calls += 1
        if self.calls <= self.failures:
            raise Unavailable(5, "identity.eid_unavailable")
        return []


async def test_check_is_retried_until_discovery_answers() -> None:
    provider: Any = Flaky(failures=2)
    await _check_provider(provider, attempts=5, pause_s=0)
    assert provider.calls == 3


async def test_an_unreachable_provider_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    provider: Any = Flaky(failures=99)
    with caplog.at_level(logging.WARNING, logger="thudo.vneid"):
        await _check_provider(provider, attempts=3, pause_s=0)
    assert provider.calls == 3
    assert [r.getMessage() for r in caplog.records] == [
        "e-ID provider configuration not checked: discovery unreachable at start"]
