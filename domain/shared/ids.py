"""Row identifiers: UUIDv7 (RFC 9562), time-ordered so B-tree inserts stay local."""

from __future__ import annotations

import os
import time
import uuid

_last_ms = 0
_seq = 0


def new_id() -> uuid.UUID:
    """Return a UUIDv7. Within one millisecond a 12-bit counter keeps ids monotonic per process."""
    global _last_ms, _seq
    ms = time.time_ns() // 1_000_000
    # One system call for all the random bits (ingestion makes ~20 ids per request).
    rand = int.from_bytes(os.urandom(10), "big")
    if ms <= _last_ms:
        ms = _last_ms
        _seq = (_seq + 1) & 0xFFF
        if _seq == 0:  # counter exhausted within this millisecond: borrow the next one
            ms += 1
    else:
        _seq = (rand >> 64) & 0x3FF
    _last_ms = ms
    rand_b = rand & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | _seq << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)
