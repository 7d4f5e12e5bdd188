from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import MAX_ID, AdminUser, IdPath, Now, SessionDep
from app.errors import Forbidden, Unauthorized, responses
from app.webhooks import service
from app.webhooks.exceptions import DeliveryNotFound, DeliveryQueued, EndpointNotFound
from app.webhooks.models import DeliveryStatus
from app.webhooks.schemas import (
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)

router = APIRouter(prefix="/admin/webhooks", tags=["admin"])
ADMIN = responses(Unauthorized, Forbidden)
ONE = {**ADMIN, **responses(EndpointNotFound)}
DELIVERY = {**ADMIN, **responses(DeliveryNotFound)}


@router.get("", response_model=list[WebhookEndpointOut], responses=ADMIN,
            summary="Webhook endpoints (admin)")  # fmt: skip
async def list_webhooks(_admin: AdminUser, session: SessionDep) -> list[WebhookEndpointOut]:
    return [WebhookEndpointOut.model_validate(e) for e in await service.list_endpoints(session)]


@router.post(
    "",
    response_model=WebhookEndpointWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses=ADMIN,
    summary="Register a webhook endpoint (admin); the answer holds its signing secret",
    description="Events: booking.created, booking.changed, booking.cancelled, "
    "booking.seated, booking.no_show, waitlist.offered. Each is POSTed as JSON "
    '`{"type", "timestamp", "data"}`, signed per Standard Webhooks (webhook-id, '
    "webhook-timestamp, webhook-signature) with the secret, which is shown only here "
    "and when rotated.",
)
async def create_webhook(
    data: WebhookEndpointCreate, _admin: AdminUser, session: SessionDep, now: Now
) -> WebhookEndpointWithSecret:
    return await service.create_endpoint(session, data, now=now)


@router.get("/{endpoint_id:int}", response_model=WebhookEndpointOut, responses=ONE,
            summary="One webhook endpoint (admin)")  # fmt: skip
async def get_webhook(
    endpoint_id: IdPath, _admin: AdminUser, session: SessionDep
) -> WebhookEndpointOut:
    return WebhookEndpointOut.model_validate(await service.get_endpoint(session, endpoint_id))


@router.patch("/{endpoint_id:int}", response_model=WebhookEndpointOut, responses=ONE,
              summary="Change a webhook endpoint: only the fields given (admin)")  # fmt: skip
async def update_webhook(
    endpoint_id: IdPath,
    data: WebhookEndpointUpdate,
    _admin: AdminUser,
    session: SessionDep,
    now: Now,
) -> WebhookEndpointOut:
    endpoint = await service.update_endpoint(session, endpoint_id, data, now=now)
    return WebhookEndpointOut.model_validate(endpoint)


@router.delete("/{endpoint_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE,
               summary="Delete a webhook endpoint with its deliveries (admin)")  # fmt: skip
async def delete_webhook(endpoint_id: IdPath, _admin: AdminUser, session: SessionDep) -> Response:
    await service.delete_endpoint(session, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id:int}/rotate-secret",
    response_model=WebhookEndpointWithSecret,
    responses=ONE,
    summary="Give the endpoint a new signing secret, in force at once (admin)",
)
async def rotate_webhook_secret(
    endpoint_id: IdPath, _admin: AdminUser, session: SessionDep, now: Now
) -> WebhookEndpointWithSecret:
    return await service.rotate_secret(session, endpoint_id, now=now)


@router.get(
    "/{endpoint_id:int}/deliveries",
    response_model=WebhookDeliveryPage,
    responses=ONE,
    summary="The endpoint's deliveries, newest first, with their attempts (admin)",
)
async def list_webhook_deliveries(
    endpoint_id: IdPath,
    _admin: AdminUser,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> WebhookDeliveryPage:
    items, total = await service.list_deliveries(
        session, endpoint_id, status=status, limit=limit, offset=offset
    )
    return WebhookDeliveryPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{endpoint_id:int}/deliveries/{delivery_id:int}",
    response_model=WebhookDeliveryOut,
    responses={**ONE, **DELIVERY},
    summary="One delivery with its attempts (admin)",
)
async def get_webhook_delivery(
    endpoint_id: IdPath, delivery_id: IdPath, _admin: AdminUser, session: SessionDep
) -> WebhookDeliveryOut:
    return await service.get_delivery(session, endpoint_id, delivery_id)


@router.post(
    "/{endpoint_id:int}/deliveries/{delivery_id:int}/replay",
    response_model=WebhookDeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**ONE, **DELIVERY, **responses(DeliveryQueued)},
    summary="Send a delivered or failed delivery again, same body and webhook-id (admin)",
)
async def replay_webhook_delivery(
    endpoint_id: IdPath, delivery_id: IdPath, _admin: AdminUser, session: SessionDep, now: Now
) -> WebhookDeliveryOut:
    return await service.replay(session, endpoint_id, delivery_id, now=now)
