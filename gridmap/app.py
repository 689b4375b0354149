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
    _register_blueprints(app)
    _register_errors(app)
    _register_security(app, settings)
    return app


def _register_db(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings)  # lazy: no connection is opened here
    app.extensions["gridmap.engine"] = engine
    app.extensions["gridmap.read_engine"] = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.extensions["gridmap.sessions"] = make_session_factory(engine)
    app.extensions["gridmap.read_pool"] = ReadPool(settings)


def _register_i18n(app: Flask) -> None:
    from gridmap.web.i18n import init_i18n

    init_i18n(app)


def _register_blueprints(app: Flask) -> None:
    from gridmap.cases import web as cases
    from gridmap.coverage import web as coverage
    from gridmap.territory import web as territory
    from gridmap.web import assets

    for feature in (territory, cases, coverage):
        feature.register(app)
    app.register_blueprint(assets.bp)


def _register_errors(app: Flask) -> None:
    from gridmap.web.errors import register_error_handlers

    register_error_handlers(app)


def _register_security(app: Flask, settings: Settings) -> None:
    from gridmap.web.security import register_security_headers

    register_security_headers(app, settings)
