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
)
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from gridmap.cases.services import board as case_board
from gridmap.cases.services import cases, personal, photos
from gridmap.cases.services import queries as case_queries
from gridmap.cases.services.photos import UploadedPhoto
from gridmap.crs import parse_crs
from gridmap.errors import InvalidInput, NotFound, PayloadTooLarge
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory, settings
from gridmap.web.i18n import current_lang
from gridmap.web.ratelimit import limited
from gridmap.web.streaming import streamed
from gridmap.writers import json_safe

bp = Blueprint("cases", __name__)

_LISTS = ("departments",)
"""The only fields that may be lists; any other list (``"department": []``) is refused."""
_CODE_CHARS = 40
_STATUS = {"created": 201, "existing": 200, "linked": 200, "choose_grid": 409,
           "possible_duplicates": 409}


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
        return params.fields(lists=_LISTS), _photos(photo_field)
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


@bp.get("/api/departments")
def departments() -> Response:
    """The departments' codes and names (public reference data, as the categories that name
    them)."""
    with session_factory()() as session:
        return jsonify(case_queries.departments(session, lang=current_lang()))


def _intake_request(fields: dict[str, Any],
                    uploaded: list[UploadedPhoto]) -> cases.IntakeRequest:
    """The intake form (or JSON body) as the service's request."""
    def text(name: str, max_chars: int = _CODE_CHARS, default: str = "") -> str:
        return params.text(fields, name, max_chars=max_chars, default=default)

    return cases.IntakeRequest(
        category=text("category"),
        description=params.text(fields, "description", max_chars=params.MAX_FREE_TEXT,
                                multiline=True),
        channel=text("channel", default="grid_patrol"),
        lon=params.number(fields, "lon"), lat=params.number(fields, "lat"),
        crs=parse_crs(text("crs") or None), address=text("address", cases.MAX_ADDRESS),
        reporter_name=text("reporter_name", cases.MAX_REPORTER_NAME),
        reporter_phone=text("reporter_phone", cases.MAX_PHONE),
        client_token=text("client_token", cases.MAX_CLIENT_TOKEN) or None,
        grid_code=text("grid_code") or None,
        confirm_new=params.flag(fields, "confirm_new"),
        link_to=params.identifier(fields, "link_to"),
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
    return jsonify(json_safe(body)), _STATUS[result.status]


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
@require(*case_queries.READERS)
def reporter_phone(case_id: int) -> Response:
    """The reporter's full phone number (or, with ``event``, a merged report's reporter's), for
    the case's handlers only; every reveal is logged."""
    event_id = params.identifier(params.fields(), "event")
    phone = personal.reveal_phone(session_factory(), current_principal(), case_id,
                                  event_id=event_id)
    return _no_store(jsonify({"reporter_phone": phone}))


@bp.post("/api/cases/<int:case_id>/actions")
@limited("case_actions")
@require(*case_queries.READERS)
def act(case_id: int) -> Response:
    """Apply a workflow action (dispatch, start, resolve, verify, rate, reassign, …) as the
    signed-in person, with a version check."""
    fields, after_photos = _upload("after_photos")
    version = params.integer(fields, "version", default=-1, lo=-1, hi=2**31)
    if version < 0:
        raise InvalidInput("缺少案件版本号 version (missing 'version')")
    cases.act(session_factory(), current_principal(), case_id,
              params.text(fields, "action", max_chars=_CODE_CHARS),
              version=version, params=_action_params(fields), after_photos=after_photos,
              media_dir=settings().media_dir)
    try:
        return _detail(case_id)
    except NotFound:
        # Done, and the case has left the actor's scope (a department returned it or it was
        # reassigned away): say so instead of "not found" for an action that succeeded.
        return _no_store(jsonify({"id": case_id, "out_of_scope": True}))


def _action_params(fields: dict[str, Any]) -> dict[str, Any]:
    departments = fields.get("departments") or []
    if not isinstance(departments, list):  # a form's comma list
        departments = [d for d in params.text(fields, "departments").split(",") if d]
    return {"note": params.text(fields, "note", max_chars=params.MAX_FREE_TEXT, multiline=True),
            "department": params.text(fields, "department", max_chars=_CODE_CHARS) or None,
            "departments": [params.clean_text(d, "departments", max_chars=_CODE_CHARS)
                            for d in departments],
            "rating": params.text(fields, "rating", max_chars=_CODE_CHARS) or None,
            "reason": params.text(fields, "reason", max_chars=_CODE_CHARS) or None,
            "method": params.text(fields, "method", max_chars=_CODE_CHARS) or None}


@bp.get("/api/cases")
@require(*case_queries.READERS)
def board() -> Response:
    """The principal's case board: filtered, overdue first, keyset-paginated (``cursor``)."""
    filters = case_board.parse_filter(request.args, current_principal())
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
    filters = case_board.parse_filter(request.args, current_principal())
    principal, lang = current_principal(), current_lang()
    personal.log_export(session_factory(), principal, filters, fmt=fmt)  # before the first byte

    def chunks() -> Iterator[str]:
        with session_factory()() as session:
            yield from produce(session, principal, filters, lang=lang)

    return _no_store(Response(
        streamed(chunks()), mimetype=mimetype,
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
