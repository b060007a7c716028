"""The dashboard's router: page config, login, pages (§15); `Home.py` runs `main()` on every
rerun of every session.

A visitor who is not signed in gets only the login form; a signed-in user gets the pages of
their role (Admin is registered for admins only, and guards itself too), the sidebar filters
and a logout button. Everything here runs on every rerun, around whichever page is shown.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.delta_generator import DeltaGenerator

from app import auth, data, prefetch, ui

# Beside the entry point (Home.py; in the Docker image this package is installed elsewhere).
# Not `pages/`: Streamlit serves a `pages/` folder the legacy way (each file its own page,
# without this router or its login) until the first st.navigation call of the process, and
# AppTest does so on every run.
PAGES_FOLDER = "app_pages"


# (url path, title, icon); the first is the default page, the last is for admins only.
PAGES_SPEC = (
    ("overview", "Overview", ":material/dashboard:"),
    ("channels", "Channels", ":material/compare_arrows:"),
    ("trends", "Trends", ":material/show_chart:"),
    ("media", "Media", ":material/movie:"),
    ("admin", "Admin", ":material/settings:"),
)
ADMIN_PAGE = "admin"
# The authenticator's cookie component renders zero-height iframes (keys init/set/delete),
# and the login form a script that imports the pages' code (`prefetch`): hidden, they still
# run, without leaving a gap on the page.
HIDE_BACKGROUND_ELEMENTS = (
    "<style>.st-key-init, .st-key-set, .st-key-delete, "
    f".st-key-{prefetch.CONTAINER_KEY} {{display: none}}</style>"
)


def app_pages(user: auth.User, home: Path) -> list[st.Page]:
    """The page files `user` may open (beside `home`, the entry point): Admin only for
    admins."""
    folder = home.parent / PAGES_FOLDER
    return [
        st.Page(folder / f"{name}.py", title=title, icon=icon, url_path=name, default=i == 0)
        for i, (name, title, icon) in enumerate(PAGES_SPEC)
        if name != ADMIN_PAGE or user.is_admin
    ]


def refuse(message: str) -> None:
    """The app can't run as configured: say why and show nothing else."""

    def configuration_error() -> None:
        st.error(f"The dashboard is not configured: {message}")

    st.navigation([st.Page(configuration_error, title="Not configured")], position="hidden").run()


def main(home: Path) -> None:
    """One rerun of the entry point `home`: configure, authenticate, route."""
    st.set_page_config(
        page_title="Wistia Video Insights",
        page_icon=":material/smart_display:",
        layout="wide",
        menu_items={"About": "Wistia Video Insights — video KPIs from the Wistia Stats API."},
    )
    try:
        settings = auth.load_settings()
    except Exception as exc:  # CookieKeyError, UserError: refuse with the reason
        refuse(str(exc))
        return
    st.html(HIDE_BACKGROUND_ELEMENTS)
    cookie_box = st.container()  # where the cookie is written and deleted (see auth)
    authenticator = auth.make_authenticator(settings, cookie_box)
    # The login form's slot, on every rerun (empty once signed in): the page then starts at
    # the same position whether this rerun signed the user in or a later one draws it, so
    # Streamlit keeps each element where it is instead of drawing the page anew.
    login_slot = st.empty()
    user = auth.current_user(authenticator, settings)
    if user is None:
        data.preload()  # the gold tables load while the visitor types
        user = show_login(authenticator, settings, login_slot)
        if user is None:
            auth.finish_cookie_changes(authenticator)  # a logout's deletion, until confirmed
            return
    filters_box = st.sidebar.container()  # filters above the account, decided below
    st.sidebar.caption(f"Signed in as **{user.name}** ({user.role})")
    if auth.logout_button(authenticator):
        show_login(authenticator, settings, login_slot)
        return
    auth.finish_cookie_changes(authenticator)  # a sign-in's cookie, until confirmed
    st.session_state[auth.USER_KEY] = user
    current = st.navigation(app_pages(user, home))
    if current.url_path != ADMIN_PAGE:  # the Admin page has no use for the filters
        with filters_box:
            ui.sidebar_filters(data.status())
    current.run()


def show_login(
    authenticator: stauth.Authenticate, settings: auth.AuthSettings, slot: DeltaGenerator
) -> auth.User | None:
    """The login form, whatever URL was asked for; the user if this very rerun signed them in.

    The form goes into `slot`. A successful sign-in clears it and the app is drawn in the same
    rerun: waiting for the rerun that the cookie component triggers once it has written the
    cookie would show the dashboard a second or two later. Every page's URL is registered
    (hidden) while the form shows, so a deep link gets the form instead of a "page not found"
    dialog, and stays where it was once the user is signed in (a page's identity is its URL
    path). What the user may then open is decided by `app_pages` alone.
    """
    st.session_state.pop(auth.USER_KEY, None)
    with slot.container():
        auth.login_form(authenticator, settings)
        prefetch.import_page_code()  # while the visitor types
    user = auth.signed_in_user(settings)
    if user is not None:
        slot.empty()
        return user
    placeholders = [
        st.Page(_sign_in_page, title="Sign in", url_path=name, default=i == 0)
        for i, (name, _, _) in enumerate(PAGES_SPEC)
    ]
    st.navigation(placeholders, position="hidden").run()
    return None


def _sign_in_page() -> None:
    """Nothing more: the form above is the whole page until the visitor is signed in."""
