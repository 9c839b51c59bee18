"""``ImageProcessor`` with Pillow: content check by magic bytes, re-encode, thumbnail.

Re-encoding from decoded pixels is what strips metadata: EXIF (including GPS), XMP, IPTC and
maker notes never reach the stored file. The EXIF orientation is applied to the pixels first so
the photo still looks right without it. Everything is stored as JPEG (HEIC is not readable by
most browsers; PNG/WebP with alpha are flattened on white).

Memory is bounded whatever the input (docs/operations.md, "Image memory"): JPEGs are decoded
already reduced (libjpeg's DCT scaling via ``draft``), other formats are refused when their decoded
canvas would exceed ``DECODE_BUDGET``, the canvas is shrunk before any full-size copy is made, and
one image per process is decoded at a time, so concurrent uploads queue instead of adding up.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor

import pillow_heif
from PIL import ExifTags, Image

from domain.errors import InvalidInput
from domain.feedback.ports import ProcessedImage

pillow_heif.register_heif_opener()

MAX_PIXELS = 50_000_000  # ~ an 8K photo; larger images are decompression bombs for our purposes
# Pillow's own guard (error above twice this) stays on as a backstop for formats we open.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Bytes one decoded canvas may take: Pillow keeps 4 bytes per pixel for RGB(A), so 50 Mpx of PNG.
# WebP and HEIC decoders fill a buffer of their own that Pillow then copies: they count twice.
DECODE_BUDGET = 4 * MAX_PIXELS
_DECODE_COPIES = {"webp": 2, "heic": 2}
# Decodes in flight per process. One: six concurrent bombs then cost one bomb, not six (each waits
# ~1 s at worst; ordinary phone JPEGs, decoded reduced, take well under 0.2 s).
DECODE_CONCURRENCY = 1
_BAND_ROWS = 64  # output rows per band in _shrink: a few MB of temporaries
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


def _shrink(src: Image.Image) -> Image.Image:
    """``src`` flattened to RGB and box-reduced by an integer factor, one band of rows at a time.

    Pillow's whole-image ``convert``/``reduce``/``resize`` each allocate another full-size canvas
    (RGBA is premultiplied into a copy first); bands keep the extra memory to a few MB, so the
    decoded canvas plus the (≤ 1/4 size) result is the peak.
    """
    factor = max(1, max(src.size) // MAX_SIDE)
    width, height = src.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    step = factor * _BAND_ROWS
    for top in range(0, height, step):
        band = _flatten(src.crop((0, top, width, min(height, top + step))))
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _orient(img: Image.Image, orientation: object) -> Image.Image:
    """Apply the EXIF orientation to the pixels (what ``ImageOps.exif_transpose`` does, on the shrunk image)."""
    method = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    return img.transpose(method) if method is not None else img


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
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale, still at least MAX_SIDE on the long side.
            src.draft(None, (MAX_SIDE, MAX_SIDE))
            if src.width * src.height * 4 * _DECODE_COPIES.get(kind, 1) > DECODE_BUDGET:
                raise Image.DecompressionBombError("decoded canvas over budget")
            orientation = src.getexif().get(ExifTags.Base.Orientation)
            src.load()
            img = _shrink(src)
    except Image.DecompressionBombError:
        raise InvalidInput("feedback.image_too_large", field="file", rule="image_pixels") from None
    except (OSError, ValueError, SyntaxError):
        raise InvalidInput("feedback.unsupported_image", field="file", rule="image_type") from None
    # The decoded canvas is gone (the file is closed): what is left is RGB, a quarter of it when it was large.
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    img = _orient(img, orientation)
    full = _jpeg(img)
    thumb = img.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return ProcessedImage(content_type="image/jpeg", data=full, thumbnail=_jpeg(thumb),
                          width=img.width, height=img.height)


class PillowImageProcessor:
    def __init__(self, concurrency: int = DECODE_CONCURRENCY) -> None:
        # Decoding is CPU-bound: off the event loop, on threads of its own whose queue bounds how
        # many images are in memory at once. Always the same threads, so the allocator reuses the
        # canvas memory it already holds instead of growing one malloc arena per pool thread.
        self._threads = ThreadPoolExecutor(concurrency, thread_name_prefix="image-decode")

    async def process(self, data: bytes) -> ProcessedImage:
        return await asyncio.get_running_loop().run_in_executor(self._threads, process_sync, data)
