"""Mediation API (评理说事): points with counts, a point's disputes, one dispute, a new dispute
accepted at a point, and the steps after it.

Handlers parse and call a service; the services check scope, mask or reveal parties (and log
every reveal) and own the transactions. Answers holding parties are never cached.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gridmap import codes
from gridmap.errors import InvalidInput
from gridmap.mediation import rules
from gridmap.mediation.services import disputes, points, steps
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.writers import json_safe

bp = Blueprint("mediation", __name__)
_PARTY_FIELDS = ("party_role", "party_name", "party_phone", "party_address")
_LISTS = (*_PARTY_FIELDS, "mediators", "present")


def _private(body: Any) -> Response:
    response = jsonify(json_safe(body))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _list(f: dict[str, Any], name: str, *, limit: int, max_chars: int) -> list[str]:
    raw = f.get(name, [])
    values = raw if isinstance(raw, list) else [raw]
    if len(values) > limit:
        raise InvalidInput(f"{name} 最多 {limit} 项 ({name}: at most {limit} items)")
    return [params.clean_text(v, name, max_chars=max_chars) for v in values]


def _parties(f: dict[str, Any]) -> list[disputes.Party]:
    limit = rules.MAX_PARTIES
    roles, names, phones, addresses = (
        _list(f, name, limit=limit, max_chars=rules.MAX_ADDRESS * 2) for name in _PARTY_FIELDS)
    if len(phones) < len(names):
        phones += [""] * (len(names) - len(phones))
    if len(addresses) < len(names):
        addresses += [""] * (len(names) - len(addresses))
    if not len(roles) == len(names) == len(phones) == len(addresses):
        raise InvalidInput("当事人各字段的项数须一致 (party_role, party_name, party_phone and "
                           "party_address must have as many items)", fields={"parties": "shape"})
    return [disputes.Party(role=r, name=n, phone=p, address=a)
            for r, n, p, a in zip(roles, names, phones, addresses, strict=True)]


@bp.get("/api/mediation/reference")
def reference() -> Response:
    """States, steps, levels, kinds and limits (reference data, no person)."""
    return jsonify(points.reference())


@bp.get("/api/mediation/counts")
def counts() -> Response:
    """Disputes per point and per community of an area, counts of 1-4 suppressed (anyone)."""
    return jsonify(points.public_counts(session_factory(), codes.area_filter(request.args)))


@bp.get("/api/mediation/points")
@require(*rules.MEDIATION_ROLES)
def point_list() -> Response:
    """Points serving an area and those above it, with places and exact counts (no person)."""
    return _private(points.staff_points(session_factory(), current_principal(),
                                        codes.area_filter(request.args)))


@bp.get("/api/mediation/points/<int:point_id>/disputes")
@require(*rules.MEDIATION_ROLES)
def point_disputes(point_id: int) -> Response:
    """A point's disputes; parties masked unless the reader may see them (then logged)."""
    state = params.choice(request.args, "state", [s.value for s in rules.STATES], default="")
    return _private(disputes.at_point(session_factory(), current_principal(), point_id,
                                      state or ""))


@bp.post("/api/mediation/points/<int:point_id>/disputes")
@require(*rules.MEDIATION_ROLES)
def create_dispute(point_id: int) -> tuple[Response, int]:
    """Accept (受理) a new dispute at the point, optionally from a case (转评理说事)."""
    f = params.fields(lists=_LISTS)
    new = disputes.DisputeRequest(
        kind=params.text(f, "kind", max_chars=24),
        summary=params.text(f, "summary", max_chars=rules.MAX_SUMMARY * 2, multiline=True),
        parties=_parties(f), community_code=params.text(f, "community", max_chars=24),
        case_id=params.identifier(f, "case_id"),
        mediators=_list(f, "mediators", limit=rules.MAX_MEDIATORS,
                        max_chars=rules.MAX_USERNAME))
    return _private(disputes.accept_new(session_factory(), current_principal(), point_id,
                                        new)), 201


@bp.get("/api/mediation/disputes/<int:dispute_id>")
@require(*rules.MEDIATION_ROLES)
def dispute(dispute_id: int) -> Response:
    """One dispute: parties (masked unless allowed; a reveal is logged), sessions, history."""
    return _private(disputes.detail(session_factory(), current_principal(), dispute_id))


@bp.post("/api/mediation/disputes/<int:dispute_id>/steps")
@require(*rules.MEDIATION_ROLES)
def take_step(dispute_id: int) -> Response:
    """Take a step: accept, session, agree, refer_up or refer_court (409 when not allowed now)."""
    f = params.fields(lists=_LISTS)
    step = steps.StepRequest(
        action=params.text(f, "action", max_chars=24),
        note=params.text(f, "note", max_chars=rules.MAX_NOTE * 2, multiline=True),
        held_on=params.day(f, "held_on"),
        present=_list(f, "present", limit=rules.MAX_MEDIATORS, max_chars=rules.MAX_NAME * 2),
        mediators=_list(f, "mediators", limit=rules.MAX_MEDIATORS,
                        max_chars=rules.MAX_USERNAME))
    return _private(steps.take(session_factory(), current_principal(), dispute_id, step))
