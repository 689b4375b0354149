"""The media disk fills up: intake answers a clear 507, saves nothing and leaves no file behind;
once there is room again, intake works (issue 11, faults).

The media folder is a real 256 KiB tmpfs mounted for the test (root only: CI runs as root; a
developer's non-root run skips, a CI run without the mount fails).
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import Connection, text

SIZE = "256k"


@pytest.fixture
def small_media(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A media folder on a 256 KiB file system of its own."""
    folder = tmp_path / "media"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs: {mounted.stderr.strip() or 'not root'}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    settings = dataclasses.replace(app.extensions["gridmap.settings"], media_dir=folder)
    monkeypatch.setitem(app.extensions, "gridmap.settings", settings)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _noise(size: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it takes its room on disk."""
    side = int((size / 3) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def _post(api: Any, headers: dict[str, str], grid: dict[str, Any], photo: bytes) -> Any:
    return api.post("/api/cases", headers=headers, content_type="multipart/form-data", data={
        "category": "heating", "description": "暖气不热", "lon": str(grid["lon"]),
        "lat": str(grid["lat"]), "grid_code": grid["code"], "confirm_new": "1",
        "photos": [(io.BytesIO(photo), "p.png")]})


def _cases(tx: Connection) -> int:
    return int(tx.execute(text('SELECT count(*) FROM "case"')).scalar_one())


def test_a_full_disk_saves_nothing_and_says_so(api: Any, tx: Connection, crew: Any,
                                               grids: list[dict[str, Any]],
                                               small_media: Path) -> None:
    grid = grids[1]
    worker = crew(grid["code"])["worker"]
    filler = small_media / "filler"
    filler.write_bytes(b"\0" * (230 * 1024))  # leave ~26 KiB: too little for the photo
    before = _cases(tx)
    answer = _post(api, worker, grid, _noise(150 * 1024))
    assert answer.status_code == 507, answer.data[:300]
    error = answer.get_json()["error"]
    assert error["code"] == "storage_full" and "未保存" in error["message"]
    assert _cases(tx) == before  # the case, its event and its photo rows rolled back
    leftovers = [p for p in (small_media / "cases").rglob("*") if p.is_file()] \
        if (small_media / "cases").exists() else []
    assert leftovers == []  # and the half-written file removed
    filler.unlink()
    assert _post(api, worker, grid, _noise(60 * 1024)).status_code == 201  # room again: works
    assert _cases(tx) == before + 1
