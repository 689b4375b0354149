"""The ``exchange`` blueprint that :mod:`~gridmap.exchange.web.pages` and
:mod:`~gridmap.exchange.web.api` attach their handlers to."""

from __future__ import annotations

from flask import Blueprint

from gridmap.exchange.layers import LAYERS
from gridmap.exchange.rules import EXCHANGERS, FORMATS, STREETS
from gridmap.web.auth import current_principal

bp = Blueprint("exchange", __name__)


@bp.app_context_processor
def _data_link() -> dict[str, object]:
    # The header's data link, for exactly the roles the page admits.
    return {"may_exchange": current_principal().has(*EXCHANGERS)}


@bp.app_context_processor
def _export_choices() -> dict[str, object]:
    # What the map page's export control offers: the export API's own layers and formats.
    return {"export_layers": [*LAYERS, STREETS], "export_formats": list(FORMATS)}
