"""The one Redis URL form: what each URL means, what Celery, ``limits`` and redis-py are
given for it, and the refusal, at start, of a URL that is not in the form."""

from __future__ import annotations

import re
import ssl

import pytest
from redis.connection import SSLConnection
from redis.sentinel import SentinelConnectionPool, SentinelManagedSSLConnection

import config
from app.redis_client import RedisAddress, celery_settings, failing_fast, limits_storage, parse

SENTINELS = "redis+sentinel://:p%40ss@10.0.0.1,10.0.0.2:26380,[fd00::3]/mymaster/2"
SETTINGS = {
    "REDIS_SOCKET_TIMEOUT": 1.0,
    "REDIS_CONNECT_TIMEOUT": 0.5,
    "CELERY_VISIBILITY_TIMEOUT": 7200,
    "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
    "REDIS_TLS_CA_PATH": "/etc/nemordp/redis-ca.pem",
}


def test_a_plain_url_names_one_server() -> None:
    assert parse("redis://:secret@10.0.0.5:6380/3") == RedisAddress(
        (("10.0.0.5", 6380),), "", 3, None, "secret", tls=False
    )
    assert parse("rediss://app:secret@cache.internal") == RedisAddress(
        (("cache.internal", 6379),), "", 0, "app", "secret", tls=True
    )


def test_a_sentinel_url_names_the_sentinels_the_master_and_the_database() -> None:
    address = parse(SENTINELS)
    assert address.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("fd00::3", 26379))
    assert (address.master, address.db, address.password) == ("mymaster", 2, "p@ss")
    assert address.sentinel and not address.tls
    assert parse("rediss+sentinel://h1,h2/cache").tls


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379/0", "not a Redis URL"),
        ("unix:///run/redis.sock", "not a Redis URL"),
        ("redis://127.0.0.1:6379/zero", "database 'zero' is not a number"),
        ("redis://127.0.0.1:99999/0", "port '99999'"),
        ("redis://a:6379,b:6379/0", "several hosts need redis+sentinel://"),
        ("redis+sentinel://10.0.0.1:26379", "names the master"),
        ("redis://127.0.0.1:6379/0?ssl_cert_reqs=none", "options after '?'"),
    ],
)
def test_a_url_not_in_the_form_stops_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setattr(config.TestConfig, "CACHE_REDIS_URL", url)
    with pytest.raises(RuntimeError, match=f"^CACHE_REDIS_URL: .*{re.escape(message)}") as refused:
        config.config_for("test")
    assert "secret" not in str(refused.value)


def test_a_tls_file_that_is_not_there_stops_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.TestConfig, "REDIS_TLS_CA_PATH", "/nowhere/ca.pem")
    with pytest.raises(RuntimeError, match=r"REDIS_TLS_CA_PATH: /nowhere/ca\.pem is not a file"):
        config.config_for("test")


def test_celery_is_given_its_sentinel_urls_master_and_the_sentinels_password() -> None:
    conf = celery_settings(
        {**SETTINGS, "CELERY_BROKER_URL": SENTINELS, "CELERY_RESULT_BACKEND": SENTINELS}
    )
    expected = (
        "sentinel://:p%40ss@10.0.0.1:26379/2;sentinel://10.0.0.2:26380/2;"
        "sentinel://[fd00::3]:26379/2"
    )
    assert conf["broker_url"] == conf["result_backend"] == expected
    for options in (conf["broker_transport_options"], conf["result_backend_transport_options"]):
        assert options["master_name"] == "mymaster"
        assert options["visibility_timeout"] == 7200
        assert options["sentinel_kwargs"]["password"] == "sentinel-secret"
        assert options["sentinel_kwargs"]["socket_connect_timeout"] == 0.5
    assert conf["broker_use_ssl"] is None


def test_celery_over_tls_checks_the_certificate_against_the_given_ca() -> None:
    url = "rediss://:secret@10.0.0.5:6380/1"
    conf = celery_settings({**SETTINGS, "CELERY_BROKER_URL": url, "CELERY_RESULT_BACKEND": url})
    assert conf["broker_url"] == conf["result_backend"] == url
    expected = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": "/etc/nemordp/redis-ca.pem"}
    assert conf["broker_use_ssl"] == conf["redis_backend_use_ssl"] == expected


def test_limits_counts_on_the_master_never_a_replica() -> None:
    uri, options = limits_storage(SENTINELS, SETTINGS)
    assert uri == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,[fd00::3]:26379/mymaster"
    assert options["use_replicas"] is False
    assert (options["db"], options["password"]) == (2, "p@ss")
    assert options["sentinel_kwargs"]["password"] == "sentinel-secret"
    assert limits_storage("memory://", SETTINGS) == ("memory://", {})


def test_a_sentinel_client_asks_the_sentinels_for_the_master() -> None:
    client = failing_fast(SENTINELS, 0.3, config=SETTINGS)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "mymaster"
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "p@ss"
    assert pool.connection_kwargs["socket_timeout"] == 0.3
    sentinel = pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs
    assert sentinel["password"] == "sentinel-secret"


def test_tls_through_sentinels_reaches_the_sentinels_and_the_master() -> None:
    client = failing_fast(SENTINELS.replace("redis+", "rediss+", 1), config=SETTINGS)
    pool = client.connection_pool
    assert issubclass(pool.connection_class, SentinelManagedSSLConnection)
    assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/nemordp/redis-ca.pem"
    sentinel = pool.sentinel_manager.sentinels[0].connection_pool
    assert issubclass(sentinel.connection_class, SSLConnection)
    assert sentinel.connection_kwargs["ssl_cert_reqs"] == ssl.CERT_REQUIRED
