"""Reference phone: a P-256 device key (in the app it lives in the Secure Enclave / Android
Keystore) and the dynamic-code generator over a credential. Used by tests, bench and the demo."""

from __future__ import annotations

from adapters.transit_crypto.p256 import P256Signer, generate
from domain.transit.generator import CodeGenerator


class ReferencePhone:
    def __init__(self, signer: P256Signer | None = None) -> None:
        self.device = signer or P256Signer(generate())
        self.generator: CodeGenerator | None = None

    @property
    def public_key(self) -> bytes:
        return self.device.public_key

    def install(self, credential: bytes, server_time: int, local_time: int) -> None:
        self.generator = CodeGenerator(self.device, credential, server_time, local_time)

    def code(self, local_now: int) -> bytes:
        if self.generator is None:
            raise RuntimeError("no credential installed")
        return self.generator.code(local_now)
