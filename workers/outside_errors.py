"""The one error pair for every outside service: cloud providers, Stripe, and any added later.

Whoever talks to an outside service sorts its failures into these two, so tasks need one
retry rule for all of them: retry a `TransientError` (no answer, rate limited, a failure on
the service's side), fail fast on a `PermanentError` (the service refused; the same request
will be refused again).
"""

from __future__ import annotations


class OutsideError(Exception):
    """A call to an outside service failed; ``status`` is its HTTP status, if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TransientError(OutsideError):
    """Worth retrying; ``retry_after`` is the service's hint in seconds, if it gave one."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class PermanentError(OutsideError):
    """The service refused the request, with its reason; retrying it will not help."""
