"""Users file (streamlit-authenticator 0.4.2 format), roles, cookie key, demo users."""

from __future__ import annotations

import stat

import bcrypt
import pytest
import yaml

from services import users
from services.users import CookieKeyError, UserError


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def path(tmp_path):
    return tmp_path / ".streamlit" / "users.yaml"


def test_add_list_remove_round_trip(path):
    assert users.list_users(path) == []
    assert (
        users.add_user(path, "Alice", "admin", "Alice A.", "correct horse", email="a@x.io") is None
    )
    generated = users.add_user(path, "bob", "viewer")
    assert generated and len(generated) >= 12

    listed = users.list_users(path)
    assert [(u.username, u.name, u.role) for u in listed] == [
        ("alice", "Alice A.", "admin"),
        ("bob", "bob", "viewer"),
    ]
    assert "password" not in repr(listed) and "$2" not in repr(listed)
    assert users.role_of("ALICE", path) == "admin" and users.role_of("carol", path) is None

    assert users.verify_password(path, "alice", "correct horse")
    assert not users.verify_password(path, "alice", "wrong password")
    assert users.verify_password(path, "bob", generated)

    users.remove_user(path, "bob")
    assert [u.username for u in users.list_users(path)] == ["alice"]
    with pytest.raises(UserError, match="no such user"):
        users.remove_user(path, "bob")


def test_file_format_is_what_the_authenticator_reads(path):
    users.add_user(path, "alice", "admin", "Alice", "correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = yaml.safe_load(path.read_text())
    entry = data["credentials"]["usernames"]["alice"]
    assert entry["roles"] == ["admin"] and entry["name"] == "Alice"
    assert bcrypt.checkpw(b"correct horse", entry["password"].encode())
    assert "correct horse" not in path.read_text()

    from streamlit_authenticator.utilities.hasher import Hasher

    credentials = users.load_credentials(path)
    assert Hasher.is_hash(credentials["usernames"]["alice"]["password"])
    assert Hasher.check_pw("correct horse", credentials["usernames"]["alice"]["password"])
    credentials["usernames"]["alice"]["roles"].append("mutated")  # a copy each time
    assert users.load_credentials(path)["usernames"]["alice"]["roles"] == ["admin"]


@pytest.mark.parametrize(
    ("username", "role", "password", "message"),
    [
        ("alice", "superuser", "long enough", "bad role"),
        ("al ice", "viewer", "long enough", "bad username"),
        ("", "viewer", "long enough", "bad username"),
        ("a" * 21, "viewer", "long enough", "bad username"),
        ("alice", "viewer", "short", "at least 8"),
        ("alice", "viewer", "x" * 73, "at most 72"),
    ],
)
def test_bad_input_is_refused(path, username, role, password, message):
    with pytest.raises(UserError, match=message):
        users.add_user(path, username, role, password=password)
    assert not path.exists()


def test_existing_user_needs_replace(path):
    users.add_user(path, "alice", "viewer", password="first password")
    with pytest.raises(UserError, match="already exists"):
        users.add_user(path, "alice", "admin", password="second password")
    users.add_user(path, "alice", "admin", password="second password", replace=True)
    assert users.role_of("alice", path) == "admin"
    assert users.verify_password(path, "alice", "second password")


def test_users_file_from_env(tmp_path):
    assert str(users.users_file({})) == ".streamlit/users.yaml"
    assert users.users_file({"WVI_USERS_FILE": str(tmp_path / "u.yaml")}) == tmp_path / "u.yaml"
    assert users.is_admin(["viewer", "admin"]) and not users.is_admin(None)


def test_cookie_key_rules(tmp_path):
    key = "k" * 32
    assert users.cookie_key({"WVI_COOKIE_KEY": key}) == key
    assert users.cookie_key({}, {"cookie": {"key": key}}) == key
    assert users.cookie_key({}, {"WVI_COOKIE_KEY": key}) == key
    with pytest.raises(CookieKeyError, match="at least 32"):
        users.cookie_key({"WVI_COOKIE_KEY": "too-short"})
    with pytest.raises(CookieKeyError, match="no login cookie key"):
        users.cookie_key({}, {})


def test_demo_mode_generates_and_keeps_a_cookie_key(tmp_path):
    env = {"WVI_DEMO": "1", "WVI_DATA_ROOT": str(tmp_path / "data")}
    first = users.cookie_key(env)
    assert len(first.encode()) >= 32
    assert users.cookie_key(env) == first
    key_file = tmp_path / "data" / ".demo_cookie_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert users.cookie_key({**env, "WVI_COOKIE_KEY": "x" * 40}) == "x" * 40


def test_demo_users(tmp_path, path):
    env = {"WVI_DEMO": "1", "WVI_DATA_ROOT": str(tmp_path / "data")}
    created = users.ensure_demo_users(path, env=env)
    assert [(u, r) for u, _, r in created] == [("demo-viewer", "viewer"), ("demo-admin", "admin")]
    for username, password, _ in created:
        assert users.verify_password(path, username, password)
    assert users.ensure_demo_users(path, env=env) == created  # repeatable: same logins
    stash = tmp_path / "data" / ".demo_users.json"
    assert stat.S_IMODE(stash.stat().st_mode) == 0o600
    with pytest.raises(UserError, match="demo mode"):
        users.ensure_demo_users(path, env={})
