"""What goes out comes back in unchanged: every export format, in the CRSs partners use, read
back by the importer (a dry run) finds nothing to add, change or remove."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.exchange.report import errors
from gridmap.exchange.services import exports, imports

OPERATOR = Principal(role=Role.ADMIN, username="test-operator")
CASES = [
    ("facilities", "geojson", "wgs84"), ("facilities", "csv", "gcj02"),
    ("facilities", "kml", "bd09"), ("facilities", "shp", "EPSG:4550"),
    ("grids", "gpkg", "EPSG:4550"), ("grids", "shp", "cgcs2000"), ("grids", "geojson", "gcj02"),
    ("grids", "csv", "wgs84"), ("buildings", "gpkg", "wgs84"), ("buildings", "shp", "EPSG:4550"),
    ("communities", "kml", "wgs84"),
]


def _area(conn: Connection, layer: str) -> str:
    if layer == "communities":
        return str(conn.execute(text("SELECT left(min(code), 9) FROM community")).scalar_one())
    return str(conn.execute(text("SELECT min(code) FROM community")).scalar_one())


@pytest.mark.parametrize(("layer", "fmt", "crs"), CASES)
def test_export_then_import_changes_nothing(factory: sessionmaker[Session],
                                            connection: Connection, tmp_path: Path, layer: str,
                                            fmt: str, crs: str) -> None:
    area = _area(connection, layer)
    path = tmp_path / f"{layer}{exports.FORMATS[fmt]}"
    with path.open("wb") as out:
        n = exports.export(factory, OPERATOR, exports.Request(layer, fmt, crs, area=area,
                                                              encoding="gbk"), out)
    assert n > 0
    # A GCJ-02/BD-09 file declares no CRS (none names them): the importer is told, as a
    # partner would be; a CSV declares none either.
    told = crs if crs in ("gcj02", "bd09") or fmt == "csv" else None
    outcome = imports.run(factory, OPERATOR, imports.Options(
        layer, path, crs=told, encoding="gbk" if fmt == "shp" else None, dry_run=True))
    assert errors(outcome.problems) == []
    changes = outcome.changes
    assert (changes["added"], changes["changed"], changes["removed"]) == (0, 0, 0), changes
    assert changes["unchanged"] == n == outcome.features


def test_an_export_to_a_stream_holds_every_feature_once(factory: sessionmaker[Session],
                                                        connection: Connection) -> None:
    buffer = io.BytesIO()
    n = exports.export(factory, OPERATOR, exports.Request("grids", "csv"), buffer)
    lines = buffer.getvalue().decode("utf-8-sig").splitlines()
    assert n == len(lines) - 1 == connection.execute(text("SELECT count(*) FROM grid")).scalar_one()
    assert lines[0] == "code,name,wkt"
