"""QR images of a health share (PNG and SVG) with the ``qrcode`` library.

The QR holds a link to the share, never health data: ``<base>/health-record/shares/redeem?code=<code>``.
Error correction M (15 %) survives a phone screen's glare; a 4-module quiet zone as the standard asks.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import qrcode
import qrcode.constants
import qrcode.image.svg


def share_link(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/health-record/shares/redeem?code={quote(code)}"


def _qr(content: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(content)
    qr.make(fit=True)
    return qr


def share_qr_png(content: str) -> bytes:
    buf = io.BytesIO()
    _qr(content).make_image().save(buf)
    return buf.getvalue()


def share_qr_svg(content: str) -> bytes:
    buf = io.BytesIO()
    _qr(content).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    return buf.getvalue()
