"""Replay and anti-passback memory of one station (all its gates) or one vehicle.

Gates of a station share one memory over the station's local network, so a fresh screenshot
shown at a second gate is caught even while the station is offline. Three rules:

* replay: the exact code (subject, timestamp, counter) was accepted before → ``REPLAY``;
* anti-passback: an entry (``IN``) of the same pass within ``window_s`` of its last accepted
  entry, with no exit in between → ``PASSBACK`` (one pass cannot let two riders in);
* a paper ticket enters once and exits once (``TICKET_USED`` otherwise).

Memory is bounded by time: code records live ``code_ttl_s``, entries ``window_s``; ``prune``
(called every few hundred taps) drops the rest.
"""

from __future__ import annotations

from domain.transit.codes import Direction, Rejection


class PassbackMemory:
    def __init__(self, window_s: int = 600, code_ttl_s: int = 60) -> None:
        self.window_s = window_s
        self.code_ttl_s = code_ttl_s
        self._codes: dict[tuple[bytes, int, int], int] = {}
        self._entries: dict[bytes, int] = {}
        self._tickets: dict[tuple[bytes, Direction], int] = {}
        self._since_prune = 0

    def check_code(self, subject: bytes, timestamp: int, counter: int, direction: Direction,
                   now: int) -> Rejection | None:
        if (subject, timestamp, counter) in self._codes:
            return Rejection.REPLAY
        if direction is Direction.IN:
            last = self._entries.get(subject)
            if last is not None and now - last < self.window_s:
                return Rejection.PASSBACK
        return None

    def remember_code(self, subject: bytes, timestamp: int, counter: int, direction: Direction,
                      now: int) -> None:
        self._codes[(subject, timestamp, counter)] = now + self.code_ttl_s
        if direction is Direction.IN:
            self._entries[subject] = now
        else:
            self._entries.pop(subject, None)
        self._tick(now)

    def check_ticket(self, subject: bytes, direction: Direction) -> Rejection | None:
        return Rejection.TICKET_USED if (subject, direction) in self._tickets else None

    def remember_ticket(self, subject: bytes, direction: Direction, drop_after: int, now: int) -> None:
        self._tickets[(subject, direction)] = drop_after
        self._tick(now)

    def _tick(self, now: int) -> None:
        self._since_prune += 1
        if self._since_prune >= 512:
            self.prune(now)

    def prune(self, now: int) -> None:
        self._since_prune = 0
        self._codes = {k: t for k, t in self._codes.items() if t >= now}
        self._entries = {k: t for k, t in self._entries.items() if now - t < self.window_s}
        self._tickets = {k: t for k, t in self._tickets.items() if t >= now}

    def __len__(self) -> int:
        return len(self._codes) + len(self._entries) + len(self._tickets)
