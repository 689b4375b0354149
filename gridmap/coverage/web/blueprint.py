"""The ``coverage`` blueprint that :mod:`~gridmap.coverage.web.pages` and
:mod:`~gridmap.coverage.web.api` attach their handlers to."""

from __future__ import annotations

from flask import Blueprint

from gridmap.coverage.services.readers import READERS
from gridmap.web.auth import current_principal

bp = Blueprint("coverage", __name__)


@bp.app_context_processor
def _coverage_link() -> dict[str, object]:
    # The header's coverage link, for exactly the roles its views admit.
    return {"may_read_coverage": current_principal().has(*READERS)}
