"""Official area codes (统计用区划代码) and the levels they name: the one copy of the rule.

A code's width says its level, and codes nest: a grid code is its community's code plus three
digits, a community's is its sub-district's plus three, a sub-district's is its district's plus
three. So an area is a code prefix and a code's parent is a shorter prefix of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from gridmap.errors import InvalidInput


class Level(StrEnum):
    """The territorial levels that carry an official code, coarsest first."""

    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    GRID = "grid"


WIDTHS: dict[Level, int] = {Level.DISTRICT: 6, Level.SUBDISTRICT: 9, Level.COMMUNITY: 12,
                            Level.GRID: 15}
LEVELS: tuple[Level, ...] = tuple(Level)
AREA_LEVELS: tuple[Level, ...] = (Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY)
"""The levels an area filter may name (a grid is a unit of work, not an area filter)."""

_BY_WIDTH = {width: level for level, width in WIDTHS.items()}
_NAMES_ZH = {Level.DISTRICT: "区", Level.SUBDISTRICT: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格"}


def width(level: Level | str) -> int:
    """Digits in a code of ``level``."""
    return WIDTHS[parse_level(level)]


def parse_level(raw: Level | str, *, allowed: tuple[Level, ...] = LEVELS) -> Level:
    """``raw`` as a :class:`Level`; InvalidInput naming the choices when it is not one."""
    try:
        level = Level(raw)
    except ValueError:
        level = None
    if level is None or level not in allowed:
        choices = ", ".join(allowed)
        raise InvalidInput(f"层级须为 {choices} 之一：{str(raw)[:40]!r} (level must be one of {choices})")
    return level


def level_of(code: str) -> Level | None:
    """The level a well-formed code belongs to, or None when its width names no level."""
    return _BY_WIDTH.get(len(code)) if code.isascii() and code.isdigit() else None


def is_code(raw: str, level: Level | str) -> bool:
    """Whether ``raw`` is a well-formed code of ``level`` (digits only, the level's width)."""
    return raw.isascii() and raw.isdigit() and len(raw) == width(level)


def parse(raw: str, level: Level | str, *, field: str | None = None) -> str:
    """``raw`` checked as a code of ``level``; InvalidInput naming ``field`` otherwise."""
    lvl = parse_level(level)
    if not is_code(raw, lvl):
        name = field or lvl.value
        raise InvalidInput(f"{name} 须为 {WIDTHS[lvl]} 位{_NAMES_ZH[lvl]}代码：{str(raw)[:40]!r} "
                           f"({name} must be a {WIDTHS[lvl]}-digit {lvl.value} code)")
    return raw


def parse_area(raw: str, *, field: str = "area",
               allowed: tuple[Level, ...] = AREA_LEVELS) -> tuple[Level, str]:
    """A code of any of ``allowed`` levels, with its level; InvalidInput otherwise."""
    level = level_of(raw)
    if level is None or level not in allowed:
        widths = "/".join(str(WIDTHS[lvl]) for lvl in allowed)
        raise InvalidInput(f"{field} 须为 {widths} 位区划代码：{str(raw)[:40]!r} "
                           f"({field} must be a {widths}-digit area code)")
    return level, raw


def parent(code: str) -> str | None:
    """The code of the unit one level up, or None for a district (or a malformed code)."""
    level = level_of(code)
    if level is None or level is Level.DISTRICT:
        return None
    return code[: WIDTHS[LEVELS[LEVELS.index(level) - 1]]]


def ancestor(code: str, level: Level | str) -> str | None:
    """The code of the unit of ``level`` that holds ``code`` (itself at its own level)."""
    own, lvl = level_of(code), parse_level(level)
    if own is None or WIDTHS[lvl] > WIDTHS[own]:
        return None
    return code[: WIDTHS[lvl]]


def child_level(level: Level | str) -> Level | None:
    """The next finer level, or None below the grid."""
    lvl = parse_level(level)
    i = LEVELS.index(lvl)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def nests(outer: str, inner: str) -> bool:
    """Whether the unit ``inner`` lies within (or is) the unit ``outer``."""
    return inner.startswith(outer)


@dataclass(frozen=True)
class AreaFilter:
    """An area to filter by, as the official codes given per level (they must nest)."""

    district: str | None = None
    subdistrict: str | None = None
    community: str | None = None

    def prefix(self) -> str | None:
        """The most specific code given (they nest, so the finest wins); None for no filter."""
        return self.community or self.subdistrict or self.district

    def level(self) -> Level | None:
        """The level of :meth:`prefix`, or None for no filter."""
        prefix = self.prefix()
        return None if prefix is None else level_of(prefix)


def area_filter(args: Mapping[str, str]) -> AreaFilter:
    """An :class:`AreaFilter` from parameters named by level (``district=…&community=…``).

    Each given code is checked for its level's width; codes given at several levels must nest.
    """
    values = {lvl.value: parse(raw, lvl) for lvl in AREA_LEVELS if (raw := args.get(lvl.value))}
    given = list(values.values())  # coarsest first, as AREA_LEVELS is
    if any(not nests(outer, inner) for outer, inner in zip(given, given[1:], strict=False)):
        raise InvalidInput("区域代码互相矛盾 (area codes do not nest)")
    return AreaFilter(**values)
