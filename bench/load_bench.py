"""Mixed traffic at city scale, open loop: every kind of user at the start of the working day.

Usage (after `make setup`):
    .venv/bin/python bench/load_bench.py                        # 5 min at the justified rate
    .venv/bin/python bench/load_bench.py --restart-at 120       # the same, PostgreSQL restarted
    .venv/bin/python bench/load_bench.py --find-max             # step up until p95 > 500 ms
    options: --rate R (requests/s in all), --seconds S, --scale city|districts, --workers N

gunicorn (sync workers) on a benchmark database of its own, ``gridmap_bench_load_<scale>``
(the demo data of that scale, topped up to a year of cases with board_bench.py's statement, and
the coverage runs planners open), so other benches' case counts and scales do not move under
it. Every user authenticates as their real role with a personal API token made through the
accounts services (as intake_bench.py does): grid workers on their own grids, community,
sub-district and district staff, department staff in the grids they are enrolled in, planners
of a district or the city; the public sends no token.

Requests arrive as a Poisson process at ``--rate`` (open loop: a slow answer does not delay the
next arrival; a pool of client threads with keep-alive connections sends each at its time, and
latency runs from the scheduled arrival, so time spent waiting for a free client counts). Each
arrival is one request of the mix below, whose weights come from the user model in
:data:`MODEL` (see bench/README.md for the figures behind it). Reported per endpoint: count,
errors, p50/p95/p99 ms; the achieved rate; every gunicorn worker's peak RSS (sampled from /proc
every 0.5 s, and VmHWM) and the peak of their sum. Exit status 1 if a goal fails: any error
(a 503 with Retry-After is not one while PostgreSQL restarts), p95 >= 200 ms on any page API
(the GET endpoints pages draw from; the intake POST is reported, see bench/README.md) at the
justified rate, or a worker above 300 MB.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import io
import json
import math
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.board_bench import fill  # noqa: E402
from bench.locate_bench import cpu_seconds, ensure_bench_db  # noqa: E402
from bench.server import gunicorn  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.accounts.services import accounts, tokens  # noqa: E402
from gridmap.config import Settings  # noqa: E402

PORT = 5096
CITY_GRIDS = 14_471
"""Grids in the city-scale demo data (13 districts), the city the model is written for."""
CASES_PER_YEAR = 400_000
"""'Hundreds of thousands of cases a year' (PRODUCT.md) for a city of ~14,000 grids."""
WORKING_DAYS = 250
RESIDENTS_PER_GRID = 555
"""Dadong: 755,000 people in 1,360 grids (seeds)."""
PEAK_QUARTER = 2.0
"""The busiest quarter hour against the peak hour's mean: everyone starts at 8:30."""
GOAL_P95_MS = 200.0
GOAL_WORKER_MB = 300.0
MAX_P95_MS = 500.0
RESTART_GRACE_S = 15.0
"""After PostgreSQL is back, requests queued during the gap may still be answered 503."""
PLANNER_RULES = [("elder_care_station", "15min"), ("elder_care_station", "10min"),
                 ("pocket_park", "15min")]
"""The coverage runs planners open (computed in the setup when missing)."""
PHONE_PX = (390, 844)
"""A phone's viewport in CSS pixels (grid workers)."""
DESKTOP_PX = (1280, 800)
"""A desktop browser's map (the public, planners)."""
MAP_LAYERS = [("districts", 0, {}), ("subdistricts", 11, {}), ("communities", 12, {}),
              ("grids", 15, {}), ("streets", 15, {}), ("buildings", 16, {}),
              ("facilities", 13, {"type": "elder_care_station"}),
              ("facilities", 13, {"type": "party_service_station"})]
"""The map page's layers on by default (static/js/map.js DEFAULT_ON) and their minimum zoom."""
PUBLIC_ZOOMS = range(11, 18)
"""Zoom levels of the public's views after the opening city view, equally likely."""


# ---------------------------------------------------------------- the user model


@dataclass(frozen=True)
class UserKind:
    """Users of one kind in the peak hour: how many sessions, why, and what a session asks."""

    name: str
    sessions: Callable[[dict[str, int]], float]
    basis: str
    steps: Mapping[str, float]
    """Requests per session by action."""


STAFF_STEPS = {"categories": 1, "board": 3, "board_next": 2, "detail": 6}
"""A supervisor's morning: the board, two filters, two more pages, six cases opened."""

MODEL = [
    UserKind("grid worker: my cases", lambda c: c["grids"],
             "every grid's worker opens their case list once at the start of the day",
             {"categories": 1, "board": 1, "detail": 2}),
    UserKind("grid worker: my grid map", lambda c: 0.25 * c["grids"],
             "a quarter of them open the map in that hour (a patrol tool used all day)",
             {"meta": 1, "gw_layer": 2 * len(MAP_LAYERS), "gw_locate": 1}),
    UserKind("grid worker: new case", lambda c: CASES_PER_YEAR * c["grids"] / CITY_GRIDS
             / WORKING_DAYS * 0.25,
             f"{CASES_PER_YEAR:,} cases a year / {WORKING_DAYS} working days, a quarter of a "
             "day's in the first hour", {"categories": 1, "gw_locate": 2, "intake": 1, "board": 1}),
    UserKind("community staff", lambda c: c["communities"],
             "one person per community on the board", STAFF_STEPS),
    UserKind("sub-district staff", lambda c: 2 * c["subdistricts"], "two per sub-district",
             STAFF_STEPS),
    UserKind("district command centre", lambda c: 5 * c["districts"], "five per district",
             STAFF_STEPS),
    UserKind("department staff", lambda c: 0.1 * c["department_staff"],
             "a tenth of the enrolled department staff (most have no case that day)",
             {"categories": 1, "board": 2, "detail": 2}),
    UserKind("planner", lambda c: 3 * c["districts"] + 10,
             "three per district's civil-affairs office and ten at the city",
             {"cov_runs": 1, "cov_areas": 2, "cov_distances": 1, "cov_areas_geo": 1,
              "cov_facilities": 1, "cov_buildings": 6}),
    UserKind("public", lambda c: RESIDENTS_PER_GRID * c["grids"] * 0.001 * 0.15,
             f"{RESIDENTS_PER_GRID} residents per grid; 0.1 % open the map in a day, 15 % of "
             "them in that hour",
             {"meta": 1, "city_view": 1, "public_layer": 16, "public_locate": 1}),
]
"""Who is at work in the peak hour (8:30-9:30) and what they ask for, per session."""

ACTORS = {"grid worker: my cases": "gw", "grid worker: my grid map": "gw",
          "grid worker: new case": "gw", "community staff": "cs", "sub-district staff": "ss",
          "district command centre": "dc", "department staff": "dept", "planner": "pl",
          "public": "public"}


def model_rates(counts: dict[str, int]) -> list[tuple[UserKind, float, float]]:
    """(kind, sessions in the peak hour, requests in the peak hour) per user kind."""
    return [(k, k.sessions(counts), k.sessions(counts) * sum(k.steps.values())) for k in MODEL]


def justified_rate(counts: dict[str, int]) -> float:
    """Requests per second in the busiest quarter hour of the model."""
    return sum(r for _, _, r in model_rates(counts)) / 3600 * PEAK_QUARTER


def mix(counts: dict[str, int]) -> list[tuple[str, str, float]]:
    """(actor kind, action, weight) for every request kind of the model."""
    out: dict[tuple[str, str], float] = {}
    for kind, sessions, _ in model_rates(counts):
        for action, n in kind.steps.items():
            key = (ACTORS[kind.name], action)
            out[key] = out.get(key, 0.0) + sessions * n
    return [(actor, action, w) for (actor, action), w in out.items()]


# ---------------------------------------------------------------- the data and the accounts


@dataclass
class Actor:
    """One signed-in user (or the public) and what their requests need."""

    kind: str
    token: str | None
    grid: str | None = None
    point: tuple[float, float] | None = None
    area: str | None = None
    centres: list[tuple[float, float]] = field(default_factory=list)
    cursor: str | None = None
    seen: list[int] = field(default_factory=list)


def counts_of(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute("""
            SELECT (SELECT count(*) FROM grid), (SELECT count(*) FROM community),
                   (SELECT count(*) FROM subdistrict), (SELECT count(*) FROM district),
                   (SELECT count(*) FROM person WHERE role = 'department_staff'),
                   (SELECT count(*) FROM "case")""").fetchone()
    assert row is not None
    names = ["grids", "communities", "subdistricts", "districts", "department_staff", "cases"]
    return dict(zip(names, (int(v) for v in row), strict=True))


def prepare_database(scale: str, cases: int) -> str:
    """The benchmark database with the demo data, ``cases`` cases over the last year and the
    planners' coverage runs; returns the app role's URL."""
    url = ensure_bench_db(Settings.from_env().database_url, scale, f"gridmap_bench_load_{scale}")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with Session(engine) as session:
        fill(session, cases, days=365)
    engine.dispose()
    gridmap = str(Path(sys.executable).with_name("gridmap"))
    for facility_type, circle in PLANNER_RULES:
        subprocess.run([gridmap, "coverage", "compute", "--type", facility_type, "--circle",
                        circle, "--if-missing"], env={**os.environ, "GRIDMAP_DATABASE_URL": url},
                       check=True, capture_output=True)
    return url


def _account(factory: sessionmaker[Session], conn: psycopg.Connection[Any], username: str,
             role: Role, *, person_id: int | None = None, area: str | None = None,
             department: str | None = None) -> str:
    """A personal API token of the account ``username`` (made through the accounts services
    on first use, kept for the next runs)."""
    row = conn.execute("SELECT id, person_id FROM account WHERE username = %s",
                       (username,)).fetchone()
    if row is None:
        made = accounts.create(factory, Principal(username="load-bench"), accounts.NewAccount(
            username=username, role=role.value, person_id=person_id,
            name="" if person_id else "压测用户", area_code=area, department_code=department))
        row = (made["id"], made["person_id"])
    owner = Principal(account_id=int(row[0]), person_id=int(row[1]), role=role, area_code=area,
                      department_code=department, username=username)
    return str(tokens.issue_token(factory, owner, "load bench")["token"])


def make_actors(url: str, rng: random.Random, per_kind: int) -> dict[str, list[Actor]]:
    """Up to ``per_kind`` accounts of each kind (more grid workers), with tokens and places."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    factory = sessionmaker(engine, expire_on_commit=False)
    out: dict[str, list[Actor]] = {k: [] for k in ("gw", "cs", "ss", "dc", "dept", "pl")}
    with psycopg.connect(url, autocommit=True) as conn:
        # Grid workers on grids whose inner point has no other grid within 30 m (so an intake
        # there is never asked which grid it belongs to).
        for person, grid, lon, lat in conn.execute("""
                SELECT m.person_id, g.code, ST_X(g.p), ST_Y(g.p)
                FROM (SELECT code, ST_PointOnSurface(geom) AS p, geom FROM grid) g
                JOIN LATERAL (SELECT person_id FROM grid_member WHERE grid_code = g.code
                              AND role = 'grid_worker' ORDER BY person_id LIMIT 1) m ON true
                WHERE NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code  -- >= 33 m
                                  AND ST_DWithin(o.geom, g.p, 0.0004))
                  AND NOT EXISTS (SELECT 1 FROM grid_member x WHERE x.person_id = m.person_id
                                  AND x.grid_code <> g.code AND x.role = 'grid_worker')
                ORDER BY md5(g.code) LIMIT %s""", (2 * per_kind,)).fetchall():
            token = _account(factory, conn, f"load-gw-{person}", Role.GRID_WORKER,
                             person_id=person)
            out["gw"].append(Actor("gw", token, grid=grid, point=(lon, lat)))
        for person, community in conn.execute("""
                SELECT p.id, p.community_code FROM person p
                WHERE p.role = 'community_secretary' AND p.community_code IS NOT NULL
                ORDER BY md5(p.id::text) LIMIT %s""", (per_kind,)).fetchall():
            token = _account(factory, conn, f"load-cs-{person}", Role.COMMUNITY_STAFF,
                             person_id=person, area=community)
            out["cs"].append(Actor("cs", token, area=community))
        for (code,) in conn.execute("SELECT code FROM subdistrict ORDER BY md5(code) LIMIT %s",
                                    (per_kind // 2,)).fetchall():
            token = _account(factory, conn, f"load-ss-{code}", Role.SUBDISTRICT_STAFF, area=code)
            out["ss"].append(Actor("ss", token, area=code))
        districts = [c for (c,) in conn.execute("SELECT code FROM district ORDER BY code")]
        for code in districts:
            token = _account(factory, conn, f"load-dc-{code}", Role.DISTRICT_CENTRE, area=code)
            out["dc"].append(Actor("dc", token, area=code))
            token = _account(factory, conn, f"load-pl-{code}", Role.PLANNER, area=code)
            out["pl"].append(Actor("pl", token, area=code))
        token = _account(factory, conn, "load-pl-city", Role.PLANNER)
        out["pl"].append(Actor("pl", token))
        for person, department in conn.execute("""
                SELECT p.id, p.department_code FROM person p
                WHERE p.role = 'department_staff'
                  AND EXISTS (SELECT 1 FROM grid_enrollment e WHERE e.person_id = p.id)
                ORDER BY md5(p.id::text) LIMIT %s""", (per_kind,)).fetchall():
            token = _account(factory, conn, f"load-dept-{person}", Role.DEPARTMENT_STAFF,
                             person_id=person, department=department)
            out["dept"].append(Actor("dept", token))
        # Map views: centred on random grids (grids follow people), per district for planners.
        centres = conn.execute("""
            SELECT left(code, 6), ST_X(p), ST_Y(p) FROM (
                SELECT code, ST_PointOnSurface(geom) AS p FROM grid ORDER BY md5(code) LIMIT 3000
            ) s""").fetchall()
    engine.dispose()
    everywhere = [(x, y) for _, x, y in centres]
    for planner in out["pl"]:
        planner.centres = [(x, y) for d, x, y in centres if planner.area in (None, d)] or everywhere
    out["public"] = [Actor("public", None, centres=everywhere)]
    rng.shuffle(out["gw"])
    return out


def make_photos(n: int, seed: int) -> list[bytes]:
    """``n`` 12-megapixel JPEGs (4032 x 3024, ~3 MB: a phone camera's default) that compress
    like photos: a smooth scene plus sensor-like noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        w, h = 4032, 3024
        scene = Image.fromarray(rng.integers(0, 255, (h // 48, w // 48, 3), dtype=np.uint8))
        pixels = np.asarray(scene.resize((w, h), Image.Resampling.BICUBIC), dtype=np.int16)
        pixels = pixels + rng.integers(-12, 12, (h, w, 3), dtype=np.int16)
        buf = io.BytesIO()
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=88)
        out.append(buf.getvalue())
    return out


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    actor: Actor | None = None
    parse: bool = False
    """Read the JSON answer (a board page: its cursor and case ids)."""


def bbox(centre: tuple[float, float], zoom: int, px: tuple[int, int], pad: float) -> str:
    """The map's bounding box at ``zoom`` for a ``px`` viewport, padded as the page pads it."""
    deg = 360.0 / (256 * 2.0**zoom)
    half_w = px[0] * deg / 2 * (1 + 2 * pad)
    half_h = px[1] * deg * math.cos(math.radians(centre[1])) / 2 * (1 + 2 * pad)
    x, y = centre
    return f"{x - half_w:.6f},{y - half_h:.6f},{x + half_w:.6f},{y + half_h:.6f}"


class Traffic:
    """Builds each arrival's request from the mix, for a random actor of its kind."""

    def __init__(self, actors: dict[str, list[Actor]], counts: dict[str, int],
                 categories: list[str], photos: list[bytes], extent: str, seed: int) -> None:
        self.actors = actors
        self.categories = categories
        self.photos = photos
        self.extent = extent
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        weights = mix(counts)
        self.kinds = [(a, act) for a, act, _ in weights]
        self.weights = [w for _, _, w in weights]
        self.intakes = 0

    def _auth(self, actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {actor.token}"} if actor.token else {}

    def next(self) -> Request:
        with self.lock:  # one random stream, so a run is repeatable up to thread timing
            kind, action = self.rng.choices(self.kinds, self.weights)[0]
            actor = self.rng.choice(self.actors[kind])
            build: Callable[[Actor, random.Random], Request] = getattr(self, "_" + action)
            return build(actor, self.rng)

    def board(self, actor: Actor, rng: random.Random) -> Request:
        filters: dict[str, str] = {}
        if actor.kind in ("cs", "ss", "dc"):
            filters = rng.choice([{}, {"state": "reported"}, {"state": "dispatched,in_progress"},
                                  {"overdue": "1"}, {"category": rng.choice(self.categories)}])
        elif actor.kind == "dept":
            filters = rng.choice([{}, {"state": "dispatched,in_progress"}])
        query = urlencode({"limit": 50, **filters})
        return Request("GET /api/cases", "GET", f"/api/cases?{query}", headers=self._auth(actor),
                       actor=actor, parse=True)

    _board = board

    def _board_next(self, actor: Actor, rng: random.Random) -> Request:
        cursor = actor.cursor
        if not cursor:
            return self.board(actor, rng)
        query = urlencode({"limit": 50, "cursor": cursor})
        return Request("GET /api/cases?cursor", "GET", f"/api/cases?{query}",
                       headers=self._auth(actor), actor=actor, parse=True)

    def _detail(self, actor: Actor, rng: random.Random) -> Request:
        if not actor.seen:
            return self.board(actor, rng)
        case_id = rng.choice(actor.seen)
        return Request("GET /api/cases/<id>", "GET", f"/api/cases/{case_id}",
                       headers=self._auth(actor), actor=actor)

    def _categories(self, actor: Actor, rng: random.Random) -> Request:
        return Request("GET /api/case-categories", "GET", "/api/case-categories",
                       headers=self._auth(actor))

    def _meta(self, actor: Actor, rng: random.Random) -> Request:
        return Request("GET /api/meta", "GET", "/api/meta", headers=self._auth(actor))

    def _layer(self, actor: Actor, centre: tuple[float, float], zoom: int,
               layer: tuple[str, int, dict[str, str]], px: tuple[int, int]) -> Request:
        name, _, extra = layer
        query = urlencode({**extra, "bbox": bbox(centre, zoom, px, 0.15), "zoom": zoom})
        return Request(f"GET /api/layers/{name}.geojson", "GET",
                       f"/api/layers/{name}.geojson?{query}", headers=self._auth(actor))

    def _gw_layer(self, actor: Actor, rng: random.Random) -> Request:
        assert actor.point is not None
        x, y = actor.point  # their own grid, at street zoom, panned a little
        centre = (x + rng.uniform(-0.002, 0.002), y + rng.uniform(-0.0015, 0.0015))
        return self._layer(actor, centre, 16, rng.choice(MAP_LAYERS), PHONE_PX)

    def _public_layer(self, actor: Actor, rng: random.Random) -> Request:
        zoom = rng.choice(PUBLIC_ZOOMS)
        while True:  # a (zoom, layer) pair uniformly among the layers shown at that zoom
            layer = rng.choice(MAP_LAYERS)
            if layer[1] <= zoom:
                break
            zoom = rng.choice(PUBLIC_ZOOMS)
        return self._layer(actor, rng.choice(actor.centres), zoom, layer, DESKTOP_PX)

    def _city_view(self, actor: Actor, rng: random.Random) -> Request:
        query = urlencode({"bbox": self.extent, "zoom": 10})
        return Request("GET /api/layers/districts.geojson", "GET",
                       f"/api/layers/districts.geojson?{query}")

    def _locate(self, actor: Actor, point: tuple[float, float]) -> Request:
        query = urlencode({"lon": f"{point[0]:.7f}", "lat": f"{point[1]:.7f}"})
        return Request("GET /api/locate", "GET", f"/api/locate?{query}", headers=self._auth(actor))

    def _gw_locate(self, actor: Actor, rng: random.Random) -> Request:
        assert actor.point is not None
        return self._locate(actor, actor.point)

    def _public_locate(self, actor: Actor, rng: random.Random) -> Request:
        return self._locate(actor, rng.choice(actor.centres))

    def _intake(self, actor: Actor, rng: random.Random) -> Request:
        assert actor.point is not None and actor.grid is not None
        self.intakes += 1
        fields = {"category": rng.choice(self.categories), "channel": "grid_patrol",
                  "description": "楼道灯不亮，晚上上下楼很不方便，请尽快维修",
                  "lon": f"{actor.point[0]:.7f}", "lat": f"{actor.point[1]:.7f}",
                  "grid_code": actor.grid, "confirm_new": "1",
                  "client_token": f"load-{uuid.uuid4().hex}"}
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 .encode() for k, v in fields.items()]
        for i, photo in enumerate(rng.sample(self.photos, 2)):  # a close-up and a wide shot
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                         f'filename="IMG_{i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                         + photo + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return Request("POST /api/cases (2 photos)", "POST", "/api/cases", b"".join(parts),
                       {**self._auth(actor),
                        "Content-Type": f"multipart/form-data; boundary={boundary}"})

    def _rule(self, rng: random.Random) -> dict[str, str]:
        facility_type, circle = rng.choice(PLANNER_RULES)
        return {"type": facility_type, "circle": circle}

    def _cov(self, actor: Actor, label: str, path: str, query: dict[str, Any]) -> Request:
        return Request(label, "GET", f"{path}?{urlencode(query)}", headers=self._auth(actor))

    def _cov_runs(self, actor: Actor, rng: random.Random) -> Request:
        return self._cov(actor, "GET /api/coverage/runs", "/api/coverage/runs", {})

    def _cov_areas(self, actor: Actor, rng: random.Random) -> Request:
        return self._cov(actor, "GET /api/coverage/areas", "/api/coverage/areas",
                         {**self._rule(rng), "level": "community"})

    def _cov_distances(self, actor: Actor, rng: random.Random) -> Request:
        return self._cov(actor, "GET /api/coverage/distances", "/api/coverage/distances",
                         self._rule(rng))

    def _cov_areas_geo(self, actor: Actor, rng: random.Random) -> Request:
        zoom = 12 if actor.area else 10
        return self._cov(actor, "GET /api/coverage/areas.geojson", "/api/coverage/areas.geojson",
                         {**self._rule(rng), "level": "community", "zoom": zoom})

    def _cov_facilities(self, actor: Actor, rng: random.Random) -> Request:
        rule = self._rule(rng)
        return self._cov(actor, "GET /api/layers/facilities.geojson (coverage)",
                         "/api/layers/facilities.geojson", {"type": rule["type"], "zoom": 12})

    def _cov_buildings(self, actor: Actor, rng: random.Random) -> Request:
        zoom = rng.choice([15, 16])
        return self._cov(actor, "GET /api/coverage/buildings.geojson",
                         "/api/coverage/buildings.geojson",
                         {**self._rule(rng), "zoom": zoom,
                          "bbox": bbox(rng.choice(actor.centres), zoom, DESKTOP_PX, 0.2)})


# ---------------------------------------------------------------- the load


@dataclass
class Result:
    label: str
    scheduled: float
    started: float
    ended: float
    status: int
    outcome: str
    """"ok", "unavailable" (503 with Retry-After) or the error."""


class Load:
    """Open-loop load: a scheduler puts each arrival on a queue at its time; clients send."""

    def __init__(self, base: str, traffic: Traffic, clients: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.traffic = traffic
        self.queue: queue.Queue[tuple[float, Request] | None] = queue.Queue()
        self.results: list[Result] = []
        self.phases: list[float] = []
        self.times: list[float] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(clients)]
        for t in self.threads:
            t.start()

    def run(self, schedule: list[tuple[float, float]], seed: int) -> None:
        """Arrivals at the rate of each (seconds, rate) phase in turn, Poisson; each phase's
        start time goes to ``phases``. Stops early when ``stop`` is set."""
        rng = random.Random(seed)
        t = time.monotonic()
        for seconds, rate in schedule:
            self.phases.append(t)
            end = t + seconds
            while not self.stop.is_set():
                t += rng.expovariate(rate)
                if t >= end:
                    t = end
                    break
                request = self.traffic.next()
                delay = t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.times.append(t)
                self.queue.put((t, request))
            if self.stop.is_set():
                break
        self.phases.append(t)

    def finish(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for t in self.threads:
            t.join(timeout=60)

    def _client(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while (item := self.queue.get()) is not None:
            scheduled, request = item
            started = time.monotonic()
            status, outcome = 0, "ok"
            try:
                conn.request(request.method, request.path, request.body, request.headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if status == 503 and response.getheader("Retry-After"):
                    outcome = "unavailable"
                elif status not in (200, 201):
                    outcome = f"HTTP {status}"
                elif not data.rstrip().endswith((b"}", b"]")):
                    outcome = "cut-off body"
                elif request.parse and request.actor is not None:
                    page = json.loads(data)
                    request.actor.cursor = page.get("next_cursor")
                    if page.get("cases"):
                        request.actor.seen = [c["id"] for c in page["cases"]]
            except (OSError, http.client.HTTPException, ValueError) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.results.append(Result(request.label, scheduled, started, time.monotonic(),
                                       status, outcome))
        conn.close()


class Memory:
    """Samples every gunicorn worker's resident memory from /proc every 0.5 s."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.peak: dict[int, float] = {}
        self.peak_sum = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-f", f"127.0.0.1:{self.port}"], capture_output=True,
                             text=True).stdout.split()
        pids = {int(p) for p in out}
        parents = {p: _status(p).get("PPid", "0") for p in pids}
        arbiter = [p for p, parent in parents.items() if int(parent) == os.getpid()]
        return [p for p, parent in parents.items() if arbiter and int(parent) == arbiter[0]]

    def _sample(self) -> None:
        pids: list[int] = []
        ticks = 0
        while not self.stop.wait(0.5):
            if ticks % 10 == 0:  # workers come and go only if one is restarted
                pids = self.workers()
            ticks += 1
            total = 0.0
            for pid in pids:
                status = _status(pid)
                if "VmRSS" not in status:  # gone, or exiting
                    continue
                rss = int(status["VmRSS"].split()[0]) / 1024
                hwm = int(status["VmHWM"].split()[0]) / 1024
                self.peak[pid] = max(self.peak.get(pid, 0.0), rss, hwm)
                total += rss
            self.peak_sum = max(self.peak_sum, total)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def restart_database(at: float, window: list[float]) -> None:
    """Restart the project's PostgreSQL ``at`` seconds from now (as intake_bench.py does:
    scripts/devdb.sh stop, i.e. pg_ctl -m fast, then start); records when it was down."""
    time.sleep(at)
    script = str(ROOT / "scripts" / "devdb.sh")
    t0 = time.monotonic()
    subprocess.run([script, "stop"], check=True, capture_output=True)
    subprocess.run([script, "start"], check=True, capture_output=True)
    window.extend([t0, time.monotonic()])
    print(f"PostgreSQL restarted at {at:.0f} s, down for {window[1] - window[0]:.1f} s",
          flush=True)


# ---------------------------------------------------------------- report


def db_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``url``'s database (a
    backend that ended is no longer counted: read across a run without a restart)."""
    name = url.rsplit("/", 1)[1].split("?")[0]
    pids = subprocess.run(["pgrep", "-f", f"postgres: .* {name} "], capture_output=True,
                          text=True).stdout.split()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def timeline(results: list[Result], started: float, bucket: float = 10.0) -> str:
    """The p95 of the requests scheduled in each ``bucket`` seconds, in order: a stall shows."""
    by: dict[int, list[float]] = {}
    for r in results:
        by.setdefault(int((r.scheduled - started) // bucket), []).append(
            1000 * (r.ended - r.scheduled))
    return " ".join(f"{pct(sorted(by[k]), 95):.0f}" for k in sorted(by))


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def pct(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_ms[min(len(sorted_ms) - 1, max(0, math.ceil(q / 100 * len(sorted_ms)) - 1))]


def table(results: list[Result], window: list[float]) -> tuple[list[str], dict[str, Any]]:
    """Markdown rows per endpoint, and the totals the goals are checked on."""
    by: dict[str, list[Result]] = {}
    for r in results:
        by.setdefault(r.label, []).append(r)
    lines = ["| endpoint | requests | errors | 503 + Retry-After | p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    worst_p95, errors, kinds = 0.0, 0, dict[str, int]()
    gap = (window[0], window[1] + RESTART_GRACE_S) if window else None
    for label in sorted(by, key=lambda k: -len(by[k])):
        rows = by[label]
        bad = [r for r in rows if r.outcome != "ok" and not (
            r.outcome == "unavailable" and gap and gap[0] <= r.ended and r.scheduled <= gap[1])]
        unavailable = sum(1 for r in rows if r.outcome == "unavailable") - sum(
            1 for r in bad if r.outcome == "unavailable")
        for r in bad:
            kinds[r.outcome] = kinds.get(r.outcome, 0) + 1
        served = sorted(1000 * (r.ended - r.scheduled) for r in rows if r.outcome == "ok")
        p = [pct(served, q) for q in (50, 95, 99)] if served else [math.nan] * 3
        if served and label.startswith("GET "):  # the page APIs (the goal is theirs)
            worst_p95 = max(worst_p95, p[1])
        errors += len(bad)
        lines.append(f"| {label} | {len(rows)} | {len(bad)} | {unavailable} | {p[0]:.1f} | "
                     f"{p[1]:.1f} | {p[2]:.1f} |")
    every = sorted(1000 * (r.ended - r.scheduled) for r in results if r.outcome == "ok")
    waited = sorted(1000 * (r.started - r.scheduled) for r in results)
    totals = {"errors": errors, "kinds": kinds, "worst_p95": worst_p95,
              "p50": pct(every, 50) if every else math.nan,
              "p95": pct(every, 95) if every else math.nan,
              "p99": pct(every, 99) if every else math.nan,
              "waited_p99": pct(waited, 99) if waited else math.nan}
    lines.append(f"| all | {len(results)} | {errors} | "
                 f"{sum(1 for r in results if r.outcome == 'unavailable')} | {totals['p50']:.1f} | "
                 f"{totals['p95']:.1f} | {totals['p99']:.1f} |")
    return lines, totals


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=None,
                        help="Requests/s in all (default: the model's peak quarter hour).")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--restart-at", type=float, default=None, metavar="SECONDS",
                        help="Restart PostgreSQL this many seconds into the run.")
    parser.add_argument("--find-max", action="store_true",
                        help="Step the rate up (from --rate, default half the justified rate) "
                             "until p95 > 500 ms or errors; report the highest that held.")
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--step-rate", type=float, default=None,
                        help="Rate added per step (default: an eighth of the justified rate).")
    parser.add_argument("--scale", choices=["city", "districts"], default="city")
    parser.add_argument("--cases", type=int, default=None,
                        help=f"Cases in the database (default: a year's, {CASES_PER_YEAR} "
                        "at city scale).")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clients", type=int, default=256, help="Client threads (connections).")
    parser.add_argument("--accounts", type=int, default=60, help="Accounts per kind (grid "
                        "workers: twice as many).")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--service-times", type=int, default=0, metavar="N",
                        help="Instead of the load: N requests of each kind one at a time (no "
                             "queueing), their median time and the mix's weighted mean.")
    args = parser.parse_args()

    t_setup = time.monotonic()
    base_counts = {"city": CITY_GRIDS, "districts": 2_799}
    cases = args.cases or round(CASES_PER_YEAR * base_counts[args.scale] / CITY_GRIDS)
    url = prepare_database(args.scale, cases)
    counts = counts_of(url)
    justified = justified_rate(counts)
    rng = random.Random(args.seed)
    actors = make_actors(url, rng, args.accounts)
    with psycopg.connect(url) as conn:
        categories = [c for (c,) in conn.execute("SELECT code FROM case_category ORDER BY code")]
        ext = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           "(SELECT ST_Extent(geom) AS e FROM district) s").fetchone()
    assert ext is not None
    extent = ",".join(f"{v:.6f}" for v in ext)
    traffic = Traffic(actors, counts, categories, make_photos(3, args.seed), extent, args.seed)
    print(f"scale={args.scale}: {counts['grids']:,} grids, {counts['communities']:,} communities, "
          f"{counts['cases']:,} cases; setup {time.monotonic() - t_setup:.0f} s", flush=True)
    print("| user (peak hour 8:30-9:30) | sessions | requests/session | requests | basis |")
    print("|---|---:|---:|---:|---|")
    for kind, sessions, requests in model_rates(counts):
        print(f"| {kind.name} | {sessions:,.0f} | {sum(kind.steps.values()):.0f} | "
              f"{requests:,.0f} | {kind.basis} |")
    hour = sum(r for _, _, r in model_rates(counts))
    print(f"peak hour {hour:,.0f} requests = {hour / 3600:.1f}/s; busiest quarter x{PEAK_QUARTER}"
          f" = justified rate {justified:.1f} requests/s", flush=True)

    rate = args.rate or justified
    if args.find_max:
        start = args.rate or justified / 2
        step = args.step_rate or justified / 8
        schedule = [(args.step_seconds, start + i * step) for i in range(40)]
    else:
        schedule = [(args.seconds, rate)]
    media = Path(tempfile.mkdtemp(prefix="load-bench-"))
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url, "GRIDMAP_MEDIA_DIR": str(media),
           "GRIDMAP_RATELIMIT_INTAKE": "1000000/minute",  # every client shares one address
           "GRIDMAP_RATELIMIT_KEY_PREFIX": f"load-{run}"}
    window: list[float] = []
    try:
        with gunicorn(PORT, env, workers=args.workers, threads=args.threads) as base:
            memory = Memory(PORT)
            load = Load(base, traffic, args.clients)
            warm = 0
            for group in actors.values():  # each account's board once: warm-up, case ids
                for actor in group:
                    if actor.kind not in ("pl", "public"):
                        load.queue.put((time.monotonic(), traffic.board(actor, rng)))
                        warm += 1
            deadline = time.monotonic() + 120
            while len(load.results) < warm and time.monotonic() < deadline:
                time.sleep(0.2)
            warm_errors = [r for r in load.results if r.outcome != "ok"]
            if warm_errors:
                raise SystemExit(f"warm-up failed: {warm_errors[:3]}")
            load.results.clear()
            if args.service_times:
                print(service_times(load, traffic, args.service_times))
                memory.close()
                return
            cpu0 = cpu_seconds(f"127.0.0.1:{PORT}"), os.times(), machine_cpu(), db_cpu(url)
            started = time.monotonic()
            if args.restart_at is not None:
                threading.Thread(target=restart_database, args=(args.restart_at, window),
                                 daemon=True).start()
            if args.find_max:
                result = find_max(load, schedule, args.seed)
            else:
                load.run(schedule, args.seed)
                result = None
            load.finish()
            elapsed = time.monotonic() - started
            cpu1 = cpu_seconds(f"127.0.0.1:{PORT}"), os.times(), machine_cpu(), db_cpu(url)
            memory.close()
    finally:
        shutil.rmtree(media, ignore_errors=True)

    results = load.results
    lines, totals = table(results, window)
    offered = sum(s * r for s, r in schedule) / sum(s for s, _ in schedule) if not args.find_max \
        else math.nan
    n = len(results)
    web_cpu = (cpu1[0][0] - cpu0[0][0]) * 1000 / max(n, 1)
    own = (cpu1[1].user + cpu1[1].system - cpu0[1].user - cpu0[1].system) * 1000 / max(n, 1)
    busy = (cpu1[2][0] - cpu0[2][0]) / max(cpu1[2][1] - cpu0[2][1], 1e-9)
    wall_cpu = (cpu1[2][1] - cpu0[2][1]) or 1e-9
    pg = cpu1[3] - cpu0[3]
    other = busy - ((cpu1[0][0] - cpu0[0][0]) + pg + own * n / 1000) / wall_cpu
    print(f"\ngunicorn {args.workers} {'sync' if args.threads == 1 else f'x{args.threads} thread'}"
          f" workers, {args.clients} client threads, {elapsed:.0f} s, {n} requests "
          f"({traffic.intakes} intakes with 2 photos of 12 MP)")
    if not args.find_max:
        print(f"offered {offered:.1f} requests/s, achieved {n / elapsed:.1f} requests/s; "
              f"client wait for a free connection p99 {totals['waited_p99']:.1f} ms")
    print(f"CPU ms per request: gunicorn {web_cpu:.2f}, PostgreSQL (this database's "
          f"backends) {pg * 1000 / max(n, 1):.2f}, this script {own:.2f}; the machine's "
          f"{os.cpu_count()} cores {100 * busy:.0f} % busy ({100 * other:.0f} % by other work on "
          "the machine)")
    print("\n".join(lines))
    peaks = sorted(memory.peak.values(), reverse=True)
    print(f"worker peak RSS MB: {', '.join(f'{p:.0f}' for p in peaks)} "
          f"(max {max(peaks, default=0):.0f}); peak of the workers' sum {memory.peak_sum:.0f} MB")
    if totals["kinds"]:
        print(f"errors by kind: {totals['kinds']}")
    if not args.find_max:
        print("p95 ms by 10 s of the run: " + timeline(results, started))
    if window:
        down = [r.ended - started for r in results if r.outcome == "unavailable"]
        after = [1000 * (r.ended - r.scheduled) for r in results
                 if r.outcome == "ok" and r.scheduled >= window[1]]
        first_ok = min((r.ended for r in results if r.outcome == "ok" and r.started >= window[1]),
                       default=math.nan) - started
        print(f"PostgreSQL down {window[0] - started:.1f}-{window[1] - started:.1f} s into the "
              f"run; 503 + Retry-After answered from {min(down, default=math.nan):.1f} to "
              f"{max(down, default=math.nan):.1f} s; first answer from a request sent after the "
              f"restart at {first_ok:.1f} s; requests arriving after it: p95 "
              f"{pct(sorted(after), 95) if after else math.nan:.1f} ms")
    failed = []
    if result is not None:
        print(result)
    else:
        if totals["errors"]:
            failed.append(f"{totals['errors']} errors")
        if args.rate is None and totals["worst_p95"] >= GOAL_P95_MS:
            failed.append(f"a page API's p95 {totals['worst_p95']:.0f} ms >= {GOAL_P95_MS:.0f}")
    if max(peaks, default=0) > GOAL_WORKER_MB:
        failed.append(f"a worker peaked at {max(peaks):.0f} MB > {GOAL_WORKER_MB:.0f}")
    if failed:
        raise SystemExit("FAILED: " + "; ".join(failed))


def find_max(load: Load, schedule: list[tuple[float, float]], seed: int) -> str:
    """Step the rate up without pause; judge each step once all its arrivals are answered and
    stop at the first that does not hold. The per-step table and the answer."""
    lines = ["| offered requests/s | answered/s | requests | errors | p50 ms | p95 ms | p99 ms | "
             "worst endpoint p95 ms |", "|---:|---:|---:|---:|---:|---:|---:|---|"]
    held = 0.0
    runner = threading.Thread(target=load.run, args=(schedule, seed))
    runner.start()
    for i, (seconds, rate) in enumerate(schedule):
        while len(load.phases) < i + 2:  # the step has ended
            time.sleep(0.2)
        t0, t1 = load.phases[i], load.phases[i + 1]
        time.sleep(max(0.0, t1 + 1 - time.monotonic()))
        arrived = bisect.bisect_left(load.times, t1) - bisect.bisect_left(load.times, t0)
        step = [r for r in load.results if t0 <= r.scheduled < t1]
        if arrived - len(step) > 0.05 * arrived:
            # More than 5 % still unanswered a second after the step: its p95 is over 1 s
            # already; stop now rather than pile the next steps onto the backlog.
            lines.append(f"| {rate:.0f} | | {arrived} | | | > 1000 ({arrived - len(step)} "
                         "unanswered 1 s after the step) | | |")
            print(lines[-1], flush=True)
            break
        deadline = time.monotonic() + 35  # the last answers come in (or time out at 30 s)
        while time.monotonic() < deadline and not _answered(load, t1):
            time.sleep(0.2)
        step = [r for r in load.results if t0 <= r.scheduled < t1]
        _, totals = table(step, [])
        worst = max(_by_label_p95(step).items(), key=lambda kv: kv[1], default=("", 0.0))
        answered = sum(1 for r in load.results if t0 <= r.ended < t1)
        lines.append(f"| {rate:.0f} | {answered / seconds:.0f} | {len(step)} | "
                     f"{totals['errors']} | {totals['p50']:.1f} | {totals['p95']:.1f} | "
                     f"{totals['p99']:.1f} | {worst[1]:.0f} ({worst[0]}) |")
        print(lines[-1], flush=True)
        if totals["errors"] or not totals["p95"] < MAX_P95_MS:
            break
        held = rate
    load.stop.set()
    runner.join()
    return "\n".join(lines) + f"\nhighest rate held (p95 < {MAX_P95_MS:.0f} ms, no errors): " \
        f"{held:.0f} requests/s"


def service_times(load: Load, traffic: Traffic, n: int) -> str:
    """Each request kind of the mix ``n`` times, one request in flight at a time: the time a
    request takes with nothing queued (web and database), per endpoint and over the mix."""
    by: dict[str, list[float]] = {}
    share: dict[str, float] = {}
    mean, total = 0.0, sum(traffic.weights)
    for (kind, action), weight in zip(traffic.kinds, traffic.weights, strict=True):
        for _ in range(n):
            with traffic.lock:
                actor = traffic.rng.choice(traffic.actors[kind])
                build: Callable[[Actor, random.Random], Request] = getattr(traffic, "_" + action)
                request = build(actor, traffic.rng)
            load.queue.put((time.monotonic(), request))
            while not load.results:
                time.sleep(0.0005)
            result = load.results.pop()
            ms = 1000 * (result.ended - result.started)
            by.setdefault(result.label, []).append(ms)
            share[result.label] = share.get(result.label, 0.0) + weight / total / n
            mean += ms * weight / total / n
    rows = [f"| {label} | {100 * share[label]:.1f} | {sorted(ms)[len(ms) // 2]:.1f} | "
            f"{sum(ms) / len(ms):.1f} | {max(ms):.1f} |"
            for label, ms in sorted(by.items(), key=lambda kv: -share[kv[0]])]
    return "\n".join(["| endpoint | share of the mix % | median ms | mean ms | max ms |",
                      "|---|---:|---:|---:|---:|", *rows,
                      f"mix-weighted mean {mean:.1f} ms per request, one at a time"])


def _answered(load: Load, t1: float) -> bool:
    """Whether every arrival scheduled before ``t1`` has its answer."""
    return sum(1 for r in load.results if r.scheduled < t1) >= bisect.bisect_left(load.times, t1)


def _by_label_p95(results: list[Result]) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for r in results:
        if r.outcome == "ok":
            by.setdefault(r.label, []).append(1000 * (r.ended - r.scheduled))
    return {k: pct(sorted(v), 95) for k, v in by.items() if len(v) >= 20}


if __name__ == "__main__":
    main()
