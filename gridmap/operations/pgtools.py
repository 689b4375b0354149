"""The PostgreSQL client programs (pg_dump, pg_restore), run as subprocesses: the only place in
gridmap that starts them.

The password travels in the child's environment (``PGPASSWORD``), never on its command line,
where every user of the machine could read it in the process list.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from glob import glob
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from gridmap.errors import ConfigurationError, GridmapError

_DEBIAN_BINS = "/usr/lib/postgresql/*/bin"
_STDERR_LINES = 20


class ToolFailed(GridmapError):
    """A PostgreSQL client program exited with an error (its own message is kept)."""

    status = 500
    code = "tool_failed"


def find(program: str) -> Path:
    """``program`` on PATH, else the newest one under /usr/lib/postgresql/*/bin (Debian)."""
    found = shutil.which(program)
    if found:
        return Path(found)

    def major(path: str) -> tuple[int, ...]:
        digits = re.findall(r"\d+", Path(path).parent.parent.name)
        return tuple(int(d) for d in digits)

    candidates = sorted(glob(f"{_DEBIAN_BINS}/{program}"), key=major)
    if candidates:
        return Path(candidates[-1])
    raise ConfigurationError(
        f"{program} not found on PATH nor in {_DEBIAN_BINS}: install the PostgreSQL client "
        f"programs of the server's major version or newer (Debian: postgresql-client-15)")


def _connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = {**os.environ, "PGAPPNAME": "gridmap-operations"}
    env.pop("PGPASSWORD", None)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    # Built anew: URL.set(password=None) keeps the password (None means "unchanged").
    uri = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                     database=parsed.database, query=parsed.query)
    return uri.render_as_string(hide_password=False), env


def _run(argv: Sequence[str], env: dict[str, str]) -> str:
    """Run a client program; its standard output, or ToolFailed with the end of its stderr."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-_STDERR_LINES:])
        raise ToolFailed(f"{Path(argv[0]).name} failed (exit {done.returncode}): {tail}")
    return done.stdout


def _pattern(schema: str, name: str) -> str:
    """A pg_dump pattern matching exactly ``schema.name`` (quoted: no wildcards, any case)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


def dump(url: str, path: Path, *, schema: str, snapshot: str,
         exclude_data: Sequence[str] = ()) -> None:
    """Write a custom-format dump of one schema, as of an exported snapshot.

    Naming the schema leaves extensions out (they are the superuser's, and the target database
    has them already); ``exclude_data`` names the extensions' tables in it (PostGIS's
    spatial_ref_sys), whose rows come with the extension and only a superuser may write.
    """
    uri, env = _connection(url)
    _run([str(find("pg_dump")), "--format=custom", f"--schema={schema}",
          *(f"--exclude-table-data={_pattern(schema, name)}" for name in exclude_data),
          f"--snapshot={snapshot}", f"--file={path}", f"--dbname={uri}"], env)


def restore_listing(path: Path, *, schema: str) -> str:
    """The dump's table of contents without the schema's own entry and comment.

    The schema exists in every database (``public`` does, with the extensions in it), so
    ``CREATE SCHEMA`` would fail; nothing else is left out.
    """
    return without_schema_entry(_run([str(find("pg_restore")), "--list", str(path)],
                                     dict(os.environ)), schema)


def without_schema_entry(listing: str, schema: str) -> str:
    """A ``pg_restore --list`` output without the schema's own CREATE and COMMENT lines."""
    own = re.compile(rf"^\d+; \d+ \d+ (SCHEMA - {re.escape(schema)}|"
                     rf"COMMENT - SCHEMA {re.escape(schema)}) ")
    return "".join(line for line in listing.splitlines(keepends=True) if not own.match(line))


def restore(url: str, path: Path, *, listing: Path) -> None:
    """Restore a dump in one transaction, stopping at the first error, as the connecting role.

    ``--no-owner``: objects belong to whoever restores; ``--no-privileges``: the source's grants
    name roles the target cluster may not have (the app role is granted afterwards).
    """
    uri, env = _connection(url)
    _run([str(find("pg_restore")), "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--use-list={listing}", f"--dbname={uri}", str(path)], env)
