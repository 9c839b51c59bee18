"""Codes as images, read back by a real QR decoder (ZXing's C++ port), then verified offline."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image, ImageDraw

from adapters.transit_images.render import QrImages, qr_version
from domain.transit.codes import Rejection
from domain.transit.qr import CODE_LEN, PAPER_LEN
from tests.support.transit import NOW, Issuer, gate, monthly_facts, paper_facts, phone_with

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def decode_png(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    results = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    assert len(results) == 1
    return bytes(results[0].bytes)


def rasterise_svg(svg: str, scale: int = 8) -> Image.Image:
    """Draw the SVG's module squares (``M x,y H x2 V y2 H x z``) on a white canvas."""
    root = ET.fromstring(svg)  # noqa: S314 (our own renderer's output)
    width = float(root.attrib["viewBox"].split()[2])
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path.attrib["d"])
    assert squares
    module = float(squares[0][2]) - float(squares[0][0])
    size = round(width / module)
    canvas = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(canvas)
    for x, y, _, _ in squares:
        col, row = round(float(x) / module), round(float(y) / module)
        draw.rectangle([col * scale, row * scale, (col + 1) * scale - 1, (row + 1) * scale - 1], fill=0)
    return canvas


def test_dynamic_code_png_decodes_and_verifies_offline() -> None:
    issuer = Issuer()
    phone = phone_with(issuer, monthly_facts())
    code = phone.code(NOW)
    assert len(code) == CODE_LEN
    assert qr_version(code) == 10
    scanned = decode_png(QrImages().png(code))
    assert scanned == code
    verdict = gate(issuer).verify(scanned, NOW + 1)
    assert verdict.accepted, verdict.reason


def test_paper_ticket_png_and_svg_decode_and_verify_once() -> None:
    issuer = Issuer()
    ticket = issuer.paper(paper_facts())
    assert len(ticket) == PAPER_LEN
    assert qr_version(ticket) == 6
    images = QrImages()
    from_png = decode_png(images.png(ticket))
    results = zxingcpp.read_barcodes(rasterise_svg(images.svg(ticket)), formats=QR_ONLY)
    assert [bytes(r.bytes) for r in results] == [ticket]
    assert from_png == ticket
    station = gate(issuer)
    assert station.verify(from_png, NOW).accepted
    assert station.verify(from_png, NOW + 3).reason is Rejection.TICKET_USED
