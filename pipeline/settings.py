"""Typed configuration read from the environment (ARCHITECTURE §3).

Secrets only come from the environment (or `.streamlit/secrets.toml` for the app); they are kept
as `SecretStr` so that a settings object printed in a log never shows them.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the pipeline reads from the environment, with the documented defaults."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    wistia_api_token: SecretStr | None = Field(default=None, alias="WISTIA_API_TOKEN")
    wistia_api_base_url: str = Field(
        default="https://api.wistia.com/modern", alias="WISTIA_API_BASE_URL"
    )
    wistia_api_version: str = Field(default="2026-03", alias="WISTIA_API_VERSION")
    media_ids_raw: str | None = Field(default=None, alias="WVI_MEDIA_IDS")
    data_root: str = Field(default="./data", alias="WVI_DATA_ROOT")

    # Ingestion tuning (documented in the README's configuration table).
    rate_limit_per_minute: int = Field(default=600, alias="WVI_RATE_LIMIT", ge=1)
    rate_window_seconds: float = Field(default=60.0, alias="WVI_RATE_WINDOW", gt=0)
    concurrency: int = Field(default=8, alias="WVI_CONCURRENCY", ge=1, le=64)
    max_attempts: int = Field(default=6, alias="WVI_MAX_ATTEMPTS", ge=1, le=20)
    backoff_base_seconds: float = Field(default=2.0, alias="WVI_BACKOFF_BASE", ge=0)
    backoff_max_seconds: float = Field(default=60.0, alias="WVI_BACKOFF_MAX", ge=0)
    overlap_days: int = Field(default=3, alias="WVI_OVERLAP_DAYS", ge=0)
    backfill_days: int = Field(default=30, alias="WVI_BACKFILL_DAYS", ge=1, le=730)
    silver_db: str = Field(
        default="wistia_silver", alias="WVI_SILVER_DB", pattern=r"^[a-z_][a-z0-9_]*$"
    )
    gold_db: str = Field(default="wistia_gold", alias="WVI_GOLD_DB", pattern=r"^[a-z_][a-z0-9_]*$")
    pii: str = Field(default="masked", alias="WVI_PII", pattern=r"^(masked|raw|hashed)$")
    pii_key: SecretStr | None = Field(default=None, alias="WVI_PII_KEY")
    max_quarantined: int = Field(default=0, alias="WVI_MAX_QUARANTINED", ge=0)
    request_timeout_seconds: float = Field(default=30.0, alias="WVI_REQUEST_TIMEOUT", gt=0)

    # Orchestration (`trigger`, `status`, `runs`): services.control.make_pipeline_control reads
    # the same variables; they are declared here so that they are documented and typed.
    orchestrator: str = Field(default="local", alias="WVI_ORCHESTRATOR")
    glue_workflow: str | None = Field(default=None, alias="WVI_GLUE_WORKFLOW")
    aws_region: str | None = Field(default=None, alias="WVI_AWS_REGION")

    # AWS deployment (`deploy`, pipeline/deploy.py): the stack and where its code is uploaded.
    stack_name: str = Field(default="wistia-insights", alias="WVI_STACK_NAME")
    artifact_bucket: str | None = Field(default=None, alias="WVI_ARTIFACT_BUCKET")
    artifact_prefix: str | None = Field(default=None, alias="WVI_ARTIFACT_PREFIX")

    @field_validator("wistia_api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("orchestrator")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower() or "local"

    def pii_key_value(self) -> str | None:
        """`WVI_PII_KEY` in clear, for the hashed PII mode only (`pii.check_key`)."""
        return self.pii_key.get_secret_value() if self.pii_key else None

    @cached_property
    def media_ids(self) -> tuple[str, ...]:
        """`WVI_MEDIA_IDS` as a tuple; empty means every media of the account."""
        if not self.media_ids_raw:
            return ()
        return tuple(m.strip() for m in self.media_ids_raw.split(",") if m.strip())


def load_settings(**overrides: object) -> Settings:
    """Read the environment; keyword overrides (CLI flags) win over it."""
    settings = Settings()
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
