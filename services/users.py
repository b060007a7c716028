"""Dashboard users and roles, in streamlit-authenticator 0.4.2's credentials format (§15).

The users file (`WVI_USERS_FILE`, default `.streamlit/users.yaml`, git-ignored) holds::

    credentials:
      usernames:
        alice:
          name: Alice
          email: alice@example.com     # optional
          password: $2b$12$...         # bcrypt hash, never plain text
          roles: [admin]               # viewer | admin

The app passes `load_credentials()` (a dict) to `stauth.Authenticate(..., auto_hash=False)`,
so hashes are made here, once, and the authenticator never rewrites the file. Usernames are
lower case (the authenticator lower-cases them). Files are written with mode 0600.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

ROLES = ("viewer", "admin")
DEFAULT_USERS_FILE = ".streamlit/users.yaml"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 refuses longer input
MIN_COOKIE_KEY_BYTES = 32
BCRYPT_ROUNDS = 12
DEMO_KEY_FILE = ".demo_cookie_key"
DEMO_USERS_FILE = ".demo_users.json"
DEMO_USERS = (("demo-viewer", "viewer", "Demo Viewer"), ("demo-admin", "admin", "Demo Admin"))
_TRUE = {"1", "true", "yes", "on"}


class UserError(ValueError):
    """A users-file operation was refused (bad name, role or password; unknown user)."""


class CookieKeyError(RuntimeError):
    """No usable login-cookie key is configured."""


@dataclass(frozen=True)
class UserInfo:
    """A user as listed: no password hash."""

    username: str
    name: str
    email: str | None
    roles: tuple[str, ...]

    @property
    def role(self) -> str | None:
        """`admin` if the user has it, else their first role."""
        return "admin" if "admin" in self.roles else (self.roles[0] if self.roles else None)


# ---------------------------------------------------------------------- configuration
def users_file(env: Mapping[str, str] | None = None) -> Path:
    """`WVI_USERS_FILE`, default `.streamlit/users.yaml`."""
    env = os.environ if env is None else env
    return Path(env.get("WVI_USERS_FILE") or DEFAULT_USERS_FILE)


def demo_mode(env: Mapping[str, str] | None = None) -> bool:
    """True when `WVI_DEMO` is set to 1/true/yes/on."""
    env = os.environ if env is None else env
    return str(env.get("WVI_DEMO", "")).strip().lower() in _TRUE


def is_admin(roles: Any) -> bool:
    """True if `roles` (a session's role list, possibly None) includes admin."""
    return bool(roles) and "admin" in list(roles)


# ---------------------------------------------------------------------- users file
def load_credentials(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The `credentials` mapping for the authenticator (a fresh copy: it mutates it)."""
    users = _read(_resolve(path)).get("credentials", {}).get("usernames") or {}
    return {"usernames": copy.deepcopy(users)}


def list_users(path: str | os.PathLike[str] | None = None) -> list[UserInfo]:
    """Every user, sorted by username, without password hashes."""
    users = load_credentials(path)["usernames"]
    return [
        UserInfo(
            username=str(username),
            name=str(entry.get("name") or username),
            email=entry.get("email"),
            roles=tuple(entry.get("roles") or ()),
        )
        for username, entry in sorted(users.items())
    ]


def role_of(username: str, path: str | os.PathLike[str] | None = None) -> str | None:
    """The user's role (`admin` wins over `viewer`), or None for an unknown user."""
    key = str(username).strip().lower()
    return next((u.role for u in list_users(path) if u.username == key), None)


def add_user(
    path: str | os.PathLike[str] | None,
    username: str,
    role: str,
    name: str | None = None,
    password: str | None = None,
    *,
    email: str | None = None,
    replace: bool = False,
) -> str | None:
    """Add a user (bcrypt-hashing the password); returns the password if one was generated.

    Refuses an existing username unless `replace` (which resets name, role and password).
    """
    username = check_username(username)
    role = check_role(role)
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password)
    target = _resolve(path)
    config = _read(target)
    credentials = config.setdefault("credentials", {})
    users = credentials["usernames"] = credentials.get("usernames") or {}
    if username in users and not replace:
        raise UserError(f"user {username!r} already exists")
    entry: dict[str, Any] = {"name": name or username, "password": hash_password(password)}
    if email:
        entry["email"] = email
    entry["roles"] = [role]
    users[username] = entry
    _write(target, config)
    return generated


def remove_user(path: str | os.PathLike[str] | None, username: str) -> None:
    """Remove a user; `UserError` if there is no such user."""
    target = _resolve(path)
    config = _read(target)
    users = config.get("credentials", {}).get("usernames") or {}
    key = str(username).strip().lower()
    if key not in users:
        raise UserError(f"no such user: {key!r}")
    del users[key]
    _write(target, config)


def verify_password(path: str | os.PathLike[str] | None, username: str, password: str) -> bool:
    """True if `password` matches the user's stored hash."""
    entry = load_credentials(path)["usernames"].get(str(username).strip().lower())
    if not entry or not entry.get("password"):
        return False
    try:
        return bcrypt.checkpw(password.encode(), str(entry["password"]).encode())
    except ValueError:
        return False


# ---------------------------------------------------------------------- validation, hashing
def check_username(username: str) -> str:
    """The username in lower case, or `UserError` (1–20 of a-z 0-9 _ -, starting alnum)."""
    key = str(username).strip().lower()
    if not USERNAME.match(key):
        raise UserError(
            f"bad username {username!r}: use 1-20 characters a-z, 0-9, _ or -, "
            "starting with a letter or digit"
        )
    return key


def check_role(role: str) -> str:
    """`viewer` or `admin`, else `UserError`."""
    value = str(role).strip().lower()
    if value not in ROLES:
        raise UserError(f"bad role {role!r}: use one of {', '.join(ROLES)}")
    return value


def check_password(password: str) -> None:
    """At least 8 characters and at most 72 bytes (bcrypt's limit), else `UserError`."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(f"the password must be at most {MAX_PASSWORD_BYTES} bytes")


def hash_password(password: str) -> str:
    """A bcrypt hash (`$2b$...`) of `password`."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def generate_password() -> str:
    """A random 16-character URL-safe password."""
    return secrets.token_urlsafe(12)


# ---------------------------------------------------------------------- cookie key
def cookie_key(
    env: Mapping[str, str] | None = None,
    secrets_map: Mapping[str, Any] | None = None,
    *,
    state_dir: str | os.PathLike[str] | None = None,
) -> str:
    """The login-cookie signing key (≥ 32 bytes).

    From `WVI_COOKIE_KEY` in the environment, else from the secrets mapping
    (`WVI_COOKIE_KEY`, `cookie_key` or `[cookie] key`). Without one, demo mode
    (`WVI_DEMO=1`) generates a key and keeps it in `<state_dir>/.demo_cookie_key` (default
    the data root, which is git-ignored); outside demo mode it is a `CookieKeyError`.
    """
    env = os.environ if env is None else env
    key = env.get("WVI_COOKIE_KEY") or _secret_key(secrets_map or {})
    if key:
        size = len(str(key).encode())
        if size < MIN_COOKIE_KEY_BYTES:
            raise CookieKeyError(
                f"WVI_COOKIE_KEY is {size} bytes; it must be at least {MIN_COOKIE_KEY_BYTES}"
            )
        return str(key)
    if not demo_mode(env):
        raise CookieKeyError(
            "no login cookie key: set WVI_COOKIE_KEY (at least 32 random bytes, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`) in the '
            "environment or .streamlit/secrets.toml, or run in demo mode (WVI_DEMO=1)"
        )
    return _demo_cookie_key(_state_dir(env, state_dir) / DEMO_KEY_FILE)


def _secret_key(secrets_map: Mapping[str, Any]) -> str | None:
    for name in ("WVI_COOKIE_KEY", "cookie_key"):
        if secrets_map.get(name):
            return str(secrets_map[name])
    cookie = secrets_map.get("cookie")
    if isinstance(cookie, Mapping) and cookie.get("key"):
        return str(cookie["key"])
    return None


def _demo_cookie_key(path: Path) -> str:
    with contextlib.suppress(OSError):
        existing = path.read_text().strip()
        if len(existing.encode()) >= MIN_COOKIE_KEY_BYTES:
            return existing
    key = secrets.token_urlsafe(48)
    _write_private(path, key + "\n")
    return key


# ---------------------------------------------------------------------- demo users
def ensure_demo_users(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    state_dir: str | os.PathLike[str] | None = None,
) -> list[tuple[str, str, str]]:
    """Make sure the demo viewer and admin exist; returns [(username, password, role)].

    Demo mode only. The demo passwords are generated once and kept (0600) in
    `<state_dir>/.demo_users.json` so a repeated `make demo` can print them again; a demo
    user whose stored password no longer matches gets a new one.
    """
    env = os.environ if env is None else env
    if not demo_mode(env):
        raise UserError("demo users are only created in demo mode (WVI_DEMO=1)")
    target = users_file(env) if path is None else Path(path)
    stash_path = _state_dir(env, state_dir) / DEMO_USERS_FILE
    stash = _read_json(stash_path)
    result = []
    for username, role, name in DEMO_USERS:
        password = stash.get(username)
        if not (password and verify_password(target, username, password)):
            password = generate_password()
            add_user(target, username, role, name, password, replace=True)
            stash[username] = password
        result.append((username, password, role))
    _write_private(stash_path, json.dumps(stash, indent=1))
    return result


# ---------------------------------------------------------------------- files
def _resolve(path: str | os.PathLike[str] | None) -> Path:
    return users_file() if path is None else Path(path)


def _state_dir(env: Mapping[str, str], state_dir: str | os.PathLike[str] | None) -> Path:
    if state_dir is not None:
        return Path(state_dir)
    root = env.get("WVI_DATA_ROOT") or "./data"
    return Path.home() / ".cache" / "wvi" if "://" in root else Path(root)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = yaml.safe_load(text) or {}
    if isinstance(data, dict) and data.get("credentials") is None:
        data["credentials"] = {}
    if not isinstance(data, dict) or not isinstance(data["credentials"], dict):
        raise UserError(f"{path} is not a users file (expected credentials: usernames: ...)")
    return data


def _write(path: Path, config: dict[str, Any]) -> None:
    _write_private(path, yaml.safe_dump(config, sort_keys=True, allow_unicode=True))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    """Write `text` atomically to `path` with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = [
    "DEMO_USERS",
    "ROLES",
    "CookieKeyError",
    "UserError",
    "UserInfo",
    "add_user",
    "check_password",
    "check_role",
    "check_username",
    "cookie_key",
    "demo_mode",
    "ensure_demo_users",
    "generate_password",
    "hash_password",
    "is_admin",
    "list_users",
    "load_credentials",
    "remove_user",
    "role_of",
    "verify_password",
]
