"""A client-side request throttle, so we stay under a provider's rate limit instead of
collecting 429s (Vultr answers 429 above 30 requests a second per source address; Contabo
publishes no number, so its limit is a cautious setting).

Built on the ``limits`` library's moving window. With a Redis storage (a URL of the
platform's Redis form, opened as `app.redis_client` says) every worker process shares one
window per key; ``memory://`` shares it within one process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from limits import parse
from limits.errors import StorageError
from limits.storage import StorageTypes, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from workers.outside_errors import TransientError

MIN_PAUSE = 0.005  # seconds between attempts when a slot is about to free
MAX_PAUSE = 0.25  # re-check at least this often: another process may free a slot


class NoSlot(TransientError):
    """The throttle gave no slot: still full after its ``max_wait``, or its storage is
    unreachable. Not retried inline: the wait was already long, the task retries later."""


_storages: dict[str, StorageTypes] = {}


def _storage(url: str, config: Mapping[str, Any]) -> StorageTypes:
    """One storage (and connection pool) per URL and process."""
    # Imported on use: settings.py reads the clients' declarations (`ProviderClient.settings`)
    # before the app package, which needs the settings, can be imported.
    from app.redis_client import limits_storage

    if url not in _storages:
        uri, options = limits_storage(url, config)
        _storages[url] = storage_from_string(uri, wrap_exceptions=True, **options)
    return _storages[url]


class Throttle:
    """Blocks each caller until the window ``limit`` (e.g. ``"25/second"``) has a free slot.
    ``config`` holds the Redis settings (TLS, Sentinel) of a Redis ``storage_url``."""

    def __init__(
        self,
        limit: str,
        key: str,
        storage_url: str = "memory://",
        *,
        config: Mapping[str, Any] | None = None,
        max_wait: float = 10.0,
    ) -> None:
        self.item = parse(limit)
        self.key = key
        self.max_wait = max_wait
        self.limiter = MovingWindowRateLimiter(_storage(storage_url, config or {}))

    def wait(self) -> None:
        """Take a slot, sleeping in short steps; `NoSlot` after ``max_wait``."""
        deadline = time.monotonic() + self.max_wait
        while not self._try_hit():
            free_in = self._seconds_until_free()
            if time.monotonic() + free_in > deadline:
                raise NoSlot(
                    f"client-side rate limit {self.item} for {self.key} still full after "
                    f"{self.max_wait:g}s",
                    retry_after=max(free_in, 1.0),
                )
            time.sleep(min(max(free_in, MIN_PAUSE), MAX_PAUSE))

    def _try_hit(self) -> bool:
        try:
            return self.limiter.hit(self.item, self.key)
        except StorageError as exc:
            raise NoSlot("rate-limit storage unavailable") from exc

    def _seconds_until_free(self) -> float:
        try:
            stats = self.limiter.get_window_stats(self.item, self.key)
        except StorageError as exc:
            raise NoSlot("rate-limit storage unavailable") from exc
        return max(stats.reset_time - time.time(), 0.0)
