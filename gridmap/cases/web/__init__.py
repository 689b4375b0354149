"""The case feature's web face: the case API and pages, the case map and dashboard, Open311."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the case blueprints (Open311 included) to ``app``."""
    from gridmap.cases.open311 import web as open311
    from gridmap.cases.web import api, dashboard, pages
    from gridmap.cases.web import map as case_map

    for module in (api, open311, pages, dashboard, case_map):
        app.register_blueprint(module.bp)
    from gridmap.cases.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    describe(app, OPERATIONS)
    from gridmap.web.errors import register_error_format

    # A GeoReport client gets GeoReport's error list also on a path no route matches.
    register_error_format(app, f"{open311.bp.url_prefix}/", open311.error_response)
    from gridmap.cases.web.metrics import CaseCollector
    from gridmap.web.metrics import register_collector

    register_collector(app, CaseCollector())
