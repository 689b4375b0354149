"""Open311 GeoReport v2: our case categories as services, our cases as service requests.

Framework-free: the web layer parses the URL, picks the language and the response format, and
hands over the message texts (``Texts``); this module validates parameters, files requests on
behalf of residents through :func:`gridmap.cases.services.cases.intake`, reads requests back and
turns them into the spec's dictionaries and XML.

What a client posts (description, ``media_url``, name, phone, address) is stored with the case
for the staff who handle it; what anyone reads back is the public view of a case only: category,
status, a location snapped to about 50 m and the street without its house number, the state's
label as the only note; never the resident's text, name, phone or photos (``description`` and
``media_url`` are always null, keys the spec marks optional).

Spec: https://wiki.open311.org/GeoReport_v2. Deliberate choices are noted where they are made.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from sqlalchemy.orm import Session, sessionmaker

from gridmap.accounts.services import tokens
from gridmap.cases import workflow
from gridmap.cases.open311 import repositories as open311_repo
from gridmap.cases.privacy import public_point, street_only
from gridmap.cases.repositories import cases as repo
from gridmap.cases.services import cases
from gridmap.crs import InputCRS, parse_crs, to_wgs84, validate_lonlat
from gridmap.errors import ConfigurationError, Forbidden, GridmapError, InvalidInput, NotFound
from gridmap.web import params

CLOSED_STATES = workflow.TERMINAL_STATES
"""Our states reported as Open311 ``closed``; every other state is ``open``."""
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
MAX_IDS = 1000
TOKEN_PREFIX = "o311:"
_ID = re.compile(r"^[0-9]{1,18}$")
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
_URL = re.compile(r"^https?://[^\s]{1,1000}$")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_TEXT_LIMITS = {"api_key": 200, "jurisdiction_id": 200, "service_code": 40, "lat": 40,
                "long": 40, "crs": 40, "media_url": 1000, "description": params.MAX_FREE_TEXT,
                "address_string": cases.MAX_ADDRESS, "first_name": cases.MAX_REPORTER_NAME,
                "last_name": cases.MAX_REPORTER_NAME, "phone": cases.MAX_PHONE,
                "device_id": 200, "token": 200, "email": 200, "account_id": 200,
                "address_id": 200}
"""Characters each POSTed field may hold (the intake's own rules apply after)."""


@dataclass(frozen=True)
class Texts:
    """Words shown to people, in the request's language (the web layer takes them from the
    message catalogue): state labels, the deadline notice (``%(respond)s``/``%(resolve)s`` hours)
    and the group of categories no department handles by default."""

    states: Mapping[str, str]
    notice: str
    grid_group: str


@dataclass(frozen=True)
class NewRequest:
    """A POST service request, validated."""

    service_code: str
    lon: float
    lat: float
    crs: InputCRS
    description: str
    address: str
    reporter_name: str
    reporter_phone: str
    client_token: str | None


@dataclass(frozen=True)
class RequestQuery:
    """GET service requests filters; ``ids`` overrides every other filter (as the spec says)."""

    ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None


# --- services ----------------------------------------------------------------------------------

def _hours(value: float) -> str:
    return f"{value:g}"


def _notice(texts: Texts, respond_hours: float, resolve_hours: float) -> str:
    return texts.notice % {"respond": _hours(respond_hours), "resolve": _hours(resolve_hours)}


def services(session: Session, *, lang: str, texts: Texts) -> list[dict[str, Any]]:
    """The active case categories as Open311 services (metadata false: no extra attributes)."""
    departments = repo.department_names(session, lang)
    out = []
    for c in repo.categories(session):
        name, other = (c.name_en, c.name_zh) if lang == "en" else (c.name_zh, c.name_en)
        group = departments.get(c.default_departments[0]) if c.default_departments else None
        out.append({"service_code": c.code, "service_name": name,
                    "description": _notice(texts, c.respond_hours, c.resolve_hours),
                    "metadata": False, "type": "realtime", "keywords": f"{other},{c.code}",
                    "group": group or texts.grid_group})
    return out


def service_definition(session: Session, code: str) -> dict[str, Any]:
    """A service's definition: no attributes, since every service has metadata false."""
    if not _CODE.match(code) or repo.category(session, code) is None:
        raise NotFound(f"未知的服务代码 '{code[:40]}' (service_code provided was not found)")
    return {"service_code": code, "attributes": []}


# --- POST service request ----------------------------------------------------------------------

def parse_new_request(form: Mapping[str, str]) -> NewRequest:
    """Validate a form-encoded POST (all problems reported at once).

    ``api_key`` is checked apart (:func:`client_person`); ``jurisdiction_id``, ``account_id``,
    ``email`` and ``address_id`` are accepted and ignored: there are no resident accounts and we
    store no e-mail. ``lat``/``long`` are required
    (we do not geocode ``address_string``). Extensions: ``crs`` (wgs84|cgcs2000|gcj02|bd09) and
    ``token``, which with ``device_id`` makes a repeated POST return the first request's id.
    """
    problems: list[str] = []
    for name, limit in _TEXT_LIMITS.items():
        try:
            params.text(form, name, max_chars=limit, multiline=name == "description")
        except InvalidInput as exc:  # collected: every problem goes into one 400
            problems.append(exc.message)
    if problems:
        raise InvalidInput("；".join(problems))
    code = form.get("service_code", "").strip()
    if not code:
        problems.append("缺少 service_code (service_code was not provided)")
    lon = _coordinate(form, "long", problems)
    lat = _coordinate(form, "lat", problems)
    media_url = form.get("media_url", "").strip()
    if media_url and not _URL.match(media_url):
        problems.append("media_url 须为 http(s) 网址 (media_url must be an http(s) URL)")
    try:
        crs = parse_crs(form.get("crs"))
    except InvalidInput as exc:
        problems.append(exc.message)
        crs = InputCRS.WGS84
    if problems:
        raise InvalidInput("；".join(problems))
    description = form.get("description", "").strip()
    # There is no column for a remote photo: staff find the link with the description (the
    # public view shows neither).
    if media_url:
        description = f"{description}\n\nmedia_url: {media_url}".strip()
    return NewRequest(
        service_code=code, lon=lon, lat=lat, crs=crs, description=description,
        address=form.get("address_string", "").strip(),
        reporter_name=_person_name(form.get("first_name", ""), form.get("last_name", "")),
        reporter_phone=form.get("phone", "").strip(),
        client_token=_client_token(form.get("device_id", ""), form.get("token", "")))


def _coordinate(form: Mapping[str, str], name: str, problems: list[str]) -> float:
    raw = form.get(name, "").strip()
    if not raw:
        problems.append(f"缺少 {name} (lat and long are required)")
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name} 不是数字 ('{name}' must be a number)")
        return 0.0
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(f"{name} 必须是有限数字 ('{name}' must be finite)")
        return 0.0
    return value


def _person_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if _CJK.search(first + last):  # 张 + 三 → 张三 (family name first, no space)
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def _client_token(device_id: str, token: str) -> str | None:
    """The stored client token: scoped to the device and apart from the web form's tokens."""
    if not token.strip():
        return None
    digest = hashlib.sha256(f"{device_id.strip()}\n{token.strip()}".encode()).hexdigest()
    return TOKEN_PREFIX + digest[: 64 - len(TOKEN_PREFIX)]


def client_person(factory: sessionmaker[Session], api_key: str) -> int:
    """The person a client's requests are filed as, for its ``api_key`` (GeoReport v2 asks
    every POST for one; administrators issue them, see ``gridmap open311 add-client``).

    Raises
    ------
    Forbidden
        The key is missing, unknown or revoked (the spec's 403).
    """
    client = tokens.open311_client(factory, api_key.strip())
    if client is None:
        raise Forbidden("api_key 缺失、无效或已吊销，请向管理员申请 "
                        "(api_key is missing, invalid or revoked: ask the administrator for one)")
    return int(client["person_id"])


def submit(factory: sessionmaker[Session], new: NewRequest, *, client_person_id: int,
           media_dir: Path, lang: str, texts: Texts) -> list[dict[str, Any]]:
    """File a request on behalf of a resident, as the client's person; the spec's one-element
    response list.

    The case is created by the client's person (:func:`client_person`) and owned, like every
    new case, by the located grid's worker; the covering grid is chosen automatically and
    possible duplicates do not stop it: an Open311 client cannot answer either question. A
    token used twice returns the first case's id, also when two identical POSTs race (intake
    serialises them on the token, see :func:`gridmap.cases.repositories.cases.by_token`).
    """
    with factory() as session:  # read-only: where the case goes
        grid, _worker, service_name = _route(session, new)
    result = cases.intake_for_resident(factory, cases.IntakeRequest(
        category=new.service_code, description=new.description or service_name,
        channel="resident", lon=new.lon, lat=new.lat, crs=new.crs, address=new.address,
        reporter_name=new.reporter_name, reporter_phone=new.reporter_phone,
        client_token=new.client_token, grid_code=grid, confirm_new=True,
        choose_grid_automatically=True), grid_code=grid, recorder_id=client_person_id,
        media_dir=media_dir)
    if result.case_id is None:  # cannot happen with a grid given and confirm_new
        raise GridmapError(f"intake returned {result.status} without a case")
    with factory() as session:  # the token may have named an earlier case of another category
        case = repo.get_case(session, result.case_id)
        category = repo.category(session, case.category, active_only=False) if case else None
    notice = _notice(texts, category.respond_hours, category.resolve_hours) if category else None
    return [{"service_request_id": str(result.case_id), "service_notice": notice,
             "account_id": None}]


def _route(session: Session, new: NewRequest) -> tuple[str, int, str]:
    """The grid a request goes to (the covering one), that grid's worker, the service's name."""
    category = repo.category(session, new.service_code) if _CODE.match(new.service_code) else None
    if category is None:
        raise InvalidInput(f"未知的服务代码 '{new.service_code[:40]}' "
                           "(service_code provided was not found)")
    validate_lonlat(new.lon, new.lat)
    lon, lat = (float(v) for v in to_wgs84(new.lon, new.lat, new.crs))
    near = repo.grids_near(session, lon, lat, cases.BOUNDARY_M)
    if not near:
        # 400, not 404: the resource (requests) exists; the location is an invalid parameter.
        raise InvalidInput("该位置不在任何网格内，无法受理 (the location lies outside every "
                           "grid of this jurisdiction)")
    covering = [g["code"] for g in near if g["covers"]]
    grid = str(covering[0] if covering else near[0]["code"])
    worker = repo.grid_worker(session, grid)
    if worker is None:
        raise ConfigurationError(f"网格 {grid} 尚未配备网格员 (the grid has no grid worker)")
    return grid, worker, category.name_zh


# --- GET service requests ----------------------------------------------------------------------

def parse_query(args: Mapping[str, str]) -> RequestQuery:
    """Validate GET service requests filters (comma lists; dates in W3C ISO 8601 with a zone)."""
    raw_ids = _comma_list(args.get("service_request_id", ""))
    if raw_ids:
        if len(raw_ids) > MAX_IDS or not all(_ID.match(i) for i in raw_ids):
            raise InvalidInput(f"service_request_id 须为至多 {MAX_IDS} 个以逗号分隔的数字 "
                               f"(service_request_id must be up to {MAX_IDS} comma-separated ids)")
        return RequestQuery(ids=tuple(int(i) for i in raw_ids))
    codes = _comma_list(args.get("service_code", ""))
    if not all(_CODE.match(c) for c in codes):
        raise InvalidInput("service_code 格式不正确 (service_code must be service codes, "
                           "comma-separated)")
    statuses = frozenset(s.lower() for s in _comma_list(args.get("status", "")))
    if not statuses <= {"open", "closed"}:
        raise InvalidInput("status 只能是 open 或 closed (status must be open or closed)")
    start, end = _date(args, "start_date"), _date(args, "end_date")
    if start and end and start > end:
        raise InvalidInput("start_date 晚于 end_date (start_date is after end_date)")
    if start and end and end - start > WINDOW:
        raise InvalidInput("start_date 与 end_date 相隔不能超过 90 天 "
                           "(start_date and end_date may not span more than 90 days)")
    return RequestQuery(service_codes=tuple(codes), statuses=statuses, start=start, end=end)


def _comma_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _date(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    raw = re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", raw)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidInput(f"{name} 须为带时区的 ISO 8601 时间，如 2024-05-01T08:00:00+08:00 "
                           f"({name} must be a W3C date-time with a time zone)")
    params.check_day(value, name)
    return value


def _window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime | None]:
    """Requested-datetime bounds: the given ones, else 90 days from/to the one given, else the
    last 90 days."""
    if query.start and query.end:
        return query.start, query.end
    if query.start:
        return query.start, query.start + WINDOW
    if query.end:
        return query.end - WINDOW, query.end
    return now - WINDOW, None


def requests(session: Session, query: RequestQuery, *, lang: str,
             texts: Texts) -> list[dict[str, Any]]:
    """Service requests matching ``query``, newest first, at most 1,000, as the public sees them
    (:func:`_request`)."""
    start, end = (None, None) if query.ids else _window(query, datetime.now(UTC))
    rows = open311_repo.requests(session, ids=query.ids, start=start, end=end,
                                 service_codes=query.service_codes, statuses=query.statuses,
                                 lang=lang, limit=MAX_RESULTS)
    return [_request(row, texts) for row in rows]


def request(session: Session, request_id: str, *, lang: str,
            texts: Texts) -> list[dict[str, Any]]:
    """One service request as the spec's one-element list; NotFound if there is none."""
    found = (requests(session, RequestQuery(ids=(int(request_id),)), lang=lang, texts=texts)
             if _ID.match(request_id) else [])
    if not found:
        raise NotFound(f"服务请求 {request_id[:20]} 不存在 "
                       "(service_request_id provided was not found)")
    return found


def _w3c(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def _request(row: Mapping[Any, Any], texts: Texts) -> dict[str, Any]:
    """One request as the public may see it (issue 8: category, status, a location rounded to
    about 50 m, public notes only): the state's label as the only note (handlers' notes are
    internal), the street without its house number, the point snapped to about 50 m
    (:mod:`gridmap.cases.privacy`). ``description`` is null: the resident's own words carry
    names, phones, house numbers and family details no masking removes reliably. ``media_url``
    is null: photos are shown only to signed-in staff whose scope holds the case."""
    kept_by_grid = row["owner_kind"] != "department"
    lon, lat = public_point(float(row["lon"]), float(row["lat"]))
    return {
        "service_request_id": str(row["id"]),
        "status": "closed" if row["state"] in CLOSED_STATES else "open",
        "status_notes": texts.states.get(row["state"], row["state"]),
        "service_name": row["service_name"], "service_code": row["category"],
        "description": None,
        "agency_responsible": row["grid_name"] if kept_by_grid else row["department"],
        "service_notice": _notice(texts, row["respond_hours"], row["resolve_hours"]),
        "requested_datetime": _w3c(row["created_at"]),
        "updated_datetime": _w3c(row["updated_at"]),
        "expected_datetime": _w3c(row["resolve_by"]),
        "address": street_only(row["address"] or "") or None, "address_id": None,
        "zipcode": None, "lat": lat, "long": lon,
        "media_url": None,
    }


# --- formats -----------------------------------------------------------------------------------

def error_list(status: int, description: str) -> list[dict[str, Any]]:
    """The spec's error body: a list of {code, description}."""
    return [{"code": status, "description": description}]


def to_xml(root: str, item: str | None, body: Sequence[Mapping[str, Any]] | Mapping[str, Any]
           ) -> bytes:
    """Serialise a response as the spec's XML (``<root><item>…</item>…</root>``), UTF-8.

    ``item`` None serialises one mapping directly under ``root`` (a service definition).
    """
    top = Element(root)
    if item is None:
        assert isinstance(body, Mapping)
        _fill(top, body)
    else:
        for entry in body:
            assert isinstance(entry, Mapping)
            _fill(SubElement(top, item), entry)
    text = tostring(top, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")


def _fill(parent: Element, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        child = SubElement(parent, key)
        if isinstance(value, list):  # service definition attributes
            for entry in value:
                _fill(SubElement(child, "attribute"), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = _NOT_XML.sub("", str(value))
