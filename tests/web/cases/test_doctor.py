"""``gridmap doctor``: photo rows and files agree; orphans and missing files are found and cleaned.

A case is filed through the API with a photo (its rows and files are consistent), then the
aftermath of a crash is made by hand: a file no row names (a worker killed between writing and
committing) and a row whose files are gone (a media folder restored from an older copy).
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import Connection, text

from gridmap.cases.services import doctor


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _file_with_photo(api: Any, headers: dict[str, str], grid: dict[str, Any]) -> int:
    response = api.post("/api/cases", headers=headers, content_type="multipart/form-data", data={
        "category": "heating", "description": "暖气不热", "lon": str(grid["lon"]),
        "lat": str(grid["lat"]), "grid_code": grid["code"], "confirm_new": "1",
        "photos": [(io.BytesIO(_png()), "p.png"), (io.BytesIO(_png()), "q.png")]})
    assert response.status_code == 201, response.data[:300]
    return int(response.get_json()["case_id"])


def _mine(report: doctor.Report, case_id: int) -> doctor.Report:
    """The part of a report about one case (and the media folder, which is this test's)."""
    missing = [m for m in report.missing if m[1] == case_id]
    ids = {m[0] for m in missing}
    return doctor.Report(missing=missing,
                         unreadable_rows=[i for i in report.unreadable_rows if i in ids],
                         orphans=report.orphans)


def _old(path: Path) -> None:
    past = time.time() - doctor.GRACE_S - 60
    os.utime(path, (past, past))


def test_finds_and_cleans_orphans_and_missing_files(app: Flask, api: Any, tx: Connection,
                                                    crew: Any, grids: list[dict[str, Any]],
                                                    media: Path) -> None:
    grid = grids[1]
    case_id = _file_with_photo(api, crew(grid["code"])["worker"], grid)
    factory = app.extensions["gridmap.sessions"]
    # The shared test database may hold photo rows other tests committed with files in their
    # own media folders: look at this case's rows only.
    assert _mine(doctor.check(factory, media), case_id) == doctor.Report()

    rows = tx.execute(text("SELECT id, path, thumb_path FROM case_photo WHERE case_id = :c "
                           "ORDER BY id"), {"c": case_id}).all()
    kept, lost = rows
    for name in (lost.path, lost.thumb_path):  # a restore from an older copy lost both files
        (media / name).unlink()
    stray = media / "cases" / str(case_id) / "deadbeef.jpg"  # written, never committed
    stray.write_bytes(b"\xff\xd8 not committed")
    fresh = media / "cases" / str(case_id) / "cafe.jpg"  # an intake still writing: left alone
    fresh.write_bytes(b"\xff\xd8 in flight")
    _old(stray)

    report = _mine(doctor.check(factory, media), case_id)
    assert not report.healthy
    assert report.missing == [(lost.id, case_id, lost.path)]
    assert report.unreadable_rows == [lost.id]
    assert report.orphans == [str(stray.relative_to(media))]

    files, deleted = doctor.clean(factory, media, report)
    assert (files, deleted) == (1, 1)
    assert not stray.exists() and fresh.exists() and (media / kept.path).is_file()
    assert tx.execute(text("SELECT id FROM case_photo WHERE case_id = :c"),
                      {"c": case_id}).scalars().all() == [kept.id]
    assert _mine(doctor.check(factory, media), case_id) == doctor.Report()
