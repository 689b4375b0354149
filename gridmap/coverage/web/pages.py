"""Coverage pages: the analysis and planning page, and the GB 50180 audit page, for coverage
readers (the public is sent to the sign-in page; the planning tools show for planners only)."""

from __future__ import annotations

from flask import render_template

from gridmap.coverage.services import audit
from gridmap.coverage.services import queries as cov
from gridmap.coverage.services.jobs import COMPUTERS
from gridmap.coverage.services.readers import READERS
from gridmap.coverage.web import params
from gridmap.coverage.web.blueprint import bp
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config


@bp.get("/coverage")
@require(*READERS)
def page() -> str:
    """The coverage page: pickers, map (bands, catchments, choropleth), totals, table, chart."""
    with session_factory()() as session:
        choices = cov.choices(session, current_principal(), lang=current_lang())
    config = page_config(**choices, limits=params.limits(),
                         may_compute=current_principal().has(*COMPUTERS))
    return render_template("coverage/page.html", page_config=config)


@bp.get("/coverage/audit")
@require(*READERS)
def audit_page() -> str:
    """The GB 50180 audit page (审计): a table per community, export links, missing runs."""
    with session_factory()() as session:
        choices = cov.choices(session, current_principal(), lang=current_lang())
        pairs = audit.required_pairs(session)
        missing = audit.missing_runs(session)
    config = page_config(pairs=pairs, missing=missing, limits=params.limits(),
                         may_compute=current_principal().has(*COMPUTERS), **choices)
    return render_template("coverage/audit.html", page_config=config)
