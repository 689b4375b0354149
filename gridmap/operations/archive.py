"""A backup directory on disk: its files, their checksums and the manifest that lists them.

No database here: files in, files and dictionaries out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from gridmap.errors import Conflict, DataRejected, InvalidInput

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
FORMAT = 1
"""The manifest's layout; a restore refuses a backup of another layout."""
_SHOWN = 10  # names listed in one message


def listed(names: list[str]) -> str:
    """Names for a message: the first few, then how many more."""
    more = len(names) - _SHOWN
    return ", ".join(names[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def sha256(path: Path, *, flush: bool = False) -> str:
    """The file's SHA-256, read in chunks; with ``flush``, the file is synced to disk too."""
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
        if flush:
            os.fsync(f.fileno())
    return digest


def files_of(root: Path) -> list[str]:
    """Every regular file under ``root`` but the manifest, as sorted POSIX relative paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.relative_to(root).as_posix() != MANIFEST)


def checksums(root: Path) -> dict[str, dict[str, Any]]:
    """SHA-256 and size of every file under ``root`` (the manifest aside), each synced."""
    return {name: {"sha256": sha256(root / name, flush=True), "bytes": (root / name).stat().st_size}
            for name in files_of(root)}


def refuse_non_empty(path: Path) -> None:
    """Conflict unless ``path`` is absent or an empty directory."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise Conflict(f"{path} exists and is not an empty directory: back up to a new one")


def copy_media(source: Path, target: Path) -> None:
    """Copy the media folder (photos, thumbnails); an absent source copies as empty."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` and flush it and the directory to disk."""
    path = root / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    sha256(path, flush=True)
    fsync_dir(root)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or new file in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(root: Path) -> dict[str, Any]:
    """The backup's manifest, checked for its layout and for safe relative file names."""
    path = root / MANIFEST
    if not path.is_file():
        raise InvalidInput(f"{root} is not a gridmap backup: it has no {MANIFEST} "
                           "(an interrupted backup leaves none)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{path} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{path}: unknown manifest format (this gridmap reads {FORMAT})")
    for key in ("files", "row_counts", "database"):
        if not isinstance(manifest.get(key), dict):
            raise InvalidInput(f"{path}: '{key}' is missing")
    for name in manifest["files"]:
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts:
            raise InvalidInput(f"{path}: file name {name!r} leaves the backup directory")
    if DUMP not in manifest["files"]:
        raise InvalidInput(f"{path}: the database dump {DUMP} is not listed")
    return manifest


def verify(root: Path, manifest: dict[str, Any]) -> None:
    """DataRejected unless the files on disk are exactly those listed, with their checksums."""
    expected: dict[str, dict[str, Any]] = manifest["files"]
    present = set(files_of(root))
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    changed = sorted(name for name in set(expected) & present
                     if sha256(root / name) != expected[name].get("sha256"))
    problems = [f"{label}: {listed(names)}" for label, names in
                (("missing", missing), ("checksum differs", changed), ("not in the manifest", extra))
                if names]
    if problems:
        raise DataRejected(f"backup {root} is damaged or was changed; nothing was restored ("
                           + "; ".join(problems) + ")")
