"""When to retry and how long to wait (pure policy), plus the tenacity drivers that apply it.

The first attempt never touches tenacity: it is imported and engaged only once an attempt has failed with a
retryable error, which keeps ``import mistral_agents`` and the happy path lean. Each failed attempt that is about to
be retried is told to the ``attempt_listener`` of the current context, if any (how instrumentation sees retries).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from .exceptions import MistralAPIException, MistralConnectionException, MistralException

__all__ = [
    "RETRYABLE_STATUS_CODES",
    "AttemptListener",
    "RetryPolicy",
    "attempt_listener",
    "is_retryable",
    "retry_after_seconds",
]

T = TypeVar("T")

#: Called with (number of the attempt that failed, its error, seconds until the next attempt).
AttemptListener = Callable[[int, BaseException, float], None]
#: Who hears of retried attempts in this context (set around one model call by an observer); read only on a retry.
attempt_listener: ContextVar[AttemptListener | None] = ContextVar("mistral_agents_attempt_listener", default=None)

#: Statuses worth another try: request timeout, rate limit, transient server errors.
RETRYABLE_STATUS_CODES = frozenset({408, 429, 500, 502, 503, 504})


async def _asyncio_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported on first use: a sync-only program never loads asyncio for us."""
    import asyncio

    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How retries wait: exponential backoff with jitter, or the server's ``Retry-After`` when it sends one.

    ``sleep`` and ``async_sleep`` are injectable so tests (and impatient callers) need not wait.
    """

    initial_wait: float = 0.5
    max_wait: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=_asyncio_sleep, repr=False)

    def wait_seconds(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(error, MistralAPIException):
            told = retry_after_seconds(error.headers)
            if told is not None:
                return min(told, self.max_retry_after)
        backoff = min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))
        return float(backoff * (1 - self.jitter * random.random()))


def _tell(attempt: int, error: BaseException | None, seconds: float) -> None:
    """Tell the context's ``attempt_listener`` that attempt ``attempt`` failed and another follows."""
    listener = attempt_listener.get()
    if listener is not None and error is not None:
        try:
            listener(attempt, error, seconds)
        except Exception:  # observing must never change what happens
            logging.getLogger("mistral_agents").exception("attempt listener raised; ignored")


def _before_sleep(state: object) -> None:
    """tenacity's ``before_sleep``: called only when another attempt really follows."""
    action = getattr(state, "next_action", None)
    _tell(getattr(state, "attempt_number", 0) + 1, _error_of(state), getattr(action, "sleep", 0.0))


def is_retryable(error: BaseException) -> bool:
    """Connection errors, timeouts and 408/429/500/502/503/504 are retried; nothing else is."""
    if isinstance(error, MistralConnectionException):
        return True
    return isinstance(error, MistralAPIException) and error.status_code in RETRYABLE_STATUS_CODES


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` (seconds or HTTP date) or ``retry-after-ms``, as non-negative seconds; None if absent."""
    lowered = {k.lower(): v for k, v in headers.items()} if headers else {}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_sync(operation: Callable[[], T], first_error: MistralException, retries: int, policy: RetryPolicy) -> T:
    """Run ``operation`` up to ``retries`` more times after it failed once with ``first_error``."""
    import tenacity

    attempts = 1

    def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return operation()

    wait = policy.wait_seconds(1, first_error)
    _tell(1, first_error, wait)
    policy.sleep(wait)
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries),
        retry=tenacity.retry_if_exception(is_retryable),
        wait=lambda state: policy.wait_seconds(state.attempt_number + 1, _error_of(state)),
        before_sleep=_before_sleep,
        sleep=policy.sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except MistralException as error:
        error.attempts = attempts
        raise


async def retry_async(
    operation: Callable[[], Awaitable[T]], first_error: MistralException, retries: int, policy: RetryPolicy
) -> T:
    """The async twin of `retry_sync`, driven by the same policy."""
    import tenacity

    attempts = 1

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await operation()

    wait = policy.wait_seconds(1, first_error)
    _tell(1, first_error, wait)
    await policy.async_sleep(wait)
    retrying = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(retries),
        retry=tenacity.retry_if_exception(is_retryable),
        wait=lambda state: policy.wait_seconds(state.attempt_number + 1, _error_of(state)),
        before_sleep=_before_sleep,
        sleep=policy.async_sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt)
    except MistralException as error:
        error.attempts = attempts
        raise


def _error_of(state: object) -> BaseException | None:
    outcome = getattr(state, "outcome", None)
    return outcome.exception() if outcome is not None else None
