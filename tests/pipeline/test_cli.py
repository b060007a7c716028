"""The CLI as a user runs it: a real subprocess against the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.conftest import TODAY


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def base_env(server, tmp_path) -> dict[str, str]:
    return {
        "WISTIA_API_BASE_URL": server.base_url,
        "WVI_DATA_ROOT": str(tmp_path),
        "WVI_BACKOFF_BASE": "0.01",
    }


def test_wrong_token_fails_at_once_naming_the_variable(tmp_path, simulator):
    secret = "wrong-token-5f2b9c"
    result = run_cli(
        "ingest",
        "--as-of",
        str(TODAY - timedelta(days=1)),
        env={**base_env(simulator, tmp_path), "WISTIA_API_TOKEN": secret},
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "WISTIA_API_TOKEN" in lines[0]
    assert secret not in result.stderr + result.stdout
    # No retries: exactly one request reached the simulator.
    assert simulator.stats()["requests_total"] == 1


def test_missing_token_fails_before_any_request(tmp_path, simulator):
    env = base_env(simulator, tmp_path)
    env_without = {k: v for k, v in {**os.environ, **env}.items() if k != "WISTIA_API_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", "--quiet"],
        capture_output=True,
        text=True,
        env=env_without,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "WISTIA_API_TOKEN" in result.stderr
    assert simulator.stats()["requests_total"] == 0


@pytest.mark.parametrize("command", ["run", "transform"])
def test_hashed_pii_without_a_key_fails_before_any_request(tmp_path, simulator, command):
    env = {**base_env(simulator, tmp_path), "WISTIA_API_TOKEN": simulator.config.token}
    env = {k: v for k, v in {**os.environ, **env}.items() if k != "WVI_PII_KEY"}
    env["WVI_PII"] = "hashed"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", command, "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2  # a configuration error
    assert result.stderr.strip().count("\n") == 0
    assert "WVI_PII=hashed needs a secret key in WVI_PII_KEY" in result.stderr
    assert simulator.stats()["requests_total"] == 0
    assert not (tmp_path / "runs").exists()  # no run was started


def test_ingest_quiet_succeeds_and_prints_nothing(tmp_path, simulator):
    env = {**base_env(simulator, tmp_path), "WISTIA_API_TOKEN": simulator.config.token}
    result = run_cli(
        "ingest",
        "--as-of",
        str(TODAY - timedelta(days=1)),
        "--backfill-days",
        "3",
        "--quiet",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert list((tmp_path / "bronze" / "_manifests").glob("*.json"))


def test_help_explains_each_command():
    for command in ("ingest", "simulate", "commit", "demo"):
        result = run_cli(command, "--help", env={})
        assert result.returncode == 0
        assert "usage:" in result.stdout
    ingest_help = run_cli("ingest", "--help", env={}).stdout
    for flag in ("--as-of", "--start-date", "--end-date", "--backfill-days", "--quiet"):
        assert flag in ingest_help


def test_users_add_list_remove(tmp_path):
    env = {"WVI_USERS_FILE": str(tmp_path / "users.yaml")}

    def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "users", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=60,
        )

    added = users("add", "ann", "--role", "admin", "--password-stdin", stdin="long-enough-pw\n")
    assert added.returncode == 0, added.stderr
    listed = users("list")
    assert "ann" in listed.stdout and "admin" in listed.stdout
    assert "long-enough-pw" not in (tmp_path / "users.yaml").read_text()
    assert "$2b$" in (tmp_path / "users.yaml").read_text()
    refused = users("add", "bob", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert refused.returncode == 2 and "8 characters" in refused.stderr
    bad_role = users("add", "bob", "--role", "owner", "--password-stdin", stdin="x" * 10)
    assert bad_role.returncode == 2
    assert users("remove", "ann").returncode == 0
    assert "ann" not in users("list").stdout
