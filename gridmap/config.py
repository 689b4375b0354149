"""Typed, frozen settings read from the environment (``GRIDMAP_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from limits import parse_many

from gridmap.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_FILE = Path(".gridmap") / "env"
"""The settings file ``make`` writes (mode 600), relative to the checkout's root."""


def find_env_file(start: Path | None = None) -> Path | None:
    """The checkout's settings file: ``.gridmap/env`` in the nearest folder at or above ``start``
    (the current directory) that also holds a ``pyproject.toml``; None outside a checkout.

    The rule is the one Flask uses for ``.flaskenv`` (search up from where the command runs),
    not the package's own location: an installed package run from anywhere finds nothing, and a
    command run in a checkout reads that checkout's file, whichever copy of the code it imports.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ENV_FILE).is_file() and (folder / "pyproject.toml").is_file():
            return folder / ENV_FILE
    return None


def project_environ(environ: Mapping[str, str], *, start: Path | None = None) -> dict[str, str]:
    """``environ`` over the ``GRIDMAP_*`` settings of the checkout's file, when there is one.

    A variable in ``environ`` always wins, even when it is set to an empty value (as with
    python-dotenv's ``load_dotenv``): the file only fills in what the environment does not name.
    """
    path = find_env_file(start)
    if path is None:
        return dict(environ)
    found = dotenv_values(path, interpolate=False)  # literal values: no ${...} expansion
    return {**{k: v for k, v in found.items() if k.startswith("GRIDMAP_") and v is not None},
            **environ}


def _public_base_url(raw: str) -> str:
    """An absolute http(s) URL without query or fragment, kept without a trailing slash."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            "GRIDMAP_PUBLIC_BASE_URL must be an absolute http(s) URL such as "
            "https://gridmap.example.cn (optionally with a path, no query)")
    return raw.strip().rstrip("/")


def _rate(key: str, raw: str) -> str:
    """A limit in Flask-Limiter's notation (``30/minute``, ``5/minute;20/hour``), checked now."""
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigurationError(
            f"{key} must be a rate such as 30/minute or 5/minute;20/hour") from None
    return raw.strip()


@dataclass(frozen=True)
class RateLimits:
    """Budgets per client address, and the store that counts them for every worker.

    The defaults leave honest use far below the limit (a grid worker files a case every few
    minutes; a community office behind one address has a handful of people) while a script
    cannot flood the case tables and photo folder, or keep the CPU-heavy planning endpoints
    (siting, what-if: seconds each) busy for everybody else.
    """

    storage_url: str = "memory://"
    """``redis://host:port/db`` shared by all workers; ``memory://`` counts per process, which
    is right only for a single worker (``gridmap serve`` warns otherwise)."""
    key_prefix: str = "gridmap"
    intake: str = "30/minute"
    case_actions: str = "120/minute"
    open311: str = "20/minute"
    planning: str = "10/minute"
    sign_in: str = "10/minute;60/hour"
    """Every POST of the sign-in form from one address (right or wrong)."""
    sign_in_failures_account: str = "5/15minutes"
    """Failed sign-ins for one account name before it is locked for the rest of the window."""
    sign_in_failures_address: str = "20/hour"
    """Failed sign-ins from one address (any names) before the address is locked."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimits:
        """Read ``GRIDMAP_RATELIMIT_*``; unset ones keep their defaults."""
        kwargs: dict[str, str] = {}
        for name in ("storage_url", "key_prefix"):
            if env.get(key := "GRIDMAP_RATELIMIT_" + name.upper()):
                kwargs[name] = env[key]
        for name in ("intake", "case_actions", "open311", "planning", "sign_in",
                     "sign_in_failures_account", "sign_in_failures_address"):
            if env.get(key := "GRIDMAP_RATELIMIT_" + name.upper()):
                kwargs[name] = _rate(key, env[key])
        return cls(**kwargs)


@dataclass(frozen=True)
class Mail:
    """The SMTP server that delivers notifications (supervision notices) by e-mail.

    Without a host, notifications go to the log (the development sender); with one, to
    e-mail, which needs a sender address. Sent by the job worker from the outbox, never in a
    request.
    """

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    starttls: bool = False
    timeout_s: float = 10.0

    @property
    def channel(self) -> str:
        """The outbox channel notifications take: ``email`` with a host, else ``log``."""
        return "email" if self.host else "log"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Mail:
        """Read ``GRIDMAP_SMTP_*``; a host without a sender address is refused."""
        host = env.get("GRIDMAP_SMTP_HOST", "").strip()
        if not host:
            return cls()
        sender = env.get("GRIDMAP_SMTP_FROM", "").strip()
        if "@" not in sender:
            raise ConfigurationError("GRIDMAP_SMTP_FROM must be an e-mail address when "
                                     "GRIDMAP_SMTP_HOST is set")
        try:
            port = int(env.get("GRIDMAP_SMTP_PORT") or 25)
        except ValueError:
            raise ConfigurationError("GRIDMAP_SMTP_PORT must be an integer") from None
        if not 0 < port < 65536:
            raise ConfigurationError("GRIDMAP_SMTP_PORT must be a port number (1-65535)")
        starttls = env.get("GRIDMAP_SMTP_STARTTLS", "0").strip().lower() in ("1", "true", "yes")
        return cls(host=host, port=port, username=env.get("GRIDMAP_SMTP_USER", ""),
                   password=env.get("GRIDMAP_SMTP_PASSWORD", ""), sender=sender,
                   starttls=starttls)


@dataclass(frozen=True)
class Settings:
    """Everything the app and the CLI need to know about their deployment."""

    database_url: str
    """The app's role: data only (no DDL, ``case_event`` append-only) where roles are split."""
    secret_key: str = field(repr=False)
    owner_database_url: str = ""
    """The role that owns the schema, for migrations and the demo loader (TRUNCATE, ANALYZE);
    empty: ``database_url`` does everything (single-role deployments)."""
    tile_url: str = ""
    tile_attribution: str = ""
    assets_dir: Path = PROJECT_ROOT / "node_modules"
    geodata_dir: Path = PROJECT_ROOT / "geodata"
    media_dir: Path = PROJECT_ROOT / ".gridmap" / "media"
    default_locale: str = "zh"
    pool_size: int = 5
    pool_timeout_s: int = 10
    """How long a request waits for a free database connection in a burst before it is told
    to retry (503); the pool holds ``pool_size`` connections plus as many again on demand."""
    layer_feature_limit: int = 5000
    tile_cache_mb: int = 64
    """Each web worker's cache of built public vector tiles, keyed by the data versions they were
    built from (so never stale); 0 turns it off."""
    public_base_url: str = ""
    """The app's address as the public reaches it (``https://gridmap.example.cn``): its origin is
    accepted as a form's ``Origin`` besides the request's own, and an https address makes the
    session cookie ``Secure`` by default. Never taken from a request's Host header, which the
    client chooses."""
    rate_limits: RateLimits = RateLimits()
    trusted_proxies: int = 0
    """How many reverse proxies in front of the app set ``X-Forwarded-For``/``-Proto``; 0: the
    client is the peer address (a client could otherwise choose its own rate-limit key)."""
    session_hours: int = 12
    """A sign-in lasts at most this long (a working day), however active the person is."""
    session_idle_minutes: int = 30
    """A session unused this long ends: a phone or a shared office PC left signed in."""
    secure_cookies: bool | None = None
    """Send the session cookie over HTTPS only; None: when the public base URL is https."""
    import_max_mb: int = 512
    """The largest file the import page takes (a city's buildings as a GeoPackage: ~100 MB)."""
    job_concurrency: int = 2
    """Jobs one ``gridmap worker`` runs at once (each a thread; a city-scale coverage compute
    holds a few hundred MB while it runs)."""
    mail: Mail = Mail()
    """Where notifications go: the log, or an SMTP server (``GRIDMAP_SMTP_*``)."""

    @property
    def cookies_secure(self) -> bool:
        """Whether the session cookie carries ``Secure``."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``GRIDMAP_*`` variables; the database URL and secret are required.

        Without ``environ``: the process environment over the checkout's ``.gridmap/env``
        (:func:`project_environ`); a given ``environ`` is read as it is.
        """
        env = project_environ(os.environ) if environ is None else environ
        missing = [k for k in ("GRIDMAP_DATABASE_URL", "GRIDMAP_SECRET_KEY") if not env.get(k)]
        if missing:
            raise ConfigurationError(
                "missing required setting(s): " + ", ".join(missing)
                + " (see README, 'Settings': set them in the environment, or run inside the "
                "checkout, where `make demo` writes them to .gridmap/env)"
            )
        kwargs: dict[str, object] = {
            "database_url": env["GRIDMAP_DATABASE_URL"],
            "secret_key": env["GRIDMAP_SECRET_KEY"],
        }
        for name, key in (("owner_database_url", "GRIDMAP_OWNER_DATABASE_URL"),
                          ("tile_url", "GRIDMAP_TILE_URL"),
                          ("tile_attribution", "GRIDMAP_TILE_ATTRIBUTION"),
                          ("default_locale", "GRIDMAP_DEFAULT_LOCALE")):
            if key in env:
                kwargs[name] = env[key]
        if env.get("GRIDMAP_PUBLIC_BASE_URL"):
            kwargs["public_base_url"] = _public_base_url(env["GRIDMAP_PUBLIC_BASE_URL"])
        for name, key in (("assets_dir", "GRIDMAP_ASSETS_DIR"),
                          ("geodata_dir", "GRIDMAP_GEODATA_DIR"),
                          ("media_dir", "GRIDMAP_MEDIA_DIR")):
            if env.get(key):
                kwargs[name] = Path(env[key])
        for name, key in (("pool_size", "GRIDMAP_POOL_SIZE"),
                          ("pool_timeout_s", "GRIDMAP_POOL_TIMEOUT_S"),
                          ("layer_feature_limit", "GRIDMAP_LAYER_FEATURE_LIMIT"),
                          ("tile_cache_mb", "GRIDMAP_TILE_CACHE_MB"),
                          ("trusted_proxies", "GRIDMAP_TRUSTED_PROXIES"),
                          ("session_hours", "GRIDMAP_SESSION_HOURS"),
                          ("session_idle_minutes", "GRIDMAP_SESSION_IDLE_MINUTES"),
                          ("job_concurrency", "GRIDMAP_JOB_CONCURRENCY"),
                          ("import_max_mb", "GRIDMAP_IMPORT_MAX_MB")):
            if env.get(key):
                try:
                    kwargs[name] = int(env[key])
                except ValueError:
                    raise ConfigurationError(f"{key} must be an integer") from None
        if env.get("GRIDMAP_SECURE_COOKIES"):
            flag = env["GRIDMAP_SECURE_COOKIES"].strip().lower()
            if flag not in ("1", "0", "true", "false", "yes", "no"):
                raise ConfigurationError("GRIDMAP_SECURE_COOKIES must be 1 or 0")
            kwargs["secure_cookies"] = flag in ("1", "true", "yes")
        kwargs["rate_limits"] = RateLimits.from_env(env)
        kwargs["mail"] = Mail.from_env(env)
        return cls(**kwargs)  # type: ignore[arg-type]

    def as_owner(self) -> Settings:
        """These settings connected as the schema's owner (themselves without an owner URL)."""
        if not self.owner_database_url:
            return self
        return replace(self, database_url=self.owner_database_url, owner_database_url="")

    @property
    def libpq_url(self) -> str:
        """The database URL as libpq and psycopg take it (no SQLAlchemy driver name)."""
        url = self.sqlalchemy_url
        prefix = "postgresql+psycopg://"
        return "postgresql://" + url[len(prefix):] if url.startswith(prefix) else url

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named explicitly."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url
