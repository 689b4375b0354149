"""The ``gridmap`` command: database, demo data, export, locate and the web server."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.config import PROJECT_ROOT, Settings
from gridmap.errors import GridmapError

if TYPE_CHECKING:
    from gridmap.demo.services.load import Scale


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except GridmapError as exc:
        raise click.ClickException(exc.message) from None


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory for one command; its connections are closed when the command ends."""
    from gridmap.db import make_engine, make_session_factory

    engine = make_engine(settings)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the app's own errors into a clean command error: its message, exit status 1."""
    try:
        yield
    except GridmapError as exc:
        raise click.ClickException(exc.message) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """gridmap 网格地图: grid management maps and cases for Shenyang's 两邻 practice.

    Settings come from GRIDMAP_* environment variables; run inside the checkout, those not in
    the environment are read from its .gridmap/env, which `make demo` writes (see README).
    """


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from gridmap import schema

    schema.upgrade(_settings(), revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the schema)."""
    from gridmap import schema

    schema.downgrade(_settings(), revision)
    click.echo(f"database at {revision}")


@main.group()
def demo() -> None:
    """Synthetic Shenyang demo data (real outlines, names and codes; synthetic geometry)."""


@demo.command("load")
@click.option("--scale", type=click.Choice(["districts", "city"]), default="districts",
              show_default=True,
              help="districts: 沈河区 and 大东区; city: all 13 districts (for benchmarks).")
@click.option("--seed", type=int, default=20231101, show_default=True, help="Random seed.")
@click.option("--district", "districts", multiple=True, metavar="CODE",
              help="Only these 6-digit district codes (repeatable); overrides --scale.")
@click.option("--cases", type=click.IntRange(min=0), default=20_000, show_default=True,
              help="Historical cases (12 months, every workflow path) to generate; 0 for none.")
@click.option("--force", is_flag=True, help="Reload even if the same data set is loaded.")
def demo_load(scale: Scale, seed: int, districts: tuple[str, ...], cases: int,
              force: bool) -> None:
    """Generate and load the demo data set (idempotent: a second run is a no-op)."""
    from gridmap.demo.services.load import load_demo

    settings = _settings().as_owner()  # it empties (TRUNCATE) and analyses the tables it loads
    with _sessions(settings) as factory:
        report = load_demo(factory, scale=scale, seed=seed,
                           districts=list(districts) or None, force=force, progress=True,
                           geodata_dir=settings.geodata_dir, cases=cases)
    state = "already loaded" if report.skipped else "loaded"
    click.echo(f"demo data {state}: " + json.dumps(report.counts, ensure_ascii=False))
    for step, seconds in report.seconds.items():
        rows = report.counts.get(step) or (report.counts.get("case") if step == "cases" else None)
        rate = f", {rows / seconds:,.0f} rows/s" if rows and seconds > 0 else ""
        click.echo(f"  {step}: {seconds:.2f} s{rate}", err=True)


@demo.command("accounts")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              default=PROJECT_ROOT / ".gridmap" / "demo-accounts.txt", show_default=True,
              envvar="GRIDMAP_DEMO_ACCOUNTS_FILE",
              help="Where to write the accounts and passwords (mode 600).")
@click.option("--reset", is_flag=True, help="New passwords for every demo account.")
def demo_accounts(path: Path, reset: bool) -> None:
    """Create a demo account per role in 沈河区 and 大东区 (where loaded) and an administrator;
    passwords go to a private file (kept on later runs while the file lists them)."""
    from gridmap.demo.services.accounts import make_demo_accounts

    with _sessions(_settings()) as factory, _user_errors():
        made = make_demo_accounts(factory, path, reset=reset)
    if not made:
        click.echo("no demo district is loaded: run `gridmap demo load` first", err=True)
        return
    for account in made:
        click.echo(f"{account.state:8} {account.role:17} {account.username:22} {account.scope}")
    click.echo(f"demo accounts and passwords: {path.resolve()} (readable by you only)")


@main.group()
def coverage() -> None:
    """Walking coverage of facilities (life circles, GB 50180-2018)."""


@coverage.command("compute")
@click.option("--type", "facility_type",
              help="Facility type, e.g. elder_care_station, pocket_park.")
@click.option("--circle", type=click.Choice(["5min", "10min", "15min"]),
              help="Life circle; its distance comes from the coverage_rule table.")
@click.option("--all", "every_rule", is_flag=True,
              help="Every rule in coverage_rule (the audit's required ones first), one run each.")
@click.option("--if-missing", is_flag=True,
              help="Do nothing for a rule that already has a current run.")
def coverage_compute(facility_type: str | None, circle: str | None, every_rule: bool,
                     if_missing: bool) -> None:
    """Compute and store walking coverage for a facility type and life circle, or --all."""
    if every_rule:
        if facility_type or circle:
            raise click.UsageError("--all computes every rule: leave out --type and --circle")
        _compute_all(if_missing)
    elif facility_type and circle:
        _compute_one(facility_type, circle, if_missing)
    else:
        raise click.UsageError("give --type and --circle, or --all")


def _compute_one(facility_type: str, circle: str, if_missing: bool) -> None:
    from tqdm import tqdm

    from gridmap.coverage.services.compute import compute, current_run

    if if_missing:
        with _sessions(_settings()) as factory, factory() as session:
            run_id = current_run(session, facility_type, circle)
        if run_id is not None:
            click.echo(f"run {run_id} is current for {facility_type} / {circle}; nothing to do")
            return

    steps = ["load", "graph", "shortest paths", "store"]
    with _sessions(_settings()) as factory, tqdm(total=len(steps), unit="step") as bar:
        def step(name: str) -> None:
            bar.set_description(name)
            if name != steps[0]:
                bar.update(1)

        with _user_errors():
            report = compute(factory, facility_type, circle, step=step)
        bar.update(1)
    click.echo(f"run {report.run_id}: {report.buildings_covered}/{report.buildings} buildings "
               f"within {circle} of {report.facilities} facilities "
               f"({report.unsnapped_facilities} without street access); residents covered "
               f"{report.residents_rate:.1%}, elderly {report.elderly_rate:.1%}; "
               f"measured in {report.metric_crs}; "
               + ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()))


def _compute_all(if_missing: bool) -> None:
    import time

    from gridmap.coverage.services.compute import RuleOutcome, compute_all

    def done(index: int, total: int, outcome: RuleOutcome) -> None:
        rule = f"[{index:{len(str(total))}d}/{total}] {outcome.facility_type} / {outcome.circle}"
        report = outcome.report
        if report is None:
            click.echo(f"{rule}: run {outcome.run_id} is current; kept")
            return
        click.echo(f"{rule}: run {report.run_id}, residents covered {report.residents_rate:.1%}, "
                   f"elderly {report.elderly_rate:.1%} ({sum(report.seconds.values()):.1f} s)")

    start = time.perf_counter()
    with _sessions(_settings()) as factory, _user_errors():
        outcomes = compute_all(factory, if_missing=if_missing, done=done)
    made = sum(1 for o in outcomes if o.report is not None)
    click.echo(f"{made} runs computed, {len(outcomes) - made} kept, "
               f"in {time.perf_counter() - start:.1f} s")


@main.group()
def user() -> None:
    """Accounts: create the first administrator, script account changes."""


def _cli_principal() -> Principal:
    """Who runs the command: the operator at the server, an administrator by being there; the
    audit log names the operating-system user."""
    import getpass

    return Principal(role=Role.ADMIN, username=f"cli:{getpass.getuser()}"[:64])


def _acting(factory: sessionmaker[Session], by: str | None) -> Principal:
    """The operator, or the administrator account ``--by`` names (whose person is then the
    actor of the case events a change writes)."""
    if not by:
        return _cli_principal()
    from gridmap.accounts.services import admin

    with factory() as session:
        return admin.acting_admin(session, _cli_principal(), by)


def _account_id(factory: sessionmaker[Session], username: str) -> int:
    from gridmap.accounts.services import admin

    with factory() as session:
        return admin.account_id(session, _cli_principal(), username)


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--area", "area_code", help="District, sub-district or community code of the scope.")
@click.option("--department", "department_code", help="Department code (department staff).")
@click.option("--person-id", type=int, help="An existing person (else --name creates one).")
@click.option("--name", default="", help="The new person's name.")
@click.option("--phone", default="", help="The new person's work phone.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of generating a one-time one.")
def user_add(username: str, role: str, area_code: str | None, department_code: str | None,
             person_id: int | None, name: str, phone: str, password_stdin: bool) -> None:
    """Create an account; prints its one-time password (to be changed at first sign-in)."""
    from gridmap.accounts.services import accounts

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    settings = _settings()
    with _sessions(settings) as factory, _user_errors():
        made = accounts.create(factory, _cli_principal(), accounts.NewAccount(
            username=username, role=role, person_id=person_id, name=name, phone=phone,
            area_code=area_code, department_code=department_code, password=password))
    click.echo(f"account {made['username']} (id {made['id']}, person {made['person_id']})")
    if made["password"]:
        click.echo(f"one-time password: {made['password']}  (to be changed at first sign-in)")


@user.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Only this role.")
@click.option("--search", default="", help="Part of the user name or the person's name.")
def user_list(role: str | None, search: str) -> None:
    """List accounts by user name: name, role, scope, state, person."""
    from gridmap.accounts.services import admin

    with _sessions(_settings()) as factory, _user_errors(), factory() as session:
        after: str | None = ""
        while after is not None:
            page = admin.search(session, _cli_principal(), query=search, role=role or "",
                                after=after or None, limit=500)
            for a in page.rows:
                scope = a["department_code"] or a["area_code"] or "-"
                state = "active" if a["active"] else "deactivated"
                click.echo(f"{a['username']}\t{a['role']}\t{scope}\t{state}\t"
                           f"person {a['person_id']}\t{a['name']}")
            after = page.next_after


@user.command("role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--area", "area_code", help="District, sub-district or community code of the scope.")
@click.option("--department", "department_code", help="Department code (department staff).")
def user_role(username: str, role: str, area_code: str | None,
              department_code: str | None) -> None:
    """Change an account's role and scope; its sessions end."""
    from gridmap.accounts.services import admin

    with _sessions(_settings()) as factory, _user_errors():
        result = admin.change(factory, _cli_principal(), _account_id(factory, username),
                              admin.ScopeChange(role, area_code, department_code))
    before, after = (" ".join(v for v in result[k].values() if v) for k in ("before", "after"))
    click.echo(f"{username}: {before} -> {after} (its sessions have ended)" if result["changed"]
               else f"{username}: no change")


@user.command("deactivate")
@click.argument("username")
@click.option("--by", metavar="ADMIN",
              help="The administrator account acting (needed when a grid worker's cases go "
                   "back to the community: it is recorded as their actor).")
def user_deactivate(username: str, by: str | None) -> None:
    """Deactivate an account: sessions end, tokens are revoked, a grid worker's open cases
    owned by their grids go back to the community."""
    from gridmap.accounts.services import admin

    with _sessions(_settings()) as factory, _user_errors():
        result = admin.deactivate(factory, _acting(factory, by), _account_id(factory, username))
    returned = result["returned_cases"]
    click.echo(f"{username} deactivated: {result['tokens_revoked']} tokens revoked, "
               f"{len(returned)} cases returned to the community"
               + (f" ({', '.join(map(str, returned))})" if returned else ""))


@user.command("reactivate")
@click.argument("username")
def user_reactivate(username: str) -> None:
    """Let a deactivated account sign in again (its tokens stay revoked)."""
    from gridmap.accounts.services import admin

    with _sessions(_settings()) as factory, _user_errors():
        admin.reactivate(factory, _cli_principal(), _account_id(factory, username))
    click.echo(f"{username} reactivated")


@user.command("reset-password")
@click.argument("username")
def user_reset_password(username: str) -> None:
    """Give an account a new one-time password (printed once); its sessions end."""
    from gridmap.accounts.services import admin

    with _sessions(_settings()) as factory, _user_errors():
        password = admin.reset_password(factory, _cli_principal(), _account_id(factory, username))
    click.echo(f"one-time password: {password}  (to be changed at next sign-in)")


@user.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 月报脚本.")
def user_token(username: str, name: str) -> None:
    """Create a personal API token for an account; prints it once (send it as
    'Authorization: Bearer <token>')."""
    from gridmap.accounts.services import tokens

    with _sessions(_settings()) as factory, _user_errors():
        made = tokens.issue_token_for(factory, _cli_principal(), _account_id(factory, username),
                                      name)
    click.echo(f"token {made['id']} ({made['name']}) for {username}: {made['token']}")
    click.echo("it is shown this once; store it now", err=True)


@user.command("revoke-token")
@click.argument("token_id", type=int)
def user_revoke_token(token_id: int) -> None:
    """Revoke an API token by its id: its next request is refused (401)."""
    from gridmap.accounts.services import tokens

    with _sessions(_settings()) as factory, _user_errors():
        tokens.revoke_token(factory, _cli_principal(), token_id)
    click.echo(f"token {token_id} revoked")


@main.group()
def open311() -> None:
    """Open311 clients: the systems that may file requests (POST needs their api_key)."""


@open311.command("add-client")
@click.argument("name")
@click.option("--contact", default="", help="Who to call about this client.")
def open311_add_client(name: str, contact: str) -> None:
    """Create a client; prints its api_key once."""
    from gridmap.accounts.services import tokens

    with _sessions(_settings()) as factory, _user_errors():
        made = tokens.issue_client_key(factory, _cli_principal(), name, contact)
    click.echo(f"client {made['id']} ({made['name']}) api_key: {made['api_key']}")
    click.echo("it is shown this once; give it to the client now", err=True)


@open311.command("revoke-client")
@click.argument("client_id", type=int)
def open311_revoke_client(client_id: int) -> None:
    """Revoke a client's api_key: its next POST is refused (403)."""
    from gridmap.accounts.services import tokens

    with _sessions(_settings()) as factory, _user_errors():
        tokens.revoke_client_key(factory, _cli_principal(), client_id)
    click.echo(f"client {client_id} revoked")


@open311.command("clients")
def open311_clients() -> None:
    """List the clients: id, name, key prefix, state, last use."""
    from gridmap.accounts.services import tokens

    with _sessions(_settings()) as factory, _user_errors(), factory() as session:
        for c in tokens.clients(session):
            state = "revoked" if c["revoked_at"] else "live"
            used = c["last_used_at"].isoformat(timespec="seconds") if c["last_used_at"] else "never"
            click.echo(f"{c['id']}\t{c['name']}\t{c['prefix']}…\t{state}\tlast used {used}")


@main.group()
def volunteers() -> None:
    """Volunteer teams and volunteers (志愿服务): spreadsheet imports."""


@volunteers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would be made; "
                                               "write nothing.")
def volunteers_import(file: Path, dry_run: bool) -> None:
    """Import teams and volunteers from an .xlsx or .csv file (one row per volunteer; all or
    nothing: any problem, each naming its row and column, and nothing is written)."""
    from gridmap.volunteers.services import imports

    with _sessions(_settings()) as factory, _user_errors():
        report = imports.import_volunteers(factory, None, file.read_bytes(), file.name,
                                           dry_run=dry_run)
    verb = "would make" if dry_run else "made"
    click.echo(f"{report.rows} rows: {verb} {len(report.teams_new)} teams, "
               f"{report.volunteers_new} volunteers; {report.volunteers_updated} updated")
    for team in report.teams_new:
        click.echo(f"  new team {team}")


@main.command("export")
@click.argument("layer")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "shp", "csv", "kml"]),
              help="Default: from FILE's suffix (.gpkg, .zip for a Shapefile, .csv, .kml), "
                   "else GeoJSON.")
@click.option("--crs", default="wgs84", show_default=True,
              help="wgs84, cgcs2000, an EPSG code (EPSG:4550, the Gauss-Krüger zone), gcj02 or "
                   "bd09 (Amap/Baidu overlays).")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8",
              show_default=True, help="A Shapefile's attribute encoding.")
@click.option("--bbox", help="minx,miny,maxx,maxy in WGS84 degrees.")
@click.option("--district", help="6-digit district code.")
@click.option("--subdistrict", help="9-digit sub-district code.")
@click.option("--community", help="12-digit community code.")
@click.option("--type", "facility_type", help="Facility type (facilities layer only).")
def export(layer: str, file: Path, fmt: str | None, crs: str, encoding: str, bbox: str | None,
           facility_type: str | None, **area: str | None) -> None:
    """Write LAYER to FILE ('-' for stdout, GeoJSON or CSV) with the fields `gridmap import`
    takes back: districts, subdistricts, communities, grids, buildings, facilities, streets."""
    from gridmap import codes, viewport
    from gridmap.exchange.services import exports

    with _user_errors():
        box = viewport.parse_bbox(bbox)
        areas = codes.area_filter({k: v for k, v in area.items() if v})
    prefix = areas.prefix()
    request = exports.Request(layer=layer, fmt=exports.format_of(file, fmt), crs=crs,
                              area=prefix, bbox=box, facility_type=facility_type,
                              encoding=encoding)
    to_stdout = str(file) == "-"
    if to_stdout and request.fmt not in ("geojson", "csv"):
        raise click.ClickException(f"{request.fmt} cannot go to stdout: give a file name")
    out = sys.stdout.buffer if to_stdout else file.open("wb")
    try:
        with _user_errors(), _sessions(_settings()) as factory:
            n = exports.export(factory, _cli_principal(), request, out)
    except (click.ClickException, OSError):
        if not to_stdout:
            out.close()
            file.unlink(missing_ok=True)  # no half-written file that looks like an export
        raise
    if not to_stdout:
        out.close()
        click.echo(f"wrote {n} features to {file} ({request.fmt}, {crs})", err=True)


@main.command("locate")
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@click.option("--crs", default="wgs84", show_default=True,
              help="wgs84, cgcs2000, gcj02 or bd09.")
def locate(lon: float, lat: float, crs: str) -> None:
    """Print the grid, hierarchy, nearest building and departments at LON LAT."""
    from gridmap.crs import to_wgs84, validate_lonlat
    from gridmap.territory.services import lookup as territory

    with _user_errors():
        validate_lonlat(lon, lat)
        wlon, wlat = to_wgs84(lon, lat, crs)
        with _sessions(_settings()) as factory:
            found = territory.locate_point(factory, float(wlon), float(wlat), lang="zh")
    click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))


def _server_environment() -> dict[str, str]:
    """gunicorn's environment: this one, plus an empty folder where the workers' metrics meet
    (prometheus-client multiprocess mode): ``PROMETHEUS_MULTIPROC_DIR`` if set (emptied: old
    samples would count again), else a new one."""
    import tempfile

    from gridmap.web.metrics import MULTIPROC_ENV

    env = dict(os.environ)
    folder = env.get(MULTIPROC_ENV)
    if folder:
        for old in Path(folder).glob("*.db"):
            old.unlink()
    else:
        env[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="gridmap-metrics-")
    return env


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=os.cpu_count() or 2, show_default="CPU count", type=int,
              help="gunicorn worker processes.")
@click.option("--threads", default=1, show_default=True, type=int,
              help="Threads per worker (1 = sync workers: fastest for CPU-bound requests).")
@click.option("--jobs/--no-jobs", "with_jobs", default=True, show_default=True,
              help="Run the job worker beside the web server (--no-jobs where `gridmap worker` "
                   "runs on its own, as in docker-compose).")
def serve(host: str, port: int, workers: int, threads: int, with_jobs: bool) -> None:
    """Serve the web app with gunicorn, and run the background job worker beside it."""
    from gridmap.supervisor import supervise

    settings = _settings()  # fail early and clearly on missing settings
    if workers > 1 and settings.rate_limits.storage_url.startswith("memory://"):
        click.echo("warning: GRIDMAP_RATELIMIT_STORAGE_URL is memory://, so each of the "
                   f"{workers} workers counts alone and clients get {workers}x the rate limits; "
                   "set it to a Redis that all workers share (see README, 'Settings')", err=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    programs = {"web": [str(gunicorn), "--bind", f"{host}:{port}", "--workers", str(workers),
                        "--threads", str(threads), "--config", "python:gridmap.gunicorn_hooks",
                        "gridmap.app:create_app()"]}
    if with_jobs:
        programs["jobs"] = [str(Path(sys.executable).with_name("gridmap")), "worker"]
    click.echo(f"gridmap serving on http://{host}:{port}"
               + (" with the job worker" if with_jobs else ""), err=True)
    sys.exit(supervise(programs, _server_environment()))


@main.command("worker")
def worker() -> None:
    """Run the background job worker (coverage computes started from the pages) until stopped."""
    import logging.config

    from gridmap import worker as job_worker
    from gridmap.web.request_log import json_logging

    logging.config.dictConfig(json_logging())
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # two lines per job otherwise
    with _user_errors():
        job_worker.run(_settings())


@main.command("escalate")
def escalate() -> None:
    """Escalate overdue cases now (督办): notices, inbox items and queued notifications. The
    worker does this every five minutes; run it where no worker runs, or to see the effect."""
    from gridmap.supervision.services.escalation import escalate as escalate_overdue

    settings = _settings()
    with _sessions(settings) as factory:
        done = escalate_overdue(factory, channel=settings.mail.channel)
    click.echo(f"supervision: {done.notices} notice(s), {done.inbox_items} inbox item(s), "
               f"{done.queued} notification(s) queued")


@coverage.command("site")
@click.option("--type", "facility_type", required=True, help="Facility type, e.g. elder_care_station.")
@click.option("--circle", required=True, type=click.Choice(["5min", "10min", "15min"]),
              help="Life circle; its distance comes from the coverage_rule table.")
@click.option("--area", "area_code", required=True,
              help="District (6 digits), sub-district (9) or community (12) code.")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many new sites to choose.")
@click.option("--max-candidates", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Cap on candidate street nodes (spatially thinned).")
def coverage_site(facility_type: str, circle: str, area_code: str, k: int,
                  max_candidates: int) -> None:
    """Choose K new sites that cover the most uncovered elderly (nothing is stored)."""
    import time

    from gridmap.coverage.services.readers import OPERATOR
    from gridmap.coverage.services.siting import site

    start = time.perf_counter()
    try:
        with _sessions(_settings()) as factory, factory() as session:
            report = site(session, OPERATOR, facility_type, circle, area_code=area_code, k=k,
                          max_candidates=max_candidates)
    except GridmapError as exc:
        raise click.ClickException(exc.message) from None
    base = report.elderly_covered
    click.echo(f"{area_code} {facility_type} {circle} (<= {report.max_distance_m:g} m): elderly "
               f"covered {base}/{report.elderly}; {report.candidates} candidates")
    for i, s in enumerate(report.sites, 1):
        click.echo(f"{i:3d}  {s.lon:.6f},{s.lat:.6f}  +{s.elderly_gain:6d}  "
                   f"covered {(base + s.elderly_cumulative) / max(report.elderly, 1):.1%}")
    click.echo(f"time {time.perf_counter() - start:.2f} s ("
               + ", ".join(f"{name} {sec:.2f} s" for name, sec in report.seconds.items()) + ")")


@coverage.command("audit")
@click.option("--level", default="community", show_default=True,
              type=click.Choice(["community", "grid"]), help="Areas to audit.")
@click.option("--area", "prefix", default="", help="Only areas within this code (district etc.).")
@click.option("--min-share", default=0.9, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Share of residents within distance for an area to count as covered.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write all rows as CSV to this file ('-' for stdout).")
@click.option("--geojson", "geojson_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write all rows with area geometry as GeoJSON to this file.")
def coverage_audit(level: str, prefix: str, min_share: float, csv_file: Path | None,
                   geojson_file: Path | None) -> None:
    """GB 50180 audit: required facility types per life circle, covered or not, per area."""
    from collections import Counter

    from gridmap.coverage.services import audit
    from gridmap.coverage.services.readers import OPERATOR

    counts: Counter[tuple[str, str, str]] = Counter()
    try:
        with _sessions(_settings()) as factory, factory() as session:
            missing = audit.missing_runs(session)
            for command in missing:
                click.echo(f"not computed: run `{command}`", err=True)
            if missing:
                click.echo("or all at once: `gridmap coverage compute --all --if-missing`",
                           err=True)
            for path, geo in ((csv_file, False), (geojson_file, True)):
                if path is None:
                    continue
                rows = audit.rows(session, OPERATOR, level=level, prefix=prefix, min_share=min_share,
                                  with_geometry=geo)
                chunks = audit.to_geojson(rows) if geo else audit.to_csv(rows)
                if str(path) == "-":
                    sys.stdout.writelines(chunks)
                else:
                    with path.open("w", encoding="utf-8") as out:
                        out.writelines(chunks)
            for row in audit.rows(session, OPERATOR, level=level, prefix=prefix, min_share=min_share):
                counts[(row["circle"], row["facility_type"], row["status"])] += 1
    except GridmapError as exc:
        raise click.ClickException(exc.message) from None
    for (circle, facility_type, status), n in sorted(counts.items()):
        click.echo(f"{circle:6s} {facility_type:24s} {status:13s} {n}")


@main.command("import")
@click.argument("layer", type=click.Choice(["districts", "subdistricts", "communities", "grids",
                                           "buildings", "facilities", "streets"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "pairs", multiple=True, metavar="FIELD=COLUMN",
              help="Which column holds a field, e.g. --map code=网格编码 (repeatable); the rest "
                   "is proposed from the column names.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
              help='A JSON file {"field": "column", …} (--map wins over it).')
@click.option("--crs", help="The file's CRS when it declares none or the wrong one: an EPSG code "
                            "(EPSG:4549), wgs84, cgcs2000, gcj02 or bd09.")
@click.option("--encoding", help="The attributes' encoding when the file does not say (gbk).")
@click.option("--layer", "source_layer", help="Which layer of a file that holds several.")
@click.option("--repair", is_flag=True, help="Mend invalid geometries (make_valid), each noted.")
@click.option("--mode", type=click.Choice(["upsert", "replace"]), default="upsert",
              show_default=True, help="replace also removes what the file lacks in its area.")
@click.option("--whole-layer", is_flag=True, help="With --mode replace: in the whole layer.")
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing.")
@click.option("--tolerance", "tolerance_m2", type=click.FloatRange(min=0), default=10.0,
              show_default=True, help="Overlaps and gaps smaller than this (m²) are noise.")
@click.option("--source", default="", help="Where the data comes from (recorded).")
@click.option("--licence", default="", help="Its licence or terms of use (recorded).")
@click.option("--report", "report_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every problem found to this CSV file.")
@click.option("--report-geojson", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the problems that have a place to this GeoJSON file.")
@click.option("--tags", "tags_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Buildings or facilities from OpenStreetMap: the tag mapping (TOML) to use "
                   "instead of the shipped gridmap/exchange/osm_tags.toml.")
def import_layer(layer: str, file: Path, pairs: tuple[str, ...], mapping_file: Path | None,
                 crs: str | None, encoding: str | None, source_layer: str | None, repair: bool,
                 mode: str, whole_layer: bool, dry_run: bool, tolerance_m2: float, source: str,
                 licence: str, report_csv: Path | None, report_geojson: Path | None,
                 tags_file: Path | None) -> None:
    """Import a layer of the city from FILE (GeoJSON, GeoPackage, Shapefile or its .zip, CSV,
    KML …): checked as a whole, written all-or-nothing, recorded. ``streets`` takes an
    OpenStreetMap extract (.osm.pbf or .osm) and replaces the walking network; ``buildings``
    and ``facilities`` take one too (footprints; tags mapped to facility types by --tags)."""
    from tqdm import tqdm

    from gridmap.exchange import mapping as fields
    from gridmap.exchange import report as reports
    from gridmap.exchange.services import imports, osm_layers

    with _user_errors():
        given = fields.read_mapping_file(mapping_file) if mapping_file else {}
        given.update(fields.parse_pairs(pairs))
    options = imports.Options(layer=layer, path=file, mapping=given, crs=crs, encoding=encoding,
                              source_layer=source_layer, repair=repair,
                              mode="replace" if mode == "replace" else "upsert",
                              whole_layer=whole_layer, dry_run=dry_run,
                              tolerance_m2=tolerance_m2, source=source, licence=licence)
    bar = tqdm(total=100, unit="%", disable=not sys.stderr.isatty())

    def progress(fraction: float, line: str) -> None:
        bar.set_description(line)
        bar.update(round(fraction * 100) - bar.n)

    if layer == "streets":
        if pairs or mapping_file or crs or encoding or source_layer or repair or whole_layer \
                or mode != "upsert" or report_csv or report_geojson or tags_file:
            raise click.ClickException("streets come from OpenStreetMap (WGS84, its own tags): "
                                       "only --dry-run, --source and --licence apply")
        _import_streets(file, dry_run=dry_run, source=source, licence=licence, bar=bar,
                        progress=progress)
        return
    from_osm = osm_layers.applies(options)
    if tags_file and not from_osm:
        raise click.ClickException("--tags is for buildings or facilities from an OpenStreetMap "
                                   "extract (.osm.pbf or .osm)")
    rejected: imports.ImportRejected | None = None
    with _sessions(_settings()) as factory:
        try:
            if from_osm:
                outcome = osm_layers.run(factory, _cli_principal(), options, progress,
                                         tags=tags_file)
            else:
                outcome = imports.run(factory, _cli_principal(), options, progress)
        except imports.ImportRejected as exc:
            rejected, outcome = exc, exc.outcome
        except GridmapError as exc:
            bar.close()
            raise click.ClickException(exc.message) from None
    bar.close()
    if report_csv:
        report_csv.write_text("".join(reports.to_csv(outcome.problems)), encoding="utf-8")
    if report_geojson:
        report_geojson.write_text("".join(reports.to_geojson(outcome.problems)),
                                  encoding="utf-8")
    click.echo(f"{outcome.file}: {outcome.features} features, layer {outcome.layer}, "
               f"read in {outcome.crs}; mapping "
               + ", ".join(f"{k}={v}" for k, v in outcome.mapping.items()))
    for problem in outcome.problems[:30]:
        where = f"row {problem.row} " if problem.row else ""
        key = f"{problem.key} " if problem.key else ""
        click.echo(f"  {problem.severity.value}: {where}{key}{problem.field}: {problem.zh}")
    if len(outcome.problems) > 30:
        click.echo(f"  … {len(outcome.problems) - 30} more (--report FILE for all)")
    if rejected is not None:
        raise click.ClickException(rejected.message)
    changes = outcome.changes
    verb = "would change" if dry_run else "changed"
    click.echo(f"{verb}: {changes.get('added', 0)} added, {changes.get('changed', 0)} changed, "
               f"{changes.get('removed', 0)} removed, {changes.get('unchanged', 0)} unchanged"
               + ("" if dry_run else f" (import #{outcome.import_id})"))


def _import_streets(file: Path, *, dry_run: bool, source: str, licence: str, bar: Any,
                    progress: Any) -> None:
    from gridmap.exchange.services import streets

    with _user_errors(), _sessions(_settings()) as factory:
        outcome = streets.run(factory, _cli_principal(), file, dry_run=dry_run, source=source,
                              licence=licence, progress=progress)
    bar.close()
    verb = "would replace" if dry_run else "replaced"
    click.echo(f"{outcome.file}: {outcome.ways} walkable ways ({outcome.skipped} other highways "
               f"left out) → {outcome.nodes} nodes, {outcome.edges} edges, {outcome.length_km} km; "
               f"{verb} {outcome.before[0]} nodes and {outcome.before[1]} edges"
               + ("" if dry_run else f" (import #{outcome.import_id}); recompute coverage: "
                  "gridmap coverage compute --all"))


@main.command("doctor")
@click.option("--clean", is_flag=True,
              help="Remove orphan photo files and delete photo rows whose files are gone.")
def doctor(clean: bool) -> None:
    """Check that cases and their photo files agree (after a crash, a full disk, a restore).

    Exits with status 1 while problems remain, so a scheduler can alert on it.
    """
    from gridmap.cases.services import doctor as checks

    settings = _settings()
    with _sessions(settings) as factory, _user_errors():
        report = checks.check(factory, settings.media_dir)
        for label, items in (("photo rows with a missing file", report.missing),
                             ("orphan files (no row names them)", report.orphans),
                             ("cases without any event", report.cases_without_events)):
            click.echo(f"{label}: {len(items)}")
            for item in items[:20]:
                click.echo(f"  {item}")
        if clean and not report.healthy:
            files, rows = checks.clean(factory, settings.media_dir, report)
            click.echo(f"cleaned: {files} orphan files removed, {rows} photo rows deleted")
            report = checks.check(factory, settings.media_dir)
    if not report.healthy:
        raise SystemExit(1)
    click.echo("cases and photo files agree")


@main.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup(directory: Path) -> None:
    """Back up the database (pg_dump -Fc, as the owner), the media folder and a manifest of row
    counts and SHA-256 checksums into DIRECTORY, which must be new or empty."""
    from gridmap.operations.services.backup import backup as run_backup

    with _user_errors():
        report = run_backup(_settings(), directory)
    click.echo(f"backup in {report.directory}: revision {report.alembic_revision}, "
               f"{sum(report.row_counts.values())} rows in {len(report.row_counts)} tables, "
               f"{report.files} files, {report.bytes / 1e6:.1f} MB; "
               + ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()))


@main.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Copy the backup's photos into a media folder that already has files.")
def restore(directory: Path, force: bool) -> None:
    """Restore a backup made by `gridmap backup` into the configured database, which must be
    empty (no tables; PostGIS and pgRouting already there), and the media folder."""
    from gridmap.operations.services.restore import restore as run_restore

    with _user_errors():
        report = run_restore(_settings(), directory, force_media=force)
    click.echo(f"restored revision {report.alembic_revision}: "
               f"{sum(report.row_counts.values())} rows in {len(report.row_counts)} tables "
               f"(counts equal the manifest's), {report.media_files} media files; "
               + ", ".join(f"{k} {v:.2f} s" for k, v in report.seconds.items()))
    if report.alembic_revision != report.head_revision:
        click.echo(f"the schema is at {report.alembic_revision}, this gridmap's head is "
                   f"{report.head_revision}: run `gridmap db upgrade`", err=True)
