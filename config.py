"""The Flask configuration of each environment: development, test and production.

Every setting is declared in `settings.py` (type, default, meaning) and read when this module
is imported, from the environment, a ``.env`` file or ``<NAME>_FILE`` secret files; a bad
value stops the import naming the setting. Each class below holds its environment's values
as class attributes under the setting's name (``DATABASE_URL`` as
``SQLALCHEMY_DATABASE_URI``), except those its body fixes, plus Flask's constants.
`config_for()` picks the class ``NEMORDP_ENV`` names, fills in the values derived from
others and refuses an environment that cannot run.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import settings
from settings import DevelopmentSettings, ProductionSettings, Settings, TestSettings

# The env file every class reads (None: the environment alone), chosen once at import.
ENV_FILE = settings.env_file()


def _local_secret(var_dir: Path, file_name: str, make: Callable[[], str]) -> str:
    """A secret for development only: made once under var/ and kept, never regenerated.

    Linked into place only if absent, so processes starting together all read the first one.
    """
    path = var_dir / file_name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f".{file_name}.{os.getpid()}"
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


def _check_install_id(value: str) -> None:
    """Refuse an ``INSTALL_ID`` that cannot sit in a machine label (or hostname) as is."""
    if not re.fullmatch(r"[a-z0-9]{4,16}", value):
        raise RuntimeError(
            f"INSTALL_ID {value!r} must be 4 to 16 lowercase letters and digits "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(4))')"
        )


def _check_production_secret(name: str, value: str, *, prefix: str = "") -> None:
    """Refuse a published, short, repetitive or wrongly shaped secret, naming the setting."""
    if value in PUBLISHED_SECRETS:
        raise RuntimeError(f"{name} is a published development or test value: set your own")
    if prefix and not value.startswith(prefix):
        raise RuntimeError(f"{name} must start with {prefix!r}")
    if len(value) < 32 or len(set(value.removeprefix(prefix))) < 10:
        raise RuntimeError(f"{name} is too weak: use at least 32 random characters")


def _check_database(url: str) -> None:
    """Refuse a database production cannot run on: anything but PostgreSQL (never SQLite)."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise RuntimeError("DATABASE_URL is not a database URL") from None
    if backend != "postgresql":
        raise RuntimeError(
            f"DATABASE_URL: production needs PostgreSQL, not {backend} "
            "(postgresql+psycopg://user@host:5432/nemordp)"
        )


# Settings naming a Redis: each in the one URL form `app.redis_client` reads.
REDIS_URL_SETTINGS = (
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CACHE_REDIS_URL",
    "RATELIMIT_STORAGE_URI",
)
REDIS_TLS_PATH_SETTINGS = ("REDIS_TLS_CA_PATH", "REDIS_TLS_CERT_PATH", "REDIS_TLS_KEY_PATH")


def _check_redis(config_class: type[BaseConfig]) -> None:
    """Refuse a Redis URL not in the documented form, or a TLS file that is not there,
    naming the setting (the rate limits may count elsewhere: ``memory://``)."""
    from app.redis_client import SCHEMES, RedisURLError, parse  # app imports this module

    for name in REDIS_URL_SETTINGS:
        value = getattr(config_class, name)
        if name == "RATELIMIT_STORAGE_URI" and value.partition("://")[0] not in SCHEMES:
            continue
        try:
            parse(value)
        except RedisURLError as exc:
            raise RuntimeError(f"{name}: {exc}") from None
    for name in REDIS_TLS_PATH_SETTINGS:
        path = getattr(config_class, name)
        if path and not Path(path).is_file():
            raise RuntimeError(f"{name}: {path} is not a file")


class BaseConfig:
    ENV_NAME = "base"
    SETTINGS: ClassVar[type[Settings]] = Settings
    TESTING = False

    # Set from the settings by _load(), with every other setting; declared for the checks.
    NEMORDP_VAR_DIR: Path
    SECRET_KEY: str
    ENCRYPTION_KEYS: str
    SQLALCHEMY_DATABASE_URI: str
    DB_POOL_SIZE: int
    DB_MAX_OVERFLOW: int
    DB_POOL_RECYCLE: int
    DB_PREPARED_STATEMENTS: bool
    REDIS_URL: str
    CELERY_BROKER_URL: str
    CELERY_RESULT_BACKEND: str
    RATELIMIT_STORAGE_URI: str
    CACHE_REDIS_URL: str
    PUBLIC_BASE_URL: str
    AGENT_API_URL: str
    STRIPE_SECRET_KEY: str
    STRIPE_WEBHOOK_SECRET: str
    INSTALL_ID: str
    REMEMBER_ME_DAYS: int
    REMEMBER_COOKIE_DURATION: int  # REMEMBER_ME_DAYS in seconds, read by flask-login

    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SESSION_COOKIE_NAME = "nemordp_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_CHECK_DEFAULT = False  # checked only for cookie-authenticated writes
    WTF_CSRF_HEADERS = ["X-CSRF-Token"]
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # /metrics with neither METRICS_TOKEN nor METRICS_ALLOWED_NETWORKS: open, except in
    # production. prometheus_client reads PROMETHEUS_MULTIPROC_DIR from the environment when
    # it is imported: set it, to the same emptied directory, for gunicorn and the workers.
    METRICS_OPEN_WITHOUT_RULES = True

    # Flask-Limiter: counted in Redis so every gunicorn worker shares them; exact (no burst of
    # twice the limit at a window boundary). Redis unreachable: reads are served unlimited
    # (logged), the password and code routes answer 503.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "nemordp"

    COMPRESS_REGISTER = False  # app/compression.py decides which responses to compress
    # What is compressed per request is JSON and small pages (the dashboard's bundles went out
    # compressed by their build): brotli's fastest level takes a quarter of the time of its
    # default (4) on a 20-machine list, for 100 more bytes of 7.5 KB. zstd (3) and gzip (6)
    # are already as fast.
    COMPRESS_BR_LEVEL = 1

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
        _check_redis(cls)
        _check_fernet_keys(cls.ENCRYPTION_KEYS)
        _check_install_id(cls.INSTALL_ID)
        if not cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            cls.SQLALCHEMY_ENGINE_OPTIONS = {
                "pool_pre_ping": True,
                "pool_size": cls.DB_POOL_SIZE,
                "max_overflow": cls.DB_MAX_OVERFLOW,
                "pool_recycle": cls.DB_POOL_RECYCLE,
            }
            if not cls.DB_PREPARED_STATEMENTS:
                # A server connection of PgBouncer's transaction mode serves other clients
                # between transactions: a statement prepared on it may be gone, or not ours.
                cls.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] = {"prepare_threshold": None}


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SETTINGS = DevelopmentSettings

    @classmethod
    def finalise(cls) -> None:
        # `make run` needs no settings: SQLite, and secrets nobody else knows, made on first
        # start and kept under var/; the local Stripe server (`make run`) signs its webhooks
        # with the same webhook secret.
        var = cls.NEMORDP_VAR_DIR
        cls.SQLALCHEMY_DATABASE_URI = (
            cls.SQLALCHEMY_DATABASE_URI or f"sqlite:///{var / 'nemordp.db'}"
        )
        cls.SECRET_KEY = cls.SECRET_KEY or _local_secret(
            var, "secret.key", lambda: secrets.token_urlsafe(48)
        )
        cls.STRIPE_WEBHOOK_SECRET = cls.STRIPE_WEBHOOK_SECRET or _local_secret(
            var, "stripe-webhook.secret", lambda: "whsec_" + secrets.token_urlsafe(32)
        )
        cls.STRIPE_SECRET_KEY = cls.STRIPE_SECRET_KEY or "sk_test_local"
        cls.ENCRYPTION_KEYS = cls.ENCRYPTION_KEYS or _local_secret(
            var, "encryption.key", _new_fernet_key
        )
        cls.INSTALL_ID = cls.INSTALL_ID or _local_secret(
            var, "install.id", lambda: secrets.token_hex(4)
        )
        super().finalise()


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    SETTINGS = TestSettings
    TESTING = True
    # Fixed whatever the environment says.
    SECRET_KEY = "test-secret-key"
    LOG_JSON = False

    @classmethod
    def finalise(cls) -> None:
        # The test settings' secrets are published: they serve this machine only.
        host = urlsplit(cls.PUBLIC_BASE_URL).hostname or ""
        if host not in ("localhost", "::1") and not host.startswith("127."):
            raise RuntimeError(
                "NEMORDP_ENV=test uses published secrets and serves only this machine: "
                f"PUBLIC_BASE_URL must be a loopback address, not {host!r}"
            )
        super().finalise()


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SETTINGS = ProductionSettings
    SESSION_COOKIE_SECURE = True  # whatever the environment says
    REMEMBER_COOKIE_SECURE = True
    METRICS_OPEN_WITHOUT_RULES = False
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def finalise(cls) -> None:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", cls.SECRET_KEY),
                ("DATABASE_URL", cls.SQLALCHEMY_DATABASE_URI),
                ("ENCRYPTION_KEYS", cls.ENCRYPTION_KEYS),
                ("STRIPE_SECRET_KEY", cls.STRIPE_SECRET_KEY),
                ("STRIPE_WEBHOOK_SECRET", cls.STRIPE_WEBHOOK_SECRET),
                ("INSTALL_ID", cls.INSTALL_ID),
            )
            if not value
        ]
        if missing:
            raise RuntimeError(f"production needs these settings: {', '.join(missing)}")
        _check_database(cls.SQLALCHEMY_DATABASE_URI)
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


def _load(config_class: type[BaseConfig]) -> None:
    """Set its environment's settings on a class, except those the class body fixes."""
    for name, value in settings.load(config_class.SETTINGS, ENV_FILE):
        key = settings.FLASK_KEYS.get(name, name)
        if key not in vars(config_class):
            setattr(config_class, key, value)
    config_class.REMEMBER_COOKIE_DURATION = config_class.REMEMBER_ME_DAYS * 24 * 3600


_load(BaseConfig)
for _config_class in CONFIGS.values():
    _load(_config_class)


def config_for(name: str | None = None) -> type[BaseConfig]:
    """The config class for an environment name (default: ``NEMORDP_ENV``, from the
    environment or the env file, which must be set: no environment is assumed, least of all
    one with development secrets)."""
    env_name = name or os.environ.get("NEMORDP_ENV") or settings.given(ENV_FILE).get("NEMORDP_ENV")
    if not env_name:
        raise RuntimeError("NEMORDP_ENV is not set: set it to development, test or production")
    try:
        config_class = CONFIGS[env_name]
    except KeyError:
        raise RuntimeError(f"unknown NEMORDP_ENV {env_name!r}") from None
    config_class.finalise()
    return config_class
