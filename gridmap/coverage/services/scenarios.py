"""Saved what-if scenarios: a planner keeps a what-if, lists, compares and exports them.

Saving computes the what-if again on the server (:func:`what_if.what_if`; figures a page sends
are never trusted) and stores the request and every area of the level before and after, so a
scenario reads back exactly as it was computed. Scenarios are for planners only: each sees
their own and those saved inside their area (a district planner does not see a city-wide
scenario, which holds other districts' figures); any other is a 404, never a hint it exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.coverage.repositories import planning as planning_repo
from gridmap.coverage.repositories import queries as coverage_repo
from gridmap.coverage.repositories import scenarios as repo
from gridmap.coverage.services import readers
from gridmap.coverage.services import what_if as whatif
from gridmap.coverage.services.queries import resolve_run
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.writers import csv_rows, dumps, feature

NAME_CHARS, NOTE_CHARS = 80, 2000
"""A scenario's name and note, at most (the form shows the same limits)."""
COMPARE = (2, 3)
"""Scenarios compared side by side: at least, at most."""
SUMS = ("residents", "residents_covered_before", "residents_covered_after", "elderly",
        "elderly_covered_before", "elderly_covered_after")
CSV_COLUMNS = ["kind", "code", "name", "residents", "residents_covered_before",
               "residents_covered_after", "residents_change", "elderly",
               "elderly_covered_before", "elderly_covered_after", "elderly_change", "lon", "lat"]
"""Columns of a scenario's CSV: one row for the totals, one per area, one per site."""


def _missing(scenario_id: int) -> NotFound:
    return NotFound(f"没有编号为 {scenario_id} 的方案，或您无权查看 "
                    f"(no scenario {scenario_id} that you may see)")


def save(factory: sessionmaker[Session], planner: Principal, *, facility_type: str,
         circle: str, level: codes.Level, add: Sequence[tuple[float, float]],
         remove: Sequence[int | str], name: str, note: str) -> int:
    """Compute the what-if and store it as a scenario of ``planner`` (who holds the planning
    lock), in one transaction; its id."""
    with unit_of_work(factory) as session:
        return _save(session, planner, facility_type=facility_type, circle=circle, level=level,
                     add=add, remove=remove, name=name, note=note)


def _save(session: Session, planner: Principal, *, facility_type: str, circle: str,
          level: codes.Level, add: Sequence[tuple[float, float]], remove: Sequence[int | str],
          name: str, note: str) -> int:
    run = resolve_run(session, facility_type, circle)
    report = whatif.what_if(session, planner, facility_type, circle, add=add, remove=remove,
                            level=level, outlines=False)
    removed_ids = _ids(session, facility_type, remove)
    areas = [asdict(a) for a in report.areas]
    names = planning_repo.area_names(session, [a["code"] for a in areas])
    for a in areas:
        a["name"] = names.get(a["code"], "")
    answer = whatif.what_if_answer(report, level)
    account_id = planner.account_id
    assert account_id is not None  # a planner always has an account (readers.ensure_planner)
    return repo.insert(session, {
        "name": name, "note": note, "owner_id": account_id,
        "owner_name": planner.name or planner.username, "area_code": readers.scope(planner),
        "facility_type": facility_type, "circle": circle, "level": str(level),
        "run_id": run.id, "run_computed_at": repo.run_computed_at(session, run.id),
        "added": [[lon, lat] for lon, lat in add],
        "removed": repo.facility_places(session, facility_type, removed_ids),
        "result": {"totals": answer["totals"], "buildings_gained": report.buildings_gained,
                   "buildings_lost": report.buildings_lost,
                   "changed_buildings": report.changed_buildings, "areas": areas}})


def _ids(session: Session, facility_type: str, given: Sequence[int | str]) -> list[int]:
    """Facility ids as given, codes turned into ids (the what-if has checked they exist)."""
    by_code = repo.facility_ids(session, facility_type, [v for v in given if isinstance(v, str)])
    out: list[int] = []
    for v in given:
        i = v if isinstance(v, int) else by_code[v]
        if i not in out:
            out.append(i)
    return out


def _shown(row: dict[str, Any], planner: Principal, type_names: dict[str, str]) -> dict[str, Any]:
    """A stored row as the API shows it."""
    return {"id": row["id"], "name": row["name"], "note": row["note"],
            "owner": row["owner_name"], "mine": row["owner_id"] == planner.account_id,
            "area_code": row["area_code"], "created_at": row["created_at"].isoformat(),
            "facility_type": row["facility_type"],
            "facility_type_name": type_names.get(row["facility_type"], row["facility_type"]),
            "circle": row["circle"], "level": row["level"],
            "run": {"id": row["run_id"], "computed_at": row["run_computed_at"].isoformat(),
                    "newer_exists": bool(row["newer_run"])},
            "add": row["added"], "remove": row["removed"], "result": row["result"]}


def _read(session: Session, principal: Principal, ids: Sequence[int] | None,
          lang: str) -> list[dict[str, Any]]:
    planner = readers.ensure_planner(principal)
    account_id = planner.account_id
    assert account_id is not None
    rows = repo.visible(session, me=account_id, area=readers.scope(planner), ids=ids)
    names = {t["code"]: t["name"] for t in coverage_repo.facility_types(session, lang=lang)}
    return [_shown(r, planner, names) for r in rows]


def listing(session: Session, principal: Principal, *, lang: str) -> list[dict[str, Any]]:
    """The scenarios the planner may see, newest first, without their per-area rows."""
    out = []
    for s in _read(session, principal, None, lang):
        result = {k: v for k, v in s["result"].items() if k != "areas"}
        out.append({**s, "result": result})
    return out


def one(session: Session, principal: Principal, scenario_id: int, *,
        lang: str) -> dict[str, Any]:
    """One scenario the planner may see (404 otherwise), with every area before and after."""
    found = _read(session, principal, [scenario_id], lang)
    if not found:
        raise _missing(scenario_id)
    return found[0]


def delete(factory: sessionmaker[Session], principal: Principal, scenario_id: int) -> None:
    """Delete a scenario: its owner only (403 for another planner who sees it, 404 otherwise)."""
    with unit_of_work(factory) as session:
        scenario = one(session, principal, scenario_id, lang="zh")
        if not scenario["mine"]:
            raise Forbidden("只有方案的保存人可以删除它 (only the planner who saved a scenario "
                            "may delete it)")
        repo.delete(session, scenario_id)


def compare(session: Session, principal: Principal, ids: Sequence[int], *,
            lang: str) -> dict[str, Any]:
    """2–3 scenarios side by side: each in full, and one row per area that any of them changes
    with each scenario's figures (None where a scenario has no such area)."""
    found = {s["id"]: s for s in _read(session, principal, ids, lang)}
    for i in ids:
        if i not in found:
            raise _missing(i)
    scenarios = [found[i] for i in ids]
    rows: dict[str, dict[str, Any]] = {}
    for n, s in enumerate(scenarios):
        for a in s["result"]["areas"]:
            row = rows.setdefault(a["code"], {"code": a["code"], "name": a.get("name", ""),
                                              "values": [None] * len(scenarios)})
            row["values"][n] = {k: a[k] for k in SUMS}
    changed = [r for r in rows.values() if any(v is not None and _changes(v)
                                                 for v in r["values"])]
    for r in changed:
        r["marks"] = _marks([_gain(v, "elderly") if v else None for v in r["values"]])
    return {"scenarios": scenarios, "areas": sorted(changed, key=lambda r: r["code"]),
            "summary": _summary(scenarios),
            "same_rule": len({(s["facility_type"], s["circle"], s["level"])
                              for s in scenarios}) == 1}


def _gain(values: dict[str, int], group: str) -> int:
    return values[f"{group}_covered_after"] - values[f"{group}_covered_before"]


def _marks(values: Sequence[int | None], *, best: str = "max") -> dict[str, Any]:
    """Whether a row's ``values`` (one per scenario) differ, and which of them is best."""
    known = [v for v in values if v is not None]
    differs = len(set(values)) > 1
    top = (max(known) if best == "max" else min(known)) if known else None
    return {"differs": differs, "best": [differs and v == top for v in values]}


def _summary(scenarios: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The compared figures, one row per figure (``key``), with each scenario's totals."""
    totals = [s["result"]["totals"] for s in scenarios]
    results = [s["result"] for s in scenarios]
    return [
        {"key": "residents", "totals": totals,
         **_marks([_gain(t, "residents") for t in totals])},
        {"key": "elderly", "totals": totals, **_marks([_gain(t, "elderly") for t in totals])},
        {"key": "buildings_gained", "values": [r["buildings_gained"] for r in results],
         **_marks([r["buildings_gained"] for r in results])},
        {"key": "buildings_lost", "values": [r["buildings_lost"] for r in results],
         **_marks([r["buildings_lost"] for r in results], best="min")}]


def _changes(values: dict[str, int]) -> bool:
    return (values["residents_covered_before"] != values["residents_covered_after"]
            or values["elderly_covered_before"] != values["elderly_covered_after"])


def _csv_row(kind: str, code: str, name: str, v: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "code": code, "name": name, **{k: v[k] for k in SUMS},
            "residents_change": v["residents_covered_after"] - v["residents_covered_before"],
            "elderly_change": v["elderly_covered_after"] - v["elderly_covered_before"]}


def export_csv(scenario: dict[str, Any]) -> Iterator[str]:
    """A scenario as CSV (UTF-8 with BOM): the totals, every area, the added and removed sites."""
    result = scenario["result"]
    rows = [_csv_row("total", "", scenario["name"], result["totals"])]
    rows += [_csv_row("area", a["code"], a.get("name", ""), a) for a in result["areas"]]
    rows += [{"kind": "added", "lon": lon, "lat": lat} for lon, lat in scenario["add"]]
    rows += [{"kind": "removed", "code": f["code"], "name": f["name"], "lon": f["lon"],
              "lat": f["lat"]} for f in scenario["remove"]]
    return csv_rows(CSV_COLUMNS, rows)


def export_geojson(scenario: dict[str, Any], shapes: dict[str, str]) -> Iterator[str]:
    """A scenario as a GeoJSON FeatureCollection: its areas (polygons from ``shapes``, code to
    GeoJSON text) with their figures, then the added and removed sites as points; the
    scenario's request and totals in a ``scenario`` member."""
    meta = {k: v for k, v in scenario.items() if k not in ("result", "add", "remove")}
    meta["totals"] = scenario["result"]["totals"]
    features = [feature(geometry=shapes.get(a["code"]), properties=_csv_row(
        "area", a["code"], a.get("name", ""), a)) for a in scenario["result"]["areas"]]
    features += [feature(geometry={"type": "Point", "coordinates": p},
                         properties={"kind": "added"}) for p in scenario["add"]]
    features += [feature(geometry={"type": "Point", "coordinates": [f["lon"], f["lat"]]},
                         properties={"kind": "removed", "id": f["id"], "code": f["code"],
                                     "name": f["name"]}) for f in scenario["remove"]]
    yield '{"type":"FeatureCollection","scenario":' + dumps(meta) + ',"features":['
    yield ",".join(features)
    yield "]}"


def area_shapes(session: Session, scenario: dict[str, Any]) -> dict[str, str]:
    """The outlines (GeoJSON text, WGS84) of a scenario's areas, by code."""
    return repo.area_shapes(session, scenario["level"],
                            [a["code"] for a in scenario["result"]["areas"]])


def check_name(name: str) -> str:
    """A scenario's name, stripped; 400 when empty."""
    name = name.strip()
    if not name:
        raise InvalidInput("请填写方案名称 (give the scenario a name)")
    return name
