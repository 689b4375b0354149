"""The pure rules of the Party layers and volunteers: scope, masking, suppression, task steps,
hours and points; and the spreadsheet reader's row-and-column problems (no database)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from gridmap.access import Principal, Role
from gridmap.errors import InvalidInput
from gridmap.volunteers import rules, spreadsheet

GRID = "210103005003001"
COMMUNITY = GRID[:12]


@pytest.mark.parametrize(("principal", "grid", "community"), [
    (Principal(role=Role.GRID_WORKER, grids=frozenset({GRID})), True, True),
    (Principal(role=Role.GRID_WORKER, grids=frozenset({"210103005004001"})), False, False),
    (Principal(role=Role.COMMUNITY_STAFF, area_code=COMMUNITY), True, True),
    (Principal(role=Role.SUBDISTRICT_STAFF, area_code=GRID[:9]), True, True),
    (Principal(role=Role.DISTRICT_CENTRE, area_code="210104"), False, False),
    (Principal(role=Role.DEPARTMENT_STAFF, grids=frozenset({GRID})), False, False),
    (Principal(role=Role.PLANNER), False, False),
    (Principal(role=Role.DATA_OFFICER), False, False),
    (Principal(role=Role.ADMIN), False, False),
    (Principal(), False, False),
])
def test_who_sees_people(principal: Principal, grid: bool, community: bool) -> None:
    assert rules.sees_grid(principal, GRID) is grid
    assert rules.sees_community(principal, COMMUNITY) is community


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (80, 80)])
def test_small_counts_are_suppressed(count: int, shown: int | None) -> None:
    assert rules.suppressed(count) == shown


@pytest.mark.parametrize(("name", "masked"), [("王桂兰", "王**"), ("李", "李*"), ("", ""),
                                              (" 欧阳娜娜 ", "欧***")])
def test_names_are_masked(name: str, masked: str) -> None:
    assert rules.mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [("13912345678", "139****5678"),
                                               ("139-1234-5678", "139****5678"),
                                               ("12345", "*****")])
def test_phones_are_masked(phone: str, masked: str) -> None:
    assert rules.mask_phone(phone) == masked


@pytest.mark.parametrize(("state", "step", "after"), [
    ("open", "accept", "accepted"), ("accepted", "done", "done"), ("open", "cancel", "cancelled"),
    ("accepted", "cancel", "cancelled")])
def test_task_steps(state: str, step: str, after: str) -> None:
    assert rules.next_state(state, step) == after


@pytest.mark.parametrize(("state", "step"), [
    ("open", "done"), ("done", "cancel"), ("cancelled", "accept"), ("accepted", "accept"),
    ("done", "done"), ("open", "reopen")])
def test_steps_not_allowed_are_refused_in_both_languages(state: str, step: str) -> None:
    with pytest.raises(InvalidInput, match=r"\(.+\)$"):
        rules.next_state(state, step)


@pytest.mark.parametrize(("raw", "hours"), [("0.5", "0.5"), (2, "2"), (12, "12"), ("3.5", "3.5")])
def test_hours_in_half_hours(raw: object, hours: str) -> None:
    assert rules.parse_hours(raw, max_hours=Decimal(12)) == Decimal(hours)


@pytest.mark.parametrize("raw", [0, -1, "1.25", 12.5, "NaN", "Infinity", "1e400", True, None, ""])
def test_bad_hours_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        rules.parse_hours(raw, max_hours=Decimal(12))


@pytest.mark.parametrize(("hours", "per_hour", "per_task", "points"), [
    ("2.5", "10", 5, 30), ("0.5", "3", 0, 2), ("1.5", "2.5", 1, 5), ("12", "10", 5, 125)])
def test_points_follow_the_rule(hours: str, per_hour: str, per_task: int, points: int) -> None:
    assert rules.points_for(Decimal(hours), per_hour=Decimal(per_hour),
                            per_task=per_task) == points


SKILLS = {"repair": "repair", "维修": "repair", "elder_care": "elder_care", "助老服务": "elder_care"}


def _check(text: str, name: str = "v.csv") -> tuple[list[spreadsheet.Row], list[str]]:
    problems = spreadsheet.Problems()
    table = spreadsheet.read_table(text.encode("utf-8"), name, problems)
    rows = spreadsheet.check_rows(table, SKILLS, problems) if table else []
    return rows, problems.lines


def test_a_good_csv_with_chinese_headers() -> None:
    rows, problems = _check("社区编码,队伍名称,姓名,手机,技能,队长\n"
                            f"{COMMUNITY},红马甲,张三,13711112222,维修、助老服务,是\n")
    assert problems == []
    assert rows[0].skills == ("repair", "elder_care") and rows[0].leader and rows[0].line == 2


def test_every_problem_names_its_row_and_column() -> None:
    rows, problems = _check("community_code,team,name,phone,skills,leader\n"
                            f"{COMMUNITY},A,张三,13711112222,repair,yes\n"
                            "12,,李四,abc,飞行,maybe\n"
                            f"{COMMUNITY},A,王五,,,是\n")
    text = "\n".join(problems)
    for where in ("第 3 行「community_code」", "第 3 行「team」", "第 3 行「phone」",
                  "第 3 行「skills」", "第 3 行「leader」", "第 4 行「leader」"):
        assert where in text, where
    assert all(line.endswith(")") and "(row " in line for line in problems)
    assert len(rows) == 3


def test_missing_columns_and_wrong_files_are_named() -> None:
    _, problems = _check("姓名\n张三\n")
    assert any("「community_code」" in p for p in problems)
    assert any("「team」" in p for p in problems)
    _, problems = _check("x", name="v.txt")
    assert problems and "file" in problems[0]
    _, problems = _check("", name="v.csv")
    assert problems and "empty" in problems[0]


def test_xlsx_and_gbk_csv_are_read() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["社区编码", "队伍名称", "姓名", "手机"])
    sheet.append([int(COMMUNITY), "队", "张三", 13711112222])
    out = io.BytesIO()
    book.save(out)
    problems = spreadsheet.Problems()
    table = spreadsheet.read_table(out.getvalue(), "v.xlsx", problems)
    rows = spreadsheet.check_rows(table, SKILLS, problems)
    assert problems.lines == [] and rows[0].community_code == COMMUNITY
    assert rows[0].phone == "13711112222"
    gbk = f"社区编码,队伍名称,姓名\n{COMMUNITY},队,张三\n".encode("gb18030")
    assert spreadsheet.read_table(gbk, "v.csv", problems)[0]["name"] == "张三"
