"""The HTTP API: layers parse as GeoJSON with the right CRS and counts, bad input gives 4xx."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pytest
from sqlalchemy import text

from gridmap.crs import gauss_kruger_crs, wgs84_to_bd09, wgs84_to_gcj02


@pytest.fixture(scope="module")
def sample(engine) -> dict:
    """A grid with its community and an interior point, read straight from the database."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT g.code, g.community_code, ST_X(p) lon, ST_Y(p) lat,
                   (SELECT count(*) FROM grid WHERE community_code = g.community_code) n_grids,
                   (SELECT count(*) FROM building WHERE grid_code LIKE g.community_code || '%')
                       n_buildings,
                   (SELECT name FROM community WHERE code = g.community_code) community_name
            FROM (SELECT code, community_code, ST_PointOnSurface(geom) p FROM grid
                  ORDER BY code OFFSET 50 LIMIT 1) g
        """)).mappings().one()
    return dict(row)


def _read(response) -> gpd.GeoDataFrame:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/geo+json"
    return gpd.read_file(io.BytesIO(response.data))


def test_health(client) -> None:
    assert client.get("/api/health").get_json() == {"status": "ok"}


def test_meta_lists_layers_and_types(client) -> None:
    meta = client.get("/api/meta").get_json()
    names = [layer["name"] for layer in meta["layers"]]
    assert names == ["districts", "subdistricts", "communities", "grids", "buildings",
                     "streets", "facilities"]
    assert len(meta["facility_types"]) == 10
    minx, miny, maxx, maxy = meta["extent"]
    assert 123.3 < minx < maxx < 123.6 and 41.7 < miny < maxy < 41.9


def test_grids_of_a_community_parse_with_geopandas(client, sample) -> None:
    frame = _read(client.get(f"/api/layers/grids.geojson?community={sample['community_code']}"))
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == sample["n_grids"]
    assert set(frame["community_code"]) == {sample["community_code"]}
    assert frame.geometry.is_valid.all()


def test_buildings_filtered_by_community(client, sample) -> None:
    frame = _read(client.get(
        f"/api/layers/buildings.geojson?community={sample['community_code']}"))
    assert len(frame) == sample["n_buildings"]
    assert frame["residents"].min() >= 0


def test_bbox_filter_returns_only_intersecting_features(client, sample) -> None:
    lon, lat = sample["lon"], sample["lat"]
    bbox = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    frame = _read(client.get(f"/api/layers/grids.geojson?bbox={bbox}"))
    assert 1 <= len(frame) < 40
    assert sample["code"] in set(frame["code"])


def test_display_zoom_caps_features_and_says_so(app, client) -> None:
    limit = app.extensions["gridmap.settings"].layer_feature_limit
    body = json.loads(client.get("/api/layers/buildings.geojson?zoom=16").data)
    if body["numberReturned"] < limit:
        pytest.fail("test data too small to exercise the cap")
    assert body["truncated"] is True and len(body["features"]) == limit


def test_facilities_by_type(client) -> None:
    frame = _read(client.get("/api/layers/facilities.geojson?type=elder_care_station"))
    assert len(frame) == 126 + 0  # 沈河区: 126 community elder-care stations (articles)
    assert set(frame["type"]) == {"elder_care_station"}


def test_district_layer_keeps_real_outlines(client) -> None:
    frame = _read(client.get("/api/layers/districts.geojson"))
    assert len(frame) == 13
    area_km2 = frame.to_crs(gauss_kruger_crs(123.4)).set_index("code").area / 1e6
    assert area_km2["210103"] == pytest.approx(59.6, rel=0.02)  # SOURCES.md: 沈河 59.6 km²


@pytest.mark.parametrize("crs_name, convert", [("gcj02", wgs84_to_gcj02),
                                                ("bd09", wgs84_to_bd09),
                                                ("cgcs2000", lambda x, y: (x, y))])
def test_locate_accepts_chinese_coordinate_systems(client, sample, crs_name, convert) -> None:
    lon, lat = convert(sample["lon"], sample["lat"])
    body = client.get(f"/api/locate?lon={lon}&lat={lat}&crs={crs_name}").get_json()
    assert body["grid"]["code"] == sample["code"]
    assert body["query"]["crs"] == crs_name


def test_raw_gcj02_coordinates_taken_as_wgs84_land_elsewhere(client, sample) -> None:
    # Why conversion matters: the ~580 m offset puts an unconverted point in another grid.
    lon, lat = wgs84_to_gcj02(sample["lon"], sample["lat"])
    response = client.get(f"/api/locate?lon={lon}&lat={lat}")
    assert response.status_code == 404 or response.get_json()["grid"]["code"] != sample["code"]


def test_locate_outside_is_404_with_message(client) -> None:
    response = client.get("/api/locate?lon=116.39&lat=39.91")
    assert response.status_code == 404
    assert "不在任何网格内" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("url", [
    "/api/locate?lon=abc&lat=41.8",
    "/api/locate?lat=41.8",
    "/api/locate?lon=123.4&lat=95",
    "/api/locate?lon=123.4&lat=41.8&crs=mercator",
    "/api/locate?lon=nan&lat=41.8",
    "/api/layers/grids.geojson?bbox=1,2,3",
    "/api/layers/grids.geojson?bbox=a,b,c,d",
    "/api/layers/grids.geojson?bbox=124,42,123,41",
    "/api/layers/grids.geojson?zoom=99",
    "/api/layers/grids.geojson?community=12345",
    "/api/layers/grids.geojson?district=210103&community=210104001001",
    "/api/layers/facilities.geojson?type=casino",
    "/api/layers/facilities.geojson?type=x'%20OR%201=1--",
    "/api/search?q=",
])
def test_bad_parameters_are_400_with_a_message(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.data[:200]
    assert response.get_json()["error"]["message"]


def test_unknown_layer_is_404(client) -> None:
    response = client.get("/api/layers/secrets.geojson")
    assert response.status_code == 404
    assert "districts" in response.get_json()["error"]["message"]


def test_search_by_name_and_by_code(client, sample) -> None:
    by_name = client.get(f"/api/search?q={sample['community_name']}").get_json()["results"]
    assert by_name[0]["code"] == sample["community_code"]
    assert by_name[0]["kind"] == "community"
    minx, miny, maxx, maxy = by_name[0]["bbox"]
    assert minx < sample["lon"] < maxx and miny < sample["lat"] < maxy
    by_code = client.get(f"/api/search?q={sample['code']}").get_json()["results"]
    assert by_code[0]["code"] == sample["code"] and by_code[0]["kind"] == "grid"


def test_search_finds_a_street_by_name_with_its_whole_line(client, engine) -> None:
    """Issue 12: "团结大路" is a street, one result (all its edges merged), drawn as its line."""
    with engine.connect() as conn:
        name, n_edges, length_m = conn.execute(text(
            "SELECT name, count(*), sum(length_m) FROM street_edge WHERE name <> '' "
            "GROUP BY name ORDER BY (name LIKE '团结%') DESC, count(*) DESC LIMIT 1")).one()
    results = client.get("/api/search", query_string={"q": name}).get_json()["results"]
    streets = [r for r in results if r["kind"] == "street" and r["name"] == name]
    assert len(streets) == 1 and results[0] is not None and results[0]["kind"] == "street"
    geometry = streets[0]["geometry"]
    assert geometry["type"] in ("LineString", "MultiLineString")
    lines = geometry["coordinates"] if geometry["type"] == "MultiLineString" \
        else [geometry["coordinates"]]
    assert sum(len(line) - 1 for line in lines) >= 1
    minx, miny, maxx, maxy = streets[0]["bbox"]
    eps = 1e-6  # the geometry is rounded to 6 decimals, the bbox is not
    assert all(minx - eps <= x <= maxx + eps and miny - eps <= y <= maxy + eps
               for line in lines for x, y in line)
    assert n_edges > 1 and length_m > 0 and streets[0]["context"].endswith("区")


def test_search_finds_communities_by_part_of_the_name_with_their_outline(client, sample) -> None:
    part = sample["community_name"][:2]
    results = client.get("/api/search", query_string={"q": part, "limit": 50}).get_json()["results"]
    hit = next(r for r in results if r["code"] == sample["community_code"])
    assert hit["kind"] == "community" and hit["geometry"]["type"] in ("Polygon", "MultiPolygon")
    ring = (hit["geometry"]["coordinates"][0] if hit["geometry"]["type"] == "Polygon"
            else hit["geometry"]["coordinates"][0][0])
    assert len(ring) >= 4 and ring[0] == ring[-1]  # an outline, not a bbox's four corners only


def test_every_search_result_has_a_geometry(client, sample) -> None:
    for q in (sample["code"][:9], sample["community_name"][:1]):
        results = client.get("/api/search", query_string={"q": q, "limit": 50}).get_json()["results"]
        assert results and all(r["geometry"]["type"] for r in results)


def test_search_treats_like_wildcards_literally(client) -> None:
    assert client.get("/api/search?q=%25%25").get_json()["results"] == []
