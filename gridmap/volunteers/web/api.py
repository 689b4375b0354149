"""Party layers and volunteers API. Handlers parse and call a service; the services check scope
and own the transactions. Answers that may hold people are never cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gridmap.errors import InvalidInput
from gridmap.volunteers import rules
from gridmap.volunteers.services import imports, party, tasks, teams
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.writers import json_safe

party_bp = Blueprint("party", __name__)
volunteers_bp = Blueprint("volunteers", __name__)
_TASKS_MAX = 500


def _private(body: Any, *, geo: bool = False) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    if geo:
        response.mimetype = "application/geo+json"
    return response


@party_bp.get("/api/party/counts")
def counts() -> Response:
    """Per grid and community of an area: Party branches, groups and central households (counts
    only; small household counts suppressed outside one's scope)."""
    return _private(party.counts(session_factory(), current_principal(), request.args))


@party_bp.get("/api/party/grids.geojson")
def grids_geojson() -> Response:
    """The counts as grid polygons: the households layer the public and planners see."""
    return _private(party.counts_geojson(session_factory(), current_principal(), request.args),
                    geo=True)


@party_bp.get("/api/party/branches.geojson")
def branches_geojson() -> Response:
    """Grid Party branches (网格党支部), each the union of the grids it serves."""
    return _private(party.branches_geojson(session_factory(), current_principal(),
                                           request.args), geo=True)


@party_bp.get("/api/party/groups.geojson")
def groups_geojson() -> Response:
    """Building Party groups (楼栋党小组) as points on their buildings."""
    return _private(party.groups_geojson(session_factory(), current_principal(), request.args),
                    geo=True)


@party_bp.get("/api/party/households.geojson")
@require(*rules.STAFF_ROLES)
def households_geojson() -> Response:
    """Party-member central households (党员中心户) with names: staff, their grids only."""
    return _private(party.households_geojson(session_factory(), current_principal(),
                                             request.args), geo=True)


@volunteers_bp.get("/api/volunteers/reference")
def reference() -> Response:
    """Skills, task states and the points rule (reference data, no person)."""
    return jsonify(teams.reference(session_factory()))


@volunteers_bp.get("/api/volunteers/communities/<community>")
def community(community: str) -> Response:
    """A community's teams, ranking and (for staff over it) volunteers and tasks."""
    return _private(json_safe(teams.community_view(session_factory(), current_principal(),
                                                    community)))


@volunteers_bp.get("/api/volunteers/communities/<community>/tasks")
def task_list(community: str) -> Response:
    """A community's tasks, newest first, optionally of one state (staff over it)."""
    state = params.choice(request.args, "state", rules.STATES)
    limit = params.integer(request.args, "limit", default=100, lo=1, hi=_TASKS_MAX)
    return _private(json_safe({"tasks": tasks.listing(
        session_factory(), current_principal(), community, state, limit)}))


def _skills(f: dict[str, Any]) -> list[str]:
    raw = f.get("skills", [])
    values = raw if isinstance(raw, list) else [s for s in str(raw).split(",") if s]
    if len(values) > rules.MAX_SKILLS * 2:
        raise InvalidInput(f"skills 最多 {rules.MAX_SKILLS} 项 (at most {rules.MAX_SKILLS} "
                           "skills)")
    return [params.clean_text(s, "skills", max_chars=24) for s in values]


@volunteers_bp.post("/api/volunteers/teams")
def create_team() -> tuple[Response, int]:
    """A new volunteer team of a community (staff over it)."""
    f = params.fields(lists=("skills",))
    found = teams.create_team(session_factory(), current_principal(), teams.TeamRequest(
        community_code=params.text(f, "community_code", max_chars=24),
        name=params.text(f, "name", max_chars=rules.MAX_TEAM_NAME * 2), skills=_skills(f)))
    return _private(found), 201


@volunteers_bp.post("/api/volunteers/teams/<int:team_id>/volunteers")
def add_volunteer(team_id: int) -> tuple[Response, int]:
    """A new volunteer of a team, optionally its leader (staff over the team's community)."""
    f = params.fields(lists=("skills",))
    found = teams.add_volunteer(session_factory(), current_principal(), team_id,
                                teams.VolunteerRequest(
        name=params.text(f, "name", max_chars=rules.MAX_NAME * 2),
        phone=params.text(f, "phone", max_chars=rules.MAX_PHONE * 2), skills=_skills(f),
        availability=params.text(f, "availability", max_chars=rules.MAX_AVAILABILITY * 2),
        leader=params.flag(f, "leader")))
    return _private(found), 201


@volunteers_bp.post("/api/volunteers/tasks")
def publish_task() -> tuple[Response, int]:
    """Hand a case or a care visit's need to a team of its community (任务发布)."""
    f = params.fields()
    found = tasks.publish(session_factory(), current_principal(), tasks.TaskRequest(
        team_id=params.identifier(f, "team_id"), case_id=params.identifier(f, "case_id"),
        visit_id=params.identifier(f, "visit_id"),
        title=params.text(f, "title", max_chars=rules.MAX_TITLE * 2),
        detail=params.text(f, "detail", max_chars=rules.MAX_TEXT * 2, multiline=True)))
    return _private(found), 201


@volunteers_bp.post("/api/volunteers/tasks/<int:task_id>/accept")
def accept_task(task_id: int) -> Response:
    """Record that a volunteer of the team accepted the task."""
    f = params.fields()
    return _private(tasks.accept(session_factory(), current_principal(), task_id,
                                 params.identifier(f, "volunteer_id")))


@volunteers_bp.post("/api/volunteers/tasks/<int:task_id>/done")
def complete_task(task_id: int) -> Response:
    """Record the task as done with its hours (points by the rule in force)."""
    f = params.fields()
    hours = f.get("hours")
    if isinstance(hours, str):
        hours = params.clean_text(hours, "hours", max_chars=10)
    return _private(tasks.complete(session_factory(), current_principal(), task_id, hours,
                                   params.text(f, "note", max_chars=rules.MAX_TEXT * 2,
                                               multiline=True)))


@volunteers_bp.post("/api/volunteers/tasks/<int:task_id>/cancel")
def cancel_task(task_id: int) -> Response:
    """Cancel an open or accepted task, with the reason."""
    f = params.fields()
    return _private(tasks.cancel(session_factory(), current_principal(), task_id,
                                 params.text(f, "reason", max_chars=rules.MAX_TEXT * 2,
                                             multiline=True)))


@volunteers_bp.post("/api/volunteers/import")
def import_file() -> tuple[Response, int]:
    """Import teams and volunteers from an .xlsx or .csv upload (all or nothing; dry_run)."""
    imports.importer(current_principal())
    upload = request.files.get("file")
    dry_run = params.flag(request.form, "dry_run")
    if upload is None or not upload.filename:
        raise InvalidInput("请上传 .xlsx 或 .csv 文件 (upload an .xlsx or .csv file as 'file')",
                           fields={"file": "required"})
    name = params.clean_text(upload.filename, "file", max_chars=200)
    data = upload.stream.read(imports.MAX_BYTES + 1)
    report = imports.import_volunteers(session_factory(), current_principal(), data, name,
                                       dry_run=dry_run)
    return _private(report.as_dict()), 200 if dry_run else 201

