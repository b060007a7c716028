"""The re-login cookie check: only a well-formed HS256 token for a current user gets in."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from app.auth import verified_token

KEY = "k" * 64  # 64 bytes: HS512 forgeries below would warn about a shorter key
USERS = {"alice", "bob"}
LATER = time.time() + 3600


def token(claims: dict, key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_valid_token_is_accepted():
    claims = verified_token(token({"username": "bob", "exp_date": LATER}), KEY, USERS)
    assert claims == {"username": "bob", "exp_date": LATER}


def tampered_payload() -> str:
    """bob's genuine token with the payload swapped for alice's (signature kept)."""
    header, _, signature = token({"username": "bob", "exp_date": LATER}).split(".")
    return ".".join([header, b64({"username": "alice", "exp_date": LATER}), signature])


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(token({"username": "alice", "exp_date": LATER}, key="x" * 64), id="other-key"),
        pytest.param(tampered_payload(), id="tampered-payload"),
        pytest.param(
            b64({"alg": "none", "typ": "JWT"})
            + "."
            + b64({"username": "alice", "exp_date": LATER})
            + ".",
            id="alg-none",
        ),
        pytest.param(
            token({"username": "alice", "exp_date": LATER}, algorithm="HS512"), id="hs512"
        ),
        pytest.param(token({"username": "alice", "exp_date": time.time() - 1}), id="expired"),
        pytest.param(token({"username": "alice"}), id="no-expiry"),
        pytest.param(token({"username": "alice", "exp_date": "2999-01-01"}), id="text-expiry"),
        pytest.param(token({"username": "alice", "exp_date": True}), id="bool-expiry"),
        pytest.param(token({"exp_date": LATER}), id="no-username"),
        pytest.param(token({"username": ["alice"], "exp_date": LATER}), id="list-username"),
        pytest.param(token({"username": "mallory", "exp_date": LATER}), id="unknown-user"),
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(12345, id="not-text"),
        pytest.param("a" * 5000, id="oversized"),
    ],
)
def test_anything_else_is_refused_without_an_exception(raw):
    assert verified_token(raw, KEY, USERS) is None


def test_the_librarys_own_check_would_crash_on_a_forged_token():
    """Why the app replaces it: streamlit-authenticator 0.4.2 only catches DecodeError."""
    from streamlit_authenticator.models.cookie_model import CookieModel

    model = CookieModel.__new__(CookieModel)
    model.cookie_key = KEY
    model.token = token({"username": "alice", "exp_date": LATER}, algorithm="HS512")
    with pytest.raises(jwt.InvalidAlgorithmError):
        model._token_decode()
