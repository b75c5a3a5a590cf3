"""Every setting of the platform: its type, default and meaning, read and checked at start.

A value comes from the process environment, else from the ``.env`` file (the one
``NEMORDP_ENV_FILE`` names, else ``./.env`` when present; the test environment reads only a
named one, so the suite never depends on a local file), else from the defaults below. A
secret may instead be given as ``<NAME>_FILE``, the path of a file holding it (systemd
credentials, container secrets). A value of the wrong type or out of range stops start-up
with a message naming the setting: `load()` raises `SettingsError`. Each provider's own
settings (API URL, credentials, throttle) are declared by its client
(`ProviderClient.settings`, found by `workers.providers.registry`) and added here.

`config.py` turns these into the Flask configuration of each environment; `flask config
show` prints the settings in effect (secrets masked) and `flask config example` writes
``.env.example`` from the fields below.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.providers import registry
from workers.providers.base import ProviderClient, ProviderSetting

BASE_DIR = Path(__file__).resolve().parent

# A secret: never shown, and may be read from the file <NAME>_FILE names.
SECRET: JsonDict = {"secret": True}
# A URL that may carry a password: shown with the password masked, and may be read from a file.
URL_WITH_PASSWORD: JsonDict = {"url_with_password": True}
MASK = "********"

# The setting's key in the Flask configuration, where it is not the setting's own name.
FLASK_KEYS = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


class SettingsError(RuntimeError):
    """The settings cannot be used; the message names each setting at fault."""


def _rate_limit(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            "not a rate limit: write it like '10 per minute; 100 per hour' or '25/second'"
        ) from None
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


class _CommonSettings(BaseSettings):
    """The settings up to the providers'; each provider's client declares its own
    (`ProviderClient.settings`), which come next, then those of `Settings`."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,  # `NAME=` (as in an env file template) means the default
        extra="ignore",  # the .env file may hold other programs' variables
        validate_default=True,
    )

    NEMORDP_VAR_DIR: Path = Field(
        BASE_DIR / "var",
        description="Local state: development's SQLite database and generated secrets.",
    )

    SECRET_KEY: str = Field(
        "",
        description="Signs sessions and CSRF tokens; production: 32+ random characters "
        "(development generates one once in var/secret.key).",
        json_schema_extra=SECRET,
    )
    ENCRYPTION_KEYS: str = Field(
        "",
        description="Fernet keys, comma-separated, newest first: the first encrypts secrets at "
        "rest, all decrypt (`flask keys generate`; development generates one in var/).",
        json_schema_extra=SECRET,
    )

    DATABASE_URL: str = Field(
        "",
        description="SQLAlchemy URL of the PostgreSQL database; required in production. "
        "Development without one: SQLite in NEMORDP_VAR_DIR; test: "
        "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_test.",
        json_schema_extra=URL_WITH_PASSWORD,
    )
    DB_POOL_SIZE: PositiveInt = Field(
        20, description="PostgreSQL connections each process keeps open."
    )
    DB_MAX_OVERFLOW: NonNegativeInt = Field(
        30, description="Connections a process may open beyond the pool under load."
    )
    DB_POOL_RECYCLE: int = Field(
        3600, description="Seconds after which a pooled connection is replaced (-1: never)."
    )
    DB_PREPARED_STATEMENTS: bool = Field(
        True,
        description="Whether psycopg prepares statements run often; false behind PgBouncer in "
        "transaction mode before 1.21 or without max_prepared_statements.",
    )

    REDIS_URL: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis: Celery's broker and result store, cache, rate limits, beat. "
        "redis://[[user]:password@]host[:port][/db], rediss:// for TLS, or through Sentinels: "
        "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db] "
        "(rediss+sentinel:// for TLS); the other Redis URLs take the same forms.",
        json_schema_extra=URL_WITH_PASSWORD,
    )
    CELERY_BROKER_URL: str = Field(
        "", description="Celery's broker (empty: REDIS_URL).", json_schema_extra=URL_WITH_PASSWORD
    )
    CELERY_RESULT_BACKEND: str = Field(
        "",
        description="Celery's result store (empty: REDIS_URL).",
        json_schema_extra=URL_WITH_PASSWORD,
    )
    CELERY_VISIBILITY_TIMEOUT: PositiveInt = Field(
        7200,
        description="Seconds before Redis redelivers an unacknowledged task; keep it above "
        "the longest retry delay.",
    )
    CELERY_TASK_TIME_LIMIT: PositiveInt = Field(
        120, description="Hard time limit of every task, seconds."
    )
    REDIS_CONNECT_TIMEOUT: PositiveFloat = Field(
        0.5, description="Seconds to connect to Redis (broker, results, cache, beat, health)."
    )
    REDIS_SOCKET_TIMEOUT: PositiveFloat = Field(
        1.0, description="Seconds one Redis command may take."
    )
    REDIS_SENTINEL_PASSWORD: str = Field(
        "",
        description="Password of the Sentinels of a redis+sentinel:// URL (empty: none; the "
        "URL's password is the master's).",
        json_schema_extra=SECRET,
    )
    REDIS_TLS_CA_PATH: str = Field(
        "",
        description="CA certificates that check a rediss:// server's certificate (empty: the "
        "system's).",
    )
    REDIS_TLS_CERT_PATH: str = Field(
        "", description="Client certificate sent to a rediss:// server (empty: none)."
    )
    REDIS_TLS_KEY_PATH: str = Field(
        "", description="Private key of REDIS_TLS_CERT_PATH (empty: in that file)."
    )

    MAX_CONTENT_LENGTH: PositiveInt = Field(
        1024 * 1024, description="Largest request body, bytes (larger: 413)."
    )
    SESSION_COOKIE_SECURE: bool = Field(
        False, description="Secure flag on the session cookie (production: always true)."
    )
    LOGIN_LIFETIME_HOURS: PositiveInt = Field(
        24, description="Hours a sign-in without remember-me lasts on the server."
    )
    REMEMBER_ME_DAYS: PositiveInt = Field(
        30, description="Days a sign-in with remember-me (and its cookie) lasts."
    )
    PUBLIC_BASE_URL: str = Field(
        "http://127.0.0.1:8000",
        description="The platform's address: links in e-mails, Stripe's return pages.",
    )

    MAIL_SERVER: str = Field("127.0.0.1", description="SMTP server.")
    MAIL_PORT: int = Field(1025, ge=1, le=65535, description="SMTP port.")
    MAIL_USE_TLS: bool = Field(False, description="Whether SMTP starts TLS.")
    MAIL_USERNAME: str = Field("", description="SMTP user (empty: no login).")
    MAIL_PASSWORD: str = Field("", description="SMTP password.", json_schema_extra=SECRET)
    MAIL_TIMEOUT: PositiveFloat = Field(10.0, description="Seconds per SMTP connection.")
    MAIL_FROM: str = Field(
        "NemoRDP <no-reply@nemordp.local>", description="Sender of every e-mail."
    )
    SUPPORT_EMAIL: str = Field(
        "support@nemordp.local", description="Where new support tickets are e-mailed."
    )
    ALERT_EMAIL: str = Field(
        "ops@nemordp.local", description="Where alerts and urgent tickets are e-mailed."
    )

    PROVIDER_TIMEOUT: PositiveFloat = Field(10.0, description="Seconds per provider request.")


def provider_fields(clients: Iterable[type[ProviderClient]]) -> dict[str, Any]:
    """The settings the clients declare, as fields of a settings class. Each name starts
    with its provider's, so none can take the place of another setting."""
    fields: dict[str, Any] = {}
    for client in clients:
        for setting in client.settings:
            prefix = f"{client.name.upper()}_"
            if not setting.name.startswith(prefix):
                raise ValueError(f"{setting.name}: {client.title}'s settings start with {prefix}")
            fields[setting.name] = _field(setting)
    return fields


def _field(setting: ProviderSetting) -> tuple[Any, Any]:
    """The setting as `create_model` takes a field: its type and its ``Field``."""
    extra = SECRET if setting.secret else None
    info = Field(setting.default, description=setting.description, json_schema_extra=extra)
    return RateLimit if setting.rate_limit else str, info


# The providers' settings are found at run time, between the common ones and the rest (the
# order of `flask config show` and .env.example); the type checker sees the common ones.
if TYPE_CHECKING:
    _WithProviders = _CommonSettings
else:
    _WithProviders = create_model(
        "_WithProviders",
        __base__=_CommonSettings,
        **provider_fields(registry.CLIENT_CLASSES.values()),
    )


class Settings(_WithProviders):
    """Every setting and its default; the classes below change a few defaults per environment."""

    STRIPE_SECRET_KEY: str = Field(
        "",
        description="Stripe API key; production: required, never a published value "
        "(development and test: the local Stripe's sk_test_local).",
        json_schema_extra=SECRET,
    )
    STRIPE_WEBHOOK_SECRET: str = Field(
        "",
        description="Signing secret of the webhook endpoint, whsec_…; production: required "
        "(development generates one in var/).",
        json_schema_extra=SECRET,
    )
    STRIPE_API_BASE: str = Field(
        "", description="Stripe API address (empty: Stripe itself; locally the local Stripe)."
    )
    STRIPE_TIMEOUT: PositiveFloat = Field(10.0, description="Seconds per Stripe request.")
    STRIPE_MAX_NETWORK_RETRIES: NonNegativeInt = Field(
        2, description="Retries of a Stripe request (same idempotency key) on network errors."
    )
    PAYMENT_GRACE_SECONDS: NonNegativeInt = Field(
        3 * 24 * 3600,
        description="After a failed payment, the machine is suspended once this has passed.",
    )
    SUSPEND_OVERDUE_INTERVAL: PositiveFloat = Field(
        600.0, description="Seconds between sweeps of overdue machines and unpaid orders."
    )
    INVOICE_SYNC_INTERVAL: PositiveFloat = Field(
        3600.0, description="Seconds between heals of the billing mirror from Stripe."
    )
    INVOICE_SYNC_DAYS: PositiveInt = Field(
        35, description="How many days back the sync pulls invoices."
    )
    WEBHOOK_RESEND_AFTER_SECONDS: NonNegativeInt = Field(
        300,
        description="A stored Stripe event still unprocessed this long (its task was lost) "
        "is sent again by the sync.",
    )
    UNPAID_ORDERS_MAX: PositiveInt = Field(
        3, description="Unpaid orders one account may hold open (409 beyond)."
    )
    UNPAID_ORDER_MINUTES: int = Field(
        60,
        ge=30,
        le=1440,
        description="Minutes an unpaid order and its payment page stay open (Stripe's bounds).",
    )

    PROVISION_DEADLINE_SECONDS: PositiveInt = Field(
        30 * 60, description="A new machine not active by then fails and is destroyed."
    )
    ACTION_DEADLINE_SECONDS: PositiveInt = Field(
        10 * 60, description="A power action or resize not done by then fails."
    )
    STATUS_CHECK_INTERVAL: PositiveFloat = Field(
        10.0, description="Seconds between looks at a machine being built or changed."
    )
    FIRST_CHECK_DELAY: NonNegativeFloat = Field(
        30.0, description="Seconds before the first look at a new machine (it needs to boot)."
    )
    RDP_PORT: int = Field(
        3389, ge=1, le=65535, description="Port where a machine's Remote Desktop must answer."
    )
    RDP_PROBE_TIMEOUT: PositiveFloat = Field(
        3.0, description="Seconds the Remote Desktop probe waits."
    )
    CONSOLE_URL: str = Field(
        "/console/",
        description="Where browsers reach the console gateway's WebSocket: a path on this "
        "site (nginx forwards it) or a ws:// or wss:// address.",
    )
    CONSOLE_BIND: str = Field(
        "127.0.0.1:8765", description="host:port the console gateway listens on."
    )
    CONSOLE_TICKET_SECONDS: PositiveInt = Field(
        30, description="Seconds a console ticket may wait to be used (once)."
    )
    CONSOLE_IDLE_SECONDS: PositiveInt = Field(
        900, description="A console with no keyboard or mouse input this long is closed."
    )
    CONSOLE_MAX_PER_CUSTOMER: PositiveInt = Field(
        3, description="Consoles one customer may have open at once, over every gateway."
    )
    CONSOLE_CONNECT_TIMEOUT: PositiveFloat = Field(
        15.0, description="Seconds the gateway waits for a machine's Remote Desktop logon."
    )
    PROVIDER_RETRY_MAX: NonNegativeInt = Field(
        8, description="Retries of a transient provider, Stripe or SMTP failure."
    )
    PROVIDER_RETRY_BASE: PositiveFloat = Field(
        2.0, description="Base of the exponential retry backoff, seconds (with jitter)."
    )
    PROVIDER_RETRY_CAP: PositiveFloat = Field(300.0, description="Longest retry backoff, seconds.")

    USAGE_POLL_INTERVAL: PositiveFloat = Field(
        15 * 60.0, description="Seconds between usage polling rounds."
    )
    USAGE_POLL_BATCH: PositiveInt = Field(100, description="Machines per usage polling task.")
    USAGE_ACTIVITY_BYTES: NonNegativeInt = Field(
        5_000_000,
        description="Traffic growth between two polls that counts as someone using a machine "
        "without an agent.",
    )
    IDLE_CHECK_INTERVAL: PositiveFloat = Field(
        5 * 60.0, description="Seconds between idle auto-shutdown checks."
    )
    IDLE_STOP_BATCH: PositiveInt = Field(
        500, description="Most idle machines stopped per check; the rest wait for the next."
    )
    RECONCILE_INTERVAL: PositiveFloat = Field(
        60 * 60.0, description="Seconds between reconciliations with the providers."
    )
    RECONCILE_GRACE_SECONDS: NonNegativeInt = Field(
        6 * 3600,
        description="A machine with our label that nothing accounts for is destroyed after this.",
    )
    INSTALL_ID: str = Field(
        "",
        description="This installation's name in machine labels (nemordp-<INSTALL_ID>-<id>), 4-16 "
        "lowercase letters and digits; required in production (development makes one in var/).",
    )
    RECONCILE_DESTROY: bool = Field(
        True, description="Whether reconciliation may destroy orphans at all (staging: false)."
    )
    RECONCILE_DESTROY_MAX: NonNegativeInt = Field(
        5, description="Most orphans destroyed per provider and pass (or the share below)."
    )
    RECONCILE_DESTROY_MAX_PERCENT: float = Field(
        1.0,
        ge=0,
        le=100,
        description="Most orphans destroyed per pass as a percentage of the install's machines "
        "there, when larger than RECONCILE_DESTROY_MAX.",
    )
    STUCK_JOB_SWEEP_INTERVAL: PositiveFloat = Field(
        5 * 60.0, description="Seconds between sweeps for stuck jobs."
    )
    STUCK_JOB_GRACE_SECONDS: NonNegativeInt = Field(
        300, description="How far past its deadline a job counts as stuck, seconds."
    )
    STUCK_JOB_MAX_RESENDS: NonNegativeInt = Field(
        3, description="Times a stuck job is sent again before it is failed."
    )
    STUCK_JOB_UNSENT_GRACE_SECONDS: NonNegativeInt = Field(
        60, description="A job never handed to the broker (it was down) is sent after this."
    )
    BEAT_KEY_PREFIX: str = Field(
        "nemordp:beat", description="Redis key prefix of beat's schedule and lock."
    )
    BEAT_LOCK_TIMEOUT: PositiveInt = Field(
        10, description="Seconds before a dead beat's lock passes to a standby."
    )
    BEAT_MAX_LOOP_INTERVAL: PositiveInt = Field(2, description="Longest beat sleep, seconds.")
    AGENT_API_URL: str = Field(
        "", description="Where machines' agents report (empty: PUBLIC_BASE_URL)."
    )
    AGENT_HEARTBEAT_MINUTES: PositiveInt = Field(
        5, description="Minutes between an agent's heartbeats."
    )

    HEALTH_CHECK_TIMEOUT: PositiveFloat = Field(
        1.0, description="Seconds each /api/health check may take."
    )
    HEALTH_CACHE_SECONDS: NonNegativeFloat = Field(
        10.0,
        description="Seconds /api/health reuses its checks of workers, broker, providers, Stripe.",
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Least severe log level written."
    )
    LOG_JSON: bool = Field(
        True,
        description="JSON log lines with request, user, task and job ids (development: "
        "plain text).",
    )
    SENTRY_DSN: str = Field(
        "", description="Error tracking DSN (empty: off).", json_schema_extra=SECRET
    )
    SENTRY_TRACES_SAMPLE_RATE: float = Field(
        0.0, ge=0, le=1, description="Share of requests and tasks traced for performance."
    )
    PROMETHEUS_MULTIPROC_DIR: str = Field(
        "",
        description="Emptied directory where web and worker processes write metrics; must be "
        "in the process environment, not only in .env (empty: one process, its own).",
    )
    METRICS_TOKEN: str = Field(
        "", description="Bearer token /metrics scrapes must send.", json_schema_extra=SECRET
    )
    METRICS_ALLOWED_NETWORKS: str = Field(
        "",
        description="Comma-separated CIDRs /metrics scrapes must come from (with no token nor "
        "network, /metrics is closed in production).",
    )

    ALERT_WINDOW_SECONDS: PositiveInt = Field(
        3600, description="One alert mail per incident per this many seconds."
    )
    ALERT_CHECK_INTERVAL: PositiveFloat = Field(60.0, description="Seconds between alert checks.")
    ALERT_QUEUE_BACKLOG: PositiveInt = Field(
        500, description="A queue holding more waiting tasks than this is alerted."
    )
    ALERT_FAILURE_RATE: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Share of provisioning orders failing in the window that is alerted.",
    )
    ALERT_FAILURE_WINDOW_SECONDS: PositiveInt = Field(
        1800, description="Window of the provisioning failure rate, seconds."
    )
    ALERT_FAILURE_MIN_JOBS: PositiveInt = Field(
        4, description="Orders that must have ended in the window before the rate counts."
    )

    RATELIMIT_GLOBAL: RateLimit = Field(
        "100 per minute",
        description="Every route, per client (account, else address) and route group.",
    )
    RATELIMIT_AUTH_PER_ADDRESS: RateLimit = Field(
        "10 per minute; 100 per hour",
        description="Routes that check a password or a code, per address.",
    )
    RATELIMIT_AUTH_PER_ACCOUNT: RateLimit = Field(
        "5 per minute; 30 per hour",
        description="Routes that check a password or a code, per account.",
    )
    RATELIMIT_STORAGE_URI: str = Field(
        "",
        description="Where the limits count (empty: REDIS_URL).",
        json_schema_extra=URL_WITH_PASSWORD,
    )

    PROXY_TRUSTED_NETWORKS: str = Field(
        "",
        description="Comma-separated CIDRs of the proxies in front; X-Forwarded-* headers "
        "from any other peer are ignored.",
    )
    PROXY_FIX_FOR: NonNegativeInt = Field(
        0, description="Trusted proxies setting X-Forwarded-For (0: ignored)."
    )
    PROXY_FIX_PROTO: NonNegativeInt = Field(
        0, description="Trusted proxies setting X-Forwarded-Proto (0: ignored)."
    )
    PROXY_FIX_HOST: NonNegativeInt = Field(
        0, description="Trusted proxies setting X-Forwarded-Host (0: ignored)."
    )
    PROXY_FIX_PORT: NonNegativeInt = Field(
        0, description="Trusted proxies setting X-Forwarded-Port (0: ignored)."
    )
    PROXY_FIX_PREFIX: NonNegativeInt = Field(
        0, description="Trusted proxies setting X-Forwarded-Prefix (0: ignored)."
    )
    FORCE_HTTPS: bool = Field(
        False,
        description="Redirect plain HTTP to HTTPS and send HSTS (production default: true).",
    )
    HSTS_MAX_AGE: NonNegativeInt = Field(
        365 * 24 * 3600, description="HSTS max-age sent over HTTPS, seconds."
    )

    SLOW_REQUEST_MS: NonNegativeFloat = Field(
        1000.0, description="Requests slower than this are logged with their request id."
    )
    COMPRESS_MIN_SIZE: NonNegativeInt = Field(
        500, description="Smallest response compressed, bytes."
    )
    CACHE_REDIS_URL: str = Field(
        "",
        description="Redis of the cache of read-mostly data (empty: REDIS_URL).",
        json_schema_extra=URL_WITH_PASSWORD,
    )
    CACHE_TTL: PositiveInt = Field(300, description="Seconds a cache entry lives.")


class DevelopmentSettings(Settings):
    LOG_JSON: bool = False


class TestSettings(Settings):
    # Published values: the test environment serves only this machine (config.TestConfig).
    STRIPE_SECRET_KEY: str = "sk_test_local"
    ENCRYPTION_KEYS: str = "r9cbyqBgW0lBZAkb4oXb_7Vd6F9QoHJ1T3g8nW1Xk2Y="
    DATABASE_URL: str = "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_test"
    INSTALL_ID: str = "test"
    # The suite signs up hundreds of customers from 127.0.0.1: the limiter stays on, with
    # limits no test reaches; tests/hardening checks the production numbers.
    RATELIMIT_GLOBAL: RateLimit = "100000 per minute"
    RATELIMIT_AUTH_PER_ADDRESS: RateLimit = "100000 per minute"
    RATELIMIT_AUTH_PER_ACCOUNT: RateLimit = "1000 per minute"


class ProductionSettings(Settings):
    FORCE_HTTPS: bool = True


# Fields of Settings that open a section of .env.example, and its title.
SECTIONS = {
    "NEMORDP_VAR_DIR": "Local state",
    "SECRET_KEY": "Secrets",
    "DATABASE_URL": "Database",
    "REDIS_URL": "Redis and Celery",
    "MAX_CONTENT_LENGTH": "Web",
    "MAIL_SERVER": "Mail",
    "PROVIDER_TIMEOUT": "Providers",
    "STRIPE_SECRET_KEY": "Billing (Stripe)",
    "PROVISION_DEADLINE_SECONDS": "Provisioning and actions",
    "USAGE_POLL_INTERVAL": "Scheduled work",
    "HEALTH_CHECK_TIMEOUT": "Health, logs and metrics",
    "ALERT_WINDOW_SECONDS": "Alerts",
    "RATELIMIT_GLOBAL": "Rate limits",
    "PROXY_TRUSTED_NETWORKS": "HTTPS behind a proxy",
    "SLOW_REQUEST_MS": "Performance",
}

S = TypeVar("S", bound=Settings)


def _flag(field: FieldInfo, flag: str) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(flag))


def is_secret(name: str) -> bool:
    """Whether the setting's value is never shown."""
    field = Settings.model_fields.get(name)
    return field is not None and _flag(field, "secret")


def from_file_allowed(name: str) -> bool:
    """Whether the setting may be given as ``<NAME>_FILE``."""
    return _from_file(Settings.model_fields[name])


def _from_file(field: FieldInfo) -> bool:
    return _flag(field, "secret") or _flag(field, "url_with_password")


def env_file() -> Path | None:
    """The .env file to read: NEMORDP_ENV_FILE, else ./.env when present (not under test)."""
    named = os.environ.get("NEMORDP_ENV_FILE")
    if named:
        if not Path(named).is_file():
            raise SettingsError(f"NEMORDP_ENV_FILE: {named} is not a file")
        return Path(named)
    local = Path(".env")
    if os.environ.get("NEMORDP_ENV") != "test" and local.is_file():
        return local
    return None


def given(path: Path | None) -> dict[str, str]:
    """Every non-empty variable of the env file and the environment; the environment wins."""
    values = {k: v for k, v in dotenv_values(path).items() if v} if path else {}
    values.update({k: v for k, v in os.environ.items() if v})
    return values


def _from_files(settings_class: type[Settings], values: Mapping[str, str]) -> dict[str, str]:
    """The secrets given as ``<NAME>_FILE``: each file's content, stripped."""
    found: dict[str, str] = {}
    for name, field in settings_class.model_fields.items():
        path = values.get(f"{name}_FILE")
        if not path or not _from_file(field):
            continue
        if values.get(name):
            raise SettingsError(f"{name} and {name}_FILE are both set: keep one")
        try:
            found[name] = Path(path).read_text().strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return found


def _explain(error: ValidationError) -> str:
    """One line per refused value, naming the setting; a secret or URL is never repeated."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "settings"
        message = problem["msg"].removeprefix("Value error, ")
        hidden = name in Settings.model_fields and from_file_allowed(name)
        got = "" if hidden else f" (got {problem['input']!r})"
        lines.append(f"  {name}: {message[:1].lower()}{message[1:]}{got}")
    return "invalid settings:\n" + "\n".join(lines)


def load(settings_class: type[S], path: Path | None) -> S:
    """The settings from the environment, the env file at ``path`` and secret files."""
    files = _from_files(settings_class, given(path))
    # Called untyped: the fields' signature has no place for the env file or file values.
    read: Callable[..., S] = settings_class
    try:
        return read(_env_file=path, **files)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path) and value.is_relative_to(BASE_DIR):
        return f"./{value.relative_to(BASE_DIR)}"
    return str(value)


def _masked_url(value: str) -> str:
    parts = urlsplit(value)
    if "://" not in value or not parts.password:
        return value
    user_info, _, host = parts.netloc.rpartition("@")
    netloc = f"{user_info.split(':', 1)[0]}:{MASK}@{host}"
    return parts._replace(netloc=netloc).geturl()


def shown(name: str, value: Any) -> str:
    """A setting's value as ``flask config show`` prints it: secrets and passwords masked."""
    if is_secret(name):
        return MASK if value else ""
    return _masked_url(_text(value))


def in_effect(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Each setting's name and its masked value in a Flask configuration."""
    for name in Settings.model_fields:
        yield name, shown(name, config[FLASK_KEYS.get(name, name)])


def _kind(name: str, field: FieldInfo) -> str:
    """The value a setting takes, in words: its type, bounds, and where a secret may come from."""
    if get_origin(field.annotation) is Literal:
        kind = "one of " + ", ".join(get_args(field.annotation))
    else:
        kinds: dict[Any, str] = {int: "integer", float: "number", bool: "true or false"}
        kind = kinds.get(field.annotation, "path" if field.annotation is Path else "text")
    for rule in field.metadata:
        for bound, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if hasattr(rule, bound):
                kind += f", {sign} {getattr(rule, bound)}"
    if from_file_allowed(name):
        kind += f"; or {name}_FILE, a file holding it"
    return kind


EXAMPLE_HEADER = """\
# NemoRDP settings: every one, with its meaning, type and default. Written by
# `flask config example` from settings.py; a test checks this file against it.
#
# Copy to .env (read from the working directory, or from the file NEMORDP_ENV_FILE names)
# and uncomment what you change; the process environment wins over the file. `make run` and
# `make test` need none of them. Production needs SECRET_KEY, DATABASE_URL (PostgreSQL),
# ENCRYPTION_KEYS, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and INSTALL_ID. A secret may be
# given as <NAME>_FILE instead, a file holding it (systemd credentials, container secrets),
# not both. A bad value stops start-up naming the setting. `flask config show` prints the
# settings in effect.

# Which environment: development, test or production; nothing starts without it.
#NEMORDP_ENV=development
"""


def example() -> str:
    """The text of .env.example: every setting with its meaning, type and default."""
    lines = [EXAMPLE_HEADER.rstrip("\n")]
    for name, field in Settings.model_fields.items():
        if name in SECTIONS:
            lines += ["", f"# === {SECTIONS[name]}"]
        meaning = f"{field.description} [{_kind(name, field)}]"
        lines += textwrap.wrap(meaning, width=98, initial_indent="# ", subsequent_indent="# ")
        lines.append(f"#{name}={_text(field.default)}")
    return "\n".join(lines) + "\n"
