"""Errors the Wistia client raises. Messages never contain the token."""

from __future__ import annotations


class WistiaError(RuntimeError):
    """Base class: a request to Wistia failed in a way the run cannot recover from."""


class AuthError(WistiaError):
    """401/403: the token is missing, wrong, or lacks a permission. Never retried."""


class RequestError(WistiaError):
    """400/404/422 and other client errors: the request itself is wrong. Never retried."""


class RetriesExhausted(WistiaError):
    """A retryable failure (throttling, 5xx, connection, malformed body) kept happening."""


class RepeatedPageError(WistiaError):
    """The API returned the same page twice in a row: paging would never end."""


class Retryable(Exception):
    """Internal: one attempt failed in a way worth another try."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
