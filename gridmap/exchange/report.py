"""The import report: every problem found, where, in Chinese and English; as CSV and GeoJSON.

An error stops the import (nothing is written); a note says what was done on the way (a 3D
geometry flattened, a geometry repaired with ``--repair``) and lets it go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as attribute
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.writers import csv_rows, feature, feature_collection


class Severity(StrEnum):
    """Whether a problem stops the import."""

    ERROR = "error"
    NOTE = "note"


@dataclass(frozen=True)
class Problem:
    """One problem: which feature (its 1-based row in the file and its key), which field."""

    row: int | None
    """1-based position of the feature in the file; None for the file as a whole."""
    key: str
    field: str
    code: str
    zh: str
    en: str
    severity: Severity = Severity.ERROR
    where: BaseGeometry | None = attribute(default=None, compare=False)
    """Where to look on a map (the feature, or the gap or overlap itself)."""


COLUMNS = ["severity", "row", "key", "field", "code", "message_zh", "message_en"]


def _row(p: Problem) -> dict[str, Any]:
    return {"severity": p.severity.value, "row": p.row, "key": p.key, "field": p.field,
            "code": p.code, "message_zh": p.zh, "message_en": p.en}


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that stop an import."""
    return [p for p in problems if p.severity is Severity.ERROR]


def to_csv(problems: Iterable[Problem]) -> Iterator[str]:
    """The report as CSV (UTF-8 with BOM, for spreadsheet programs)."""
    return csv_rows(COLUMNS, (_row(p) for p in problems))


def to_geojson(problems: Iterable[Problem]) -> Iterator[str]:
    """The problems that have a place, as a FeatureCollection (WGS84) to view on a map."""
    return feature_collection(
        feature(geometry=shapely.to_geojson(p.where), properties=_row(p))
        for p in problems if p.where is not None and not p.where.is_empty)


def summary(problems: Iterable[Problem]) -> dict[str, int]:
    """Problems counted by code (errors and notes apart)."""
    counts: dict[str, int] = {}
    for p in problems:
        key = f"{p.severity.value}:{p.code}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
