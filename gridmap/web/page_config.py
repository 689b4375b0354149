"""The one builder of the JSON object every page script reads (``window`` config).

Only deployment facts and server rules go here; every user-visible string is translated in the
template. A feature passes its own rules (limits, state groups …) as keyword arguments, so a
page never copies a number or a list the server enforces.
"""

from __future__ import annotations

from typing import Any

from flask import request

from gridmap.access import Principal
from gridmap.web.auth import current_principal
from gridmap.web.db import settings


def me(principal: Principal) -> dict[str, Any] | None:
    """The signed-in person as page scripts see them (None for the public)."""
    if not principal.signed_in:
        return None
    return {"name": principal.name, "role": principal.role, "areaCode": principal.area_code,
            "department": principal.department_code, "grids": sorted(principal.grids)}


def page_config(**extra: Any) -> dict[str, Any]:
    """Deployment facts (API base, app root, basemap), who is signed in, and the page's own
    ``extra`` values."""
    current = settings()
    return {"apiBase": request.script_root + "/api", "root": request.script_root,
            "tileUrl": current.tile_url, "tileAttribution": current.tile_attribution,
            "me": me(current_principal()), "signInUrl": request.script_root + "/login", **extra}
