"""Locate at city scale over HTTP, beside the raw SQL and the health endpoint of the same server.

Usage (from the repo, after `make setup`):  .venv/bin/python bench/locate_bench.py
Loads the city-scale demo into its own database (gridmap_bench) on first run, starts gunicorn on
loopback, drives it with wrk (Debian package, installed if missing) and prints one table.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql as pgsql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import gunicorn  # noqa: E402
from gridmap.config import Settings  # noqa: E402
from gridmap.sqlfiles import sql  # noqa: E402

LUA = """
local points = {}
for line in io.lines("%s") do
  local lon, lat = line:match("([^,]+),([^,]+)")
  points[#points + 1] = {lon, lat}
end
local i = 0
request = function()
  i = i %% #points + 1
  return wrk.format("GET", "/api/locate?lon=" .. points[i][1] .. "&lat=" .. points[i][2])
end
"""


def ensure_bench_db(base_url: str, scale: str, name: str = "gridmap_bench") -> str:
    """Create, migrate and load the benchmark database ``name``; returns its URL for the app's
    role. (A bench that keeps data of its own, or must not be reloaded under it by another
    scale, names a database of its own.)

    Where the cluster splits roles (``GRIDMAP_OWNER_DATABASE_URL`` set, as ``make`` writes it),
    the owner creates, migrates and loads the database and the app role reads and writes it, as
    in production; otherwise ``base_url`` does everything.
    """
    owner_base = os.environ.get("GRIDMAP_OWNER_DATABASE_URL") or base_url
    app_url = make_url(base_url).set(database=name)
    owner_url = make_url(owner_base).set(database=name)
    admin = make_url(owner_base).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    bench_url = app_url.render_as_string(hide_password=False)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": bench_url,
           "GRIDMAP_OWNER_DATABASE_URL": owner_url.render_as_string(hide_password=False)}
    gridmap = str(Path(sys.executable).with_name("gridmap"))  # this venv's, also from a worktree
    subprocess.run([gridmap, "db", "upgrade"], env=env, check=True)
    subprocess.run([gridmap, "demo", "load", "--scale", scale], env=env, check=True)
    return bench_url


def sample_points(url: str, n: int) -> list[tuple[float, float]]:
    """Random points inside random grids (plus 2% outside any grid, like real traffic)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 1, 7))).geom p"
            " FROM grid TABLESAMPLE SYSTEM (50) LIMIT %s) s", (n,)).fetchall()
    pts = [(float(x), float(y)) for x, y in rows]
    random.Random(1).shuffle(pts)
    return pts + [(123.0 + i * 1e-3, 43.5) for i in range(max(1, n // 50))]


def raw_sql_times(url: str, points: list[tuple[float, float]]) -> list[float]:
    """Per-query wall time of the locate statement on one connection, in ms."""
    statement = re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql("territory/locate").text)
    times = []
    with psycopg.connect(url) as conn:
        for lon, lat in points:
            t0 = time.perf_counter()
            params = {"lon": lon, "lat": lat, "crs": "wgs84", "lang": "zh"}
            conn.execute(statement, params, prepare=True).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def cpu_seconds(pattern: str) -> tuple[float, float]:
    """CPU seconds used so far by the processes matching ``pattern`` and by PostgreSQL's."""
    def total(args: list[str]) -> float:
        pids = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout.split()
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")
    return total(["-f", pattern]), total(["-x", "postgres"])


def wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    """Run wrk and parse requests/s and latency percentiles (ms), plus the CPU milliseconds
    per request spent in the gunicorn processes and in PostgreSQL during the run."""
    before = cpu_seconds("127.0.0.1:5099")
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    stats: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            stats["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            stats["p" + parts[0].rstrip("%")] = _ms(parts[1])
        elif "Non-2xx" in line:
            stats["non2xx"] = float(parts[-1])
    after = cpu_seconds("127.0.0.1:5099")
    requests = stats["rps"] * seconds
    stats["web_cpu_ms"] = (after[0] - before[0]) * 1000 / requests
    stats["db_cpu_ms"] = (after[1] - before[1]) * 1000 / requests
    return stats


def _ms(value: str) -> float:
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="city", choices=["city", "districts"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    base = Settings.from_env()
    url = ensure_bench_db(base.database_url, args.scale)
    points = sample_points(url, 5000)
    sql_ms = raw_sql_times(url, points[:2000])
    tmp = Path(tempfile.mkdtemp())
    (tmp / "points.csv").write_text("\n".join(f"{x:.7f},{y:.7f}" for x, y in points))
    (tmp / "locate.lua").write_text(LUA % (tmp / "points.csv"))
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    with gunicorn(5099, env, workers=args.workers) as base:
        wrk(base + "/", 3, args.connections, tmp / "locate.lua")  # warm up
        for _ in range(args.rounds):  # alternate, so drift on a shared machine hits both
            health = wrk(base + "/api/health", args.seconds, args.connections, None)
            locate = wrk(base + "/", args.seconds, args.connections, tmp / "locate.lua")
            runs.append((health, locate))
    q = statistics.quantiles(sql_ms, n=100)
    print(f"scale={args.scale} gunicorn: {args.workers} sync workers, wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s, {len(points)} random points (2% outside any grid)")
    print("| what | requests/s | p50 ms | p90 ms | p99 ms | web CPU ms/req | PostgreSQL CPU ms/req |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| raw SQL (one connection, prepared) | {1000 / statistics.mean(sql_ms):.0f} | "
          f"{q[49]:.2f} | {q[89]:.2f} | {q[98]:.2f} | | |")
    for i, (health, locate) in enumerate(runs, 1):
        for name, st in ((f"GET /api/health (round {i})", health),
                         (f"GET /api/locate (round {i})", locate)):
            print(f"| {name} | {st['rps']:.0f} | {st['p50']:.2f} | {st['p90']:.2f} | "
                  f"{st['p99']:.2f} | {st['web_cpu_ms']:.2f} | {st['db_cpu_ms']:.2f} |")
    ratios = [loc["rps"] / hea["rps"] for hea, loc in runs]
    print("locate/health requests/s ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios)
          + f"; non-2xx locate answers (points outside every grid, 404): "
          f"{sum(loc.get('non2xx', 0) for _, loc in runs):.0f}")


if __name__ == "__main__":
    main()
