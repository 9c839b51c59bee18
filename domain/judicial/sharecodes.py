"""Share codes: 9 characters from an alphabet without look-alikes, compared after normalisation.

The alphabet drops 0/O, 1/I/L and U, leaving 30 symbols: 30^9 ≈ 2·10^13 codes. A verifier must
also present the holder's date of birth, and wrong attempts are counted per code and per client,
so guessing is not practical. Only a hash of the code is stored.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 9
MAX_DAYS = 90
DEFAULT_DAYS = 30
MAX_FAILED = 5             # wrong dates of birth before a code locks
LOCK_MINUTES = 15

def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str | None:
    """Upper-case with separators removed; ``None`` when it cannot be a code."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def display(code: str) -> str:
    """``ABC-DEF-GHJ``: easier to read aloud or type."""
    return f"{code[:3]}-{code[3:6]}-{code[6:]}"
