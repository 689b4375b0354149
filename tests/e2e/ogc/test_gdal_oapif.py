"""Interoperability: GDAL's OGC API Features driver (Debian's gdal-bin, installed by
``scripts/install-system-deps.sh``) against the live test server lists the collections, reads a
filtered collection, and downloads buildings in a box to a GeoPackage whose counts and attributes
equal the database's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from sqlalchemy import Engine, text

GDAL_ENV = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF",
            "GDAL_HTTP_UNSAFESSL": "NO"}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: `make test` installs gdal-bin (scripts/install-system-deps.sh)")
    return found


def _run(*argv: str) -> str:
    done = subprocess.run(argv, env=GDAL_ENV, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_ogrinfo_lists_collections_and_reads_a_filtered_one(live_server: str, engine: Engine) -> None:
    source = f"OAPIF:{live_server}/ogc"
    listing = _run(_tool("ogrinfo"), "-ro", "-q", source)
    for name in ("grids", "buildings", "streets", "facilities-elder_care_station", "cases"):
        assert re.search(rf"^\d+: {re.escape(name)}\b", listing, re.MULTILINE), listing[:2000]
    with engine.connect() as conn:
        community = conn.execute(text("SELECT min(community_code) FROM grid")).scalar_one()
        expected = conn.execute(text("SELECT count(*) FROM grid WHERE community_code = :c"),
                                {"c": community}).scalar_one()
    summary = _run(_tool("ogrinfo"), "-ro", "-so", source, "grids",
                   "-where", f"community_code = '{community}'")
    count = re.search(r"Feature Count: (\d+)", summary)
    assert count is not None and int(count.group(1)) == expected, summary[-2000:]


def test_ogr2ogr_downloads_buildings_in_a_box(live_server: str, engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        box = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Expand("
            "ST_Extent(geom), 0.001) e FROM grid WHERE community_code = (SELECT min(community_code) "
            "FROM grid)) s")).one()
        rows = conn.execute(text(
            "SELECT code, name, residents, households, grid_code FROM building WHERE geom && "
            "ST_MakeEnvelope(:a, :b, :c, :d, 4326) AND ST_Intersects(geom, "
            "ST_MakeEnvelope(:a, :b, :c, :d, 4326)) ORDER BY code"),
            {"a": box[0], "b": box[1], "c": box[2], "d": box[3]}).mappings().all()
    assert rows
    out = tmp_path / "out.gpkg"
    _run(_tool("ogr2ogr"), "-f", "GPKG", str(out), f"OAPIF:{live_server}/ogc", "buildings",
         "-spat", *(str(v) for v in box))
    frame: Any = pyogrio.read_dataframe(out)
    frame = frame.sort_values("code").reset_index(drop=True)
    # GDAL's -spat also keeps what the server sent for the box (its bbox is the envelope's
    # intersection test, as the database's above).
    assert list(frame["code"]) == [r["code"] for r in rows]
    for column in ("name", "residents", "households", "grid_code"):
        assert list(frame[column]) == [r[column] for r in rows], column
    assert "aged_80_plus" not in frame.columns  # the public view
