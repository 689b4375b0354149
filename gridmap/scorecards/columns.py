"""The scorecard's columns: names, headers (Chinese first), kinds and definitions — written
once, used by the API, the CSV, the workbook and the page (pure: no Flask, no database).

A column belongs to a metric source (``source``); adding a metric means adding a source and
its columns here, nothing else in this package.
A source without figures for a level (the care register for departments) leaves its cells
empty (None), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "rate"]


@dataclass(frozen=True)
class Column:
    """One figure of a scorecard row."""

    key: str
    zh: str
    en: str
    kind: Kind
    source: str
    definition_zh: str
    definition_en: str
    ranked: bool = False
    lower_is_better: bool = False


CASES = "cases"
CARE = "care"
VOLUNTEERS = "volunteers"
COLUMNS: tuple[Column, ...] = (
    Column("cases", "受理案件数", "Cases received", "count", CASES,
           "当月上报的案件数（含作废）", "cases reported in the month, cancelled ones included"),
    Column("valid", "有效案件数", "Valid cases", "count", CASES,
           "当月上报且未作废的案件数；各比率的基数",
           "cases of the month not cancelled; the base of the rates"),
    Column("on_time_response_rate", "按时响应率", "Responded on time", "rate", CASES,
           "在响应时限内首次响应的案件 ÷ 已响应或已超响应时限的有效案件",
           "first response by the deadline ÷ valid cases responded or past the deadline",
           ranked=True),
    Column("on_time_resolution_rate", "按时办结率", "Resolved on time", "rate", CASES,
           "在办结时限内办结的案件 ÷ 已办结或已超办结时限的有效案件",
           "resolved by the deadline ÷ valid cases resolved or past the deadline", ranked=True),
    Column("satisfaction_rate", "满意率", "Satisfaction", "rate", CASES,
           "最后一次评价为满意或基本满意的案件 ÷ 已评价的案件",
           "last rating satisfied or basically satisfied ÷ cases rated", ranked=True),
    Column("reopened", "重新办理数", "Reopened", "count", CASES,
           "因不满意评价被重新办理过的有效案件数", "valid cases reopened after a dissatisfied rating"),
    Column("reopen_rate", "重办率", "Reopen rate", "rate", CASES,
           "重新办理的案件 ÷ 有效案件（越低越好）", "reopened ÷ valid cases (lower is better)",
           ranked=True, lower_is_better=True),
    Column("care_due", "应走访对象数", "Residents due a visit", "count", CARE,
           "当月在册的关爱对象数，不含当月结案且未走访的（即零报告清单中已走访、已说明、待处理之和）；"
           "部门无此项",
           "residents on the care register during the month, except those closed in the month "
           "without a visit (the zero report's checklist: visited + explained + pending); none "
           "for departments"),
    Column("care_visited", "已走访对象数", "Residents visited", "count", CARE,
           "其中当月至少走访一次的对象数", "of those, residents visited at least once in the month"),
    Column("visit_rate", "走访完成率", "Visits done", "rate", CARE,
           "已走访对象 ÷ 应走访对象（已说明原因的不算已走访）",
           "residents visited ÷ residents due a visit (an explanation is not a visit)",
           ranked=True),
    Column("zero_reports_due", "应报零报告数", "Zero reports due", "count", CARE,
           "已提交当月零报告或已过截止时间（次月5日24时，沈阳时间）的网格数；部门无此项",
           "grids that filed the month's zero report or whose deadline (the end of the 5th of "
           "the next month, Shenyang time) has passed; none for departments"),
    Column("zero_reports_on_time", "按时零报告数", "Zero reports on time", "count", CARE,
           "截止时间前提交当月零报告的网格数", "grids that filed the month's zero report by the deadline"),
    Column("zero_report_rate", "零报告按时率", "Zero reports on time (rate)", "rate", CARE,
           "按时零报告数 ÷ 应报零报告数", "zero reports on time ÷ zero reports due", ranked=True),
    Column("volunteer_tasks_done", "志愿任务完成数", "Volunteer tasks done", "count", VOLUNTEERS,
           "当月记为完成的志愿服务任务数（按任务来源的案件或走访所在网格）；部门无此项",
           "volunteer tasks recorded done in the month (in the grid of the case or visit they "
           "came from); none for departments"),
    Column("volunteer_hours", "志愿服务时长", "Volunteer hours", "count", VOLUNTEERS,
           "这些任务记录的志愿服务小时数之和", "the hours recorded for those tasks"),
)
"""Columns in display order."""

NOTES_ZH = ("案件按上报月份归属（沈阳时间）；各项为截至生成时间的状态。"
            "走访与零报告按关爱对象名册和网格统计，志愿服务按任务来源所在网格和完成月份统计，"
            "部门无这些项（留空，不是零）。排名在同级、同一范围内的单位间进行，"
            "比率相同名次相同，无基数的单位不排名。环比为与上月相比的变化（比率为百分点）。")
NOTES_EN = ("A case belongs to the month it was reported in (Shenyang time); figures stand as at "
            "the time of generation. Visits and zero reports come from the care register per "
            "grid, volunteer tasks and hours from the grid of their case or visit in the month "
            "they were done; departments have none of these (empty, not zero). Ranks are among "
            "the units of the same level shown; equal rates share a rank; units without a base "
            "are not ranked. Change is against the previous month (percentage points for "
            "rates).")


def header(column: Column, *, lang: str) -> str:
    """The column's heading in ``lang`` (zh, or en)."""
    return column.en if lang == "en" else column.zh
