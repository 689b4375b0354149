"""Data API (data officers and administrators): start an import (a background job: first a dry
run, then the import), download its report, and export a layer.

An import's file comes in a multipart form under ``file`` (up to ``GRIDMAP_IMPORT_MAX_MB``), or
names an earlier upload (``upload``, ``upload_name``) to check again with other options or to
import after its dry run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Response, jsonify, request, stream_with_context, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gridmap.errors import InvalidInput, NotFound, PayloadTooLarge
from gridmap.exchange.rules import EXCHANGERS, FORMATS, IMPORT_JOB, FacilityFields
from gridmap.exchange.web import params as xparams
from gridmap.exchange.web.blueprint import bp
from gridmap.jobs.services import jobs
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory, settings
from gridmap.web.request_log import current_request_id
from gridmap.web.streaming import streamed

CHUNK = 1 << 20
_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
          "shp": "application/zip", "csv": "text/csv; charset=utf-8",
          "kml": "application/vnd.google-earth.kml+xml"}


@bp.post("/api/imports")
@require(*EXCHANGERS)
def start_import() -> tuple[Response, int]:
    """Store the file (or take the earlier upload) and queue the import or its dry run: 202 with
    the job, followed at ``Location``."""
    from gridmap.exchange.services import imports, uploads
    from gridmap.exchange.services import jobs as exchange_jobs

    limit = settings().import_max_mb << 20
    request.max_content_length = limit + (1 << 20)
    try:
        fields = params.fields()
        sent = request.files.get("file")
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"文件超过 {settings().import_max_mb} MB (the file is larger than "
                              f"{settings().import_max_mb} MB)") from None
    ask = xparams.import_request(fields)
    if sent is not None and sent.filename:
        upload = uploads.save(settings().media_dir, sent.filename, sent.stream, max_bytes=limit)
    elif ask.token and ask.name:
        upload = uploads.find(settings().media_dir, ask.token, ask.name)
    else:
        raise InvalidInput("请选择要导入的文件 (choose a file to import)")
    options = imports.Options(path=upload.path, **ask.options)
    job = exchange_jobs.start_import(session_factory(), current_principal(), upload, options,
                                     request_id=current_request_id())
    answer = jsonify({"job": job, "upload": {"token": upload.token, "name": upload.name}})
    answer.headers["Location"] = url_for("jobs.job", job_id=job["id"])
    return answer, 202


@bp.get("/api/imports/<int:job_id>/report.<fmt>")
@require(*EXCHANGERS)
def import_report(job_id: int, fmt: str) -> Response:
    """An import's report as CSV or GeoJSON (the problems with a place), from its finished job."""
    from gridmap.exchange import report
    from gridmap.exchange.services import jobs as exchange_jobs

    if fmt not in ("csv", "geojson"):
        raise NotFound("报告只有 csv 和 geojson 两种格式 (the report is csv or geojson)")
    job = jobs.view(session_factory(), current_principal(), job_id)
    if job["kind"] != IMPORT_JOB or not job["finished"] or not job["result"]:
        raise NotFound(f"任务 {job_id} 没有导入报告 (job {job_id} has no import report)")
    problems = exchange_jobs.problems_of(job["result"])
    if fmt == "csv":
        body, mimetype = report.to_csv(problems), "text/csv; charset=utf-8"
    else:
        body, mimetype = report.to_geojson(problems), "application/geo+json"
    return Response(streamed(body), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="import-{job_id}-report.{fmt}"'})


@bp.get("/api/exports/<layer>.<fmt>")
@require(*EXCHANGERS)
def export(layer: str, fmt: str) -> Response:
    """A layer (or what lies in ``district``/``subdistrict``/``community``) as a file in ``fmt``
    and ``crs``, with the fields an import takes back."""
    from gridmap.exchange.services import exports

    query = xparams.export_query(layer, fmt, request.args)
    ask = exports.Request(layer, fmt, query.crs, area=query.area,
                          facility_type=query.facility_type, encoding=query.encoding)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the streamed answer, closed there
    try:
        count = exports.export(session_factory(), current_principal(), ask, spool)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(CHUNK):
                yield block

    suffix = FORMATS[fmt]
    name = f"{layer}{'-' + query.area if query.area else ''}-{query.crs.replace(':', '')}{suffix}"
    return Response(stream_with_context(chunks()), mimetype=_TYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{Path(name).name}\"",
        "Content-Length": str(size), "X-Feature-Count": str(count)})


@bp.post("/api/edits/facilities")
@require(*EXCHANGERS)
def add_facility() -> tuple[Response, int]:
    """Add a facility at ``lon``/``lat``: 201 with it (its code made from its community)."""
    from gridmap.exchange.services import edits

    ask = xparams.facility_edit(params.json_object(), adding=True)
    assert ask.lon is not None and ask.lat is not None
    added = edits.add(session_factory(), current_principal(), _fields(ask), lon=ask.lon,
                      lat=ask.lat, crs=ask.crs)
    return jsonify({"facility": added}), 201


@bp.post("/api/edits/facilities/<code>")
@require(*EXCHANGERS)
def change_facility(code: str) -> Response:
    """Move (``op: move`` with ``lon``/``lat``), update (``op: update``) or retire a facility."""
    from gridmap.exchange.services import edits

    code = xparams.feature_code(code)
    ask = xparams.facility_edit(params.json_object(), adding=False)
    if ask.op == "retire":
        return jsonify({"retired": edits.retire(session_factory(), current_principal(), code)})
    changed = edits.change(session_factory(), current_principal(), code, fields=_fields(ask),
                           lon=ask.lon, lat=ask.lat, crs=ask.crs)
    return jsonify({"facility": changed})


@bp.get("/api/edits/facilities/changes")
@require(*EXCHANGERS)
def facility_changes() -> Response:
    """The newest changes to facilities in one's territory (``code``: of one)."""
    from gridmap.exchange.services import edits

    code = params.text(request.args, "code", max_chars=40).strip() or None
    return jsonify({"changes": edits.history(session_factory(), current_principal(),
                                             code=code)})


def _fields(ask: xparams.FacilityEdit) -> FacilityFields:
    return FacilityFields(type=ask.type, name=ask.name, capacity=ask.capacity, hours=ask.hours)


@bp.post("/api/edits/grids")
@require(*EXCHANGERS)
def reshape_grids() -> Response:
    """New boundaries for grids (``grids``: code → GeoJSON polygon), all or none: each checked
    inside its community and against its neighbours; the old ones kept in the history."""
    from gridmap.exchange.services import edits

    boundaries, crs = xparams.grid_boundaries(params.json_object())
    return jsonify(edits.reshape_grids(session_factory(), current_principal(), boundaries,
                                       crs=crs))


@bp.get("/api/edits/grids/changes")
@require(*EXCHANGERS)
def grid_changes() -> Response:
    """The newest changes to grids in one's territory (``code``: of one): reshapes, splits,
    merges and the grids they added, without the boundaries."""
    from gridmap.exchange.services import edits

    code = params.text(request.args, "code", max_chars=40).strip() or None
    return jsonify({"changes": edits.history(session_factory(), current_principal(), code=code,
                                             layer="grids")})


@bp.get("/api/edits/grids/<code>")
@require(*EXCHANGERS)
def grid_versions(code: str) -> Response:
    """A grid's boundary now and its earlier ones."""
    from gridmap.exchange.services import edits

    return jsonify(edits.grid_versions(session_factory(), current_principal(),
                                       xparams.feature_code(code)))


@bp.post("/api/edits/grids/<code>/split")
@require(*EXCHANGERS)
def split_grid(code: str) -> tuple[Response, int]:
    """Split a grid along ``line`` (GeoJSON drawn across it): 201 with the new grids' codes."""
    from gridmap.exchange.services import edits

    ask = xparams.grid_split(params.json_object())
    return jsonify(edits.split_grid(session_factory(), current_principal(),
                                    xparams.grid_code(code), ask.line, names=ask.names,
                                    crs=ask.crs)), 201


@bp.post("/api/edits/grids/merge")
@require(*EXCHANGERS)
def merge_grids() -> Response:
    """Merge neighbouring grids of one community (``codes``) into ``keep``."""
    from gridmap.exchange.services import edits

    ask = xparams.grid_merge(params.json_object())
    return jsonify(edits.merge_grids(session_factory(), current_principal(), ask.codes,
                                     keep=ask.keep, name=ask.name))
