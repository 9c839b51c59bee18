"""QR images of a health share (PNG and SVG) with the ``qrcode`` library.

The QR holds a link to the share, never health data: ``<base>/health-record/shares/redeem?code=<code>``.
Error correction M (15 %) survives a phone screen's glare; a 4-module quiet zone as the standard asks.
"""

from __future__ import annotations

from urllib.parse import quote

from adapters import qr


def share_link(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/health-record/shares/redeem?code={quote(code)}"


def share_qr_png(content: str) -> bytes:
    return qr.png(content)


def share_qr_svg(content: str) -> bytes:
    return qr.svg(content)
