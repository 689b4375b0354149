"""Language selection: Chinese by default, English on request.

The message ids are the Chinese strings themselves, so Chinese needs no catalogue and an
untranslated string degrades to Chinese, never to an opaque key. The language is chosen by
``?lang=zh|en`` (which is remembered in a cookie), else by that cookie, else by the
``default_locale`` setting. Accept-Language is deliberately ignored: the product's language is
Chinese, and staff on shared machines must not get English because of a browser default.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import Babel

COOKIE_NAME = "gridmap_lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600

# Short codes used in URLs and cookies -> Babel locale identifiers.
LANGUAGES: dict[str, str] = {"zh": "zh_Hans_CN", "en": "en"}
# Value for <html lang> (BCP 47), which screen readers and fonts rely on.
HTML_LANG: dict[str, str] = {"zh": "zh-CN", "en": "en"}

_TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def init_i18n(app: Flask) -> None:
    """Install Flask-Babel with our locale selector, the language cookie and template helpers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(_TRANSLATIONS_DIR))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES["zh"])
    Babel(app, locale_selector=lambda: LANGUAGES[current_lang()])
    app.after_request(_remember_choice)
    app.context_processor(_template_helpers)


def _default_lang() -> str:
    settings = current_app.extensions.get("gridmap.settings")
    code = getattr(settings, "default_locale", "zh").split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGES else "zh"


def current_lang() -> str:
    """The short language code ("zh" or "en") of the current request."""
    if not has_request_context():
        return _default_lang()
    if "gridmap_lang" not in g:
        asked = request.args.get("lang", "").lower()
        stored = request.cookies.get(COOKIE_NAME, "").lower()
        g.gridmap_lang = next((c for c in (asked, stored) if c in LANGUAGES), _default_lang())
    lang: str = g.gridmap_lang
    return lang


def _remember_choice(response: Response) -> Response:
    asked = request.args.get("lang", "").lower()
    if asked in LANGUAGES and request.cookies.get(COOKIE_NAME) != asked:
        response.set_cookie(COOKIE_NAME, asked, max_age=COOKIE_MAX_AGE_S,
                            samesite="Lax", httponly=True)
    return response


def lang_switch_url(lang: str) -> str:
    """The current page's URL with ``lang`` set, keeping every other query argument."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.script_root + request.path + "?" + urlencode([*args, ("lang", lang)])


def _template_helpers() -> dict[str, object]:
    lang = current_lang()
    return {
        "current_lang": lang,
        "html_lang": HTML_LANG[lang],
        "lang_switch_url": lang_switch_url,
    }
