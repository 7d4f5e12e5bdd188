"""The server under test: one `python -m app.cli serve` process on 127.0.0.1 (and the outbox
worker beside it), started with the bench's settings and stopped by its PID."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.client import HttpConnection, HttpRequest
from bench.common import HOST, PROJECT_ROOT, log

HIGH_LIMIT = "1000000/minute"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One `python -m app.cli serve` process on 127.0.0.1, stopped by its PID."""

    def __init__(
        self, url: str, secret: str, log_path: Path, extra_env: dict[str, str], *, worker: bool
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.with_worker = worker
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "HOST": HOST,
            "PORT": str(self.port),
            "RATE_LIMIT_STORAGE_URL": "memory://",
            "RATE_LIMIT_BOOKING": HIGH_LIMIT,
            "RATE_LIMIT_AVAILABILITY": HIGH_LIMIT,
            "RATE_LIMIT_LOGIN": HIGH_LIMIT,
            # Booking e-mails go to the log (silenced at WARNING), never to an SMTP server or
            # a folder that a developer's .env may name: the bench only talks to 127.0.0.1.
            "SMTP_HOST": "",
            "MAIL_OUTPUT_DIR": "",
            # As docker-compose.yml deploys it: the e-mails go out from `restaurant worker`.
            "OUTBOX_IN_PROCESS": "false" if worker else "true",
            **extra_env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def worker_pid(self) -> int | None:
        return self.worker.pid if self.worker is not None else None

    def start(self) -> None:
        command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST]
        command += ["--port", str(self.port)]
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
            log(f"bench: server pid {self.proc.pid} on http://{HOST}:{self.port}")
            if self.with_worker:
                self.worker = subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
                log(f"bench: outbox worker pid {self.worker.pid}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        request = HttpRequest.get("/health/ready", self.port)
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.worker is not None and self.worker.poll() is not None:
                code = self.worker.returncode
                raise RuntimeError(f"outbox worker exited with {code}:\n{self.log_tail()}")
            conn = HttpConnection(HOST, self.port)
            try:
                async with asyncio.timeout(5):
                    await conn.connect()
                    status, _ = await conn.send(request)
                if status == 200:
                    return
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                pass
            finally:
                await conn.close()
            await asyncio.sleep(0.2)
        raise RuntimeError(f"server not ready after {within:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        for name, proc in (("server", self.proc), ("outbox worker", self.worker)):
            if proc is None or proc.poll() is not None:
                continue
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"bench: {name} pid {proc.pid} ignored SIGTERM for {timeout:.0f} s; killing")
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
            log(f"bench: {name} pid {proc.pid} stopped ({proc.returncode})")
