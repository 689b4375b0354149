"""OGC API Features on the test district: Part 1 (documents, items, paging), Part 2 (CRS),
Part 3 (queryables, properties, sortby), privacy of the public view, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from ogc_support import all_ids, local, page
from sqlalchemy import Connection, text

from gridmap.cases.privacy import street_only

ITEMS = "/ogc/collections/{}/items"


def _scalar_list(tx: Connection, sql: str, **params: Any) -> list[Any]:
    return list(tx.execute(text(sql), params).scalars())


def test_landing_conformance_and_collections(api: FlaskClient) -> None:
    landing = api.get("/ogc/").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "alternate", "service-desc", "service-doc"} <= rels
    desc = next(link["href"] for link in landing["links"] if link["rel"] == "service-desc")
    answer = api.get(desc)
    assert answer.status_code == 200 and answer.mimetype == "application/vnd.oai.openapi+json"
    paths = answer.get_json()["paths"]
    assert answer.get_json()["openapi"].startswith("3.1")
    assert "/ogc/collections/{collection_id}/items" in paths
    assert paths and all(p.startswith("/ogc") for p in paths)
    conf = api.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in conf
    doc = api.get("/ogc/collections").get_json()
    ids = [c["id"] for c in doc["collections"]]
    for expected in ("districts", "subdistricts", "communities", "grids", "buildings", "streets",
                     "facilities", "facilities-elder_care_station", "cases"):
        assert expected in ids
    assert not [i for i in ids if i.startswith("coverage-")]  # coverage is for its readers
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conf
    grids = next(c for c in doc["collections"] if c["id"] == "grids")
    tiles = next(link["href"] for link in grids["links"]
                 if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    assert api.get(tiles).status_code == 200  # the grids' tilesets (OGC API Tiles)
    assert grids["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert grids["crs"][-1] == "http://www.opengis.net/def/crs/EPSG/0/4550"  # from the data
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json"
               for link in grids["links"])


def test_items_pages_cover_the_collection_in_order(api: FlaskClient, tx: Connection) -> None:
    community = _scalar_list(tx, "SELECT min(community_code) FROM grid")[0]
    expected = _scalar_list(tx, "SELECT code FROM grid WHERE community_code = :c ORDER BY code",
                            c=community)
    found = all_ids(api, "grids", limit=3, filter=f"community_code = '{community}'")
    assert found == expected and len(expected) > 3
    first = page(api, ITEMS.format("grids"), limit=3, filter=f"community_code = '{community}'")
    assert first["numberReturned"] == 3 and first["numberMatched"] == len(expected)
    assert not [link for link in first["links"] if link["rel"] == "prev"]


def test_prev_link_returns_the_page_before(api: FlaskClient) -> None:
    first = page(api, ITEMS.format("buildings"), limit=5)
    second = page(api, local(next(x["href"] for x in first["links"] if x["rel"] == "next")))
    back = page(api, local(next(x["href"] for x in second["links"] if x["rel"] == "prev")))
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]
    assert not [x for x in back["links"] if x["rel"] == "prev"]  # nothing before the first
    assert [x for x in back["links"] if x["rel"] == "next"]


def test_sortby_pages_on_sort_key_and_id(api: FlaskClient, tx: Connection) -> None:
    grid = _scalar_list(tx, "SELECT grid_code FROM building GROUP BY grid_code "
                            "ORDER BY count(*) DESC LIMIT 1")[0]
    expected = _scalar_list(tx, "SELECT code FROM building WHERE grid_code = :g "
                                "ORDER BY residents DESC, code DESC", g=grid)
    assert all_ids(api, "buildings", limit=4, sortby="-residents",
                   filter=f"grid_code = '{grid}'") == expected
    ascending = _scalar_list(tx, "SELECT code FROM building WHERE grid_code = :g "
                                 "ORDER BY households, code", g=grid)
    assert all_ids(api, "buildings", limit=4, sortby="households", grid_code=grid) == ascending


def test_one_feature_and_404s(api: FlaskClient, tx: Connection) -> None:
    code = _scalar_list(tx, "SELECT min(code) FROM grid")[0]
    response = api.get(f"/ogc/collections/grids/items/{code}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.get_json()["id"] == code
    assert api.get("/ogc/collections/grids/items/nope").status_code == 404
    assert api.get("/ogc/collections/cases/items/123abc").status_code == 404
    for url in ("/ogc/collections/nope", "/ogc/collections/nope/items"):
        response = api.get(url)
        assert response.status_code == 404 and "nope" in response.get_json()["description"]


def test_crs_axis_order_and_gauss_kruger(api: FlaskClient, tx: Connection) -> None:
    code = _scalar_list(tx, "SELECT min(code) FROM facility")[0]
    lon, lat = tx.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE code = :c"),
                          {"c": code}).one()
    url = f"/ogc/collections/facilities/items/{code}"
    crs84 = api.get(url)
    assert crs84.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert crs84.get_json()["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    for epsg in (4326, 4490):
        answer = api.get(url, query_string={"crs": f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"})
        assert answer.headers["Content-Crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{epsg}>"
        assert answer.get_json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
    x, y = tx.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(geom, 4550) p "
                           "FROM facility WHERE code = :c) s"), {"c": code}).one()
    gk = api.get(url, query_string={"crs": "EPSG:4550"}).get_json()["geometry"]
    assert gk["coordinates"] == pytest.approx([x, y], abs=0.01) and "crs" not in gk


def test_bbox_crs_in_lat_lon_and_gauss_kruger(api: FlaskClient, tx: Connection) -> None:
    minx, miny, maxx, maxy = tx.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Expand(ST_Extent(geom), 0.002) e FROM grid WHERE code = (SELECT min(code) FROM grid)) s"
    )).one()
    expected = _scalar_list(tx, "SELECT code FROM building WHERE ST_Intersects(geom, "
                                "ST_MakeEnvelope(:a, :b, :c, :d, 4326)) ORDER BY code",
                            a=minx, b=miny, c=maxx, d=maxy)
    assert expected
    assert all_ids(api, "buildings", limit=1000, bbox=f"{minx},{miny},{maxx},{maxy}") == expected
    flipped = all_ids(api, "buildings", limit=1000, bbox=f"{miny},{minx},{maxy},{maxx}",
                      **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert flipped == expected
    gx1, gy1, gx2, gy2 = tx.execute(text(
        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform("
        "ST_MakeEnvelope(:a, :b, :c, :d, 4326), 4550) b) s"),
        {"a": minx, "b": miny, "c": maxx, "d": maxy}).one()
    in_gk = set(all_ids(api, "buildings", limit=1000, bbox=f"{gx1},{gy1},{gx2},{gy2}",
                        **{"bbox-crs": "EPSG:4550"}))
    assert set(expected) <= in_gk  # the projected box holds the geographic one


def test_datetime_on_grids(api: FlaskClient, tx: Connection) -> None:
    latest = _scalar_list(tx, "SELECT max(valid_from) FROM grid")[0]
    after = page(api, ITEMS.format("grids"), datetime=f"{(latest).isoformat()}/..", limit=10000)
    expected = _scalar_list(tx, "SELECT count(*) FROM grid WHERE valid_from >= :t", t=latest)[0]
    assert after["numberReturned"] == expected
    response = api.get(ITEMS.format("buildings"), query_string={"datetime": "2024-01-01T00:00:00Z"})
    assert response.status_code == 400  # buildings have no time


def test_properties_selection_and_queryables(api: FlaskClient) -> None:
    doc = page(api, ITEMS.format("buildings"), limit=2, properties="name,residents")
    assert all(set(f["properties"]) == {"name", "residents"} for f in doc["features"])
    none = page(api, ITEMS.format("buildings"), limit=2, properties="")
    assert all(f["properties"] == {} for f in none["features"])
    schema = api.get("/ogc/collections/buildings/queryables").get_json()
    assert schema["properties"]["residents"] == {"title": "residents", "type": "integer"}
    assert schema["properties"]["geometry"]["format"] == "geometry-polygon"
    sortables = api.get("/ogc/collections/buildings/sortables").get_json()["properties"]
    assert "residents" in sortables and "geometry" not in sortables


def test_public_never_gets_per_building_vulnerable_counts(api: FlaskClient) -> None:
    schema = api.get("/ogc/collections/buildings/queryables").get_json()["properties"]
    assert "aged_80_plus" not in schema and "elderly_living_alone" not in schema
    for params in ({"filter": "aged_80_plus > 0"}, {"sortby": "elderly_living_alone"},
                   {"properties": "aged_80_plus"}):
        response = api.get(ITEMS.format("buildings"), query_string=params)
        assert response.status_code == 400 and "aged_80_plus" in response.get_data(as_text=True) \
            or "elderly_living_alone" in response.get_data(as_text=True)
    grids = page(api, ITEMS.format("grids"), limit=10000, properties="aged_80_plus")
    shown = [f["properties"]["aged_80_plus"] for f in grids["features"]]
    assert all(v is None or v >= 5 for v in shown)  # small grid totals hidden


def test_staff_see_their_buildings_counts_only(api: FlaskClient, tx: Connection,
                                               login: Callable[..., dict[str, str]]) -> None:
    grid, person = tx.execute(text("SELECT grid_code, person_id FROM grid_member "
                                   "WHERE role = 'grid_worker' ORDER BY grid_code LIMIT 1")).one()
    headers = login("grid_worker", person_id=person)
    response = api.get(ITEMS.format("buildings"), headers=headers,
                       query_string={"filter": "aged_80_plus >= 0", "limit": 10000})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    found = {f["properties"]["grid_code"] for f in response.get_json()["features"]}
    assert found == {grid}


def test_cases_public_view_and_staff_view(api: FlaskClient, tx: Connection, grids: list[dict[str, Any]],
                                          login: Callable[..., dict[str, str]]) -> None:
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g "
                             "AND role = 'grid_worker'"), {"g": grids[0]["code"]}).scalar_one()
    headers = login("grid_worker", person_id=worker)
    body = {"category": "heating", "description": "OGC 私密描述 5c1f", "lon": grids[0]["lon"],
            "lat": grids[0]["lat"], "grid_code": grids[0]["code"], "address": "大西路 5 号 3 单元",
            "confirm_new": True}
    created = api.post("/api/cases", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    case_id = created.get_json()["case_id"]
    public = api.get(f"/ogc/collections/cases/items/{case_id}").get_json()
    assert "description" not in public["properties"] and "reporter_name" not in public["properties"]
    assert public["properties"]["address"] == street_only(body["address"]) == "大西路"
    lon, lat = public["geometry"]["coordinates"]
    assert abs(lon * 2000 - round(lon * 2000)) < 1e-6 and abs(lat * 2000 - round(lat * 2000)) < 1e-6
    assert api.get(ITEMS.format("cases"), query_string={"filter": "description LIKE '%5c1f%'"}
                   ).status_code == 400
    staff = api.get(f"/ogc/collections/cases/items/{case_id}", headers=headers).get_json()
    assert staff["properties"]["description"] == body["description"]
    assert staff["geometry"]["coordinates"] == pytest.approx([grids[0]["lon"], grids[0]["lat"]], abs=1e-6)


@pytest.mark.parametrize("address", ["大西路 5 号", "十一纬路三号楼", "北二马路", "12号楼", "中街，5栋",
                                     "沈阳市沈河区砂阳大街117号", ""])
def test_street_only_in_sql_equals_python(tx: Connection, address: str) -> None:
    from sqlalchemy import literal, select

    from gridmap.ogc.repositories.sources import street_only as sql_street_only

    assert tx.execute(select(sql_street_only(literal(address)))).scalar_one() == street_only(address)


BAD = [
    ("/ogc/collections/nope/items", 404, "nope"),
    ("/ogc/collections/buildings/items?filter=nope%20%3D%201", 400, "nope"),
    ("/ogc/collections/buildings/items?sortby=nope", 400, "nope"),
    ("/ogc/collections/buildings/items?properties=nope", 400, "nope"),
    ("/ogc/collections/buildings/items?filter=name%20%3D", 400, "column 6"),
    ("/ogc/collections/buildings/items?filter=%7B%22op%22&filter-lang=cql2-json", 400, "JSON"),
    ("/ogc/collections/buildings/items?bbox=124,41,123,42", 400, "bbox"),
    ("/ogc/collections/buildings/items?crs=EPSG:3857", 400, "EPSG/0/4550"),
    ("/ogc/collections/buildings/items?bbox-crs=EPSG:3857&bbox=1,2,3,4", 400, "EPSG/0/4326"),
    ("/ogc/collections/buildings/items?cursor=abc", 400, "cursor"),
    ("/ogc/collections/buildings/items?colour=red", 400, "colour"),
    ("/ogc/collections/buildings/items?filter=residents%20%3D%20%27x%27", 400, "integer"),
    ("/ogc/collections/buildings/items?filter=residents%20%3D%2099999999999", 400, "range"),
    ("/ogc/collections/buildings/items?filter=S_DWITHIN(geometry,POINT(123%2095),10)", 400, "range"),
    ("/ogc/collections/buildings/items?filter=S_INTERSECTS(geometry,"
     "POLYGON((0%200,1%201,0%201,1%200,0%200)))", 400, "geometry"),
    ("/ogc/collections/buildings/items?bbox=1,2,3,4&bbox-crs=EPSG:4550&filter-crs=x", 400,
     "filter-crs"),
]


@pytest.mark.parametrize(("url", "status", "named"), BAD)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_input_json_and_html(api: FlaskClient, url: str, status: int, named: str, lang: str) -> None:
    answer = api.get(f"{url}&lang={lang}" if "?" in url else f"{url}?lang={lang}")
    assert answer.status_code == status
    doc = answer.get_json()
    assert named in doc["description"] and doc["code"]
    assert any("\u4e00" <= c <= "\u9fff" for c in doc["description"])  # Chinese first …
    assert "(" in doc["description"]  # … then English
    page_answer = api.get(url, headers={"Accept": "text/html"})
    assert page_answer.status_code == status and page_answer.mimetype == "text/html"
    assert named in page_answer.get_data(as_text=True)


def test_limit_above_the_maximum_is_clamped_and_said(api: FlaskClient) -> None:
    response = api.get(ITEMS.format("grids"), query_string={"limit": 50000, "properties": ""})
    assert response.status_code == 200
    assert response.headers["OGC-Limit-Clamped"] == "50000 -> 10000"
    assert json.loads(response.get_data(as_text=True))["limitClamped"] == {
        "requested": 50000, "applied": 10000}


def test_html_pages(api: FlaskClient, tx: Connection) -> None:
    code = _scalar_list(tx, "SELECT min(code) FROM grid")[0]
    for url in ("/ogc/?f=html", "/ogc/conformance?f=html", "/ogc/collections?f=html",
                "/ogc/collections/grids?f=html", "/ogc/collections/grids/items?f=html&limit=3",
                f"/ogc/collections/grids/items/{code}?f=html"):
        response = api.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        assert "OGC API" in response.get_data(as_text=True)
    browser = api.get("/ogc/collections/grids/items?limit=2", headers={"Accept": "text/html"})
    assert browser.mimetype == "text/html" and "gm-ogc-map" in browser.get_data(as_text=True)
    assert api.get("/ogc/collections/grids/items?f=xml").status_code == 400


def test_a_page_asked_in_another_crs_draws_its_map_in_crs84(api: FlaskClient,
                                                             tx: Connection) -> None:
    """The page's map reads CRS84 whatever ``crs`` is asked (lat/lon or metres would land in
    the wrong place); the crs is still checked."""
    code = _scalar_list(tx, "SELECT min(code) FROM grid")[0]
    lon, lat = tx.execute(text("SELECT ST_X(ST_PointN(ST_ExteriorRing(geom), 1)), "
                               "ST_Y(ST_PointN(ST_ExteriorRing(geom), 1)) FROM grid "
                               "WHERE code = :c"), {"c": code}).one()
    for crs in ("EPSG:4326", "EPSG:4550"):
        page = api.get(f"/ogc/collections/grids/items/{code}?f=html&crs={crs}").get_data(
            as_text=True)
        drawn = json.loads(page.split('id="gm-ogc-features">')[1].split("</script>")[0])
        first = drawn[0]["geometry"]["coordinates"][0][0]
        assert first == pytest.approx([lon, lat], abs=1e-6), crs
    assert api.get(f"/ogc/collections/grids/items/{code}?f=html&crs=EPSG:3857").status_code == 400
