"""Security headers on every response: pages, API, Open311, static and vendor files, errors.

The values are fixed strings built once per app from the settings, so a small ``after_request``
does the job; flask-talisman was considered and not used because it also rewrites the session
cookie settings (which the sign-in work owns), redirects to HTTPS by default and trusts
``X-Forwarded-Proto`` on its own, none of which this app wants from a header helper.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response

from gridmap.config import Settings

# Why each source is there:
# - img-src data: blob: Leaflet's and ECharts' generated images; the basemap host is added below.
# - style-src-attr 'unsafe-inline': markup style attributes, which ECharts' default tooltips and
#   our map legend swatches (static/js/map.js) insert through innerHTML. Only attributes: no
#   <style> element or inline stylesheet is allowed (style-src-elem stays 'self'), so injected
#   markup cannot add selectors that read the page. Styles set from scripts through the CSSOM
#   (element.style.x = …, as Leaflet does) are not governed by CSP at all.
_CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("style-src-elem", "'self'"),
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data: blob:"),
    ("connect-src", "'self'"),
    ("font-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
# Only the intake page's "use my location" needs a powerful feature; everything else is off.
PERMISSIONS_POLICY = ("geolocation=(self), camera=(), microphone=(), payment=(), usb=(), "
                      "browsing-topics=()")
_TEMPLATE_LABEL = re.compile(r"[{}]")


def tile_source(tile_url: str) -> str | None:
    """The CSP source for a basemap URL template (``{s}.tile.example.org`` → ``*.tile…``).

    A host label holding a ``{…}`` placeholder becomes a ``*`` wildcard (CSP allows one only as
    the leftmost label, so every label up to the last templated one is folded into it).
    """
    parts = urlsplit(tile_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if _TEMPLATE_LABEL.search(label)]
    if templated:
        labels = ["*", *labels[templated[-1] + 1:]]
    if len(labels) < 2 or any(not re.fullmatch(r"[A-Za-z0-9-]+|\*", x) for x in labels):
        return None
    port = port if re.fullmatch(r"[0-9]{1,5}", port) else ""
    return f"{parts.scheme}://{'.'.join(labels)}" + (f":{port}" if port else "")


def content_security_policy(settings: Settings) -> str:
    """The CSP header value for this deployment (its basemap host may serve images)."""
    directives = dict(_CSP_DIRECTIVES)
    source = tile_source(settings.tile_url) if settings.tile_url else None
    if source:
        directives["img-src"] += " " + source
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    """Every header :func:`register_security_headers` sets, by name."""
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def register_security_headers(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response the app sends, error pages included."""
    headers = security_headers(settings)

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        return response
