"""Every Redis connection of the platform is made here, from one URL form:

    redis://[[user]:password@]host[:port][/db]
    rediss://[[user]:password@]host[:port][/db]
    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
    rediss+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]

``rediss`` speaks TLS (to the Sentinels and the master alike), checking the server's
certificate against ``REDIS_TLS_CA_PATH`` (else the system's CAs) and presenting
``REDIS_TLS_CERT_PATH``/``REDIS_TLS_KEY_PATH`` when set. With ``+sentinel`` the hosts are
Sentinels (port 26379 unless given), asked for the address of the master named ``master``;
the user and password are the master's, the Sentinels' own password is
``REDIS_SENTINEL_PASSWORD``. A failover is followed: the next connection goes to the new
master.

From such a URL this module makes the redis-py clients (`failing_fast`: the cache, alerts,
queue depths, health checks, beat's lock), Celery's broker and result store settings
(`celery_settings`) and the ``limits`` storage of the rate limits and the provider throttle
(`limits_storage`). Nothing else opens Redis (``tests/architecture/test_one_redis_factory.py``).

The clients give up at once when Redis is away: redis-py retries a failed command ten times
with backoff by default, seconds per call while Redis is down, which a request (or a health
probe) must never spend. They try once (twice with ``retries=1``, which also gets past a
connection left stale by a Redis restart or a failover), each try bounded by
``REDIS_CONNECT_TIMEOUT`` and ``timeout``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

REDIS_PORT = 6379
SENTINEL_PORT = 26379
SCHEMES = ("redis", "rediss", "redis+sentinel", "rediss+sentinel")
FORMS = (
    "redis[s]://[[user]:password@]host[:port][/db] or "
    "redis[s]+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]"
)


class RedisURLError(ValueError):
    """A Redis URL not in the documented form; the message says what is wrong."""


@dataclass(frozen=True)
class RedisAddress:
    """Where a Redis URL points: one server, or the Sentinels watching ``master``."""

    hosts: tuple[tuple[str, int], ...]
    master: str  # "" for one server
    db: int
    username: str | None
    password: str | None
    tls: bool

    @property
    def sentinel(self) -> bool:
        return bool(self.master)

    def auth(self) -> str:
        """``user:password@`` as a URL writes it ("" without a password or user)."""
        if self.username is None and self.password is None:
            return ""
        user = quote(self.username or "", safe="")
        return f"{user}:{quote(self.password or '', safe='')}@"


def _host(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = text.partition(":")
    if not host:
        raise RedisURLError(f"a host is missing; write it as {FORMS}")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RedisURLError(f"port {port_text!r} is not a port number")
    return host, int(port_text)


def _db(text: str) -> int:
    if not text:
        return 0
    if not text.isdigit():
        raise RedisURLError(f"database {text!r} is not a number")
    return int(text)


def parse(url: str) -> RedisAddress:
    """The address a Redis URL in the documented form names; `RedisURLError` otherwise."""
    scheme, _, rest = url.partition("://")
    if scheme not in SCHEMES or not rest:
        raise RedisURLError(f"not a Redis URL: write it as {FORMS}")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise RedisURLError("options after '?' are not read: Redis settings set them")
    userinfo, _, netloc = parts.netloc.rpartition("@")
    username: str | None = None
    password: str | None = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinel = scheme.endswith("+sentinel")
    default_port = SENTINEL_PORT if sentinel else REDIS_PORT
    hosts = tuple(_host(text, default_port) for text in netloc.split(","))
    path = [segment for segment in parts.path.split("/") if segment]
    if sentinel:
        if not path or len(path) > 2:
            raise RedisURLError("a Sentinel URL names the master after the hosts: /master[/db]")
        master, db_text = path[0], path[1] if len(path) == 2 else ""
    else:
        if len(hosts) > 1:
            raise RedisURLError("several hosts need redis+sentinel://")
        if len(path) > 1:
            raise RedisURLError("the path is the database number alone: /0")
        master, db_text = "", path[0] if path else ""
    return RedisAddress(
        hosts, master, _db(db_text), username, password, scheme.startswith("rediss")
    )


def tls_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """redis-py's (and Celery's) certificate options for a TLS connection."""
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    for option, setting in (
        ("ssl_ca_certs", "REDIS_TLS_CA_PATH"),
        ("ssl_certfile", "REDIS_TLS_CERT_PATH"),
        ("ssl_keyfile", "REDIS_TLS_KEY_PATH"),
    ):
        if config.get(setting):
            options[option] = config[setting]
    return options


def _timeouts(config: Mapping[str, Any], timeout: float | None = None) -> dict[str, float]:
    socket_timeout = timeout or config.get("REDIS_SOCKET_TIMEOUT", 1.0)
    connect_timeout = min(socket_timeout, config.get("REDIS_CONNECT_TIMEOUT", 0.5))
    return {"socket_timeout": socket_timeout, "socket_connect_timeout": connect_timeout}


def sentinel_kwargs(address: RedisAddress, config: Mapping[str, Any]) -> dict[str, Any]:
    """How to talk to the Sentinels themselves: their password, TLS, one bounded try."""
    options: dict[str, Any] = {**_timeouts(config), "retry": Retry(NoBackoff(), 0)}
    if config.get("REDIS_SENTINEL_PASSWORD"):
        options["password"] = config["REDIS_SENTINEL_PASSWORD"]
    if address.tls:
        options.update(ssl=True, **tls_options(config))
    return options


def failing_fast(
    url: str,
    timeout: float | None = None,
    *,
    retries: int = 0,
    decode_responses: bool = False,
    config: Mapping[str, Any] | None = None,
) -> redis.Redis:
    """A client for ``url``; ``timeout`` (seconds per command) defaults to
    ``REDIS_SOCKET_TIMEOUT``, and connecting never takes longer than it either. Settings
    come from ``config``, by default the current app's. Nothing is connected until the
    first command."""
    config = config if config is not None else current_app.config
    address = parse(url)
    options: dict[str, Any] = {
        **_timeouts(config, timeout),
        "retry": Retry(NoBackoff(), retries),
        "decode_responses": decode_responses,
        "db": address.db,
        "username": address.username,
        "password": address.password,
    }
    if address.tls:
        options.update(ssl=True, **tls_options(config))
    if address.sentinel:
        sentinels = Sentinel(list(address.hosts), sentinel_kwargs=sentinel_kwargs(address, config))
        return sentinels.master_for(address.master, **options)
    host, port = address.hosts[0]
    return redis.Redis(host=host, port=port, **options)


def _celery_url(address: RedisAddress) -> str:
    """The URL Celery and kombu read: ``sentinel://…;sentinel://…`` for Sentinels (the
    password on the first, where they look for it)."""
    if not address.sentinel:
        host, port = address.hosts[0]
        scheme = "rediss" if address.tls else "redis"
        return f"{scheme}://{address.auth()}{_netloc(host, port)}/{address.db}"
    return ";".join(
        f"sentinel://{'' if i else address.auth()}{_netloc(host, port)}/{address.db}"
        for i, (host, port) in enumerate(address.hosts)
    )


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _transport_options(address: RedisAddress, config: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {
        "visibility_timeout": config["CELERY_VISIBILITY_TIMEOUT"],
        **_timeouts(config),
    }
    if address.sentinel:
        options.update(master_name=address.master, sentinel_kwargs=sentinel_kwargs(address, config))
    return options


def celery_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Celery's broker and result store settings for ``CELERY_BROKER_URL`` and
    ``CELERY_RESULT_BACKEND``: their URLs as Celery writes them, Sentinel and TLS options,
    every connection bounded by the Redis timeouts."""
    broker = parse(config["CELERY_BROKER_URL"])
    results = parse(config["CELERY_RESULT_BACKEND"])
    timeouts = _timeouts(config)
    return {
        "broker_url": _celery_url(broker),
        "broker_transport_options": _transport_options(broker, config),
        "broker_use_ssl": tls_options(config) if broker.tls else None,
        "result_backend": _celery_url(results),
        "result_backend_transport_options": _transport_options(results, config),
        "redis_backend_use_ssl": tls_options(config) if results.tls else None,
        "redis_socket_connect_timeout": timeouts["socket_connect_timeout"],
        "redis_socket_timeout": timeouts["socket_timeout"],
    }


def limits_storage(url: str, config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``limits`` storage URI and options for ``url``; a URL of another storage than
    Redis (``memory://``) is returned as it is."""
    if url.partition("://")[0] not in SCHEMES:
        return url, {}
    address = parse(url)
    options = tls_options(config) if address.tls else {}
    if not address.sentinel:
        return _celery_url(address), options  # rediss:// itself asks for TLS
    # The credentials go in the options, or limits would send them to the Sentinels too;
    # the counts are read from the master, never from a replica that may lag.
    options.update(
        ssl=address.tls,
        db=address.db,
        sentinel_kwargs=sentinel_kwargs(address, config),
        use_replicas=False,
    )
    if address.username is not None:
        options["username"] = address.username
    if address.password is not None:
        options["password"] = address.password
    hosts = ",".join(_netloc(host, port) for host, port in address.hosts)
    return f"redis+sentinel://{hosts}/{address.master}", options
