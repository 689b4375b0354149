"""What-if memory and time on the whole city: before (whole city loaded) and after (neighbourhood).

Usage (after `make setup`, on the city benchmark database of locate_bench.py, with the
elder-care 15-minute run computed: `gridmap coverage compute --type elder_care_station
--circle 15min --if-missing`):

    .venv/bin/python bench/whatif_bench.py [--before REV]

Each measurement runs in a fresh process, so its peak resident memory (ru_maxrss) is that of one
request plus the imports. "before" runs the what-if of ``REV`` (default: the first commit that
does not have the bounded what-if) from a `git archive` of it in a temporary folder; "after"
runs this tree. Edits are 1, 3 and 10 changes around the centre of 沈河区 (adds in a ~2 km
square, removals of the nearest stations), then 10 edits spread over the city.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPE, CIRCLE = "elder_care_station", "15min"
BEFORE = "111d307"

WORKER = r"""
import json, resource, sys, time
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
bounded = sys.argv[1] == "after"
if bounded:
    from gridmap.coverage.services.what_if import what_if as scoped_what_if
    from gridmap.coverage.services.readers import OPERATOR

    def what_if(session, *args, **kwargs):  # the city-wide operator (since issue 8)
        return scoped_what_if(session, OPERATOR, *args, **kwargs)
else:
    from gridmap.coverage.services.siting import what_if
from gridmap.errors import GridmapError
edits = json.loads(sys.argv[2])
engine = create_engine(sys.argv[3])
with Session(engine) as session:
    session.execute(text("SELECT 1"))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    try:
        report = what_if(session, "elder_care_station", "15min", add=[tuple(p) for p in edits["add"]],
                         remove=edits["remove"])
        outcome = {"gained": report.buildings_gained, "lost": report.buildings_lost,
                   "elderly_after": sum(a.elderly_covered_after for a in report.areas)}
    except GridmapError as exc:
        outcome = {"refused": exc.status}
    seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "imports_mb": base,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **outcome}))
"""


def edit_sets(url: str) -> dict[str, dict[str, list]]:
    """1, 3 and 10 edits near the centre of 沈河区, and 10 spread over the city."""
    import psycopg

    with psycopg.connect(url) as conn:
        cx, cy = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM "
                              "district WHERE code = '210103') s").fetchone()
        near = [r[0] for r in conn.execute(
            "SELECT id FROM facility WHERE type = %s ORDER BY geom <-> ST_SetSRID("
            "ST_MakePoint(%s, %s), 4326) LIMIT 5", (TYPE, cx, cy))]
        spread = [r[0] for r in conn.execute(
            "SELECT DISTINCT ON (left(community_code, 6)) id FROM facility WHERE type = %s "
            "ORDER BY left(community_code, 6), id LIMIT 5", (TYPE,))]
        far = [(float(x), float(y)) for x, y in conn.execute(
            "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM district "
            "ORDER BY code LIMIT 5")]
    adds = [(cx + dx, cy + dy) for dx, dy in
            [(0.0, 0.0), (0.01, 0.005), (-0.01, 0.005), (0.01, -0.005), (-0.01, -0.005)]]
    return {"1 edit": {"add": adds[:1], "remove": []},
            "3 edits": {"add": adds[:2], "remove": near[:1]},
            "10 edits": {"add": adds, "remove": near},
            "10 edits across the city": {"add": far, "remove": spread}}


def measure(tree: Path, variant: str, edits: dict[str, list], url: str) -> dict[str, float]:
    """One what-if in a fresh interpreter importing gridmap from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", WORKER, variant, json.dumps(edits), url],
                         env=env, check=True, capture_output=True, text=True, cwd=tree)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision of the unbounded what-if")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:54329/gridmap_bench")
    args = parser.parse_args()
    url = args.url
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.before, "gridmap"], cwd=ROOT,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        print("| edits | before s | before peak MB | after s | after peak MB | time ratio "
              "| memory ratio | same answer |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        imports = 0.0
        for name, edits in edit_sets(url.replace("+psycopg", "")).items():
            old = measure(Path(tmp), "before", edits, url)
            new = measure(ROOT, "after", edits, url)
            imports = max(imports, new["imports_mb"])
            same = {k: v for k, v in old.items() if k in ("gained", "lost", "elderly_after")} == {
                k: v for k, v in new.items() if k in ("gained", "lost", "elderly_after")}
            after = "refused (400)" if "refused" in new else f"{new['peak_mb']:.0f}"
            print(f"| {name} | {old['seconds']:.2f} | {old['peak_mb']:.0f} | {new['seconds']:.2f} "
                  f"| {after} | {old['seconds'] / new['seconds']:.1f}× "
                  f"| {old['peak_mb'] / new['peak_mb']:.1f}× | {'yes' if same else 'refused'} |")
        print(f"\nProcess after imports and a database connection: {imports:.0f} MB.")


if __name__ == "__main__":
    main()
