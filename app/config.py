"""Settings read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Addresses a server listens on for every interface: a link needs a real one instead.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared, not bound)
INSECURE_SECRET_KEYS = {"", "changeme", "change-me", "secret", "dev", "development"}
DEV_SECRET_FILE = Path(".dev-secret-key")
# The web app's build (`make web` writes web/dist), beside the package in a checkout.
DEFAULT_WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
# An origin: http(s), a host (or [IPv6]), an optional port; no path, query or user.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_ORIGIN = re.compile(rf"https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::\d{{1,5}})?")
_COLOR = re.compile(r"#[0-9a-f]{6}")


def _contrast_on_white(color: str) -> float:
    """WCAG's contrast ratio between `#rrggbb` and white."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./restaurant.db"
    secret_key: str = ""
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=14, ge=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    cors_origins: Annotated[list[str], NoDecode] = []
    restaurant_timezone: str = "Europe/London"
    restaurant_name: str = "The Restaurant"
    # How guests reach the restaurant (every e-mail, GET /restaurant; empty ones left out):
    # the defaults for what an admin sets in the console (app.venue.contact).
    restaurant_phone: str = ""
    restaurant_email: str = ""
    restaurant_address: str = ""
    restaurant_website: str = ""
    # Where guests open links from e-mails (the web app): {PUBLIC_BASE_URL}/manage/...
    # Unset: this service's own address (HOST and PORT; 127.0.0.1 when HOST is a wildcard).
    public_base_url: str = ""
    # Phone numbers written without a country code are read in this region (ISO 3166).
    phone_region: str = "GB"
    # The guest pages' accent colour (#rrggbb), and what they say to a party larger than
    # the restaurant takes online (empty: a sentence made from max_party_size and phone).
    brand_color: str = "#7a2e1f"
    large_party_note: str = ""
    password_reset_minutes: int = Field(default=30, ge=5, le=24 * 60)
    # How long POST /bookings/holds keeps a slot's tables for a guest filling in their
    # details before anyone else may book them.
    slot_hold_minutes: int = Field(default=5, ge=1, le=60)
    # How long a waitlisted guest has to confirm the table offered to them (its hold)
    # before it goes to the next guest waiting.
    waitlist_offer_minutes: int = Field(default=15, ge=1, le=24 * 60)
    rate_limit_storage_url: str = "memory://"
    rate_limit_key_prefix: str = "restaurant"
    # The defaults let twenty staff behind one address work a busy service (see the
    # "Rate limits" section of docs/architecture.md for the numbers).
    rate_limit_login: str = "60/minute"  # failed logins per client address
    rate_limit_login_account: str = "5/minute"  # failed logins per e-mail from one address
    # failed logins per e-mail from anywhere; beyond it its logins are slowed, not refused
    rate_limit_login_email: str = "50/hour"
    rate_limit_booking: str = "30/minute"  # bookings per account (a 422 uses none)
    rate_limit_availability: str = "600/minute"  # availability checks per client address
    rate_limit_register: str = "10/hour"  # new accounts per client address (a 422 uses none)
    rate_limit_password_reset: str = "10/hour"  # reset requests per client address
    # requests refused as invalid (422) on booking, registration and password reset, per
    # client address; once spent those routes refuse the address (429) before any work
    rate_limit_rejected: str = "60/minute"
    admin_email: str = "admin@example.com"
    admin_password: str = "admin-password"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=20, gt=0)
    mail_from: str = "The Restaurant <bookings@example.com>"
    mail_output_dir: str = ""
    reminder_hours: float = Field(default=24, ge=0)
    outbox_in_process: bool = True
    outbox_poll_seconds: float = Field(default=2, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_seconds: float = Field(default=30, gt=0)
    # A claimed e-mail is another dispatcher's to send once its lease runs out; the
    # dispatcher sending it renews the lease every third of it.
    outbox_lease_seconds: float = Field(default=15, gt=0)
    # `restaurant worker`, while the rest of the machine leaves less than a core idle,
    # spends at most this share of a core on sending (app/notifications/pacing.py).
    outbox_cpu_share: float = Field(default=0.1, gt=0, le=1)
    # `restaurant worker` lowers its own CPU priority by this much (os.nice): e-mails are
    # background work, and under a burst the guests' requests go first.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Webhooks (app/webhooks/): how long an endpoint has to answer, how often the
    # dispatcher looks for events, and the retries: doubling from the backoff (at most six
    # hours apart), then the delivery stays failed until an admin replays it.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhook_poll_seconds: float = Field(default=1, gt=0)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_backoff_seconds: float = Field(default=30, gt=0)
    gc_tuning: bool = True
    # The API reference (/docs, /redoc) and /openapi.json; a production site may turn
    # them off.
    api_docs: bool = True
    # GET /metrics: with a token, for a scraper sending it as a bearer token; without,
    # only to clients on this machine.
    metrics_token: str = ""
    # The largest request body accepted (413 beyond it, refused before it is read).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The web app's built files (index.html, assets/), served by this process.
    web_dist_dir: Path = DEFAULT_WEB_DIST
    # Origins whose pages may show the web app's pages in a frame (e.g. the restaurant's
    # own site); none: never framed. The API is never framed.
    frame_ancestors: Annotated[list[str], NoDecode] = []
    # PostgreSQL: keep days ahead in memory, dropped on change via LISTEN/NOTIFY.
    availability_cache: bool = True
    # How often each live stream (kitchen, floor) looks for new events. Its former name,
    # KITCHEN_STREAM_POLL_SECONDS, still works.
    stream_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        le=10,
        validation_alias=AliasChoices("stream_poll_seconds", "kitchen_stream_poll_seconds"),
    )
    # PostgreSQL connections per process. A request finding all of them busy waits for one
    # (up to db_pool_timeout seconds, then 503). Connections beyond the pool (overflow) are
    # opened for one request and closed after it: under sustained load that is a new
    # PostgreSQL backend per request, so the default is none. More connections than the
    # database has cores to run them only add backends competing with the server for the
    # CPU, hence a modest default (the A/B runs are in docs/performance.md).
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("frame_ancestors", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        origins: list[str] = []
        for item in items:
            origin = str(item).strip().lower().removesuffix("/")
            if not origin:
                continue
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{str(item).strip()!r} is not an origin such as "
                    "https://www.my-restaurant.example (http or https, a host, an optional "
                    "port; no path)"
                )
            if origin not in origins:
                origins.append(origin)
        return origins

    @field_validator("web_dist_dir", mode="before")
    @classmethod
    def _dist(cls, value: object) -> object:
        return DEFAULT_WEB_DIST if isinstance(value, str) and not value.strip() else value

    @field_validator("brand_color")
    @classmethod
    def _color(cls, value: str) -> str:
        color = value.strip().lower()
        if not _COLOR.fullmatch(color):
            raise ValueError(f"{value!r} is not a colour written #rrggbb, such as #7a2e1f")
        # The pages write links in it on white: it must be readable there (WCAG AA, 4.5:1).
        if _contrast_on_white(color) < 4.5:
            raise ValueError(
                f"{value!r} is too light to read on white (contrast "
                f"{_contrast_on_white(color):.1f}:1, at least 4.5:1 needed): choose a darker one"
            )
        return color

    @field_validator("restaurant_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (a two-letter code such as GB)")
        return region

    @field_validator("public_base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url:
            return url  # filled in from HOST and PORT below
        if not url.startswith(("http://", "https://")) or "?" in url or "#" in url:
            raise ValueError(f"{value!r} is not an http(s) address such as https://example.com")
        return url

    @model_validator(mode="after")
    def _own_address_by_default(self) -> Settings:
        if not self.public_base_url:
            host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
            host = f"[{host}]" if ":" in host else host
            self.public_base_url = f"http://{host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _require_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key.strip().lower() in INSECURE_SECRET_KEYS
            or len(self.secret_key) < 32
            or not _hard_to_guess(self.secret_key)
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production; make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _hard_to_guess(secret: str) -> bool:
    """At least about 66 bits by zxcvbn's estimate: any random token of 32 characters or
    more passes; a repeated character, a keyboard walk or a few common words do not,
    however long."""
    from zxcvbn import zxcvbn

    return float(zxcvbn(secret[:100])["guesses_log10"]) >= 20


def _development_secret() -> str:
    """A random key made once and kept in a git-ignored file, so tokens survive restarts."""
    if DEV_SECRET_FILE.exists():
        key = DEV_SECRET_FILE.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.write_text(key + "\n")
    DEV_SECRET_FILE.chmod(0o600)
    return key


def load_settings(**overrides: object) -> Settings:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.secret_key:
        settings.secret_key = _development_secret()
    return settings


class ConfigurationError(SystemExit):
    """Raised at start-up for invalid settings: the message is shown, with no traceback."""


@lru_cache
def get_settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise ConfigurationError("Invalid configuration:\n" + "\n".join(lines)) from None
