"""Application factory: wires settings, database, i18n and blueprints; does no work itself."""

from __future__ import annotations

from flask import Flask

from gridmap.config import Settings
from gridmap.db import ReadPool, make_engine, make_session_factory


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app; ``settings`` defaults to :meth:`Settings.from_env`."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["gridmap.settings"] = settings
    _register_db(app, settings)
    _register_i18n(app)
    _register_metrics(app)  # before the features: they add their collectors
    _register_params(app)  # before the blueprints: their routes use its converters
    _register_blueprints(app)
    _register_rate_limits(app, settings)  # after the blueprints: it limits their marked views
    _register_proxies(app, settings)
    _register_errors(app)
    _register_security(app, settings)
    _register_compression(app)
    return app


def _register_db(app: Flask, settings: Settings) -> None:
    from gridmap.web.request_log import tag_statements

    engine = make_engine(settings)  # lazy: no connection is opened here
    tag_statements(engine)
    app.extensions["gridmap.engine"] = engine
    app.extensions["gridmap.read_engine"] = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.extensions["gridmap.sessions"] = make_session_factory(engine)
    app.extensions["gridmap.read_pool"] = ReadPool(settings)


def _register_metrics(app: Flask) -> None:
    from gridmap.web.metrics import register_metrics
    from gridmap.web.request_log import register_request_ids

    register_request_ids(app)
    register_metrics(app)


def _register_i18n(app: Flask) -> None:
    from gridmap.web.i18n import init_i18n

    init_i18n(app)


def _register_params(app: Flask) -> None:
    from gridmap.web.params import install

    install(app)


def _register_blueprints(app: Flask) -> None:
    from gridmap.accounts import web as accounts
    from gridmap.care import web as care
    from gridmap.cases import web as cases
    from gridmap.coverage import web as coverage
    from gridmap.exchange import web as exchange
    from gridmap.jobs import web as jobs
    from gridmap.mediation import web as mediation
    from gridmap.ogc import web as ogc
    from gridmap.reports import web as reports
    from gridmap.scorecards import web as scorecards
    from gridmap.supervision import web as supervision
    from gridmap.territory import web as territory
    from gridmap.tiles import web as tiles
    from gridmap.volunteers import web as volunteers
    from gridmap.web import apidocs, assets

    for feature in (accounts, territory, cases, care, coverage, exchange, jobs, supervision,
                    mediation, tiles, ogc, scorecards, reports, volunteers):
        feature.register(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(apidocs.bp)


def _register_rate_limits(app: Flask, settings: Settings) -> None:
    from gridmap.web.ratelimit import register_rate_limits

    register_rate_limits(app, settings.rate_limits)


def _register_proxies(app: Flask, settings: Settings) -> None:
    if settings.trusted_proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many X-Forwarded-* hops as there are proxies of ours: a client's own header
        # would otherwise choose its rate-limit key.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]


def _register_errors(app: Flask) -> None:
    from gridmap.web.errors import register_error_handlers

    register_error_handlers(app)


def _register_compression(app: Flask) -> None:
    from gridmap.web.compression import register_compression

    register_compression(app)


def _register_security(app: Flask, settings: Settings) -> None:
    from gridmap.web.security import register_security_headers

    register_security_headers(app, settings)
