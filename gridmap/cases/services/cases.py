"""Case use cases: intake (全面收集) and workflow actions (分类交办 → 联动处置 → 反馈评价).

:func:`intake` and :func:`act` each own their transaction: they take the session factory, open
one unit of work, and remove the photo files they wrote if it fails, so a case, its events and
its photos (rows and files) are saved together or not at all. Callers (the case API, Open311)
only parse and shape answers.

Both act as the signed-in :class:`~gridmap.access.Principal`: a grid worker reports in their
grids and a supervisor in their area (:data:`INTAKE_ROLES`); an action is decided by the
workflow on a case loaded through the principal's scope, so a case out of scope is "not found".
The principal is checked before any photo is decoded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.cases import deadlines, workflow
from gridmap.cases.repositories import cases as repo
from gridmap.cases.services import photos as case_photos
from gridmap.cases.services.photos import PhotoStore, UploadedPhoto
from gridmap.crs import InputCRS, to_wgs84, validate_lonlat
from gridmap.db import unit_of_work
from gridmap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OutsideTerritory,
    Unauthorized,
)
from gridmap.models import Case
from gridmap.supervision.services import inbox as case_inbox

BOUNDARY_M = 20.0  # closer than this to another grid, the reporter is asked which grid
DUPLICATE_RADIUS_M = 100.0
DUPLICATE_DAYS = 14
MAX_DESCRIPTION = 4000
"""Characters in a case's description (the database CHECK holds the same bound)."""
MAX_ADDRESS = 200
MAX_REPORTER_NAME = 50
MAX_PHONE = 20
"""Characters in an address, a reporter's name and phone (the phone's column is 20 wide)."""
MAX_CLIENT_TOKEN = 64
MAX_PHOTOS = 5
FORM_BYTES = 1024 * 1024
"""Room in an upload request for its fields and multipart framing, beside the photos."""
CHANNELS = ("grid_patrol", "hotline_12345", "walk_in", "resident", "proactive_visit")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")
INTAKE_ROLES = SUPERVISORS | {Role.GRID_WORKER}
"""Who reports cases: grid workers in their grids, supervisors (community, sub-district, district
centre) anywhere in their area."""


@dataclass(frozen=True)
class IntakeRequest:
    """What a grid worker (or an Open311 client) submits; the reporter is the principal."""

    category: str
    description: str
    channel: str
    lon: float
    lat: float
    crs: InputCRS = InputCRS.WGS84
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    client_token: str | None = None
    grid_code: str | None = None        # the reporter's answer to "which grid?"
    confirm_new: bool = False           # file although possible duplicates were shown
    link_to: int | None = None          # add this report to an existing case instead
    choose_grid_automatically: bool = False  # for clients that cannot answer (Open311)
    photos: Sequence[UploadedPhoto] = field(default_factory=tuple)


@dataclass(frozen=True)
class IntakeResult:
    """The outcome: a case was created (or already existed for this token, or was linked), or
    the reporter must choose a grid or look at possible duplicates first (nothing saved)."""

    status: Literal["created", "existing", "linked", "choose_grid", "possible_duplicates"]
    case_id: int | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _writing(factory: sessionmaker[Session], media_dir: Path) -> Iterator[tuple[Session, PhotoStore]]:
    """One unit of work and a photo store whose files are removed again if the work fails."""
    store = PhotoStore(media_dir)
    try:
        with unit_of_work(factory) as session:
            yield session, store
    except BaseException:
        # The rows that named the files were rolled back; the files must not outlive them.
        store.discard()
        raise


def max_request_bytes() -> int:
    """The largest intake or action request: its fields and MAX_PHOTOS photos of MAX_BYTES."""
    return MAX_PHOTOS * case_photos.MAX_BYTES + FORM_BYTES


def may_report(principal: Principal) -> Principal:
    """``principal`` if they may report cases at all (where is checked against the location).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For a role that reports no cases (department staff, planners, administrators, …).
    """
    if not principal.signed_in or principal.person_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*INTAKE_ROLES):
        raise Forbidden("您的岗位不能上报案件，请由网格员或社区、街道、区指挥中心上报 "
                        "(your role does not report cases: grid workers and community, sub-district "
                        "or district staff do)")
    return principal


def intake(factory: sessionmaker[Session], principal: Principal, request: IntakeRequest, *,
           media_dir: Path) -> IntakeResult:
    """Validate, locate, route and save a new case reported by ``principal``, with its first
    event and photos.

    The location must be in (or within :data:`BOUNDARY_M` of) a grid the principal covers: one
    of a grid worker's grids, a grid in a supervisor's area; only those grids are offered when
    the reporter must choose, and only cases in the principal's scope are shown as possible
    duplicates or may be linked into. Runs in a transaction of its own; photos go under
    ``media_dir`` and are removed again if the transaction fails.
    """
    who = may_report(principal)
    with _writing(factory, media_dir) as (session, photos):
        return _intake(session, who, request, photos)


def intake_for_resident(factory: sessionmaker[Session], request: IntakeRequest, *,
                        grid_code: str, recorder_id: int, media_dir: Path) -> IntakeResult:
    """A resident's request (Open311), recorded by ``recorder_id`` in the grid it was routed to.

    The caller has chosen ``grid_code`` and the person who records the case (the Open311
    client's own person); intake runs as a grid worker limited to that one grid would.
    """
    recorder = Principal(person_id=recorder_id, role=Role.GRID_WORKER,
                         grids=frozenset({grid_code}))
    with _writing(factory, media_dir) as (session, photos):
        return _intake(session, recorder, request, photos)


def _intake(session: Session, who: Principal, request: IntakeRequest,
            photos: PhotoStore) -> IntakeResult:
    if request.client_token:
        existing = repo.by_token(session, request.client_token)
        if existing is not None:
            return _existing(session, who, existing.id)
    category = _validate(session, request)
    lon, lat = _wgs84(request)
    grid = _choose_grid(session, who, request, lon, lat)  # where: checked before any decoding
    if isinstance(grid, IntakeResult):
        return grid
    case_photos.admit(request.photos, max_count=MAX_PHOTOS)
    prepared = case_photos.prepare_all(request.photos)
    if request.link_to is not None:
        return _link(session, who, request, photos, prepared)
    if not request.confirm_new:
        since = datetime.now(UTC) - timedelta(days=DUPLICATE_DAYS)
        duplicates = repo.possible_duplicates(session, lon, lat, request.category,
                                              who.case_scope(), radius_m=DUPLICATE_RADIUS_M,
                                              since=since)
        if duplicates:
            return IntakeResult("possible_duplicates", candidates=duplicates)
    case_id = _save(session, who, request, category, grid, lon, lat)
    photos.save_all(session, case_id, "report", prepared)
    return IntakeResult("created", case_id)


def file_in(session: Session, principal: Principal, request: IntakeRequest, *,
            grid_code: str) -> int:
    """Save a new case in the caller's unit of work (another feature's write that must be all
    or nothing with it, e.g. a care visit that "needs help"), routed to ``grid_code``.

    The request is validated as intake's is; no duplicate check and no photos. The caller has
    checked that ``principal`` works in ``grid_code``; it is checked again here.

    Raises
    ------
    InvalidInput
        Every problem of the request at once.
    Forbidden
        ``principal`` does not report cases or does not cover ``grid_code``.
    """
    who = may_report(principal)
    if not who.covers(grid_code):
        raise Forbidden(f"网格 {grid_code} 不归您负责 (you do not work in that grid)")
    category = _validate(session, request)
    lon, lat = _wgs84(request)
    return _save(session, who, request, category, grid_code, lon, lat)


def _existing(session: Session, who: Principal, case_id: int) -> IntakeResult:
    """The case a repeated form made, if the reporter may see it; a token is not a way to learn
    that someone else's case exists."""
    if repo.scoped_case(session, case_id, who.case_scope()) is None:
        raise InvalidInput("client_token 已被使用，请刷新页面后重新填写 "
                           "(client_token already used: reload the form)")
    return IntakeResult("existing", case_id)


def _save(session: Session, who: Principal, request: IntakeRequest, category: Any, grid: str,
          lon: float, lat: float) -> int:
    """Insert the case, routed to ``grid`` and its worker, with its "report" event by ``who``."""
    context = repo.grid_context(session, grid, lon, lat)
    now = datetime.now(UTC)
    due = deadlines.deadlines(now, respond_hours=category.respond_hours,
                             resolve_hours=category.resolve_hours)
    case_id = repo.insert_case(session, {
        "category": request.category, "description": request.description.strip(),
        "address": request.address.strip(), "input_crs": request.crs.value,
        "grid_code": grid, "community_code": context["community_code"],
        "subdistrict_code": codes.ancestor(grid, codes.Level.SUBDISTRICT),
        "district_code": codes.ancestor(grid, codes.Level.DISTRICT),
        "building_code": context["building_code"],
        "reporter_name": request.reporter_name.strip(),
        "reporter_phone": request.reporter_phone.strip(), "channel": request.channel,
        "owner_person_id": context["worker_id"], "created_by": _person(who),
        "client_token": request.client_token, "created_at": now, "updated_at": now,
        "respond_by": due.respond_by, "resolve_by": due.resolve_by,
    }, lon, lat)
    repo.insert_event(session, case_id, action="report", from_state=None, to_state="reported",
                      actor_id=_person(who), note="",
                      payload={"channel": request.channel, "grid": grid,
                               "photos": len(request.photos)})
    return case_id


def _validate(session: Session, request: IntakeRequest) -> Any:
    """The request's category, or every problem at once, each under the field it concerns and
    named by that field's label on the intake form."""
    problems: dict[str, str] = {}
    category = repo.category(session, request.category)
    if category is None:
        problems["category"] = f"未知的案件类别 '{request.category[:40]}' (unknown category)"
    description = request.description.strip()
    if not _readable(description):
        problems["description"] = "请填写问题描述 (description is required)"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = (f"问题描述最多 {MAX_DESCRIPTION} 字，现为 {len(description)} 字 "
                                   f"(description longer than {MAX_DESCRIPTION} characters)")
    if request.channel not in CHANNELS:
        problems["channel"] = (f"未知的来源渠道 '{request.channel[:40]}'，可选：{', '.join(CHANNELS)} "
                               "(unknown channel)")
    phone = request.reporter_phone.strip()
    if phone and (len(phone) > MAX_PHONE or not _PHONE.match(phone)):
        problems["reporter_phone"] = (f"反映人电话不是有效的电话号码（最多 {MAX_PHONE} 个字符） "
                                      "(reporter phone is not a phone number)")
    for name, label, value, limit in (("address", "地址", request.address, MAX_ADDRESS),
                                      ("reporter_name", "反映人姓名", request.reporter_name,
                                       MAX_REPORTER_NAME)):
        if len(value.strip()) > limit:
            problems[name] = f"{label}最多 {limit} 个字符 ({name} longer than {limit} characters)"
    if problems:
        raise InvalidInput("；".join(problems.values()), fields=problems)
    return category


def _readable(text: str) -> bool:
    """Whether ``text`` holds something to read: not only spaces, zero-width or direction marks."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc", "Zs")
               for c in text)


def _wgs84(request: IntakeRequest) -> tuple[float, float]:
    validate_lonlat(request.lon, request.lat)
    lon, lat = to_wgs84(request.lon, request.lat, request.crs)
    return float(lon), float(lat)


def _choose_grid(session: Session, who: Principal, request: IntakeRequest, lon: float,
                 lat: float) -> str | IntakeResult:
    """The grid the case goes to, or the reporter's grids to choose from.

    Only grids ``who`` covers count: a point in another's grid but at the edge of the
    reporter's is offered as theirs to confirm; a point near none of theirs is refused.
    """
    near = repo.grids_near(session, lon, lat, BOUNDARY_M)
    if not near:
        raise OutsideTerritory("该位置不在任何网格内，无法受理 (the point lies in no grid)")
    mine = [g for g in near if who.covers(str(g["code"]))]
    if not mine:
        raise Forbidden("该位置不在您负责的网格或辖区内 (the location is outside your grids or area)")
    codes = [str(g["code"]) for g in mine]
    if request.grid_code is not None:
        if request.grid_code not in [g["code"] for g in near]:
            raise InvalidInput(f"所选网格 {request.grid_code} 不在该位置附近，可选："
                               f"{', '.join(codes)} (chosen grid is not at this location)")
        if request.grid_code not in codes:
            raise Forbidden(f"网格 {request.grid_code} 不归您负责 (you do not work in that grid)")
        return str(request.grid_code)
    covering = [str(g["code"]) for g in mine if g["covers"]]
    if request.choose_grid_automatically:
        return covering[0] if covering else codes[0]
    if len(mine) == 1 and (covering or len(near) == 1):
        return codes[0]
    return IntakeResult("choose_grid", candidates=[
        {"code": g["code"], "name": g["name"], "community_name": g["community_name"],
         "covers": g["covers"], "distance_m": round(float(g["distance_m"]), 1)} for g in mine])


def _link(session: Session, who: Principal, request: IntakeRequest, photos: PhotoStore,
          prepared: Sequence[case_photos.PreparedPhoto]) -> IntakeResult:
    """Add a further report to a case, losing nothing of it: the reporter's name, phone (shown
    masked, as the case's own reporter's: :func:`gridmap.cases.repositories.cases.events`),
    channel and time on an ``add_report`` event, its photos as the case's report photos whose
    ids that event names."""
    assert request.link_to is not None
    case = repo.scoped_case(session, request.link_to, who.case_scope())
    if case is None:
        raise NotFound(f"案件 {request.link_to} 不存在 (case not found)")
    # 400 for both, as before: the request names a case it may not be linked into.
    if case.category != request.category:
        raise InvalidInput(f"只能并入同类别的案件：案件 {case.id} 的类别是 {case.category} "
                           "(link only to a case of the same category)")
    if workflow.State(case.state) not in workflow.LINKABLE_STATES:
        raise InvalidInput(f"案件 {case.id} 已评价、结案或作废，不能再并入新的反映，请另行上报 "
                           f"(case {case.id} is {case.state}: file a new case instead of linking)")
    photo_ids = photos.save_all(session, case.id, "report", prepared)
    repo.insert_event(session, case.id, action="add_report", from_state=case.state,
                      to_state=case.state, actor_id=_person(who),
                      note=request.description.strip(),
                      payload={"channel": request.channel,
                               "reporter_name": request.reporter_name.strip(),
                               "reporter_phone": request.reporter_phone.strip(),
                               "address": request.address.strip(), "photo_ids": photo_ids})
    if not repo.update_case(session, case.id, case.version, {}):
        raise Conflict("案件刚被他人修改，请刷新后重试 (the case changed meanwhile; reload)")
    return IntakeResult("linked", case.id)


def view(session: Session, case: Case) -> workflow.CaseView:
    """The workflow-relevant part of a stored case."""
    return workflow.CaseView(
        state=workflow.State(case.state), grid_code=case.grid_code,
        community_code=case.community_code,
        owner_kind=case.owner_kind,  # type: ignore[arg-type]
        owner_department=case.owner_department,
        enrolled_departments=frozenset(repo.enrolled_departments(session, case.grid_code)),
        cohandlers=tuple(workflow.CoHandler(c.department_code, c.done, c.note)
                         for c in repo.cohandlers(session, case.id)),
        suspended_from=workflow.State(case.suspended_from) if case.suspended_from else None,
        reopen_count=case.reopen_count, rating=case.rating)


def act(factory: sessionmaker[Session], principal: Principal, case_id: int, action: str, *,
        version: int, params: dict[str, Any], media_dir: Path,
        after_photos: Sequence[UploadedPhoto] = ()) -> workflow.Transition:
    """Apply a workflow action to a case as ``principal``, if the case is still at ``version``.

    The case is loaded through the principal's scope (NotFound outside it, as for a case that
    does not exist); the workflow then decides (Forbidden with who may, Conflict, InvalidInput).
    The new state, the co-handlers, an immutable event and the after-photos are written in one
    transaction of its own; a concurrent change (another version) raises Conflict and writes
    nothing, and photo files written before a failure are removed. The photos are decoded only
    once the principal is known to be allowed this action on this case.
    """
    with _writing(factory, media_dir) as (session, store):
        if after_photos:
            params = {**params, "after_photos": len(after_photos)}
        case, transition = _authorise(session, principal, case_id, action, version=version,
                                      params=params)
        case_photos.admit(after_photos, max_count=MAX_PHOTOS)
        prepared = case_photos.prepare_all(after_photos)
        _write_transition(session, case, transition)
        store.save_all(session, case_id, "after", prepared)
    return transition


def _authorise(session: Session, principal: Principal, case_id: int, action: str, *,
               version: int, params: dict[str, Any]) -> tuple[Case, workflow.Transition]:
    """The case and what ``action`` by ``principal`` makes of it; refused if they may not."""
    case = repo.scoped_case(session, case_id, principal.case_scope())
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在 (case not found)")
    if case.version != version:
        # Short and without version numbers: the page reloads the case and shows what changed.
        raise Conflict("案件已被他人更新，请查看最新情况后再办理 "
                       "(someone else updated the case; check it and try again)")
    return case, workflow.apply(view(session, case), principal, action, **params)


def _write_transition(session: Session, case: Case, transition: workflow.Transition) -> None:
    case_id, version = case.id, case.version
    new = transition.case
    values: dict[str, Any] = {
        "state": new.state.value, "owner_kind": new.owner_kind,
        "owner_department": new.owner_department, "reopen_count": new.reopen_count,
        "rating": new.rating,
        "suspended_from": new.suspended_from.value if new.suspended_from else None,
    }
    values.update(_timestamps(case, transition))
    if new.owner_kind == "grid" or new.owner_kind is None:
        values["owner_person_id"] = repo.grid_worker(session, case.grid_code)
    else:
        values["owner_person_id"] = None
    if not repo.update_case(session, case_id, version, values):
        raise Conflict("案件已被他人更新，请查看最新情况后再办理 "
                       "(someone else updated the case; check it and try again)")
    repo.replace_cohandlers(session, case_id,
                            [(c.department_code, c.done, c.note) for c in new.cohandlers])
    event = transition.event
    repo.insert_event(session, case_id, action=event.action.value,
                      from_state=event.from_state.value, to_state=event.to_state.value,
                      actor_id=event.actor_id, note=event.note, payload=dict(event.payload))
    # Dispatches, whistles and returns reach their people's inboxes with the action itself.
    case_inbox.file_for_case_action(
        session, case_id=case_id, version=version + 1, grid_code=case.grid_code,
        action=event.action.value, payload=event.payload,
        owner_person_id=values["owner_person_id"], actor_id=event.actor_id)


def _timestamps(case: Case, transition: workflow.Transition) -> dict[str, datetime]:
    now = datetime.now(UTC)
    to = transition.event.to_state
    stamps: dict[str, datetime] = {}
    if case.responded_at is None and workflow.is_response(transition.event):
        stamps["responded_at"] = now
    if to is workflow.State.RESOLVED:
        stamps["resolved_at"] = now
    if to in workflow.TERMINAL_STATES:
        stamps["closed_at"] = now
    return stamps


def _person(who: Principal) -> int:
    """The reporter's person id (``may_report`` has made sure there is one)."""
    if who.person_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    return who.person_id
