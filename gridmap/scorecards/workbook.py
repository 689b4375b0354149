"""The scorecard workbook (考核表.xlsx) with openpyxl in write-only mode: rows go to the sheet's
temporary file as they are written, so memory stays flat however many grids there are.

One sheet per level, headings in the reader's language (Chinese first), the heading row frozen,
rates as percentages and changes of rates in percentage points, and a sheet of definitions.
Pure: no Flask, no database — the caller passes the scorecards.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    """(key, heading, number format) of every column of a level sheet; None: General, which
    shows counts, ranks and hours as they are (a "0" format showed 3.5 hours as 4)."""
    en = lang == "en"
    out: list[tuple[str, str, str | None]] = [("code", "Code" if en else "代码", "@"),
                                               ("name", "Name" if en else "名称", None)]
    for c in cols.COLUMNS:
        h = cols.header(c, lang=lang)
        value = PERCENT if c.kind == "rate" else None
        out.append((c.key, h, value))
        out.append((f"prev_{c.key}", f"{h}（上月）" if not en else f"{h} (last month)", value))
        out.append((f"change_{c.key}", f"{h}（环比）" if not en else f"{h} (change)",
                    POINTS if c.kind == "rate" else SIGNED))
        if c.ranked:
            out.append((f"rank_{c.key}", f"{h}排名" if not en else f"{h} rank", None))
            out.append((f"rank_change_{c.key}", f"{h}名次变化" if not en else f"{h} places gained",
                        SIGNED))
    return out


def _bold(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def _level_rows(sheet: WriteOnlyWorksheet, rows: Iterable[Mapping[str, Any]],
                lang: str) -> Iterator[list[Any]]:
    """The heading row, then a row per unit.

    A styled cell costs openpyxl several times a plain value (profiled: the city's 17,379
    rows × 59 columns took 9.6 s with a new styled cell for every figure), so only the figures
    whose format shows differently from General are cells, one per column, reused row after
    row (``append`` writes each row out before the next is made); empty figures stay plain
    None, which openpyxl skips.
    """
    heads = _headings(lang)
    yield [_bold(sheet, h) for _, h, _ in heads]
    styled: list[tuple[str, WriteOnlyCell | None]] = []
    for key, _, fmt in heads:
        cell = None
        if fmt is not None:
            cell = WriteOnlyCell(sheet)
            cell.number_format = fmt
        styled.append((key, cell))
    safe = writers.safe_cell
    for row in rows:
        line: list[Any] = []
        for key, cell in styled:
            value = row.get(key)
            if cell is None or value is None:
                line.append(safe(value))
            else:
                cell.value = safe(value)
                line.append(cell)
        yield line


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
    sheet.append([_bold(sheet, "Figure" if en else "指标"),
                  _bold(sheet, "Definition" if en else "定义")])
    for c in cols.COLUMNS:
        sheet.append([cols.header(c, lang=lang), c.definition_en if en else c.definition_zh])
    sheet.append([])
    sheet.append(["Month" if en else "月份", month])
    sheet.append(["Notes" if en else "说明", cols.NOTES_EN if en else cols.NOTES_ZH])
