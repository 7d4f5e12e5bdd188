from app.errors import BadRequest, Conflict, InvalidInput, NotFound, Unauthorized


class BadCredentials(Unauthorized):
    default_message = "Incorrect e-mail or password"


class AccountInactive(Unauthorized):
    default_message = "User is inactive or no longer exists"


class InvalidRefreshToken(Unauthorized):
    default_message = "Invalid or expired refresh token"


class UserNotFound(NotFound):
    default_message = "User not found"


class LastAdmin(Conflict):
    default_message = "This is the last active admin; promote another admin first"


class WrongCurrentPassword(InvalidInput):
    default_message = "current_password is missing or incorrect"


class InvalidResetLink(BadRequest):
    default_message = (
        "This password-reset link is invalid, has expired or has been used already; "
        "ask for a new one"
    )
