"""HMACScheme: the configurable scheme for senders that sign with a shared HMAC secret."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_base64, decode_hex, encode_base64
from .._errors import ConfigurationError, MalformedHeader
from .._headers import HeaderName, read_header
from .._keys import HMACKey, hash_constructor, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from ._timestamp import checked_timestamp
from .base import (
    Scheme,
    check_message_id,
    match_hmac,
    require_header,
)

__all__ = ["HMACScheme"]

_FIELD = re.compile(r"\{(\w*)\}")
_FIELDS = {"id", "timestamp", "body"}


def _check_field_boundaries(template: str) -> None:
    """Refuse a template in which the boundary between two signed fields can move.

    Between two fields there must be at least one character that is not a letter or digit:
    message ids may not contain those separators (checked per delivery) and timestamps are
    digits only, so every field ends at a fixed place. With ``{id}{timestamp}`` (or
    ``{id}x{timestamp}``) the same signed bytes could be read as another id and timestamp, and
    with ``{id}{body}`` as another id and body.
    """
    literals = _FIELD.split(template)[2:-1:2]
    for literal in literals:
        if not any(not char.isalnum() for char in literal):
            between = f"{literal!r}" if literal else "nothing"
            raise ConfigurationError(
                f"template {template!r} has {between} between two fields, so the boundary "
                "between them is ambiguous (the same signed bytes could carry another id, "
                "timestamp or body). Separate every pair of fields with a character that is "
                "not a letter or digit, e.g. '{id}.{timestamp}.{body}'."
            )


class HMACScheme(Scheme):
    """A generic HMAC signature in one header, optionally over a timestamp and message id.

    Every argument but ``header`` is keyword-only, so a secret can never land in the
    ``algorithm`` or ``encoding`` slot by position.

    Args:
        header: the header carrying the signature(s).
        algorithm: ``"sha256"`` (default), ``"sha384"`` or ``"sha512"``; ``"sha1"`` only
            with ``allow_sha1=True``.
        encoding: ``"hex"`` or ``"base64"`` (strictly decoded, length-checked).
        prefix: text before each signature, such as ``"sha256="``.
        timestamp_header: the header holding a Unix timestamp, checked against the window.
        id_header: the header holding a message id.
        template: what is signed, assembled from the header bytes exactly as received and the
            raw body, e.g. ``"{timestamp}.{body}"`` or ``"{id}.{timestamp}.{body}"``. It must
            end with ``{body}``. Default: the body alone.
        allow_unsigned_timestamp: accept a ``timestamp_header`` that the template does not
            sign. Such a timestamp proves nothing (anyone replaying a captured delivery can
            send a fresh one); replays are then bounded only by the nonce store's retention.
        allow_sha1: permit ``algorithm="sha1"`` for senders that offer nothing stronger.

    Several signatures in the header (separated by commas or spaces, as senders do while
    rotating secrets) are accepted if any one matches any configured secret.
    """

    name = "hmac"

    def __init__(
        self,
        header: str,
        *,
        algorithm: str = "sha256",
        encoding: str = "hex",
        prefix: str = "",
        timestamp_header: str | None = None,
        id_header: str | None = None,
        template: str = "{body}",
        allow_unsigned_timestamp: bool = False,
        allow_sha1: bool = False,
    ) -> None:
        hash_constructor(algorithm, allow_sha1=allow_sha1)
        if encoding not in ("hex", "base64"):
            # The value is not echoed: a secret passed in the wrong place must not reach a log.
            raise ConfigurationError("encoding must be 'hex' or 'base64'.")
        if not header or not isinstance(header, str):
            raise ConfigurationError("header must name the header that carries the signature.")
        if not isinstance(prefix, str) or not prefix.isascii() or " " in prefix or "," in prefix:
            raise ConfigurationError("prefix must be ASCII text without spaces or commas.")
        if not isinstance(template, str) or not template.isascii():
            raise ConfigurationError("template must be ASCII text such as '{timestamp}.{body}'.")
        if "{" in _FIELD.sub("", template) or "}" in _FIELD.sub("", template):
            raise ConfigurationError(
                "template may hold braces only around the fields {id}, {timestamp} and {body}."
            )
        fields = _FIELD.findall(template)
        unknown = set(fields) - _FIELDS
        if unknown:
            raise ConfigurationError(
                f"template has unknown field(s) {sorted(unknown)}; use {{id}}, {{timestamp}} "
                "and {body}."
            )
        if fields.count("body") != 1 or not template.endswith("{body}"):
            raise ConfigurationError("template must end with {body} and contain it once.")
        if len(fields) != len(set(fields)):
            raise ConfigurationError("template names a field more than once.")
        _check_field_boundaries(template)
        signs_timestamp = "timestamp" in fields
        signs_id = "id" in fields
        if signs_timestamp and timestamp_header is None:
            raise ConfigurationError("template signs {timestamp}: set timestamp_header.")
        if signs_id and id_header is None:
            raise ConfigurationError("template signs {id}: set id_header.")
        if timestamp_header is not None and not signs_timestamp and not allow_unsigned_timestamp:
            raise ConfigurationError(
                f"timestamp_header={timestamp_header!r} is not covered by the template "
                f"{template!r}, so it protects nothing: anyone replaying a captured delivery "
                "can send a fresh timestamp. Sign it (e.g. template='{timestamp}.{body}') or, "
                "if the sender really does not sign it, pass allow_unsigned_timestamp=True and "
                "rely on the nonce store's retention to bound replays."
            )
        self.header = HeaderName(header)
        self.algorithm = algorithm
        self.encoding = encoding
        self.prefix = prefix
        self.timestamp_header = HeaderName(timestamp_header) if timestamp_header else None
        self.id_header: HeaderName | None = HeaderName(id_header) if id_header else None
        self.template = template
        self.allow_sha1 = allow_sha1
        self.signs_timestamp = signs_timestamp
        self._signs_id = signs_id
        self._head = template[: -len("{body}")]
        literal = _FIELD.sub("", self._head)
        self._separators = "".join(sorted({char for char in literal if not char.isalnum()}))
        self._decode = decode_hex if encoding == "hex" else decode_base64

    @override
    def load_key(self, secret: object) -> HMACKey:
        """An HMAC key for this scheme's algorithm."""
        return HMACKey(secret_bytes(secret), self.algorithm, allow_sha1=self.allow_sha1)

    def _signed_head(self, timestamp: str | None, msg_id: str | None) -> bytes:
        if not self._head:
            return b""
        return self._head.format(timestamp=timestamp, id=msg_id).encode("ascii")

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
        """Check the signature header, timestamp window and signature, in that order."""
        header = self.header.name
        presented, raw_id = self._read_headers(headers, limits)
        raw_ts: str | None = None
        timestamp: int | None = None
        if self.timestamp_header is not None:
            raw_ts = require_header(headers, self.timestamp_header, limits, "timestamp")
            timestamp = checked_timestamp(raw_ts, self.timestamp_header.name, limits, now)
        index, macs = match_hmac(keys, presented, self._signed_head(raw_ts, raw_id), body, header)
        return Verified(
            body,
            timestamp=timestamp if self.signs_timestamp else None,
            msg_id=raw_id,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    def _read_headers(
        self, headers: Mapping[str, str], limits: Limits
    ) -> tuple[list[bytes], str | None]:
        """The decoded signatures and the checked message id (None when none is sent).

        The header step of :meth:`check`, for subclasses whose later steps differ.
        """
        header = self.header.name
        presented = self._parse(require_header(headers, self.header, limits), header, limits)
        raw_id: str | None = None
        if self.id_header is not None:
            raw_id = read_header(headers, self.id_header, limits.max_header_bytes)
            if raw_id is not None:
                check_message_id(raw_id, self.id_header.name, limits, self._separators)
            elif self._signs_id:
                require_header(headers, self.id_header, limits, "message id")
        return presented, raw_id

    def _parse(self, value: str, header: str, limits: Limits) -> list[bytes]:
        entries = value.replace(", ", ",").replace(" ", ",").split(",")
        limits.check_signatures(len(entries), header)
        prefix = self.prefix
        decode = self._decode
        presented = []
        for entry in entries:
            if not entry.startswith(prefix):
                raise MalformedHeader(
                    f"A signature in the {header!r} header does not start with {prefix!r}.",
                    header=header,
                )
            signature = entry[len(prefix) :]
            if not signature:
                raise MalformedHeader(
                    f"The {header!r} header has an empty signature.", header=header
                )
            presented.append(decode(signature, header))
        check_mac_length(presented, self.algorithm, header)
        return presented

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
        """Return the signature header (and timestamp and id headers when configured)."""
        headers: dict[str, str] = {}
        raw_ts = str(timestamp) if self.timestamp_header is not None else None
        raw_id = msg_id if self.id_header is not None else None
        mac = key.digest_parts(self._signed_head(raw_ts, raw_id), body)
        encoded = mac.hex() if self.encoding == "hex" else encode_base64(mac)
        headers[self.header.name] = self.prefix + encoded
        if self.timestamp_header is not None and raw_ts is not None:
            headers[self.timestamp_header.name] = raw_ts
        if self.id_header is not None and raw_id is not None:
            headers[self.id_header.name] = raw_id
        return headers

    @override
    def new_message_id(self) -> str:
        """A random id made of hex digits only, safe with any template separator."""
        return super().new_message_id()[4:]

    def __repr__(self) -> str:
        return (
            f"HMACScheme(header={self.header.name!r}, algorithm={self.algorithm!r}, "
            f"encoding={self.encoding!r}, prefix={self.prefix!r}, template={self.template!r})"
        )
