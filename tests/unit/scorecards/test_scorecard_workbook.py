"""The scorecard workbook and the merge of metric sources, without a database: headings in
both languages, number formats, formula-safe text, empty cells for missing figures, and the
change and places gained computed from last month's values."""

from __future__ import annotations

import io

import openpyxl

from gridmap.scorecards import columns as cols
from gridmap.scorecards import workbook
from gridmap.scorecards.services.scorecards import _merge

ROW = {"code": "210103001001001", "name": "=cmd|' /C calc'!A0", "cases": 5, "prev_cases": 2,
       "valid": 4, "reopened": 1, "on_time_response_rate": 0.75,
       "prev_on_time_response_rate": 0.5, "rank_on_time_response_rate": 2,
       "prev_rank_on_time_response_rate": 5, "satisfaction_rate": None}


def test_merge_adds_changes_and_places_gained() -> None:
    other = {"code": ROW["code"], "name": ROW["name"], "visits": 3}  # a later metric source
    [row] = _merge({"cases": [dict(ROW)], "visits": [other]})
    assert row["visits"] == 3 and row["change_cases"] == 3
    assert row["change_on_time_response_rate"] == 0.25
    assert row["rank_change_on_time_response_rate"] == 3   # from 5th to 2nd
    assert row["change_satisfaction_rate"] is None and row["rank_change_reopen_rate"] is None


def test_workbook_sheets_formats_and_safe_text() -> None:
    [row] = _merge({"cases": [dict(ROW)]})
    for lang, first, defs in (("zh", "受理案件数", "指标说明"), ("en", "Cases received", "Definitions")):
        data = workbook.build([("grid", "grid", {"rows": [row]})], month="2026-10", lang=lang)
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["grid", defs]
        sheet = book["grid"]
        head = [c.value for c in sheet[1]]
        assert head[2] == first and sheet.freeze_panes == "C2"
        cells = {h: c for h, c in zip(head, sheet[2], strict=True)}
        assert cells[head[1]].value == "'=cmd|' /C calc'!A0"            # never a formula
        rate = cells[cols.header(cols.COLUMNS[2], lang=lang)]
        assert rate.value == 0.75 and rate.number_format == workbook.PERCENT
        satisfaction = cells[cols.header(cols.COLUMNS[4], lang=lang)]
        assert satisfaction.value is None                                # no rating, no figure
        assert [r[0].value for r in book[defs].iter_rows()][1] == first
