"""Signing per the Standard Webhooks specification, with its maintained library
(`standardwebhooks`): each request carries `webhook-id`, `webhook-timestamp` (Unix
seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`),
keyed with the endpoint's secret (`whsec_` + base64 of 32 random bytes)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from math import floor

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """The `webhook-id` of a delivery: the same for every attempt and replay of it, so a
    receiver can drop one it has already handled."""
    return "msg_" + secrets.token_urlsafe(18)


def headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The headers of one attempt to deliver `body`, signed as of `at`."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }
