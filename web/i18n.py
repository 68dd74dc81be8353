"""Flask-Babel: Chinese by default, English per person; the catalog is compiled from its .po when it changed."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import session
from flask_babel import Babel
from flask_login import current_user

from . import messages

TRANSLATIONS = Path(__file__).parent / "translations"


def compile_catalogs(root: Path = TRANSLATIONS) -> list[Path]:
    """Write messages.mo beside every messages.po that is newer than it; return the files written."""
    written = []
    for po_path in root.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po)
        with mo_path.open("wb") as mo:
            write_mo(mo, catalog)
        written.append(mo_path)
    return written


def select_locale() -> str:
    """Return the signed-in person's language, else the one chosen on the sign-in page, else Chinese."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return session.get("lang", "zh_CN")


def init_app(app) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = select_locale
    app.jinja_env.filters["field_error"] = messages.field_error
