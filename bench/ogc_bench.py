"""OGC API Features items pages of 1,000 buildings: gridmap vs tipg and pygeoapi on the same table.

Usage (from the repo, after `make setup`):  .venv/bin/python bench/ogc_bench.py [--requests N]
Reads the city-scale demo database (gridmap_perf_b, read only). tipg (MIT) and pygeoapi (MIT,
PostgreSQL provider; 0.21.0, the last release for Python 3.11) are installed into venvs of
their own under /tmp (bench tools, not dependencies of gridmap); tipg is served by uvicorn with
2 workers, pygeoapi and gridmap by gunicorn with 2 sync workers. All get the same list of z14-sized bboxes
around random buildings (seeded), ``limit=1000`` and the same properties, without and with the
CQL2 filter ``residents > 100``, from 4 client threads, in alternating rounds. A last step
streams every building through one gridmap worker by following ``next`` links and reports its
peak memory.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import gunicorn  # noqa: E402
from gridmap.config import Settings  # noqa: E402

DATABASE = "gridmap_perf_b"
TIPG_VENV = Path("/tmp/tipg-venv")
TIPG_VERSION = "1.6.1"
PYGEOAPI_VENV = Path("/tmp/pygeoapi-venv")
PYGEOAPI_VERSION = "0.21.0"
GRIDMAP_PORT, TIPG_PORT, PYGEOAPI_PORT = 5097, 5098, 5099
PROPERTIES = "code,name,address,grid_code,households,residents,aged_60_plus,synthetic"
FILTER = "residents > 100"
Z14_DEG = 360 / 2**14  # a z14 tile's width in degrees of longitude
_RETURNED = re.compile(rb'"numberReturned"\s*:\s*(\d+)')


def database_url() -> str:
    """The app role's URL of the city-scale database (read only here)."""
    url = make_url(Settings.from_env().database_url).set(database=DATABASE)
    return url.render_as_string(hide_password=False)


def bboxes(url: str, n: int) -> list[str]:
    """``n`` z14-sized boxes centred on random buildings (seeded)."""
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        rows = conn.execute("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM building "
                            "ORDER BY id").fetchall()
    rng = random.Random(14)
    half_x, half_y = Z14_DEG / 2, Z14_DEG * 0.75 / 2  # a z14 tile is ~3:4 at 41.8°N
    picks = rng.sample(rows, n)
    return [f"{x - half_x:.6f},{y - half_y:.6f},{x + half_x:.6f},{y + half_y:.6f}" for x, y in picks]


def ensure_tipg() -> Path:
    """tipg in its own venv under /tmp (pip, from PyPI), installed on first run."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    if not uvicorn.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(TIPG_VENV / "bin" / "pip"), "install", "-q", f"tipg=={TIPG_VERSION}",
                        "uvicorn"], check=True)
    return uvicorn


@contextmanager
def tipg(url: str) -> Iterator[str]:
    """tipg serving public.building on loopback with 2 workers."""
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql+psycopg", "postgresql"),
           "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": '["public.building"]',
           "TIPG_DB_FUNCTIONS": "[]", "TIPG_DEFAULT_MINZOOM": "0"}
    with _server("tipg", [str(ensure_tipg()), "tipg.main:app", "--host", "127.0.0.1", "--port",
                          str(TIPG_PORT), "--workers", "2", "--log-level", "warning"],
                 env, TIPG_PORT, "/collections/public.building") as base:
        yield base


@contextmanager
def _server(name: str, argv: list[str], env: dict[str, str], port: int,
            probe: str) -> Iterator[str]:
    """A server process on loopback ``port``, answered ``probe`` before it is used."""
    server = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"{name} exited during start-up")
            try:
                urllib.request.urlopen(base + probe, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait()


def ensure_pygeoapi() -> Path:
    """pygeoapi with its PostgreSQL provider's packages in its own venv under /tmp."""
    binary = PYGEOAPI_VENV / "bin" / "gunicorn"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYGEOAPI_VENV)], check=True)
        subprocess.run([str(PYGEOAPI_VENV / "bin" / "pip"), "install", "-q",
                        f"pygeoapi=={PYGEOAPI_VERSION}", "psycopg2-binary", "SQLAlchemy<2.1",
                        "geoalchemy2", "pygeofilter[backend-sqlalchemy]", "gunicorn"], check=True)
    return binary


PYGEOAPI_CONFIG = """server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  cors: false
  pretty_print: false
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: "http://127.0.0.1/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                    terms_of_service: none, url: "http://127.0.0.1"}}
  license: {{name: none, url: "http://127.0.0.1"}}
  provider: {{name: bench, url: "http://127.0.0.1"}}
  contact: {{name: bench}}
resources:
  buildings:
    type: collection
    title: buildings
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [-180, -90, 180, 90], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {host}, port: {db_port}, dbname: {db}, user: {user}, password: "{password}",
                search_path: [public]}}
        id_field: code
        table: building
        geom_field: geom
"""


@contextmanager
def pygeoapi(url: str) -> Iterator[str]:
    """pygeoapi serving public.building (PostgreSQL provider) on loopback, 2 gunicorn workers."""
    gunicorn_bin = ensure_pygeoapi()
    parts = make_url(url)
    folder = Path(f"/tmp/pygeoapi-bench-{os.getpid()}")
    folder.mkdir(exist_ok=True)
    config, document = folder / "config.yml", folder / "openapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(
        port=PYGEOAPI_PORT, host=parts.host, db_port=parts.port, db=parts.database,
        user=parts.username, password=parts.password))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(document)}
    subprocess.run([str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(document)], env=env, check=True, capture_output=True)
    with _server("pygeoapi", [str(gunicorn_bin), "-w", "2", "-b", f"127.0.0.1:{PYGEOAPI_PORT}",
                              "pygeoapi.flask_app:APP"],
                 env, PYGEOAPI_PORT, "/collections/buildings?f=json") as base:
        yield base


def _drive(base: str, paths: list[str], threads: int) -> tuple[float, int, list[float]]:
    """GET every path with ``threads`` keep-alive clients: (seconds, features, latencies ms)."""
    host = urllib.parse.urlsplit(base)
    local = threading.local()
    lock = threading.Lock()
    latencies: list[float] = []
    features = 0

    def get(path: str) -> None:
        nonlocal features
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "application/geo+json"})
        response = conn.getresponse()
        body = response.read()
        took = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            raise SystemExit(f"{base}{path}: {response.status} {body[:300]!r}")
        found = _RETURNED.search(body)
        with lock:
            latencies.append(took)
            features += int(found.group(1)) if found else 0

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, paths))
    return time.perf_counter() - start, features, latencies


def _paths(prefix: str, boxes: list[str], cql: str | None, *, lang: str = "cql2-text",
           extra: dict[str, str] | None = None) -> list[str]:
    out = []
    for box in boxes:
        query = {"limit": "1000", "bbox": box, "properties": PROPERTIES, **(extra or {})}
        if cql:
            query.update({"filter": cql, "filter-lang": lang})
        out.append(prefix + "?" + urllib.parse.urlencode(query))
    return out


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def stream_everything(base: str) -> tuple[int, float, float]:
    """Every building through one worker by next links: (features, seconds, worker peak MB)."""
    pids = subprocess.run(["pgrep", "-f", f"127.0.0.1:{GRIDMAP_PORT}"], capture_output=True,
                          text=True).stdout.split()
    worker = max(int(p) for p in pids)
    url: str | None = base + "/ogc/collections/buildings/items?limit=10000"
    total, t0 = 0, time.perf_counter()
    while url:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = response.read()
        found = _RETURNED.search(body[-4000:])
        total += int(found.group(1)) if found else 0
        tail = body[-4000:].decode("utf-8", "replace")
        following = re.search(r'\{"href": "([^"]+)", "rel": "next"', tail)
        url = following.group(1) if following else None
    return total, time.perf_counter() - t0, peak_rss_mb(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=120, help="pages per server per case per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    url = database_url()
    boxes = bboxes(url, args.requests)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    results: dict[tuple[str, str], list[tuple[float, int, list[float]]]] = {}
    # pygeoapi 0.21 names CQL2 text "cql-text" and answers HTML unless asked for f=json.
    with gunicorn(GRIDMAP_PORT, env, workers=2) as ours, tipg(url) as theirs, \
            pygeoapi(url) as third:
        servers = {"gridmap": (ours, "/ogc/collections/buildings/items", "cql2-text", {}),
                   "tipg": (theirs, "/collections/public.building/items", "cql2-text", {}),
                   "pygeoapi": (third, "/collections/buildings/items", "cql-text",
                                {"f": "json"})}
        for base, prefix, lang, extra in servers.values():  # warm all up
            _drive(base, _paths(prefix, boxes[:8], FILTER, lang=lang, extra=extra), 2)
        for _ in range(args.rounds):
            for case, cql in (("no filter", None), (f"filter {FILTER}", FILTER)):
                for name, (base, prefix, lang, extra) in servers.items():
                    results.setdefault((case, name), []).append(
                        _drive(base, _paths(prefix, boxes, cql, lang=lang, extra=extra),
                               args.threads))
    with gunicorn(GRIDMAP_PORT, env, workers=1) as ours:
        total, seconds, peak = stream_everything(ours)
    print("| case | server | pages/s | features/s | p50 ms | p95 ms | features/page |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rates: dict[tuple[str, str], float] = {}
    for (case, name), runs in results.items():
        seconds_sum = sum(r[0] for r in runs)
        feats = sum(r[1] for r in runs)
        lat = sorted(x for r in runs for x in r[2])
        rates[(case, name)] = feats / seconds_sum
        p95 = lat[int(len(lat) * 0.95) - 1]
        print(f"| {case} | {name} | {len(lat) / seconds_sum:.1f} | {feats / seconds_sum:,.0f} | "
              f"{statistics.median(lat):.0f} | {p95:.0f} | {feats / len(lat):.0f} |")
    for case in ("no filter", f"filter {FILTER}"):
        print(f"\n{case}: gridmap / tipg features/s = "
              f"{rates[(case, 'gridmap')] / rates[(case, 'tipg')]:.2f}×, gridmap / pygeoapi = "
              f"{rates[(case, 'gridmap')] / rates[(case, 'pygeoapi')]:.2f}×", end="")
    print(f"\n\nstreamed every building by next links (limit 10000): {total:,} features in "
          f"{seconds:.1f} s; the worker's peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
