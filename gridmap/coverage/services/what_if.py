"""What-if for walking coverage: what opening and closing facilities would do, computed on
request and never stored.

Only the neighbourhood of the edits is computed. A building's coverage can change only if an
edited facility (added, or removed; a move is both) is within the walking limit of it, since a
walk is never shorter than the straight line; those buildings lie within :func:`scene.reach_m`
of the edits' bounding box. They are computed before and after from the current data on the
streets and facilities a walk from them can reach (the shared bounded loading of
:mod:`gridmap.coverage.services.scene`). Every other building keeps its coverage, which is read
from the stored current run, so the totals are still those of every area of the level.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.access import Principal
from gridmap.coverage.repositories import audit as audit_repo
from gridmap.coverage.repositories import compute as coverage_repo
from gridmap.coverage.repositories import planning as planning_repo
from gridmap.coverage.services import readers
from gridmap.coverage.services import scene as scenes
from gridmap.coverage.services.compute import metric_srid
from gridmap.coverage.services.queries import resolve_run
from gridmap.crs import SRID
from gridmap.errors import InvalidInput

MAX_NEIGHBOURHOOD_ROWS = 60_000
"""Buildings plus street edges a what-if may load (memory follows them: see bench/whatif_bench.py);
edits spread so far apart that their neighbourhood holds more are refused."""

MAX_DRAWN = 2_000
"""Changed buildings whose footprints an answer carries for the map (those that lose cover
first); the counts always cover them all."""


@dataclass(frozen=True)
class AreaChange:
    """Coverage of one area before and after a what-if change."""

    code: str
    residents: int
    residents_covered_before: int
    residents_covered_after: int
    elderly: int
    elderly_covered_before: int
    elderly_covered_after: int


@dataclass(frozen=True)
class WhatIfReport:
    """Buildings whose coverage changes, and per-area totals before and after."""

    buildings_gained: int
    buildings_lost: int
    areas: list[AreaChange]
    names: dict[str, str] = field(default_factory=dict)
    """Names of the areas whose coverage changes."""
    drawn: list[dict[str, Any]] = field(default_factory=list)
    """GeoJSON features of at most :data:`MAX_DRAWN` changed buildings, ``change`` being
    ``"gained"`` or ``"lost"``."""

    @property
    def changed_buildings(self) -> int:
        """Buildings that became covered or uncovered."""
        return self.buildings_gained + self.buildings_lost


def what_if(session: Session, principal: Principal, facility_type: str, circle: str, *,
            add: Sequence[tuple[float, float]] = (), remove: Sequence[int | str] = (),
            level: codes.Level | str = codes.Level.DISTRICT, outlines: bool = True) -> WhatIfReport:
    """Coverage if facilities at ``add`` (WGS84 lon, lat) were opened and ``remove`` (facility
    ids, or codes) closed, per area of ``level`` within the principal's area (every area of
    the city for a city-wide principal); computed in memory, nothing stored.

    Needs the current run of the rule (404 naming the command otherwise): buildings out of the
    edits' reach keep the coverage it stored. Edits whose neighbourhood would hold more than
    :data:`MAX_NEIGHBOURHOOD_ROWS` buildings and streets are refused (400). Edits may lie
    anywhere (facilities are public); only the answer is kept to the principal's area.
    ``outlines``: also fetch the footprints of the changed buildings for the map (``drawn``).
    """
    area = readers.scope(principal) or ""
    width = codes.width(level)
    run = resolve_run(session, facility_type, circle)
    limit = scenes.rule_limit(session, facility_type, circle)
    added = scenes.lonlat_points(add)
    removed = _facility_ids(session, facility_type, remove)
    scene = _neighbourhood(session, facility_type, add, removed, limit=limit,
                           srid=metric_srid(session))
    if scene is None:  # nothing edited: nothing to recompute
        rest = coverage_repo.stored_area_totals(session, run.id, width=width, leave_out=[],
                                                area=area)
        return WhatIfReport(buildings_gained=0, buildings_lost=0,
                            areas=_combine(pd.DataFrame(columns=_SUMS), rest))
    b = scene.buildings
    inside = b["grid_code"].str.startswith(area).to_numpy()
    kept = scene.facilities[~scene.facilities["facility_id"].isin(removed)]
    changed = gpd.GeoSeries(pd.concat([kept.geometry, added], ignore_index=True),
                            crs=f"EPSG:{SRID}")
    before, after = scenes.covered(scene, scene.facilities), scenes.covered(scene, changed)
    near = pd.DataFrame({
        "code": b["grid_code"].str[:width], "residents": b["residents"], "elderly": b["elderly"],
        "residents_covered_before": b["residents"].where(before, 0),
        "residents_covered_after": b["residents"].where(after, 0),
        "elderly_covered_before": b["elderly"].where(before, 0),
        "elderly_covered_after": b["elderly"].where(after, 0)})[inside].groupby("code").sum()
    rest = coverage_repo.stored_area_totals(session, run.id, width=width,
                                            leave_out=b["building_id"].tolist(), area=area)
    areas = _combine(near, rest)
    gained = b["building_id"][inside & after & ~before].tolist()
    lost = b["building_id"][inside & before & ~after].tolist()
    return WhatIfReport(buildings_gained=len(gained), buildings_lost=len(lost), areas=areas,
                        names=planning_repo.area_names(
                            session, [a.code for a in areas if _changes(a)]),
                        drawn=_drawn(session, gained, lost) if outlines else [])


def _changes(area: AreaChange) -> bool:
    """Whether the edits change the area's covered residents or elderly."""
    return ((area.residents_covered_before, area.elderly_covered_before)
            != (area.residents_covered_after, area.elderly_covered_after))


def _drawn(session: Session, gained: Sequence[int], lost: Sequence[int]) -> list[dict[str, Any]]:
    """Footprints of the changed buildings for the map, losses first, at most MAX_DRAWN."""
    change = {int(i): "lost" for i in lost[:MAX_DRAWN]}
    for i in gained[:MAX_DRAWN - len(change)]:
        change[int(i)] = "gained"
    return [{"type": "Feature", "id": row["id"], "geometry": json.loads(row["geometry"]),
             "properties": {"change": change[row["id"]], "name": row["name"],
                            "grid_code": row["grid_code"]}}
            for row in planning_repo.building_outlines(session, list(change))]


def _neighbourhood(session: Session, facility_type: str, add: Sequence[tuple[float, float]],
                   removed: Sequence[int], *, limit: float, srid: int) -> scenes.Scene | None:
    """The buildings within reach of the edits, on the streets and facilities within reach of
    them; None when nothing is edited."""
    reach = scenes.reach_m(limit)
    inner = coverage_repo.edit_envelope(session, facility_type, add, removed,
                                        margin_m=reach, srid=srid)
    if inner is None:
        return None
    # The streets a scene loads lie within reach of the buildings, so within twice of the edits.
    outer = coverage_repo.edit_envelope(session, facility_type, add, removed,
                                        margin_m=2 * reach, srid=srid)
    assert outer is not None  # the same edits as ``inner``
    rows = coverage_repo.rows_within(session, buildings=inner, streets=outer)
    if rows > MAX_NEIGHBOURHOOD_ROWS:
        raise InvalidInput(
            f"修改的设施相距太远：受影响范围内有 {rows} 个楼院和路段，上限为 "
            f"{MAX_NEIGHBOURHOOD_ROWS}；请把相距较远的修改分成几次分析 (the edited facilities "
            f"are too far apart: the area they affect holds {rows} buildings and street "
            f"segments, at most {MAX_NEIGHBOURHOOD_ROWS}; analyse distant edits separately)")
    buildings = audit_repo.buildings(session, envelope=inner)
    return scenes.load(session, facility_type, limit=limit, srid=srid, buildings=buildings,
                       reach=scenes.reach_of(buildings, limit=limit, srid=srid) or outer)


_SUMS = [f.name for f in fields(AreaChange) if f.name != "code"]


def _combine(near: pd.DataFrame, rest: pd.DataFrame) -> list[AreaChange]:
    """Per-area totals: the recomputed neighbourhood plus the stored rest (unchanged by the
    edits, so its before and after are the same)."""
    stored = pd.DataFrame({
        "residents": rest["residents"], "elderly": rest["elderly"],
        "residents_covered_before": rest["residents_covered"],
        "residents_covered_after": rest["residents_covered"],
        "elderly_covered_before": rest["elderly_covered"],
        "elderly_covered_after": rest["elderly_covered"]}, index=rest.index)
    both = pd.concat([near[_SUMS], stored[_SUMS]]).groupby(level=0, sort=True).sum()
    return [AreaChange(code=str(code), **{k: int(row[k]) for k in _SUMS})
            for code, row in both.iterrows()]


def _facility_ids(session: Session, facility_type: str, given: Sequence[int | str]) -> list[int]:
    """Facility ids as given, codes (strings) turned into ids; InvalidInput for unknown ones."""
    ids = [v for v in given if isinstance(v, int)]
    wanted = [v for v in given if isinstance(v, str)]
    if wanted:
        found = coverage_repo.facility_ids_by_code(session, facility_type, wanted)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise InvalidInput(f"没有这些 {facility_type} 设施：{missing[:5]} (unknown facility codes)")
        ids += [found[c] for c in wanted]
    unknown = sorted(set(ids) - coverage_repo.known_facilities(session, facility_type, ids))
    if unknown:
        raise InvalidInput(f"没有这些 {facility_type} 设施: {unknown[:5]} (unknown facility ids)")
    return ids


def what_if_answer(report: WhatIfReport, level: codes.Level | str) -> dict[str, Any]:
    """The JSON answer of a what-if request: totals over every area, and the areas that change."""
    totals = {k: sum(getattr(a, k) for a in report.areas) for k in _SUMS}
    changed = [{**asdict(a), "name": report.names.get(a.code)}
               for a in report.areas if _changes(a)]
    return {"level": str(level), "totals": totals, "areas": changed,
            "buildings_gained": report.buildings_gained, "buildings_lost": report.buildings_lost,
            "changed_buildings": report.changed_buildings,
            "buildings": {"type": "FeatureCollection", "features": report.drawn,
                          "numberMatched": report.changed_buildings,
                          "numberReturned": len(report.drawn),
                          "truncated": len(report.drawn) < report.changed_buildings}}

