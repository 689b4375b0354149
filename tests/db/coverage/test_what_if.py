"""What-if computes only the neighbourhood of the edits, and answers exactly as the whole city would.

The oracle below is the computation what-if did before it was bounded: every street, building
and facility loaded, coverage before and after for every building.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.analysis import network
from gridmap.coverage.repositories import audit as audit_repo
from gridmap.coverage.repositories import compute as compute_repo
from gridmap.coverage.services import compute as coverage
from gridmap.coverage.services import scene as scenes
from gridmap.coverage.services import what_if
from gridmap.coverage.services.readers import OPERATOR
from gridmap.crs import SRID
from gridmap.errors import InvalidInput, NotFound

TYPE, CIRCLE = "elder_care_station", "15min"
LEVELS = ("district", "community", "grid")


def _whole_city(session: Session, add: Sequence[tuple[float, float]], remove: Sequence[int],
                level: str) -> what_if.WhatIfReport:
    """What-if on the whole city, as it was computed before it was bounded."""
    limit = float((compute_repo.rule(session, TYPE, CIRCLE) or {})["max_distance_m"])
    graph = network.build_graph(compute_repo.street_nodes(session),
                                compute_repo.street_edges(session),
                                crs=coverage.metric_crs(session))
    b = audit_repo.buildings(session)
    origins = network.snap(graph, b, max_snap_m=coverage.MAX_SNAP_M)
    facilities = compute_repo.facilities(session, TYPE)

    def covered(points: gpd.GeoSeries) -> Any:
        sources = network.snap(graph, points, max_snap_m=coverage.MAX_SNAP_M)
        return network.nearest_facility(graph, origins=origins, facilities=sources,
                                        max_distance_m=limit).covered(limit)

    kept = facilities[~facilities["facility_id"].isin(list(remove))].geometry
    before = covered(facilities.geometry)
    after = covered(gpd.GeoSeries(pd.concat([kept, scenes.lonlat_points(add)],
                                            ignore_index=True), crs=f"EPSG:{SRID}"))
    frame = pd.DataFrame({
        "code": b["grid_code"].str[:codes.width(level)], "residents": b["residents"],
        "elderly": b["elderly"],
        "residents_covered_before": b["residents"].where(before, 0),
        "residents_covered_after": b["residents"].where(after, 0),
        "elderly_covered_before": b["elderly"].where(before, 0),
        "elderly_covered_after": b["elderly"].where(after, 0)})
    areas = [what_if.AreaChange(code=str(code), **{k: int(v) for k, v in row.items()})
             for code, row in frame.groupby("code", sort=True).sum().iterrows()]
    gained, lost = b["building_id"][after & ~before], b["building_id"][before & ~after]
    changed = [a.code for a in areas
               if (a.residents_covered_before, a.elderly_covered_before)
               != (a.residents_covered_after, a.elderly_covered_after)]
    table = {"district": "district", "community": "community", "grid": "grid"}[level]
    names = dict(session.execute(text(f"SELECT code, name FROM {table} "  # noqa: S608 - fixed
                                      "WHERE code = ANY(:c)"), {"c": changed}).all())
    assert len(gained) + len(lost) <= what_if.MAX_DRAWN  # every changed building is drawn
    drawn = [{"id": int(i), "properties": {"change": change}}
             for change, ids in (("gained", gained), ("lost", lost)) for i in ids]
    return what_if.WhatIfReport(buildings_gained=len(gained), buildings_lost=len(lost),
                                areas=areas, names=names, drawn=drawn)


def _same(report: what_if.WhatIfReport, expected: what_if.WhatIfReport) -> None:
    """Equal figures and names, and the same buildings drawn with the same change."""
    assert (report.buildings_gained, report.buildings_lost, report.areas, report.names) == \
        (expected.buildings_gained, expected.buildings_lost, expected.areas, expected.names)
    assert sorted((f["id"], f["properties"]["change"]) for f in report.drawn) == \
        sorted((f["id"], f["properties"]["change"]) for f in expected.drawn)


@pytest.fixture
def run(factory: sessionmaker[Session]) -> int:
    """The stored run the buildings out of the edits' reach are read from."""
    return coverage.compute(factory, TYPE, CIRCLE).run_id


def _stations(session: Session, prefix: str = "") -> list[tuple[int, float, float]]:
    """(id, lon, lat) of the stations of communities starting with ``prefix``, by id."""
    rows = session.execute(text(
        "SELECT id, ST_X(geom), ST_Y(geom) FROM facility WHERE type = :t "
        "AND coalesce(community_code, '') LIKE :p ORDER BY id"), {"t": TYPE, "p": prefix + "%"})
    return [(int(i), float(x), float(y)) for i, x, y in rows]


def _uncovered(session: Session) -> list[tuple[int, float, float]]:
    """(elderly, lon, lat) of the buildings the stored run leaves uncovered, by id."""
    rows = session.execute(text(
        "SELECT b.aged_60_plus, ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom)) "
        "FROM building b JOIN coverage_building cb ON cb.building_id = b.id AND NOT cb.covered "
        "JOIN coverage_run r ON r.id = cb.run_id AND r.current AND r.facility_type = :t "
        "AND r.circle = :c ORDER BY b.id"), {"t": TYPE, "c": CIRCLE})
    return [(int(e), float(x), float(y)) for e, x, y in rows]


def _edits(session: Session) -> dict[str, tuple[list[tuple[float, float]], list[int]]]:
    """Adds, a move, removals (one that leaves buildings uncovered) and edits at the edge."""
    stations = _stations(session)
    uncovered = _uncovered(session)
    needy = [(x, y) for _, x, y in sorted(uncovered, key=lambda u: -u[0])[:3]]
    eastmost = max(uncovered, key=lambda u: u[1])
    east = max(stations, key=lambda s: s[1])
    sub = session.execute(text("SELECT min(code) FROM subdistrict")).scalar_one()
    cluster = [s[0] for s in _stations(session, sub)]
    return {
        "add": (needy[:2], []),
        "move": (needy[2:], [stations[0][0]]),
        "remove": ([], [stations[1][0], stations[2][0]]),
        "remove a sub-district's stations": ([], cluster),
        "at the territory's edge": ([eastmost[1:]], [east[0]]),
    }


@pytest.mark.parametrize("level", LEVELS)
def test_bounded_what_if_equals_the_whole_city(db_session: Session, run: int, level: str) -> None:
    changed = {}
    for name, (add, remove) in _edits(db_session).items():
        report = what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, add=add, remove=remove, level=level)
        _same(report, _whole_city(db_session, add, remove, level))
        changed[name] = report.changed_buildings
    # Two overlapping stations may go unmissed; every other case changes something.
    assert all(n > 0 for name, n in changed.items() if name != "remove"), changed
    cluster = _edits(db_session)["remove a sub-district's stations"]
    left = what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, remove=cluster[1], level=level)
    assert left.buildings_lost > 0 and any(
        a.elderly_covered_after < a.elderly_covered_before for a in left.areas)


def test_only_the_neighbourhood_of_the_edits_is_loaded(
        db_session: Session, run: int, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[tuple[int, int]] = []
    real_load = scenes.load

    def spy(*args: Any, **kwargs: Any) -> scenes.Scene:
        scene = real_load(*args, **kwargs)
        loaded.append((len(scene.buildings), scene.graph.n_edges))
        return scene

    monkeypatch.setattr(scenes, "load", spy)
    what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, add=_edits(db_session)["add"][0][:1])
    buildings, edges = db_session.execute(text(
        "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM street_edge)")).one()
    assert len(loaded) == 1
    assert 0 < loaded[0][0] < buildings / 4 and 0 < loaded[0][1] < edges / 2
    what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE)
    assert len(loaded) == 1  # no edit: nothing loaded, everything read from the stored run


def test_buildings_out_of_reach_keep_the_stored_coverage(db_session: Session, run: int) -> None:
    add, remove = _edits(db_session)["move"]
    honest = what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, add=add, remove=remove)
    # Mark one far-away covered building uncovered in the run: the totals must follow the run.
    far = db_session.execute(text(
        "SELECT b.id, b.residents FROM building b JOIN coverage_building cb "
        "ON cb.building_id = b.id AND cb.run_id = :r AND cb.covered AND b.residents > 0 "
        "ORDER BY ST_Distance(b.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) DESC LIMIT 1"),
        {"r": run, "x": add[0][0], "y": add[0][1]}).one()
    db_session.execute(text("UPDATE coverage_building SET covered = false "
                            "WHERE run_id = :r AND building_id = :b"), {"r": run, "b": far[0]})
    stale = what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, add=add, remove=remove)

    def total(report: what_if.WhatIfReport, key: str) -> int:
        return sum(getattr(a, key) for a in report.areas)

    for key in ("residents_covered_before", "residents_covered_after"):
        assert total(stale, key) == total(honest, key) - far[1]
    assert stale.changed_buildings == honest.changed_buildings


def test_edits_too_far_apart_are_refused(db_session: Session, run: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    stations = _stations(db_session)
    west, east = min(stations, key=lambda s: s[1]), max(stations, key=lambda s: s[1])
    near = what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, remove=[west[0]])
    needed = db_session.execute(text("SELECT count(*) FROM street_edge")).scalar_one()
    monkeypatch.setattr(what_if, "MAX_NEIGHBOURHOOD_ROWS", needed // 2)
    assert what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, remove=[west[0]]) == near
    with pytest.raises(InvalidInput) as refused:
        what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, remove=[west[0], east[0]])
    assert "相距太远" in str(refused.value) and "too far apart" in str(refused.value)


def test_what_if_needs_the_stored_run(db_session: Session) -> None:
    db_session.execute(text("UPDATE coverage_run SET current = false"))
    with pytest.raises(NotFound) as missing:
        what_if.what_if(db_session, OPERATOR, TYPE, CIRCLE, add=[(123.45, 41.79)])
    assert "gridmap coverage compute --type elder_care_station --circle 15min" in str(missing.value)
