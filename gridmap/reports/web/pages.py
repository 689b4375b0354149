"""The coverage reports page (覆盖报告): ask for a report, follow it, download the district's."""

from __future__ import annotations

from flask import render_template

from gridmap.coverage.services.readers import PLANNERS
from gridmap.reports.services import jobs as reports
from gridmap.reports.web.blueprint import bp
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.i18n import current_lang
from gridmap.web.page_config import page_config


@bp.get("/coverage/reports")
@require(*PLANNERS)
def page() -> str:
    """The reports page: rule and area pickers, the job's progress, the district's reports."""
    choices = reports.page_choices(session_factory(), current_principal(), lang=current_lang())
    found = reports.listing(session_factory(), current_principal())
    return render_template("reports/page.html", reports=found,
                           page_config=page_config(**choices))
