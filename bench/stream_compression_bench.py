"""Memory and size of a whole streamed layer, uncompressed, gzip and brotli (read-only).

Streams ``/api/layers/buildings.geojson`` (every building of the city-scale database, no zoom:
no cap) through the app's test client in a fresh process per encoding, and reports the body
size, the number of chunks, the time and the process's peak RSS. Run (see bench/README.md):

    set -a; . .gridmap/env; set +a
    python bench/stream_compression_bench.py --database gridmap_perf_b
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _one(encoding: str) -> dict[str, object]:
    from gridmap.app import create_app

    app = create_app()
    client = app.test_client()
    started = time.perf_counter()
    headers = {"Accept-Encoding": encoding} if encoding != "identity" else {}
    answer = client.get("/api/layers/buildings.geojson", headers=headers, buffered=False)
    size = chunks = 0
    for chunk in answer.response:
        size += len(chunk)
        chunks += 1
    answer.close()
    return {"encoding": encoding, "bytes": size, "chunks": chunks,
            "seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "content_encoding": answer.headers.get("Content-Encoding")}


def main() -> None:
    """Run each encoding in its own process (so peak RSS is its own) and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="gridmap_perf_b")
    parser.add_argument("--one")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one)))
        return
    env = dict(os.environ)
    env["GRIDMAP_DATABASE_URL"] = env["GRIDMAP_DATABASE_URL"].rsplit("/", 1)[0] + "/" + args.database
    print("| encoding | body MB | chunks | s | peak RSS MB |\n|---|---|---|---|---|")
    for encoding in ("identity", "gzip", "br"):
        out = subprocess.run([sys.executable, __file__, "--one", encoding], env=env, check=True,
                             capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(f"| {row['encoding']} | {int(row['bytes']) / 1e6:.1f} | {row['chunks']} | "
              f"{row['seconds']} | {row['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
