"""GB 50180-2018 audit: for each community or grid and each facility type the standard requires
in a life circle (``coverage_rule.required``), is the area covered?

An area is *covered* for a (type, circle) pair when at least ``min_share`` of its residents live
within the circle's walking distance of a facility of that type, read from the pair's current
stored run. A pair with no current run is "not_computed" (with the command that computes it); an
area without residents is "no_residents". Rows stream; CSV and GeoJSON writers stream too.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.coverage.repositories import audit as repo
from gridmap.coverage.services import readers
from gridmap.coverage.services.queries import compute_command
from gridmap.errors import InvalidInput
from gridmap.writers import csv_rows, feature, feature_collection

MIN_SHARE = 0.9
"""Default share of residents that must be within distance for an area to count as covered."""

COLUMNS = ["level", "code", "name", "facility_type", "circle", "status", "residents",
           "residents_covered", "residents_share", "elderly", "elderly_covered", "run_id",
           "command"]


LEVELS = repo.LEVELS
"""Levels an audit can be run at (community, grid)."""


def rows(session: Session, principal: Principal, *,
         level: codes.Level | str = codes.Level.COMMUNITY, prefix: str = "",
         min_share: float = MIN_SHARE, with_geometry: bool = False) -> Iterator[dict[str, Any]]:
    """Audit rows, one per area of ``level`` ('community' or 'grid') and required pair.

    Everything is checked before the first row, so a refusal is never a broken stream.

    Parameters
    ----------
    session : Session
        Reads stored current runs only.
    principal : Principal
        Who reads: the rows stay inside their area (:mod:`.readers`).
    level : {'community', 'grid'}
        Areas to audit.
    prefix : str, default ''
        Keep areas within this district, sub-district, community or grid code ('' = the
        principal's whole area); outside the principal's area: Forbidden.
    min_share : float, default 0.9
        Share of residents within distance for 'covered' (0 < min_share <= 1).
    with_geometry : bool, default False
        Add the area's GeoJSON geometry (a string) as ``geometry``.

    Yields
    ------
    dict
        The keys of :data:`COLUMNS` (plus ``geometry``); ``status`` is one of 'covered', 'gap',
        'no_residents', 'not_computed'.
    """
    lvl, area = _checked(principal, level, prefix, min_share)
    found = repo.audit_rows(session, level=lvl, prefix=area, with_geometry=with_geometry)
    return _judged(found, lvl, min_share, with_geometry=with_geometry)


def export(factory: sessionmaker[Session], principal: Principal, *, level: codes.Level | str,
           prefix: str, min_share: float, geojson: bool) -> Iterator[str]:
    """The audit as CSV (UTF-8 with BOM) or, with ``geojson``, as GeoJSON text: checked now,
    streamed later from a session of its own that lives as long as the stream."""
    lvl, area = _checked(principal, level, prefix, min_share)
    return _export(factory, lvl, area, min_share, geojson=geojson)


def _export(factory: sessionmaker[Session], level: codes.Level, area: str, min_share: float, *,
            geojson: bool) -> Iterator[str]:
    with factory() as session:
        found = _judged(repo.audit_rows(session, level=level, prefix=area, with_geometry=geojson),
                        level, min_share, with_geometry=geojson)
        yield from (to_geojson(found) if geojson else to_csv(found))


def _checked(principal: Principal, level: codes.Level | str, prefix: str,
             min_share: float) -> tuple[codes.Level, str]:
    """The level and the area code prefix ('' = the city) an audit request may read."""
    lvl = codes.parse_level(level, allowed=LEVELS)
    check_share(min_share)
    if prefix:
        codes.parse_area(prefix, allowed=codes.LEVELS)
    return lvl, readers.area(principal, prefix) or ""


def _judged(found: Generator[dict[str, Any], None, None], level: codes.Level,
            min_share: float, *, with_geometry: bool) -> Iterator[dict[str, Any]]:
    try:
        for raw in found:
            yield _judge(raw, level, min_share, with_geometry=with_geometry)
    finally:  # a consumer that stops early releases the server-side cursor at once
        found.close()


def check_share(min_share: float) -> float:
    """``min_share`` if it lies in (0, 1]; InvalidInput otherwise."""
    if not 0 < min_share <= 1:
        raise InvalidInput("min_share 须在 (0, 1] 之间 (min_share must be in (0, 1])")
    return min_share


def _judge(raw: dict[str, Any], level: codes.Level, min_share: float, *,
           with_geometry: bool) -> dict[str, Any]:
    """Turn one stored row into an audit row with its status."""
    residents = raw["residents"]
    covered = raw["residents_covered"]
    share = None if not residents else covered / residents
    if raw["run_id"] is None:
        status = "not_computed"
    elif not residents:
        status = "no_residents"
    else:
        status = "covered" if share is not None and share >= min_share else "gap"
    command = (compute_command(raw["facility_type"], raw["circle"])
               if status == "not_computed" else None)
    row = {"level": str(level), "code": raw["code"], "name": raw["name"],
           "facility_type": raw["facility_type"], "circle": raw["circle"], "status": status,
           "residents": residents or 0, "residents_covered": covered or 0,
           "residents_share": None if share is None else round(share, 4),
           "elderly": raw["elderly"] or 0, "elderly_covered": raw["elderly_covered"] or 0,
           "run_id": raw["run_id"], "command": command}
    if with_geometry:
        row["geometry"] = raw["geometry"]
    return row


def missing_runs(session: Session) -> list[dict[str, str]]:
    """The required pairs with no current run: type, circle and the command that computes one
    (the pages start a background job instead)."""
    return [{"facility_type": t, "circle": c, "command": compute_command(t, c)}
            for t, c, run in repo.required_pairs(session) if run is None]


def to_csv(audit: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Stream audit rows as CSV text (UTF-8 with BOM, header first)."""
    return csv_rows(COLUMNS, audit)


def to_geojson(audit: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Stream audit rows (fetched ``with_geometry=True``) as an RFC 7946 FeatureCollection."""
    return feature_collection(feature(geometry=row.get("geometry"),
                                      properties={k: row[k] for k in COLUMNS}) for row in audit)


def required_pairs(session: Session) -> list[dict[str, str]]:
    """Every (facility type, circle) pair the standard requires, for the audit page's columns."""
    return [{"type": t, "circle": c} for t, c, _ in repo.required_pairs(session)]
