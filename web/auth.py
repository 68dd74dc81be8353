"""Sign-in with Flask-Login on hashed passwords; the signed-in person acts with the groups of the organisation.

The session cookie carries a random session token, not the username (Flask-Login's alternative token): the
``web_session`` table says whether it is still open, so signing out ends it for every copy of the cookie and
in every worker. Refused sign-ins are throttled per account and address (policy.toml ``[sign_in]``).
"""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from engine.services import Actor
from engine.services.errors import SignInThrottled
from engine.services.views import AccountView

from .security import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


class User(UserMixin):
    """The signed-in person: username, name, groups and language, read from the account on every request."""

    def __init__(self, account: AccountView, token: str):
        self.id = account.username
        self.display_name = account.display_name
        self.groups = account.groups
        self.locale = account.locale
        self.token = token

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session token (web_session), never the username."""
        return self.token

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.groups)


def engine():
    """Return the process engine of the running app."""
    return current_app.extensions["engine"]


def init_app(app) -> None:
    """Attach the login manager: unknown visitors go to the sign-in page."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.jinja_env.globals["allowed"] = allowed


def allowed(permission: str) -> bool:
    """Tell whether the signed-in person holds ``permission`` (data/policy.toml); templates ask it for links."""
    return current_user.is_authenticated and engine().allows(current_user.actor, permission)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    account = engine().accounts.session_account(token)
    return User(account, token) if account else None


def login_required(view):
    """View decorator that redirects anonymous users to the login page."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(**kwargs)
    return wrapped


def permission_required(*permissions: str):
    """View decorator that answers 403 unless the signed-in person holds one of ``permissions`` (data/policy.toml)."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(**kwargs):
            if not any(allowed(p) for p in permissions):
                abort(403)
            return view(**kwargs)
        return wrapped
    return decorate


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        try:
            account = engine().accounts.sign_in(request.form.get("username", "").strip(),
                                                request.form.get("password", ""), request.remote_addr or "")
        except SignInThrottled as exc:
            flash(_("Too many failed sign-ins; try again in %(minutes)s minutes.",
                    minutes=-(-exc.retry_after // 60)), "error")
            return render_template("login.html"), 429, {"Retry-After": str(exc.retry_after)}
        if account is None:
            flash(_("Unknown user or wrong password."), "error")
            return render_template("login.html")
        chosen = session.get("lang")
        if chosen and chosen != account.locale:
            engine().accounts.set_locale(account.username, chosen)     # the language chosen at sign-in is kept
        login_user(User(account, engine().accounts.open_session(account.username,
                                                                current_app.config["SESSION_HOURS"])))
        return redirect(safe_next(request.args.get("next"), url_for("roles.home")))
    return render_template("login.html")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        engine().accounts.end_session(current_user.get_id())
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the language: for the account when signed in, for this browser before."""
    locale = request.form.get("locale", "zh_CN")
    session["lang"] = locale if locale in ("zh_CN", "en") else "zh_CN"
    if current_user.is_authenticated:
        engine().accounts.set_locale(current_user.id, session["lang"])
    return redirect(safe_next(request.form.get("next"), url_for("auth.login")))
