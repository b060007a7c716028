"""The `simulate` command: flags, truth file, and serving until SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pipeline.simulator.cli import add_simulate_arguments, config_from_args, run_simulate

REPO = Path(__file__).resolve().parents[3]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_and_token_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WISTIA_API_TOKEN", raising=False)
    config = config_from_args(_parse())
    assert (config.host, config.port, config.token, config.seed) == (
        "127.0.0.1",
        8765,
        "demo-token",
        7,
    )
    assert (config.rate_limit, config.rate_window_seconds, config.chaos) == (600, 60.0, frozenset())
    monkeypatch.setenv("WISTIA_API_TOKEN", "from-env")
    assert config_from_args(_parse()).token == "from-env"
    assert config_from_args(_parse("--token", "flag")).token == "flag"


def test_flags_reach_the_config() -> None:
    args = _parse(
        "--port", "0", "--seed", "3", "--medias", "4", "--days", "10", "--today", "2026-01-31",
        "--daily-plays", "5", "--rate-limit", "50", "--rate-window", "10", "--rate-limit-mode",
        "503", "--latency-ms", "20", "--chaos", "429,duplicates", "--chaos-rate", "0.2",
        "--folder-key", "hashed_id",
    )  # fmt: skip
    config = config_from_args(args)
    assert config.today.isoformat() == "2026-01-31" and config.medias == 4
    assert config.chaos == {"429", "duplicates"} and config.rate_limit_mode == "503"
    assert (config.latency_ms, config.chaos_rate, config.folder_key) == (20, 0.2, "hashed_id")


@pytest.mark.parametrize(
    "argv", [["--chaos", "fire"], ["--today", "May 1"], ["--rate-limit-mode", "418"]]
)
def test_bad_flags_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(*argv)


def test_help_explains_every_flag() -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    text = parser.format_help()
    for flag in ("--truth", "--no-serve", "--chaos", "--rate-window", "WISTIA_API_TOKEN"):
        assert flag in text
    assert "fake Wistia" in (parser.description or "")
    assert all(action.help for action in parser._actions)


def test_truth_without_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "truth.json"
    args = _parse("--truth", str(target), "--no-serve", "--medias", "3", "--days", "5",
                  "--today", "2026-05-20")  # fmt: skip
    assert run_simulate(args, quiet=True) == 0
    assert capsys.readouterr().out.strip() == str(target)
    truth = json.loads(target.read_text())
    assert truth["params"]["today"] == "2026-05-20" and len(truth["medias"]) == 3


def test_no_serve_needs_truth(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(_parse("--no-serve"), quiet=True) == 2
    assert "--truth" in capsys.readouterr().err


def test_serves_until_sigterm_and_hides_real_tokens() -> None:
    env = os.environ | {"WISTIA_API_TOKEN": "s3cret-token-value", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.simulator",
            "--port",
            "0",
            "--medias",
            "3",
            "--days",
            "5",
            "--quiet",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "s3cret" not in line
        base_url = line.strip().split("WISTIA_API_BASE_URL=")[1].split()[0]
        response = requests.get(
            f"{base_url}/medias", headers={"Authorization": "Bearer s3cret-token-value"}, timeout=5
        )
        assert response.status_code == 200 and len(response.json()) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "s3cret" not in out + err
