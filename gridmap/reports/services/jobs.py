"""Coverage reports as background jobs: a planner asks for one (a rule over an area of their
district), the worker draws the PDF and the offline map into the media folder, and planners of
that district list and download them, with who made each and when.

The checks are made when the job is started (a planner, an area in their scope, a computed
rule); the worker then reads as the operator, as the siting job does. Files are named by a
random token kept in the job's parameters, never by anything a client sends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.coverage.services import queries, readers
from gridmap.errors import Conflict, NotFound
from gridmap.jobs.services import jobs
from gridmap.jobs.services.runner import Handler, Progress
from gridmap.reports.services import content

KIND = "reports.coverage"
FOLDER = "reports"
FORMATS = {"pdf": ("application/pdf", "pdf"), "html": ("text/html; charset=utf-8", "html")}
"""Download formats: media type and file suffix."""


@dataclass(frozen=True)
class Download:
    """A report file to send: where it is, its media type and the name to save it as."""

    path: Path
    media_type: str
    filename: str


def start(factory: sessionmaker[Session], principal: Principal, *, facility_type: str,
          circle: str, area: str | None, sites: int,
          request_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Queue a report (202) or return the same one already under way; 403 outside the scope,
    404 when the rule has no run yet."""
    planner = readers.ensure_planner(principal)
    where = content.area_of(planner, area)
    with factory() as session:
        queries.resolve_run(session, facility_type, circle)
    params = {"facility_type": facility_type, "circle": circle, "area": where, "sites": sites,
              "maker": planner.name or planner.username, "token": secrets.token_hex(16)}
    spec = jobs.Spec(KIND, params, watchers=frozenset({Role.PLANNER}), watch_area=where,
                     dedupe_key=f"{KIND}:{planner.account_id}:{facility_type}:{circle}:{where}")
    return jobs.start(factory, planner, spec, request_id=request_id)


def listing(factory: sessionmaker[Session], principal: Principal) -> list[dict[str, Any]]:
    """The newest reports the principal may download: those of areas in their scope (the jobs
    module shows a report only to the planners over its area)."""
    readers.ensure_planner(principal)
    return [public(j) for j in jobs.listing(factory, principal, kinds=(KIND,))]


def public(job: dict[str, Any]) -> dict[str, Any]:
    """A report job as the API answers it (the file token stays private)."""
    params = {k: v for k, v in job["params"].items() if k != "token"}
    return {**job, "params": params}


def download(factory: sessionmaker[Session], principal: Principal, media_dir: Path,
             job_id: int, fmt: str) -> Download:
    """A finished report's file; 404 for a job that is not a report the principal may read,
    409 while it is not done."""
    planner = readers.ensure_planner(principal)
    job = jobs.view(factory, planner, job_id)
    if job["kind"] != KIND or fmt not in FORMATS:
        raise NotFound(f"没有编号为 {job_id} 的报告 (no report {job_id})")
    readers.area(planner, str(job["params"]["area"]))
    if job["state"] != "succeeded":
        raise Conflict("报告尚未生成完成 (the report is not ready)")
    media_type, suffix = FORMATS[fmt]
    params = job["params"]
    return Download(media_dir / FOLDER / f"{params['token']}.{suffix}", media_type,
                    f"coverage-{params['area']}-{params['facility_type']}-{params['circle']}"
                    f"-{job_id}.{suffix}")


def handlers(media_dir: Path, assets_dir: Path) -> dict[str, Handler]:
    """The report job's handler, writing into ``media_dir`` with Leaflet from ``assets_dir``."""
    return {KIND: _runner(media_dir, assets_dir)}


def _runner(media_dir: Path, assets_dir: Path) -> Handler:
    def run(factory: sessionmaker[Session], progress: Progress,
            params: dict[str, Any]) -> dict[str, Any]:
        # WeasyPrint and folium are imported by the job that uses them, not by every web
        # worker and every start of the job worker (0.6 s and tens of MB, and WeasyPrint logs
        # its stylesheet parsing at import).
        from gridmap.reports import html_map, pdf

        progress(0.05, "读取覆盖结果并选址")
        report = content.gather(
            factory, readers.OPERATOR, facility_type=str(params["facility_type"]),
            circle=str(params["circle"]), area=str(params["area"]), sites=int(params["sites"]),
            maker=str(params["maker"]))
        folder = media_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        progress(0.5, "生成 PDF")
        pdf_bytes = pdf.render(report)
        progress(0.8, "生成离线地图")
        page = html_map.build(report, assets_dir=assets_dir).encode("utf-8")
        for suffix, data in (("pdf", pdf_bytes), ("html", page)):
            tmp = folder / f"{params['token']}.{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(folder / f"{params['token']}.{suffix}")
        return {"title": report.title, "area_name": report.area_name,
                "pdf_bytes": len(pdf_bytes), "html_bytes": len(page)}

    return run


def page_choices(factory: sessionmaker[Session], principal: Principal, *,
                 lang: str) -> dict[str, Any]:
    """The report page's pickers: facility types and circles (in ``lang``), the planner's area."""
    planner = readers.ensure_planner(principal)
    with factory() as session:
        return queries.choices(session, planner, lang=lang)
