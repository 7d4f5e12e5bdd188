from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.fields import Flag
from app.webhooks.models import DeliveryStatus, EventType

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")


def _endpoint_url(value: str) -> str:
    """An http(s) URL with a host, an optional port, path and query; no user, password
    or fragment (the signature is the proof, not credentials in the URL)."""
    url = value.strip()
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("write an http:// or https:// URL, such as https://example.com/hooks")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the URL needs a host, such as https://example.com/hooks")
    if parts.username is not None or parts.password is not None:
        raise ValueError("leave user and password out of the URL: deliveries are signed")
    if parts.fragment or url.endswith("#"):
        raise ValueError("a webhook URL has no #fragment")
    if port == 0:
        raise ValueError("the URL's port must be between 1 and 65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name") from None
    return url


EndpointUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000),
    AfterValidator(_endpoint_url),
    Field(
        description="Where deliveries are POSTed: http or https",
        examples=["https://example.com/hooks/restaurant"],
    ),
]
Description = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


def _distinct(values: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(values))


EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=20, description="The event types it wants (at least one)"),
    AfterValidator(_distinct),
]


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: EndpointUrl
    description: Description = ""
    event_types: EventTypes
    enabled: Flag = True


class WebhookEndpointUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    url: EndpointUrl | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    enabled: Flag | None = None


class WebhookEndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[EventType]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(
        description="The signing secret (whsec_...): shown when the endpoint is made and "
        "when its secret is rotated, never again. The receiver checks each delivery's "
        "webhook-signature with it (Standard Webhooks)."
    )


class WebhookAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None = Field(description="The endpoint's answer; null if unreached")
    error: str | None
    duration_ms: int


class WebhookDeliveryOut(BaseModel):
    id: int
    message_id: str = Field(description="The webhook-id header, the same on every attempt")
    event_type: EventType
    booking_id: int | None
    status: DeliveryStatus
    attempts: int = Field(description="Attempts since it was queued (or last replayed)")
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(description="The JSON body as sent")
    attempt_log: list[WebhookAttemptOut] = Field(description="Every attempt, oldest first")


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryOut]
    total: int
    limit: int
    offset: int
