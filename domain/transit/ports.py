"""Cryptographic ports of the transit context (implemented with ``cryptography`` in
``adapters/transit_crypto``); the repository ports live in ``domain.transit.repositories``.

All signatures are ECDSA P-256 / SHA-256 in raw ``r || s`` form (64 bytes), public keys SEC1
compressed (33 bytes): the formats of ``domain.transit.qr``.
"""

from __future__ import annotations

from typing import Protocol


class SignatureVerifier(Protocol):
    def verify(self, public_key: bytes, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is a valid signature of ``data`` by ``public_key``. Never raises
        for bad input (a malformed key or signature is simply ``False``)."""
        ...


class IssuerSigner(Protocol):
    """The issuer's current signing key (an HSM or a key file in production)."""

    @property
    def kid(self) -> int: ...

    def sign(self, data: bytes) -> bytes: ...


class DeviceSigner(Protocol):
    """The phone's key (Secure Enclave / Android Keystore); the reference generator's port."""

    @property
    def public_key(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


class QrRenderer(Protocol):
    """QR symbols of transit bytes (byte mode, error correction M)."""

    def png(self, data: bytes) -> bytes: ...

    def svg(self, data: bytes) -> str: ...
