"""Mailgun webhooks: the signature is inside the JSON body and covers ``timestamp + token`` only.

Docs: https://documentation.mailgun.com/docs/mailgun/user-manual/events/webhooks/#securing-webhooks

Mailgun posts ``{"signature": {"timestamp": "...", "token": "...", "signature": "<hex>"},
"event-data": {...}}``. The signature is the hex HMAC-SHA256, keyed with the account's *HTTP
webhook signing key*, of the timestamp digits followed directly by the token (50 random
characters). **The event data is not signed**: a signature proves that Mailgun issued this
timestamp and token recently, not that the rest of the body is Mailgun's. What protects the body
is that each token verifies once: the replay identity is the signed timestamp and token, so a
second request carrying them, whatever its event data, is a ``ReplayedDelivery``. An attacker
who captured a delivery can still win a race against the genuine one (or use a token whose
delivery was lost) within the window; treat ``event-data`` as a notification to confirm
through Mailgun's Events API when it triggers anything valuable.

The body is parsed as JSON before the signature can be checked (the signature lives in it); the
parse is strict (:func:`~hookseal.schemes._json_body.strict_json_object`: a repeated member
name or a ``NaN`` is refused), linear in the body, bounded by the body limit, and any failure is
a ``MalformedHeader`` (400, naming the ``signature`` field), never an exception of the parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_hex
from .._errors import MalformedHeader
from .._limits import Limits
from ._json_body import strict_json_object
from ._timestamp import checked_timestamp
from .base import Scheme, Verified, match_hmac

__all__ = ["Mailgun"]

_FIELD = "signature"
_TOKEN = re.compile(r"[0-9A-Za-z]{1,256}")
_SIGNATURE_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _malformed(what: str) -> MalformedHeader:
    return MalformedHeader(
        f"The body is not a Mailgun webhook: {what}. Mailgun posts a JSON object whose "
        "'signature' object holds 'timestamp', 'token' and 'signature' strings.",
        header=_FIELD,
    )


class Mailgun(Scheme):
    """Mailgun event webhooks (JSON bodies with a ``signature`` object).

    The secret is the account's **HTTP webhook signing key** (Send → Sending → Webhooks →
    HTTP webhook signing key; not the API key), as text. The timestamp is checked against the
    verifier's window (default 300 s, both ways). Only the timestamp and the token are signed:
    see the module documentation for what that leaves open.
    """

    name = "mailgun"
    signs_timestamp = True

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
        """Read the signature object from the body, check the window, then the signature."""
        raw_ts, token, presented = self._read(body, limits)
        timestamp = checked_timestamp(raw_ts, "signature.timestamp", limits, now)
        index, macs = match_hmac(
            keys, (presented,), raw_ts.encode("ascii"), token.encode("ascii"), _FIELD
        )
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=token,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    @staticmethod
    def _read(body: bytes, limits: Limits) -> tuple[str, str, bytes]:
        document = strict_json_object(body)
        if document is None:
            raise _malformed(
                "it is not a JSON object (or it repeats a member name, or holds NaN or Infinity)"
            )
        signature = document.get(_FIELD)
        if not isinstance(signature, dict):
            raise _malformed("it has no 'signature' object")
        raw_ts = signature.get("timestamp")
        token = signature.get("token")
        value = signature.get("signature")
        if not (isinstance(raw_ts, str) and isinstance(token, str) and isinstance(value, str)):
            raise _malformed("'timestamp', 'token' and 'signature' must all be strings")
        if len(token) > limits.max_id_length or not _TOKEN.fullmatch(token):
            raise _malformed("the token is not 1 to max_id_length ASCII letters and digits")
        if not _SIGNATURE_HEX.fullmatch(value):
            raise _malformed("the signature is not 64 hex digits")
        return raw_ts, token, decode_hex(value, _FIELD)

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
        """Mailgun signs inside the body: use :meth:`signature_object` to build one.

        Returns no headers; ``Signer.sign`` cannot place the signature in a body it only reads.
        """
        return {}

    @staticmethod
    def signature_object(key: Any, *, timestamp: int, token: str) -> dict[str, str]:
        """The ``signature`` object Mailgun puts in the body, for tests and fixtures.

        ``key`` is a signing key as :meth:`load_signing_key` returns it.
        """
        mac = key.digest_parts(str(timestamp).encode("ascii"), token.encode("ascii"))
        return {"timestamp": str(timestamp), "token": token, "signature": mac.hex()}

    @override
    def new_message_id(self) -> str:
        """A random 50-character token, the form of Mailgun's."""
        return super().new_message_id()[4:] + super().new_message_id()[4:26]

    def __repr__(self) -> str:
        return "Mailgun()"
