"""Glue shared by the framework adapters: generic responses, the rejection hook, body limits.

Adapters stay thin: they build a :class:`~hookseal.Delivery`, call the verifier and turn a
:class:`~hookseal.VerificationError` into the status and generic text chosen here. The detail
(the reason code, the peer, the message id) goes to the verifier's audit event, logged once by
the default sink; it never appears in a response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .._delivery import Delivery
from .._errors import (
    ConfigurationError,
    MalformedHeader,
    PayloadTooLarge,
    ReplayedDelivery,
    VerificationError,
)
from .._headers import Headers
from .._verifier import Verifier

__all__ = [
    "GENERIC_BODIES",
    "RejectHook",
    "check_on_reject",
    "check_release_on_error",
    "check_replay_status",
    "check_verifier",
    "declared_length",
    "generic_body",
    "handler_failed",
    "payload_too_large",
    "record_early_rejection",
    "run_on_reject",
    "status_for",
]

logger = logging.getLogger("hookseal")

#: The only text a rejected sender ever sees, one stable line per status. It names no reason
#: code: distinct messages per failure would tell an attacker which check they passed.
GENERIC_BODIES: dict[int, str] = {
    400: "malformed webhook request",
    401: "invalid webhook signature",
    403: "webhook sender not allowed",
    409: "webhook delivery already received",
    413: "webhook payload too large",
    503: "webhook verification unavailable",
}

#: ``on_reject(request, error)``: called once per rejection with the framework's request
#: object (the ASGI scope for the Starlette middleware) and the error, after the verifier has
#: logged it. Meant for metrics; an exception it raises is logged and ignored.
RejectHook = Callable[[Any, VerificationError], object]


def check_verifier(verifier: object, where: str = "verifier") -> Verifier:
    """Return ``verifier`` if it is a :class:`~hookseal.Verifier`, else raise ConfigurationError."""
    if not isinstance(verifier, Verifier):
        raise ConfigurationError(
            f"{where} must be a hookseal.Verifier, not {type(verifier).__name__}."
        )
    return verifier


def check_replay_status(value: object) -> int:
    """Validate the status answered to a replayed delivery (an int from 200 to 599)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599:
        raise ConfigurationError(
            f"replay_status must be an HTTP status from 200 to 599 (default 409), not {value!r}."
        )
    return value


def check_on_reject(value: object) -> RejectHook | None:
    """Validate the optional rejection hook."""
    if value is not None and not callable(value):
        raise ConfigurationError("on_reject must be a callable on_reject(request, error), or None.")
    return value


def check_release_on_error(value: object) -> bool:
    """Validate ``release_on_error`` (True or False)."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"release_on_error must be True or False, not {value!r}.")
    return value


def handler_failed(status: int | None) -> bool:
    """Whether the handler's answer is a failure the sender retries: 5xx, or no answer at all.

    After such an answer the adapters call :meth:`~hookseal.Verifier.release` (when
    ``release_on_error`` is on) so that the retry of the delivery is not refused as a replay.
    """
    return status is None or status >= 500


def status_for(error: VerificationError, replay_status: int) -> int:
    """The status to answer ``error`` with: its own, except the configured one for replays."""
    if isinstance(error, ReplayedDelivery):
        return replay_status
    return error.status_code


def generic_body(error: VerificationError) -> str:
    """The generic response text for ``error`` (keyed by its class's status, not the reason)."""
    return GENERIC_BODIES.get(error.status_code, "webhook rejected")


def run_on_reject(hook: RejectHook | None, request: object, error: VerificationError) -> None:
    """Call the rejection hook; a failure is logged and ignored (the rejection stands)."""
    if hook is None:
        return
    try:
        hook(request, error)
    except Exception:
        logger.exception("hookseal: the on_reject hook failed; the rejection stands.")


def declared_length(value: str | None) -> int | None:
    """Parse a ``Content-Length`` value strictly (ASCII digits only), or None when absent."""
    if value is None:
        return None
    if not value or len(value) > 20 or not (value.isascii() and value.isdigit()):
        raise MalformedHeader(
            "The Content-Length header is not a plain number.", header="Content-Length"
        )
    return int(value)


def payload_too_large(size: int | None, limit: int) -> PayloadTooLarge:
    """The error for a body over ``limit`` (``size`` when declared, None when read past it)."""
    what = f"declares {size} bytes" if size is not None else "is longer"
    return PayloadTooLarge(
        f"The body {what}; the limit is {limit} (max_body_bytes). hookseal read no more than "
        "the limit (a server that buffers bodies may have read more: see docs/deployment.md)."
    )


def record_early_rejection(
    verifier: Verifier,
    error: VerificationError,
    headers: Headers,
    *,
    method: str,
    url: str | None,
    remote_addr: str | None,
) -> None:
    """Record a rejection made while reading the body (before the verifier saw it)."""
    verifier.record_rejection(
        error, Delivery(b"", headers, method=method, url=url, remote_addr=remote_addr)
    )
