"""The ``reports`` blueprint that :mod:`~gridmap.reports.web.api` attaches its handlers to."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
