"""Vector tiles on the real PostGIS: decoded with an independent decoder (mapbox-vector-tile)
and checked against the database; zoom-dependent properties, public and scoped tiles, ETag and
304, invalidation by a committed change, gzip, 404s, TileJSON and the OGC API Tiles pages."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text

GZIP = {"Accept-Encoding": "gzip"}
PUBLIC_PROPS = {"code", "name", "address", "grid_code", "households", "residents",
                "aged_60_plus", "synthetic"}
VULNERABLE = ("aged_80_plus", "elderly_living_alone")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile holding a WGS84 point (an independent formula, not gridmap's)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
             / math.pi) / 2 * n)
    return z, x, y


def decode(body: bytes) -> dict[str, Any]:
    layers: dict[str, Any] = mapbox_vector_tile.decode(body)
    return layers


def features(client: FlaskClient, url: str, layer: str,
             headers: dict[str, str] | None = None) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The response and the tile's features by code (``{"id", "properties"}``)."""
    response = client.get(url, headers={**GZIP, **(headers or {})})
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    found = decode(gzip.decompress(response.data)).get(layer, {"features": []})["features"]
    return response, {f["properties"]["code"]: f for f in found}


@pytest.fixture(scope="module")
def building(engine: Engine) -> dict[str, Any]:
    """A building in the densest block of the test district, with its row and a point in it."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "WITH cell AS (SELECT ST_SnapToGrid(ST_Centroid(geom), 0.01) AS c, count(*) AS n "
            "FROM building GROUP BY 1 ORDER BY n DESC LIMIT 1) "
            "SELECT b.id, b.code, b.name, b.grid_code, b.households, b.residents, "
            "b.aged_80_plus, b.elderly_living_alone, ST_X(ST_PointOnSurface(b.geom)) AS lon, "
            "ST_Y(ST_PointOnSurface(b.geom)) AS lat FROM building b, cell "
            "ORDER BY b.geom <-> cell.c LIMIT 1")).mappings().one())


def url(collection: str, tile: tuple[int, int, int]) -> str:
    return f"/tiles/{collection}/{tile[0]}/{tile[1]}/{tile[2]}.mvt"


def in_tile(conn: Connection | Engine, table: str, tile: tuple[int, int, int]) -> set[str]:
    """Codes of the rows whose geometry meets the tile itself (no buffer)."""
    sql = text(f"SELECT code FROM {table} WHERE ST_Intersects(geom, ST_Transform("  # noqa: S608
               "ST_TileEnvelope(:z, :x, :y), 4326))")
    run = conn.execute if isinstance(conn, Connection) else conn.connect().execute
    return {r[0] for r in run(sql, dict(zip("zxy", tile, strict=True)))}


def test_a_building_tile_holds_every_building_with_its_public_properties(
        client: FlaskClient, engine: Engine, building: dict[str, Any]) -> None:
    tile = tile_of(building["lon"], building["lat"], 15)
    _, shown = features(client, url("buildings", tile), "buildings")
    expected = in_tile(engine, "building", tile)
    assert len(expected) > 20 and expected <= set(shown)
    mine = shown[building["code"]]
    assert mine["id"] == building["id"]
    assert set(mine["properties"]) == PUBLIC_PROPS  # never the counts of vulnerable residents
    for key in ("name", "grid_code", "households", "residents"):
        assert mine["properties"][key] == building[key], key
    assert mine["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_zoomed_out_tiles_carry_fewer_properties(client: FlaskClient,
                                                building: dict[str, Any]) -> None:
    _, shown = features(client, url("buildings", tile_of(building["lon"], building["lat"], 13)),
                        "buildings")
    assert set(shown[building["code"]]["properties"]) == {"code"}
    _, grids = features(client, url("grids", tile_of(building["lon"], building["lat"], 12)),
                        "grids")
    assert {k for f in grids.values() for k in f["properties"]} == {"code", "name"}
    _, grids = features(client, url("grids", tile_of(building["lon"], building["lat"], 15)),
                        "grids")
    props = grids[building["grid_code"]]["properties"]
    assert {"code", "name", "community_code", "synthetic"} <= set(props)
    response = client.get(url("streets", tile_of(building["lon"], building["lat"], 12)),
                          headers=GZIP)
    kinds = {f["properties"]["kind"] for f in
             decode(gzip.decompress(response.data))["streets"]["features"]}
    assert kinds == {"arterial"}, "local streets only from zoom 14"


def test_staff_get_their_buildings_counts_in_a_private_tile(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]],
        building: dict[str, Any]) -> None:
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g "
                             "AND role = 'grid_worker'"), {"g": building["grid_code"]}).scalar_one()
    headers = login("grid_worker", person_id=worker)
    tile = tile_of(building["lon"], building["lat"], 15)
    public, _ = features(api, url("buildings", tile), "buildings")
    mine, shown = features(api, url("buildings", tile), "buildings", headers)
    assert public.headers["Cache-Control"] == "public, no-cache"
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in mine.headers["Vary"] and "Cookie" in mine.headers["Vary"]
    assert mine.headers["ETag"] != public.headers["ETag"]
    own = shown[building["code"]]["properties"]
    for key in VULNERABLE:
        assert own[key] == building[key], key
    others = [f["properties"] for f in shown.values()
              if f["properties"]["grid_code"] != building["grid_code"]]
    assert others and all(key not in p for p in others for key in VULNERABLE)
    # A planner plans from grid totals: the public tile.
    planner = api.get(url("buildings", tile), headers={**GZIP, **login("planner")})
    assert planner.headers["ETag"] == public.headers["ETag"]


def test_conditional_requests_answer_304_without_a_body(client: FlaskClient,
                                                        building: dict[str, Any]) -> None:
    path = url("buildings", tile_of(building["lon"], building["lat"], 16))
    first = client.get(path, headers=GZIP)
    etag = first.headers["ETag"]
    assert client.get(path, headers=GZIP).headers["ETag"] == etag
    again = client.get(path, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "public, no-cache"
    assert client.get(path, headers={**GZIP, "If-None-Match": '"other"'}).status_code == 200


def test_a_changed_building_changes_the_tile_and_its_etag(
        client: FlaskClient, engine: Engine, building: dict[str, Any]) -> None:
    path = url("buildings", tile_of(building["lon"], building["lat"], 15))
    before = client.get(path, headers=GZIP)
    renamed = building["name"] + "（改）"
    try:
        with engine.begin() as conn:  # committed: the tile server reads its own connection
            conn.execute(text("UPDATE building SET name = :n WHERE id = :i"),
                         {"n": renamed, "i": building["id"]})
        _, shown = features(client, path, "buildings")
        after = client.get(path, headers={**GZIP, "If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
        assert shown[building["code"]]["properties"]["name"] == renamed
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE building SET name = :n WHERE id = :i"),
                         {"n": building["name"], "i": building["id"]})
    _, shown = features(client, path, "buildings")
    assert shown[building["code"]]["properties"]["name"] == building["name"]


def test_a_client_without_gzip_gets_the_plain_tile(client: FlaskClient,
                                                   building: dict[str, Any]) -> None:
    path = url("buildings", tile_of(building["lon"], building["lat"], 15))
    zipped = client.get(path, headers=GZIP)
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.data == gzip.decompress(zipped.data)
    assert plain.headers["ETag"] != zipped.headers["ETag"]
    assert "Accept-Encoding" in plain.headers["Vary"]


@pytest.mark.parametrize(("path", "words"), [
    ("/tiles/no_such_layer/15/1/1.mvt", "unknown collection"),
    ("/tiles/buildings/15/40000/1.mvt", "out of range"),
    ("/tiles/buildings/25/1/1.mvt", "out of range"),
    ("/tiles/buildings/11/1700/700.mvt", "zoom levels 12-17"),
    ("/tiles/buildings/18/1/1.mvt", "zoom levels 12-17"),
    ("/tiles/buildings/15/x/1.mvt", "whole numbers"),
    ("/tiles/buildings/15/-1/1.mvt", "whole numbers"),
    ("/tiles/no_such_layer.json", "unknown collection"),
    ("/ogc/collections/no_such_layer/tiles", "unknown collection"),
    ("/ogc/collections/buildings/tiles/WebMercatorQuad/15/1/40000", "out of range"),
    ("/tiles/coverage-no_such_type-15min/15/1/1.mvt", "unknown collection"),
])
def test_bad_tiles_are_404_in_json_and_html(client: FlaskClient, path: str, words: str) -> None:
    answer = client.get(path, headers={"Accept": "application/json"})
    assert answer.status_code == 404
    body = answer.get_json()  # under /ogc, OGC API's exception shape; elsewhere gridmap's
    message = body["description"] if path.startswith("/ogc/") else body["error"]["message"]
    assert words in message and any("\u4e00" <= c <= "\u9fff" for c in message), message
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert words in page.get_data(as_text=True)


def test_tilejson_describes_the_tileset(client: FlaskClient) -> None:
    answer = client.get("/tiles/buildings.json")
    assert answer.status_code == 200 and answer.headers["ETag"]
    doc = answer.get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://localhost/tiles/buildings/{z}/{x}/{y}.mvt"]
    assert (doc["minzoom"], doc["maxzoom"]) == (12, 17)
    layer = doc["vector_layers"][0]
    assert layer["id"] == "buildings" and layer["fields"]["residents"] == "Number"
    assert "staff only" in layer["fields"]["aged_80_plus"]
    west, south, east, north = doc["bounds"]
    assert 123 < west < east < 124 and 41 < south < north < 42
    again = client.get("/tiles/buildings.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_ogc_api_tiles_pages_point_to_the_same_tiles(client: FlaskClient,
                                                     building: dict[str, Any]) -> None:
    listing = client.get("/ogc/collections/buildings/tiles").get_json()
    tileset = listing["tilesets"][0]
    assert tileset["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    assert tileset["dataType"] == "vector"
    self_link = next(link["href"] for link in tileset["links"] if link["rel"] == "self")
    meta = client.get(self_link.replace("http://localhost", "")).get_json()
    template = next(link["href"] for link in meta["links"] if link["rel"] == "item")
    assert template.endswith("/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert meta["tileMatrixSetLimits"][0]["tileMatrix"] == "12"
    assert meta["layers"][0]["geometryDimension"] == 2
    z, x, y = tile_of(building["lon"], building["lat"], 15)
    ogc = client.get(template.replace("http://localhost", "").format(
        tileMatrix=z, tileRow=y, tileCol=x), headers=GZIP)
    xyz = client.get(url("buildings", (z, x, y)), headers=GZIP)
    assert ogc.status_code == 200 and ogc.data == xyz.data


@pytest.fixture
def coverage_run(engine: Engine) -> Iterator[dict[str, Any]]:
    """A committed current coverage run of elder-care stations (15 min) over a few buildings."""
    with engine.begin() as conn:
        run = conn.execute(text(
            "INSERT INTO coverage_run (facility_type, circle, max_distance_m, params, seconds, "
            "current, metric_srid) VALUES ('elder_care_station', '15min', 1000, "
            "'{\"near_miss_factor\": 1.5}', 1, false, 4509) RETURNING id")).scalar_one()
        conn.execute(text(
            "INSERT INTO coverage_building (run_id, building_id, distance_m, covered) "
            "SELECT :r, id, (row_number() OVER (ORDER BY id)) * 300, false "
            "FROM building ORDER BY id LIMIT 6"), {"r": run})
        old = conn.execute(text("UPDATE coverage_run SET current = false WHERE current AND "
                                "facility_type = 'elder_care_station' AND circle = '15min' "
                                "RETURNING id")).scalars().all()
        conn.execute(text("UPDATE coverage_run SET current = true WHERE id = :r"), {"r": run})
        where = conn.execute(text(
            "SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
            "FROM building ORDER BY id LIMIT 1")).mappings().one()
    yield {"id": run, **where}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": run})
        conn.execute(text("UPDATE coverage_run SET current = true WHERE id = ANY(:o)"),
                     {"o": list(old)})


def test_coverage_band_tiles_for_coverage_readers_only(
        api: FlaskClient, login: Callable[..., dict[str, str]],
        coverage_run: dict[str, Any]) -> None:
    tile = tile_of(coverage_run["lon"], coverage_run["lat"], 15)
    path = url("coverage-elder_care_station-15min", tile)
    assert api.get(path, headers=GZIP).status_code == 401
    assert api.get("/tiles/coverage-elder_care_station-15min.json").status_code == 401
    assert api.get(path, headers={**GZIP, **login("grid_worker")}).status_code == 403
    planner = login("planner")
    response, shown = features(api, path, "coverage", planner)
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response.headers["Vary"]
    bands = {f["properties"]["distance_m"]: f["properties"]["band"] for f in shown.values()}
    assert bands.get(300.0) == "covered"
    assert {bands.get(d) for d in (1200.0, 1500.0) if d in bands} <= {"near_miss"}
    assert {bands.get(d) for d in (1800.0,) if d in bands} <= {"far"}
    z13 = api.get(url("coverage-elder_care_station-15min",
                      tile_of(coverage_run["lon"], coverage_run["lat"], 13)),
                  headers={**GZIP, **planner})
    props = decode(gzip.decompress(z13.data))["coverage"]["features"]
    assert props and all(set(f["properties"]) == {"band"} for f in props)
    doc = api.get("/tiles/coverage-elder_care_station-15min.json", headers=planner).get_json()
    assert doc["vector_layers"][0]["id"] == "coverage"
    assert json.dumps(doc, ensure_ascii=False).count("覆盖") >= 1
