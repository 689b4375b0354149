"""The one GeoJSON writer and the one CSV writer that every export streams through.

Both take rows one at a time and yield text in chunks, so an export of a whole city holds one
chunk in memory, never the layer. Feature texts may come ready-made from PostgreSQL
(``json_build_object``), in which case Python only concatenates them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

FEATURE_CHUNK = 200
"""Features joined into one yielded chunk."""
CSV_CHUNK_BYTES = 64 * 1024
"""CSV text buffered before it is yielded."""
CSV_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")
"""Cells starting with these are read as formulas by Excel/WPS (CSV injection, OWASP)."""


def json_safe(value: Any) -> Any:
    """``value`` as the API answers it, recursively: instants as ISO 8601 in UTC, days as ISO
    8601, decimals as numbers (Flask would write an instant as an HTTP date, a decimal as text)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON text, UTF-8 kept as is; dates as ISO 8601 and decimals as numbers."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def feature(*, geometry: str | Mapping[str, Any] | None, properties: Mapping[str, Any],
            feature_id: str | int | None = None) -> str:
    """One RFC 7946 Feature as JSON text.

    ``geometry`` is GeoJSON text (as PostGIS ``ST_AsGeoJSON`` gives it), a mapping, or None.
    """
    geom = "null" if geometry is None else geometry if isinstance(geometry, str) else dumps(geometry)
    head = '{"type":"Feature",' + ("" if feature_id is None else f'"id":{dumps(feature_id)},')
    return head + '"geometry":' + geom + ',"properties":' + dumps(properties) + "}"


def feature_collection(features: Iterable[str], *, cap: int | None = None) -> Iterator[str]:
    """Wrap feature texts in an RFC 7946 FeatureCollection, streamed in chunks.

    The collection ends with ``"numberReturned"``. With ``cap``, at most ``cap`` features are
    written and ``"truncated": true`` is added if more were available (so the query should
    fetch ``cap + 1`` rows); an iterator with ``close()`` is closed when the cap is reached.
    """
    # The opening goes out with the first features, not before them: a streamed answer's first
    # chunk then runs the query, while a failure can still be an error answer (web.streaming).
    n = 0
    chunk: list[str] = ['{"type":"FeatureCollection","features":[']
    truncated = False
    for text_ in features:
        if cap is not None and n >= cap:
            truncated = True
            close = getattr(features, "close", None)
            if close is not None:
                close()
            break
        chunk.append(("," if n else "") + text_)
        n += 1
        if len(chunk) >= FEATURE_CHUNK:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk)
    tail = ',"truncated":true' if truncated else ""
    yield f'],"numberReturned":{n}{tail}}}'


def safe_cell(value: Any) -> Any:
    """A cell that a spreadsheet shows as text: a leading ``= + - @`` tab or CR is quoted."""
    if isinstance(value, str) and value.startswith(CSV_UNSAFE_START):
        return "'" + value
    return value


def csv_rows(columns: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]], *,
             header: Sequence[str] | None = None, bom: bool = True) -> Iterator[str]:
    """Rows as CSV text (RFC 4180, CRLF), header first, streamed in chunks.

    Mapping rows are read by ``columns`` (missing keys give empty cells); sequence rows are
    written in order. ``header`` replaces the column names in the first line. With ``bom``
    the text starts with a UTF-8 byte-order mark, so Excel and WPS read the Chinese.
    Every text cell is neutralised against formula injection (:func:`safe_cell`).
    """
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in (header or columns)])
    for row in rows:
        values = ([row.get(c) for c in columns] if isinstance(row, Mapping) else list(row))
        writer.writerow([safe_cell("" if v is None else v) for v in values])
        if buffer.tell() > CSV_CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
