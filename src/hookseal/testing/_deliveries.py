"""Signed fake deliveries and the glue to send them through each framework's test client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import _verifier
from .._signer import Signer
from ..schemes._registry import scheme_by_name
from ..schemes.base import Scheme

__all__ = ["SignedDelivery", "sign_delivery"]


@dataclass
class SignedDelivery:
    """A body and the headers that sign it, ready to send to a receiver under test."""

    body: bytes
    headers: dict[str, str]
    url: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        """The signature headers plus any extra ones (such as Content-Type)."""
        return {**self.headers, **self.extra_headers}

    def tampered(self, body: bytes | None = None) -> SignedDelivery:
        """The same headers with another body (by default the body with one byte changed)."""
        if body is None:
            body = (bytes([self.body[0] ^ 1]) + self.body[1:]) if self.body else b"x"
        return SignedDelivery(body, dict(self.headers), self.url, dict(self.extra_headers))

    def without(self, *names: str) -> SignedDelivery:
        """The same delivery without the named headers (any case)."""
        drop = {name.lower() for name in names}
        kept = {k: v for k, v in self.headers.items() if k.lower() not in drop}
        return SignedDelivery(self.body, kept, self.url, dict(self.extra_headers))

    def send_flask(self, client: Any, path: str) -> Any:
        """POST through a Flask/Werkzeug ``app.test_client()``; returns its response."""
        return client.post(path, data=self.body, headers=self.all_headers())

    def send_starlette(self, client: Any, path: str) -> Any:
        """POST through a Starlette/FastAPI ``TestClient``; returns its response."""
        return client.post(path, content=self.body, headers=self.all_headers())

    def send_django(self, client: Any, path: str) -> Any:
        """POST through Django's test ``Client``; returns its response."""
        headers = self.all_headers()
        content_type = _pop_content_type(headers)
        return client.post(path, data=self.body, content_type=content_type, headers=headers)

    async def asend_django(self, client: Any, path: str) -> Any:
        """POST through Django's test ``AsyncClient``; returns its response."""
        headers = self.all_headers()
        content_type = _pop_content_type(headers)
        return await client.post(path, data=self.body, content_type=content_type, headers=headers)


def _pop_content_type(headers: dict[str, str]) -> str:
    for name in list(headers):
        if name.lower() == "content-type":
            return headers.pop(name)
    return "application/json"


def sign_delivery(
    scheme: Scheme | str,
    secret: object,
    body: bytes = b'{"type": "test.event"}',
    *,
    timestamp: int | None = None,
    msg_id: str | None = None,
    url: str | None = None,
    content_type: str | None = "application/json",
) -> SignedDelivery:
    """Sign ``body`` for ``scheme`` (a scheme object or a name such as ``"github"``).

    Args:
        scheme: a scheme object, or a provider name as the command line takes it.
        secret: the secret to sign with (for Discord and Standard Webhooks ``v1a``, the
            private key).
        body: the raw body to sign.
        timestamp: Unix seconds; by default hookseal's clock, so under the ``frozen_clock``
            fixture deliveries are signed at the frozen time.
        msg_id: the message id; by default a fresh random one.
        url: the full URL, for schemes that sign it (Twilio). The framework test clients
            request ``http://localhost`` (Flask) or ``http://testserver`` (Starlette, Django).
        content_type: sent as ``Content-Type`` by the ``send_*`` helpers (None: not sent).
    """
    if isinstance(scheme, str):
        scheme = scheme_by_name(scheme)
    if timestamp is None:
        timestamp = int(_verifier.default_clock())
    headers = Signer(scheme, secret).sign(body, timestamp=timestamp, msg_id=msg_id, url=url)
    extra = {"Content-Type": content_type} if content_type else {}
    return SignedDelivery(body, headers, url, extra)
