"""Audit events: one structured record per verification, accepted or rejected."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, Literal

__all__ = ["JSONLinesSink", "VerificationEvent", "log_event"]

logger = logging.getLogger("hookseal")

_MAX_ID_CHARS = 64


def escape_for_log(value: str | None, limit: int = _MAX_ID_CHARS) -> str | None:
    """Make attacker-supplied text safe to log: escaped, printable ASCII, truncated."""
    if value is None:
        return None
    clipped = value[:limit]
    # One pass, so an escape sequence sent literally ("\\x0a") stays distinguishable from an
    # escaped character; spaces are escaped too, so an id cannot forge "key=value" log fields.
    escaped = "".join(
        c if c.isascii() and c.isprintable() and c not in _ESCAPED else _escape_char(c)
        for c in clipped
    )
    return escaped + ("..." if len(value) > limit else "")


_ESCAPED = frozenset(" \\")


def _escape_char(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@dataclass(frozen=True)
class VerificationEvent:
    """What happened to one delivery. Never holds the body, a header value, a signature or a secret.

    Attributes:
        outcome: ``"accepted"`` or ``"rejected"``.
        reason: the rejection's reason code, or ``None`` when accepted.
        scheme: the scheme's name.
        msg_id: the message id as sent, escaped and truncated for logging (not proof of anything).
        timestamp: the signed timestamp, when the delivery was accepted and the scheme signs one.
        key_index: which configured secret matched, when accepted.
        remote_addr: the socket peer address, escaped.
        duration: seconds spent verifying.
        status_code: the HTTP status an adapter answers with (200 when accepted).
        at: when the event was emitted (Unix seconds, wall clock).
        client_addr: the client address the verifier's allowlist resolved (behind trusted
            proxies, the forwarded client; escaped), or None when the verifier has no
            allowlist or it could not resolve one. Count and alert on this, not on
            ``remote_addr``, behind a proxy or load balancer.
    """

    outcome: Literal["accepted", "rejected"]
    reason: str | None
    scheme: str
    msg_id: str | None
    timestamp: int | None
    key_index: int | None
    remote_addr: str | None
    duration: float
    status_code: int
    at: float = field(default_factory=time.time)
    client_addr: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The event as a JSON-ready dict."""
        return asdict(self)


EventSink = Callable[[VerificationEvent], None]


def log_event(event: VerificationEvent) -> None:
    """The default sink: rejections at WARNING, acceptances at DEBUG, on the ``hookseal`` logger.

    A rejection names the client the allowlist resolved (``client=``) when it differs from the
    socket peer.
    """
    if event.outcome == "rejected":
        if event.client_addr is not None and event.client_addr != event.remote_addr:
            logger.warning(
                "hookseal: rejected delivery: reason=%s status=%d scheme=%s peer=%s client=%s "
                "msg_id=%s",
                event.reason,
                event.status_code,
                event.scheme,
                event.remote_addr,
                event.client_addr,
                event.msg_id,
            )
            return
        logger.warning(
            "hookseal: rejected delivery: reason=%s status=%d scheme=%s peer=%s msg_id=%s",
            event.reason,
            event.status_code,
            event.scheme,
            event.remote_addr,
            event.msg_id,
        )
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "hookseal: accepted delivery: scheme=%s peer=%s client=%s msg_id=%s key_index=%s",
            event.scheme,
            event.remote_addr,
            event.client_addr,
            event.msg_id,
            event.key_index,
        )


class JSONLinesSink:
    """An event sink writing one JSON object per line to a text stream (thread-safe).

    Example: ``Verifier(..., on_event=JSONLinesSink(open("audit.jsonl", "a")))``.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: VerificationEvent) -> None:
        """Write ``event`` as one line of JSON and flush."""
        line = json.dumps(event.as_dict(), separators=(",", ":"), sort_keys=True)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def __repr__(self) -> str:
        return "JSONLinesSink()"
