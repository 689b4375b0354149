"""The settings file `make` writes holds the secret key: it must be readable by its owner only."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_env_file_is_written_private(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    subprocess.run(["make", "-s", ".gridmap/env"], cwd=tmp_path, check=True, capture_output=True)
    env = tmp_path / ".gridmap" / "env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    keys = dict(line.split("=", 1) for line in env.read_text().splitlines())
    assert len(keys["GRIDMAP_SECRET_KEY"]) == 64  # 32 random bytes, hex


def test_an_older_env_file_gains_the_rate_limit_store_once(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    env = tmp_path / ".gridmap" / "env"
    env.parent.mkdir()
    env.write_text("GRIDMAP_DATABASE_URL=postgresql://x/db\nGRIDMAP_SECRET_KEY=kept\n")
    for _ in range(2):
        subprocess.run(["make", "-s", "env", "GRIDMAP_REDIS_PORT=54399"], cwd=tmp_path, check=True,
                       capture_output=True)
    lines = env.read_text().splitlines()
    assert lines == ["GRIDMAP_DATABASE_URL=postgresql://x/db", "GRIDMAP_SECRET_KEY=kept",
                     "GRIDMAP_RATELIMIT_STORAGE_URL=redis://127.0.0.1:54399/0"]
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
