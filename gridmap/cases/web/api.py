"""Case API: categories, intake, detail, workflow actions, the reporter's phone, board, exports,
photos. Everything but the categories needs a signed-in principal, who is the acting person;
the services read through the principal's scope (out of scope is 404) and the workflow decides
what they may do (403 with who may)."""

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

from gridmap.cases.services import board as case_board
from gridmap.cases.services import cases, personal, photos
from gridmap.cases.services import queries as case_queries
from gridmap.cases.services.photos import UploadedPhoto
from gridmap.crs import parse_crs
from gridmap.errors import InvalidInput, PayloadTooLarge
from gridmap.web import params
from gridmap.web.auth import current_principal, require
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


def _no_store(response: Response) -> Response:
    """Keep a response with a resident's data out of every cache (browser and proxy)."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/case-categories")
def categories() -> Response:
    """The case categories with their default departments and deadlines (public: Open311 lists
    them too)."""
    with session_factory()() as session:
        return jsonify(case_queries.categories(session, lang=current_lang()))


def _intake_request(fields: dict[str, Any],
                    uploaded: list[UploadedPhoto]) -> cases.IntakeRequest:
    """The intake form (or JSON body) as the service's request."""
    return cases.IntakeRequest(
        category=str(fields.get("category", "")),
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
@require(*cases.INTAKE_ROLES)
def create() -> tuple[Response, int]:
    """Intake: locate, route and save a case (or ask which grid / show possible duplicates)."""
    result = cases.intake(session_factory(), current_principal(),
                          _intake_request(*_upload("photos")), media_dir=settings().media_dir)
    body: dict[str, Any] = {"status": result.status, "case_id": result.case_id}
    if result.candidates:
        body["candidates"] = result.candidates
    return jsonify(case_queries.json_safe(body)), _STATUS[result.status]


def _detail(case_id: int) -> Response:
    with session_factory()() as session:
        found = case_queries.detail(session, current_principal(), case_id, lang=current_lang())
    return _no_store(jsonify(found))


@bp.get("/api/cases/<int:case_id>")
@require(*case_queries.READERS)
def detail(case_id: int) -> Response:
    """A case in the principal's scope with its history, photos, co-handlers, what they may do
    and whether they may see the reporter's full phone (always masked here)."""
    return _detail(case_id)


@bp.post("/api/cases/<int:case_id>/reporter-phone")
@limited("case_actions")
@require()
def reporter_phone(case_id: int) -> Response:
    """The reporter's full phone number, for the case's handlers only; every reveal is logged."""
    phone = personal.reveal_phone(session_factory(), current_principal(), case_id)
    return _no_store(jsonify({"reporter_phone": phone}))


@bp.post("/api/cases/<int:case_id>/actions")
@limited("case_actions")
@require()
def act(case_id: int) -> Response:
    """Apply a workflow action (dispatch, start, resolve, verify, rate, reassign, …) as the
    signed-in person, with a version check."""
    fields, after_photos = _upload("after_photos")
    version = params.integer({"version": str(fields.get("version", ""))}, "version",
                             default=-1, lo=-1, hi=2**31)
    if version < 0:
        raise InvalidInput("缺少案件版本号 version (missing 'version')")
    cases.act(session_factory(), current_principal(), case_id, str(fields.get("action", "")),
              version=version, params=_action_params(fields), after_photos=after_photos,
              media_dir=settings().media_dir)
    return _detail(case_id)


def _action_params(fields: dict[str, Any]) -> dict[str, Any]:
    departments = fields.get("departments") or []
    if isinstance(departments, str):
        departments = [d for d in departments.split(",") if d]
    return {"note": str(fields.get("note", "")), "department": fields.get("department") or None,
            "departments": list(departments), "rating": fields.get("rating") or None,
            "reason": fields.get("reason") or None}


@bp.get("/api/cases")
@require(*case_queries.READERS)
def board() -> Response:
    """The principal's case board: filtered, overdue first, keyset-paginated (``cursor``)."""
    filters = case_board.parse_filter(request.args)
    limit = params.integer(request.args, "limit", default=50, lo=1, hi=200)
    with session_factory()() as session:
        body = case_board.page(session, current_principal(), filters,
                               cursor=request.args.get("cursor"), limit=limit, lang=current_lang())
    return _no_store(jsonify(body))


@bp.get("/api/cases.csv")
@require(*case_queries.READERS)
def board_csv() -> Response:
    """The principal's filtered board as CSV, streamed (reporter phones masked), logged."""
    return _export(case_board.csv_lines, "csv", "text/csv")


@bp.get("/api/cases.geojson")
@require(*case_queries.READERS)
def board_geojson() -> Response:
    """The principal's filtered board as GeoJSON points, streamed (phones masked), logged."""
    return _export(case_board.geojson_chunks, "geojson", "application/geo+json")


def _export(produce: Any, fmt: str, mimetype: str) -> Response:
    filters = case_board.parse_filter(request.args)
    principal, lang = current_principal(), current_lang()
    personal.log_export(session_factory(), principal, filters, fmt=fmt)  # before the first byte

    def chunks() -> Iterator[str]:
        with session_factory()() as session:
            yield from produce(session, principal, filters, lang=lang)

    return _no_store(Response(
        stream_with_context(chunks()), mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="cases.{fmt}"'}))


@bp.get("/media/<path:path>")
@require()
def media(path: str) -> Response:
    """A stored case photo or thumbnail of a case in the principal's scope (404 otherwise),
    typed as stored and kept out of every shared cache; viewing an original is logged."""
    found = photos.media_file(session_factory(), current_principal(), path)
    response = send_from_directory(settings().media_dir, found.path, mimetype=found.content_type)
    # Residents' photos: no proxy or browser cache may keep a copy (issue 8, privacy).
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)
