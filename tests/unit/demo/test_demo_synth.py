"""Synthetic demo data: structure, tiling, clearances, article figures, determinism (no DB)."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from gridmap.demo.generator.inputs import divisions, metric_crs
from gridmap.demo.generator.synth import DemoData, generate

SHENHE = "210103"
FACILITY_TYPES = {
    "party_service_station", "elder_care_station", "home_care_centre", "day_care_centre",
    "pocket_park", "mediation_point", "charity_canteen", "health_station", "community_school",
    "employment_service",
}


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(districts=[SHENHE])


def metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(metric_crs())


def frame_hash(frame: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for col in frame.columns:
        values = frame[col]
        if isinstance(values, gpd.GeoSeries):
            h.update(b"".join(shapely.to_wkb(values.to_numpy())))
        else:
            h.update(pd.util.hash_pandas_object(values, index=True).to_numpy().tobytes())
    return h.hexdigest()


def all_hashes(d: DemoData) -> dict[str, str]:
    return {name: frame_hash(getattr(d, name)) for name in DemoData.__dataclass_fields__}


def overlapping_pairs(geoms: np.ndarray, max_area_m2: float) -> int:
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    areas = shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]]))
    return int((areas > max_area_m2).sum())


def test_real_codes_and_counts(data: DemoData) -> None:
    div = divisions()
    streets = div[(div.level == "street") & (div.district_code == SHENHE)]
    comms = div[(div.level == "community") & (div.district_code == SHENHE)]
    assert len(data.districts) == 13
    assert set(data.subdistricts.code) == set(streets.code) and len(data.subdistricts) == 11
    assert set(data.communities.code) == set(comms.code) and len(data.communities) == 111
    assert len(data.grids) == 1439  # 沈河's real grid count
    for frame, n in ((data.districts, 6), (data.subdistricts, 9), (data.communities, 12),
                     (data.grids, 15), (data.buildings, 18)):
        assert frame.code.str.fullmatch(rf"\d{{{n}}}").all()
        assert frame.code.is_unique
    assert (data.grids.code.str[:12] == data.grids.community_code).all()
    assert (data.buildings.code.str[:15] == data.buildings.grid_code).all()
    assert (data.communities.code.str[:9] == data.communities.subdistrict_code).all()
    names = dict(zip(comms.code, comms.name, strict=True))
    assert (data.communities.name == data.communities.code.map(names)).all()
    assert data.grids.name.str.fullmatch(r".+第\d{3}网格").all()


def test_crs_validity_and_types(data: DemoData) -> None:
    layers = {"districts": "MultiPolygon", "subdistricts": "MultiPolygon",
              "communities": "MultiPolygon", "grids": "Polygon", "buildings": "Polygon",
              "facilities": "Point", "street_nodes": "Point", "street_edges": "LineString"}
    for name, geom_type in layers.items():
        frame = getattr(data, name)
        assert frame.crs.to_epsg() == 4326, name
        assert len(frame) > 0, name
        assert frame.is_valid.all() and not frame.is_empty.any(), name
        assert (frame.geom_type == geom_type).all(), name


def test_children_tile_parents(data: DemoData) -> None:
    levels = ((data.grids, "community_code", data.communities),
              (data.communities, "subdistrict_code", data.subdistricts))
    for child, key, parent in levels:
        c, p = metric(child), metric(parent).set_index("code")
        assert overlapping_pairs(c.geometry.to_numpy(), 1.0) == 0
        holder = p.geometry.loc[c[key]].to_numpy()
        assert shapely.covered_by(c.geometry.to_numpy(), shapely.buffer(holder, 1.0)).all()
        summed = c.geometry.area.groupby(c[key]).sum()
        ratio = summed / p.geometry.area.loc[summed.index]
        assert ratio.between(0.995, 1.005).all() and len(summed) == len(p)


def test_subdistricts_inside_district(data: DemoData) -> None:
    outline = metric(data.districts).set_index("code").geometry.loc[SHENHE]
    subs = metric(data.subdistricts)
    assert shapely.covered_by(subs.geometry.to_numpy(), outline.buffer(1.0)).all()
    assert subs.area.sum() == pytest.approx(outline.area, rel=0.01)  # urban: settled in full


def test_buildings_in_grids_clear_of_streets_and_each_other(data: DemoData) -> None:
    b, g, e = metric(data.buildings), metric(data.grids), metric(data.street_edges)
    assert 7 <= len(b) / len(g) <= 9
    holder = g.set_index("code").geometry.loc[b.grid_code].to_numpy()
    assert shapely.covered_by(b.geometry.to_numpy(), shapely.buffer(holder, 0.5)).all()
    near = shapely.STRtree(e.geometry.to_numpy()).query(
        b.geometry.to_numpy(), predicate="dwithin", distance=7.5)[0]
    assert len(near) == 0
    assert overlapping_pairs(b.geometry.to_numpy(), 0.0) == 0
    corners = shapely.get_coordinates(b.geometry.to_numpy()).reshape(-1, 5, 2)  # rectangles
    sides = np.sort(np.linalg.norm(np.diff(corners[:, :3], axis=1), axis=2), axis=1)
    assert sides[:, 0].min() > 9.5 and sides[:, 0].max() < 16.5
    assert sides[:, 1].min() > 29.5 and sides[:, 1].max() < 70.5


def test_population_attributes(data: DemoData) -> None:
    b = data.buildings
    assert (b.residents >= 1).all()
    assert (b.aged_80_plus <= b.aged_60_plus).all() and (b.aged_60_plus <= b.residents).all()
    assert (b.elderly_living_alone <= b.aged_60_plus).all()
    assert (b.households <= b.residents).all() and (b.households >= 1).all()
    assert b.residents.sum() == 700_000
    assert 0.22 < b.aged_60_plus.sum() / b.residents.sum() < 0.28
    assert 0.14 < b.aged_80_plus.sum() / b.aged_60_plus.sum() < 0.21
    assert b.residents.sum() / b.households.sum() == pytest.approx(2.6, abs=0.15)
    assert b.residents.std() > 10  # varies by building


def test_shenhe_facility_counts(data: DemoData) -> None:
    f = data.facilities
    assert set(f["type"]) <= FACILITY_TYPES and f.code.is_unique
    counts = f["type"].value_counts()
    assert counts["elder_care_station"] == 126
    assert counts["home_care_centre"] == 44
    assert counts["pocket_park"] == 100
    per_comm = f.groupby(["community_code", "type"]).size().unstack(fill_value=0)
    assert len(per_comm) == 111
    assert (per_comm["party_service_station"] == 1).all()
    assert (per_comm["mediation_point"] == 1).all()
    parks = f[f["type"] == "pocket_park"]
    assert parks.capacity.isna().all() and f[f["type"] == "elder_care_station"].capacity.gt(0).all()


def test_facilities_near_streets_off_buildings(data: DemoData) -> None:
    f, e, b, c = (metric(x) for x in (data.facilities, data.street_edges, data.buildings,
                                      data.communities))
    dist = shapely.STRtree(e.geometry.to_numpy()).query_nearest(
        f.geometry.to_numpy(), return_distance=True, all_matches=False)[1]
    assert dist.max() <= 30.0
    assert len(shapely.STRtree(b.geometry.to_numpy()).query(
        f.geometry.to_numpy(), predicate="intersects")[0]) == 0
    holder = c.set_index("code").geometry.loc[f.community_code].to_numpy()
    assert shapely.covered_by(f.geometry.to_numpy(), shapely.buffer(holder, 1.0)).all()


def test_street_graph(data: DemoData) -> None:
    n, e = data.street_nodes, metric(data.street_edges)
    assert n.node_id.is_unique and e.edge_id.is_unique
    assert set(e.source) | set(e.target) <= set(n.node_id)
    graph = nx.Graph()
    graph.add_nodes_from(n.node_id)
    graph.add_edges_from(zip(e.source, e.target, strict=True))
    assert nx.number_connected_components(graph) == 1
    assert np.abs(e.length.to_numpy() - e.length_m.to_numpy()).max() < 0.5
    xy = metric(n).set_index("node_id").geometry
    start = shapely.get_point(e.geometry.to_numpy(), 0)
    assert shapely.distance(start, xy.loc[e.source].to_numpy()).max() < 0.01
    assert set(e.kind) == {"arterial", "local"}
    assert (e.name[e.kind == "arterial"] != "").all()
    assert e.length_m.between(100, 400).mean() > 0.95  # 150–250 m blocks, jittered
    assert len(e) > 2000


def test_people_and_enrollments(data: DemoData) -> None:
    p, g = data.people.set_index("person_id"), data.grids
    assert data.people.person_id.is_unique
    assert data.people.phone.str.fullmatch(r"13\d{9}").all()
    assert data.people.name.str.len().between(2, 3).all()
    assert list(data.departments.code[:3]) == ["civil_affairs", "emergency", "housing"]
    assert len(data.departments) == 15 and data.departments.name_zh.iloc[-1] == "消防"
    gw = data.grid_workers
    assert sorted(gw.grid_code) == sorted(g.code) and gw.person_id.is_unique
    assert (p.role.loc[gw.person_id] == "grid_worker").all()
    roles = data.people.role.value_counts()
    assert roles["community_secretary"] == 111
    assert len(g) <= roles["party_household"] <= 2 * len(g)
    enr = data.enrollments
    assert len(enr) == 15 * len(g) and not enr.duplicated(["grid_code", "department_code"]).any()
    staff = p.loc[enr.person_id]
    assert (staff.role.to_numpy() == "department_staff").all()
    assert (staff.department_code.to_numpy() == enr.department_code.to_numpy()).all()
    assert (staff.community_code.to_numpy() == enr.grid_code.str[:12].to_numpy()).all()
    assert data.people.department_code[data.people.role != "department_staff"].isna().all()


def test_deterministic_and_independent_of_other_districts(data: DemoData) -> None:
    again = generate(districts=[SHENHE])
    assert all_hashes(again) == all_hashes(data)
    other = generate(districts=[SHENHE], seed=7)
    assert frame_hash(other.grids) != frame_hash(data.grids)
    both = generate(districts=[SHENHE, "210104"])
    assert len(both.grids) == 1439 + 1360
    mine = both.grids[both.grids.code.str.startswith(SHENHE)].reset_index(drop=True)
    assert frame_hash(mine) == frame_hash(data.grids)
    graph = nx.Graph()
    graph.add_edges_from(zip(both.street_edges.source, both.street_edges.target, strict=True))
    assert nx.number_connected_components(graph) == 1  # district networks are linked


def test_unknown_district_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(districts=["999999"])


def test_drawn_in_the_city_zone_so_street_lengths_are_true(data: DemoData) -> None:
    """The generator's plane is the zone nearest the city (EPSG:4550 for Shenyang, not 4549),
    and each stored street length is within 0.01 % of the geodesic length of its line."""
    assert metric_crs() == "EPSG:4550"
    edges = data.street_edges
    edges = edges[edges.length_m > 50]
    geod = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid (WGS84's differs by 0.1 mm)
    geodesic = np.array([geod.geometry_length(g) for g in edges.geometry])
    assert np.abs(edges.length_m.to_numpy() / geodesic - 1).max() < 1e-4
