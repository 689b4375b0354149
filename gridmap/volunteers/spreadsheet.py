"""Reading and checking a spreadsheet of volunteer teams and volunteers (pure: no Flask, no
database). One row per volunteer; the team is named on each row and made on first sight.

Columns (Chinese or English headers, any order): 社区编码 community_code, 队伍名称 team, 队伍专长
team_skills, 姓名 name, 手机 phone, 技能 skills, 服务时间 availability, 队长 leader (是/否).
Skills are codes or their Chinese/English names, separated by 、 , ; or spaces. Every problem is
collected, each naming its row (as the spreadsheet numbers it: the header is row 1) and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gridmap.volunteers import rules

COLUMNS: dict[str, tuple[str, ...]] = {
    "community_code": ("社区编码", "社区代码", "community_code", "community"),
    "team": ("队伍名称", "队伍", "team"),
    "team_skills": ("队伍专长", "team_skills"),
    "name": ("姓名", "name"),
    "phone": ("手机", "手机号", "电话", "phone"),
    "skills": ("技能", "专长", "skills"),
    "availability": ("服务时间", "availability"),
    "leader": ("队长", "leader"),
}
"""Each field and the headers that name it."""
REQUIRED = ("community_code", "team", "name")
MAX_ROWS = 5000
"""Rows one import may hold (a district's teams fit many times over)."""
MAX_BYTES = 5 * 1024 * 1024
"""Size of an uploaded file."""
YES = frozenset({"是", "y", "yes", "1", "true", "队长"})
NO = frozenset({"", "否", "n", "no", "0", "false"})
_SPLIT = re.compile(r"[、,，;；\s]+")
_COMMUNITY = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class Row:
    """One checked row: a volunteer of a team."""

    line: int
    community_code: str
    team: str
    team_skills: tuple[str, ...]
    name: str
    phone: str
    skills: tuple[str, ...]
    availability: str
    leader: bool


@dataclass
class Problems:
    """Every problem found, as ``第 N 行「列」：…`` lines (row, column, what is wrong)."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: int, column: str, zh: str, en: str) -> None:
        """Note a problem of ``column`` in row ``line`` (0: the file itself), in both languages."""
        where = f"第 {line} 行「{column}」" if line else f"「{column}」"
        english = f"row {line}, {column}" if line else column
        self.lines.append(f"{where}：{zh} ({english}: {en})")


def read_table(data: bytes, filename: str, problems: Problems) -> list[dict[str, str]]:
    """The rows of an .xlsx or .csv file as {header: text}; problems for an unreadable file."""
    if len(data) > MAX_BYTES:
        problems.add(0, "file", f"文件超过 {MAX_BYTES // 1024 // 1024} MB",
                     f"larger than {MAX_BYTES // 1024 // 1024} MB")
        return []
    if filename.lower().endswith(".xlsx"):
        return _xlsx(data, problems)
    if filename.lower().endswith(".csv"):
        return _csv(data, problems)
    problems.add(0, "file", "只支持 .xlsx 或 .csv 文件", "only .xlsx or .csv files")
    return []


def _csv(data: bytes, problems: Problems) -> list[dict[str, str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        problems.add(0, "file", "无法识别文件编码（请用 UTF-8 或 GBK）",
                 "unknown encoding (use UTF-8 or GBK)")
        return []
    return _table(list(csv.reader(io.StringIO(text))), problems)


def _xlsx(data: bytes, problems: Problems) -> list[dict[str, str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError):
        problems.add(0, "file", "不是有效的 .xlsx 工作簿", "not an .xlsx workbook")
        return []
    try:
        sheet = book.worksheets[0]
        cells = [["" if v is None else _cell(v) for v in row]
                 for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True),
                                   strict=False)]
    finally:
        book.close()
    return _table(cells, problems)


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(cells: list[list[str]], problems: Problems) -> list[dict[str, str]]:
    cells = [row for row in cells if any(str(c).strip() for c in row)]
    if not cells:
        problems.add(0, "file", "文件是空的", "the file is empty")
        return []
    header = [str(c).strip() for c in cells[0]]
    fields = {name: _field_of(name) for name in header}
    for name in REQUIRED:
        if name not in fields.values():
            problems.add(1, name, f"缺少列，可写作：{'、'.join(COLUMNS[name])}",
                         "missing column")
    if len(cells) - 1 > MAX_ROWS:
        problems.add(0, "file", f"最多 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows")
        return []
    out = []
    for row in cells[1:]:
        record = {fields[h]: str(v).strip() for h, v in zip(header, row, strict=False)
                  if fields.get(h)}
        out.append({k: v for k, v in record.items() if k})
    return out


def _field_of(header: str) -> str:
    low = header.strip().lower()
    return next((name for name, names in COLUMNS.items()
                 if low in (n.lower() for n in names)), "")


def _skills(raw: str, known: Mapping[str, str], line: int, column: str,
            problems: Problems) -> tuple[str, ...]:
    out: list[str] = []
    for word in (w for w in _SPLIT.split(raw) if w):
        code = known.get(word.lower())
        if code is None:
            problems.add(line, column, f"未知技能 {word[:20]!r}", "unknown skill")
        elif code not in out:
            out.append(code)
    if len(out) > rules.MAX_SKILLS:
        problems.add(line, column, f"最多 {rules.MAX_SKILLS} 项技能",
                     f"at most {rules.MAX_SKILLS} skills")
    return tuple(out)


def check_rows(table: Sequence[Mapping[str, str]], known_skills: Mapping[str, str],
               problems: Problems) -> list[Row]:
    """The rows checked (formats, lengths, skills); each problem names its row and column.

    ``known_skills``: every skill's code and names (lower case) → its code.
    """
    out: list[Row] = []
    for index, raw in enumerate(table):
        line = index + 2
        for name in REQUIRED:
            if not raw.get(name, "").strip():
                problems.add(line, name, "不能为空", "required")
        community = raw.get("community_code", "").strip()
        if community and not _COMMUNITY.match(community):
            problems.add(line, "community_code", "社区编码须为 12 位数字",
                         "a community code has 12 digits")
        for name, limit in (("team", rules.MAX_TEAM_NAME), ("name", rules.MAX_NAME),
                            ("phone", rules.MAX_PHONE),
                            ("availability", rules.MAX_AVAILABILITY)):
            if len(raw.get(name, "")) > limit:
                problems.add(line, name, f"最多 {limit} 个字符",
                             f"longer than {limit} characters")
        phone_problem = rules.check_phone(raw.get("phone", ""))
        if phone_problem:
            problems.add(line, "phone", "手机号格式不正确", "not a phone number")
        leader = raw.get("leader", "").strip().lower()
        if leader not in YES | NO:
            problems.add(line, "leader", "请填写 是 或 否", "write yes or no")
        out.append(Row(
            line=line, community_code=community, team=raw.get("team", "").strip(),
            team_skills=_skills(raw.get("team_skills", ""), known_skills, line, "team_skills",
                                problems),
            name=raw.get("name", "").strip(), phone=raw.get("phone", "").strip(),
            skills=_skills(raw.get("skills", ""), known_skills, line, "skills", problems),
            availability=raw.get("availability", "").strip(), leader=leader in YES))
    _one_leader(out, problems)
    return out


def _one_leader(rows: Sequence[Row], problems: Problems) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.leader:
            key = (row.community_code, row.team)
            if key in seen:
                problems.add(row.line, "leader", f"该队伍已在第 {seen[key]} 行指定队长",
                             f"the team's leader is named in row {seen[key]}")
            else:
                seen[key] = row.line
