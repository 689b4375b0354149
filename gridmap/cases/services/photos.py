"""Case photos: admitted by count and size, decoded once, re-encoded without metadata, stored.

The order is fixed so that nobody can make the server decode an image for nothing: the caller
checks the acting person (and, for an action, that they may act on the case) first, then
:func:`admit` refuses too many or too large files from their sizes alone, then :func:`prepare`
reads each image's header (refusing more than :data:`MAX_PIXELS` before any pixel is decoded),
decodes it once, turns it upright and re-encodes it with no EXIF, GPS, XMP or comment, so a photo
reveals nothing about where or by whom it was taken beyond the case itself.

Files are written inside the request's transaction and removed again if it rolls back, so a
failed intake leaves neither rows nor files behind.
"""

from __future__ import annotations

import errno
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.accounts.services import audit
from gridmap.cases.repositories import cases as repo
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput, NotFound, PayloadTooLarge, StorageFull

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 25_000_000
"""Pixels per photo. Phones save 12–12.5 MP by default and the iPhone's 24 MP mode is
5712×4284 (24.5 MP), so 25 MP admits every default camera mode; 48–200 MP "full resolution"
modes are refused (they rarely fit in 8 MB anyway). Decoded as RGB a 25 MP photo takes 75 MB,
twice that while it is turned upright, which one upload can afford in a 300 MB worker; 40 MP
could not."""
THUMB_PX = 320
JPEG_QUALITY = 90  # re-encoding a phone photo at 90 keeps detail and rarely grows the file


@dataclass(frozen=True)
class _Format:
    content_type: str
    suffix: str
    pillow: str          # the format it is re-encoded to


_JPEG = _Format("image/jpeg", ".jpg", "JPEG")
# MPO is how Pillow names a JPEG with extra pictures (depth or gain maps, common from phones):
# its first picture is the photo, stored as a plain JPEG.
FORMATS = {"JPEG": _JPEG, "MPO": _JPEG, "PNG": _Format("image/png", ".png", "PNG"),
           "WEBP": _Format("image/webp", ".webp", "WEBP")}
# What survives re-encoding: how to show the pixels (colour profile, PNG transparency), nothing
# about the picture's making (EXIF with GPS, time and camera serial; XMP; comments; text chunks).
_KEEP_INFO = ("icc_profile", "transparency")
_MEDIA_PATH = re.compile(r"cases/(?P<case>[0-9]{1,18})/[0-9a-f]{32}(\.thumb\.jpg|\.jpg|\.png|\.webp)")


@dataclass(frozen=True)
class UploadedPhoto:
    """An uploaded file as received: its name (for messages), its size and its unread bytes."""

    filename: str
    stream: IO[bytes]
    size: int

    @classmethod
    def from_stream(cls, filename: str, stream: IO[bytes]) -> UploadedPhoto:
        """A photo whose size is taken from its (seekable, spooled) stream without reading it."""
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        return cls(filename, stream, size)

    @classmethod
    def from_bytes(cls, filename: str, data: bytes) -> UploadedPhoto:
        """A photo held in memory (tests, scripts)."""
        return cls(filename, io.BytesIO(data), len(data))


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo decoded once and re-encoded upright without metadata, with its thumbnail."""

    content_type: str
    suffix: str
    data: bytes
    thumb: bytes
    width: int
    height: int


def admit(photos: Sequence[UploadedPhoto], *, max_count: int) -> None:
    """Refuse too many photos or one too large, from their count and sizes (nothing is read)."""
    if len(photos) > max_count:
        raise InvalidInput(f"最多上传 {max_count} 张照片 (at most {max_count} photos)")
    mb = MAX_BYTES // (1024 * 1024)
    for photo in photos:
        if photo.size > MAX_BYTES:
            raise PayloadTooLarge(f"照片 {photo.filename} 超过 {mb} MB "
                                  f"(photo larger than {mb} MB)")


def prepare_all(photos: Sequence[UploadedPhoto]) -> list[PreparedPhoto]:
    """:func:`prepare` each photo; the first unreadable one stops all (nothing is written)."""
    return [prepare(photo) for photo in photos]


def prepare(photo: UploadedPhoto) -> PreparedPhoto:
    """Decode a JPEG/PNG/WebP photo once, turn it upright and re-encode it without metadata."""
    with _open(photo) as image:
        fmt = FORMATS[image.format or ""]
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _unreadable(photo) from exc
        # Apply the EXIF orientation to the pixels, since the EXIF that told viewers to rotate
        # is about to go; in place, so a photo that is already upright is not copied.
        ImageOps.exif_transpose(image, in_place=True)
        image.info = {k: v for k, v in image.info.items() if k in _KEEP_INFO}
        width, height = image.size
        data = _encode(image, fmt.pillow)
        image.thumbnail((THUMB_PX, THUMB_PX))  # the original is encoded: shrink in place
        thumb = _encode(_flatten(image), "JPEG")
    return PreparedPhoto(fmt.content_type, fmt.suffix, data, thumb, width, height)


def _open(photo: UploadedPhoto) -> Image.Image:
    """The image with only its header read; refused if not ours or larger than MAX_PIXELS."""
    photo.stream.seek(0)
    try:
        image = Image.open(photo.stream)  # lazy: reads the header, decodes no pixel
    except (UnidentifiedImageError, OSError) as exc:
        raise _unreadable(photo) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (about 90–180 MP) fired first; ours is lower, so say ours.
        raise _too_many_pixels(photo) from exc
    if image.format not in FORMATS:
        image.close()
        raise InvalidInput(f"照片 {photo.filename} 不是 JPEG/PNG/WebP 图片 "
                           "(photo must be a JPEG, PNG or WebP image)")
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels(photo)
    return image


def _unreadable(photo: UploadedPhoto) -> InvalidInput:
    return InvalidInput(f"照片 {photo.filename} 无法识别为图片 (file is not a readable image)")


def _too_many_pixels(photo: UploadedPhoto) -> InvalidInput:
    mp = MAX_PIXELS // 1_000_000
    return InvalidInput(f"照片 {photo.filename} 像素过多，最多 {mp} 百万像素 "
                        f"(photo has more than {mp} megapixels)")


def _flatten(image: Image.Image) -> Image.Image:
    """The image as RGB, transparent parts on white (a thumbnail is a JPEG)."""
    if image.mode in ("RGB", "L"):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    out = io.BytesIO()
    # Nothing but the colour profile is passed on: JPEG and WebP write EXIF/XMP only when given.
    options: dict[str, object] = {"icc_profile": image.info.get("icc_profile")}
    if pillow_format in ("JPEG", "WEBP"):
        options["quality"] = JPEG_QUALITY
    image.save(out, pillow_format, **options)
    return out.getvalue()


DISK_FULL = ("照片存储空间已满，本次提交未保存，请联系系统管理员 "
             "(the photo storage is full: nothing was saved; tell the administrator)")


@dataclass
class PhotoStore:
    """Writes photos under ``media_dir``; remembers what it wrote so it can be undone."""

    media_dir: Path
    written: list[Path] = field(default_factory=list)

    def save_all(self, session: Session, case_id: int, kind: str,
                 photos: Sequence[PreparedPhoto]) -> list[int]:
        """Store each prepared photo and its thumbnail and add their rows; returns the ids."""
        ids = []
        for photo in photos:
            folder = self.media_dir / "cases" / str(case_id)
            folder.mkdir(parents=True, exist_ok=True)
            stem = uuid.uuid4().hex
            original = folder / f"{stem}{photo.suffix}"
            thumb = folder / f"{stem}.thumb.jpg"
            self._write(original, photo.data)
            self._write(thumb, photo.thumb)
            ids.append(repo.insert_photo(
                session, case_id=case_id, kind=kind, content_type=photo.content_type,
                path=str(original.relative_to(self.media_dir)),
                thumb_path=str(thumb.relative_to(self.media_dir)),
                size_bytes=len(photo.data), width=photo.width, height=photo.height))
        return ids

    def _write(self, path: Path, data: bytes) -> None:
        self.written.append(path)  # first: a half-written file is removed with the rest
        try:
            path.write_bytes(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(DISK_FULL) from exc
            raise

    def discard(self) -> None:
        """Remove every file written so far (the transaction that referenced them failed)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


@dataclass(frozen=True)
class MediaFile:
    """A stored photo or thumbnail: its path under the media folder and its content type."""

    path: str
    content_type: str


def media_file(factory: sessionmaker[Session], principal: Principal, path: str) -> MediaFile:
    """The stored photo or thumbnail at ``path`` if its case is in ``principal``'s scope, typed
    as stored; NotFound for anything else (out of scope included: existence is not revealed).

    Only files a photo row names are served, so a stray file under the media folder is not, and
    the type comes from the format we re-encoded to, not from any name a client sent. Viewing an
    original is written to the audit log (in this unit of work, so no view goes unlogged);
    thumbnails, which the case pages show in lists, are not.
    """
    match = _MEDIA_PATH.fullmatch(path)
    if match is None:
        raise NotFound("照片不存在 (photo not found)")
    case_id = int(match["case"])
    with unit_of_work(factory) as session:
        row = repo.photo_at(session, case_id, path, principal.case_scope())
        if row is None:
            raise NotFound("照片不存在 (photo not found)")
        if path == row.thumb_path:
            return MediaFile(path, "image/jpeg")
        found = MediaFile(path, row.content_type)
        audit.record(session, principal, audit.Event.PHOTO_VIEWED, target_kind="case",
                     target_id=case_id, detail={"photo_id": row.id, "kind": row.kind})
    return found
