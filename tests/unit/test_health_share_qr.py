"""Share QR images: valid PNG/SVG carrying the share link (checked against the QR matrix)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import qrcode
from PIL import Image

from adapters.sharecode.qr import share_link, share_qr_png, share_qr_svg


def test_png_and_svg_of_the_share_link() -> None:
    link = share_link("https://api.thudo.example/api/v1/", "7K2M9Q4ZXA")
    assert link == "https://api.thudo.example/api/v1/health-record/shares/redeem?code=7K2M9Q4ZXA"
    png = share_qr_png(link)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(link)
    qr.make(fit=True)
    modules = len(qr.get_matrix())
    assert image.size == (modules * 8, modules * 8)  # box size 8, border included in the matrix
    # The top-left finder pattern is dark where the matrix says so.
    gray = image.convert("L")
    assert gray.getpixel((4 * 8 + 2, 4 * 8 + 2)) < 128
    assert gray.getpixel((2, 2)) > 128
    svg = ET.fromstring(share_qr_svg(link))  # noqa: S314 - our own output
    assert svg.tag.endswith("svg")
