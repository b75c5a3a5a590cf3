"""The HTTP core every provider client speaks through.

One pooled ``httpx.Client`` per provider with explicit timeouts, the client-side throttle
waited before every request, one retry policy and one way of sorting failures:

- no answer (timeout, refused or reset connection), 429 and 5xx: `TransientError`, carrying
  the provider's ``Retry-After`` (seconds or an HTTP date) as ``retry_after``;
- 404: `MachineNotFound` (a client whose 404 means something else says so);
- any other 4xx: `PermanentError` with the provider's own message.

Only GETs are retried here; a request that changes something is never sent twice, since the
provider may have acted on a request whose answer was lost (callers look a create up by its
label instead), and a throttle that gave no slot (`NoSlot`) is not waited on again. A
``Retry-After`` longer than the policy waits inline goes back to the caller, whose task
retries with a countdown instead of holding a worker thread.
"""

from __future__ import annotations

import email.utils
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from workers.outside_errors import OutsideError, PermanentError, TransientError
from workers.providers.base import MachineNotFound
from workers.providers.throttle import NoSlot, Throttle

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0  # seconds at most, whatever the request timeout
CONNECT_RETRIES = 2  # failed connection attempts only: nothing reached the provider


@dataclass(frozen=True)
class RetryPolicy:
    """How a GET that failed transiently is tried again."""

    retries: int = 2  # after the first try
    backoff: float = 0.25  # seconds before the first retry, doubled for each next one
    max_inline_wait: float = 3.0  # a longer Retry-After is left to the caller

    def pause(self, error: TransientError, attempt: int) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up now."""
        if attempt >= self.retries:
            return None
        if error.retry_after is None:
            return float(self.backoff * 2**attempt)
        if error.retry_after > self.max_inline_wait:
            return None
        return error.retry_after


RETRY_POLICY = RetryPolicy()


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds, whether given as a number or as an HTTP date."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def body_message(response: httpx.Response, keys: tuple[str, ...]) -> str:
    """The first non-empty text under ``keys`` in a JSON error body, else the reason phrase
    (a proxy's HTML page has no message of the provider's)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return response.reason_phrase or "error"


class ProviderHttp:
    """One provider's connection: requests, throttle, retries and error sorting.

    ``message_keys`` name where the provider's error body holds its message;
    ``rate_limit_retry_after`` is the wait to suggest after a 429 without ``Retry-After``
    (None where the provider's window is unknown); ``request_id_header``, where the
    provider keeps an audit log by a request id of ours, is sent with a fresh uuid4 on every
    request, logged, and named in the error when the answer is lost.
    """

    def __init__(
        self,
        title: str,
        base_url: str,
        *,
        timeout: float,
        headers: Mapping[str, str],
        message_keys: tuple[str, ...],
        throttle: Throttle | None = None,
        rate_limit_retry_after: float | None = None,
        request_id_header: str | None = None,
        policy: RetryPolicy = RETRY_POLICY,
    ) -> None:
        self.title = title
        self.request_id_header = request_id_header
        self.throttle = throttle
        self.message_keys = message_keys
        self.rate_limit_retry_after = rate_limit_retry_after
        self.policy = policy
        self.client = httpx.Client(
            base_url=base_url,
            headers=dict(headers),
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            transport=httpx.HTTPTransport(retries=CONNECT_RETRIES),
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One API call: its successful answer, or the sorted error (a GET retried first)."""
        return self.retrying(
            method, path, lambda: self.checked(self.send(method, path, json=json, params=params))
        )

    def retrying(self, method: str, path: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt``; for a GET, again after a transient failure, as the policy says."""
        tries = 0
        while True:
            try:
                return attempt()
            except TransientError as exc:
                retryable = method == "GET" and not isinstance(exc, NoSlot)
                pause = self.policy.pause(exc, tries) if retryable else None
                if pause is None:
                    raise
                logger.warning(
                    "%s %s %s failed (%s); retrying in %.2fs",
                    self.title,
                    method,
                    path,
                    exc.message,
                    pause,
                )
                time.sleep(pause)
                tries += 1

    def send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One try, after the throttle: whatever the provider answered, or `TransientError`
        when it did not answer."""
        if self.throttle is not None:
            self.throttle.wait()
        headers = dict(headers or {})
        extra: dict[str, Any] = {}
        if self.request_id_header is not None:
            extra["request_id"] = headers[self.request_id_header] = str(uuid.uuid4())
        try:
            response = self.client.request(
                method, url, json=json, params=params, data=data, headers=headers
            )
        except httpx.TransportError as exc:  # timeouts included
            raise self._no_answer(method, url, exc, extra) from exc
        if response.is_success:
            log = logger.debug
        elif response.status_code == 429 or response.is_server_error:
            log = logger.warning
        else:
            log = logger.info  # a 404 after a create or a 422 on a second cancel is routine
        status = response.status_code
        log("%s %s %s -> %s", self.title, method, url, status, extra={**extra, "status": status})
        return response

    def _no_answer(
        self, method: str, url: str, exc: httpx.TransportError, extra: dict[str, Any]
    ) -> TransientError:
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "got no answer"
        name = type(exc).__name__
        logger.warning("%s %s %s %s: %s", self.title, method, url, what, name, extra=extra)
        message = f"{self.title} {method} {url} {what} ({name})"
        if method != "GET":
            message += "; whether it took effect is unknown"
            if "request_id" in extra:
                message += f", its {self.request_id_header} is {extra['request_id']}"
        return TransientError(message)

    def checked(self, response: httpx.Response) -> httpx.Response:
        """The response if it is a success, else its sorted error raised."""
        if response.is_success:
            return response
        raise self.error_for(response)

    def transient_error(self, response: httpx.Response) -> TransientError | None:
        """The error of a 429 or 5xx answer; None for any other."""
        status = response.status_code
        if status == 429:
            hint = retry_after(response.headers)
            return TransientError(
                self.message_of(response),
                status,
                hint if hint is not None else self.rate_limit_retry_after,
            )
        if status >= 500:
            return TransientError(self.message_of(response), status, retry_after(response.headers))
        return None

    def error_for(self, response: httpx.Response) -> OutsideError:
        """Sort a failed answer: 429 and 5xx transient, 404 not found, other 4xx permanent."""
        transient = self.transient_error(response)
        if transient is not None:
            return transient
        if response.status_code == 404:
            return MachineNotFound(self.message_of(response), 404)
        return PermanentError(self.message_of(response), response.status_code)

    def message_of(self, response: httpx.Response) -> str:
        return body_message(response, self.message_keys)

    @property
    def base_url(self) -> str:
        return str(self.client.base_url)

    def close(self) -> None:
        self.client.close()
