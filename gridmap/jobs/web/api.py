"""Jobs API: the jobs one may watch, one job (poll it for progress), and cancel.

Features start their own kinds (e.g. ``POST /api/coverage/jobs``); these endpoints are the same
for every kind. A job one may not watch is a 404, as one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gridmap.jobs.services import jobs
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory

bp = Blueprint("jobs", __name__)


@bp.get("/api/jobs")
@require()
def listing() -> Response:
    """The newest jobs the caller may watch (``active=1``: only those waiting or running)."""
    active = params.flag(request.args, "active")
    return jsonify({"jobs": jobs.listing(session_factory(), current_principal(),
                                         active_only=active)})


@bp.get("/api/jobs/<int:job_id>")
@require()
def job(job_id: int) -> Response:
    """One job: state, progress (fraction and a line of text), result or error."""
    answer = jsonify({"job": jobs.view(session_factory(), current_principal(), job_id)})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.post("/api/jobs/<int:job_id>/cancel")
@require()
def cancel(job_id: int) -> Response:
    """Stop a job: a waiting one at once, a running one at its next step (nothing of it kept)."""
    return jsonify({"job": jobs.cancel(session_factory(), current_principal(), job_id)})
