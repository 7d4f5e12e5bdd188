"""The service as the browser tests meet it: a fresh database (SQLite, or PostgreSQL from
TEST_POSTGRES_URL), migrated and seeded, served by uvicorn on 127.0.0.1, sending its
e-mails to a real SMTP server (aiosmtpd) on a free local port. Each message received is
written to MAIL_DIR as JSON ({to, subject, text}) for the tests to read.

    python web/e2e/server.py --database sqlite --port 8101 --mail-dir web/test-results/mail-sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
E2E_DATABASE = "restaurant_e2e"


class MailDrop:
    """aiosmtpd handler: every message as a JSON file, numbered in arrival order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        self.count += 1
        record = {
            "to": [str(address) for address in envelope.rcpt_tos],
            "subject": " ".join(str(message["Subject"]).split()),
            "text": body.get_content() if body is not None else "",
        }
        path = self.folder / f"{self.count:05d}.json"
        path.with_suffix(".tmp").write_text(json.dumps(record), encoding="utf-8")
        path.with_suffix(".tmp").rename(path)  # whole files only
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def postgres(url: str, name: str, *, keep: bool) -> str:
    """A database beside the one TEST_POSTGRES_URL names: new and empty (dropped first),
    or as another server left it (`keep`, to restart a server on its data)."""
    import asyncpg

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"not a database name: {name!r}")
    if not keep:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
    base, _, _name = url.rpartition("/")
    return f"{base}/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mail-dir", type=Path, required=True)
    parser.add_argument("--name", default=E2E_DATABASE, help="database, or SQLite file stem")
    parser.add_argument("--keep", action="store_true", help="serve the data a previous server left")
    parser.add_argument("--data-dir", type=Path, default=None, help="where the SQLite file lives")
    args = parser.parse_args()

    if args.mail_dir.exists() and not args.keep:
        shutil.rmtree(args.mail_dir)
    args.mail_dir.mkdir(parents=True, exist_ok=True)
    if args.database == "postgres":
        url = os.environ.get("TEST_POSTGRES_URL")
        if not url:
            print("TEST_POSTGRES_URL is not set", file=sys.stderr)
            return 2
        database_url = asyncio.run(postgres(url, args.name, keep=args.keep))
    else:
        folder = args.data_dir or Path(tempfile.mkdtemp(prefix="restaurant-e2e-"))
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / f"{args.name}.db"
        if not args.keep:
            file.unlink(missing_ok=True)
        database_url = f"sqlite+aiosqlite:///{file}"

    from aiosmtpd.controller import Controller

    smtp_port = free_port()
    smtp = Controller(MailDrop(args.mail_dir), hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    os.environ.update(
        {
            "ENVIRONMENT": "development",  # plain http on loopback: no Secure cookie
            "DATABASE_URL": database_url,
            # Servers restarted on one database keep their tokens valid (E2E_SECRET_KEY).
            "SECRET_KEY": os.environ.get("E2E_SECRET_KEY") or secrets.token_urlsafe(32),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "false",
            "OUTBOX_POLL_SECONDS": "0.2",
            "BCRYPT_ROUNDS": "4",
            "RESTAURANT_NAME": "Trattoria Test",
            "RESTAURANT_PHONE": "+44 20 7946 0000",
            "RESTAURANT_EMAIL": "hello@trattoria.example",
            "MAIL_FROM": "Trattoria Test <bookings@trattoria.example>",
            # Many accounts from one address, as the tests make them.
            "RATE_LIMIT_REGISTER": "10000/hour",
            "RATE_LIMIT_LOGIN": "10000/minute",
            "RATE_LIMIT_BOOKING": "10000/minute",
            "RATE_LIMIT_REJECTED": "10000/minute",
            "ADMIN_EMAIL": "admin@example.com",
            "ADMIN_PASSWORD": "admin-password",
            "LOG_LEVEL": "WARNING",
            "FRAME_ANCESTORS": "http://localhost:8109",  # e2e/iframe.spec.ts
        }
    )
    from app.cli import main as restaurant

    try:
        if restaurant(["migrate"]) or restaurant(["seed-demo"]):
            return 1
        return restaurant(["serve", "--host", "127.0.0.1", "--port", str(args.port)])
    finally:
        smtp.stop()


if __name__ == "__main__":
    sys.exit(main())
