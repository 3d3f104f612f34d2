"""Errors from the wire: an error response (any body shape) or a transport failure → our typed exception.

Pure functions, shared by both clients and the stream reader; nothing here ever raises while describing an error.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import httpx

from .exceptions import (
    AuthenticationError,
    BadRequestError,
    MistralAPIException,
    MistralConnectionException,
    MistralException,
    MistralTimeoutException,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)

__all__ = ["error_from_response", "http_errors", "parse_error_body", "snippet", "transport_error"]


_STATUS_CLASSES: dict[int, type[MistralAPIException]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    422: BadRequestError,
    429: RateLimitError,
    500: ServerError,
    502: ServerError,
    503: ServerError,
    504: ServerError,
}
_REQUEST_ID_HEADERS = ("x-request-id", "mistral-correlation-id", "x-kong-request-id")


def error_from_response(status_code: int, headers: Mapping[str, str], content: bytes) -> MistralAPIException:
    """The typed exception for an error response, with a readable message from any body shape. Never raises."""
    cls = _STATUS_CLASSES.get(status_code, MistralAPIException)
    try:
        body, message, code, kind, request_id = parse_error_body(content)
    except Exception:  # a last line of defence: a strange body must not hide the status
        body, message, code, kind, request_id = snippet(content), snippet(content), None, None, None
    if request_id is None:
        lowered = {k.lower(): v for k, v in headers.items()}
        request_id = next((lowered[h] for h in _REQUEST_ID_HEADERS if h in lowered), None)
    return cls(
        _headline(status_code, kind, message),
        status_code=status_code,
        headers=headers,
        code=code,
        type=kind,
        request_id=request_id,
        body=body,
    )


def _headline(status_code: int, kind: str | None, message: str) -> str:
    if kind:
        prefix = f"{status_code} {kind}"
    else:
        try:
            prefix = f"{status_code} {HTTPStatus(status_code).phrase}"
        except ValueError:
            prefix = str(status_code)
    if not message or message.lower() == prefix.split(" ", 1)[-1].lower():
        return prefix
    return f"{prefix}: {message}"


def parse_error_body(content: bytes) -> tuple[Any, str, str | int | None, str | None, str | None]:
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return snippet(content), _describe_text(content), None, None, None
    if not isinstance(body, dict):
        return body, _describe(body), None, None, None
    error = body.get("error")
    source: dict[str, Any] = error if isinstance(error, dict) else body
    raw = source.get("message", source.get("detail", error if isinstance(error, str) else None))
    kind = source.get("type") if isinstance(source.get("type"), str) else None
    code = source.get("code") if isinstance(source.get("code"), str | int) else None
    request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    return body, _describe(raw), code, kind, request_id


def _describe(raw: Any) -> str:
    """Readable text from a message that may be a string, a JSON string, a dict or a list of details."""
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in "{[":
            try:
                return _describe(json.loads(text))
            except ValueError:
                pass
        return _shorten(text)
    if isinstance(raw, list):
        return "; ".join(_describe(item) for item in raw) or ""
    if isinstance(raw, dict):
        if "msg" in raw:
            loc = raw.get("loc")
            where = ".".join(str(part) for part in loc) if isinstance(loc, list | tuple) else ""
            return f"{raw['msg']} ({where})" if where else str(raw["msg"])
        for key in ("detail", "message", "error"):
            if key in raw:
                return _describe(raw[key])
        return _shorten(json.dumps(raw, ensure_ascii=False))
    if raw is None:
        return ""
    return _shorten(str(raw))


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _describe_text(content: bytes) -> str:
    """A non-JSON body (an HTML page from a proxy, plain text) in one short line."""
    title = _TITLE.search(content)
    text = title.group(1).decode("utf-8", "replace") if title else _TAGS.sub(" ", content.decode("utf-8", "replace"))
    text = " ".join(text.split())
    return f"non-JSON response: {_shorten(text)}" if text else "empty response body"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def snippet(content: bytes, limit: int = 300) -> str:
    return _shorten(content.decode("utf-8", "replace"), limit)


def transport_errors() -> tuple[type[Exception], ...]:
    """The transport error classes to catch: httpx's, and httpx2's once something imported it (an ``except``
    clause evaluates this only while matching an exception, so the happy path costs nothing and
    ``import mistral_agents`` never loads httpx2)."""
    httpx2 = sys.modules.get("httpx2")
    return (httpx.TransportError,) if httpx2 is None else (httpx.TransportError, httpx2.TransportError)


@contextmanager
def http_errors() -> Iterator[None]:
    """Translate httpx's (or httpx2's) transport errors into ours (the message names the failure, never the key)."""
    try:
        yield
    except transport_errors() as error:
        raise transport_error(error) from error


def transport_error(error: Exception) -> MistralException:
    """Our exception for an httpx or httpx2 transport error (raise it ``from error``); see `http_errors`.
    The two packages' classes share names and shapes, not bases."""
    httpx2 = sys.modules.get("httpx2")
    if isinstance(error, httpx.TimeoutException) or (httpx2 is not None and isinstance(error, httpx2.TimeoutException)):
        return MistralTimeoutException(f"the request timed out ({type(error).__name__})")
    detail = str(error) or type(error).__name__
    return MistralConnectionException(f"connection error: {detail}")
