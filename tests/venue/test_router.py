"""The restaurant's settings (/restaurant, app/venue/router.py and service.py): public
reading, admin writes, partial updates, the contact details an admin sets over the
environment's defaults, and every invalid update refused whole."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.auth.models import Role
from tests.conftest import UserFactory
from tests.factories import WEEKDAYS, Headers, availability


async def current(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/restaurant")
    assert response.status_code == 200, response.text
    return response.json()


async def test_get_restaurant_is_public_and_shows_the_seeded_rules(client: AsyncClient) -> None:
    body = await current(client)
    assert body["opening_hours"] == {
        day: [{"opens": "12:00", "closes": "23:00", "pacing_covers": None}] for day in WEEKDAYS
    }
    assert body["slot_minutes"] == 15
    assert body["durations"] == [
        {"max_party_size": 2, "minutes": 90},
        {"max_party_size": 4, "minutes": 120},
        {"max_party_size": None, "minutes": 150},
    ]
    assert body["lead_minutes"] == 30
    assert body["horizon_days"] == 90
    assert body["max_party_size"] == 12
    assert body["closed_dates"] == []
    assert body["service_charge_percent"] == "0.00"
    assert body["tax_percent"] == "0.00"
    assert body["timezone"] and body["name"]


async def test_put_restaurant_is_admin_only(
    client: AsyncClient, make_user: UserFactory, admin: Headers
) -> None:
    before = await current(client)
    change = {"name": "Not Yours"}

    anonymous = await client.put("/restaurant", json=change)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    for role in (Role.customer, Role.staff):
        _user, headers = await make_user(role)
        denied = await client.put("/restaurant", json=change, headers=headers)
        assert denied.status_code == 403, role
        assert denied.json()["detail"] == "Admin role required"
    assert await current(client) == before

    allowed = await client.put("/restaurant", json=change, headers=admin)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["name"] == "Not Yours"
    assert (await current(client))["name"] == "Not Yours"


async def test_partial_update_keeps_every_other_field(client: AsyncClient, admin: Headers) -> None:
    before = await current(client)
    renamed = await client.put("/restaurant", json={"name": "Chez Test"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    expected = {**before, "name": "Chez Test", "moved": [], "cancelled": []}
    assert {k: v for k, v in renamed.json().items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"
    }

    later = await client.put(
        "/restaurant", json={"lead_minutes": 60, "max_party_size": 8}, headers=admin
    )
    assert later.status_code == 200, later.text
    after = await current(client)
    assert after["name"] == "Chez Test"
    assert after["lead_minutes"] == 60 and after["max_party_size"] == 8
    for key in ("timezone", "opening_hours", "durations", "slot_minutes", "horizon_days"):
        assert after[key] == before[key], key


async def test_opening_hours_replace_the_week_sorted_and_missing_days_close(
    client: AsyncClient, admin: Headers
) -> None:
    hours = {
        "monday": [
            {"opens": "18:00", "closes": "23:00"},
            {"opens": "12:00", "closes": "15:00"},
        ],
        "friday": [{"opens": "17:00", "closes": "24:00"}],
    }
    response = await client.put("/restaurant", json={"opening_hours": hours}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["opening_hours"] == {
        "monday": [
            {"opens": "12:00", "closes": "15:00", "pacing_covers": None},
            {"opens": "18:00", "closes": "23:00", "pacing_covers": None},
        ],
        "friday": [{"opens": "17:00", "closes": "24:00", "pacing_covers": None}],
    }
    tuesday = date.today() + timedelta(days=7 + (1 - date.today().weekday()) % 7)
    closed = await availability(client, tuesday, 2)
    assert closed.status_code == 422
    assert closed.json()["detail"] == f"the restaurant is closed on {tuesday.isoformat()}"


async def test_closed_dates_are_deduplicated_and_sorted(
    client: AsyncClient, admin: Headers
) -> None:
    first, second = date(2030, 1, 2), date(2030, 1, 1)
    response = await client.put(
        "/restaurant",
        json={"closed_dates": [first.isoformat(), second.isoformat(), first.isoformat()]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["closed_dates"] == ["2030-01-01", "2030-01-02"]
    assert (await current(client))["closed_dates"] == ["2030-01-01", "2030-01-02"]


def monday(*services: tuple[str, str]) -> dict[str, Any]:
    return {"opening_hours": {"monday": [{"opens": o, "closes": c} for o, c in services]}}


INVALID_UPDATES = [
    pytest.param(
        monday(("15:00", "12:00")),
        "opening_hours.monday.0: closes (12:00) must be after opens (15:00)",
        id="closes-before-opens",
    ),
    pytest.param(
        monday(("12:00", "12:00")),
        "closes (12:00) must be after opens (12:00)",
        id="closes-equals-opens",
    ),
    pytest.param(
        monday(("12:00", "15:00"), ("14:30", "18:00")),
        "monday: services 12:00-15:00 and 14:30-18:00 overlap",
        id="overlapping-services",
    ),
    pytest.param(
        monday(("12:00", "25:00")),
        "must be a time HH:MM between 00:00 and 24:00",
        id="hour-out-of-range",
    ),
    pytest.param(
        {"opening_hours": {"funday": [{"opens": "12:00", "closes": "15:00"}]}},
        "unknown weekday(s): funday",
        id="unknown-weekday",
    ),
    pytest.param(
        {"timezone": "Mars/Olympus_Mons"},
        "timezone: unknown IANA time zone 'Mars/Olympus_Mons'",
        id="unknown-time-zone",
    ),
    pytest.param(
        {
            "durations": [
                {"max_party_size": 2, "minutes": 90},
                {"max_party_size": 6, "minutes": 120},
            ]
        },
        "exactly one rule must have max_party_size null (larger parties)",
        id="durations-without-open-ended-rule",
    ),
    pytest.param({"durations": []}, "at least one duration rule is needed", id="durations-empty"),
    pytest.param(
        {
            "durations": [
                {"max_party_size": 2, "minutes": 90},
                {"max_party_size": 2, "minutes": 100},
                {"max_party_size": None, "minutes": 150},
            ]
        },
        "max_party_size values must be distinct",
        id="durations-repeat-a-size",
    ),
    pytest.param(
        {"durations": [{"max_party_size": None, "minutes": 721}]},
        "durations.0.minutes: Input should be less than or equal to 720",
        id="duration-too-long",
    ),
    pytest.param(
        {"slot_minutes": 4},
        "slot_minutes: Input should be greater than or equal to 5",
        id="slot-minutes-too-small",
    ),
    pytest.param(
        {"slot_minutes": 241},
        "slot_minutes: Input should be less than or equal to 240",
        id="slot-minutes-too-large",
    ),
    pytest.param(
        {"horizon_days": 731},
        "horizon_days: Input should be less than or equal to 730",
        id="horizon-too-far",
    ),
    pytest.param(
        {"service_charge_percent": "100.01"},
        "service_charge_percent: Input should be less than or equal to 100",
        id="percent-above-100",
    ),
    pytest.param(
        {"tax_percent": "7.125"},
        "tax_percent: Decimal input should have no more than 2 decimal places",
        id="percent-three-decimals",
    ),
    pytest.param({"seats": 40}, "seats: Extra inputs are not permitted", id="unknown-field"),
]


@pytest.mark.parametrize(("payload", "message"), INVALID_UPDATES)
async def test_invalid_update_is_422_and_changes_nothing(
    client: AsyncClient, admin: Headers, payload: dict[str, Any], message: str
) -> None:
    before = await current(client)
    response = await client.put(
        "/restaurant", json={"name": "Should Not Stick", **payload}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert await current(client) == before


@pytest.mark.parametrize(
    ("sent", "shown"),
    [(12.5, "12.50"), ("20", "20.00"), (0, "0.00"), ("100", "100.00"), ("7.05", "7.05")],
)
async def test_money_percents_serialise_as_two_decimal_strings(
    client: AsyncClient, admin: Headers, sent: float | str, shown: str
) -> None:
    response = await client.put(
        "/restaurant",
        json={"service_charge_percent": sent, "tax_percent": sent},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["service_charge_percent"] == shown
    assert response.json()["tax_percent"] == shown
    stored = await current(client)
    assert stored["service_charge_percent"] == shown
    assert stored["tax_percent"] == shown


async def test_restaurant_name_must_be_one_line(client: AsyncClient, admin: Headers) -> None:
    """The name goes into e-mail subjects; a line break would inject headers."""
    response = await client.put(
        "/restaurant", json={"name": "Bistro\nBcc: all@example.com"}, headers=admin
    )
    assert response.status_code == 422 and "one line" in response.json()["detail"]
    assert (await client.get("/restaurant")).json()["name"] == "The Restaurant"


@pytest.fixture
def settings_overrides(
    settings_overrides: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The settings, with what a test's indirect parameter gives."""
    return {**settings_overrides, **getattr(request, "param", {})}


CONTACT = {
    "restaurant_phone": " +44 20 7946 0000 ",
    "restaurant_email": "hello@my-restaurant.example",
    "restaurant_address": "1 High Street, London N1 1AA",
    "restaurant_website": "https://www.my-restaurant.example",
    "brand_color": "#1F4E3D",
}


async def test_a_guest_page_finds_no_contact_and_the_default_colour_unless_set(
    client: AsyncClient,
) -> None:
    body = await current(client)
    assert (body["phone"], body["email"], body["address"], body["website"]) == (None,) * 4
    assert body["brand_color"] == "#7a2e1f"
    assert body["large_party_note"] == ("For more than 12 guests, please contact the restaurant.")


@pytest.mark.parametrize("settings_overrides", [CONTACT], indirect=True)
async def test_a_guest_page_finds_the_contact_details_colour_and_large_party_note(
    client: AsyncClient, admin: Headers
) -> None:
    body = await current(client)
    assert body["phone"] == "+44 20 7946 0000"
    assert body["email"] == "hello@my-restaurant.example"
    assert body["address"] == "1 High Street, London N1 1AA"
    assert body["website"] == "https://www.my-restaurant.example"
    assert body["brand_color"] == "#1f4e3d"
    assert body["large_party_note"] == (
        "For more than 12 guests, please call us on +44 20 7946 0000."
    )
    # The note follows the largest party an admin sets; a change answers with it too.
    changed = await client.patch("/restaurant", json={"max_party_size": 8}, headers=admin)
    assert changed.status_code == 200, changed.text
    note = "For more than 8 guests, please call us on +44 20 7946 0000."
    assert changed.json()["large_party_note"] == note == (await current(client))["large_party_note"]
    assert changed.json()["phone"] == "+44 20 7946 0000"
    assert (await client.patch("/restaurant", json={"max_party_size": 1}, headers=admin)).json()[
        "large_party_note"
    ] == "For more than 1 guest, please call us on +44 20 7946 0000."


@pytest.mark.parametrize(
    "settings_overrides",
    [{**CONTACT, "large_party_note": "  Groups of 13 or more: book our private room.  "}],
    indirect=True,
)
async def test_a_large_party_note_set_is_shown_as_written(client: AsyncClient) -> None:
    assert (await current(client))["large_party_note"] == (
        "Groups of 13 or more: book our private room."
    )


async def test_the_guest_page_fields_are_documented(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    shown = schema["RestaurantSettingsOut"]
    fields = {"phone", "email", "address", "website", "brand_color", "large_party_note"}
    assert fields <= set(shown["required"])
    assert fields <= set(schema["RestaurantSettingsChanged"]["required"])
    for field in ("phone", "email", "address", "website"):
        assert {"type": "null"} in shown["properties"][field]["anyOf"], field


@pytest.mark.parametrize("settings_overrides", [CONTACT], indirect=True)
async def test_an_admin_changes_the_contact_details_and_empty_goes_back_to_the_default(
    client: AsyncClient, admin: Headers
) -> None:
    change = {
        "phone": "020 7946 0111",  # national: read in PHONE_REGION (GB)
        "email": " bookings@new-place.example ",
        "address": "2 Market Square, London N1 2BB",
        "website": "http://new-place.example/eat",
    }
    changed = await client.patch("/restaurant", json=change, headers=admin)
    assert changed.status_code == 200, changed.text
    shown = await current(client)
    for body in (changed.json(), shown):
        assert body["phone"] == "+442079460111"  # E.164
        assert body["email"] == "bookings@new-place.example"
        assert body["address"] == "2 Market Square, London N1 2BB"
        assert body["website"] == "http://new-place.example/eat"
        note = "For more than 12 guests, please call us on +442079460111."
        assert body["large_party_note"] == note
    # Another change leaves them be; PUT changes them like PATCH.
    assert (await client.patch("/restaurant", json={"lead_minutes": 45}, headers=admin)).json()[
        "phone"
    ] == "+442079460111"
    put = await client.put("/restaurant", json={"phone": "+33 1 42 68 53 00"}, headers=admin)
    assert put.status_code == 200 and put.json()["phone"] == "+33142685300"

    cleared = await client.patch(
        "/restaurant", json={"phone": "", "email": "  ", "address": ""}, headers=admin
    )
    assert cleared.status_code == 200, cleared.text
    body = await current(client)
    assert body["phone"] == "+44 20 7946 0000"  # RESTAURANT_PHONE again
    assert body["email"] == "hello@my-restaurant.example"
    assert body["address"] == "1 High Street, London N1 1AA"
    assert body["website"] == "http://new-place.example/eat"  # not asked: kept


async def test_with_no_default_a_cleared_detail_is_null(
    client: AsyncClient, admin: Headers
) -> None:
    set_ = await client.patch("/restaurant", json={"website": "https://x.example"}, headers=admin)
    assert set_.json()["website"] == "https://x.example"
    cleared = await client.patch("/restaurant", json={"website": ""}, headers=admin)
    assert cleared.json()["website"] is None and (await current(client))["website"] is None


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("phone", "12", "not a valid phone number"),
        ("phone", "020 7946 0000 ext. 12", "extension"),
        ("email", "not-an-address", "not an e-mail address"),
        ("email", "a@b", "not an e-mail address"),
        ("address", "x" * 301, "at most 300 characters"),
        ("address", "1 High Street\nBcc: all@example.com", "one line"),
        ("website", "ftp://files.example", "not a web address"),
        ("website", "www.example.com", "not a web address"),
        ("website", "https://", "not a web address"),
        ("website", "https://example.com/" + "a" * 300, "at most 300 characters"),
        ("phone", None, "cannot be null"),
    ],
)
async def test_an_invalid_contact_detail_is_a_422_naming_it_and_changes_nothing(
    client: AsyncClient, admin: Headers, field: str, value: str | None, says: str
) -> None:
    before = await current(client)
    response = await client.patch(
        "/restaurant", json={"name": "Renamed", field: value}, headers=admin
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert says in body["detail"], body
    if value is not None:  # a field's own error is located at it, for a form to show
        assert [e["loc"] for e in body["errors"]] == [["body", field]], body
    assert await current(client) == before
