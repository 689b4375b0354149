"""The ``coverage`` blueprint that :mod:`~gridmap.coverage.web.pages` and
:mod:`~gridmap.coverage.web.api` attach their handlers to."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coverage", __name__)
