"""Territory, facilities, street network, departments and people, with the rules they obey.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4326

FACILITY_TYPES = [
    ("party_service_station", "党群服务中心(站)", "Party-mass service station", "#d7263d"),
    ("elder_care_station", "社区养老服务站", "Community elder-care station", "#f08a24"),
    ("home_care_centre", "居家养老服务中心", "Home-based elder-care centre", "#c05800"),
    ("day_care_centre", "日间照料中心", "Day-care centre", "#9c6644"),
    ("pocket_park", "口袋公园", "Pocket park", "#2a9d3f"),
    ("mediation_point", "评理说事点", "Dispute-mediation point", "#6a4c93"),
    ("charity_canteen", "爱心食堂", "Charity canteen", "#e76f51"),
    ("health_station", "健康驿站·社区卫生服务站", "Health station", "#1982c4"),
    ("community_school", "社区学校·睦邻学习点", "Community school", "#8ac926"),
    ("employment_service", "就业服务站", "Employment service point", "#4361ee"),
]

DEPARTMENTS = [
    ("civil_affairs", "民政", "Civil Affairs"),
    ("emergency", "应急管理", "Emergency Management"),
    ("housing", "房产", "Housing"),
    ("water", "水务", "Water"),
    ("power", "电力", "Power"),
    ("gas", "燃气", "Gas"),
    ("heating", "供热", "Heating"),
    ("police", "公安", "Police"),
    ("urban_management", "城管", "Urban Management"),
    ("health", "卫健", "Health"),
    ("human_resources", "人社", "Human Resources & Social Security"),
    ("market_regulation", "市场监管", "Market Regulation"),
    ("environment", "生态环境", "Ecology & Environment"),
    ("transport", "交通", "Transport"),
    ("fire", "消防", "Fire & Rescue"),
]

PERSON_ROLES = ("grid_worker", "department_staff", "community_secretary", "party_household")


def _geom(kind: str) -> sa.Column:
    return sa.Column("geom", Geometry(kind, srid=SRID, spatial_index=False), nullable=False)


def _valid(table: str) -> None:
    op.create_check_constraint(
        f"{table}_geom_valid", table, "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)"
    )
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def _territory() -> None:
    op.create_table(
        "district",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        _geom("MULTIPOLYGON"),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name="district_code_format"),
    )
    op.create_table(
        "subdistrict",
        sa.Column("code", sa.String(9), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("district_code", sa.String(6), sa.ForeignKey("district.code"), nullable=False),
        _geom("MULTIPOLYGON"),
        sa.CheckConstraint(
            "code ~ '^[0-9]{9}$' AND left(code, 6) = district_code", name="subdistrict_code_parent"
        ),
    )
    op.create_table(
        "community",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column(
            "subdistrict_code", sa.String(9), sa.ForeignKey("subdistrict.code"), nullable=False
        ),
        _geom("MULTIPOLYGON"),
        sa.CheckConstraint(
            "code ~ '^[0-9]{12}$' AND left(code, 9) = subdistrict_code",
            name="community_code_parent",
        ),
    )
    op.create_table(
        "grid",
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column(
            "community_code", sa.String(12), sa.ForeignKey("community.code"), nullable=False
        ),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        _geom("POLYGON"),
        sa.CheckConstraint(
            "code ~ '^[0-9]{15}$' AND left(code, 12) = community_code", name="grid_code_parent"
        ),
    )
    for table, parent in (("subdistrict", "district"), ("community", "subdistrict"),
                          ("grid", "community")):
        op.create_index(f"ix_{table}_{parent}_code", table, [f"{parent}_code"])
    for table in ("district", "subdistrict", "community", "grid"):
        _valid(table)
    op.execute(sa.text(GRID_RULES_SQL))


# A grid must lie inside its community (up to 1e-5°, about 1 m, of slack for noise at shared edges)
# and must not overlap another grid of the same community by more than 1 m².
GRID_RULES_SQL = """
CREATE FUNCTION grid_check_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parent geometry;
  outside double precision;
  clash text;
BEGIN
  IF NOT ST_IsValid(NEW.geom) OR ST_IsEmpty(NEW.geom) THEN
    RETURN NEW;  -- the grid_geom_valid check constraint reports it
  END IF;
  SELECT geom INTO parent FROM community WHERE code = NEW.community_code;
  IF parent IS NULL THEN
    RETURN NEW;  -- the foreign key reports the missing community
  END IF;
  IF NOT ST_CoveredBy(NEW.geom, parent)
     AND NOT ST_CoveredBy(NEW.geom, ST_Buffer(parent, 1e-5)) THEN
    outside := ST_Area(ST_Difference(NEW.geom, parent)::geography);
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_inside_community',
      MESSAGE = format('grid %s lies %s m² outside its community %s',
                       NEW.code, round(outside::numeric, 1), NEW.community_code);
  END IF;
  SELECT o.code INTO clash FROM grid o
   WHERE o.community_code = NEW.community_code AND o.code <> NEW.code
     AND o.geom && NEW.geom
     AND ST_Relate(o.geom, NEW.geom, '2********')
     AND ST_Area(ST_Intersection(o.geom, NEW.geom)::geography) > 1.0
   LIMIT 1;
  IF clash IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23514', CONSTRAINT = 'grid_no_overlap',
      MESSAGE = format('grid %s overlaps grid %s', NEW.code, clash);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER grid_rules BEFORE INSERT OR UPDATE OF geom, community_code ON grid
  FOR EACH ROW EXECUTE FUNCTION grid_check_rules();
"""


def _buildings_and_facilities() -> None:
    op.create_table(
        "building",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(24), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("grid_code", sa.String(15), sa.ForeignKey("grid.code"), nullable=False),
        sa.Column("households", sa.Integer, nullable=False, server_default="0"),
        sa.Column("residents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("aged_60_plus", sa.Integer, nullable=False, server_default="0"),
        sa.Column("aged_80_plus", sa.Integer, nullable=False, server_default="0"),
        sa.Column("elderly_living_alone", sa.Integer, nullable=False, server_default="0"),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        _geom("POLYGON"),
        sa.CheckConstraint(
            "households >= 0 AND residents >= 0 AND aged_80_plus >= 0"
            " AND aged_80_plus <= aged_60_plus AND aged_60_plus <= residents"
            " AND elderly_living_alone >= 0 AND elderly_living_alone <= aged_60_plus",
            name="building_population_consistent",
        ),
    )
    op.create_index("ix_building_grid_code", "building", ["grid_code"])
    _valid("building")
    ftype = op.create_table(
        "facility_type",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
        sa.Column("color", sa.String(7), nullable=False, server_default="#3366cc"),
    )
    op.bulk_insert(ftype, [
        {"code": c, "name_zh": zh, "name_en": en, "sort_order": i, "color": color}
        for i, (c, zh, en, color) in enumerate(FACILITY_TYPES)
    ])
    op.create_table(
        "facility",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(40), sa.ForeignKey("facility_type.code"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("capacity", sa.Integer, sa.CheckConstraint("capacity >= 0")),
        sa.Column("hours", sa.Text, nullable=False, server_default=""),
        sa.Column("community_code", sa.String(12), sa.ForeignKey("community.code")),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        _geom("POINT"),
    )
    op.create_index("ix_facility_type", "facility", ["type"])
    op.create_index("ix_facility_community_code", "facility", ["community_code"])
    _valid("facility")


def _streets() -> None:
    op.create_table(
        "street_node",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _geom("POINT"),
    )
    op.create_table(
        "street_edge",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("source", sa.BigInteger, sa.ForeignKey("street_node.id"), nullable=False),
        sa.Column("target", sa.BigInteger, sa.ForeignKey("street_node.id"), nullable=False),
        sa.Column("length_m", sa.Float, sa.CheckConstraint("length_m >= 0"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="local"),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        _geom("LINESTRING"),
        sa.CheckConstraint("kind IN ('arterial', 'local', 'path')", name="street_edge_kind"),
    )
    op.create_index("ix_street_edge_source", "street_edge", ["source"])
    op.create_index("ix_street_edge_target", "street_edge", ["target"])
    _valid("street_node")
    _valid("street_edge")


def _people() -> None:
    dept = op.create_table(
        "department",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
    )
    op.bulk_insert(dept, [
        {"code": c, "name_zh": zh, "name_en": en, "sort_order": i}
        for i, (c, zh, en) in enumerate(DEPARTMENTS)
    ])
    roles = ", ".join(f"'{r}'" for r in PERSON_ROLES)
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("department_code", sa.String(40), sa.ForeignKey("department.code")),
        sa.Column("community_code", sa.String(12), sa.ForeignKey("community.code")),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint(f"role IN ({roles})", name="person_role"),
        sa.CheckConstraint(
            "(role = 'department_staff') = (department_code IS NOT NULL)",
            name="person_staff_has_department",
        ),
    )
    op.create_index("ix_person_community_code", "person", ["community_code"])
    op.create_table(
        "grid_member",
        sa.Column("grid_code", sa.String(15), sa.ForeignKey("grid.code"), primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.CheckConstraint("role IN ('grid_worker', 'party_household')", name="grid_member_role"),
    )
    op.create_index("ix_grid_member_person_id", "grid_member", ["person_id"])
    op.create_index(
        "uq_grid_one_worker", "grid_member", ["grid_code"], unique=True,
        postgresql_where=sa.text("role = 'grid_worker'"),
    )
    op.create_table(
        "grid_enrollment",
        sa.Column("grid_code", sa.String(15), sa.ForeignKey("grid.code"), primary_key=True),
        sa.Column(
            "department_code", sa.String(40), sa.ForeignKey("department.code"), primary_key=True
        ),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
    )
    op.create_index("ix_grid_enrollment_person_id", "grid_enrollment", ["person_id"])
    op.create_table(
        "dataset",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("counts", sa.Text, nullable=False, server_default="{}"),
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _territory()
    _buildings_and_facilities()
    _streets()
    _people()
    # Search by name: trigram indexes make ILIKE '%…%' fast at city scale.
    for table in ("district", "subdistrict", "community", "grid", "building", "facility"):
        op.execute(f"CREATE INDEX ix_{table}_name_trgm ON {table} USING gin (name gin_trgm_ops)")


def downgrade() -> None:
    for table in ("dataset", "grid_enrollment", "grid_member", "person", "department",
                  "street_edge", "street_node", "facility", "facility_type", "building",
                  "grid", "community", "subdistrict", "district"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS grid_check_rules()")
