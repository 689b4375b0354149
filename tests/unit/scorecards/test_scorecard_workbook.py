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
       "prev_rank_on_time_response_rate": 5, "satisfaction_rate": None,
       "volunteer_hours": 3.5, "prev_volunteer_hours": 1.0}


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
        row_ = sheet[2]
        cells = {h: c for h, c in zip(head, row_, strict=True)}
        assert cells[head[1]].value == "'=cmd|' /C calc'!A0"            # never a formula
        rate = cells[cols.header(cols.COLUMNS[2], lang=lang)]
        assert rate.value == 0.75 and rate.number_format == workbook.PERCENT
        satisfaction = cells[cols.header(cols.COLUMNS[4], lang=lang)]
        assert satisfaction.value is None                                # no rating, no figure
        assert all(c.font.bold for c in sheet[1])
        assert cells[head[0]].number_format == "@"
        at = head.index(cols.header(cols.COLUMNS[0], lang=lang))
        assert (row_[at].value, row_[at].number_format) == (5, "General")   # counts as they are
        assert (row_[at + 2].value, row_[at + 2].number_format) == (3, workbook.SIGNED)
        hours = cells[cols.header(cols.COLUMNS[-1], lang=lang)]
        assert (hours.value, hours.number_format) == (3.5, "General")   # not shown as 4
        at = head.index(cols.header(cols.COLUMNS[2], lang=lang))          # value, last month,
        assert [(c.value, c.number_format) for c in row_[at + 2:at + 5]] == [  # change, rank,
            (0.25, workbook.POINTS), (2, "General"), (3, workbook.SIGNED)]  # places gained
        assert [r[0].value for r in book[defs].iter_rows()][1] == first


def test_workbook_rows_do_not_share_figures() -> None:
    """The styled cells are reused row after row: each row keeps its own figures."""
    first, second = _merge({"cases": [dict(ROW), {**ROW, "code": "210103001001002",
                                                  "on_time_response_rate": None,
                                                  "prev_on_time_response_rate": 0.2}]})
    data = workbook.build([("grid", "grid", {"rows": [first, second]})], month="2026-10",
                          lang="en")
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["grid"].iter_rows(values_only=True))
    at = rows[0].index("Responded on time")
    assert [r[:1] + r[at:at + 3] for r in rows[1:]] == [
        ("210103001001001", 0.75, 0.5, 0.25), ("210103001001002", None, 0.2, None)]
