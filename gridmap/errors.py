"""One exception tree; each class carries its HTTP status and a message safe to show a person.

Messages are Chinese first (the UI language); handlers never send database text or ``str()`` of
an unexpected exception to a client.
"""

from __future__ import annotations

from typing import Any


class GridmapError(Exception):
    """Base class: an error with a public message and an HTTP status."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GridmapError):
    """The request or file is malformed (HTTP 400).

    ``fields`` optionally names the form field each problem concerns (field -> message), so a
    form can show each message at its field; ``message`` still holds them all.
    """

    status = 400
    code = "invalid_input"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class Unauthorized(GridmapError):
    """The request needs a signed-in account (HTTP 401)."""

    status = 401
    code = "unauthorized"
    MESSAGE = "请先登录 (please sign in first)"


class Forbidden(GridmapError):
    """The acting person may not do this (HTTP 403)."""

    status = 403
    code = "forbidden"


class NotFound(GridmapError):
    """The thing asked for does not exist (HTTP 404)."""

    status = 404
    code = "not_found"


class OutsideTerritory(NotFound):
    """A location lies outside every grid."""

    code = "outside_territory"


class Conflict(GridmapError):
    """The write conflicts with existing data (HTTP 409)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(GridmapError):
    """An upload is larger than allowed (HTTP 413)."""

    status = 413
    code = "payload_too_large"


class RateLimited(GridmapError):
    """One client address asked too often within a window (HTTP 429)."""

    status = 429
    code = "rate_limited"
    MESSAGE = "请求过于频繁，请稍后再试 (too many requests: please wait and try again)"


class StorageFull(GridmapError):
    """The disk that keeps uploaded files is full; nothing was saved (HTTP 507)."""

    status = 507
    code = "storage_full"


class DataRejected(GridmapError):
    """Imported data breaks a rule; names the offending row/feature (HTTP 422). ``places``: a
    GeoJSON FeatureCollection (WGS84) of where, for a map to show (sent with the message)."""

    status = 422
    code = "data_rejected"

    def __init__(self, message: str, *, places: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.places = places


class ConfigurationError(GridmapError):
    """The deployment is misconfigured (missing setting, unreachable database)."""

    status = 500
    code = "configuration_error"
