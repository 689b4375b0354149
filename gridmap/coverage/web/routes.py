"""Coverage analysis (覆盖分析): the blueprint with its pages and its API attached."""

from __future__ import annotations

from gridmap.coverage.web import api, pages
from gridmap.coverage.web.blueprint import bp

__all__ = ["api", "bp", "pages"]
