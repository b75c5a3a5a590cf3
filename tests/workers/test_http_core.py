"""The HTTP core's rules that no emulator exercises: ``Retry-After`` given as an HTTP date,
the retry policy's waits, and an error body that is not the provider's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from workers.outside_errors import TransientError
from workers.providers.http_core import RetryPolicy, body_message, retry_after


def test_retry_after_in_seconds() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Headers({"Retry-After": "-3"})) == 0.0
    assert retry_after(httpx.Headers()) is None


def test_retry_after_as_an_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    earlier = datetime.now(UTC) - timedelta(seconds=120)

    wait = retry_after(httpx.Headers({"Retry-After": format_datetime(later, usegmt=True)}))
    gone = retry_after(httpx.Headers({"Retry-After": format_datetime(earlier, usegmt=True)}))

    assert wait is not None and 100 < wait <= 120
    assert gone == 0.0


def test_a_retry_after_that_is_neither_is_ignored() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None


@pytest.mark.parametrize(
    ("hint", "attempt", "pause"),
    [
        (None, 0, 0.25),
        (None, 1, 0.5),  # doubled for each next retry
        (None, 2, None),  # two retries, then the caller's turn
        (1.0, 0, 1.0),  # the provider's hint wins
        (3.0, 0, 3.0),
        (3.5, 0, None),  # too long to hold a worker thread: the task's countdown waits
    ],
)
def test_the_retry_policy(hint: float | None, attempt: int, pause: float | None) -> None:
    error = TransientError("busy", 429, retry_after=hint)

    assert RetryPolicy().pause(error, attempt) == pause


def test_an_error_page_that_is_not_the_providers_gives_its_reason_phrase() -> None:
    html = httpx.Response(502, text="<html>Bad gateway</html>")
    json_without_message = httpx.Response(400, json={"other": "x"})
    shaped = httpx.Response(400, json={"error": "Plan is not available here"})

    assert body_message(html, ("error",)) == "Bad Gateway"
    assert body_message(json_without_message, ("error",)) == "Bad Request"
    assert body_message(shaped, ("message", "error")) == "Plan is not available here"
