"""The admin's webhook routes: endpoints made, read, changed, deleted, their secret
shown only when made or rotated; admins only; bad input is a clear 422."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.factories import Headers
from tests.webhooks.conftest import ALL_EVENTS, register

URL = "https://hooks.example.com/restaurant?tenant=7"


async def test_register_list_read_change_delete(client: httpx.AsyncClient, admin: Headers) -> None:
    twice = ["booking.created", "booking.created", "booking.cancelled"]
    made = await register(client, admin, URL, twice, description=" Till ")
    assert made["url"] == URL and made["enabled"] is True and made["description"] == "Till"
    assert made["event_types"] == ["booking.created", "booking.cancelled"]  # once each
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    listed = await client.get("/admin/webhooks", headers=admin)
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()] == [made["id"]]
    assert "secret" not in listed.json()[0]
    one = await client.get(f"/admin/webhooks/{made['id']}", headers=admin)
    assert one.status_code == 200 and "secret" not in one.json()

    changed = await client.patch(
        f"/admin/webhooks/{made['id']}",
        json={"enabled": False, "event_types": ALL_EVENTS, "url": "http://127.0.0.1:9/x"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["enabled"], body["url"], body["description"]) == (False, "http://127.0.0.1:9/x",
                                                                   "Till")  # fmt: skip
    assert body["event_types"] == ALL_EVENTS

    rotated = await client.post(f"/admin/webhooks/{made['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    empty = await client.get(f"/admin/webhooks/{made['id']}/deliveries", headers=admin)
    assert empty.status_code == 200
    assert empty.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}

    assert (await client.delete(f"/admin/webhooks/{made['id']}", headers=admin)).status_code == 204
    for method, path in [
        ("GET", f"/admin/webhooks/{made['id']}"),
        ("PATCH", f"/admin/webhooks/{made['id']}"),
        ("DELETE", f"/admin/webhooks/{made['id']}"),
        ("POST", f"/admin/webhooks/{made['id']}/rotate-secret"),
        ("GET", f"/admin/webhooks/{made['id']}/deliveries"),
        ("GET", f"/admin/webhooks/{made['id']}/deliveries/1"),
        ("POST", f"/admin/webhooks/{made['id']}/deliveries/1/replay"),
    ]:
        response = await client.request(method, path, json={} if method == "PATCH" else None,
                                        headers=admin)  # fmt: skip
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["detail"] == f"Webhook endpoint {made['id']} not found"


async def test_a_delivery_of_another_endpoint_is_not_found(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    one = await register(client, admin, URL)
    path = f"/admin/webhooks/{one['id']}/deliveries/12345"
    for response in (
        await client.get(path, headers=admin),
        await client.post(path + "/replay", headers=admin),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == f"Delivery 12345 of endpoint {one['id']} not found"


ROUTES = [
    ("GET", "/admin/webhooks"),
    ("POST", "/admin/webhooks"),
    ("GET", "/admin/webhooks/1"),
    ("PATCH", "/admin/webhooks/1"),
    ("DELETE", "/admin/webhooks/1"),
    ("POST", "/admin/webhooks/1/rotate-secret"),
    ("GET", "/admin/webhooks/1/deliveries"),
    ("GET", "/admin/webhooks/1/deliveries/1"),
    ("POST", "/admin/webhooks/1/deliveries/1/replay"),
]


async def test_admins_only(
    client: httpx.AsyncClient, admin: Headers, guest: Headers, staff: Headers
) -> None:
    await register(client, admin, URL)  # endpoint 1 exists
    body = {"url": URL, "event_types": ["booking.created"]}
    for method, path in ROUTES:
        json = body if method in ("POST", "PATCH") else None
        anonymous = await client.request(method, path, json=json)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        for who in (guest, staff):
            refused = await client.request(method, path, json=json, headers=who)
            assert refused.status_code == 403, (method, path, refused.text)
            assert refused.json()["detail"] == "Admin role required"
    listed = await client.get("/admin/webhooks", headers=admin)
    assert len(listed.json()) == 1  # nobody else made, changed or deleted one


BAD_URLS = [
    ("ftp://example.com/hooks", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("example.com/hooks", "http:// or https://"),
    ("https://", "needs a host"),
    ("https:///path", "needs a host"),
    ("https://user:pw@example.com/", "user and password"),
    ("https://example.com/#top", "fragment"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com:99999/", "not a URL"),
    ("https://example.com:0/", "between 1 and 65535"),
    ("https://under_score.example/", "not a host name"),
    ("https://[::1/", "not a URL"),
    ("", "at least 1 character"),
    ("https://example.com/" + "a" * 2000, "at most 2000 characters"),
]


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
async def test_a_bad_url_is_a_clear_422(
    client: httpx.AsyncClient, admin: Headers, url: str, says: str
) -> None:
    response = await client.post(
        "/admin/webhooks", json={"url": url, "event_types": ["booking.created"]}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert says in response.text
    assert response.json()["errors"][0]["loc"] == ["body", "url"]


async def test_other_bad_input_is_a_clear_422(client: httpx.AsyncClient, admin: Headers) -> None:
    made = await register(client, admin, URL)
    for body, field in [
        ({"url": URL, "event_types": []}, "event_types"),
        ({"url": URL, "event_types": ["booking.eaten"]}, "event_types"),
        ({"url": URL}, "event_types"),
        ({"url": URL, "event_types": ["booking.created"], "enabled": "yes"}, "enabled"),
        ({"url": URL, "event_types": ["booking.created"], "secret": "whsec_x"}, "secret"),
        ({"url": URL, "event_types": ["booking.created"], "description": "x" * 501},
         "description"),
        ({"url": 7, "event_types": ["booking.created"]}, "url"),
    ]:  # fmt: skip
        response = await client.post("/admin/webhooks", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["loc"][:2] == ["body", field], response.text
    response = await client.patch(f"/admin/webhooks/{made['id']}", json={"url": "gopher://x"},
                                  headers=admin)  # fmt: skip
    assert response.status_code == 422
    response = await client.get(f"/admin/webhooks/{made['id']}/deliveries?status=lost",
                                headers=admin)  # fmt: skip
    assert response.status_code == 422
    assert (await client.get("/admin/webhooks/0", headers=admin)).status_code == 422
    assert (await client.get("/admin/webhooks/99999999999", headers=admin)).status_code == 422
    unchanged = await client.get(f"/admin/webhooks/{made['id']}", headers=admin)
    assert unchanged.json()["url"] == URL
