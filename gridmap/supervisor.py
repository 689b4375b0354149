"""Run the web server and the job worker as one service (``gridmap serve``).

The first program is the service: when it ends, the others are stopped and its exit status is
the service's. The others (the job worker) are restarted when they die, after a pause that
doubles from one second up to a minute while they keep dying young. SIGTERM and SIGINT stop
everything (each program gets the signal, then :data:`GRACE_S` seconds, then SIGKILL); SIGHUP
goes to the first program only (gunicorn reloads its workers on it).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

GRACE_S = 20.0
"""How long programs get to stop after SIGTERM (the job worker lets jobs reach a step)."""
BACKOFF_S = (1.0, 60.0)
"""First and longest pause before restarting a program that died."""
HEALTHY_AFTER_S = 60.0
"""A program that ran this long before dying is restarted after the shortest pause again."""

log = logging.getLogger(__name__)


@dataclass
class _Program:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    pause: float = BACKOFF_S[0]
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(list(self.argv), env=dict(env))
        self.started = time.monotonic()
        self.restart_at = None


def supervise(programs: Mapping[str, Sequence[str]], env: Mapping[str, str], *,
              poll_s: float = 0.5) -> int:
    """Run ``programs`` (name → argv; the first is the service) until the first ends or a stop
    signal arrives; the first program's exit status."""
    items = [_Program(name, argv) for name, argv in programs.items()]
    main, others = items[0], items[1:]
    stopping: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            if main.process is not None:
                main.process.send_signal(signum)
            return
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal)
                for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        for program in items:
            program.start(env)
        while not stopping and main.process is not None and main.process.poll() is None:
            now = time.monotonic()
            for program in others:
                _watch(program, env, now)
            time.sleep(poll_s)
        return _stop(items, stopping[0] if stopping else signal.SIGTERM)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _watch(program: _Program, env: Mapping[str, str], now: float) -> None:
    """Restart ``program`` if it died, after its pause."""
    assert program.process is not None
    if program.restart_at is not None:
        if now >= program.restart_at:
            program.restarts += 1
            log.warning("restarting %s (restart %d)", program.name, program.restarts)
            program.start(env)
        return
    code = program.process.poll()
    if code is None:
        return
    ran = now - program.started
    program.pause = BACKOFF_S[0] if ran >= HEALTHY_AFTER_S else min(program.pause * 2,
                                                                     BACKOFF_S[1])
    program.restart_at = now + program.pause
    log.error("%s exited with status %s after %.0f s; restarting in %.0f s", program.name, code,
              ran, program.pause)


def _stop(items: Sequence[_Program], signum: int) -> int:
    """Send ``signum`` to every running program, wait up to :data:`GRACE_S`, then kill; the
    first program's exit status (128 + N when a signal N ended it)."""
    running = [p.process for p in items if p.process is not None and p.process.poll() is None]
    for process in running:
        process.send_signal(signum)
    deadline = time.monotonic() + GRACE_S
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    first = items[0].process
    assert first is not None
    code = first.returncode or 0
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says
