"""What an uploaded file may be: checked by its content, images re-encoded, PDFs inspected.

Only JPEG, PNG, WebP and PDF are accepted, recognised by their bytes, never by their name, and
each kind of upload only what its page can show (a progress photo is never a PDF).
Images are decoded and written again by Pillow, which drops EXIF (GPS included) and anything
appended or embedded (so a polyglot cannot survive); a pixel limit refuses decompression bombs.
PDFs are kept as sent but must start with the PDF signature and carry no active content.
"""

import io
import re
import warnings
import zlib
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
# What each kind of upload may be: what its page can show. A progress photo is shown as an
# image with a thumbnail; a receipt or a proposal's document may also be a PDF.
PHOTO = frozenset({"JPEG", "PNG", "WEBP"})
DOCUMENT = PHOTO | {"PDF"}
# Names that give a PDF behaviour of its own: scripts, actions run on opening or on events,
# launching programs, embedded files. Matched after #xx escapes in names are decoded (PDF 1.2+
# allows /J#61vaScript for /JavaScript) and as whole names (/JS, not /JSomething).
PDF_ACTIVE = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"AA",
        b"OpenAction",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToR",
        b"GoToE",
    }
)
PDF_NAME = re.compile(rb"/((?:[^\x00-\x20/()<>\[\]{}%#]|#[0-9A-Fa-f]{2})+)")
PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
MAX_INFLATED = 50 * 1024 * 1024


class UploadRefused(DomainError):
    status_code = 422


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "JPEG" | "PNG" | "WEBP" | "PDF"


def sniff(data: bytes, accept: frozenset = DOCUMENT) -> Sniffed:
    """What the bytes are, by their signature; refuses everything else and what ``accept``
    does not name."""
    found = _signature(data)
    if found not in accept:
        if accept == PHOTO:
            raise UploadRefused(
                _l("Only JPEG, PNG or WebP photos can be uploaded here."), code="not_a_photo"
            )
        raise UploadRefused(
            _l("Only JPEG, PNG or WebP photos and PDF files can be uploaded."),
            code="unsupported_type",
        )
    return Sniffed(found)


def _signature(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"%PDF-"):
        return "PDF"
    return None


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
    if pdf_active_names(data):
        raise UploadRefused(
            _l("PDF files with scripts or embedded files are not accepted."), code="active_pdf"
        )
    head = data[:1024].lower()
    if b"<html" in head or b"<script" in head:
        raise UploadRefused(_l("The PDF file is not valid."), code="bad_pdf")


def _inflated_streams(data: bytes):
    """The PDF's Flate-compressed streams, decompressed (object streams can hide names);
    at most MAX_INFLATED bytes in all, so a compressed bomb costs nothing."""
    budget = MAX_INFLATED
    for match in PDF_STREAM.finditer(data):
        if budget <= 0:
            return
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue
        budget -= len(body)
        yield body


def pdf_active_names(data: bytes) -> set[bytes]:
    """The names of active content (PDF_ACTIVE) in a PDF's bytes and compressed streams,
    escaped forms decoded."""
    found = set()
    for text in (data, *_inflated_streams(data)):
        found |= _active_names_in(text)
    return found


def _active_names_in(data: bytes) -> set[bytes]:
    found = set()
    for match in PDF_NAME.finditer(data):
        name = PDF_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), match.group(1))
        if name in PDF_ACTIVE:
            found.add(name)
    return found


@dataclass(frozen=True)
class CleanFile:
    """A file that passed the checks: the bytes to keep and, for an image, its thumbnail."""

    content_type: str
    extension: str
    data: bytes
    thumbnail: bytes | None


def clean_file(data: bytes, accept: frozenset = DOCUMENT) -> CleanFile:
    """Check one file by its content, as one of the kinds ``accept`` names (PHOTO or
    DOCUMENT); images come back re-encoded, PDFs as sent."""
    if len(data) > MAX_BYTES:
        raise UploadRefused(_l("Files can be at most 10 MB."), code="too_large")
    if not data:
        raise UploadRefused(_l("The file is empty."), code="empty")
    kind = sniff(data, accept).kind
    if kind == "PDF":
        _check_pdf(data)
        return CleanFile("application/pdf", "pdf", data, None)
    image = _open_image(data)
    content_type, extension = IMAGE_FORMATS[kind]
    return CleanFile(content_type, extension, _reencode(image, kind), _thumbnail(image))
