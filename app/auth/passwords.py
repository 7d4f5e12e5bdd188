"""What a password must be: 8 characters or more, at most bcrypt's 72 bytes, no control
characters, not one of the 30,000 most common passwords (the list the `zxcvbn` package
ships, collected from breaches), and not the account's own e-mail address."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` cannot be used, in words for the person choosing it; None if it can."""
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in password):
        return "password must not contain control characters (such as NUL or a line break)"
    if len(password) < MIN_PASSWORD_CHARS:
        return f"password must be at least {MIN_PASSWORD_CHARS} characters long"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return (
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 "
            "(bcrypt ignores anything longer)"
        )
    lowered = password.lower()
    if lowered in _common():
        return "password is one of the most commonly used passwords; choose another"
    if email and lowered in {email.lower(), email.lower().split("@", 1)[0]}:
        return "password must not be your e-mail address"
    return None
