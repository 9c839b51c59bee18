"""``ImageProcessor`` with Pillow: content check by magic bytes, re-encode, thumbnail.

Re-encoding from decoded pixels is what strips metadata: EXIF (including GPS), XMP, IPTC and
maker notes never reach the stored file. The EXIF orientation is applied to the pixels first so
the photo still looks right without it. Everything is stored as JPEG (HEIC is not readable by
most browsers; PNG/WebP with alpha are flattened on white).
"""

from __future__ import annotations

import asyncio
import io

import pillow_heif
from PIL import Image, ImageOps

from domain.errors import InvalidInput
from domain.feedback.ports import ProcessedImage

pillow_heif.register_heif_opener()

MAX_PIXELS = 50_000_000  # ~ an 8K photo; larger images are decompression bombs for our purposes
# Pillow's own guard (error above twice this) stays on as a backstop for formats we open.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_SIDE = 2560
THUMB_SIDE = 320
QUALITY = 85


def sniff(data: bytes) -> str | None:
    """The image type from magic bytes (never from the client's Content-Type or file name)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "heic"
    return None


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif= and an empty comment: Pillow carries a source JPEG's COM segment (img.info["comment"]) over
    # by default, and comments can hold names, phone numbers or camera owners.
    img.info.pop("comment", None)
    img.save(out, "JPEG", quality=QUALITY, optimize=True, comment=b"")
    return out.getvalue()


def process_sync(data: bytes) -> ProcessedImage:
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("feedback.unsupported_image", field="file", rule="image_type")
    try:
        with Image.open(io.BytesIO(data)) as src:
            # Opening reads only the header: refuse huge canvases before decoding a single pixel.
            if src.width * src.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            src.load()
            img = _flatten(ImageOps.exif_transpose(src) or src)
    except Image.DecompressionBombError:
        raise InvalidInput("feedback.image_too_large", field="file", rule="image_pixels") from None
    except (OSError, ValueError, SyntaxError):
        raise InvalidInput("feedback.unsupported_image", field="file", rule="image_type") from None
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    full = _jpeg(img)
    thumb = img.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return ProcessedImage(content_type="image/jpeg", data=full, thumbnail=_jpeg(thumb),
                          width=img.width, height=img.height)


class PillowImageProcessor:
    async def process(self, data: bytes) -> ProcessedImage:
        # Decoding is CPU-bound: keep it off the event loop.
        return await asyncio.to_thread(process_sync, data)
