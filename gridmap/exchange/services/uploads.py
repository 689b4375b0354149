"""Files sent to the import page, kept under the media folder until imported (or a week).

An upload is a folder ``imports/<token>/`` holding the file under a safe name; the token is
random, so only who started the upload (through their job) names it again.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gridmap.errors import InvalidInput, NotFound, PayloadTooLarge

SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".csv", ".kml", ".pbf", ".osm")
"""What the page takes (a Shapefile comes zipped with its siblings; OpenStreetMap for streets)."""
KEEP_S = 7 * 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class Upload:
    """A stored upload."""

    token: str
    name: str
    path: Path


def _folder(media_dir: Path) -> Path:
    return media_dir / "imports"


def safe_name(raw: str) -> str:
    """The file's own name without folders or odd characters (Chinese letters kept)."""
    name = _UNSAFE.sub("_", Path(raw.replace("\\", "/")).name).strip("._") or "upload"
    if not name.lower().endswith(SUFFIXES):
        raise InvalidInput(f"不支持的文件类型 {name[:60]!r}：请上传 {', '.join(SUFFIXES)} "
                           "(Shapefile 请连同 .dbf/.shx/.prj/.cpg 打包为 .zip) (unsupported file "
                           "type; a Shapefile goes zipped with its siblings)")
    return name[-120:]


def save(media_dir: Path, filename: str, stream: IO[bytes], *, max_bytes: int) -> Upload:
    """Store an upload (refused past ``max_bytes``, nothing kept)."""
    name = safe_name(filename)
    token = secrets.token_urlsafe(18)
    folder = _folder(media_dir) / token
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / name
    written = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > max_bytes:
                    raise PayloadTooLarge(f"文件超过 {max_bytes >> 20} MB (the file is larger "
                                          f"than {max_bytes >> 20} MB)")
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise InvalidInput(f"{name}：文件为空 (the file is empty)")
    return Upload(token, name, path)


def find(media_dir: Path, token: str, name: str) -> Upload:
    """An earlier upload; NotFound when it is gone (or never was)."""
    if not _TOKEN.fullmatch(token):
        raise NotFound("没有这个上传文件 (no such upload)")
    path = _folder(media_dir) / token / safe_name(name)
    if not path.is_file():
        raise NotFound("上传的文件已不在服务器上，请重新上传 (the upload is gone: send it again)")
    return Upload(token, path.name, path)


def prune(media_dir: Path, *, older_than_s: float = KEEP_S) -> int:
    """Remove uploads older than a week; how many."""
    folder = _folder(media_dir)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for upload in folder.iterdir():
        if upload.is_dir() and upload.stat().st_mtime < cutoff:
            shutil.rmtree(upload, ignore_errors=True)
            removed += 1
    return removed
