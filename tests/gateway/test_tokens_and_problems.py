"""Bearer JWTs over HTTP, and RFC 9457 problem details naming the offending field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from polis.gateway.security.roles import Role
from polis.gateway.security.tokens import issue_token

from .conftest import Env
from .server import JWT_SECRET

pytestmark = pytest.mark.integration

API = "/api/v1"


def token(**overrides: object) -> str:
    values: dict[str, object] = {
        "subject": "maria",
        "role": Role.FACILITY_MANAGER,
        "issuer": "polis",
        "audience": "polis-gateway",
        "buildings": frozenset({"pool"}),
    }
    values.update(overrides)
    secret = str(values.pop("secret", JWT_SECRET))
    return issue_token(secret, **values)  # type: ignore[arg-type]


def get(env: Env, bearer: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=env.gw.base_url, headers={"Authorization": f"Bearer {bearer}"}) as c:
        return c.get(API + path)


def test_valid_jwt_grants_its_buildings_only(env: Env) -> None:
    assert [b["id"] for b in get(env, token(), "/buildings").json()] == ["pool"]
    assert get(env, token(), "/buildings/town-hall").status_code == 403


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"secret": "another-secret-0123456789abcdef0123456789"}, "token is invalid"),
        ({"issuer": "evil"}, "token issuer is not trusted"),
        ({"audience": "other-service"}, "token audience is not this gateway"),
        ({"now": datetime.now(UTC) - timedelta(hours=3)}, "token expired"),
        ({"buildings": frozenset()}, "token scope invalid"),
    ],
)
def test_bad_jwts_are_refused_with_a_reason(
    env: Env, overrides: dict[str, object], detail: str
) -> None:
    response = get(env, token(**overrides), "/buildings")
    assert response.status_code == 401
    assert response.json()["detail"].startswith(detail)
    assert JWT_SECRET not in response.text


def test_problem_names_the_missing_query_field(env: Env) -> None:
    with env.client("admin") as c:
        response = c.get(f"{API}/readings", params={"start": "2026-03-01T00:00:00Z"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["field"]) == (422, "end")
    assert body["instance"] == "/api/v1/readings"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z", "building": "pool"},
            "end",
        ),
        (
            {"start": "2026-03-01T00:00:00", "end": "2026-03-02T00:00:00Z", "building": "pool"},
            "start",
        ),
        (
            {
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-02T00:00:00Z",
                "building": "pool",
                "window": "fortnight",
            },
            "window",
        ),
        (
            {
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-02T00:00:00Z",
                "building": "pool",
                "cursor": "!!",
            },
            "cursor",
        ),
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, "point"),
        (
            {
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-02T00:00:00Z",
                "building": "pool",
                "limit": "0",
            },
            "limit",
        ),
    ],
)
def test_readings_problems_name_fields(env: Env, params: dict[str, str], field: str) -> None:
    with env.client("admin") as c:
        response = c.get(f"{API}/readings", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_body_problems_name_fields(env: Env) -> None:
    with env.client("neighbourhood_scheme") as c:
        swapped = c.post(
            f"{API}/neighbourhoods/centre/flexibility-requests",
            json={
                "window_start": "2026-03-02T20:00:00Z",
                "window_end": "2026-03-02T17:00:00Z",
                "peak_limit_kw": 10,
            },
        )
        negative = c.post(
            f"{API}/neighbourhoods/centre/flexibility-requests",
            json={
                "window_start": "2026-03-02T17:00:00Z",
                "window_end": "2026-03-02T20:00:00Z",
                "peak_limit_kw": -1,
            },
        )
    assert swapped.status_code == 422
    assert "window_end" in swapped.json()["detail"]
    assert negative.json()["field"] == "peak_limit_kw"


def test_key_scope_is_validated(env: Env) -> None:
    with env.client("admin") as c:
        response = c.post(f"{API}/keys", json={"name": "fm", "role": "facility_manager"})
        unknown = c.post(f"{API}/keys", json={"name": "x", "role": "mayor"})
    assert response.status_code == 422
    assert "buildings" in response.json()["detail"]
    assert unknown.json()["field"] == "role"


def test_unknown_building_is_404_for_admins(env: Env) -> None:
    with env.client("admin") as c:
        response = c.get(f"{API}/buildings/nowhere")
    assert response.status_code == 404
    assert response.json()["field"] == "building"


def test_api_key_also_works_as_a_bearer_token(env: Env) -> None:
    response = get(env, env.keys["energy_department"], "/buildings")
    assert response.status_code == 200
    assert len(response.json()) == 3
