"""Twilio: ``X-Twilio-Signature``, base64 HMAC of the full URL plus the sorted form parameters.

Docs: https://www.twilio.com/docs/usage/webhooks/webhooks-security
Reference implementation: ``twilio/twilio-python`` ``twilio/request_validator.py``.

What Twilio signs is the URL it requested (scheme, host, port if any, path and query) followed,
for ``application/x-www-form-urlencoded`` bodies, by every parameter name and value, sorted by
name (then by value for a repeated name, identical pairs counted once, exactly as
``RequestValidator`` does). For any other body (JSON) Twilio adds a ``bodySHA256`` query
parameter to the URL, which is signed with it, holding the SHA-256 hex of the raw body; the
body is checked against it.

Twilio's back end is inconsistent in the exact URL text it signs, so its SDKs try several
spellings of the URL, and this scheme tries exactly the spellings they try (see
:func:`_url_candidates`): twilio-python's ``RequestValidator.validate`` tries the URL with and
without its port; twilio-node's ``validateRequest`` (>= 5.4, ``src/webhooks/webhooks.ts``) tries
the URL as its WHATWG ``URL`` class serializes it (which percent-encodes ``'`` in the query as
``%27``, among others), with and without the port, and then the same two with the query decoded
and re-encoded by Node's legacy ``querystring`` module (which writes ``'`` and ``%27`` as ``'``,
and ``+`` as ``%20``). At most six spellings, each one MAC per configured key.

HMAC-SHA1 is Twilio's algorithm for signatures made with the account Auth Token; there is no
stronger choice for those, so this scheme allows it by design. What makes a forgery hard here
is HMAC's pseudo-randomness, which SHA-1's collision weakness does not break (HMAC-SHA1 has no
known practical forgery). Webhooks signed with a Twilio SharedKey whose setting names
``HMAC_SHA256`` are verified with ``Twilio(algorithm="sha256")``. The algorithm is pinned by this
configuration; the ``X-Twilio-Webhooks-Signature-Settings`` header is never used to choose it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, unquote_to_bytes

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_base64, encode_base64
from .._errors import ConfigurationError, MalformedHeader, PayloadTooLarge, SignatureMismatch
from .._headers import HeaderName, read_header
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from .base import Scheme, make_replay_key, require_header

__all__ = ["Twilio"]

_SIGNATURE_HEADER = HeaderName("X-Twilio-Signature")
_CONTENT_TYPE = HeaderName("Content-Type")
_FORM = "application/x-www-form-urlencoded"
_BODY_HASH_PARAM = "bodySHA256"
_ABSOLUTE_URL = re.compile(r"((?i:https?)://)([^/?#]*)(.*)", re.DOTALL)
_ALGORITHMS = ("sha1", "sha256")
_compare = hmac.compare_digest


def _require_url(url: object) -> str:
    """The URL to verify or sign; its absence is a bug in the caller, not a bad request."""
    if url is None:
        raise TypeError(
            "Twilio signs the full request URL: pass url=... (the URL Twilio requested, with "
            "scheme, host, path and query string, as configured in the Twilio console). The "
            "framework adapters pass it for you."
        )
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}.")
    if _ABSOLUTE_URL.fullmatch(url) is None:
        raise ValueError(
            "url must be the absolute http(s) URL Twilio requested (e.g. "
            "'https://example.com/sms?x=1'), not a path: Twilio signs the scheme and host too."
        )
    return url


def _url_variants(url: str) -> list[str]:
    """The URL as given, then the same URL with its port removed, or the default one added.

    Only the authority is edited, textually (no re-serialisation of the path or query). A
    port that is not 1 to 5 ASCII digits leaves the URL as the only candidate.
    """
    match = _ABSOLUTE_URL.fullmatch(url)
    if match is None:  # pragma: no cover - _require_url ran first
        return [url]
    scheme, authority, rest = match.groups()
    userinfo, at, hostport = authority.rpartition("@")
    port: str | None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return [url]
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        if tail and not tail.startswith(":"):
            return [url]
        port = tail[1:] if tail else None
    else:
        host, colon, port_text = hostport.partition(":")
        port = port_text if colon else None
    base = scheme + userinfo + at + host
    if port is None:
        default = "443" if scheme.lower() == "https://" else "80"
        return [url, f"{base}:{default}{rest}"]
    if not (0 < len(port) <= 5 and port.isascii() and port.isdigit()):
        return [url]
    return [url, base + rest]


# What a URL must look like for twilio-node's WHATWG serialization to leave everything but the
# query unchanged: lower-case http(s) scheme, no userinfo, a lower-case host name (or dotted
# IPv4) and an optional port, a path of characters the serializer keeps, no fragment. Other
# URLs get only twilio-python's spellings (the URL as given, with and without port): emulating
# the serializer's host and path normalisation would accept spellings no SDK is sent.
_NODE_CANONICAL = re.compile(
    r"(https?://)([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([0-9]{1,5}))?"
    r"(/[!$%&'()*+,\-./0-9:;=@A-Z\[\]^_a-z|~]*)(\?[^#]*)?"
)
_IPV4_LIKE = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
# The WHATWG "special-query percent-encode set" for printable ASCII (controls and non-ASCII
# are encoded too); '#' cannot occur in a query.
_WHATWG_QUERY_ENCODE = frozenset(" \"<>'")
# Characters Node's querystring.escape leaves as they are.
_NODE_QS_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!'()*")
_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Node's querystring.parse reads at most 1000 pairs; a longer query gets no legacy spelling.
_NODE_MAX_PAIRS = 1000
#: The longest request URL checked (common servers cap the request line at 4-8 KiB).
MAX_URL_LENGTH = 8192
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")


def _node_canonical(url: str) -> bool:
    """Whether twilio-node's ``new URL(url).toString()`` changes nothing but the query."""
    if not url.isascii() or not url.isprintable() or "#" in url:
        return False
    match = _NODE_CANONICAL.fullmatch(url)
    if match is None:
        return False
    _, host, port, path, _ = match.groups()
    labels = host.split(".")
    if any(not label for label in labels) or any(label.startswith("xn--") for label in labels):
        return False
    if _IPV4_LIKE.fullmatch(labels[-1]) and not _CANONICAL_IPV4.fullmatch(host):
        return False  # the serializer rewrites numeric hosts as dotted IPv4
    if port is not None and (port[0] == "0" or int(port) > 65535):
        return False
    for segment in path.split("/"):
        if segment.lower().replace("%2e", ".") in (".", ".."):
            return False  # the serializer resolves dot segments
    return True


def _whatwg_query(url: str) -> str:
    """``url`` with its query percent-encoded as WHATWG's ``URL`` serializes it."""
    base, mark, query = url.partition("?")
    if not mark:
        return url
    return (
        base
        + "?"
        + "".join(f"%{ord(char):02X}" if char in _WHATWG_QUERY_ENCODE else char for char in query)
    )


def _node_unescape(text: str) -> str | None:
    """Node's querystring decoding of one name or value ('+' is a space).

    None when the text is outside what this port reproduces exactly (a stray '%', or escapes
    that are not UTF-8): such a URL gets no legacy spelling.
    """
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if _PERCENT_ESCAPE.search(text):
        return None
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _node_escape(text: str) -> str:
    return "".join(
        char if char in _NODE_QS_SAFE else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        for char in text
    )


def _legacy_query(url: str) -> str | None:
    """``url`` with its query through Node's ``querystring.parse`` then ``stringify``.

    That is twilio-node's ``withLegacyQuerystring``. None when there is no query, or one this
    port does not reproduce exactly.
    """
    base, _, query = url.partition("?")
    if not query:
        return None
    pieces = query.split("&")
    if len(pieces) > _NODE_MAX_PAIRS:
        return None
    grouped: dict[str, list[str]] = {}
    for piece in pieces:
        if not piece:
            continue  # parse skips empty pairs
        raw_name, _, raw_value = piece.partition("=")
        name = _node_unescape(raw_name)
        value = _node_unescape(raw_value)
        if name is None or value is None:
            return None
        grouped.setdefault(name, []).append(value)
    # Object.keys order: array indices ascending, then the other names as first seen.
    indices = sorted(
        (name for name in grouped if _ARRAY_INDEX.fullmatch(name) and int(name) < 2**32 - 1),
        key=int,
    )
    names = indices + [name for name in grouped if name not in indices]
    return (
        base
        + "?"
        + "&".join(
            _node_escape(name) + "=" + _node_escape(value)
            for name in names
            for value in grouped[name]
        )
    )


def _url_candidates(url: str) -> list[str]:
    """Every spelling of ``url`` one of Twilio's SDKs accepts a signature over, at most six.

    twilio-python: the URL with and without its port (:func:`_url_variants`). twilio-node,
    when its serializer would leave all but the query unchanged: the same two with the query
    WHATWG-encoded, and with the query re-encoded by Node's ``querystring``.
    """
    ported = _url_variants(url)
    candidates = list(ported)
    if _node_canonical(url):
        whatwg = [_whatwg_query(variant) for variant in ported]
        candidates.extend(whatwg)
        candidates.extend(legacy for variant in whatwg if (legacy := _legacy_query(variant)))
    return list(dict.fromkeys(candidates))


def _body_hash_param(url: str) -> str | None:
    """The value of the URL's ``bodySHA256`` query parameter, or None when there is none.

    Raises SignatureMismatch when it appears more than once (Twilio sends it once).
    """
    query = url.partition("#")[0].partition("?")[2]
    if not query:
        return None
    found = [
        value
        for name, _, value in (field.partition("=") for field in query.split("&"))
        if unquote_plus(name) == _BODY_HASH_PARAM
    ]
    if not found:
        return None
    if len(found) > 1:
        raise SignatureMismatch(
            f"The URL carries {_BODY_HASH_PARAM!r} more than once; Twilio sends it once.",
            header=_SIGNATURE_HEADER.name,
        )
    return unquote_plus(found[0])


def _form_params(body: bytes, max_params: int) -> list[tuple[str, str]]:
    """Strictly parse an ``application/x-www-form-urlencoded`` body into (name, value) pairs.

    The body must be ASCII with every field written ``name=value`` (values may be empty) and
    percent-escapes that decode to UTF-8, which is what Twilio sends. Raises PayloadTooLarge
    for more than ``max_params`` fields (before parsing) and SignatureMismatch for anything
    that cannot be a form Twilio signed.
    """
    if not body:
        return []
    if body.count(b"&") >= max_params:
        raise PayloadTooLarge(
            f"The form body has more than {max_params} parameters (max_params).",
            reason="too_many_params",
        )
    if not body.isascii():
        raise _malformed_form()
    try:
        params = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
        )
    except ValueError:  # includes UnicodeDecodeError
        raise _malformed_form() from None
    if any(not name for name, _ in params):  # "=value": Twilio never sends a nameless field
        raise _malformed_form()
    return params


def _malformed_form() -> SignatureMismatch:
    return SignatureMismatch(
        "The form body is not a well-formed application/x-www-form-urlencoded body (ASCII, "
        "name=value fields joined by '&', UTF-8 percent-escapes), so it cannot carry a Twilio "
        "signature.",
        header=_SIGNATURE_HEADER.name,
    )


def _signed_params(params: Sequence[tuple[str, str]]) -> bytes:
    """The parameter part of the signed string, as twilio-python's RequestValidator builds it.

    Names sorted; for each name its distinct values sorted; each name and value appended.
    """
    if not params:
        return b""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    return "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    ).encode("utf-8")


class Twilio(Scheme):
    """Twilio webhooks (``X-Twilio-Signature``), verified against the request URL.

    Args:
        algorithm: ``"sha1"`` (default: signatures made with the account Auth Token) or
            ``"sha256"`` (a SharedKey whose Webhook Setting names ``HMAC_SHA256``).
        max_params: the most form parameters accepted in one body (Twilio sends a few dozen).

    The secret is the Auth Token (or the SharedKey secret), used as its UTF-8 bytes. Verifying
    and signing both need ``url=``: the full URL Twilio requested. Calling them without it
    raises ``TypeError``, and with a relative URL ``ValueError``: these are bugs in the
    receiving code, so they are not reported as a rejected (401) delivery.

    Twilio signs no timestamp, so the replay bound is the nonce store's retention
    (``Verifier(replay_retention=...)``, default one day).
    """

    name = "twilio"
    #: Twilio skips a status callback whose serialized payload exceeds 1 MB (error 17564),
    #: so 1 MiB holds every body it sends.
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = False
    signs_url = True
    id_header = None

    def __init__(self, *, algorithm: str = "sha1", max_params: int = 1000) -> None:
        if algorithm not in _ALGORITHMS:
            raise ConfigurationError(
                "algorithm must be 'sha1' (Auth Token) or 'sha256' (SharedKey with HMAC_SHA256)."
            )
        if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params <= 0:
            raise ConfigurationError(f"max_params must be a positive integer, not {max_params!r}.")
        self.algorithm = algorithm
        self.max_params = max_params

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The Auth Token (or SharedKey secret) as Twilio uses it: its UTF-8 bytes."""
        return HMACKey(secret_bytes(secret, "Twilio auth token"), self.algorithm, allow_sha1=True)

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
        """Check ``X-Twilio-Signature`` over the URL and form parameters (or body hash)."""
        if isinstance(url, str) and len(url) > MAX_URL_LENGTH:
            # Before the URL is parsed into its spellings (each costs work and a MAC): a
            # request line this long is not one Twilio sends.
            raise MalformedHeader(
                f"The request URL is {len(url)} characters long; the limit is "
                f"{MAX_URL_LENGTH}. Twilio's callback URLs are far shorter.",
                header="url",
            )
        url = _require_url(url)
        header = _SIGNATURE_HEADER.name
        value = require_header(headers, _SIGNATURE_HEADER, limits)
        presented = decode_base64(value, header)
        content_type = read_header(headers, _CONTENT_TYPE, limits.max_header_bytes)
        media_type = (content_type or "").partition(";")[0].strip().lower()
        # The URL is signed, the Content-Type is not: when the URL carries bodySHA256 the raw
        # body is always checked against it, whatever the Content-Type claims.
        body_hash = _body_hash_param(url)
        if body_hash is not None:
            if media_type == _FORM:
                raise SignatureMismatch(
                    f"The URL carries {_BODY_HASH_PARAM!r} (Twilio's JSON webhooks) but the "
                    "Content-Type says the body is a form; Twilio never sends both.",
                    header=header,
                )
            params = b""
        elif media_type == _FORM:
            params = _signed_params(_form_params(body, self.max_params))
        else:
            params = b""
            if body:
                raise SignatureMismatch(
                    f"The body is not form-encoded (Content-Type {media_type or 'absent'!r}) "
                    f"and the URL has no {_BODY_HASH_PARAM!r} parameter, so the signature does "
                    "not cover the body. Twilio adds bodySHA256 to the URL of JSON webhooks: "
                    "pass the full URL including its query string.",
                    header=header,
                )
        check_mac_length(presented, self.algorithm, header)
        try:
            candidates = [variant.encode("utf-8") for variant in _url_candidates(url)]
        except UnicodeEncodeError:
            raise SignatureMismatch(
                "The URL holds characters that cannot be encoded as UTF-8.", header=header
            ) from None
        index = self._match(keys, presented, candidates, params)
        if body_hash is not None and not _compare(
            hashlib.sha256(body).hexdigest().encode("ascii"), body_hash.encode("utf-8")
        ):
            raise SignatureMismatch(
                f"The body's SHA-256 does not match the URL's {_BODY_HASH_PARAM!r} parameter: "
                "the body was changed, or is not the raw bytes as received.",
                header=header,
            )
        return Verified(
            body,
            timestamp=None,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_key=make_replay_key(self.name, presented),
        )

    @staticmethod
    def _match(
        keys: Sequence[Any], presented: bytes, candidates: Sequence[bytes], params: bytes
    ) -> int:
        for index in range(len(keys) - 1, -1, -1):
            key = keys[index]
            for candidate in candidates:
                if _compare(key.digest_parts(candidate, params), presented):
                    return index
        raise SignatureMismatch(
            f"The {_SIGNATURE_HEADER.name!r} signature does not match the URL and parameters "
            "with any configured auth token (with or without the port, and with the query "
            "spellings Twilio's SDKs accept). Check that the URL "
            "is exactly the one Twilio requested (scheme and host as seen by Twilio, not the "
            "internal address behind a proxy; the query string included) and that the token "
            "is the account's primary Auth Token.",
            header=_SIGNATURE_HEADER.name,
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
        """Return ``X-Twilio-Signature`` and, for a non-empty body, its ``Content-Type``.

        A body is signed as a form unless ``url`` carries ``bodySHA256`` (Twilio's JSON
        webhooks), which must then be the SHA-256 hex of ``body``.
        """
        url = _require_url(url)
        body_hash = _body_hash_param(url)
        headers: dict[str, str] = {}
        if body_hash is not None:
            if body_hash != hashlib.sha256(body).hexdigest():
                raise ValueError(
                    f"The url's {_BODY_HASH_PARAM} parameter is not the SHA-256 hex of the body."
                )
            params = b""
            if body:
                headers["Content-Type"] = "application/json"
        else:
            try:
                params = _signed_params(_form_params(body, self.max_params))
            except (SignatureMismatch, PayloadTooLarge):
                raise ValueError(
                    "Twilio signs form bodies (name=value&...); for another body add "
                    f"{_BODY_HASH_PARAM}=<SHA-256 hex of the body> to the url."
                ) from None
            if body:
                headers["Content-Type"] = _FORM
        mac = key.digest_parts(url.encode("utf-8"), params)
        return {_SIGNATURE_HEADER.name: encode_base64(mac), **headers}

    def __repr__(self) -> str:
        return f"Twilio(algorithm={self.algorithm!r})"
