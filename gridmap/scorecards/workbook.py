"""The scorecard workbook (考核表.xlsx) with openpyxl in write-only mode: rows go to the sheet's
temporary file as they are written, so memory stays flat however many grids there are.

One sheet per level, headings in the reader's language (Chinese first), the heading row frozen,
rates as percentages and changes of rates in percentage points, and a sheet of definitions.
Pure: no Flask, no database — the caller passes the scorecards.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gridmap import writers
from gridmap.scorecards import columns as cols

PERCENT = "0.0%"
POINTS = '+0.0%;-0.0%;0.0%'
"""A rate's change: signed, in percentage points (Excel shows 0.05 as +5.0%)."""
SIGNED = "+0;-0;0"


def _headings(lang: str) -> list[tuple[str, str, str | None]]:
    """(key, heading, number format) of every column of a level sheet."""
    en = lang == "en"
    out: list[tuple[str, str, str | None]] = [("code", "Code" if en else "代码", "@"),
                                               ("name", "Name" if en else "名称", None)]
    for c in cols.COLUMNS:
        h = cols.header(c, lang=lang)
        value = PERCENT if c.kind == "rate" else "0"
        out.append((c.key, h, value))
        out.append((f"prev_{c.key}", f"{h}（上月）" if not en else f"{h} (last month)", value))
        out.append((f"change_{c.key}", f"{h}（环比）" if not en else f"{h} (change)",
                    POINTS if c.kind == "rate" else SIGNED))
        if c.ranked:
            out.append((f"rank_{c.key}", f"{h}排名" if not en else f"{h} rank", "0"))
            out.append((f"rank_change_{c.key}", f"{h}名次变化" if not en else f"{h} places gained",
                        SIGNED))
    return out


def _cell(sheet: WriteOnlyWorksheet, value: Any, fmt: str | None,
          bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=writers.safe_cell(value))
    if fmt is not None:
        cell.number_format = fmt
    if bold:
        cell.font = Font(bold=True)
    return cell


def _level_rows(sheet: WriteOnlyWorksheet, rows: Sequence[Mapping[str, Any]],
                lang: str) -> Iterator[list[WriteOnlyCell]]:
    heads = _headings(lang)
    yield [_cell(sheet, h, None, bold=True) for _, h, _ in heads]
    for row in rows:
        yield [_cell(sheet, row.get(key), fmt) for key, _, fmt in heads]


def build(sheets: Sequence[tuple[str, str, Mapping[str, Any]]], *, month: str,
          lang: str) -> bytes:
    """The workbook: ``sheets`` are (level, sheet title, scorecard body) in order."""
    book = Workbook(write_only=True)
    for _level, title, body in sheets:
        sheet = book.create_sheet(title=title)
        sheet.freeze_panes = "C2"  # the heading row and the unit's code and name stay in view
        sheet.column_dimensions["B"].width = 24
        for line in _level_rows(sheet, body["rows"], lang):
            sheet.append(line)
    _definitions(book, month=month, lang=lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _definitions(book: Workbook, *, month: str, lang: str) -> None:
    en = lang == "en"
    sheet = book.create_sheet(title="Definitions" if en else "指标说明")
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 80
    sheet.append([_cell(sheet, "Figure" if en else "指标", None, bold=True),
                  _cell(sheet, "Definition" if en else "定义", None, bold=True)])
    for c in cols.COLUMNS:
        sheet.append([cols.header(c, lang=lang), c.definition_en if en else c.definition_zh])
    sheet.append([])
    sheet.append(["Month" if en else "月份", month])
    sheet.append(["Notes" if en else "说明", cols.NOTES_EN if en else cols.NOTES_ZH])
    sheet.append(["Not yet included" if en else "暂未纳入",
                  "volunteer hours (not built yet)" if en else "志愿服务时长（相关功能尚未建设）"])
