"""The import page's uploads: safe names, size limits, found again by token, pruned after a week."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from gridmap.errors import InvalidInput, NotFound, PayloadTooLarge
from gridmap.exchange.services import uploads


def test_names_are_made_safe_and_types_limited() -> None:
    assert uploads.safe_name("../../etc/网格 数据.zip") == "网格_数据.zip"
    assert uploads.safe_name("C:\\Users\\a\\roads.osm") == "roads.osm"
    with pytest.raises(InvalidInput, match="zipped"):
        uploads.safe_name("grids.shp")
    with pytest.raises(InvalidInput):
        uploads.safe_name("run.exe")


def test_an_upload_is_kept_found_and_pruned(tmp_path: Path) -> None:
    kept = uploads.save(tmp_path, "a.csv", io.BytesIO(b"code,lon,lat\n"), max_bytes=100)
    assert uploads.find(tmp_path, kept.token, "a.csv").path.read_bytes() == b"code,lon,lat\n"
    with pytest.raises(NotFound):
        uploads.find(tmp_path, "not-a-real-token-000000", "a.csv")
    with pytest.raises(NotFound):
        uploads.find(tmp_path, "../../x", "a.csv")
    with pytest.raises(PayloadTooLarge):
        uploads.save(tmp_path, "b.csv", io.BytesIO(b"x" * 101), max_bytes=100)
    assert len(list((tmp_path / "imports").iterdir())) == 1  # the refused one left nothing
    week_old = time.time() - uploads.KEEP_S - 60
    os.utime(kept.path.parent, (week_old, week_old))
    fresh = uploads.save(tmp_path, "c.csv", io.BytesIO(b"y"), max_bytes=100)
    assert uploads.prune(tmp_path) == 1
    assert [p.name for p in (tmp_path / "imports").iterdir()] == [fresh.token]
