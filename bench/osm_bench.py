"""The walking network from OpenStreetMap at city scale, beside Debian's osm2pgsql loading the
same extract into the same database, in one run.

Usage (after `make setup`):  .venv/bin/python bench/osm_bench.py [--existing]

The extract is written from the city-scale database's own streets (about 152,000 edges, each a
way with its vertices, shared ends as shared nodes): no download. Both tools run in a copy of
the database (``<name>_osm``, dropped afterwards), each in a process of its own with its peak
memory (``/usr/bin/time``). Reports the edges per second of `gridmap import streets` (reading,
filtering, splitting, measuring, replacing the network) and osm2pgsql's time for its default
load (tables of points, lines and polygons with their tags).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

import psycopg
import shapely
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.exchange_bench import GRIDMAP, databases, timed  # noqa: E402


def write_extract(url: str, path: Path) -> int:
    """The streets of ``url`` as OSM XML; how many ways."""
    nodes: dict[tuple[float, float], int] = {}
    with psycopg.connect(url) as conn, path.open("w", encoding="utf-8") as out:
        rows = conn.execute("SELECT id, kind, name, ST_AsBinary(geom) FROM street_edge "
                            "ORDER BY id").fetchall()
        ways = []
        for edge_id, kind, name, wkb in rows:
            coords = shapely.from_wkb(bytes(wkb)).coords
            refs = [nodes.setdefault((round(x, 7), round(y, 7)), len(nodes) + 1)
                    for x, y in coords]
            highway = "primary" if kind == "arterial" else "residential"
            tags = f'<tag k="highway" v="{highway}"/>'
            if name:
                tags += f"<tag k=\"name\" v={quoteattr(name)}/>"
            ways.append(f'<way id="{edge_id}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                        + tags + "</way>\n")
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
        for (x, y), i in nodes.items():
            out.write(f'<node id="{i}" lat="{y}" lon="{x}"/>\n')
        out.writelines(ways)
        out.write("</osm>\n")
    return len(rows)


def main() -> None:
    url, owner = databases(__doc__.splitlines()[0], ("osm2pgsql", "osm2pgsql"))
    tmp = Path(tempfile.mkdtemp(prefix="osm-bench-"))
    extract = tmp / "city.osm"
    ways = write_extract(url, extract)
    source = make_url(url).database
    copy = f"{source}_osm"
    admin = make_url(owner).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
    copy_app = make_url(url).set(database=copy)
    copy_owner = make_url(owner).set(database=copy)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": copy_app.render_as_string(hide_password=False),
           "GRIDMAP_OWNER_DATABASE_URL": copy_owner.render_as_string(hide_password=False)}
    try:
        ours = timed([GRIDMAP, "import", "streets", str(extract)], env)
        edges = int(ours[2].split(" edges")[0].rsplit(" ", 1)[-1])
        theirs = timed(["osm2pgsql", "--create", "--output=pgsql", "-d", copy_owner.database or "",
                        "-H", copy_owner.host or "", "-P", str(copy_owner.port or 5432),
                        "-U", copy_owner.username or "", str(extract)],
                       {**env, "PGPASSWORD": copy_owner.password or ""})
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    size_mb = extract.stat().st_size / 1e6
    print(f"osm bench: {ways} ways in a {size_mb:.0f} MB OSM XML extract")
    print("| step | seconds | peak MB | edges/s |")
    print("|---|---:|---:|---:|")
    print(f"| gridmap import streets ({edges} edges) | {ours[0]:.1f} | {ours[1]:.0f} | "
          f"{edges / ours[0]:,.0f} |")
    print(f"| osm2pgsql --create (default style) | {theirs[0]:.1f} | {theirs[1]:.0f} | |")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
