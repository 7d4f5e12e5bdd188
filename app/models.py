"""Every model, imported in one place so Alembic sees the whole schema."""

from app.auth.models import RefreshToken, User
from app.db import Base

__all__ = ["Base", "RefreshToken", "User"]
