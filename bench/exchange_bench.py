"""Import and export at city scale beside GDAL's own ogr2ogr (Debian's gdal-bin, installed if
missing), on the same file and database, in one run.

Usage (after `make setup`):  .venv/bin/python bench/exchange_bench.py [--existing] [--repeat N]

1. Export every building (about 121,000 polygons with their counts) to a GeoPackage and to
   GeoJSON with `gridmap export`, and the same rows with `ogr2ogr` reading the table.
2. Import that GeoPackage with `gridmap import buildings` into an empty building table (every
   check run, every row added), and with `ogr2ogr -f PostgreSQL` into a table of its own.
Each step runs in a process of its own, timed, with its peak memory (``/usr/bin/time``).
Targets (issue 9): export within 1.5x ogr2ogr, import within 1.5x ogr2ogr and under 500 MB.
The import runs in a copy of the database (``<name>_import``, dropped afterwards), so the
benchmark database is left as it was.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))
OGR_SQL = ("SELECT code, name, address, grid_code, households, residents, aged_60_plus, "
           "aged_80_plus, elderly_living_alone, geom FROM building ORDER BY code")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``argv``; (seconds, peak MB, output)."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return seconds, (int(peak.group(1)) / 1024 if peak else float("nan")), done.stdout


def pg(url: str) -> str:
    u = make_url(url)
    return (f"PG:host={u.host} port={u.port} dbname={u.database} user={u.username} "
            f"password={u.password}")


def databases(description: str, debian_tool: tuple[str, str]) -> tuple[str, str]:
    """The benchmark database's URLs (app role, owner) from the command line and the settings,
    with the Debian tool compared against installed if missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--existing", action="store_true",
                        help="use GRIDMAP_DATABASE_URL / GRIDMAP_OWNER_DATABASE_URL as they are")
    args = parser.parse_known_args()[0]
    command, package = debian_tool
    if shutil.which(command) is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)
    url = os.environ["GRIDMAP_DATABASE_URL"]
    owner = os.environ.get("GRIDMAP_OWNER_DATABASE_URL") or url
    if not args.existing:
        url = ensure_bench_db(url, "city")
        owner = make_url(owner).set(database=make_url(url).database).render_as_string(
            hide_password=False)
    return url, owner


def write_alone(owner: str) -> float:
    """Seconds to insert the imported buildings again into the emptied `building` table with
    its indexes, foreign key, checks and trigger, in SQL (rolled back): what any import into
    that table pays, whatever reads and checks the file."""
    names = ("code, name, address, grid_code, households, residents, aged_60_plus, aged_80_plus, "
             "elderly_living_alone, geom")
    with psycopg.connect(owner) as conn:
        conn.execute(f"CREATE TEMP TABLE again AS SELECT {names} FROM building ORDER BY code")  # noqa: S608 (constant)
        conn.execute("TRUNCATE building CASCADE")
        start = time.perf_counter()
        conn.execute(f"INSERT INTO building ({names}) SELECT {names} FROM again")  # noqa: S608
        seconds = time.perf_counter() - start
        conn.rollback()
    return seconds


Step = tuple[str, float, float]
"""(what, seconds, peak MB)."""


def exports(env: dict[str, str], url: str, tmp: Path) -> list[Step]:
    """Each export format, ours then ogr2ogr's."""
    steps: list[Step] = []
    for fmt, suffix, driver in (("gpkg", "gpkg", "GPKG"), ("geojson", "geojson", "GeoJSON")):
        ours = timed([GRIDMAP, "export", "buildings", str(tmp / f"ours.{suffix}")], env)
        (tmp / f"gdal.{suffix}").unlink(missing_ok=True)  # a new file, as ours is
        gdal = timed(["ogr2ogr", "-f", driver, str(tmp / f"gdal.{suffix}"), pg(url), "-sql",
                      OGR_SQL, "-nln", "buildings"], env)
        steps += [(f"export {fmt}: gridmap export", ours[0], ours[1]),
                  (f"export {fmt}: ogr2ogr", gdal[0], gdal[1])]
    return steps


def imports(env: dict[str, str], url: str, owner: str, tmp: Path) -> tuple[list[Step], float, str]:
    """The GeoPackage imported, ours then ogr2ogr's, into a fresh copy of the database whose
    building table is empty (its foreign keys kept); the write alone; our output."""
    copy = f"{make_url(url).database}_import"
    admin = make_url(owner).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{make_url(url).database}"')
    copy_url = make_url(url).set(database=copy).render_as_string(hide_password=False)
    copy_owner = make_url(owner).set(database=copy).render_as_string(hide_password=False)
    with psycopg.connect(copy_owner, autocommit=True) as conn:
        conn.execute("TRUNCATE building CASCADE")
    env_copy = {**env, "GRIDMAP_DATABASE_URL": copy_url, "GRIDMAP_OWNER_DATABASE_URL": copy_owner}
    ours = timed([GRIDMAP, "import", "buildings", str(tmp / "ours.gpkg")], env_copy)
    gdal = timed(["ogr2ogr", "-f", "PostgreSQL", pg(copy_owner), str(tmp / "ours.gpkg"),
                  "-nln", "building_ogr", "-lco", "GEOMETRY_NAME=geom"], env_copy)
    floor = write_alone(copy_owner)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    return ([("import gpkg: gridmap import (checked, staged, written)", ours[0], ours[1]),
             ("import gpkg: ogr2ogr -f PostgreSQL", gdal[0], gdal[1])], floor, ours[2])


def main() -> None:
    url, owner = databases(__doc__.splitlines()[0], ("ogr2ogr", "gdal-bin"))
    more = argparse.ArgumentParser()
    more.add_argument("--repeat", type=int, default=1,
                      help="rounds (medians of each step and of each round's ratio)")
    repeat = max(1, more.parse_known_args()[0].repeat)
    # The gridmap command runs this checkout's code (a worktree's too), whatever is installed.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url, "GRIDMAP_OWNER_DATABASE_URL": owner,
           "PYTHONPATH": path}
    with psycopg.connect(url) as conn:
        n = conn.execute("SELECT count(*) FROM building").fetchone()[0]  # type: ignore[index]
    tmp = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    rounds: list[list[Step]] = []
    floors: list[float] = []
    for _ in range(repeat):
        steps = exports(env, url, tmp)
        imported, floor, said = imports(env, url, owner, tmp)
        rounds.append(steps + imported)
        floors.append(floor)
    shutil.rmtree(tmp)
    added = re.search(r"(\d+) added", said)
    print(f"exchange bench: {n} buildings; gridmap import added "
          f"{added.group(1) if added else '?'}; median of {repeat} round(s)")
    print("| step | seconds | peak MB | ratio to ogr2ogr |")
    print("|---|---:|---:|---:|")
    for i in range(0, len(rounds[0]), 2):
        ours = [r[i] for r in rounds]
        gdal = [r[i + 1] for r in rounds]
        ratio = median(o[1] / g[1] for o, g in zip(ours, gdal, strict=True))
        print(f"| {ours[0][0]} | {median(o[1] for o in ours):.1f} | "
              f"{median(o[2] for o in ours):.0f} | {ratio:.2f} |")
        print(f"| {gdal[0][0]} | {median(g[1] for g in gdal):.1f} | "
              f"{median(g[2] for g in gdal):.0f} | 1.00 |")
    ratio = median(f / r[-1][1] for f, r in zip(floors, rounds, strict=True))
    print(f"| (the import's write alone: INSERT … SELECT into `building`, in SQL) | "
          f"{median(floors):.1f} | | {ratio:.2f} |")


if __name__ == "__main__":
    main()
