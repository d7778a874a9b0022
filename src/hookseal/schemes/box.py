"""Box webhooks (v2): base64 HMAC-SHA256 of ``body + delivery timestamp``, two keys.

Docs: https://developer.box.com/guides/webhooks/v2/signatures-v2/

Box sends ``BOX-SIGNATURE-PRIMARY`` and ``BOX-SIGNATURE-SECONDARY``, the base64 HMAC-SHA256 of
the raw body followed directly by ``BOX-DELIVERY-TIMESTAMP`` (RFC 3339), keyed with the
application's primary and secondary *signature keys* respectively, plus
``BOX-SIGNATURE-VERSION: 1`` and ``BOX-SIGNATURE-ALGORITHM: HmacSHA256``. Two keys exist so one
can be rotated while the other stays valid: a delivery is authentic when either signature
matches its key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._errors import SignatureMismatch
from .._headers import read_header
from .._limits import Limits
from ._rfc3339 import parse_rfc3339
from .base import (
    HeaderName,
    Scheme,
    Verified,
    check_message_id,
    hmac_matches,
    hmac_mismatch,
    require_header,
)

__all__ = ["Box"]

_PRIMARY = HeaderName("BOX-SIGNATURE-PRIMARY")
_SECONDARY = HeaderName("BOX-SIGNATURE-SECONDARY")
_VERSION = HeaderName("BOX-SIGNATURE-VERSION")
_ALGORITHM = HeaderName("BOX-SIGNATURE-ALGORITHM")
_TIMESTAMP = HeaderName("BOX-DELIVERY-TIMESTAMP")
_DELIVERY_ID = HeaderName("BOX-DELIVERY-ID")


_BACKSLASH = re.compile(r"\\(?!/)")
_TO_ESCAPE = re.compile(r"[^\x20-\x7e]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(body: bytes) -> bytes | None:
    r"""The body as Box's SDKs re-escape it before a second signature check, or None.

    Box's generated SDKs (``box_sdk_gen`` ``compute_webhook_signature(escape_body=True)``)
    accept a signature over the body with every backslash not before ``/`` doubled and every
    character outside printable ASCII written as a JSON ``\uXXXX`` escape (``\n``, ``\r``,
    ``\t`` for those three): Box signs some deliveries in that form. None when the body is not
    UTF-8, holds a backslash (see below) or escaping changes nothing. Linear in the body.
    """
    if b"\\" in body:
        # A body holding a backslash can be the escaped form of another body (a JSON
        # ``\\n`` is the escape of ``\n``): the genuine signature would verify a body with
        # different JSON. Only a backslash-free body has one escaped form and no other.
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    escaped = _TO_ESCAPE.sub(_escape_char, _BACKSLASH.sub(r"\\\\", text)).encode("ascii")
    return None if escaped == body else escaped


class Box(Scheme):
    """Box webhooks (v2), signed with the application's primary and secondary signature keys.

    A delivery carries one signature per key the application has generated (at least one).

    Configure both keys (Developer Console → your app → Webhooks → Manage signature keys), as
    text: ``Verifier(Box(), [primary, secondary], max_age=600, max_future=0)`` applies Box's
    own rule (refuse deliveries older than 10 minutes, or from the future). Either signature
    may match either configured key, so the order of the two keys does not matter, and a
    rotation of one never interrupts deliveries.

    ``BOX-DELIVERY-ID`` is exposed as :attr:`Verified.msg_id`; it is not signed.
    """

    name = "box"
    signs_timestamp = True
    id_header = _DELIVERY_ID

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
        """Check the version, algorithm, signatures and timestamp window, then the MACs."""
        version = require_header(headers, _VERSION, limits, "signature version")
        algorithm = require_header(headers, _ALGORITHM, limits, "signature algorithm")
        if version != "1" or algorithm != "HmacSHA256":
            raise SignatureMismatch(
                "Box signature version 1 with HmacSHA256 is the only form accepted; this "
                "delivery names another.",
                reason="no_supported_signature",
                header=_VERSION.name,
            )
        presented = []
        for name in (_PRIMARY, _SECONDARY):
            value = read_header(headers, name, limits.max_header_bytes)
            if value is not None:
                presented.append(decode_base64(value, name.name))
        if not presented:
            require_header(headers, _PRIMARY, limits)  # raises MissingHeader
        msg_id = read_header(headers, _DELIVERY_ID, limits.max_header_bytes)
        if msg_id is not None:
            check_message_id(msg_id, _DELIVERY_ID.name, limits)
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = parse_rfc3339(raw_ts, _TIMESTAMP.name)
        limits.check_window(timestamp, now, _TIMESTAMP.name)
        # The timestamp follows the body: the MAC covers body + timestamp. Box signs some
        # bodies in an escaped form (see _escaped): that spelling is the second candidate.
        tail = raw_ts.encode("ascii")
        found = hmac_matches(keys, presented, b"", body + tail)
        if found is None:
            escaped = _escaped(body)
            if escaped is not None:
                found = hmac_matches(keys, presented, b"", escaped + tail)
        if found is None:
            raise hmac_mismatch(_PRIMARY.name)
        index, macs = found
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=msg_id,
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
        """The headers Box sends, both signatures made with ``key`` (tests only)."""
        raw_ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(timestamp))
        signature = encode_base64(key.digest(body + raw_ts.encode("ascii")))
        return {
            _DELIVERY_ID.name: msg_id,
            _TIMESTAMP.name: raw_ts,
            _VERSION.name: "1",
            _ALGORITHM.name: "HmacSHA256",
            _PRIMARY.name: signature,
            _SECONDARY.name: signature,
        }

    def __repr__(self) -> str:
        return "Box()"
