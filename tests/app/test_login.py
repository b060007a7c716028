"""Login, roles and navigation through the real entry point (AppTest)."""

from __future__ import annotations

import json

import pytest

from app import auth
from tests.app.conftest import PASSWORDS, ROOT, new_app, signed_in, texts

PAGE_FILES = ["overview", "channels", "trends", "media"]


def sign_in(username: str, password: str):
    at = new_app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def nav_refuses(at, page: str) -> bool:
    """True when `page` is not registered in the app's navigation for this session."""
    try:
        at.switch_page(f"app_pages/{page}.py")
    except ValueError:
        return True
    return False


def test_not_signed_in_sees_only_the_login_form(app_env):
    at = new_app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.title and not at.metric and not at.dataframe
    assert not at.sidebar.children  # no filters, no logout
    assert all(nav_refuses(at, page) for page in [*PAGE_FILES, "admin"])


def test_a_wrong_password_is_refused(app_env):
    at = sign_in("bob", "not-the-password")
    assert "Username or password is incorrect." in texts(at.error)
    assert not at.session_state["authentication_status"]
    assert not at.metric


def main_layout(at) -> list[str]:
    """The kinds of the main area's top-level elements, in order."""
    return [type(child).__name__ for child in at.main.children.values()]


def test_a_viewer_signs_in_and_sees_every_page_but_admin(app_env):
    at = sign_in("bob", PASSWORDS["bob"])
    assert at.session_state["authentication_status"] is True
    assert at.session_state["roles"] == ["viewer"]
    # The rerun of the click draws the Overview (not a second one), with the form gone.
    assert texts(at.title) == ["Overview"]
    assert len(at.metric) == 6
    assert not at.text_input
    # The rerun the cookie component triggers in a browser keeps every element in its place.
    layout = main_layout(at)
    at.run()
    assert main_layout(at) == layout
    assert texts(at.title) == ["Overview"]
    for page in PAGE_FILES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, page
    assert nav_refuses(at, "admin")


def cookie_calls(at, method: str) -> list[dict]:
    """The arguments of this run's cookie-manager components with `method` ("set": write the
    login cookie, "delete": delete it), as the browser receives them."""
    found = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "component_instance":
                args = json.loads(child.proto.json_args or "{}")
                if args.get("method") == method:
                    found.append(args)
            walk(child)

    walk(at._tree)
    return found


def names(calls: list[dict]) -> list[str]:
    return [call["cookie"] for call in calls]


def confirm(at, component: str):
    """What the browser does once the component has changed the cookie: report True."""
    at.session_state[component] = True
    return at.run()


def test_the_cookie_writer_stays_until_the_browser_confirms(app_env):
    at = sign_in("bob", PASSWORDS["bob"])
    assert not at.exception
    written = cookie_calls(at, "set")
    assert names(written) == [auth.COOKIE_NAME] and written[0]["value"]
    # A rerun before the browser has stored the cookie (a click) renders the same writer: the
    # same token, the same expiry.
    at.run()
    assert not at.exception
    assert cookie_calls(at, "set") == written
    confirm(at, "set")
    assert cookie_calls(at, "set") == []
    assert auth.PENDING_COOKIE not in at.session_state
    at.run()
    assert cookie_calls(at, "set") == [] and texts(at.title) == ["Overview"]


def test_a_logout_deletes_the_cookie_until_the_browser_confirms(app_env):
    at = confirm(sign_in("bob", PASSWORDS["bob"]), "set")
    at.sidebar.button(key="wvi_logout").click().run()
    assert names(cookie_calls(at, "delete")) == [auth.COOKIE_NAME]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    at.run()  # a rerun on the login form before the browser deleted it: deleted again
    assert names(cookie_calls(at, "delete")) == [auth.COOKIE_NAME]
    assert not at.exception
    confirm(at, "delete")
    assert cookie_calls(at, "delete") == []
    assert auth.PENDING_DELETE not in at.session_state


def test_logging_out_before_the_cookie_is_stored_stops_writing_it(app_env):
    at = sign_in("bob", PASSWORDS["bob"])
    at.sidebar.button(key="wvi_logout").click().run()
    assert cookie_calls(at, "set") == []
    assert names(cookie_calls(at, "delete")) == [auth.COOKIE_NAME]
    at.run()
    assert cookie_calls(at, "set") == []
    # Signing in again before the deletion was confirmed: the new cookie only, no deletion.
    at.text_input[0].input("bob")
    at.text_input[1].input(PASSWORDS["bob"])
    at.button[0].click().run()
    assert names(cookie_calls(at, "set")) == [auth.COOKIE_NAME]
    assert cookie_calls(at, "delete") == []
    at.run()
    assert names(cookie_calls(at, "set")) == [auth.COOKIE_NAME]
    assert cookie_calls(at, "delete") == [] and not at.exception


def test_an_admin_sees_the_admin_page(app_env):
    at = signed_in("alice")
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert texts(at.title) == ["Admin — pipeline runs"]
    assert [b.label for b in at.button if b.label == "Start run"] == ["Start run"]


@pytest.mark.parametrize(
    ("username", "message"),
    [(None, "Please sign in first."), ("bob", "This page is for admins only.")],
)
def test_the_admin_page_guards_itself(app_env, username, message):
    """Run the page file directly, as if something reached it without the router."""
    from streamlit.testing.v1 import AppTest

    from app import auth

    at = AppTest.from_file(str(ROOT / "app_pages" / "admin.py"), default_timeout=30)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state[auth.USER_KEY] = auth.User(username, username, ("viewer",))
    at.run()
    assert message in texts(at.warning) + texts(at.error)
    assert not at.title and not at.button


def test_log_out_returns_to_the_login_form(app_env):
    at = signed_in("bob")
    at.sidebar.button(key="wvi_logout").click().run()
    assert not at.session_state["authentication_status"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.metric


def test_a_user_removed_from_the_users_file_is_signed_out(app_env):
    at = signed_in("carol")  # a session for someone the users file does not know
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.metric


def test_roles_come_from_the_users_file_not_the_session(app_env):
    at = new_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "bob"
    at.session_state["roles"] = ["admin"]  # tampered session state: ignored
    at.run()
    assert nav_refuses(at, "admin")


def test_without_a_cookie_key_the_app_refuses_to_start(app_env):
    app_env.delenv("WVI_COOKIE_KEY")
    at = new_app().run()
    assert not at.exception
    [error] = texts(at.error)
    assert "not configured" in error and "WVI_COOKIE_KEY" in error
    assert not at.text_input


def test_a_short_cookie_key_is_refused(app_env):
    app_env.setenv("WVI_COOKIE_KEY", "too-short")
    at = new_app().run()
    assert "at least 32" in " ".join(texts(at.error))
    assert not at.text_input


def test_demo_mode_makes_a_cookie_key(app_env, tmp_path):
    app_env.delenv("WVI_COOKIE_KEY")
    app_env.setenv("WVI_DEMO", "1")
    app_env.setenv("WVI_DATA_ROOT", str(tmp_path))
    at = new_app().run()
    assert not at.error
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert (tmp_path / ".demo_cookie_key").exists()


def test_no_users_yet_says_how_to_add_one(app_env, tmp_path):
    app_env.setenv("WVI_USERS_FILE", str(tmp_path / "none.yaml"))
    at = new_app().run()
    assert "users add" in " ".join(texts(at.warning))


def test_there_is_no_legacy_pages_folder():
    """A `pages/` folder beside Home.py is served the legacy way — each file its own page,
    without the router and its login — for the first session after a server start (and by
    AppTest on every run). The page files live in `app_pages/` for that reason."""
    assert not (ROOT / "pages").exists()
