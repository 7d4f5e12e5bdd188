"""Deployment as written works: the compose stack gives both services every setting and
the worker a health check of its own, a plain `docker compose up` is production, the
worker's health command tells the truth, `make prod` refuses settings unfit for
production, and every install (make, CI, the image) comes from the lock files."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import insert

from app.cli import preflight_problems
from app.config import Settings
from app.db.base import utcnow
from app.notifications.models import WorkerHeartbeat
from tests.conftest import TEST_SECRET, TestDatabase, make_settings
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _compose(name: str = "docker-compose.yml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return loaded


def test_both_services_read_every_setting_and_name_the_stack() -> None:
    services = _compose()["services"]
    for name in ("app", "worker"):
        service = services[name]
        assert service["env_file"] == [{"path": ".env", "required": False}], name
        environment = service["environment"]
        assert environment["ENVIRONMENT"] == "production"
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["RATE_LIMIT_STORAGE_URL"] == "redis://redis:6379/0"
        assert environment["OUTBOX_IN_PROCESS"] == "false"
        assert (environment["HOST"], environment["PORT"]) == ("0.0.0.0", "8000")  # noqa: S104
        for key in environment:  # every name the stack sets is a real setting
            assert key.lower() in Settings.model_fields or key == "PROMETHEUS_MULTIPROC_DIR", key
        assert service["pull_policy"] == "build" and service["build"] == "."


def test_every_setting_is_in_the_example_env_file() -> None:
    """What .env can carry to both services: every setting the app reads is listed."""
    example = (ROOT / ".env.example").read_text()
    listed = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line}
    missing = sorted(f.upper() for f in Settings.model_fields if f.upper() not in listed)
    assert missing == [], missing


async def test_metrics_add_up_over_gunicorns_worker_processes(tmp_path: Path) -> None:
    """`make prod` and the image run gunicorn with several processes: /metrics must count
    every process's requests (PROMETHEUS_MULTIPROC_DIR, emptied at start), whichever
    process answers the scrape."""
    port = free_port()
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "left-from-a-previous-run.db").write_bytes(b"stale")
    env = {**os.environ, "ENVIRONMENT": "test", "SECRET_KEY": TEST_SECRET,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", "LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(shared)}  # fmt: skip
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = await asyncio.create_subprocess_exec(
        str(gunicorn), "app.main:create_app()", "-c", "python:app.gunicorn_conf", "-w", "2",
        "-b", f"127.0.0.1:{port}", env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):  # up to 30 s to start
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert not (shared / "left-from-a-previous-run.db").exists()
            pids = set()
            for _ in range(40):  # a new connection each: both processes answer some
                async with httpx.AsyncClient() as fresh:
                    answer = await fresh.get(f"{base}/health", headers={"Connection": "close"})
                    pids.add(answer.headers.get("x-request-id", "")[:16])
            counts = []
            for _ in range(3):
                async with httpx.AsyncClient() as fresh:
                    text = (await fresh.get(f"{base}/metrics")).text
                found = re.search(
                    r'restaurant_http_requests_total\{method="GET",route="/health",'
                    r'status="200"\} ([0-9.]+)', text)  # fmt: skip
                assert found, text[:2000]
                counts.append(float(found.group(1)))
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 15)
    assert len(pids) == 2, "both worker processes answered"
    # Every request counted, whichever process was scraped (the first /health ones too).
    assert counts[0] >= 41 and counts == sorted(counts) and counts[-1] == counts[0]


def test_the_worker_has_its_own_health_check() -> None:
    worker = _compose()["services"]["worker"]
    assert worker["healthcheck"]["test"] == ["CMD", "restaurant", "worker-health"]
    assert worker["command"] == ["restaurant", "worker"]
    assert worker["entrypoint"] == []  # the app's entrypoint migrates; the worker does not


def test_a_plain_compose_up_is_production() -> None:
    """No override file is picked up by default; development is asked for by name."""
    assert not (ROOT / "docker-compose.override.yml").exists()
    dev = _compose("docker-compose.dev.yml")["services"]
    assert dev["app"]["environment"]["ENVIRONMENT"] == "development"


def _worker_health(db: TestDatabase) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": db.url, "SECRET_KEY": TEST_SECRET,
           "OUTBOX_LEASE_SECONDS": "15", "OUTBOX_POLL_SECONDS": "2"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "worker-health"], env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip


async def _beat(db: TestDatabase, age: timedelta) -> None:
    row = {"name": f"{socket.gethostname()}:12345", "beat_at": utcnow() - age}
    async with db.database.engine.begin() as conn:
        await conn.execute(insert(WorkerHeartbeat), [row])


async def test_worker_health_is_its_heartbeat(db: TestDatabase) -> None:
    none = _worker_health(db)
    assert none.returncode == 1 and "no heartbeat" in none.stderr
    await _beat(db, timedelta(minutes=5))
    assert _worker_health(db).returncode == 1  # stale: 5 minutes is past 15 s + 2 polls
    await db.reset()
    await _beat(db, timedelta(seconds=2))
    fresh = _worker_health(db)
    assert fresh.returncode == 0, fresh.stderr


def test_make_prod_refuses_settings_unfit_for_production() -> None:
    development = make_settings("sqlite+aiosqlite:///x.db", environment="development")
    problems = preflight_problems(development, workers=2)
    assert len(problems) == 3
    assert any("ENVIRONMENT=production" in p for p in problems)
    assert any("PostgreSQL" in p for p in problems)
    assert any("RATE_LIMIT_STORAGE_URL=redis://" in p for p in problems)
    ready = Settings(
        _env_file=None,
        environment="production",
        secret_key="k3Jq8vR1xZ_9mWc2TfLp7Hs0BnYd4GaEoUi6-QeVrNt5",
        database_url="postgresql+asyncpg://u:p@db/restaurant",
        rate_limit_storage_url="redis://redis:6379/0",
    )
    assert preflight_problems(ready, workers=4) == []
    makefile = (ROOT / "Makefile").read_text()
    prod = makefile[makefile.index("\nprod:") :].split("\n\n", 1)[0]
    assert "restaurant preflight --workers $(WORKERS)" in prod
    assert prod.index("restaurant preflight") < prod.index("$(BIN)/gunicorn")


def test_preflight_command_says_what_is_wrong() -> None:
    env = {**os.environ, "ENVIRONMENT": "development", "SECRET_KEY": TEST_SECRET,
           "DATABASE_URL": "sqlite+aiosqlite:///unused.db"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "preflight", "--workers", "2"], env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "set ENVIRONMENT=production" in done.stderr


def test_every_install_comes_from_the_lock_files() -> None:
    """make (and so CI) installs requirements/dev.lock with hashes, the image
    requirements/base.lock; both pin every package (==) with its hashes."""
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements/dev.lock" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/base.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    for lock in ("base.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        pins = [line for line in text.splitlines() if line and line[0].isalpha()]
        assert pins and all("==" in pin for pin in pins), lock
        assert "--hash=sha256:" in text
        options = [line for line in text.splitlines() if line.startswith("--")]
        assert options == [] and "file://" not in text  # nothing machine-local
    base = (ROOT / "requirements" / "base.lock").read_text()
    assert "fastapi==" in base and "pytest==" not in base  # the image ships no test tools


def test_the_image_builds_the_web_app_and_serves_it_from_where_it_puts_it() -> None:
    """The image builds web/ from its lock file in a Node.js 20 stage (the lock copied
    before the sources, so a change of code reuses the installed packages), copies only
    the build into the runtime stage, and WEB_DIST_DIR names where it put it; the build
    context leaves out what a local build or test run leaves in web/."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    web_stage = dockerfile.split(" AS web\n", 1)[1].split("\nFROM ", 1)[0]
    assert re.search(r"^FROM node:20\S* AS web$", dockerfile, re.MULTILINE)
    steps = ["COPY web/package.json web/package-lock.json ./", "RUN npm ci",
             "COPY web/ ./", "RUN npm run build"]  # fmt: skip
    assert [web_stage.index(step) for step in steps] == sorted(
        web_stage.index(step) for step in steps
    )
    runtime = dockerfile.split(" AS runtime\n", 1)[1]
    copied = re.findall(r"^COPY --from=web (\S+) (\S+)$", runtime, re.MULTILINE)
    declared = re.search(r"WEB_DIST_DIR=(\S+)", runtime)
    assert declared and copied == [("/web/dist", declared.group(1))]
    ignored = (ROOT / ".dockerignore").read_text().split()
    for left in ("web/node_modules", "web/dist", "web/test-results", "web/playwright-report"):
        assert left in ignored, left
