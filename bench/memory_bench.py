"""Exports stream with flat memory: a web worker's peak RSS while it streams whole city layers.

Usage (after `make setup`):  .venv/bin/python bench/memory_bench.py
One gunicorn sync worker on the city-scale benchmark database (see locate_bench.py). Reads the
worker's peak resident memory (VmHWM) after start-up, then after streaming each full layer
(no bbox: every feature, full precision) through /api/layers/<layer>.geojson.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from bench.server import gunicorn  # noqa: E402
from gridmap.config import Settings  # noqa: E402

PORT = 5094
LAYERS = ["grids", "facilities", "streets", "buildings"]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def worker_pid() -> int:
    """The single gunicorn worker (the child of the arbiter)."""
    out = subprocess.run(["pgrep", "-f", f"127.0.0.1:{PORT}"], capture_output=True, text=True)
    pids = sorted(int(p) for p in out.stdout.split())
    return pids[-1]


def main() -> None:
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    rows = []
    with gunicorn(PORT, env, workers=1) as base:
        pid = worker_pid()
        urllib.request.urlopen(base + "/api/meta").read()
        rows.append(("after start-up and /api/meta", 0, 0.0, peak_rss_mb(pid)))
        for layer in LAYERS:
            t0 = time.perf_counter()
            size = 0
            with urllib.request.urlopen(f"{base}/api/layers/{layer}.geojson") as response:
                while chunk := response.read(1 << 20):
                    size += len(chunk)
            rows.append((f"streamed all {layer}", size, time.perf_counter() - t0,
                         peak_rss_mb(pid)))
    print("| step | GeoJSON MB | seconds | worker peak RSS MB |")
    print("|---|---:|---:|---:|")
    for step, size, seconds, rss in rows:
        print(f"| {step} | {size / 1e6:.1f} | {seconds:.1f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
