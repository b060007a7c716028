"""The result of the quality checks of one load date."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Level = Literal["blocking", "warning"]
Status = Literal["pass", "fail", "warn"]


@dataclass
class CheckResult:
    """One check: `status` is "fail" for a failed blocking check, "warn" for a failed warning."""

    name: str
    table: str
    level: Level
    status: Status
    failed: int = 0
    details: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        name: str,
        table: str,
        level: Level,
        failed: int,
        details: str = "",
        sample: list[dict[str, Any]] | None = None,
    ) -> CheckResult:
        status: Status = "pass" if failed == 0 else ("fail" if level == "blocking" else "warn")
        return cls(name, table, level, status, int(failed), details, sample or [])


@dataclass
class QualityReport:
    load_date: str
    checks: list[CheckResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    scope: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no blocking check failed (warnings never block)."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "warn"]

    def finish(self) -> QualityReport:
        self.finished_at = _now()
        return self

    def summary(self) -> str:
        if self.passed:
            checks, warnings = len(self.checks), len(self.warnings)
            return f"quality checks passed ({checks} checks, {warnings} warnings)"
        failed = ", ".join(f"{c.name} on {c.table} ({c.failed})" for c in self.failures)
        return f"quality checks failed: {failed}"

    def raise_for_failures(self) -> None:
        if not self.passed:
            raise QualityCheckFailed(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_date": self.load_date,
            "passed": self.passed,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "scope": self.scope,
            "counts": {
                "checks": len(self.checks),
                "failed": len(self.failures),
                "warnings": len(self.warnings),
            },
            "checks": [asdict(c) for c in self.checks],
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, default=str).encode()


class QualityCheckFailed(RuntimeError):
    """A blocking quality check failed; `.report` holds every result."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__(report.summary())
        self.report = report


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
