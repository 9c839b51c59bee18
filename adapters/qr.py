"""QR symbols as PNG and SVG with the ``qrcode`` library: the one renderer of every context.

Error correction M (15 %: survives a phone screen's glare and a scuffed paper ticket) and the
4-module quiet zone the standard asks for. Text is encoded in the most compact mode ``qrcode`` finds;
``bytes`` are forced into one byte-mode segment (the transit format promises exactly that, and
``qrcode`` would otherwise split bytes that look like digits into numeric segments).
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
import qrcode.util


def symbol(data: str | bytes, box_size: int = 8) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_8BIT_BYTE) if isinstance(data, bytes) else data)
    qr.make(fit=True)
    return qr


def png(data: str | bytes, box_size: int = 8) -> bytes:
    out = io.BytesIO()
    symbol(data, box_size).make_image().save(out, format="PNG")
    return out.getvalue()


def svg(data: str | bytes, box_size: int = 8) -> bytes:
    out = io.BytesIO()
    symbol(data, box_size).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


def svg_element(data: str | bytes, box_size: int = 8) -> str:
    """The ``<svg>`` element alone (no XML declaration), for embedding in JSON or HTML."""
    image = symbol(data, box_size).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))
