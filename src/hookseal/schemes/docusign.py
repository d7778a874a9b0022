"""DocuSign Connect: ``X-DocuSign-Signature-1``, ``-2``, ... one HMAC-SHA256 (base64) per key.

Docs: https://developers.docusign.com/platform/webhooks/connect/hmac/ ("Using HMAC security")
and https://developers.docusign.com/platform/webhooks/connect/validate/ ("How to validate an
HMAC signature"): DocuSign computes an HMAC-SHA256 of the entire raw body with each active
Connect key of the account (up to 100) and sends the base64 of each in its own header,
numbered from 1. ``X-Authorization-Digest: HMACSHA256`` names the algorithm. The key is used as
the text the Connect page shows (UTF-8), never base64-decoded.

Nothing else is signed: no timestamp, no delivery id, no URL. Replays are bounded by the nonce
store's retention, and the replay identity is every configured key's MAC of the body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._encoding import decode_base64, encode_base64
from .._errors import MalformedHeader, MissingHeader, SignatureMismatch
from .._headers import HeaderName, read_header
from .base import Limits, Scheme, Verified, hmac_matches

__all__ = ["DocuSignConnect"]

#: DocuSign allows at most 100 Connect HMAC keys per account, so it never numbers a header
#: beyond 100.
MAX_CONNECT_KEYS = 100
_SERIES = "X-DocuSign-Signature-"
#: ``X-DocuSign-Signature-1`` to ``-101``: the hundred DocuSign can send and the one after the
#: last a verifier reads (present, it means more signatures than ``max_signatures`` allows).
_NAMES = tuple(HeaderName(f"{_SERIES}{number}") for number in range(1, MAX_CONNECT_KEYS + 2))
_FIRST = _NAMES[0].name
_DIGEST_HEADER = "X-Authorization-Digest"


class DocuSignConnect(Scheme):
    """DocuSign Connect webhooks signed with one or more Connect HMAC keys (text, UTF-8).

    Reads ``X-DocuSign-Signature-1`` to ``X-DocuSign-Signature-<max_signatures>`` (each at
    most once, each one canonical base64 value) and accepts the delivery when any of them is
    the HMAC-SHA256 of the raw body under any configured key. A header numbered beyond
    ``max_signatures`` is refused as ``too_many_signatures`` before any MAC is computed: an
    account with more active keys than the verifier's ``max_signatures`` (default 8) needs a
    larger ``max_signatures`` (at most 100 are ever read).
    """

    name = "docusign"

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
        """Read the numbered signature headers, then compare each with every key's MAC."""
        count = min(limits.max_signatures, MAX_CONNECT_KEYS)
        max_length = limits.max_header_bytes
        values: list[tuple[str, str]] = []
        for name in _NAMES[:count]:
            value = read_header(headers, name, max_length)
            if value is not None:
                values.append((name.name, value))
        if count < MAX_CONNECT_KEYS:
            beyond = _NAMES[count]
            if read_header(headers, beyond, max_length) is not None:
                raise MalformedHeader(
                    f"The delivery carries {beyond.name!r}, more signatures than "
                    f"max_signatures ({limits.max_signatures}) allows. If the DocuSign account "
                    "has that many active Connect keys, raise max_signatures (DocuSign sends at "
                    "most 100); otherwise remove keys no longer in use.",
                    reason="too_many_signatures",
                    header=beyond.name,
                )
        if not values:
            raise MissingHeader(
                f"No {_FIRST!r} header (signature) was sent. Check that the Connect "
                "configuration has 'Include HMAC Signature' ticked and that no proxy strips "
                "the header.",
                header=_FIRST,
            )
        presented = [decode_base64(value, header) for header, value in values]
        found = hmac_matches(keys, presented, b"", body)
        if found is None:
            raise SignatureMismatch(
                f"No {_SERIES}N header matches the body with any configured Connect key. "
                "Check that the key is one of the account's active Connect keys and that the "
                "body reaches the verifier exactly as sent (not re-serialised, no added "
                "newline).",
                header=values[0][0],
            )
        index, macs = found
        return Verified(body, None, None, index, self.name, macs)

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
        """Return the headers DocuSign sends for one key: its signature as header number 1."""
        return {
            _FIRST: encode_base64(key.digest(body)),
            _DIGEST_HEADER: "HMACSHA256",
        }

    def __repr__(self) -> str:
        return "DocuSignConnect()"
