"""What an uploaded file may be: checked by its content, images re-encoded, PDFs inspected.

Only JPEG, PNG, WebP and PDF are accepted, recognised by their bytes, never by their name.
Images are decoded and written again by Pillow, which drops EXIF (GPS included) and anything
appended or embedded (so a polyglot cannot survive); a pixel limit refuses decompression bombs.
PDFs are kept as sent but must start with the PDF signature and carry no active content.
"""

import io
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DomainError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is the most a phone makes
THUMBNAIL_SIZE = (480, 480)
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# Names that give a PDF behaviour of its own: scripts, launching programs, embedded files.
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")


class UploadRefused(DomainError):
    status_code = 422


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "JPEG" | "PNG" | "WEBP" | "PDF"


def sniff(data: bytes) -> Sniffed:
    """What the bytes are, by their signature; refuses everything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed("JPEG")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("PNG")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("WEBP")
    if data.startswith(b"%PDF-"):
        return Sniffed("PDF")
    raise UploadRefused(
        _l("Only JPEG, PNG or WebP photos and PDF files can be uploaded."), code="unsupported_type"
    )


# Pillow refuses images over twice this many pixels and warns above it (made an error below).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns between the limit and twice the limit; treat that as a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadRefused(
                    _l("The image is too large (too many pixels)."), code="too_many_pixels"
                )
            image.load()
            return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRefused(
            _l("The image is too large (too many pixels)."), code="too_many_pixels"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRefused(
            _l("The image is damaged or not really an image."), code="bad_image"
        ) from error


def _reencode(image: Image.Image, kind: str) -> bytes:
    """Write the pixels again into a fresh image: no EXIF, no ICC, no trailing bytes."""
    image = ImageOps.exif_transpose(image)  # keep the photo upright once EXIF is gone
    if image.mode == "P" or (kind == "JPEG" and image.mode not in ("RGB", "L")):
        image = image.convert("RGB" if kind == "JPEG" else "RGBA")
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    options = {
        "JPEG": {"quality": 88, "optimize": True},
        "PNG": {"optimize": True},
        "WEBP": {"quality": 85},
    }[kind]
    clean.save(out, format=kind, **options)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumb = ImageOps.exif_transpose(image).convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise UploadRefused(_l("The PDF file is incomplete or damaged."), code="bad_pdf")
    if any(marker in data for marker in PDF_ACTIVE):
        raise UploadRefused(
            _l("PDF files with scripts or embedded files are not accepted."), code="active_pdf"
        )
    head = data[:1024].lower()
    if b"<html" in head or b"<script" in head:
        raise UploadRefused(_l("The PDF file is not valid."), code="bad_pdf")


@dataclass(frozen=True)
class CleanFile:
    """A file that passed the checks: the bytes to keep and, for an image, its thumbnail."""

    content_type: str
    extension: str
    data: bytes
    thumbnail: bytes | None


def clean_file(data: bytes) -> CleanFile:
    """Check one file by its content; images come back re-encoded, PDFs as sent."""
    if len(data) > MAX_BYTES:
        raise UploadRefused(_l("Files can be at most 10 MB."), code="too_large")
    if not data:
        raise UploadRefused(_l("The file is empty."), code="empty")
    kind = sniff(data).kind
    if kind == "PDF":
        _check_pdf(data)
        return CleanFile("application/pdf", "pdf", data, None)
    image = _open_image(data)
    content_type, extension = IMAGE_FORMATS[kind]
    return CleanFile(content_type, extension, _reencode(image, kind), _thumbnail(image))
