"""The ``exchange`` blueprint that :mod:`~gridmap.exchange.web.pages` and
:mod:`~gridmap.exchange.web.api` attach their handlers to."""

from __future__ import annotations

from flask import Blueprint

from gridmap.exchange.rules import EXCHANGERS
from gridmap.web.auth import current_principal

bp = Blueprint("exchange", __name__)


@bp.app_context_processor
def _data_link() -> dict[str, object]:
    # The header's data link, for exactly the roles the page admits.
    return {"may_exchange": current_principal().has(*EXCHANGERS)}
