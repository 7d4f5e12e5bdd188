"""Demo data for `restaurant seed-demo`: safe to run any number of times."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import security
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.config import Settings
from app.menu.models import MenuItem

DEMO_MENU = [
    # (category, name, price, description)
    ("starters", "Tomato soup", "6.50", "Roast tomato, basil oil, sourdough"),
    ("starters", "Burrata", "9.00", "Heritage tomatoes, olive oil"),
    ("starters", "Salt and pepper squid", "8.50", "Lime mayonnaise"),
    ("starters", "Chicken liver pate", "7.50", "Toasted brioche, chutney"),
    ("starters", "Garlic bread", "4.50", "With or without cheese"),
    ("mains", "Ribeye steak", "28.00", "Chips, peppercorn sauce"),
    ("mains", "Roast chicken", "19.50", "Half chicken, greens, gravy"),
    ("mains", "Fish and chips", "17.00", "Beer-battered haddock, peas"),
    ("mains", "Mushroom risotto", "15.50", "Parmesan, truffle oil"),
    ("mains", "Lamb shank", "22.00", "Mash, red wine jus"),
    ("mains", "Vegan curry", "14.50", "Chickpea, spinach, rice"),
    ("desserts", "Sticky toffee pudding", "7.50", "Vanilla ice cream"),
    ("desserts", "Chocolate tart", "7.00", "Creme fraiche"),
    ("desserts", "Cheese board", "11.00", "Three cheeses, crackers"),
    ("desserts", "Lemon sorbet", "5.50", "Two scoops"),
    ("drinks", "Sparkling water", "3.00", "750 ml"),
    ("drinks", "House red", "6.50", "175 ml glass"),
    ("drinks", "House white", "6.50", "175 ml glass"),
    ("drinks", "Lager", "5.50", "Pint"),
    ("drinks", "Espresso", "2.80", "Double shot"),
]

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
    added = await _ensure_menu(session)
    if added:
        print(f"Demo menu: {added} items added")


async def _ensure_menu(session: AsyncSession) -> int:
    existing = set(await session.scalars(select(MenuItem.name)))
    added = 0
    for position, (category, name, price, description) in enumerate(DEMO_MENU, start=1):
        if name in existing:
            continue
        session.add(
            MenuItem(
                name=name,
                category=category,
                price=Decimal(price),
                description=description,
                position=position * 10,
            )
        )
        added += 1
    await session.flush()
    return added
