"""Binary QR symbols (byte mode, error correction M, 4-module quiet zone) as PNG and SVG.

Byte mode is forced: ``qrcode`` would otherwise pick numeric/alphanumeric segments for bytes that
happen to look like digits, and the format (docs/transit-qr.md §5) promises one byte-mode segment.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
import qrcode.util


def _symbol(data: bytes, box_size: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE))
    qr.make(fit=True)
    return qr


def qr_version(data: bytes) -> int:
    return int(_symbol(data, 1).version)


class QrImages:
    """Implements ``domain.transit.ports.QrRenderer``."""

    def __init__(self, box_size: int = 6) -> None:
        self.box_size = box_size

    def png(self, data: bytes) -> bytes:
        image = _symbol(data, self.box_size).make_image()
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    def svg(self, data: bytes) -> str:
        image = _symbol(data, self.box_size).make_image(image_factory=qrcode.image.svg.SvgPathImage)
        return str(image.to_string(encoding="unicode"))
