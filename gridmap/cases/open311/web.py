"""Open311 GeoReport v2 endpoints (``/open311/v2``): thin adapters over services.open311.

Every resource is served as ``.json`` or ``.xml`` (the spec's required format); errors come in
the spec's format (``[{"code", "description"}]`` / ``<errors><error>…``) with the HTTP status.
POST ``requests`` needs a client's ``api_key`` (issued by administrators, stored hashed); the GET
resources are public and show the public view of a case only (no resident's description, name,
phone, house number or photo: ``description`` and ``media_url`` are null). ``jurisdiction_id``
is accepted and ignored: there is one jurisdiction. The language is ``?locale=en|zh`` (e.g.
``en_US``), else the app's language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, json, request
from flask_babel import force_locale, gettext
from werkzeug.exceptions import HTTPException

from gridmap.cases.labels import state_labels
from gridmap.cases.open311 import services as open311
from gridmap.errors import GridmapError, NotFound, RateLimited
from gridmap.web.db import session_factory, settings
from gridmap.web.errors import RETRY_AFTER_S, UNAVAILABLE, database_unavailable
from gridmap.web.i18n import LANGUAGES, current_lang
from gridmap.web.ratelimit import limited

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

_FORMATS = ("json", "xml")
_MIME = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _format(fmt: str) -> str:
    if fmt not in _FORMATS:
        raise NotFound(f"不支持的格式 '{fmt[:10]}'，可选 json、xml (format must be json or xml)")
    return fmt


def _lang() -> str:
    asked = request.args.get("locale", "").split("_")[0].split("-")[0].lower()
    return asked if asked in LANGUAGES else current_lang()


def _texts(lang: str) -> open311.Texts:
    """The words in the answer, from the message catalogue (msgids as on the case pages)."""
    with force_locale(LANGUAGES[lang]):
        return open311.Texts(states=state_labels(), grid_group=gettext("网格"),
                             notice=gettext("%(respond)s 小时内响应，%(resolve)s 小时内办结"))


def _respond(fmt: str, body: Sequence[Mapping[str, Any]] | Mapping[str, Any], *, root: str,
             item: str | None, status: int = 200) -> Response:
    if fmt == "xml":
        data = open311.to_xml(root, item, body)
    else:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(data, status=status, content_type=_MIME[fmt])


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    """GET Service List: the active case categories."""
    fmt, lang = _format(fmt), _lang()
    with session_factory()() as session:
        body = open311.services(session, lang=lang, texts=_texts(lang))
    return _respond(fmt, body, root="services", item="service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    """GET Service Definition (no attributes: every service has metadata false)."""
    fmt = _format(fmt)
    with session_factory()() as session:
        body = open311.service_definition(session, code)
    return _respond(fmt, body, root="service_definition", item=None)


@bp.post("/requests.<fmt>")
@limited("open311")
def create_request(fmt: str) -> Response:
    """POST Service Request (form-encoded), filed on behalf of a resident by a client holding
    an ``api_key`` (403 without a live one, before the request is looked at)."""
    fmt, lang = _format(fmt), _lang()
    person_id = open311.client_person(session_factory(), request.form.get("api_key", ""))
    new = open311.parse_new_request(request.form.to_dict())
    body = open311.submit(session_factory(), new, client_person_id=person_id,
                          media_dir=settings().media_dir, lang=lang, texts=_texts(lang))
    return _respond(fmt, body, root="service_requests", item="request")


@bp.get("/requests.<fmt>")
def list_requests(fmt: str) -> Response:
    """GET Service Requests with the spec's filters; newest first, at most 1,000."""
    fmt, lang = _format(fmt), _lang()
    query = open311.parse_query(request.args.to_dict())
    with session_factory()() as session:
        body = open311.requests(session, query, lang=lang, texts=_texts(lang))
    return _respond(fmt, body, root="service_requests", item="request")


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str) -> Response:
    """GET Service Request: a one-element list."""
    fmt, lang = _format(fmt), _lang()
    with session_factory()() as session:
        body = open311.request(session, request_id, lang=lang, texts=_texts(lang))
    return _respond(fmt, body, root="service_requests", item="request")


def error_response(status: int, description: str) -> Response:
    """GeoReport's error list, in the format asked for (the path's ``.xml``/``.json``, also on a
    path no route matched; JSON when unknown)."""
    fmt = (request.view_args or {}).get("fmt") or request.path.rpartition(".")[2]
    fmt = fmt if fmt in _FORMATS else "json"
    return _respond(fmt, open311.error_list(status, description), root="errors", item="error",
                    status=status)


@bp.errorhandler(GridmapError)
def _gridmap_error(exc: GridmapError) -> Response:
    if exc.status >= 500:
        log.exception("open311 server error: %s", exc)
        return error_response(exc.status, "服务器内部错误，请稍后再试 (internal error)")
    return error_response(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return error_response(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(429)
def _rate_limited(exc: HTTPException) -> Response:
    # Needed here: Flask prefers the app's handler for the code 429 over this blueprint's for
    # HTTPException, which would answer a GeoReport client in the app's format.
    return error_response(RateLimited.status, RateLimited.MESSAGE)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if database_unavailable(exc):  # a restart or an outage: the spec's error list, as a 503
        log.warning("open311: database unavailable: %s", type(exc).__name__)
        response = error_response(503, UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    log.exception("open311: unhandled error")
    return error_response(500, "服务器内部错误，请稍后再试 (internal error)")
