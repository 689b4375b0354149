"""Long SQL lives in package resources (gridmap/sql/*.sql), loaded once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from sqlalchemy import TextClause, text


@cache
def sql(name: str) -> TextClause:
    """The statement in ``gridmap/sql/<name>.sql`` as a bindable text clause."""
    return text(files("gridmap").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))
