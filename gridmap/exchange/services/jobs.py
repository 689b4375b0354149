"""Imports from the page run as background jobs: a dry run first (the report, the proposed
mapping, what would change), then the import itself with the same file and options.

The job's result holds the outcome and the problems (up to :data:`MAX_PROBLEMS`, each with its
place), from which the page draws its table and map and the report downloads are made.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.errors import Forbidden, Unauthorized
from gridmap.exchange.report import Problem, Severity
from gridmap.exchange.rules import IMPORT_JOB
from gridmap.exchange.services import imports, osm_layers, streets, uploads
from gridmap.jobs.services import jobs
from gridmap.jobs.services.runner import Handler, Progress

IMPORT = IMPORT_JOB
MAX_PROBLEMS = 5000


def _ensure(principal: Principal) -> None:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*imports.IMPORTERS) or principal.account_id is None:
        raise Forbidden("只有数据管理员和系统管理员可以导入数据 (only data officers and "
                        "administrators import data)")


def start_import(factory: sessionmaker[Session], principal: Principal, upload: uploads.Upload,
                 options: imports.Options, *, request_id: str | None = None) -> dict[str, Any]:
    """Queue an import (or its dry run) of ``upload``; only its owner and administrators watch
    it. One import per person at a time (a second joins the first)."""
    _ensure(principal)
    if options.layer != streets.LAYER:
        imports.spec_of(options.layer)
    fields = asdict(options)
    fields.pop("path")
    params = {"upload": {"token": upload.token, "name": upload.name}, "options": fields,
              "actor": {"username": principal.username, "account_id": principal.account_id,
                        "role": principal.role.value if principal.role else None,
                        "area_code": principal.area_code}}
    job, _ = jobs.start(factory, principal, jobs.Spec(IMPORT, params,
                                                      dedupe_key=f"{IMPORT}:{principal.account_id}"),
                        request_id=request_id)
    return job


def _problem(p: Problem) -> dict[str, Any]:
    return {"severity": p.severity.value, "row": p.row, "key": p.key, "field": p.field,
            "code": p.code, "zh": p.zh, "en": p.en,
            "where": json.loads(shapely.to_geojson(p.where)) if p.where is not None
            and not p.where.is_empty else None}


def problems_of(result: dict[str, Any]) -> list[Problem]:
    """The problems a job's result holds, as :class:`Problem` again (for the report files)."""
    return [Problem(p["row"], p["key"], p["field"], p["code"], p["zh"], p["en"],
                    Severity(p["severity"]),
                    shapely.geometry.shape(p["where"]) if p["where"] else None)
            for p in result.get("problem_list", [])]


def handler(media_dir: Path) -> Handler:
    """The handler of :data:`IMPORT`, reading uploads from ``media_dir``."""

    def run_import(factory: sessionmaker[Session], progress: Progress,
                   params: dict[str, Any]) -> dict[str, Any]:
        actor = params["actor"]
        principal = Principal(role=Role(actor["role"]), username=actor["username"],
                              account_id=actor["account_id"], area_code=actor["area_code"])
        upload = uploads.find(media_dir, params["upload"]["token"], params["upload"]["name"])
        options = imports.Options(path=upload.path, **params["options"])
        if options.layer == streets.LAYER:
            network = streets.run(factory, principal, upload.path, dry_run=options.dry_run,
                                  source=options.source, licence=options.licence,
                                  progress=progress)
            return {"layer": streets.LAYER, "file": network.file, "crs": "EPSG:4326",
                    "dry_run": options.dry_run, "rejected": None, "mapping": {}, "columns": [],
                    "features": network.edges, "written": network.written,
                    "import_id": network.import_id, "streets": network.public(),
                    "changes": {"added": network.edges, "removed": network.before[1],
                                "changed": 0, "unchanged": 0},
                    "problems": {}, "problem_count": 0, "problem_list": []}
        run = osm_layers.run if osm_layers.applies(options) else imports.run
        try:
            outcome = run(factory, principal, options, progress)
            rejected = None
        except imports.ImportRejected as exc:
            outcome, rejected = exc.outcome, exc.message
        return {**outcome.public(), "dry_run": options.dry_run, "rejected": rejected,
                "problem_count": len(outcome.problems),
                "problem_list": [_problem(p) for p in outcome.problems[:MAX_PROBLEMS]]}

    return run_import


def handlers(media_dir: Path) -> dict[str, Handler]:
    """Every kind this feature runs."""
    return {IMPORT: handler(media_dir)}
