"""Long SQL lives in package resources (``gridmap/<feature>/sql/*.sql``), loaded once."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from sqlalchemy import TextClause, text


@cache
def sql(name: str) -> TextClause:
    """The statement in ``gridmap/<feature>/sql/<file>.sql`` (``name`` = ``"feature/file"``)."""
    feature, _, file = name.partition("/")
    resource = files("gridmap").joinpath(feature, "sql", f"{file}.sql")
    return text(resource.read_text(encoding="utf-8"))


@cache
def pyformat(name: str) -> str:
    """The same statement with ``%(name)s`` placeholders, for a psycopg connection."""
    text_ = sql(name).text.replace("%", "%%")
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", text_)
