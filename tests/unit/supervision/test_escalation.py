"""Escalation rules, table-driven over deadlines and levels (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridmap.supervision.escalation import (
    CaseDue,
    Deadline,
    Level,
    Rule,
    due_rules,
    level_after,
)

R, S = Deadline.RESPOND, Deadline.RESOLVE
G, C, SD, D = Level.GRID, Level.COMMUNITY, Level.SUBDISTRICT, Level.DISTRICT
RULES = (  # the seeded chain of migration 0020
    Rule("respond_community", R, 0, G, C),
    Rule("resolve_community", S, 0, G, C),
    Rule("resolve_subdistrict", S, 24, C, SD),
    Rule("resolve_district", S, 72, SD, D),
)
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # reported
RESPOND_BY = T0 + timedelta(hours=2)
RESOLVE_BY = T0 + timedelta(hours=48)
H = timedelta(hours=1)


def case(**kw: object) -> CaseDue:
    return CaseDue(respond_by=RESPOND_BY, resolve_by=RESOLVE_BY, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "due", "now", "expected"), [
    ("before any deadline", case(), T0 + H, []),
    ("exactly at the response deadline is not past it", case(), RESPOND_BY, []),
    ("just past the response deadline", case(), RESPOND_BY + timedelta(seconds=1),
     ["respond_community"]),
    ("answered in time: the response rule never fires", case(responded_at=T0 + H),
     RESPOND_BY + H, []),
    ("answered late still counts as answered", case(responded_at=RESPOND_BY + H),
     RESPOND_BY + 2 * H, []),
    ("response rule fired: the resolve rule from grid no longer matches",
     case(level=C, fired=frozenset({"respond_community"})), RESOLVE_BY + H, []),
    ("responded, past resolution: to the community", case(responded_at=T0 + H),
     RESOLVE_BY + H, ["resolve_community"]),
    ("community level, 23 h past resolution: waits",
     case(responded_at=T0 + H, level=C, fired=frozenset({"resolve_community"})),
     RESOLVE_BY + 23 * H, []),
    ("community level, 25 h past resolution: to the sub-district",
     case(responded_at=T0 + H, level=C, fired=frozenset({"resolve_community"})),
     RESOLVE_BY + 25 * H, ["resolve_subdistrict"]),
    ("never supervised, 80 h past resolution: climbs the whole chain in one run",
     case(responded_at=T0 + H), RESOLVE_BY + 80 * H,
     ["resolve_community", "resolve_subdistrict", "resolve_district"]),
    ("never answered, 80 h past resolution: the response rule, then up",
     case(), RESOLVE_BY + 80 * H,
     ["respond_community", "resolve_subdistrict", "resolve_district"]),
    ("already at the district: nothing left", case(level=D), RESOLVE_BY + 500 * H, []),
    ("resolved: never escalated for resolution", case(responded_at=T0 + H,
                                                      resolved_at=RESOLVE_BY + H),
     RESOLVE_BY + 80 * H, []),
    ("closed, cancelled or suspended: never escalated", case(open=False),
     RESOLVE_BY + 80 * H, []),
    ("all rules fired already: nothing twice",
     case(level=D, fired=frozenset(r.code for r in RULES)), RESOLVE_BY + 80 * H, []),
])
def test_due_rules(name: str, due: CaseDue, now: datetime, expected: list[str]) -> None:
    assert [r.code for r in due_rules(due, RULES, now=now)] == expected, name


def test_rules_are_data_an_inactive_rule_breaks_the_chain() -> None:
    without_subdistrict = [r for r in RULES if r.code != "resolve_subdistrict"]
    fired = due_rules(case(responded_at=T0 + H), without_subdistrict, now=RESOLVE_BY + 80 * H)
    assert [r.code for r in fired] == ["resolve_community"]
    assert level_after(G, fired) is C


def test_a_rule_may_skip_levels() -> None:
    direct = [Rule("straight_to_district", S, 0, G, D)]
    assert level_after(G, due_rules(case(), direct, now=RESOLVE_BY + H)) is D


@pytest.mark.parametrize(("kw", "message"), [
    ({"after_hours": -1}, "after_hours"),
    ({"after_hours": float("inf")}, "after_hours"),
    ({"after_hours": float("nan")}, "after_hours"),
    ({"to_level": G}, "above"),
    ({"from_level": D, "to_level": SD}, "above"),
])
def test_invalid_rules_are_refused(kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"code": "x", "deadline": S, "after_hours": 0,
                               "from_level": G, "to_level": C, **kw}
    with pytest.raises(ValueError, match=message):
        Rule(**args)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_rules(case(), RULES, now=datetime(2026, 12, 1))  # noqa: DTZ001
