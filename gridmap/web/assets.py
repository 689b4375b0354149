"""Serve third-party front-end files from ``node_modules`` (installed by ``npm ci``).

Nothing is fetched from a CDN at run time and nothing third-party is committed. Only files on
an explicit whitelist are served, so neither a typo nor ``..`` can expose the rest of
``node_modules`` (or anything above it). URLs built with :func:`vendor_url` carry the installed
version, which lets browsers cache them for a year and still pick up an upgrade at once.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_from_directory, url_for
from flask.blueprints import BlueprintSetupState

log = logging.getLogger(__name__)

bp = Blueprint("assets", __name__, url_prefix="/vendor")

# package -> pattern the whole relative path must match. Patterns admit no "/.." or "//".
WHITELIST: dict[str, re.Pattern[str]] = {
    "leaflet": re.compile(r"dist/(leaflet\.js(\.map)?|leaflet\.css|images/[a-z0-9-]+\.png)"),
    "leaflet.markercluster": re.compile(
        r"dist/(leaflet\.markercluster\.js(\.map)?|MarkerCluster(\.Default)?\.css)"),
    "leaflet.heat": re.compile(r"dist/leaflet-heat\.js"),
    "echarts": re.compile(r"dist/echarts\.min\.js"),
    "@geoman-io/leaflet-geoman-free": re.compile(r"dist/leaflet-geoman\.(min\.js|css)"),
    "swagger-ui-dist": re.compile(r"swagger-ui(-bundle\.js|\.css)"),
    "leaflet.vectorgrid": re.compile(r"dist/Leaflet\.VectorGrid\.bundled\.min\.js"),
}
# The file whose presence tells us a package is installed at all.
ENTRY_FILES: dict[str, str] = {"leaflet": "dist/leaflet.js",
                               "leaflet.markercluster": "dist/leaflet.markercluster.js",
                               "leaflet.heat": "dist/leaflet-heat.js",
                               "echarts": "dist/echarts.min.js",
                               "@geoman-io/leaflet-geoman-free": "dist/leaflet-geoman.min.js",
                               "swagger-ui-dist": "swagger-ui-bundle.js",
                               "leaflet.vectorgrid": "dist/Leaflet.VectorGrid.bundled.min.js"}

VERSIONED_MAX_AGE_S = 365 * 24 * 3600
UNVERSIONED_MAX_AGE_S = 24 * 3600
INSTALL_HINT = "run `npm ci --no-audit --no-fund` in the repository root (or `make setup`)"


def _assets_dir() -> Path:
    return Path(current_app.extensions["gridmap.settings"].assets_dir)


@bp.get("/<package>/<path:path>")
def vendor_file(package: str, path: str) -> Response:
    """Send one whitelisted file of an npm package, with long cache headers (a scoped package,
    ``@scope/name``, is ``@scope+name`` in the URL)."""
    package = package.replace("+", "/")
    pattern = WHITELIST.get(package)
    if pattern is None or not pattern.fullmatch(path):
        abort(404)
    package_dir = _assets_dir() / package
    if not (package_dir / path).is_file():
        log.error("vendor file %s/%s is missing from %s: %s",
                  package, path, _assets_dir(), INSTALL_HINT)
        abort(404)
    versioned = request.args.get("v") == installed_version(_assets_dir(), package)
    response = send_from_directory(
        package_dir, path, max_age=VERSIONED_MAX_AGE_S if versioned else UNVERSIONED_MAX_AGE_S)
    if versioned:
        response.cache_control.immutable = True
    return response


# Only found versions are cached, so running `npm ci` after start-up needs no restart.
_versions: dict[tuple[Path, str], str] = {}


def installed_version(assets_dir: Path, package: str) -> str | None:
    """The version in ``<assets_dir>/<package>/package.json``, or None when not installed."""
    key = (assets_dir, package)
    if key not in _versions:
        try:
            manifest = json.loads((assets_dir / package / "package.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        version = manifest.get("version")
        if not isinstance(version, str):
            return None
        _versions[key] = version
    return _versions[key]


def vendor_url(package: str, path: str) -> str:
    """URL of a vendor file, versioned so it can be cached for good."""
    version = installed_version(_assets_dir(), package)
    return url_for("assets.vendor_file", package=package.replace("/", "+"), path=path, v=version)


def missing_packages(assets_dir: Path | None = None) -> list[str]:
    """Whitelisted packages whose entry file is absent (so pages can say what is wrong)."""
    root = _assets_dir() if assets_dir is None else assets_dir
    return [name for name, entry in ENTRY_FILES.items() if not (root / name / entry).is_file()]


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    # Say it once at start-up, in the log people read, rather than only as a browser 404.
    assets_dir = Path(state.app.extensions["gridmap.settings"].assets_dir)
    missing = missing_packages(assets_dir)
    if missing:
        log.warning("front-end packages %s are not installed in %s; the map cannot work until "
                    "you %s", ", ".join(missing), assets_dir, INSTALL_HINT)


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"vendor_url": vendor_url, "missing_vendor_packages": missing_packages}
