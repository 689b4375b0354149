"""Long SQL lives in package resources (gridmap/sql/*.sql), loaded once."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from sqlalchemy import TextClause, text


@cache
def sql(name: str) -> TextClause:
    """The statement in ``gridmap/sql/<name>.sql`` as a bindable text clause."""
    return text(files("gridmap").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8"))


@cache
def pyformat(name: str) -> str:
    """The same statement with ``%(name)s`` placeholders, for a psycopg connection."""
    text_ = sql(name).text.replace("%", "%%")
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", text_)
