"""Login with streamlit-authenticator 0.4.2, roles from the users file, page guards (§15).

How a session gets in:
- The users file (`services.users`, bcrypt hashes, roles viewer/admin) is read on every rerun,
  so a removed user or a changed role takes effect at once; roles never come from the cookie.
- `Authenticate` is created once per rerun, in `app/router.py` only (its CookieManager component has
  a fixed key, so a second instance in one rerun is a DuplicateWidgetID). Passwords are
  pre-hashed (`auto_hash=False`) and `login_sleep_time=0`: both keep the first run fast, which
  is what keeps deep links working after a refresh (authenticator issue #179).
- The re-login cookie is a JWT signed with the cookie key (≥ 32 bytes). The library's own check
  lets some forged tokens through to code that then raises (an `alg` other than HS256, a
  missing or mistyped claim, an unknown user → `LoginError`), so `verified_token` replaces it:
  anything but a well-formed, HS256-signed, unexpired token naming a current user is ignored
  and the visitor gets the login form.
- After a sign-in through the form the cookie is written, and after a logout deleted, by a
  component's iframe a moment later; the component is rendered into a fixed container and
  again on every rerun until the browser confirms, so neither clearing the form nor a quick
  click can drop it.
- Every page calls `require_user` (and Admin `require_user(ADMIN)`) itself: a page must never
  depend on the router alone.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from services import users

COOKIE_NAME = "wvi_auth"
COOKIE_EXPIRY_DAYS = 7.0
ADMIN = "admin"
USER_KEY = "wvi_user"  # the signed-in `User`, set by the router on every rerun
MAX_TOKEN_CHARS = 4096
# Keys streamlit-authenticator keeps in session_state (cleared when a user disappears).
AUTH_KEYS = ("name", "authentication_status", "username", "email", "roles")


@dataclass(frozen=True)
class AuthSettings:
    """What the login needs: the users (as the authenticator wants them) and the cookie key."""

    credentials: dict[str, Any]
    cookie_key: str
    users_file: str
    demo: bool


@dataclass(frozen=True)
class User:
    """The signed-in user; roles come from the users file on every rerun."""

    username: str
    name: str
    roles: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return ADMIN in self.roles

    @property
    def role(self) -> str:
        """`admin` or `viewer`, for display."""
        return ADMIN if self.is_admin else "viewer"


def load_settings(env: Mapping[str, str] | None = None) -> AuthSettings:
    """Users and cookie key; raises `CookieKeyError` / `UserError` with a message to show."""
    env = os.environ if env is None else env
    path = users.users_file(env)
    return AuthSettings(
        credentials=users.load_credentials(path),
        cookie_key=users.cookie_key(env, _secrets()),
        users_file=str(path),
        demo=users.demo_mode(env),
    )


def _secrets() -> dict[str, Any]:
    """`st.secrets` as a plain dict; empty when there is no secrets.toml."""
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except Exception:  # no secrets file (FileNotFoundError / StreamlitSecretNotFoundError)
        return {}


def make_authenticator(settings: AuthSettings, cookie_box: Any = None) -> stauth.Authenticate:
    """The authenticator for this rerun, with the strict cookie check swapped in.

    `cookie_box`: a container at a fixed place where the component that writes the cookie
    after a sign-in renders. Left where the library renders it — inside the login form's
    column — it would go when the form is cleared, and the cookie would never be written.
    So does the one that deletes it at logout; `finish_cookie_changes` renders either again
    on later reruns until the browser confirms.
    """
    authenticator = stauth.Authenticate(
        settings.credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=settings.cookie_key,
        cookie_expiry_days=COOKIE_EXPIRY_DAYS,
        auto_hash=False,
        login_sleep_time=0,
    )
    usernames = frozenset(settings.credentials.get("usernames") or {})
    # The login view calls `cookie_controller.get_cookie()`; ours verifies strictly.
    authenticator.cookie_controller.get_cookie = partial(
        _cookie_token, settings.cookie_key, usernames
    )
    if cookie_box is not None:
        manager = authenticator.cookie_controller.cookie_model.cookie_manager
        manager.set = _CookieChange(cookie_box, manager.set, PENDING_COOKIE, PENDING_DELETE)
        manager.delete = _CookieChange(cookie_box, manager.delete, PENDING_DELETE, PENDING_COOKIE)
    return authenticator


# What a sign-in asked the browser to store / a logout asked it to delete, until the browser
# confirms: the arguments of the cookie manager's call, replayed by `finish_cookie_changes`.
PENDING_COOKIE = "wvi_pending_cookie"
PENDING_DELETE = "wvi_pending_cookie_delete"
# The keys of the cookie manager's "set" and "delete" components (extra_streamlit_components'
# defaults); a component's value turns True once the browser has done it.
CONFIRMED_BY = {PENDING_COOKIE: "set", PENDING_DELETE: "delete"}


class _CookieChange:
    """`CookieManager.set` or `.delete`, rendered into a fixed container and remembered (under
    `pending`) until the browser confirms; a new change cancels the other kind (`cancels`).

    The component changes the cookie from its iframe, a moment after the rerun that asked for
    it. A click in that moment starts a rerun in which the library does not render the
    component again, so its iframe would go before it ran: a sign-in would not survive a
    refresh, or a logout would be undone by one. `finish_cookie_changes` renders the same
    call (same key, so the same iframe, and the same token) until its value says it is done.
    """

    def __init__(self, box: Any, render: Any, pending: str, cancels: str) -> None:
        self.box, self.render, self.pending, self.cancels = box, render, pending, cancels
        self.rendered = False

    def __call__(self, cookie: str, *args: Any, **options: Any) -> None:
        st.session_state.pop(self.cancels, None)
        st.session_state[self.pending] = {"cookie": cookie, "args": args, "options": options}
        self.rendered = True
        with self.box, contextlib.suppress(KeyError):
            # `delete` also drops the name from the manager's copy of the browser's cookies,
            # a KeyError once the browser no longer has it: the component is rendered first.
            self.render(cookie, *args, **options)


def finish_cookie_changes(authenticator: stauth.Authenticate) -> None:
    """Render a sign-in's cookie writer or a logout's cookie deleter again while the browser
    has not confirmed it (at most once per rerun, and never both: each cancels the other)."""
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    for pending_key, change in ((PENDING_COOKIE, manager.set), (PENDING_DELETE, manager.delete)):
        pending = st.session_state.get(pending_key)
        if pending is None:
            continue
        if st.session_state.get(CONFIRMED_BY[pending_key]) is True:
            del st.session_state[pending_key]
        elif isinstance(change, _CookieChange) and not change.rendered:
            change(pending["cookie"], *pending["args"], **pending["options"])


def _cookie_token(key: str, usernames: Collection[str]) -> dict[str, Any] | None:
    """The verified re-login token from this request's cookie, or None."""
    if st.session_state.get("logout"):  # the library's rule: no cookie re-login after logout
        return None
    try:
        raw = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no request context (bare mode)
        return None
    return verified_token(raw, key, usernames)


def verified_token(
    raw: object, key: str, usernames: Collection[str], now: float | None = None
) -> dict[str, Any] | None:
    """The token's claims if `raw` is an HS256 JWT signed with `key`, unexpired, for a user
    in `usernames`; otherwise None (never an exception)."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_TOKEN_CHARS:
        return None
    try:
        claims = jwt.decode(raw, key, algorithms=["HS256"])
    except Exception:  # jwt.PyJWTError and anything odd in a forged token
        return None
    username, expires = claims.get("username"), claims.get("exp_date")
    if not isinstance(username, str) or username not in usernames:
        return None
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return None
    if expires <= (time.time() if now is None else now):
        return None
    return {"username": username, "exp_date": expires}


def current_user(authenticator: stauth.Authenticate, settings: AuthSettings) -> User | None:
    """The signed-in user after a cookie re-login attempt; None shows the login form."""
    try:
        authenticator.login(location="unrendered", key="wvi_login")
    except Exception:  # LoginError etc.: treat as not signed in, the form says the rest
        return None
    return signed_in_user(settings)


def signed_in_user(settings: AuthSettings) -> User | None:
    """The user this session signed in as (roles from the users file), or None."""
    if not st.session_state.get("authentication_status"):
        return None
    username = str(st.session_state.get("username") or "")
    entry = (settings.credentials.get("usernames") or {}).get(username)
    if entry is None:  # removed from the users file since they logged in
        sign_out_silently()
        return None
    roles = tuple(str(r) for r in entry.get("roles") or ())
    return User(username=username, name=str(entry.get("name") or username), roles=roles)


def sign_out_silently() -> None:
    """Forget the session's login (without touching the cookie)."""
    for key in AUTH_KEYS:
        st.session_state[key] = None
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(PENDING_COOKIE, None)


def login_form(authenticator: stauth.Authenticate, settings: AuthSettings) -> None:
    """The login form (in a centred column), plus what to do when there are no users yet."""
    with st.columns([1, 2, 1])[1]:
        _login_form(authenticator, settings)


def _login_form(authenticator: stauth.Authenticate, settings: AuthSettings) -> None:
    if not settings.credentials.get("usernames"):
        st.warning(
            f"No dashboard users in `{settings.users_file}` yet. Add one with "
            "`python -m pipeline users add NAME --role admin`."
        )
    try:
        authenticator.login(location="main", key="wvi_login", fields=_LOGIN_FIELDS)
    except Exception as exc:  # LoginError: too many attempts and the like
        st.error(str(exc))
        return
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Username or password is incorrect.")
    elif status is None and settings.demo:
        st.caption(
            "Demo mode: `make demo` prints the demo users' passwords "
            "(kept in `.demo_users.json` under the data root)."
        )


_LOGIN_FIELDS = {
    "Form name": "Sign in to Wistia Video Insights",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}


def logout_button(authenticator: stauth.Authenticate) -> bool:
    """The sidebar's logout button; True when it was just pressed (the session is cleared
    and the cookie deletion is on its way to the browser).

    The deletion is a component rendered into the fixed cookie box (`make_authenticator`):
    rendered inline it would shift the page by one element on the next rerun, and Streamlit
    would briefly show the login form twice.
    """
    if not st.sidebar.button("Log out", key="wvi_logout"):
        return False
    authenticator.logout(location="unrendered")
    st.session_state.pop(USER_KEY, None)
    return True


def require_user(role: str | None = None) -> User:
    """The page guard: the signed-in user (with `role` if given), else refuse and stop."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, User) or not st.session_state.get("authentication_status"):
        _to_router()
        st.warning("Please sign in first.")
        st.stop()
    if role is not None and role not in user.roles:
        st.error(f"This page is for {role}s only.")
        st.stop()
    return user


def _to_router() -> None:
    """Send a page that ran without the router back to it.

    Should a `pages/` folder ever appear next to Home.py, Streamlit would serve its files the
    legacy way (each its own page, without Home.py) until the first `st.navigation` call of
    the process; switching to the entry point then gets the visitor to the login.
    """
    # In the normal case the router is in charge and Home.py is no page: nothing to do.
    with contextlib.suppress(Exception):
        st.switch_page("Home.py")


__all__ = [
    "ADMIN",
    "COOKIE_NAME",
    "AuthSettings",
    "User",
    "current_user",
    "load_settings",
    "login_form",
    "logout_button",
    "make_authenticator",
    "require_user",
    "signed_in_user",
    "verified_token",
]
