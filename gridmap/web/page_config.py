"""The one builder of the JSON object every page script reads (``window`` config).

Only deployment facts and server rules go here; every user-visible string is translated in the
template. A feature passes its own rules (limits, state groups …) as keyword arguments, so a
page never copies a number or a list the server enforces.
"""

from __future__ import annotations

from typing import Any

from flask import request

from gridmap.web.db import settings


def page_config(**extra: Any) -> dict[str, Any]:
    """Deployment facts (API base, app root, basemap) plus the page's own ``extra`` values."""
    current = settings()
    return {"apiBase": request.script_root + "/api", "root": request.script_root,
            "tileUrl": current.tile_url, "tileAttribution": current.tile_attribution, **extra}
