"""Any city, not only Shenyang: a small city near Chengdu built entirely from files through the
import path (its outline, sub-districts, communities, grids, buildings, facilities and an
OpenStreetMap street extract, in the formats and CRSs cities send), then located in, reported
in and measured for walking coverage — in its own Gauss-Krüger zone."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from gridmap import crs as datums
from gridmap import schema
from gridmap.access import Principal, Role
from gridmap.accounts.services import accounts
from gridmap.cases.services.cases import IntakeRequest, intake
from gridmap.config import Settings
from gridmap.coverage.services.compute import compute
from gridmap.exchange.report import errors
from gridmap.exchange.services import imports, streets
from gridmap.territory.services.lookup import locate

OPERATOR = Principal(role=Role.ADMIN, username="city-builder")
X0, Y0 = 104.05, 30.64  # south-west corner; 4 x 4 grids of 0.004° (~390 x 440 m)
STEP = 0.004
DISTRICT, SUBS = "519901", ("519901001", "519901002")


def _box(i: int, j: int, size: int = 1) -> shapely.Polygon:
    return shapely.box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + size) * STEP,
                       Y0 + (j + size) * STEP)


def _files(folder: Path) -> dict[str, Path]:
    """The city's files: district GeoJSON; sub-districts GeoPackage; communities a zipped GBK
    Shapefile; grids a GeoPackage in the GK zone; buildings GeoPackage; facilities an Amap
    (GCJ-02) CSV; streets an OSM extract."""
    out: dict[str, Path] = {}
    district = gpd.GeoDataFrame({"code": [DISTRICT], "name": ["示例区"]},
                                geometry=[_box(0, 0, 4)], crs="EPSG:4326")
    out["districts"] = folder / "district.geojson"
    district.to_file(out["districts"], driver="GeoJSON")
    subs = gpd.GeoDataFrame({"街道代码": list(SUBS), "街道名称": ["东街道", "西街道"]},
                            geometry=[shapely.box(X0, Y0, X0 + 2 * STEP, Y0 + 4 * STEP),
                                      shapely.box(X0 + 2 * STEP, Y0, X0 + 4 * STEP, Y0 + 4 * STEP)],
                            crs="EPSG:4326")
    out["subdistricts"] = folder / "subdistricts.gpkg"
    pyogrio.write_dataframe(subs, out["subdistricts"])
    communities, grids = [], []
    for s, sub in enumerate(SUBS):
        for c in range(2):
            code = f"{sub}{c + 1:03d}"
            communities.append({"社区编码": code, "社区名称": f"社区{s}{c}",
                                "geometry": shapely.box(X0 + 2 * s * STEP, Y0 + 2 * c * STEP,
                                                        X0 + (2 * s + 2) * STEP,
                                                        Y0 + (2 * c + 2) * STEP)})
            for g in range(4):
                i, j = 2 * s + g % 2, 2 * c + g // 2
                grids.append({"网格编码": f"{code}{g + 1:03d}", "网格名称": f"网格{s}{c}{g}",
                              "geometry": _box(i, j)})
    shp = folder / "communities.shp"
    pyogrio.write_dataframe(gpd.GeoDataFrame(communities, crs="EPSG:4326"), shp, encoding="gbk")
    out["communities"] = folder / "communities.zip"
    with zipfile.ZipFile(out["communities"], "w") as archive:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            archive.write(shp.with_suffix(ext), shp.with_suffix(ext).name)
    zone = datums.gauss_kruger_epsg(X0 + 2 * STEP)
    out["grids"] = folder / "grids.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(grids, crs="EPSG:4326").to_crs(epsg=zone),
                            out["grids"])
    houses = []
    for n, grid in enumerate(grids):
        cx, cy = grid["geometry"].centroid.coords[0]
        for k in range(3):
            houses.append({"code": f"B{n:02d}{k}", "name": f"{n}号院{k}", "residents": 100 + k,
                           "aged_60_plus": 20 + k,
                           "geometry": shapely.box(cx - 0.0012 + k * 0.0009, cy - 0.0003,
                                                   cx - 0.0006 + k * 0.0009, cy + 0.0003)})
    out["buildings"] = folder / "buildings.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(houses, crs="EPSG:4326"), out["buildings"])
    out["facilities"] = folder / "stations.csv"
    with out["facilities"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["编码", "类型", "名称", "经度", "纬度"])
        for n, (i, j) in enumerate([(1, 1), (3, 3)]):
            gx, gy = datums.wgs84_to_gcj02(X0 + i * STEP + 0.0002, Y0 + j * STEP + 0.0001)
            writer.writerow([f"EC{n}", "elder_care_station", f"养老站{n}", f"{float(gx):.7f}",
                             f"{float(gy):.7f}"])
    out["streets"] = folder / "streets.osm"
    nodes, ways = {}, []
    for k in range(5):  # a lattice of streets along the grid lines
        for horizontal in (True, False):
            line = [(X0 + m * STEP, Y0 + k * STEP) if horizontal else (X0 + k * STEP, Y0 + m * STEP)
                    for m in range(5)]
            refs = [nodes.setdefault(p, len(nodes) + 1) for p in line]
            ways.append(f'<way id="{len(ways) + 1}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                        + '<tag k="highway" v="residential"/></way>')
    out["streets"].write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        + "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for (x, y), i in nodes.items())
        + "".join(ways) + "</osm>", encoding="utf-8")
    return out


def test_a_city_built_from_files_works_end_to_end(scratch_settings: Settings,
                                                  tmp_path: Path) -> None:
    schema.upgrade(scratch_settings)
    engine = create_engine(scratch_settings.sqlalchemy_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        files = _files(tmp_path)
        options = {"communities": {"encoding": "gbk"}, "facilities": {"crs": "gcj02"}}
        for layer in ("districts", "subdistricts", "communities", "grids", "buildings",
                      "facilities"):
            outcome = imports.run(factory, OPERATOR, imports.Options(
                layer, files[layer], **options.get(layer, {})))
            assert errors(outcome.problems) == [], (layer, outcome.problems)
            assert outcome.written and outcome.changes["added"] == outcome.features > 0, layer
        network = streets.run(factory, OPERATOR, files["streets"])
        assert network.edges == 40
        # Locate: the middle of the city's first grid.
        with factory() as session:
            found = locate(session, X0 + 0.002, Y0 + 0.002)
        assert found["grid"]["code"] == f"{SUBS[0]}001001"
        assert found["district"]["name"] == "示例区"
        # A case, reported by the district's centre where it happened.
        made = accounts.create(factory, OPERATOR, accounts.NewAccount(
            username="centre", role="district_centre", name="指挥中心", area_code=DISTRICT))
        centre = Principal(role=Role.DISTRICT_CENTRE, account_id=made["id"],
                           person_id=made["person_id"], area_code=DISTRICT, username="centre")
        filed = intake(factory, centre, IntakeRequest(
            category="heating", description="暖气不热", channel="walk_in",
            lon=X0 + 0.006, lat=Y0 + 0.006), media_dir=tmp_path / "media")
        assert filed.status == "created" and filed.case_id is not None
        # Walking coverage, measured in this city's own Gauss-Krüger zone.
        report = compute(factory, "elder_care_station", "15min")
        assert report.metric_crs == f"EPSG:{datums.gauss_kruger_epsg(X0 + 2 * STEP)}" != "EPSG:4550"
        assert report.buildings == 48 and report.facilities == 2
        assert report.buildings_covered > 24 and report.unsnapped_facilities == 0
    finally:
        engine.dispose()
