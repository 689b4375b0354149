"""What every case page receives from the server: the workflow's states and groups, the limits
intake and actions enforce, and the area-code widths, all through ``page_config``, so that no
page script copies a list or a number the server decides."""

from __future__ import annotations

from typing import Any

from flask import render_template

from gridmap import codes
from gridmap.cases import workflow
from gridmap.cases.services import cases, photos
from gridmap.web.page_config import page_config

_MB = 1024 * 1024


def case_rules() -> dict[str, Any]:
    """The server's case rules as page-config entries (plain JSON values)."""
    return {
        "states": [s.value for s in workflow.STATE_ORDER],
        "stateGroups": {name: workflow.state_values(group)
                        for name, group in workflow.STATE_GROUPS.items()},
        "channels": list(cases.CHANNELS),
        "ratings": [r.value for r in workflow.Rating],
        "ratingMethods": [m.value for m in workflow.RatingMethod],
        "reasons": [r.value for r in workflow.CancelReason],
        "noteRequired": sorted(a.value for a in workflow.NOTE_REQUIRED),
        "limits": {"maxPhotos": cases.MAX_PHOTOS, "maxPhotoBytes": photos.MAX_BYTES,
                   "maxPhotoMb": photos.MAX_BYTES // _MB,
                   "maxDescription": cases.MAX_DESCRIPTION, "maxNote": workflow.NOTE_MAX_CHARS,
                   "maxAddress": cases.MAX_ADDRESS, "maxReporterName": cases.MAX_REPORTER_NAME,
                   "maxPhone": cases.MAX_PHONE},
        "areaLevels": {level.value: codes.width(level) for level in codes.LEVELS},
    }


def render_case_page(template: str, **extra: Any) -> str:
    """Render a case page with the deployment facts, the case rules and ``extra`` config."""
    return render_template(template, page_config=page_config(**case_rules(), **extra))
