"""/docs and /redoc are served by the service itself and work with no network."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.servers import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Every host but loopback unresolvable: the page must not need anything else.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", OFFLINE,
    "--virtual-time-budget=20000", "--dump-dom",
)  # fmt: skip
URL = re.compile(r"""\b(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_reference_pages_name_no_other_host(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "cdn" not in html.lower() and "fonts.googleapis" not in html
    references = URL.findall(html)
    assert references, html
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
    for asset in (r for r in references if r.startswith("/docs/static/")):
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000, asset


async def test_swagger_ui_leaves_the_validator_badge_out(client: httpx.AsyncClient) -> None:
    """Swagger UI's default shows a badge loaded from the online validator's host."""
    assert '"validatorUrl": null' in (await client.get("/docs")).text


def _render(url: str, profile: Path) -> str:
    assert CHROMIUM, "chromium is not installed (apt-get install chromium)"
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize(
    ("page", "rendered"),
    [
        ("/docs", 'class="opblock-summary-description">Book a table'),
        ("/redoc", 'operation/bookings_create"'),
    ],
)
async def test_reference_pages_render_offline_in_chromium(
    app: FastAPI, page: str, rendered: str, tmp_path: Path
) -> None:
    """Chromium, with every host but loopback unreachable, renders the operations."""
    async with live_server(app) as base:
        dom = await asyncio.to_thread(_render, base + page, tmp_path / "profile")
    assert rendered in dom, dom[-3000:]
