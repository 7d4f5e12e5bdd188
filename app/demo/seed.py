"""Demo data for `restaurant seed-demo`: safe to run any number of times."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import security
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.config import Settings

DEMO_STAFF = ("staff@example.com", "staff-password", "Sam Staff")
DEMO_GUEST = ("guest@example.com", "guest-password", "Gina Guest")


async def _ensure_user(
    session: AsyncSession, email: str, password: str, name: str, role: Role, settings: Settings
) -> bool:
    if await auth_service.get_by_email(session, email) is not None:
        return False
    session.add(
        User(
            email=email.lower(),
            name=name,
            role=role,
            hashed_password=await security.hash_password(password, settings.bcrypt_rounds),
        )
    )
    await session.flush()
    return True


async def seed_demo(session: AsyncSession, *, settings: Settings) -> None:
    if await _ensure_user(
        session, settings.admin_email, settings.admin_password, "Demo Admin", Role.admin, settings
    ):
        print(f"Demo admin created: {settings.admin_email} / {settings.admin_password}")
    else:
        print(f"Demo admin exists: {settings.admin_email} (password unchanged)")
    for email, password, name in (DEMO_STAFF,):
        if await _ensure_user(session, email, password, name, Role.staff, settings):
            print(f"Demo staff created: {email} / {password}")
    if await _ensure_user(session, *DEMO_GUEST, Role.customer, settings):
        print(f"Demo guest created: {DEMO_GUEST[0]} / {DEMO_GUEST[1]}")
