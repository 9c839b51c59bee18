"""Binary QR symbols (byte mode, error correction M, 4-module quiet zone) as PNG and SVG.

Byte mode is forced: ``qrcode`` would otherwise pick numeric/alphanumeric segments for bytes that
happen to look like digits, and the format (docs/transit-qr.md §5) promises one byte-mode segment.
"""

from __future__ import annotations

from adapters import qr


def qr_version(data: bytes) -> int:
    return int(qr.symbol(data, 1).version)


class QrImages:
    """Implements ``domain.transit.ports.QrRenderer``."""

    def __init__(self, box_size: int = 6) -> None:
        self.box_size = box_size

    def png(self, data: bytes) -> bytes:
        return qr.png(data, self.box_size)

    def svg(self, data: bytes) -> str:
        return qr.svg_element(data, self.box_size)
