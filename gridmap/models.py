"""Typed SQLAlchemy 2 models. Every geometry is a ``geom`` column in SRID 4326 with a GiST index.

The territory is a strict hierarchy keyed by official statistical codes (district 6 digits,
sub-district 9, community 12, grid 15). Rules that must hold for every row (valid geometries,
codes consistent with parents, grids inside their community and not overlapping) are enforced in
the database by the initial migration, so no loader can bypass them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    column,
    func,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gridmap.crs import SRID


class Base(DeclarativeBase):
    """Declarative base of all tables."""


def _geom(kind: str) -> Mapped[object]:
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=False)


def _web_mercator(kind: str) -> Mapped[object]:
    """``geom`` in EPSG:3857, kept by PostgreSQL (a stored generated column, migration 0014),
    for vector tiles: projecting on the fly costs most of a tile's time. Deferred: nothing else
    loads it."""
    return mapped_column(Geometry(kind, srid=3857, spatial_index=False),
                         Computed("ST_Transform(geom, 3857)", persisted=True), deferred=True)


class District(Base):
    """区: the city's districts and counties."""

    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[object] = _geom("MULTIPOLYGON")
    geom_3857: Mapped[object] = _web_mercator("MULTIPOLYGON")


class Subdistrict(Base):
    """街道 (or town 乡镇)."""

    __tablename__ = "subdistrict"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    geom: Mapped[object] = _geom("MULTIPOLYGON")
    geom_3857: Mapped[object] = _web_mercator("MULTIPOLYGON")


class Community(Base):
    """社区 (or village 村)."""

    __tablename__ = "community"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistrict.code"), index=True)
    geom: Mapped[object] = _geom("MULTIPOLYGON")
    geom_3857: Mapped[object] = _web_mercator("MULTIPOLYGON")


class Grid(Base):
    """网格: the smallest unit of management, with one grid worker."""

    __tablename__ = "grid"
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[object] = _geom("POLYGON")
    geom_3857: Mapped[object] = _web_mercator("POLYGON")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    """Since when the current boundary holds (earlier ones, and grids merged away:
    ``grid_history``, kept by a trigger, migrations 0012-0013)."""


GRID_EVER = table("grid_ever", column("code", String), column("name", Text),
                  column("community_code", String),
                  column("retired_at", DateTime(timezone=True)), column("successor", String))
"""Every grid that ever was (a view, migration 0013): the current ones, and those merged away
or removed with their last name (``retired_at``, and ``successor`` for a merged one); what the
grid code of an older case names."""


class Building(Base):
    """楼院: a residential building or courtyard with its residents."""

    __tablename__ = "building"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, default="")
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    aged_60_plus: Mapped[int] = mapped_column(Integer, default=0)
    aged_80_plus: Mapped[int] = mapped_column(Integer, default=0)
    elderly_living_alone: Mapped[int] = mapped_column(Integer, default=0)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[object] = _geom("POLYGON")
    geom_3857: Mapped[object] = _web_mercator("POLYGON")


class FacilityType(Base):
    """The enumerated facility types, kept as data."""

    __tablename__ = "facility_type"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    color: Mapped[str] = mapped_column(String(7), default="#3366cc")


class Facility(Base):
    """A service point (elder-care station, pocket park, …)."""

    __tablename__ = "facility"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(ForeignKey("facility_type.code"), index=True)
    name: Mapped[str] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[str] = mapped_column(Text, default="")
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[object] = _geom("POINT")


class StreetNode(Base):
    """A node of the walkable street network."""

    __tablename__ = "street_node"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[object] = _geom("POINT")


class StreetEdge(Base):
    """A walkable street segment between two nodes; length in metres."""

    __tablename__ = "street_edge"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(ForeignKey("street_node.id"), index=True)
    target: Mapped[int] = mapped_column(ForeignKey("street_node.id"), index=True)
    length_m: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), default="local")
    name: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[object] = _geom("LINESTRING")
    geom_3857: Mapped[object] = _web_mercator("LINESTRING")


class Department(Base):
    """A service department (民政, 房产, 供热, …) that enrols staff in grids."""

    __tablename__ = "department"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    """A named person with a role: grid worker, department staff, secretary, Party household."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("community.code"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class GridMember(Base):
    """A person serving in a grid: its grid worker (exactly one) or Party-member households."""

    __tablename__ = "grid_member"
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))


class GridEnrollment(Base):
    """A department enrolled in a grid, by the real name of its staff member (网格吹哨、部门报到)."""

    __tablename__ = "grid_enrollment"
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)


class Dataset(Base):
    """What was loaded, when, and with which parameters (makes `demo load` idempotent)."""

    __tablename__ = "dataset"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    params: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    counts: Mapped[str] = mapped_column(Text, default="{}")


class CaseCategory(Base):
    """A case category (楼道照明, 供暖, …) with default departments and deadlines, kept as data."""

    __tablename__ = "case_category"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    default_departments: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    respond_hours: Mapped[float] = mapped_column(Float)
    resolve_hours: Mapped[float] = mapped_column(Float)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Case(Base):
    """A resident's problem (案件): where, what, who owns it, its deadlines and its state."""

    __tablename__ = "case"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category: Mapped[str] = mapped_column(ForeignKey("case_category.code"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[object] = mapped_column(Geometry("POINT", srid=SRID), nullable=False)
    input_crs: Mapped[str] = mapped_column(String(10), default="wgs84")
    grid_code: Mapped[str] = mapped_column(String(15))
    """The grid the case was filed in, kept after that grid is merged away (no foreign key; a
    trigger makes a new case name a current grid, migration 0013)."""
    community_code: Mapped[str] = mapped_column(String(12))
    subdistrict_code: Mapped[str] = mapped_column(String(9))
    district_code: Mapped[str] = mapped_column(String(6))
    building_code: Mapped[str | None] = mapped_column(String(24))
    reporter_name: Mapped[str] = mapped_column(Text, default="")
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="reported")
    owner_kind: Mapped[str | None] = mapped_column(String(10))
    owner_department: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    suspended_from: Mapped[str | None] = mapped_column(String(20))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(24))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolve_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseEvent(Base):
    """One step of a case's history: who did what, when, from which state to which (immutable)."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseCohandler(Base):
    """A department pulled into a case by the owner's whistle (吹哨), with its own part to finish."""

    __tablename__ = "case_cohandler"
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CasePhoto(Base):
    """A photo of a case (at report, or after resolution), stored under the media folder."""

    __tablename__ = "case_photo"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    kind: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    thumb_path: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(40))
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Account(Base):
    """How a person signs in: a role and its scope (see :mod:`gridmap.access`)."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    role: Mapped[str] = mapped_column(String(24))
    area_code: Mapped[str | None] = mapped_column(String(15))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    password_hash: Mapped[str] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    """Raised on a password change, reset, role change or deactivation: older sessions end."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(String(254))
    """Where the e-mail channel sends this person's notifications (migration 0020); optional."""


class ApiToken(Base):
    """A personal API token for scripts: acts as its account, stored as a SHA-256 digest."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Open311Client(Base):
    """Another system allowed to file cases through Open311, by its API key (stored as a digest)."""

    __tablename__ = "open311_client"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    contact: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    """The person its cases are created by ("Open311: <name>"), made at the client's first use."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """One entry of the append-only audit log: who, when, from where, what, and the change."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    account_id: Mapped[int | None] = mapped_column(BigInteger)  # no FK: the log outlives accounts
    username: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str | None] = mapped_column(INET)
    action: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[str] = mapped_column(String(24), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)


class Job(Base):
    """A background job as people see it (migration 0008): kind, owner, progress, outcome.

    procrastinate's queue carries only its id to a worker (``queue_job_id`` is the queue's row,
    which the worker deletes when done)."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, object]] = mapped_column(JSONB, server_default="{}")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    owner_name: Mapped[str] = mapped_column(String(64))
    watchers: Mapped[list[str]] = mapped_column(ARRAY(String(24)), server_default="{}")
    watch_area: Mapped[str | None] = mapped_column(String(12))
    request_id: Mapped[str | None] = mapped_column(String(64))
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), server_default="queued")
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    progress_text: Mapped[str] = mapped_column(Text, server_default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default="false")
    result: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DataImport(Base):
    """One import of a city's own data (migration 0009): what, from where, by whom, the outcome."""

    __tablename__ = "data_import"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    layer: Mapped[str] = mapped_column(String(24))
    file_name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, server_default="")
    licence: Mapped[str] = mapped_column(Text, server_default="")
    crs: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(Text, server_default="")
    imported_by: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    mapping: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    counts: Mapped[dict[str, object]] = mapped_column(JSONB)
    problems: Mapped[dict[str, object]] = mapped_column(JSONB, server_default="{}")


# --- residents in need of care (未呼先应, migration 0019) ---------------------------------------

class CareReason(Base):
    """Why a resident is on the care register (独居, 空巢, 80+, 残疾, 低保, 留守儿童)."""

    __tablename__ = "care_reason"
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    sort: Mapped[int] = mapped_column(Integer, server_default="0")


class CareRule(Base):
    """A visit rule as data: an entry with all these reasons is visited every ``interval_days``."""

    __tablename__ = "care_rule"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(24)), unique=True)
    interval_days: Mapped[int] = mapped_column(Integer)


class CareEntry(Base):
    """A resident who needs regular visits, at a building (the grid is the building's)."""

    __tablename__ = "care_entry"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    unit: Mapped[str] = mapped_column(String(20), server_default="")
    household: Mapped[str] = mapped_column(String(20), server_default="")
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), server_default="")
    carer: Mapped[str] = mapped_column(String(100), server_default="")
    note: Mapped[str] = mapped_column(Text, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    last_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The newest visit's time, kept by a trigger on ``care_visit``."""
    visit_months: Mapped[list[date]] = mapped_column(ARRAY(Date), server_default="{}")
    """The city-time months (first days) with a visit, kept by the same trigger (0023)."""
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class CareEntryReason(Base):
    """One reason of an entry (an entry's reasons are a set)."""

    __tablename__ = "care_entry_reason"
    entry_id: Mapped[int] = mapped_column(ForeignKey("care_entry.id", ondelete="CASCADE"),
                                          primary_key=True)
    reason: Mapped[str] = mapped_column(ForeignKey("care_reason.code"), primary_key=True)


class CareVisit(Base):
    """A visit: when, by whom, where the phone was and how far from the building, what was found."""

    __tablename__ = "care_visit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("care_entry.id"))
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    geom: Mapped[object | None] = mapped_column(Geometry("POINT", srid=SRID))
    distance_m: Mapped[float | None] = mapped_column(Float)
    far: Mapped[bool] = mapped_column(Boolean, server_default="false")
    findings: Mapped[str] = mapped_column(Text, server_default="")
    needs_help: Mapped[bool] = mapped_column(Boolean, server_default="false")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), unique=True)
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The phone's token for one visit: a re-sent visit finds the first (migration 0023)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class CareZeroReport(Base):
    """A grid's monthly zero report (月普查零报告); ``month`` is the month's first day."""

    __tablename__ = "care_zero_report"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    month: Mapped[date] = mapped_column(Date)
    no_new_difficulty: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, server_default="")
    submitted_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class CareExplanation(Base):
    """Why an entry was not visited in a month (required before the month's zero report)."""

    __tablename__ = "care_explanation"
    entry_id: Mapped[int] = mapped_column(ForeignKey("care_entry.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    explained_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    explained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())


# --- Party members and volunteers (issue 13 item 2, migration 0021) ------------------------------

class PartyBranch(Base):
    """A grid Party branch (网格党支部) of a community; the grids it serves: ``party_branch_grid``."""

    __tablename__ = "party_branch"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class PartyBranchGrid(Base):
    """A grid served by a branch (a grid belongs to at most one branch)."""

    __tablename__ = "party_branch_grid"
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("party_branch.id", ondelete="CASCADE"),
                                           index=True)


class PartyGroup(Base):
    """A building Party group (楼栋党小组) of a branch, at a building."""

    __tablename__ = "party_group"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("party_branch.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class PartyHousehold(Base):
    """A Party-member central household (党员中心户): a person at a building (personal data)."""

    __tablename__ = "party_household"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("party_group.id"), index=True)
    unit: Mapped[str] = mapped_column(String(20), server_default="")
    household: Mapped[str] = mapped_column(String(20), server_default="")
    since: Mapped[date | None] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class VolunteerSkill(Base):
    """A volunteer skill (助老, 维修, 医疗, …), reference data."""

    __tablename__ = "volunteer_skill"
    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    sort: Mapped[int] = mapped_column(Integer, server_default="0")


class VolunteerTeam(Base):
    """A volunteer team of a community with its skills focus and leader (one of its volunteers)."""

    __tablename__ = "volunteer_team"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(24)), server_default="{}")
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Volunteer(Base):
    """A volunteer of a team: skills, availability, phone (no account)."""

    __tablename__ = "volunteer"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), server_default="")
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(24)), server_default="{}")
    availability: Mapped[str] = mapped_column(String(100), server_default="")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class VolunteerPointsRule(Base):
    """How hours turn into points, as data: the newest rule whose ``valid_from`` has come."""

    __tablename__ = "volunteer_points_rule"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    points_per_hour: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    points_per_task: Mapped[int] = mapped_column(Integer)
    max_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))


class VolunteerTask(Base):
    """A task (任务发布): a case or a visit's need handed to a team, accepted, done with hours."""

    __tablename__ = "volunteer_task"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("care_visit.id"))
    grid_code: Mapped[str] = mapped_column(String(15))
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, server_default="")
    state: Mapped[str] = mapped_column(String(16), server_default="open")
    published_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    points: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, server_default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
# --- mediation (评理说事, migration 0022) -----------------------------------------------------------

class MediationPoint(Base):
    """A facility of type ``mediation_point`` as a point of the three-level mediation network."""

    __tablename__ = "mediation_point"
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"),
                                             primary_key=True)
    level: Mapped[str] = mapped_column(String(12))
    area_code: Mapped[str] = mapped_column(String(12), unique=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Dispute(Base):
    """A dispute at one mediation point, with its state and outcome there."""

    __tablename__ = "dispute"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("mediation_point.facility_id"))
    community_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    referred_from: Mapped[int | None] = mapped_column(ForeignKey("dispute.id"), unique=True)
    outcome_note: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class DisputeParty(Base):
    """A party to a dispute (personal data: masked for most readers)."""

    __tablename__ = "dispute_party"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), server_default="")
    address: Mapped[str] = mapped_column(String(200), server_default="")
    sort: Mapped[int] = mapped_column(Integer, server_default="0")


class DisputeMediator(Base):
    """A person working a dispute (who, with it, sees its parties)."""

    __tablename__ = "dispute_mediator"
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"),
                                            primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DisputeSession(Base):
    """A mediation session held: the day, the mediators present (by name), notes."""

    __tablename__ = "dispute_session"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    mediators: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    note: Mapped[str] = mapped_column(Text, server_default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")


class DisputeEvent(Base):
    """One step of a dispute's history (append-only for the app role)."""

    __tablename__ = "dispute_event"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(12))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(Text, server_default="")
    payload: Mapped[dict[str, object]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
