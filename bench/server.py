"""Start gunicorn for a benchmark, refusing a port another server already holds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(port: int, env: dict[str, str], *, workers: int = 2,
             threads: int = 1) -> Iterator[str]:
    """Serve the app on 127.0.0.1:port with ``workers`` workers of ``threads`` threads (1: sync
    workers); yields the base URL."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken by another server: stop it first")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--threads", str(threads),
         "--access-logfile", os.environ.get("GRIDMAP_BENCH_ACCESS_LOG", "/dev/null"),
         "gridmap.app:create_app()"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if server.poll() is not None:
                raise SystemExit("gunicorn exited during start-up")
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait()
