"""Reference dynamic-code generator: what the mobile app does every refresh (~15 s).

The phone keeps the credential (141 bytes) and the offset between the server's clock and its own,
learned when the credential was issued, so a phone with a wrong clock still makes codes that gates
accept. The device key never leaves the phone's keystore: signing goes through ``DeviceSigner``.
"""

from __future__ import annotations

from domain.transit.ports import DeviceSigner
from domain.transit.qr import assemble_code, code_to_sign, decode_credential

REFRESH_SECONDS = 15


class CodeGenerator:
    def __init__(self, device: DeviceSigner, credential: bytes, server_time: int, local_time: int) -> None:
        cred = decode_credential(credential)
        if cred.device_key != device.public_key:
            raise ValueError("the credential is bound to another device key")
        self.device = device
        self.credential = credential
        self.expires_at = cred.expires_at
        self.clock_offset = server_time - local_time
        self.counter = 0

    def code(self, local_now: int) -> bytes:
        """A fresh 211-byte code stamped with the corrected time and the next counter value."""
        timestamp = local_now + self.clock_offset
        signed = code_to_sign(self.credential, timestamp, self.counter)
        self.counter = (self.counter + 1) & 0xFFFF
        return assemble_code(signed, self.device.sign(signed))

    def needs_refresh(self, local_now: int, margin_s: int = 6 * 3600) -> bool:
        """Ask the server for a new credential this long before the current one expires."""
        return local_now + self.clock_offset >= self.expires_at - margin_s
