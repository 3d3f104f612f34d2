"""The error hierarchy (seed-era names kept, finer classes added as subclasses).

``MistralException``
 ├─ ``MistralAPIException``          the server answered with an error (or an unreadable body)
 │   ├─ ``BadRequestError``          400, 422
 │   ├─ ``AuthenticationError``      401
 │   ├─ ``PermissionDeniedError``    403
 │   ├─ ``NotFoundError``            404
 │   ├─ ``ResponseDecodeError``      a 2xx whose body is not what the API promises
 │   └─ ``MistralAPIStatusException`` retryable statuses
 │       ├─ ``RequestTimeoutError``  408
 │       ├─ ``RateLimitError``       429
 │       └─ ``ServerError``          500, 502, 503, 504
 └─ ``MistralConnectionException``   no answer: refused, reset, DNS, protocol error
     └─ ``MistralTimeoutException``  connect / read / write / pool timeout
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "MistralAPIException",
    "MistralAPIStatusException",
    "MistralConnectionException",
    "MistralException",
    "MistralTimeoutException",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ServerError",
]


class MistralException(Exception):
    """Base class of every error this library raises about the API."""

    #: Set by an agent when the error ends a run: the transcript up to the failure.
    messages: list[Any] | None = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or ""
        #: How many HTTP attempts were made before giving up (1 when no retry happened).
        self.attempts = 1
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.attempts > 1:
            return f"{self.message} (gave up after {self.attempts} attempts)"
        return self.message


class MistralAPIException(MistralException):
    """The API answered with an error status (or a body that could not be read)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | int | None = None,
        type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers or {})
        self.code = code
        self.type = type
        self.request_id = request_id
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class MistralAPIStatusException(MistralAPIException):
    """An error status worth retrying (408, 429, 5xx)."""


class BadRequestError(MistralAPIException):
    """400 or 422: the request was invalid; retrying the same request cannot help."""


class AuthenticationError(MistralAPIException):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(MistralAPIException):
    """403: the key may not use this resource."""


class NotFoundError(MistralAPIException):
    """404: unknown model or path."""


class ResponseDecodeError(MistralAPIException):
    """A successful status whose body is not valid JSON of the expected shape."""


class RequestTimeoutError(MistralAPIStatusException):
    """408 from the server."""


class RateLimitError(MistralAPIStatusException):
    """429: too many requests or tokens; retried with backoff, honouring ``Retry-After``."""


class ServerError(MistralAPIStatusException):
    """500, 502, 503, 504: a transient server-side failure."""


class MistralConnectionException(MistralException):
    """The request got no HTTP answer: connection refused or reset, DNS failure, protocol error."""


class MistralTimeoutException(MistralConnectionException):
    """The request timed out (connect, read, write or pool)."""
