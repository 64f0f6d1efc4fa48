"""Uploads are checked by content, re-encoded without metadata, and refused when dangerous."""

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from civicvote.uploads.checks import MAX_BYTES, UploadRefused
from civicvote.uploads.storage import store_upload


def _image(fmt: str, size=(64, 48), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (31.0, 18.0, 0.0), 3: "E", 4: (120.0, 37.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    return _image("JPEG", exif=exif.tobytes())


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def store(sqlite_app, tmp_path):
    def run(data: bytes, name: str = "file"):
        return store_upload(data, name, instance_path=str(tmp_path))

    run.folder = tmp_path / "uploads"
    return run


@pytest.mark.parametrize(
    "fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_photos_are_reencoded_and_thumbnailed(store, fmt, content_type):
    upload = store(_image(fmt), "photo")
    assert upload.content_type == content_type
    stored = (store.folder / upload.stored_name).read_bytes()
    assert Image.open(io.BytesIO(stored)).format == fmt
    with Image.open(store.folder / upload.thumbnail_name) as thumb:
        assert max(thumb.size) <= 480


def test_a_png_named_pdf_is_treated_as_a_png(store):
    upload = store(_image("PNG"), "receipt.pdf")
    assert upload.content_type == "image/png"
    assert upload.stored_name.endswith(".png")
    assert upload.original_name == "receipt.pdf"


def test_stored_names_are_random_and_not_the_users(store):
    first, second = store(_image("PNG"), "../../etc/passwd"), store(_image("PNG"), "a.png")
    assert first.stored_name != second.stored_name
    assert "/" not in first.stored_name and "passwd" not in first.stored_name
    assert len(first.stored_name.split(".")[0]) == 32


def test_gps_exif_is_stripped(store):
    original = _gps_jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    upload = store(original, "gps.jpg")
    with Image.open(store.folder / upload.stored_name) as stored:
        assert not stored.getexif()
    assert b"PhoneMaker" not in (store.folder / upload.stored_name).read_bytes()


def test_a_polyglot_loses_its_payload(store):
    payload = b"<html><script>alert(1)</script></html>" + MINIMAL_PDF
    upload = store(_image("JPEG") + payload, "poly.jpg")
    stored = (store.folder / upload.stored_name).read_bytes()
    assert b"<script>" not in stored and b"%PDF" not in stored
    assert upload.content_type == "image/jpeg"


def test_pdf_is_kept_and_active_pdf_refused(store):
    upload = store(MINIMAL_PDF, "receipt.pdf")
    assert upload.content_type == "application/pdf"
    assert upload.thumbnail_name is None
    scripted = MINIMAL_PDF.replace(
        b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"
    )
    with pytest.raises(UploadRefused) as refused:
        store(scripted, "evil.pdf")
    assert refused.value.code == "active_pdf"


@pytest.mark.parametrize(
    "data, code",
    [
        (b"GIF89a" + b"\0" * 100, "unsupported_type"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "unsupported_type",
        ),
        (b"MZ\x90\x00" + b"\0" * 100, "unsupported_type"),
        (b"\xff\xd8\xff\xe0garbage-not-a-jpeg", "bad_image"),
        (b"%PDF-1.4 truncated", "bad_pdf"),
        (b"", "empty"),
    ],
)
def test_other_content_is_refused(store, data, code):
    with pytest.raises(UploadRefused) as refused:
        store(data, "x.jpg")
    assert refused.value.code == code
    assert not store.folder.exists() or list(store.folder.iterdir()) == []


def test_a_50_mb_file_is_refused_before_decoding(store):
    with pytest.raises(UploadRefused) as refused:
        store(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), "big.jpg")
    assert refused.value.code == "too_large"
    assert MAX_BYTES == 10 * 1024 * 1024


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG that claims width x height pixels of black (compresses to almost nothing)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    row = b"\0" + b"\0" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused(store):
    bomb = _png_bomb(30000, 30000)  # 900 megapixels in well under a megabyte
    assert len(bomb) < MAX_BYTES
    with pytest.raises(UploadRefused) as refused:
        store(bomb, "bomb.png")
    assert refused.value.code == "too_many_pixels"
    assert Path(store.folder).exists() is False or list(store.folder.iterdir()) == []


def _with(catalog_extra: bytes) -> bytes:
    return MINIMAL_PDF.replace(b"/Type/Catalog", b"/Type/Catalog" + catalog_extra)


@pytest.mark.parametrize(
    "extra",
    [
        b"/OpenAction<</S/J#61vaScript/#4A#53(app.alert(1))>>",  # escaped names
        b"/OpenAction 3 0 R",
        b"/AA<</O<</S/Launch/F(calc.exe)>>>>",
        b"/Names<</#45mbeddedFiles 4 0 R>>",
        b"/OpenAction<</S/#4a#61#76#61#53#63#72#69#70#74>>",  # lowercase hex too
    ],
)
def test_active_pdfs_are_refused_in_every_spelling(store, extra):
    """Fails on the old code for escaped names and /OpenAction, /AA (bytes were matched)."""
    with pytest.raises(UploadRefused) as refused:
        store(_with(extra), "evil.pdf")
    assert refused.value.code == "active_pdf"
    assert not store.folder.exists() or list(store.folder.iterdir()) == []


def test_active_names_hidden_in_a_compressed_object_stream_are_found(store):
    hidden = zlib.compress(b"<</Type/Action/S/JavaScript/JS(app.alert(1))>>")
    stream = b"5 0 obj<</Type/ObjStm/Filter/FlateDecode>>stream\n" + hidden + b"\nendstream\n"
    with pytest.raises(UploadRefused):
        store(MINIMAL_PDF.replace(b"trailer", stream + b"trailer"), "hidden.pdf")


def test_names_that_only_begin_like_active_ones_are_kept(store):
    upload = store(_with(b"/JSomething 1/AAA 2/Lang(zh)"), "fine.pdf")
    assert upload.content_type == "application/pdf"


def test_a_photo_must_be_an_image(sqlite_app, tmp_path):
    from civicvote.uploads.checks import PHOTO

    with pytest.raises(UploadRefused) as refused:
        store_upload(MINIMAL_PDF, "photo.pdf", instance_path=str(tmp_path), accept=PHOTO)
    assert refused.value.code == "not_a_photo"
    upload = store_upload(_image("PNG"), "photo.png", instance_path=str(tmp_path), accept=PHOTO)
    assert upload.thumbnail_name


def test_files_of_a_transaction_that_does_not_commit_are_deleted(app, tmp_path):
    """Fails on the old code: the files of a refused request stayed in instance/uploads/."""
    from civicvote.extensions import db

    folder = tmp_path / "uploads"
    store_upload(_image("JPEG"), "a.jpg", instance_path=str(tmp_path))
    assert len(list(folder.iterdir())) == 2  # the photo and its thumbnail
    db.session.rollback()
    assert list(folder.iterdir()) == []
    kept = store_upload(_image("JPEG"), "b.jpg", instance_path=str(tmp_path))
    db.session.commit()
    db.session.rollback()  # a later rollback leaves committed files alone
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [kept.stored_name, kept.thumbnail_name]
    )
