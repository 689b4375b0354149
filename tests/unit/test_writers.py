"""The shared GeoJSON and CSV writers: valid documents, caps, and spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gridmap import writers


def _collect(chunks: object) -> str:
    return "".join(chunks)  # type: ignore[arg-type]


def test_feature_collection_is_valid_json_with_the_count() -> None:
    feats = (writers.feature(geometry='{"type":"Point","coordinates":[123.4,41.8]}',
                             properties={"name": "大东", "n": i}, feature_id=i) for i in range(450))
    doc = json.loads(_collect(writers.feature_collection(feats)))
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == 450
    assert doc["features"][449] == {"type": "Feature", "id": 449, "properties": {"name": "大东", "n": 449},
                                    "geometry": {"type": "Point", "coordinates": [123.4, 41.8]}}
    assert "truncated" not in doc


def test_empty_collection() -> None:
    assert json.loads(_collect(writers.feature_collection(iter([])))) == {
        "type": "FeatureCollection", "features": [], "numberReturned": 0}


def test_cap_truncates_and_closes_the_source() -> None:
    closed = []

    def source():  # type: ignore[no-untyped-def]
        try:
            for i in range(10):
                yield writers.feature(geometry=None, properties={"i": i})
        finally:
            closed.append(True)

    doc = json.loads(_collect(writers.feature_collection(source(), cap=3)))
    assert doc["numberReturned"] == 3 and doc["truncated"] is True and closed == [True]


def test_feature_serialises_dates_and_decimals() -> None:
    text = writers.feature(geometry={"type": "Point", "coordinates": [1, 2]},
                           properties={"at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
                                       "rate": Decimal("0.25")})
    assert json.loads(text)["properties"] == {"at": "2026-01-02T03:04:00+00:00", "rate": 0.25}


@pytest.mark.parametrize("bad", ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(bad: str) -> None:
    text = _collect(writers.csv_rows(["a", "b"], [{"a": bad, "b": -5}]))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["a", "b"], ["'" + bad, "-5"]]


def test_csv_bom_header_none_and_sequences() -> None:
    text = _collect(writers.csv_rows(["code", "名称"], [("210103", None), ("210104", "大东")],
                                     header=["代码", "名称"]))
    assert text.startswith("\ufeff代码,名称\r\n")
    assert text.splitlines()[1:] == ["210103,", "210104,大东"]
    assert not _collect(writers.csv_rows(["a"], [], bom=False)).startswith("\ufeff")


def test_csv_streams_in_chunks() -> None:
    chunks = list(writers.csv_rows(["x"], ({"x": "y" * 100} for _ in range(2000))))
    assert len(chunks) > 2 and max(len(c) for c in chunks) < writers.CSV_CHUNK_BYTES + 200


def test_json_safe_writes_instants_days_and_decimals_as_the_api_does() -> None:
    at = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    assert writers.json_safe({"a": [at, date(2026, 11, 1)], "b": 1}) == {
        "a": ["2026-11-30T09:30:00+00:00", "2026-11-01"], "b": 1}
    shenyang = datetime(2026, 11, 30, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    assert writers.json_safe((shenyang, Decimal("2.5"))) == ["2026-11-30T09:30:00+00:00", 2.5]
