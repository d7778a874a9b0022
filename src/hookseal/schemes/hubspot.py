"""HubSpot request signatures: v3 (HMAC-SHA256 with a timestamp) and the legacy v2.

Docs: https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
Reference implementation: ``hubspot.utils.signature.Signature`` (hubspot-api-client on PyPI).

**v3** (:class:`HubSpot`): ``X-HubSpot-Signature-v3`` is the base64 HMAC-SHA256, keyed with the
app's *client secret*, of ``method + URI + body + timestamp``, where the timestamp is
``X-HubSpot-Request-Timestamp`` in milliseconds. HubSpot asks receivers to refuse requests
older than 5 minutes (the verifier's default window, applied both ways).

**v2** (:class:`HubSpotV2`): ``X-HubSpot-Signature`` (with ``X-HubSpot-Signature-Version: v2``)
is the hex SHA-256 of ``client secret + method + URI + body``. It is not an HMAC and signs no
time: see :class:`HubSpotV2` for what that costs. Prefer v3, which HubSpot sends with v2.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, decode_hex, encode_base64
from .._errors import MalformedHeader, SignatureMismatch
from .._headers import HeaderName, read_header
from .._keys import HMACKey, Secret, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from ._signed_url import check_request_url, match_url_hmac, url_mismatch
from ._timestamp import checked_timestamp
from .base import Scheme, Verified, require_header

__all__ = ["HubSpot", "HubSpotV2"]

_V3 = HeaderName("X-HubSpot-Signature-v3")
_TIMESTAMP = HeaderName("X-HubSpot-Request-Timestamp")
_V2 = HeaderName("X-HubSpot-Signature")
_VERSION = HeaderName("X-HubSpot-Signature-Version")
_URL = "the URL HubSpot requested"
_SHA256_SIZE = 32
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_compare = hmac.compare_digest


def _request_line(url: str | None, method: str | None) -> bytes:
    """``method + URI`` as HubSpot signs them; caller bugs raise, hostile values are refused."""
    signed = check_request_url(url, _URL)
    verb = "POST" if method is None else method
    if verb not in _METHODS:
        raise MalformedHeader(
            "The request method cannot be one HubSpot signs (GET, POST, PUT, PATCH or DELETE).",
            header="url",
        )
    return (verb + signed).encode("ascii")


class HubSpot(Scheme):
    """HubSpot v3 request signatures (webhooks, workflow actions, CRM cards).

    The secret is the app's *client secret* (app settings → Auth), as text. Verifying needs
    ``url=`` (the URL HubSpot requested) and the request method (``POST`` when not given).
    The URL is signed exactly as given: HubSpot's guide mentions decoding some
    percent-escapes first, its Python library does not; hookseal does what the library does.
    """

    name = "hubspot"
    signs_timestamp = True
    signs_url = True

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The client secret as its UTF-8 bytes."""
        return HMACKey(secret_bytes(secret, "HubSpot client secret"))

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
        """Check both headers, the window (milliseconds), then the signature."""
        request_line = _request_line(url, method)
        header = _V3.name
        presented = decode_base64(require_header(headers, _V3, limits), header)
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = checked_timestamp(raw_ts, _TIMESTAMP.name, limits, now, per_second=1000)
        check_mac_length(presented, "sha256", header)
        # The body sits between the URI and the timestamp.
        index, macs = match_url_hmac(
            keys,
            presented,
            request_line,
            body + raw_ts.encode("ascii"),
            header,
            "the method, URL, body and timestamp",
        )
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
        """The two v3 headers (the timestamp in milliseconds)."""
        raw_ts = str(timestamp * 1000)
        mac = key.digest_parts(_request_line(url, method), body + raw_ts.encode("ascii"))
        return {_V3.name: encode_base64(mac), _TIMESTAMP.name: raw_ts}

    def __repr__(self) -> str:
        return "HubSpot()"


def _v2_matches(
    keys: Sequence[Any], presented: bytes, signed: bytes
) -> tuple[int, list[bytes]] | None:
    """(index of the newest matching key, every key's digest), or None when none matches.

    Returns instead of raising, as :func:`~hookseal.schemes.base.hmac_matches` does, so that a
    rejection's traceback holds no expected digest.
    """
    index = -1
    digests: list[bytes] = []
    for position in range(len(keys) - 1, -1, -1):
        digest = hashlib.sha256(keys[position].value + signed).digest()
        digests.append(digest)
        if index < 0 and _compare(digest, presented):
            index = position
    return None if index < 0 else (index, digests)


class HubSpotV2(Scheme):
    """HubSpot's legacy v2 signature: hex SHA-256 of ``secret + method + URI + body``.

    Use :class:`HubSpot` (v3) wherever HubSpot sends it. v2 exists for endpoints that only
    receive v2, and its weaknesses are HubSpot's, not fixable here:

    - no timestamp is signed: a captured request stays valid for ever; replays are refused
      only while the nonce store remembers them (``Verifier(replay_retention=...)``);
    - it is a plain hash of a secret-prefixed message, open to *length extension*: from one
      genuine signature anyone can compute a valid one for the same body followed by SHA-256
      padding and any suffix. That padding always holds a NUL byte, which no JSON body
      contains, so bodies holding a NUL byte are refused: that closes the extension.

    The ``X-HubSpot-Signature-Version`` header, when sent, must say ``v2`` (a ``v1``
    signature, which covers the body alone, is never accepted here).
    """

    name = "hubspot-v2"
    signs_timestamp = False
    signs_url = True

    @override
    def load_key(self, secret: object) -> Secret:
        """The client secret as its UTF-8 bytes (hashed with each request, not an HMAC key)."""
        return Secret(secret_bytes(secret, "HubSpot client secret"))

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
        """Check the version, the signature header and the body, then the hash."""
        request_line = _request_line(url, method)
        header = _V2.name
        version = read_header(headers, _VERSION, limits.max_header_bytes)
        if version is not None and version != "v2":
            raise SignatureMismatch(
                f"{_VERSION.name!r} says {version[:8]!r}; HubSpotV2 accepts only 'v2'.",
                reason="no_supported_signature",
                header=_VERSION.name,
            )
        presented = decode_hex(require_header(headers, _V2, limits), header)
        if len(presented) != _SHA256_SIZE or b"\x00" in body:
            raise SignatureMismatch(
                f"The {header!r} signature does not match (wrong length, or a body holding a "
                "NUL byte, the mark of a length-extension forgery).",
                header=header,
            )
        found = _v2_matches(keys, presented, request_line + body)
        if found is None:
            # Raised here, after _v2_matches returned: no frame of this traceback holds the
            # expected digests (each verifies the body for a key the sender did not use).
            raise url_mismatch(header, "the method, URL and body")
        index, digests = found
        return Verified(
            body,
            timestamp=None,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_material=digests,
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
        """The two v2 headers."""
        digest = hashlib.sha256(key.value + _request_line(url, method) + body).hexdigest()
        return {_V2.name: digest, _VERSION.name: "v2"}

    def __repr__(self) -> str:
        return "HubSpotV2()"
