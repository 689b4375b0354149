"""The accounts feature's web face: how a request is authenticated, sign-in pages, administration."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Install authentication (sessions, tokens, CSRF) and the account blueprints on ``app``."""
    from gridmap.accounts.web import admin, assignments, pages, session

    session.install(app)
    for module in (pages, admin, assignments):
        app.register_blueprint(module.bp)
    from gridmap.accounts.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    describe(app, OPERATIONS)
