"""Signer: produce the headers a sender would send, for tests, fixtures and outgoing webhooks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from .schemes.base import Scheme

__all__ = ["Signer"]


class Signer:
    """Sign deliveries with one secret, exactly as the scheme's sender does.

    ``Signer(scheme, secret=...).sign(body, timestamp=..., msg_id=..., url=...)`` has the same
    signature for every scheme: each uses what it signs and ignores the rest. A missing
    timestamp means now; a missing message id means a fresh random one.
    """

    def __init__(self, scheme: Scheme, secret: object) -> None:
        from .schemes.base import Scheme

        if not isinstance(scheme, Scheme):
            raise ConfigurationError("scheme must be a hookseal scheme such as GitHub().")
        if secret is None:
            raise ConfigurationError("Signer needs a secret.")
        self.scheme = scheme
        self._key = scheme.load_signing_key(secret)

    def sign(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        msg_id: str | None = None,
        url: str | None = None,
        method: str = "POST",
    ) -> dict[str, str]:
        """Return the headers that sign ``body`` (a new dict each call)."""
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"body must be bytes, not {type(body).__name__}.")
        if timestamp is None:
            timestamp = int(time.time())
        elif isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
            raise ConfigurationError(f"timestamp must be a non-negative int, not {timestamp!r}.")
        if msg_id is None:
            msg_id = self.scheme.new_message_id()
        return self.scheme.sign(
            self._key, bytes(body), timestamp=timestamp, msg_id=msg_id, url=url, method=method
        )

    def __repr__(self) -> str:
        return f"Signer(scheme={self.scheme!r}, secret='**********')"
