from __future__ import annotations

from app.errors import Conflict, NotFound


class EndpointNotFound(NotFound):
    default_message = "Webhook endpoint not found"


class DeliveryNotFound(NotFound):
    default_message = "Webhook delivery not found"


class DeliveryQueued(Conflict):
    default_message = "The delivery is already queued"
