"""Settings (app/config.py): the secret key, time zone and CORS origins."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.config import Settings, load_settings
from app.main import create_app
from tests.answers import recording
from tests.conftest import TestDatabase, make_settings


def test_development_key_is_made_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_settings(_env_file=None, environment="development")
    second = load_settings(_env_file=None, environment="development")
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / ".dev-secret-key").read_text().strip() == first.secret_key


@pytest.mark.parametrize("key", ["", "changeme", "short-key"])
def test_production_refuses_a_missing_or_weak_secret(key: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(_env_file=None, environment="production", secret_key=key)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Settings(_env_file=None, restaurant_timezone="Mars/Olympus")


async def test_cors_allows_only_the_configured_origins(db: TestDatabase) -> None:
    settings = make_settings(db.url, cors_origins="https://book.example.com")
    app: FastAPI = create_app(settings, database=db.database)
    transport = httpx.ASGITransport(app=recording(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await client.options(
            "/bookings", headers={"Origin": "https://book.example.com", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://book.example.com"
        other = await client.options(
            "/bookings", headers={"Origin": "https://evil.example.com", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("color", ["red", "#abc", "7a2e1f", "#7a2e1g", "#7a2e1f0", ""])
def test_brand_colour_must_be_six_hex_digits(color: str) -> None:
    with pytest.raises(ValidationError, match="#rrggbb"):
        Settings(_env_file=None, brand_color=color)


def test_brand_colour_is_kept_in_lower_case() -> None:
    assert Settings(_env_file=None, brand_color=" #7A2E1F ").brand_color == "#7a2e1f"


@pytest.mark.parametrize("color", ["#ffffff", "#f5d76e", "#ff9900", "#8a8a8a"])
def test_brand_colour_too_light_to_read_on_white_is_refused(color: str) -> None:
    with pytest.raises(ValidationError, match="too light to read on white"):
        Settings(_env_file=None, brand_color=color)


@pytest.mark.parametrize("color", ["#000000", "#1f4e3d", "#767676"])
def test_brand_colour_readable_on_white_is_kept(color: str) -> None:
    assert Settings(_env_file=None, brand_color=color).brand_color == color


def test_links_point_at_this_service_unless_told_otherwise() -> None:
    """`make run PORT=8170`: the e-mails' links must reach the port it serves on."""
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8000"
    assert Settings(_env_file=None, port=8170).public_base_url == "http://127.0.0.1:8170"
    everywhere = Settings(_env_file=None, host="0.0.0.0", port=80)  # noqa: S104
    assert everywhere.public_base_url == "http://127.0.0.1:80"
    given = Settings(_env_file=None, port=8170, public_base_url="https://book.example.com/")
    assert given.public_base_url == "https://book.example.com"
