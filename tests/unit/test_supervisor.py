"""`gridmap serve`'s supervisor with real processes: the service decides, the helper is
restarted when it dies, and a stop signal reaches both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridmap import supervisor


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_service_ends_the_run_and_a_dying_helper_is_restarted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "BACKOFF_S", (0.1, 0.4))
    starts = tmp_path / "starts"
    helper = _python(f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)")
    web = _python("import time; time.sleep(2.5); raise SystemExit(7)")
    code = supervisor.supervise({"web": web, "jobs": helper}, dict(os.environ), poll_s=0.05)
    assert code == 7
    # Dying at once each time, it is restarted after 0.1, 0.2, 0.4, 0.4… seconds: not in a loop.
    assert 3 <= len(starts.read_text()) <= 12


def test_sigterm_stops_both_programs(tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    pids = tmp_path / "pids"
    script.write_text(
        "import os, sys\n"
        "from gridmap.supervisor import supervise\n"
        "child = 'import os, time; open(%r, \"a\").write(str(os.getpid()) + \"\\\\n\"); "
        "time.sleep(60)'\n"
        f"code = supervise({{'web': [sys.executable, '-c', child % {str(pids)!r}], "
        f"'jobs': [sys.executable, '-c', child % {str(pids)!r}]}}, dict(os.environ), "
        "poll_s=0.05)\n"
        "raise SystemExit(code)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen([sys.executable, str(script)], env=env)
    deadline = time.monotonic() + 20
    while not (pids.exists() and len(pids.read_text().split()) == 2):
        assert time.monotonic() < deadline, "the programs did not start"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 128 + signal.SIGTERM  # the service's end, as a shell says
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
