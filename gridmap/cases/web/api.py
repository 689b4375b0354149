"""Case API: categories, the people who may act, intake, detail, workflow actions, photos."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    jsonify,
    request,
    send_from_directory,
    stream_with_context,
)
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from gridmap import codes
from gridmap.cases.services import board as case_board
from gridmap.cases.services import cases, photos
from gridmap.cases.services import queries as case_queries
from gridmap.cases.services.photos import UploadedPhoto
from gridmap.crs import parse_crs
from gridmap.errors import Forbidden, InvalidInput, PayloadTooLarge
from gridmap.web import params
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang
from gridmap.web.ratelimit import limited

bp = Blueprint("cases", __name__)

_STATUS = {"created": 201, "existing": 200, "linked": 200, "choose_grid": 409,
           "possible_duplicates": 409}


def _fields() -> dict[str, Any]:
    """Form fields (multipart) or a JSON object, as one mapping of strings."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("请求体须为 JSON 对象 (body must be a JSON object)")
        # Scalars as strings, like form fields, so one parser serves both; lists stay lists.
        return {k: v if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in body.items() if v is not None}
    return request.form.to_dict()


def _photos(field: str) -> list[UploadedPhoto]:
    """The files sent as ``field``, unread: the service checks who sends them first."""
    files: list[FileStorage] = request.files.getlist(field)
    return [UploadedPhoto.from_stream(f.filename or "photo", f.stream) for f in files if f.filename]


def _upload(photo_field: str) -> tuple[dict[str, Any], list[UploadedPhoto]]:
    """Fields and photos of a request no larger than its photos allow (413 otherwise).

    The limit is set before the body is parsed, so werkzeug refuses from the Content-Length
    (or, for a chunked body, as soon as it streams past the limit) without reading the rest.
    """
    request.max_content_length = cases.max_request_bytes()
    try:
        return _fields(), _photos(photo_field)
    except RequestEntityTooLarge as exc:
        mb = cases.max_request_bytes() // (1024 * 1024)
        raise PayloadTooLarge(f"请求超过 {mb} MB：最多 {cases.MAX_PHOTOS} 张照片，每张不超过 "
                              f"{photos.MAX_BYTES // (1024 * 1024)} MB "
                              f"(request larger than {mb} MB)") from exc


def _person(fields: dict[str, Any]) -> int:
    """The acting person's id (field ``actor_id`` or header X-Gridmap-Person); 403 if absent."""
    raw = fields.get("actor_id") or request.headers.get("X-Gridmap-Person")
    if raw is None or str(raw).strip() == "":
        raise Forbidden("请先选择操作人 (choose who is acting: actor_id)")
    return params.integer({"actor_id": str(raw)}, "actor_id", default=0, lo=1, hi=2**62)


@bp.get("/api/case-categories")
def categories() -> Response:
    """The case categories with their default departments and deadlines."""
    with session_factory()() as session:
        return jsonify(case_queries.categories(session, lang=current_lang()))


@bp.get("/api/people")
def people() -> Response:
    """The people who may act on cases of a grid (until accounts exist, the UI picks one)."""
    grid = codes.parse(request.args.get("grid", ""), codes.Level.GRID, field="grid")
    with session_factory()() as session:
        return jsonify(case_queries.people_for_grid(session, grid, lang=current_lang()))


def _intake_request(fields: dict[str, Any],
                    uploaded: list[UploadedPhoto]) -> cases.IntakeRequest:
    """The intake form (or JSON body) as the service's request."""
    return cases.IntakeRequest(
        actor_id=_person(fields), category=str(fields.get("category", "")),
        description=str(fields.get("description", "")),
        channel=str(fields.get("channel", "grid_patrol")),
        lon=params.number(fields, "lon"), lat=params.number(fields, "lat"),
        crs=parse_crs(fields.get("crs")), address=str(fields.get("address", "")),
        reporter_name=str(fields.get("reporter_name", "")),
        reporter_phone=str(fields.get("reporter_phone", "")),
        client_token=str(fields["client_token"])[:64] if fields.get("client_token") else None,
        grid_code=fields.get("grid_code") or None,
        confirm_new=str(fields.get("confirm_new", "")).lower() in ("1", "true", "yes", "on"),
        link_to=int(fields["link_to"]) if str(fields.get("link_to", "")).isdigit() else None,
        photos=uploaded,
    )


@bp.post("/api/cases")
@limited("intake")
def create() -> tuple[Response, int]:
    """Intake: locate, route and save a case (or ask which grid / show possible duplicates)."""
    result = cases.intake(session_factory(), _intake_request(*_upload("photos")),
                          media_dir=settings().media_dir)
    body: dict[str, Any] = {"status": result.status, "case_id": result.case_id}
    if result.candidates:
        body["candidates"] = result.candidates
    return jsonify(case_queries.json_safe(body)), _STATUS[result.status]


@bp.get("/api/cases/<int:case_id>")
def detail(case_id: int) -> Response:
    """A case with its history, photos, co-handlers and what the acting person may do."""
    person = request.args.get("actor_id")
    actor_id = int(person) if person and person.isdigit() else None
    with session_factory()() as session:
        found = case_queries.detail(session, case_id, actor_id=actor_id, lang=current_lang())
    return jsonify(found)


@bp.post("/api/cases/<int:case_id>/actions")
@limited("case_actions")
def act(case_id: int) -> Response:
    """Apply a workflow action (dispatch, start, resolve, verify, rate, …) with a version check."""
    fields, after_photos = _upload("after_photos")
    version = params.integer({"version": str(fields.get("version", ""))}, "version",
                             default=-1, lo=-1, hi=2**31)
    if version < 0:
        raise InvalidInput("缺少案件版本号 version (missing 'version')")
    person = _person(fields)
    cases.act(session_factory(), case_id, person, str(fields.get("action", "")), version=version,
              params=_action_params(fields), after_photos=after_photos,
              media_dir=settings().media_dir)
    with session_factory()() as session:
        return jsonify(case_queries.detail(session, case_id, actor_id=person,
                                           lang=current_lang()))


def _action_params(fields: dict[str, Any]) -> dict[str, Any]:
    departments = fields.get("departments") or []
    if isinstance(departments, str):
        departments = [d for d in departments.split(",") if d]
    return {"note": str(fields.get("note", "")), "department": fields.get("department") or None,
            "departments": list(departments), "rating": fields.get("rating") or None,
            "reason": fields.get("reason") or None}


@bp.get("/api/cases")
def board() -> Response:
    """The case board: filtered, overdue first, keyset-paginated (``cursor``)."""
    filters = case_board.parse_filter(request.args)
    limit = params.integer(request.args, "limit", default=50, lo=1, hi=200)
    with session_factory()() as session:
        return jsonify(case_board.page(session, filters, cursor=request.args.get("cursor"),
                                       limit=limit, lang=current_lang()))


@bp.get("/api/cases.csv")
def board_csv() -> Response:
    """The filtered board as CSV, streamed (reporter phones masked)."""
    filters = case_board.parse_filter(request.args)
    return _stream(case_board.csv_lines, filters, "text/csv", "cases.csv")


@bp.get("/api/cases.geojson")
def board_geojson() -> Response:
    """The filtered board as GeoJSON points, streamed (reporter phones masked)."""
    filters = case_board.parse_filter(request.args)
    return _stream(case_board.geojson_chunks, filters, "application/geo+json", "cases.geojson")


def _stream(produce: Any, filters: Any, mimetype: str, filename: str) -> Response:
    lang = current_lang()

    def chunks() -> Iterator[str]:
        with session_factory()() as session:
            yield from produce(session, filters, lang=lang)

    return Response(stream_with_context(chunks()), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/media/<path:path>")
def media(path: str) -> Response:
    """A stored case photo or thumbnail, typed as stored and kept out of every shared cache."""
    with session_factory()() as session:
        found = photos.media_file(session, path)
    response = send_from_directory(settings().media_dir, found.path, mimetype=found.content_type)
    # Residents' photos: no proxy or browser cache may keep a copy (issue 8, privacy).
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
