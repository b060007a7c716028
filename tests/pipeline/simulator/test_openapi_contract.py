"""Every simulator response validates against Wistia's own published OpenAPI documents.

The specs live in ../shared/wistia/ beside the checkout (never copied into the repo); the
tests skip with a reason when that folder is absent. The spec's server is
https://api.wistia.com/modern (or /v1), so each simulator URL is mapped onto it before
openapi-core looks the operation up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from pipeline.simulator import SimulatorServer

from .conftest import TODAY, session_for, small_config

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "wistia"
MODERN_SPEC = SHARED / "openapi-2026-03.yaml"
V1_SPEC = SHARED / "openapi-v1.yaml"
PUBLIC = "https://api.wistia.com"

openapi_core = pytest.importorskip("openapi_core")
from openapi_core import Config, OpenAPI  # noqa: E402
from openapi_core.contrib.requests import (  # noqa: E402
    RequestsOpenAPIRequest,
    RequestsOpenAPIResponse,
)


def _load(path: Path, policy: str = "allow") -> Any:
    if not path.exists():
        pytest.skip(
            f"Wistia's OpenAPI document is not at {path}: contract tests need the shared/ "
            "folder beside the checkout"
        )
    # Wistia's document is the reference here, not the thing under test: skip validating it.
    config = Config(spec_validator_cls=None, additional_properties_default_policy=policy)
    return OpenAPI.from_file_path(str(path), config=config)


@pytest.fixture(scope="module")
def modern() -> Any:
    return _load(MODERN_SPEC)


@pytest.fixture(scope="module")
def modern_strict() -> Any:
    """Extra properties forbidden: catches misspelled fields (unusable with allOf schemas)."""
    return _load(MODERN_SPEC, "forbid")


@pytest.fixture(scope="module")
def v1() -> Any:
    return _load(V1_SPEC)


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(small_config()) as sim:
        yield sim


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with session_for() as session:
        yield session


def _public(response: requests.Response) -> requests.Request:
    """The request as if it had been sent to api.wistia.com (v1 `.json` suffix dropped)."""
    url = urlsplit(response.request.url)
    path = url.path.removesuffix(".json") if url.path.startswith("/v1/") else url.path
    query = f"?{url.query}" if url.query else ""
    return requests.Request("GET", f"{PUBLIC}{path}{query}", headers=dict(response.request.headers))


def check(spec: Any, response: requests.Response) -> Any:
    """Validate one simulator response against `spec`; returns the parsed body."""
    spec.validate_response(
        RequestsOpenAPIRequest(_public(response)), RequestsOpenAPIResponse(response)
    )
    return response.json()


def _properties(spec: Any, path: str, status: str = "200", item: bool = False) -> set[str]:
    schema = spec.spec / "paths" / path / "get" / "responses" / status / "content"
    schema = schema / "application/json" / "schema"
    if item:
        schema = schema / "items"
    parts = list(schema / "allOf") if "allOf" in schema else [schema]
    props = [part / "properties" for part in parts if "properties" in part]
    return {key for p in props for key in p.str_keys()}


MEDIA = "gskhw4w4lm"
STRICT_PATHS = [
    f"/stats/medias/{MEDIA}",
    f"/stats/medias/{MEDIA}/by_date",
    f"/stats/medias/{MEDIA}/by_date?start_date=2026-04-01&end_date={TODAY}",
    f"/stats/medias/{MEDIA}/engagement",
    "/stats/events",
    "/stats/events?per_page=100&page=2",
    f"/stats/events?media_id={MEDIA}&start_date=2026-05-01&end_date=2026-05-10&per_page=50",
    "/stats/events?page=999",
    "/stats/account",
    "/stats/account/by_date?start_date=2026-05-10&end_date=2026-05-20",
]


@pytest.mark.parametrize("path", STRICT_PATHS)
def test_stats_routes_validate_strictly(
    modern_strict: Any, server: SimulatorServer, http: requests.Session, path: str
) -> None:
    response = http.get(server.base_url + path, headers={"X-Wistia-Api-Version": "2026-03"})
    assert response.status_code == 200
    check(modern_strict, response)


def test_numeric_media_id_and_event_show(
    modern_strict: Any, server: SimulatorServer, http: requests.Session
) -> None:
    numeric = server.account.medias[0].id
    check(modern_strict, http.get(f"{server.base_url}/stats/medias/{numeric}"))
    event = http.get(f"{server.base_url}/stats/events", params={"per_page": 1}).json()[0]
    check(modern_strict, http.get(f"{server.base_url}/stats/events/{event['event_key']}"))


def test_events_and_stats_carry_every_declared_field(
    modern: Any, server: SimulatorServer, http: requests.Session
) -> None:
    events = check(modern, http.get(f"{server.base_url}/stats/events"))
    declared = _properties(modern, "/stats/events", item=True)
    assert all(set(event) == declared for event in events)
    stats = check(modern, http.get(f"{server.base_url}/stats/medias/{MEDIA}"))
    assert set(stats) == _properties(modern, "/stats/medias/{mediaId}")
    curve = check(modern, http.get(f"{server.base_url}/stats/medias/{MEDIA}/engagement"))
    assert set(curve) == _properties(modern, "/stats/medias/{mediaId}/engagement")


@pytest.mark.parametrize(
    "path",
    ["/medias", "/medias?page=2&per_page=2&sort_by=updated&sort_direction=0", f"/medias/{MEDIA}"],
)
def test_media_routes_validate(
    modern: Any, server: SimulatorServer, http: requests.Session, path: str
) -> None:
    body = check(modern, http.get(server.base_url + path))
    records = body if isinstance(body, list) else [body]
    template = "/medias" if isinstance(body, list) else "/medias/{mediaHashedId}"
    declared = _properties(modern, template, item=isinstance(body, list))
    assert records and all(set(record) <= declared for record in records)


def test_folder_key_variant_validates(modern: Any, http: requests.Session) -> None:
    with SimulatorServer(small_config(folder_key="hashed_id")) as sim:
        check(modern, http.get(f"{sim.base_url}/medias"))


ERROR_CASES = [
    (401, "/stats/events"),
    (401, f"/stats/medias/{MEDIA}"),
    (401, f"/stats/medias/{MEDIA}/by_date"),
    (401, f"/stats/medias/{MEDIA}/engagement"),
    (401, "/medias"),
    (401, f"/medias/{MEDIA}"),
    (404, "/medias/zzzzzzzzzz"),
    (422, "/stats/events?start_date=2026-02-30"),
    (422, "/stats/events?end_date=tomorrow"),
    (400, "/medias?sort_direction=2"),
]


@pytest.mark.parametrize(("status", "path"), ERROR_CASES)
def test_error_bodies_validate(
    modern: Any, server: SimulatorServer, http: requests.Session, status: int, path: str
) -> None:
    headers = {"Authorization": "Bearer nope"} if status == 401 else {}
    response = http.get(server.base_url + path, headers=headers)
    assert response.status_code == status
    assert "error" in check(modern, response)


def test_chaos_500_validates(modern: Any, http: requests.Session) -> None:
    with SimulatorServer(small_config(chaos=frozenset({"500"}), chaos_rate=1.0)) as sim:
        for path in ("/stats/events", f"/stats/medias/{MEDIA}", "/medias"):
            response = http.get(sim.base_url + path)
            assert response.status_code == 500
            check(modern, response)


@pytest.mark.parametrize(
    "template",
    ["/stats/medias/{mediaId}", "/stats/medias/{mediaId}/by_date", "/stats/events/{eventKey}"],
)
def test_stats_404_is_declared_without_a_body_schema(modern: Any, template: str) -> None:
    """Wistia declares these 404s with no content, so only the status can be checked; the
    simulator still answers {"error": ...} JSON (see test_http)."""
    response = modern.spec / "paths" / template / "get" / "responses" / "404"
    assert not list((response / "content").keys())


def test_the_validator_is_not_vacuous(
    modern: Any, server: SimulatorServer, http: requests.Session
) -> None:
    response = http.get(f"{server.base_url}/stats/events", params={"per_page": 2})
    bad = response.text.replace('"percent_viewed":', '"percent_viewed":"much","was":', 1)
    response._content = bad.encode()
    with pytest.raises(Exception, match="nvalid"):
        check(modern, response)


V1_PATHS = [
    "/v1/medias.json",
    f"/v1/medias/{MEDIA}.json",
    f"/v1/stats/medias/{MEDIA}.json",
    f"/v1/stats/medias/{MEDIA}/by_date.json?start_date=2026-05-01",
    f"/v1/stats/medias/{MEDIA}/engagement.json",
    "/v1/stats/events.json?per_page=20",
    f"/v1/stats/events?media_id={MEDIA}",
]


@pytest.mark.parametrize("path", V1_PATHS)
def test_v1_routes_validate(
    v1: Any, server: SimulatorServer, http: requests.Session, path: str
) -> None:
    response = http.get(server.root_url + path)
    assert response.status_code == 200
    check(v1, response)


@pytest.mark.parametrize(
    ("status", "path"), [(401, "/v1/stats/events.json"), (404, "/v1/medias/zzzzzzzzzz.json")]
)
def test_v1_errors_validate(
    v1: Any, server: SimulatorServer, http: requests.Session, status: int, path: str
) -> None:
    headers = {"Authorization": "Bearer nope"} if status == 401 else {}
    response = http.get(server.root_url + path, headers=headers)
    assert response.status_code == status
    check(v1, response)
