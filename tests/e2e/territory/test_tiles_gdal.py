"""GDAL's MVT driver reads vector tiles from the live server and finds the database's buildings
(the interoperability check of issue 10: what a GIS user's script would do)."""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import Engine, text
from test_map_tiles import _busiest_point
from test_tiles_support import tile_of

pytestmark = pytest.mark.e2e


def _ogr_codes(source: str, *options: str) -> set[str]:
    """The ``code`` of every feature GDAL reads from ``source`` (its GeoJSON output)."""
    done = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", source, *options],
                          capture_output=True, text=True, timeout=60, check=True)
    return {f["properties"]["code"] for f in json.loads(done.stdout)["features"]}


def test_gdal_reads_a_building_tile_from_the_server(live_server: str, engine: Engine) -> None:
    target = _busiest_point(engine)
    z, x, y = tile_of(target["lon"], target["lat"], 15)
    with engine.connect() as conn:
        expected = set(conn.execute(text(
            "SELECT code FROM building WHERE ST_Intersects(geom, "
            "ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326))"), {"z": z, "x": x, "y": y})
            .scalars())
    assert len(expected) > 20
    # Straight from the server: the driver takes z/x/y from the URL's path.
    live = _ogr_codes(f"MVT:{live_server}/tiles/buildings/{z}/{x}/{y}.mvt")
    assert expected <= live
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al",
                           f"MVT:{live_server}/tiles/buildings/{z}/{x}/{y}.mvt"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Layer name: buildings" in info and "residents: Integer" in info
