"""Import one layer from a file: read, map, georeference, check, show the difference, write.

Everything happens in one transaction: the checks that need the loaded data run on the staged
features, and a refused import (any error in the report), a dry run or a failure leaves the
database exactly as it was. Data officers and administrators import; the command line acts as
the operator at the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.errors import DataRejected, InvalidInput
from gridmap.exchange import georef, mapping, reading, validation
from gridmap.exchange.layers import LAYERS, LayerSpec
from gridmap.exchange.report import Problem, Severity, errors, summary
from gridmap.exchange.repositories import staging as repo
from gridmap.exchange.rules import EXCHANGERS, TOLERANCE_M2, ensure_exchanger

IMPORTERS = EXCHANGERS
"""Roles that import a city's data."""
DATUM_SAMPLE = 1000

Progress = Callable[[float, str], None]
Reader = Callable[["Options"], reading.Source]
"""How an import gets its features: a file through GDAL, or an OpenStreetMap extract (see
:mod:`gridmap.exchange.services.osm_layers`)."""


@dataclass(frozen=True)
class Options:
    """What to import and how."""

    layer: str
    path: Path
    mapping: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    repair: bool = False
    mode: Literal["upsert", "replace"] = "upsert"
    whole_layer: bool = False
    """With ``replace``: remove what the file lacks from the whole layer, not only its area."""
    dry_run: bool = False
    tolerance_m2: float = TOLERANCE_M2
    source: str = ""
    """Where the data comes from, as the data officer states it (e.g. 沈河区城管局 2026-10)."""
    licence: str = ""


@dataclass
class Outcome:
    """What an import found and did."""

    layer: str
    file: str
    crs: str
    mapping: dict[str, str]
    features: int
    problems: list[Problem]
    columns: list[str] = field(default_factory=list)
    """The file's columns (for a page that lets the mapping be changed)."""
    changes: dict[str, Any] = field(default_factory=dict)
    written: bool = False
    import_id: int | None = None

    def public(self) -> dict[str, Any]:
        """As JSON (the changes' codes included, the problems counted)."""
        return {"layer": self.layer, "file": self.file, "crs": self.crs,
                "mapping": self.mapping, "columns": self.columns, "features": self.features,
                "changes": {k: v for k, v in self.changes.items() if k != "removed_all"},
                "problems": summary(self.problems), "written": self.written,
                "import_id": self.import_id}


class ImportRejected(DataRejected):
    """The file has errors (HTTP 422); :attr:`outcome` holds the whole report."""

    def __init__(self, message: str, outcome: Outcome) -> None:
        super().__init__(message)
        self.outcome = outcome


class _DryRun(Exception):
    """Ends a dry run's transaction (rolled back)."""


ensure_importer = ensure_exchanger
"""401 for the public, 403 for a role that does not import."""


def spec_of(layer: str) -> LayerSpec:
    """The layer called ``layer``; InvalidInput naming the choices otherwise."""
    if layer not in LAYERS:
        raise InvalidInput(f"未知图层 {layer[:40]!r}，可选：{', '.join(LAYERS)} "
                           f"(unknown layer; choose one of {', '.join(LAYERS)})")
    return LAYERS[layer]


def read_file(options: Options) -> reading.Source:
    """The file's features as GDAL reads them (the usual reader)."""
    return reading.read(options.path, layer=options.source_layer, encoding=options.encoding)


def run(factory: sessionmaker[Session], principal: Principal, options: Options,
        progress: Progress = lambda fraction, line: None, *,
        read: Reader = read_file) -> Outcome:
    """Import as ``options`` say; the outcome (``written`` False for a dry run).

    Raises
    ------
    ImportRejected
        When the report holds an error: nothing is written.
    InvalidInput
        When the file cannot be read or mapped at all.
    """
    ensure_importer(principal)
    spec = spec_of(options.layer)
    progress(0.02, "读取文件 (reading the file)")
    source = read(options)
    columns = [str(c) for c in source.frame.columns if c != source.frame.geometry.name]
    given = dict(options.mapping)
    if options.source:  # the last import from the same source named its columns: again
        with factory() as session:
            last = repo.remembered_mapping(session, spec.name, options.source)
        given = {**{k: v for k, v in last.items() if v in columns and k in spec.names}, **given}
    chosen = mapping.resolve(spec, columns, given)
    frame, problems = mapping.convert(spec, source.frame, chosen)
    problems += [Problem(None, "", "file", "gdal_warning", f"GDAL：{w}", f"GDAL: {w}",
                         Severity.NOTE) for w in source.gdal_warnings]
    problems += source.notes
    if source.assumed_wgs84 and not options.crs:
        problems.append(Problem(None, "", "file", "crs_assumed",
                                "CSV 未声明坐标系，经纬度按 WGS84 读取（可用 --crs 指定）",
                                "the CSV declares no CRS: its longitude/latitude are read as "
                                "WGS84 (--crs says otherwise)", Severity.NOTE))
    gref = georef.resolve(options.crs, source.crs, options.path.name)
    outcome = Outcome(spec.name, options.path.name, gref.label, chosen, len(frame), problems,
                      columns)
    raw = np.asarray(frame.geometry.values, dtype=object)
    problems += georef.coordinate_problems(raw, gref)
    if errors(problems):
        raise _rejected(outcome)
    lonlat = georef.apparent_lonlat(raw, gref)
    session = factory()
    try:
        with session.begin():
            progress(0.2, "核对坐标系 (checking the datum)")
            problems += _datum(session, spec, frame["code"].tolist(), lonlat, gref)
            frame = frame.set_geometry(
                georef.to_wgs84(lonlat, gref.datum), crs="EPSG:4326")
            if errors(problems):
                raise _rejected(outcome)
            progress(0.35, "逐个检查要素 (checking the features)")
            rules = validation.Rules(repair=options.repair, extent=repo.city_extent(session),
                                     facility_types=repo.facility_types(session))
            frame, found = validation.check(spec, frame, rules)
            problems += found
            progress(0.55, "与已有数据核对 (checking against the loaded data)")
            repo.create_stage(session, spec, frame)
            problems += _context(session, spec, options)
            if errors(problems):
                raise _rejected(outcome)
            replace = options.mode == "replace"
            outcome.changes = repo.difference(session, spec, replace=replace,
                                              whole_layer=options.whole_layer)
            problems += [Problem(None, code, "code", "still_referred_to",
                                 f"{spec.label_zh} {code} 不在文件中，但{zh}，无法删除",
                                 f"{spec.label_en} {code} is not in the file but {en}: it cannot "
                                 "be removed", Severity.ERROR)
                         for code, zh, en in repo.removal_blockers(
                             session, spec, outcome.changes["removed_all"])]
            if errors(problems):
                raise _rejected(outcome)
            if options.dry_run:
                raise _DryRun
            progress(0.75, "写入 (writing)")
            _write(session, spec, options, outcome)
            outcome.import_id = repo.record(
                session, layer=spec.name, file_name=options.path.name, source=options.source,
                licence=options.licence, crs=gref.label, mode=options.mode,
                scope="layer" if options.whole_layer else "area", mapping=chosen,
                imported_by=principal.username or "cli", account_id=principal.account_id,
                counts={k: v for k, v in outcome.changes.items()
                        if k in ("added", "changed", "unchanged", "removed")},
                problems=summary(problems))
            repo.drop_stage(session)
            outcome.written = True
    except _DryRun:
        pass
    finally:
        session.close()
    progress(1.0, "完成 (done)")
    return outcome


def _rejected(outcome: Outcome) -> ImportRejected:
    found = errors(outcome.problems)
    first = found[0]
    where = f"第 {first.row} 行 " if first.row else ""
    return ImportRejected(
        f"{outcome.file}：发现 {len(found)} 个错误，未写入任何数据；首个：{where}{first.zh} "
        f"({len(found)} error(s), nothing written; first: "
        f"{f'row {first.row}: ' if first.row else ''}{first.en})", outcome)


def _datum(session: Session, spec: LayerSpec, codes: list[Any], lonlat: np.ndarray,
           gref: georef.Georef) -> list[Problem]:
    """The datum check against the strongest evidence loaded (see :class:`georef.Basis`)."""
    present = np.array([g is not None and not g.is_empty for g in lonlat])
    if not present.any():
        return []
    keys = [str(c) if c is not None else "" for c in codes]
    idx = np.flatnonzero(present)
    if len(idx) > DATUM_SAMPLE:
        idx = np.random.default_rng(0).choice(idx, DATUM_SAMPLE, replace=False)
    points = shapely.get_coordinates(shapely.point_on_surface(lonlat[idx]))
    sample_codes = [keys[i] for i in idx]
    hypotheses = georef.hypotheses(points)
    bases = [georef.Basis.SAME_CODE]
    if spec.level is not None and spec.level.value != "district":
        bases.append(georef.Basis.PARENT)
    if repo.has_rows(session, "street_edge"):
        bases.append(georef.Basis.STREETS)
    for basis in bases:
        medians, n = repo.fit(session, spec, basis.value, hypotheses, sample_codes)
        if n >= georef.MIN_SAMPLE:
            problem = georef.datum_problem(gref.datum, georef.Fit(basis, medians, n),
                                           georef.shift_metres(hypotheses, gref.datum))
            return [problem] if problem is not None else []
    return []


def _context(session: Session, spec: LayerSpec, options: Options) -> list[Problem]:
    """The checks on the staged features that need the loaded data."""
    found: list[Problem] = []
    for row, key, fld, parent in repo.missing_parents(session, spec):
        found.append(Problem(row, key, fld, "parent_missing",
                             f"上级 {parent} 尚未导入（请先导入上级图层）",
                             f"its parent {parent} is not loaded (import that layer first)"))
    tol = options.tolerance_m2
    replace = options.mode == "replace"
    if spec.name == "grids":
        for r in repo.grids_outside(session, tol):
            found.append(Problem(r["row"], r["code"], "geometry", "grid_outside_community",
                                 f"有 {r['area_m2']:.0f} m² 在所属社区之外",
                                 f"{r['area_m2']:.0f} m² lie outside its community", where=r["outside"]))
        for r in repo.grid_overlaps(session, tol, replace=replace):
            found.append(Problem(r["row"], r["code"], "geometry", "grids_overlap",
                                 f"与网格 {r['other']} 重叠 {r['area_m2']:.0f} m²",
                                 f"overlaps grid {r['other']} by {r['area_m2']:.0f} m²",
                                 where=r["overlap"]))
        for r in repo.community_gaps(session, tol, replace=replace):
            found.append(Problem(None, r["code"], "geometry", "community_gap",
                                 f"社区 {r['code']} 有 {r['area_m2']:.0f} m² 不属于任何网格",
                                 f"{r['area_m2']:.0f} m² of community {r['code']} lie in no grid",
                                 Severity.NOTE, r["gap"]))
    if spec.name == "buildings":
        for row, key in repo.assign_grids(session):
            found.append(Problem(row, key, "geometry", "outside_grids", "不在任何网格内",
                                 "lies in no grid"))
    if spec.name == "facilities":
        for row, key in repo.assign_communities(session):
            found.append(Problem(row, key, "geometry", "outside_communities",
                                 "不在任何社区内（不归属社区）", "lies in no community (kept "
                                 "without one)", Severity.NOTE))
    return found


def _write(session: Session, spec: LayerSpec, options: Options, outcome: Outcome) -> None:
    """Write, and check the deferred rules now, so a breach is a report, not a failed commit."""
    try:
        with session.begin_nested():
            repo.write(session, spec, replace=options.mode == "replace",
                       whole_layer=options.whole_layer)
            repo.check_deferred(session)
    except IntegrityError as exc:
        detail = str(exc.orig).splitlines()[0][:300] if exc.orig else str(exc)[:300]
        outcome.problems.append(Problem(None, "", "database", "rule_broken",
                                        f"数据库规则拒绝：{detail}",
                                        f"the database refused it: {detail}"))
        raise _rejected(outcome) from None
