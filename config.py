"""Every setting of the platform, read from the environment, with its default.

One class per environment; `config_for()` picks the class named by ``NEMORDP_ENV``
(development, test, production).  The README and ``.env.example`` list each setting.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("NEMORDP_VAR_DIR", BASE_DIR / "var"))


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _local_secret(file_name: str, make: Callable[[], str]) -> str:
    """A secret for development only: made once under var/ and kept, never regenerated.

    Linked into place only if absent, so processes starting together all read the first one.
    """
    path = VAR_DIR / file_name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        draft = VAR_DIR / f".{file_name}.{os.getpid()}"
        draft.write_text(make() + "\n")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Values this repository publishes (the test settings, examples, the local tools' defaults):
# anyone can sign sessions or webhooks with them, so production refuses every one.
PUBLISHED_SECRETS = frozenset(
    {
        "dev-only-secret-key-not-for-production",
        "test-secret-key",
        "sk_test_local",
        "whsec_local",
        "whsec_local_development",
        "whsec_test_local",
        "whsec_faults_local",
        "whsec_bench",
        "r9cbyqBgW0lBZAkb4oXb_7Vd6F9QoHJ1T3g8nW1Xk2Y=",
    }
)


def _check_fernet_keys(value: str) -> None:
    """Refuse ``ENCRYPTION_KEYS`` unless each entry is a Fernet key (32 url-safe base64 bytes);
    production also refuses it empty."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in value.split(",") if key.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise RuntimeError(
                f"ENCRYPTION_KEYS entry {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes): generate one with `flask keys generate`"
            ) from None


def _check_production_secret(name: str, value: str, *, prefix: str = "") -> None:
    """Refuse a published, short, repetitive or wrongly shaped secret, naming the setting."""
    if value in PUBLISHED_SECRETS:
        raise RuntimeError(f"{name} is a published development or test value: set your own")
    if prefix and not value.startswith(prefix):
        raise RuntimeError(f"{name} must start with {prefix!r}")
    if len(value) < 32 or len(set(value.removeprefix(prefix))) < 10:
        raise RuntimeError(f"{name} is too weak: use at least 32 random characters")


class BaseConfig:
    ENV_NAME = "base"
    TESTING = False

    SECRET_KEY = _env("SECRET_KEY", "")
    # Comma-separated Fernet keys, newest first; the first one encrypts, all decrypt.
    ENCRYPTION_KEYS = _env("ENCRYPTION_KEYS", "")

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'nemordp.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 20)
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 30)
    DB_POOL_RECYCLE = _env_int("DB_POOL_RECYCLE", 3600)

    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    CELERY_BROKER_URL = _env("CELERY_BROKER_URL", "")  # defaults to REDIS_URL
    CELERY_RESULT_BACKEND = _env("CELERY_RESULT_BACKEND", "")  # defaults to REDIS_URL
    # Above the longest retry countdown, so Redis never redelivers a task still waiting.
    CELERY_VISIBILITY_TIMEOUT = _env_int("CELERY_VISIBILITY_TIMEOUT", 7200)
    CELERY_TASK_TIME_LIMIT = _env_int("CELERY_TASK_TIME_LIMIT", 120)
    # Seconds to connect to Redis, and for one command (broker, result store, cache, beat,
    # health): a dead Redis costs a request a fraction of a second, never a hang.
    REDIS_CONNECT_TIMEOUT = _env_float("REDIS_CONNECT_TIMEOUT", 0.5)
    REDIS_SOCKET_TIMEOUT = _env_float("REDIS_SOCKET_TIMEOUT", 1.0)

    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    SESSION_COOKIE_NAME = "nemordp_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # How long a sign-in lasts on the server: without remember-me, and with it (the
    # remember-me cookie lasts as long).
    LOGIN_LIFETIME_HOURS = _env_int("LOGIN_LIFETIME_HOURS", 24)
    REMEMBER_ME_DAYS = _env_int("REMEMBER_ME_DAYS", 30)
    REMEMBER_COOKIE_DURATION = REMEMBER_ME_DAYS * 24 * 3600  # seconds, read by flask-login
    WTF_CSRF_CHECK_DEFAULT = False  # checked only for cookie-authenticated writes
    WTF_CSRF_HEADERS = ["X-CSRF-Token"]
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 1025)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = _env("MAIL_USERNAME", "")
    MAIL_PASSWORD = _env("MAIL_PASSWORD", "")
    MAIL_TIMEOUT = _env_float("MAIL_TIMEOUT", 10.0)
    MAIL_FROM = _env("MAIL_FROM", "NemoRDP <no-reply@nemordp.local>")
    SUPPORT_EMAIL = _env("SUPPORT_EMAIL", "support@nemordp.local")
    ALERT_EMAIL = _env("ALERT_EMAIL", "ops@nemordp.local")

    # Providers. The URLs point at the real APIs; `make run` and the tests point them at
    # the local emulators.
    VULTR_API_URL = _env("VULTR_API_URL", "https://api.vultr.com/v2")
    VULTR_API_KEY = _env("VULTR_API_KEY", "")
    VULTR_RATE_LIMIT = _env("VULTR_RATE_LIMIT", "25/second")  # Vultr allows 30/s per IP
    CONTABO_API_URL = _env("CONTABO_API_URL", "https://api.contabo.com/v1")
    CONTABO_AUTH_URL = _env(
        "CONTABO_AUTH_URL",
        "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token",
    )
    CONTABO_CLIENT_ID = _env("CONTABO_CLIENT_ID", "")
    CONTABO_CLIENT_SECRET = _env("CONTABO_CLIENT_SECRET", "")
    CONTABO_API_USER = _env("CONTABO_API_USER", "")
    CONTABO_API_PASSWORD = _env("CONTABO_API_PASSWORD", "")
    PROVIDER_TIMEOUT = _env_float("PROVIDER_TIMEOUT", 10.0)

    # Billing. STRIPE_API_BASE is empty for real Stripe; `make run` and the tests point it
    # at the local Stripe server.
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = _env("STRIPE_API_BASE", "")
    STRIPE_TIMEOUT = _env_float("STRIPE_TIMEOUT", 10.0)
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    # After a failed payment, machines are suspended once this much time has passed.
    PAYMENT_GRACE_SECONDS = _env_int("PAYMENT_GRACE_SECONDS", 3 * 24 * 3600)
    # Beat: how often overdue machines are suspended and the billing mirror is healed from
    # Stripe, and how far back the sync looks for invoices.
    SUSPEND_OVERDUE_INTERVAL = _env_float("SUSPEND_OVERDUE_INTERVAL", 600.0)
    INVOICE_SYNC_INTERVAL = _env_float("INVOICE_SYNC_INTERVAL", 3600.0)
    INVOICE_SYNC_DAYS = _env_int("INVOICE_SYNC_DAYS", 35)
    # A stored webhook event still unprocessed this long after it arrived (its task was
    # lost: broker down, worker killed) is sent again by the invoice sync.
    WEBHOOK_RESEND_AFTER_SECONDS = _env_int("WEBHOOK_RESEND_AFTER_SECONDS", 300)
    # Unpaid orders: how many one account may hold open, and how long each payment page
    # stays open before the order is closed with it (Stripe allows 30 to 1440 minutes).
    UNPAID_ORDERS_MAX = _env_int("UNPAID_ORDERS_MAX", 3)
    UNPAID_ORDER_MINUTES = min(1440, max(30, _env_int("UNPAID_ORDER_MINUTES", 60)))

    # Provisioning and actions.
    PROVISION_DEADLINE_SECONDS = _env_int("PROVISION_DEADLINE_SECONDS", 30 * 60)
    ACTION_DEADLINE_SECONDS = _env_int("ACTION_DEADLINE_SECONDS", 10 * 60)
    STATUS_CHECK_INTERVAL = _env_float("STATUS_CHECK_INTERVAL", 10.0)
    # A new machine needs minutes to boot: the first look waits this long.
    FIRST_CHECK_DELAY = _env_float("FIRST_CHECK_DELAY", 30.0)
    RDP_PORT = _env_int("RDP_PORT", 3389)
    RDP_PROBE_TIMEOUT = _env_float("RDP_PROBE_TIMEOUT", 3.0)
    # Transient provider failures are retried with exponential backoff and jitter.
    PROVIDER_RETRY_MAX = _env_int("PROVIDER_RETRY_MAX", 8)
    PROVIDER_RETRY_BASE = _env_float("PROVIDER_RETRY_BASE", 2.0)
    PROVIDER_RETRY_CAP = _env_float("PROVIDER_RETRY_CAP", 300.0)

    # Scheduled work (Celery beat, one scheduler guarded by a Redis lock). Intervals in s.
    USAGE_POLL_INTERVAL = _env_float("USAGE_POLL_INTERVAL", 15 * 60)
    USAGE_POLL_BATCH = _env_int("USAGE_POLL_BATCH", 100)  # machines per polling task
    # Traffic growth between two polls above this many bytes counts as someone using the
    # machine (where no agent reports sessions); below it is background noise.
    USAGE_ACTIVITY_BYTES = _env_int("USAGE_ACTIVITY_BYTES", 5_000_000)
    IDLE_CHECK_INTERVAL = _env_float("IDLE_CHECK_INTERVAL", 5 * 60)
    IDLE_STOP_BATCH = _env_int("IDLE_STOP_BATCH", 500)  # stops per run; the rest next run
    RECONCILE_INTERVAL = _env_float("RECONCILE_INTERVAL", 60 * 60)
    # A machine with our label that nothing accounts for is destroyed after this long.
    RECONCILE_GRACE_SECONDS = _env_int("RECONCILE_GRACE_SECONDS", 6 * 3600)
    STUCK_JOB_SWEEP_INTERVAL = _env_float("STUCK_JOB_SWEEP_INTERVAL", 5 * 60)
    # A job this long past its deadline is stuck; it is re-sent at most this many times.
    STUCK_JOB_GRACE_SECONDS = _env_int("STUCK_JOB_GRACE_SECONDS", 300)
    STUCK_JOB_MAX_RESENDS = _env_int("STUCK_JOB_MAX_RESENDS", 3)
    # A job still queued and never handed to the broker (it was down) is sent after this.
    STUCK_JOB_UNSENT_GRACE_SECONDS = _env_int("STUCK_JOB_UNSENT_GRACE_SECONDS", 60)
    # Redis keys of the beat schedule and its lock; the lock expires this long after its
    # holder stops renewing it, then a standby beat takes over.
    BEAT_KEY_PREFIX = _env("BEAT_KEY_PREFIX", "nemordp:beat")
    BEAT_LOCK_TIMEOUT = _env_int("BEAT_LOCK_TIMEOUT", 10)
    BEAT_MAX_LOOP_INTERVAL = _env_int("BEAT_MAX_LOOP_INTERVAL", 2)
    # Where the in-guest agent reports (default: PUBLIC_BASE_URL), and how often.
    AGENT_API_URL = _env("AGENT_API_URL", "")
    AGENT_HEARTBEAT_MINUTES = _env_int("AGENT_HEARTBEAT_MINUTES", 5)

    HEALTH_CHECK_TIMEOUT = _env_float("HEALTH_CHECK_TIMEOUT", 1.0)
    # /api/health reuses its checks of workers, broker, providers and Stripe this long.
    HEALTH_CACHE_SECONDS = _env_float("HEALTH_CACHE_SECONDS", 10.0)
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    LOG_JSON = _env_bool("LOG_JSON", True)
    # Error tracking: off unless a DSN is set; the share of requests traced for performance.
    SENTRY_DSN = _env("SENTRY_DSN", "")
    SENTRY_TRACES_SAMPLE_RATE = _env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)

    # /metrics. prometheus_client reads PROMETHEUS_MULTIPROC_DIR from the environment when it
    # is imported: set it, to the same emptied directory, for gunicorn and the Celery workers.
    PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR", "")
    # Scrapes must send this bearer token, and/or come from these networks (comma-separated
    # CIDRs). With neither, /metrics is open except in production, where it is closed.
    METRICS_TOKEN = _env("METRICS_TOKEN", "")
    METRICS_ALLOWED_NETWORKS = _env("METRICS_ALLOWED_NETWORKS", "")
    METRICS_OPEN_WITHOUT_RULES = True

    # Alerts e-mailed to ALERT_EMAIL: one mail per incident per window; how often beat runs
    # the checks; a queue with more waiting tasks than ALERT_QUEUE_BACKLOG; a provisioning
    # failure rate at or above ALERT_FAILURE_RATE over the last ALERT_FAILURE_WINDOW_SECONDS,
    # once at least ALERT_FAILURE_MIN_JOBS orders ended in that window.
    ALERT_WINDOW_SECONDS = _env_int("ALERT_WINDOW_SECONDS", 3600)
    ALERT_CHECK_INTERVAL = _env_float("ALERT_CHECK_INTERVAL", 60.0)
    ALERT_QUEUE_BACKLOG = _env_int("ALERT_QUEUE_BACKLOG", 500)
    ALERT_FAILURE_RATE = _env_float("ALERT_FAILURE_RATE", 0.25)
    ALERT_FAILURE_WINDOW_SECONDS = _env_int("ALERT_FAILURE_WINDOW_SECONDS", 1800)
    ALERT_FAILURE_MIN_JOBS = _env_int("ALERT_FAILURE_MIN_JOBS", 4)

    # Rate limits (Flask-Limiter), counted in Redis so every gunicorn worker shares them.
    # Limit strings read like "10 per minute; 100 per hour". The global limit counts per
    # client (the signed-in account, else the address) and route group.
    RATELIMIT_GLOBAL = _env("RATELIMIT_GLOBAL", "100 per minute")
    # Routes that check a password or a code (sign-up, log-in, 2FA, password reset and
    # change): per address, and per account (the one the body names, else the signed-in user).
    RATELIMIT_AUTH_PER_ADDRESS = _env("RATELIMIT_AUTH_PER_ADDRESS", "10 per minute; 100 per hour")
    RATELIMIT_AUTH_PER_ACCOUNT = _env("RATELIMIT_AUTH_PER_ACCOUNT", "5 per minute; 30 per hour")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "")  # defaults to REDIS_URL
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    RATELIMIT_STRATEGY = "moving-window"  # exact: no burst of twice the limit at a boundary
    RATELIMIT_KEY_PREFIX = "nemordp"
    # Redis unreachable: reads are served unlimited (logged), the routes above answer 503.

    # HTTPS behind a reverse proxy. X-Forwarded-* headers are read only from a peer in
    # PROXY_TRUSTED_NETWORKS (CIDRs, comma-separated), each from as many proxies as its count
    # says (0: the header is ignored). Then whether plain HTTP is redirected to HTTPS, and
    # the HSTS max-age sent over HTTPS when it is.
    PROXY_TRUSTED_NETWORKS = _env("PROXY_TRUSTED_NETWORKS", "")
    PROXY_FIX_FOR = _env_int("PROXY_FIX_FOR", 0)
    PROXY_FIX_PROTO = _env_int("PROXY_FIX_PROTO", 0)
    PROXY_FIX_HOST = _env_int("PROXY_FIX_HOST", 0)
    PROXY_FIX_PORT = _env_int("PROXY_FIX_PORT", 0)
    PROXY_FIX_PREFIX = _env_int("PROXY_FIX_PREFIX", 0)
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", False)
    HSTS_MAX_AGE = _env_int("HSTS_MAX_AGE", 365 * 24 * 3600)

    # Requests slower than this are logged with their request id.
    SLOW_REQUEST_MS = _env_float("SLOW_REQUEST_MS", 1000.0)
    # Responses (JSON, HTML, CSS, JS, SVG) of at least this many bytes are compressed
    # (zstd, brotli, gzip or deflate, as the client accepts).
    COMPRESS_MIN_SIZE = _env_int("COMPRESS_MIN_SIZE", 500)
    COMPRESS_REGISTER = False  # app/compression.py decides which responses to compress
    # The Redis cache of read-mostly data (app/cache.py) and how long an entry may live.
    CACHE_REDIS_URL = _env("CACHE_REDIS_URL", "")  # defaults to REDIS_URL
    CACHE_TTL = _env_int("CACHE_TTL", 300)

    API_TITLE = "NemoRDP API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"

    @classmethod
    def finalise(cls) -> None:
        """Fill in settings derived from others; raise if the environment is unusable."""
        cls.CELERY_BROKER_URL = cls.CELERY_BROKER_URL or cls.REDIS_URL
        cls.CELERY_RESULT_BACKEND = cls.CELERY_RESULT_BACKEND or cls.REDIS_URL
        cls.RATELIMIT_STORAGE_URI = cls.RATELIMIT_STORAGE_URI or cls.REDIS_URL
        cls.CACHE_REDIS_URL = cls.CACHE_REDIS_URL or cls.REDIS_URL
        cls.AGENT_API_URL = cls.AGENT_API_URL or cls.PUBLIC_BASE_URL
        _check_fernet_keys(cls.ENCRYPTION_KEYS)
        if not cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            cls.SQLALCHEMY_ENGINE_OPTIONS = {
                "pool_pre_ping": True,
                "pool_size": cls.DB_POOL_SIZE,
                "max_overflow": cls.DB_MAX_OVERFLOW,
                "pool_recycle": cls.DB_POOL_RECYCLE,
            }


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    LOG_JSON = _env_bool("LOG_JSON", False)

    @classmethod
    def finalise(cls) -> None:
        # Secrets nobody else knows, made on first start and kept under var/; the local
        # Stripe server (`make run`) signs its webhooks with the same webhook secret.
        cls.SECRET_KEY = cls.SECRET_KEY or _local_secret(
            "secret.key", lambda: secrets.token_urlsafe(48)
        )
        cls.STRIPE_WEBHOOK_SECRET = cls.STRIPE_WEBHOOK_SECRET or _local_secret(
            "stripe-webhook.secret", lambda: "whsec_" + secrets.token_urlsafe(32)
        )
        cls.STRIPE_SECRET_KEY = cls.STRIPE_SECRET_KEY or "sk_test_local"
        cls.ENCRYPTION_KEYS = cls.ENCRYPTION_KEYS or _local_secret(
            "encryption.key", _new_fernet_key
        )
        super().finalise()


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY", "sk_test_local")
    # A fixed, throwaway key for tests only.
    ENCRYPTION_KEYS = _env("ENCRYPTION_KEYS", "r9cbyqBgW0lBZAkb4oXb_7Vd6F9QoHJ1T3g8nW1Xk2Y=")
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_test"
    )
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    LOG_JSON = False
    # The suite signs up hundreds of customers from 127.0.0.1: the limiter stays on, with
    # limits no test reaches; tests/hardening checks the production numbers.
    RATELIMIT_GLOBAL = _env("RATELIMIT_GLOBAL", "100000 per minute")
    RATELIMIT_AUTH_PER_ADDRESS = _env("RATELIMIT_AUTH_PER_ADDRESS", "100000 per minute")
    RATELIMIT_AUTH_PER_ACCOUNT = _env("RATELIMIT_AUTH_PER_ACCOUNT", "1000 per minute")

    @classmethod
    def finalise(cls) -> None:
        # The fixed secrets above are published: these settings serve this machine only.
        host = urlsplit(cls.PUBLIC_BASE_URL).hostname or ""
        if host not in ("localhost", "::1") and not host.startswith("127."):
            raise RuntimeError(
                "NEMORDP_ENV=test uses published secrets and serves only this machine: "
                f"PUBLIC_BASE_URL must be a loopback address, not {host!r}"
            )
        super().finalise()


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    METRICS_OPEN_WITHOUT_RULES = False
    PREFERRED_URL_SCHEME = "https"
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)

    @classmethod
    def finalise(cls) -> None:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", cls.SECRET_KEY),
                ("DATABASE_URL", os.environ.get("DATABASE_URL", "")),
                ("ENCRYPTION_KEYS", cls.ENCRYPTION_KEYS),
                ("STRIPE_SECRET_KEY", cls.STRIPE_SECRET_KEY),
                ("STRIPE_WEBHOOK_SECRET", cls.STRIPE_WEBHOOK_SECRET),
            )
            if not value
        ]
        if missing:
            raise RuntimeError(f"production needs these settings: {', '.join(missing)}")
        super().finalise()
        _check_production_secret("SECRET_KEY", cls.SECRET_KEY)
        _check_production_secret("STRIPE_SECRET_KEY", cls.STRIPE_SECRET_KEY)
        _check_production_secret(
            "STRIPE_WEBHOOK_SECRET", cls.STRIPE_WEBHOOK_SECRET, prefix="whsec_"
        )
        for key in cls.ENCRYPTION_KEYS.split(","):
            if key.strip():
                _check_production_secret("ENCRYPTION_KEYS", key.strip())


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[BaseConfig]:
    """The config class for an environment name (default: ``NEMORDP_ENV``, which must be set:
    no environment is assumed, least of all one with development secrets)."""
    env_name = name or os.environ.get("NEMORDP_ENV", "")
    if not env_name:
        raise RuntimeError("NEMORDP_ENV is not set: set it to development, test or production")
    try:
        config_class = CONFIGS[env_name]
    except KeyError:
        raise RuntimeError(f"unknown NEMORDP_ENV {env_name!r}") from None
    config_class.finalise()
    return config_class
