"""Photo processing with Pillow: content sniffing, metadata stripped, bombs refused (no I/O)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from adapters.blobs.images import MAX_PIXELS, THUMB_SIDE, process_sync, sniff
from domain.errors import InvalidInput
from tests.support.feedback import jpeg_with_gps


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge canvas (a decompression bomb in miniature)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_gps_and_all_exif_are_gone() -> None:
    original = jpeg_with_gps(size=(1200, 800))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    out = process_sync(original)
    stored = Image.open(io.BytesIO(out.data))
    assert stored.format == "JPEG"
    assert len(stored.getexif()) == 0
    assert b"Exif" not in out.data[:200]
    assert max(Image.open(io.BytesIO(out.thumbnail)).size) == THUMB_SIDE
    assert (out.width, out.height) == (1200, 800)


def test_orientation_is_applied_before_stripping() -> None:
    img = Image.new("RGB", (300, 100), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when displayed
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    out = process_sync(buf.getvalue())
    assert (out.width, out.height) == (100, 300)


@pytest.mark.parametrize(("data", "kind"), [
    (b"\xff\xd8\xff\xe0", "jpeg"), (b"\x89PNG\r\n\x1a\n....", "png"), (b"RIFF\0\0\0\0WEBPVP8 ", "webp"),
    (b"\0\0\0\x18ftypheic", "heic"), (b"GIF89a", None), (b"%PDF-1.7", None), (b"<svg", None),
])
def test_sniff_by_magic_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_decompression_bomb_is_refused() -> None:
    side = int(MAX_PIXELS ** 0.5) + 100
    with pytest.raises(InvalidInput) as err:
        process_sync(_png_header_only(side, side))
    assert err.value.rule == "image_pixels"


def test_garbage_with_a_valid_magic_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        process_sync(b"\xff\xd8\xff" + b"not really a jpeg" * 10)
    assert err.value.rule == "image_type"


def test_jpeg_comments_are_gone() -> None:
    """Issue 10 #6: a COM segment (here a name and phone number) must not survive the re-encode."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 10)).save(buf, "JPEG", comment="Nguyễn Văn A 0912345678".encode())
    assert b"0912345678" in buf.getvalue()
    out = process_sync(buf.getvalue())
    for data in (out.data, out.thumbnail):
        assert b"0912345678" not in data
        assert b"\xff\xfe" not in data.split(b"\xff\xda")[0]  # no COM marker before the image data
