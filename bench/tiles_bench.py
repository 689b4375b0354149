"""Vector tiles at city scale: gridmap vs tipg vs the bare ST_AsMVT statement, side by side.

One realistic pan/zoom trace (a person browsing 沈河区 and 大东区 at zooms 12-17 in a 1280x800
window: pans of half a screen, zooms in and out; only the tiles each view newly needs) is
replayed against

- gridmap as ``gridmap serve`` runs it (gunicorn, 2 sync workers), with its tile cache off
  (``GRIDMAP_TILE_CACHE_MB=0``: every tile built) and on (the trace repeats within a run, so
  most answers come from the cache after the first pass);
- tipg (installed in a throwaway venv, ``--tipg-venv``; not a gridmap dependency) with 2 uvicorn
  workers, serving the same tables;

by wrk (-t2 -c16, the issue's setting): tiles/s and p50/p95/p99. The mean gzip tile size is
measured once per distinct tile. Beside them, the bare statement gridmap runs, straight in
PostgreSQL with pgbench (one client per core, prepared, the trace's tiles, weighted like it).

gridmap reads ``--db``: a copy of the city-scale ``gridmap_perf_b`` migrated to this code (0014
adds the stored EPSG:3857 geometries); tipg reads ``--tipg-db``, the same data without that
column (so tipg's catalogue sees the tables as they were). Both read-only.

    set -a; source .gridmap/env; set +a
    psql "${GRIDMAP_OWNER_DATABASE_URL%/*}/postgres" \
      -c "CREATE DATABASE gridmap_tiles_bench TEMPLATE gridmap_perf_b"  # nobody connected
    GRIDMAP_DATABASE_URL=${GRIDMAP_DATABASE_URL%/*}/gridmap_tiles_bench \
      GRIDMAP_OWNER_DATABASE_URL=${GRIDMAP_OWNER_DATABASE_URL%/*}/gridmap_tiles_bench \
      .venv/bin/gridmap db upgrade
    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg==1.6.1 uvicorn
    .venv/bin/python bench/tiles_bench.py
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridmap.tiles import tms  # noqa: E402
from gridmap.tiles.services import tiles as tile_service  # noqa: E402

DISTRICTS = ("210103", "210104")  # 沈河区, 大东区
WINDOW_PX = (1280, 800)
TIPG_TABLES = {"buildings": "public.building", "grids": "public.grid"}

WRK_LUA = """
local paths = {%(paths)s}
local counter = 0
local i = 0
setup = function(thread) thread:set("id", counter); counter = counter + 1 end
init = function(args) i = tonumber(id) * 977 end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%f %%f %%f\\n", summary.requests,
    summary.duration, summary.errors.status + summary.errors.connect + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def trace(conn: psycopg.Connection, *, seed: int, views: int) -> list[tuple[int, int, int]]:
    """The tiles a person's browsing needs, in order: sessions of pans and zooms."""
    rng = random.Random(seed)
    starts = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM building "
        "WHERE left(grid_code, 6) = ANY(%s) ORDER BY id) b", (list(DISTRICTS),)).fetchall()
    out: list[tuple[int, int, int]] = []
    shown: set[tuple[int, int, int]] = set()
    z, cx, cy = 0, 0.0, 0.0
    for step in range(views):
        if step % 12 == 0:  # a new session somewhere in the two districts
            lon, lat = rng.choice(starts)
            z = rng.choice((12, 13, 14, 14, 15, 15, 16, 16, 17))
            cx, cy = _pixel(lon, lat, z)
            shown = set()
        else:
            move = rng.random()
            if move < 0.7:
                cx += rng.uniform(-0.5, 0.5) * WINDOW_PX[0]
                cy += rng.uniform(-0.5, 0.5) * WINDOW_PX[1]
            elif move < 0.85 and z < 17:
                z, cx, cy = z + 1, cx * 2, cy * 2
            elif z > 12:
                z, cx, cy = z - 1, cx / 2, cy / 2
        view = _view_tiles(z, cx, cy)
        out.extend(t for t in view if t not in shown)
        shown = set(view)
    return out


def _pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    x0, y0, _, _ = tms.tile_range((lon, lat, lon, lat), z)
    return (x0 + 0.5) * 256, (y0 + 0.5) * 256


def _view_tiles(z: int, cx: float, cy: float) -> list[tuple[int, int, int]]:
    half_w, half_h = WINDOW_PX[0] / 2, WINDOW_PX[1] / 2
    xs = range(int((cx - half_w) // 256), int((cx + half_w) // 256) + 1)
    ys = range(int((cy - half_h) // 256), int((cy + half_h) // 256) + 1)
    return [(z, x, y) for y in ys for x in xs if 0 <= x < 2**z and 0 <= y < 2**z]


def _free(port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken by another server: stop it first")


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited during start-up")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


@contextmanager
def gridmap_server(port: int, db_url: str, cache_mb: int) -> Iterator[str]:
    """``gridmap serve`` (2 sync workers, no job worker) on the bench database."""
    _free(port)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": db_url, "GRIDMAP_TILE_CACHE_MB": str(cache_mb),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gridmap")), "serve", "--port",
                             str(port), "--workers", "2", "--no-jobs"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/api/health", proc)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


@contextmanager
def tipg_server(port: int, db_url: str, venv: Path) -> Iterator[str]:
    """tipg with 2 uvicorn workers on the same database (its own catalogue of every table)."""
    _free(port)
    env = {**os.environ, "DATABASE_URL": db_url.replace("postgresql+psycopg://", "postgresql://"),
           "TIPG_MAX_FEATURES_PER_TILE": "100000"}
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port),
                             "--workers", "2", "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/collections", proc)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def gridmap_paths(layer: str, tiles: list[tuple[int, int, int]]) -> list[str]:
    return [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for z, x, y in tiles]


def tipg_paths(layer: str, tiles: list[tuple[int, int, int]]) -> list[str]:
    return [f"/collections/{TIPG_TABLES[layer]}/tiles/WebMercatorQuad/{z}/{x}/{y}"
            for z, x, y in tiles]


def wrk(base: str, paths: list[str], seconds: int, connections: int,
        tmp: Path) -> dict[str, float]:
    """Replay ``paths`` with wrk: tiles/s, p50/p95/p99 ms and non-2xx/3xx answers."""
    script = tmp / "trace.lua"
    script.write_text(WRK_LUA % {"paths": ",".join(f'"{p}"' for p in paths)})
    done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                           base], capture_output=True, text=True, check=True)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", done.stdout)
    if match is None:
        raise SystemExit(f"wrk said: {done.stdout} {done.stderr}")
    requests, duration_us, errors = (int(match.group(i)) for i in (1, 2, 3))
    return {"rps": requests / (duration_us / 1e6), "errors": errors,
            "p50": float(match.group(4)), "p95": float(match.group(5)),
            "p99": float(match.group(6))}


def mean_size_kb(base: str, paths: list[str]) -> float:
    """Mean bytes on the wire (gzip asked for) of each distinct tile, in KB."""
    sizes = []
    for path in sorted(set(paths)):
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            sizes.append(len(answer.read()))
    return sum(sizes) / len(sizes) / 1024


def pgbench(db_url: str, layer: str, tiles: list[tuple[int, int, int]], seconds: int,
            tmp: Path) -> float:
    """Tiles/s of gridmap's own public tile statements on the trace's tiles, run by pgbench (2
    clients, prepared): one script per zoom holding that zoom's tiles, weighted like the trace."""
    by_zoom: dict[int, list[tuple[int, int]]] = {}
    for z, x, y in tiles:
        by_zoom.setdefault(z, []).append((x, y))
    args = []
    for z, xys in sorted(by_zoom.items()):
        statement = tile_service._public_statement(layer, z)  # noqa: SLF001 (the very statement)
        xs = "ARRAY[" + ",".join(str(x) for x, _ in xys) + "]"
        ys = "ARRAY[" + ",".join(str(y) for _, y in xys) + "]"
        sql = statement.sql % {**{k: _literal(v) for k, v in statement.params.items()},
                               "z": str(z), "x": f"({xs})[:i]", "y": f"({ys})[:i]",
                               "tol": repr(tms.simplify_tolerance_m(z))}
        script = tmp / f"{layer}_{z}.sql"
        script.write_text(f"\\set i random(1, {len(xys)})\n" + " ".join(sql.split()) + ";\n")
        args += ["-f", f"{script}@{len(xys)}"]
    done = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "2", "-j", "2", "-T",
                           str(seconds), *args,
                           db_url.replace("postgresql+psycopg://", "postgresql://")],
                          capture_output=True, text=True, check=True)
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if match is None:
        raise SystemExit(f"pgbench said: {done.stdout} {done.stderr}")
    return float(match.group(1))


def one_pass(base: str, paths: list[str], connections: int) -> float:
    """Tiles/s of a single pass over ``paths`` by ``connections`` keep-alive clients (a fresh
    server with the cache on: every distinct tile built once, repeats from the cache)."""
    work = iter(paths)
    lock = threading.Lock()
    host, port = base.removeprefix("http://").split(":")

    def client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                path = next(work, None)
            if path is None:
                break
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"{path}: {answer.status}")
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(paths) / (time.perf_counter() - start)


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="gridmap_tiles_bench")
    parser.add_argument("--tipg-db", default="gridmap_perf_b")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--views", type=int, default=120)
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument("--layers", default="buildings,grids")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("pgbench"):
        raise SystemExit("wrk and pgbench are needed (apt-get install wrk postgresql-client)")
    base_url = os.environ["GRIDMAP_DATABASE_URL"]
    db_url = base_url.rsplit("/", 1)[0] + "/" + args.db
    tipg_url = base_url.rsplit("/", 1)[0] + "/" + args.tipg_db
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        tiles = trace(conn, seed=10, views=args.views)
    zooms = Counter(z for z, _, _ in tiles)
    print(f"db={args.db} (tipg: {args.tipg_db}) trace: {len(tiles)} tile requests "
          f"({len(set(tiles))} distinct), "
          f"by zoom {dict(sorted(zooms.items()))}; wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s; servers: 2 workers each")
    print("| layer | server | tiles/s | p50 ms | p95 ms | p99 ms | errors | mean tile KB (gzip) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for layer in args.layers.split(","):
            rows = []
            with gridmap_server(8091, db_url, 64) as base:
                wrk(base, gridmap_paths("streets", tiles), 3, args.connections, tmp)
                first = one_pass(base, gridmap_paths(layer, tiles), args.connections)
            for label, cache_mb in (("gridmap, cache off", 0), ("gridmap, cache on", 64)):
                with gridmap_server(8091, db_url, cache_mb) as base:
                    paths = gridmap_paths(layer, tiles)
                    size = mean_size_kb(base, paths) if cache_mb == 0 else None
                    # Warm the workers' connections on another layer's tiles: the cache
                    # then starts empty for this layer (its first pass of the trace is cold).
                    wrk(base, gridmap_paths("streets", tiles), 3, args.connections, tmp)
                    result = wrk(base, paths, args.seconds, args.connections, tmp)
                    rows.append((label, result, size))
            with tipg_server(8092, tipg_url, args.tipg_venv) as base:
                paths = tipg_paths(layer, tiles)
                size = mean_size_kb(base, paths)
                wrk(base, paths, 3, args.connections, tmp)
                rows.append(("tipg 1.6.1", wrk(base, paths, args.seconds, args.connections, tmp),
                             size))
            bare = pgbench(db_url, layer, tiles, args.seconds, tmp)
            for label, r, size in rows:
                kb = f"{size:.1f}" if size is not None else "same"
                print(f"| {layer} | {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                      f"{r['p99']:.1f} | {r['errors']:.0f} | {kb} |")
            print(f"| {layer} | gridmap, cache on, one pass of the trace from a fresh server "
                  f"(Python client, 16 connections) | {first:.0f} | | | | | |")
            print(f"| {layer} | bare statement on the trace's tiles (pgbench -c2 -j2, "
                  f"prepared) | {bare:.0f} | | | | | |")
            off, on, tipg = (r for _, r, _ in rows)
            print(f"| {layer} | ratios | cache off / tipg {off['rps'] / tipg['rps']:.2f}x, "
                  f"cache on / tipg {on['rps'] / tipg['rps']:.2f}x, one pass / tipg "
                  f"{first / tipg['rps']:.2f}x; cache off / bare {off['rps'] / bare:.0%} | | | | | |")


if __name__ == "__main__":
    main()
