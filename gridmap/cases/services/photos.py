"""Case photos: checked (type, size, really an image), stored under the media folder, thumbnailed.

Files are written inside the request's transaction and removed again if it rolls back, so a
failed intake leaves neither rows nor files behind.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from gridmap.cases.repositories import cases as repo
from gridmap.errors import InvalidInput, PayloadTooLarge

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
THUMB_PX = 320
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"),
           "WEBP": ("image/webp", ".webp")}


@dataclass(frozen=True)
class UploadedPhoto:
    """An uploaded file as received: its name (for messages) and bytes."""

    filename: str
    data: bytes


@dataclass
class PhotoStore:
    """Writes photos under ``media_dir``; remembers what it wrote so it can be undone."""

    media_dir: Path
    written: list[Path] = field(default_factory=list)

    def check(self, photos: Sequence[UploadedPhoto]) -> None:
        """Refuse anything that is too large or not a JPEG/PNG/WebP image (nothing written)."""
        for photo in photos:
            _inspect(photo)

    def save_all(self, session: Session, case_id: int, kind: str,
                 photos: Sequence[UploadedPhoto]) -> list[int]:
        """Store each photo and its thumbnail and add their rows; returns the photo ids."""
        ids = []
        for photo in photos:
            image, fmt = _inspect(photo)
            content_type, suffix = FORMATS[fmt]
            folder = self.media_dir / "cases" / str(case_id)
            folder.mkdir(parents=True, exist_ok=True)
            stem = uuid.uuid4().hex
            original = folder / f"{stem}{suffix}"
            thumb = folder / f"{stem}.thumb.jpg"
            self._write(original, photo.data)
            self._write(thumb, _thumbnail(image))
            ids.append(repo.insert_photo(
                session, case_id=case_id, kind=kind, content_type=content_type,
                path=str(original.relative_to(self.media_dir)),
                thumb_path=str(thumb.relative_to(self.media_dir)),
                size_bytes=len(photo.data), width=image.width, height=image.height))
        return ids

    def _write(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)
        self.written.append(path)

    def discard(self) -> None:
        """Remove every file written so far (the transaction that referenced them failed)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


def _inspect(photo: UploadedPhoto) -> tuple[Image.Image, str]:
    if len(photo.data) > MAX_BYTES:
        raise PayloadTooLarge(f"照片 {photo.filename} 超过 {MAX_BYTES // (1024 * 1024)} MB "
                              f"(photo larger than {MAX_BYTES // (1024 * 1024)} MB)")
    try:
        image = Image.open(io.BytesIO(photo.data))
        fmt = image.format or ""
        if fmt not in FORMATS:
            raise InvalidInput(f"照片 {photo.filename} 不是 JPEG/PNG/WebP 图片 "
                               "(photo must be a JPEG, PNG or WebP image)")
        if image.width * image.height > MAX_PIXELS:
            raise InvalidInput(f"照片 {photo.filename} 像素过多 (photo has too many pixels)")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput(f"照片 {photo.filename} 无法识别为图片 (file is not a readable "
                           "image)") from None
    return image, fmt


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()
