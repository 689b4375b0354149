"""What a collection is, for the SQL that reads it: a FROM, an id, a geometry and properties
(SQL expressions, whitelisted by construction), each possibly depending on who asks.

Collections are declared by :mod:`gridmap.ogc.services.collections` from the layer registry of
:mod:`gridmap.territory` (extended, not copied) and from cases and coverage; this module only
gives them one shape, and infers each property's JSON Schema type from its SQL type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, DateTime, Float, Integer, Numeric
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.type_api import TypeEngine

from gridmap.access import Principal

Expr = ColumnElement[Any] | QueryableAttribute[Any]
Condition = ColumnElement[bool]
"""A WHERE condition in SQL."""
Columns = Callable[[str, Principal], Sequence[tuple[str, Expr]]]
"""(language, principal) -> the properties as (name, SQL expression), in order."""


def kind_of(expr: Expr) -> str:
    """JSON Schema type of a property from its SQL type: integer, number, boolean, datetime
    (a string with format date-time) or string."""
    sql_type: TypeEngine[Any] = expr.type
    if isinstance(sql_type, Boolean):
        return "boolean"
    if isinstance(sql_type, Integer | BigInteger):
        return "integer"
    if isinstance(sql_type, Numeric | Float):
        return "number"
    if isinstance(sql_type, DateTime | Date):
        return "datetime"
    return "string"


def sortable(expr: Expr) -> bool:
    """Whether a property can be a sort key: a plain column that is never null (a keyset
    position compares with it; NULL compares with nothing)."""
    if not isinstance(expr, QueryableAttribute):
        return False
    columns: Any = getattr(expr.property, "columns", None)
    return bool(columns) and not columns[0].nullable


@dataclass(frozen=True)
class Collection:
    """One OGC API collection as SQL.

    ``source``: the FROM clause (a model or a join); ``conditions``: rows it holds (a
    facility type, a coverage run, a reader's area); ``columns``: properties by language and
    principal; ``geometry``: the geometry by principal (the public sees cases snapped);
    ``time``: the instant the ``datetime`` parameter filters on, if any.
    """

    id: str
    title_zh: str
    title_en: str
    description: str
    source: Any
    id_column: Expr
    geometry_type: str
    columns: Columns
    geometry: Callable[[Principal], Expr]
    conditions: Callable[[Principal], Sequence[ColumnElement[bool]]] = lambda p: ()
    time: Expr | None = None
    personal: Callable[[Principal], bool] = lambda p: False
    """Whether the answer to this principal may hold more than the public sees (then it is
    ``Cache-Control: private``)."""
    extent: tuple[float, float, float, float] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id_kind(self) -> str:
        """JSON Schema type of the feature ids."""
        return kind_of(self.id_column)
