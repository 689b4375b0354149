"""Case photos without a database: count and size admitted first, the pixel cap read from the
header, each image decoded once, and what is stored carries no EXIF/GPS/XMP/comment, upright.

Every sample is built here in code (no files): a JPEG with GPS EXIF and orientation 6, a PNG
whose header declares 20000×20000, and the formats phones and browsers send.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from gridmap.cases.services import photos
from gridmap.cases.services.photos import UploadedPhoto
from gridmap.errors import InvalidInput, PayloadTooLarge

RED, BLUE = (220, 20, 20), (20, 20, 220)
SHENYANG_GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (41.0, 47.0, 30.0),
                ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (123.0, 26.0, 5.0)}


def _two_halves(size: tuple[int, int] = (60, 40), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue, so a rotation shows where the halves went."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image.convert(mode)


def gps_jpeg(orientation: int = 6, **save: Any) -> bytes:
    """A 60×40 JPEG taken "at a resident's home": GPS, orientation, camera and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.BodySerialNumber] = "SN-0042"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(SHENYANG_GPS)
    out = io.BytesIO()
    _two_halves().save(out, "JPEG", exif=exif, comment=b"home of Zhang San", quality=95, **save)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:  # the sample really carries what we strip
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo) and check.info["comment"]
    return data


def declared_png(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width``×``height`` (a bomb)."""
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def _saved(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every image opened and every real pixel decode, by format."""
    seen: list[str] = []
    real_open, real_load = Image.open, ImageFile.ImageFile.load

    def spy_open(fp: Any, *args: Any, **kwargs: Any) -> Image.Image:
        image = real_open(fp, *args, **kwargs)
        seen.append(f"open {image.format}")
        return image

    def spy_load(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # tiles left to decode: this call decodes pixels
            seen.append(f"decode {self.format}")
        return real_load(self)

    monkeypatch.setattr(Image, "open", spy_open)
    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    return seen


def _stored(prepared: photos.PreparedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.data))
    image.load()
    return image


# --- metadata and orientation -------------------------------------------------------------------

def test_gps_exif_comment_are_removed_and_the_photo_is_turned_upright() -> None:
    prepared = photos.prepare(UploadedPhoto.from_bytes("home.jpg", gps_jpeg(orientation=6)))
    image = _stored(prepared)
    assert (image.format, prepared.content_type, prepared.suffix) == ("JPEG", "image/jpeg", ".jpg")
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"PhoneMaker" not in prepared.data and b"Exif" not in prepared.data
    # Orientation 6 means "turn 90° clockwise to view": the 60×40 picture is stored 40×60,
    # its left (red) half now on top.
    assert image.size == (40, 60) == (prepared.width, prepared.height)
    top, bottom = image.convert("RGB").getpixel((20, 5)), image.convert("RGB").getpixel((20, 55))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_the_thumbnail_is_upright_and_bare_too() -> None:
    prepared = photos.prepare(UploadedPhoto.from_bytes("home.jpg", gps_jpeg(orientation=6)))
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (40, 60) and not thumb.getexif()


def test_an_upright_photo_keeps_its_shape() -> None:
    prepared = photos.prepare(UploadedPhoto.from_bytes("a.jpg", gps_jpeg(orientation=1)))
    assert _stored(prepared).size == (60, 40) and not _stored(prepared).getexif()


def test_xmp_and_png_text_are_removed_but_the_colour_profile_stays() -> None:
    """The ICC profile says how to show the colours (kept); XMP and text chunks say who, where
    and when (removed)."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg = _saved(_two_halves(), "JPEG", xmp=b"<x:xmpmeta>GPS 41.79</x:xmpmeta>", icc_profile=icc)
    stored = _stored(photos.prepare(UploadedPhoto.from_bytes("a.jpg", jpeg)))
    assert "xmp" not in stored.info and stored.info["icc_profile"] == icc
    chunk = PngImagePlugin.PngInfo()
    chunk.add_text("Location", "沈河区某小区 3 号楼")
    png = _saved(Image.new("RGB", (8, 8), RED), "PNG", pnginfo=chunk)
    stored = _stored(photos.prepare(UploadedPhoto.from_bytes("a.png", png)))
    assert "Location" not in stored.info and "沈河区".encode() not in stored.tobytes()


# --- formats ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "fmt", "content_type"), [
    ("a.jpg", _saved(_two_halves(), "JPEG"), "JPEG", "image/jpeg"),
    # A phone JPEG with a second picture (gain or depth map) opens as MPO: stored as a JPEG.
    ("a.jpg", _saved(_two_halves(), "MPO", save_all=True, append_images=[_two_halves()]),
     "JPEG", "image/jpeg"),
    ("a.png", _saved(_two_halves(mode="RGBA"), "PNG"), "PNG", "image/png"),
    ("a.png", _saved(_two_halves(mode="P"), "PNG", transparency=0), "PNG", "image/png"),
    ("a.png", _saved(_two_halves(mode="I;16"), "PNG"), "PNG", "image/png"),
    ("a.webp", _saved(_two_halves(), "WEBP"), "WEBP", "image/webp"),
])
def test_the_format_is_kept(name: str, data: bytes, fmt: str, content_type: str) -> None:
    prepared = photos.prepare(UploadedPhoto.from_bytes(name, data))
    assert (_stored(prepared).format, prepared.content_type) == (fmt, content_type)
    with Image.open(io.BytesIO(prepared.thumb)) as thumb:
        assert thumb.format == "JPEG" and thumb.mode == "RGB"


@pytest.mark.parametrize(("name", "data"), [
    ("a.gif", _saved(_two_halves(), "GIF")),
    ("a.tif", _saved(_two_halves(), "TIFF")),
    ("notes.txt", b"just text, not an image"),
    ("cut.jpg", _saved(_two_halves((600, 400)), "JPEG")[:400]),
])
def test_other_files_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(InvalidInput, match=name):
        photos.prepare(UploadedPhoto.from_bytes(name, data))


# --- decoding: once, and never beyond the pixel cap ----------------------------------------------

def test_each_photo_is_opened_and_decoded_once(decodes: list[str]) -> None:
    uploads = [UploadedPhoto.from_bytes("a.jpg", gps_jpeg()),
               UploadedPhoto.from_bytes("b.png", _saved(_two_halves(), "PNG"))]
    decodes.clear()  # building the samples opened one
    photos.prepare_all(uploads)
    assert decodes == ["open JPEG", "decode JPEG", "open PNG", "decode PNG"]


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (6_000, 5_000)])
def test_a_decompression_bomb_is_refused_from_its_header(decodes: list[str], width: int,
                                                         height: int) -> None:
    """20000×20000 trips Pillow's own guard, 6000×5000 (30 MP) only ours: both are refused in
    Chinese and English, quickly, with no pixel decoded."""
    bomb = UploadedPhoto.from_bytes("bomb.png", declared_png(width, height))
    assert bomb.size < 100
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as refused:
        photos.prepare(bomb)
    assert time.perf_counter() - started < 0.5
    assert "像素过多" in refused.value.message and "megapixels" in refused.value.message
    assert not [d for d in decodes if d.startswith("decode")]


def test_the_pixel_cap_admits_a_24_megapixel_phone_photo() -> None:
    """The iPhone's 24 MP mode is 5712×4284, a little over 24 million pixels."""
    assert 5712 * 4284 <= photos.MAX_PIXELS < 6000 * 5000


# --- count and size before anything is read ---------------------------------------------------

class _Unreadable(io.BytesIO):
    def read(self, *args: Any) -> bytes:  # pragma: no cover - failing is the point
        raise AssertionError("the photo's bytes were read")


@pytest.mark.parametrize(("uploads", "error", "words"), [
    (lambda: [UploadedPhoto("a.jpg", _Unreadable(), 10)] * 6, InvalidInput, "at most 5"),
    (lambda: [UploadedPhoto("big.jpg", _Unreadable(), photos.MAX_BYTES + 1)], PayloadTooLarge,
     "larger than 8 MB"),
])
def test_count_and_size_are_refused_without_reading(uploads: Callable[[], list[UploadedPhoto]],
                                                    error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        photos.admit(uploads(), max_count=5)


def test_admit_lets_allowed_photos_through_unread() -> None:
    photos.admit([UploadedPhoto("a.jpg", _Unreadable(), photos.MAX_BYTES)] * 5, max_count=5)


def test_the_size_of_a_stream_is_taken_without_reading_it() -> None:
    stream = io.BytesIO(b"x" * 1234)
    stream.seek(10)
    photo = UploadedPhoto.from_stream("a.jpg", stream)
    assert photo.size == 1234 and stream.tell() == 0
