"""Zendesk webhooks: base64 HMAC-SHA256 of ``timestamp + body``.

Docs: https://developer.zendesk.com/documentation/webhooks/verifying/

Zendesk sends ``X-Zendesk-Webhook-Signature`` (base64) and
``X-Zendesk-Webhook-Signature-Timestamp`` (an ISO 8601 / RFC 3339 time such as
``2021-10-06T22:21:36Z``; Unix seconds are accepted too, read strictly either way). The signed
bytes are the timestamp text as sent followed directly by the raw body; the key is the
webhook's *signing secret* (Admin Center → Webhooks → the webhook → Signing secret), used as
UTF-8 text exactly as shown (it looks like base64 but is not decoded).
Zendesk signs test deliveries sent from Admin Center with a fixed, published test secret,
``dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==``: never configure it in production.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64, parse_timestamp
from .._errors import ConfigurationError
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from ._rfc3339 import parse_rfc3339
from .base import HeaderName, Scheme, Verified, match_hmac, require_header

__all__ = ["Zendesk"]

_SIGNATURE = HeaderName("X-Zendesk-Webhook-Signature")
_TIMESTAMP = HeaderName("X-Zendesk-Webhook-Signature-Timestamp")
#: The secret Zendesk uses for test deliveries from Admin Center (published in its docs).
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="  # noqa: S105 - published test value


class Zendesk(Scheme):
    """Zendesk webhooks (``X-Zendesk-Webhook-Signature``).

    Args:
        allow_test_secret: accept Zendesk's published test secret as a configured secret.
            Off by default: anyone can sign with it, so it belongs only in a test setup.

    The secret is the webhook's signing secret, as text. The timestamp is signed and checked
    against the verifier's window (Zendesk documents none; default 300 s, both ways).
    """

    name = "zendesk"
    signs_timestamp = True

    def __init__(self, *, allow_test_secret: bool = False) -> None:
        if not isinstance(allow_test_secret, bool):
            raise ConfigurationError("allow_test_secret must be True or False.")
        self.allow_test_secret = allow_test_secret

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The signing secret as its UTF-8 bytes; the public test secret only when allowed."""
        raw = secret_bytes(secret, "Zendesk signing secret")
        if raw == TEST_SECRET.encode() and not self.allow_test_secret:
            raise ConfigurationError(
                "This is Zendesk's published test signing secret: anyone can sign with it. "
                "Configure the webhook's own signing secret, or pass "
                "Zendesk(allow_test_secret=True) in a test setup."
            )
        return HMACKey(raw)

    @override
    def load_signing_key(self, secret: object) -> HMACKey:
        """The signing secret (the test secret is allowed for signing test deliveries)."""
        return HMACKey(secret_bytes(secret, "Zendesk signing secret"))

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check both headers, the timestamp window, then the signature."""
        header = _SIGNATURE.name
        presented = decode_base64(require_header(headers, _SIGNATURE, limits), header)
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = (
            parse_timestamp(raw_ts, _TIMESTAMP.name)
            if raw_ts.isdigit()
            else parse_rfc3339(raw_ts, _TIMESTAMP.name)
        )
        limits.check_window(timestamp, now, _TIMESTAMP.name)
        check_mac_length(presented, "sha256", header)
        index, macs = match_hmac(keys, (presented,), raw_ts.encode("ascii"), body, header)
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """The two headers Zendesk sends (the timestamp in UTC, whole seconds)."""
        raw_ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
        mac = key.digest_parts(raw_ts.encode("ascii"), body)
        return {_SIGNATURE.name: encode_base64(mac), _TIMESTAMP.name: raw_ts}

    def __repr__(self) -> str:
        return f"Zendesk(allow_test_secret={self.allow_test_secret})"
