"""grid_card: each grid's hierarchy, worker and departments as ready JSON, kept current by triggers.

Locate is the hottest query. Building this part of its answer on every request (four joins,
a fifteen-row aggregate and the JSON) was ~40% of its database time at city scale; here it is
built when the underlying rows change instead. Statement-level triggers with transition tables
refresh exactly the affected grids, once per statement, so a bulk COPY refreshes each grid once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REFRESH_SQL = """
CREATE FUNCTION grid_card_json(p_code varchar, p_lang text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'grid', json_build_object('code', g.code, 'name', g.name),
    'community', json_build_object('code', c.code, 'name', c.name),
    'subdistrict', json_build_object('code', s.code, 'name', s.name),
    'district', json_build_object('code', d.code, 'name', d.name),
    'grid_worker', (SELECT json_build_object('name', pe.name, 'phone', pe.phone)
                      FROM grid_member m JOIN person pe ON pe.id = m.person_id
                     WHERE m.grid_code = g.code AND m.role = 'grid_worker'),
    'departments', (SELECT coalesce(json_agg(json_build_object(
                             'code', dp.code,
                             'name', CASE WHEN p_lang = 'en' THEN dp.name_en ELSE dp.name_zh END,
                             'staff', pe.name) ORDER BY dp.sort_order), '[]'::json)
                      FROM grid_enrollment e
                      JOIN department dp ON dp.code = e.department_code
                      JOIN person pe ON pe.id = e.person_id
                     WHERE e.grid_code = g.code)
  )::text
  FROM grid g
  JOIN community c ON c.code = g.community_code
  JOIN subdistrict s ON s.code = c.subdistrict_code
  JOIN district d ON d.code = s.district_code
  WHERE g.code = p_code
$$;

CREATE FUNCTION grid_card_refresh(p_codes varchar[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO grid_card (grid_code, card_zh, card_en)
  SELECT g.code, grid_card_json(g.code, 'zh'), grid_card_json(g.code, 'en')
  FROM grid g WHERE g.code = ANY (p_codes)
  ON CONFLICT (grid_code) DO UPDATE
    SET card_zh = EXCLUDED.card_zh, card_en = EXCLUDED.card_en;
$$;
"""

# (trigger function, body selecting the affected grid codes from transition table `rows`)
AFFECTED = {
    "grid": "SELECT code FROM rows",
    "grid_member": "SELECT grid_code FROM rows",
    "grid_enrollment": "SELECT grid_code FROM rows",
    "person": "SELECT grid_code FROM grid_member WHERE person_id IN (SELECT id FROM rows)"
              " UNION SELECT grid_code FROM grid_enrollment"
              " WHERE person_id IN (SELECT id FROM rows)",
    "department": "SELECT grid_code FROM grid_enrollment"
                  " WHERE department_code IN (SELECT code FROM rows)",
    "community": "SELECT g.code FROM grid g JOIN rows r ON g.community_code = r.code",
    "subdistrict": "SELECT g.code FROM grid g JOIN rows r ON left(g.code, 9) = r.code",
    "district": "SELECT g.code FROM grid g JOIN rows r ON left(g.code, 6) = r.code",
}
# Which statements can change a card, per table (a deleted grid takes its card by cascade).
EVENTS = {
    "grid": ("INSERT", "UPDATE"),
    "grid_member": ("INSERT", "UPDATE", "DELETE"),
    "grid_enrollment": ("INSERT", "UPDATE", "DELETE"),
    "person": ("UPDATE",),
    "department": ("UPDATE",),
    "community": ("UPDATE",),
    "subdistrict": ("UPDATE",),
    "district": ("UPDATE",),
}


def _trigger_sql(table: str, event: str) -> str:
    """One statement-level trigger refreshing the cards of the grids its rows touch (new rows
    for INSERT/UPDATE, old rows for DELETE; MOVED_OUT_SQL adds the old rows of an UPDATE)."""
    name = f"grid_card_{table}_{event.lower()}"
    transition = "OLD TABLE AS rows" if event == "DELETE" else "NEW TABLE AS rows"
    body = AFFECTED[table]
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM grid_card_refresh(ARRAY(SELECT DISTINCT c FROM ({body}) affected(c)));
  RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {event} ON {table}
  REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


MOVED_OUT_SQL = """
CREATE FUNCTION grid_card_moved_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM grid_card_refresh(ARRAY(SELECT DISTINCT grid_code FROM old_rows));
  RETURN NULL;
END $$;
CREATE TRIGGER grid_card_grid_member_update_old AFTER UPDATE ON grid_member
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_card_moved_out();
CREATE TRIGGER grid_card_grid_enrollment_update_old AFTER UPDATE ON grid_enrollment
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION grid_card_moved_out();
"""


def upgrade() -> None:
    op.create_table(
        "grid_card",
        sa.Column("grid_code", sa.String(15), sa.ForeignKey("grid.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("card_zh", sa.Text, nullable=False),
        sa.Column("card_en", sa.Text, nullable=False),
    )
    op.execute(sa.text(REFRESH_SQL))
    for table, events in EVENTS.items():
        for event in events:
            op.execute(sa.text(_trigger_sql(table, event)))
    op.execute(sa.text(MOVED_OUT_SQL))
    op.execute(sa.text("SELECT grid_card_refresh(ARRAY(SELECT code FROM grid))"))


def downgrade() -> None:
    op.execute("DROP TRIGGER grid_card_grid_member_update_old ON grid_member")
    op.execute("DROP TRIGGER grid_card_grid_enrollment_update_old ON grid_enrollment")
    op.execute("DROP FUNCTION grid_card_moved_out()")
    for table, events in EVENTS.items():
        for event in events:
            name = f"grid_card_{table}_{event.lower()}"
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("grid_card")
    op.execute("DROP FUNCTION grid_card_refresh(varchar[])")
    op.execute("DROP FUNCTION grid_card_json(varchar, text)")
