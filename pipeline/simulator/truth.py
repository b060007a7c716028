"""The exact totals the simulator serves at its clock, for tests and benchmarks.

Numbers come from the same functions the endpoints call (`SyntheticAccount.day_totals` and
`SyntheticAccount.lifetime`), so by_date's hours_watched equals the truth's bit for bit.
Rows are produced one media-day at a time: memory stays bounded whatever the event volume.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.simulator.account import SyntheticAccount


def params(account: SyntheticAccount) -> dict[str, Any]:
    """The parameters that reproduce the account."""
    return {
        "seed": account.seed,
        "medias": account.media_count,
        "days": account.days,
        "today": account.today.isoformat(),
        "daily_plays": account.daily_plays,
    }


def medias(account: SyntheticAccount) -> list[dict[str, Any]]:
    """The medias that exist at the clock."""
    return [
        {
            "media_id": m.hashed_id,
            "name": m.name,
            "duration_seconds": m.duration,
            "created": m.created_at.isoformat(timespec="seconds"),
        }
        for m in account.visible_medias()
    ]


def iter_media_daily(
    account: SyntheticAccount, start: date | None = None, end: date | None = None
) -> Iterator[dict[str, Any]]:
    """One row per media per day, from creation (or `start`) to the clock (or `end`)."""
    t = account.today.toordinal()
    hi = t if end is None else min(t, end.toordinal())
    for m in account.visible_medias():
        lo = m.created_ord if start is None else max(m.created_ord, start.toordinal())
        for o in range(lo, hi + 1):
            tot = account.day_totals(m.index, o, t)
            yield {"media_id": m.hashed_id, "date": date.fromordinal(o).isoformat()} | (
                tot.as_dict()
            )


def iter_media_lifetime(account: SyntheticAccount) -> Iterator[dict[str, Any]]:
    """Lifetime totals per media at the clock (what /stats/medias/{id} is computed from)."""
    t = account.today.toordinal()
    for m in account.visible_medias():
        life = account.lifetime(m.index, t)
        yield {
            "media_id": m.hashed_id,
            "load_count": life.load_count,
            "play_count": life.play_count,
            "hours_watched": life.hours_watched,
            "unique_visitors": life.unique_visitors,
            "sum_percent_viewed": life.sum_percent_viewed,
            "count_percent_viewed": life.count_percent_viewed,
        }


def build_truth(
    account: SyntheticAccount, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """The whole truth document as a dict."""
    # Lifetimes first: computing them caches every day's totals, so the daily rows are free.
    lifetime = list(iter_media_lifetime(account))
    return {
        "params": params(account),
        "medias": medias(account),
        "media_daily": list(iter_media_daily(account, start, end)),
        "media_lifetime": lifetime,
    }


def write_truth(
    account: SyntheticAccount,
    path: str | Path,
    start: date | None = None,
    end: date | None = None,
) -> Path:
    """Stream the truth document to `path` (JSON) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lifetime = list(iter_media_lifetime(account))  # one row per media; caches the day totals
    with path.open("w", encoding="utf-8") as out:
        out.write('{"params": ' + json.dumps(params(account)))
        out.write(', "medias": ' + json.dumps(medias(account)))
        _write_array(out, "media_daily", iter_media_daily(account, start, end))
        _write_array(out, "media_lifetime", iter(lifetime))
        out.write("}\n")
    return path


def _write_array(out: Any, name: str, rows: Iterator[dict[str, Any]]) -> None:
    out.write(f', "{name}": [')
    for i, row in enumerate(rows):
        out.write(("\n" if i == 0 else ",\n") + json.dumps(row))
    out.write("]")
