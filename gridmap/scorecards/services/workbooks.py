"""The scorecards' Excel workbook as a background job: the whole city's takes seconds (about a
million cells through openpyxl, bench/README.md), so the page asks the worker for it, follows
the job and downloads the file when it is done.

The checks are made when the job is started (a statistics role, an area inside the reader's
statistics area, a valid month); the area is then fixed in the job's parameters and the worker
builds the workbook as that reader, over that area, as of the moment they asked. A workbook is
its reader's alone (and administrators'): no other role watches the job. Files are named by a
random token kept in the job's parameters, never by anything a client sends.
"""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.cases.services import stats as case_stats
from gridmap.errors import Conflict, NotFound
from gridmap.jobs.services import jobs
from gridmap.jobs.services.runner import Handler, Progress
from gridmap.scorecards.services import scorecards

KIND = "scorecards.workbook"
FOLDER = "scorecards"
KEEP_S = 7 * 24 * 3600.0
"""Workbook files older than this are removed (:func:`prune`)."""


@dataclass(frozen=True)
class Download:
    """A workbook file to send and the name to save it as."""

    path: Path
    filename: str


def start(factory: sessionmaker[Session], principal: Principal, q: scorecards.MonthQuery, *,
          lang: str, request_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Queue the workbook of ``q`` (202) or return the same one already under way for this
    reader; 401/403 as the scorecards themselves (outside the reader's area, no statistics)."""
    area = scorecards.reader_area(principal, q.area)
    month = scorecards.month_label(q)
    assert principal.role is not None  # reader_area lets only accounts through
    params = {"month": month, "area": area, "lang": lang, "as_of": q.as_of.isoformat(),
              "reader": {"account_id": principal.account_id, "role": principal.role.value,
                         "username": principal.username},
              "token": secrets.token_hex(16)}
    spec = jobs.Spec(KIND, params, watchers=frozenset(), watch_area=area,
                     dedupe_key=f"{KIND}:{principal.account_id}:{month}:{area or 'city'}:{lang}")
    return jobs.start(factory, principal, spec, request_id=request_id)


def public(job: dict[str, Any]) -> dict[str, Any]:
    """A workbook job as the API answers it (the file token and the reader stay private)."""
    params = {k: v for k, v in job["params"].items() if k not in ("token", "reader")}
    return {**job, "params": params}


def running(factory: sessionmaker[Session], principal: Principal) -> dict[str, Any] | None:
    """The reader's own newest workbook still waiting or being built (the page follows it
    after a reload), or None."""
    if not principal.signed_in:
        return None
    mine = [j for j in jobs.listing(factory, principal, kinds=(KIND,), active_only=True)
            if j["owner"] == principal.username]
    return public(mine[0]) if mine else None


def download(factory: sessionmaker[Session], principal: Principal, media_dir: Path,
             job_id: int) -> Download:
    """A finished workbook's file; 404 for a job that is not a workbook the principal may read,
    409 while it is not done."""
    job = jobs.view(factory, principal, job_id)
    if job["kind"] != KIND:
        raise NotFound(f"没有编号为 {job_id} 的考核工作簿 (no scorecard workbook {job_id})")
    params = job["params"]
    scorecards.reader_area(principal, params["area"])
    if job["state"] != "succeeded":
        raise Conflict("考核工作簿尚未生成完成 (the workbook is not ready)")
    return Download(media_dir / FOLDER / f"{params['token']}.xlsx",
                    f"scorecard-{params['month']}.xlsx")


def handlers(media_dir: Path) -> dict[str, Handler]:
    """The workbook job's handler, writing into ``media_dir``."""
    return {KIND: _runner(media_dir)}


def _runner(media_dir: Path) -> Handler:
    def run(factory: sessionmaker[Session], progress: Progress,
            params: dict[str, Any]) -> dict[str, Any]:
        reader = params["reader"]
        # The reader as they were when they asked: their role, over the area checked then.
        principal = Principal(account_id=reader["account_id"], role=Role(reader["role"]),
                              username=reader["username"], area_code=params["area"])
        q = scorecards.MonthQuery(month=case_stats.month_index(str(params["month"])), area=None,
                                  as_of=datetime.fromisoformat(str(params["as_of"])))
        lang = str(params["lang"])
        sheets = []
        for i, level in enumerate(scorecards.LEVELS):
            progress(0.05 + 0.45 * i / len(scorecards.LEVELS),
                     f"汇总{scorecards.LEVEL_ZH[level]}考核")
            with factory() as session:
                sheets.append(scorecards.workbook_sheet(session, principal, level, q, lang=lang))
        progress(0.5, "生成 Excel 工作簿")
        data = scorecards.build_workbook(sheets, q, lang=lang)
        progress(0.95, "保存工作簿")
        folder = media_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{params['token']}.xlsx.tmp"
        tmp.write_bytes(data)
        tmp.replace(folder / f"{params['token']}.xlsx")
        return {"month": params["month"], "area": params["area"], "bytes": len(data)}

    return run


def prune(media_dir: Path, *, older_than_s: float = KEEP_S) -> int:
    """Remove workbook files older than a week; how many."""
    folder = media_dir / FOLDER
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.iterdir():
        if path.stat().st_mtime < cutoff:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed
