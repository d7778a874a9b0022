"""Stripe: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]``, HMAC-SHA256 over ``t.body``.

Docs: https://docs.stripe.com/webhooks#verify-manually

The endpoint secret Stripe shows (``whsec_...``) is used as the HMAC key exactly as text: the
whole string, prefix included, encoded as UTF-8. It is *not* base64-decoded as a Standard
Webhooks ``whsec_`` secret is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._headers import HeaderName, single_lines_reader
from .._keys import prepared_matcher
from .._limits import Limits
from ._keyed_header import KeyedHeaderFormat
from .base import (
    FastCheck,
    Scheme,
)

__all__ = ["Stripe"]

_NAME = "stripe"
#: ``Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>...]`` over ``<t>.<body>``.
_FORMAT = KeyedHeaderFormat(",", "t", "v1", "t=1700000000,v1=<hex>")
_HEADER = "Stripe-Signature"
# The tail of the common header: ',v1=' and 64 hex digits of HMAC-SHA256.
_FAST_TAIL = 68
_MAX_TIMESTAMP_DIGITS = 12


class Stripe(Scheme):
    """Stripe's webhook signatures (``Stripe-Signature`` header, ``v1`` scheme).

    Secrets are the endpoint's signing secret as Stripe's dashboard or CLI shows it
    (``"whsec_..."``), used as raw UTF-8 text. List several during a rotation: Stripe then
    sends one ``v1`` signature per active secret and any one may match.

    Entries for other schemes (such as the ``v0`` Stripe adds in test mode) are ignored, as
    Stripe's own libraries do; a header holding no ``v1`` entry is refused with the reason
    ``no_supported_signature``. Unlike ``stripe-python``, timestamps too far in the future
    are refused as well as stale ones.
    """

    name = _NAME
    #: Stripe documents no size for webhook bodies; an event carries one API object whose lists
    #: are paginated and whose metadata is bounded, so the generic 1 MiB fits (docs/providers).
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = True

    def __init__(self) -> None:
        self._header = HeaderName(_HEADER)

    @override
    def prepare_fast_check(self, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
        """The common header's check: ``t=<ts>,v1=<64 hex>``, the timestamp inside the window.

        It runs the checks of :meth:`check` with fewer Python operations, on the keyed HMAC
        states prepared once per secret; anything else (a rotation's second ``v1``, a
        test-mode ``v0``, any defect) is left to :meth:`check`, which produces the precise
        error.
        """
        if not keys:
            return None
        match = prepared_matcher(keys)
        max_header = limits.max_header_bytes
        # The instance's header (a subclass may rename it), exactly as check reads it.
        read = single_lines_reader(self._header)
        in_window = limits.in_window

        name = self.name  # the instance's, exactly as check reports it

        def fast_check(body: bytes, headers: Mapping[str, str], now: float) -> Verified | None:
            (value,) = read(headers)
            # Before any crypto: exactly 't=' + 1 to 12 ASCII digits (no leading zero) +
            # ',v1=' + 64 hex digits, within max_header_bytes, the timestamp inside the window
            # as Limits.check_window compares it (a NaN clock fails). Anything else is left to
            # the general path.
            if not (
                type(value) is str
                and len(value) <= max_header
                and value.startswith("t=")
                and value[-_FAST_TAIL:-64] == ",v1="
                and (raw_ts := value[2:-_FAST_TAIL]).isdigit()
                and raw_ts.isascii()
                and 0 < len(raw_ts) <= _MAX_TIMESTAMP_DIGITS
                and raw_ts[0] != "0"
                and in_window(timestamp := int(raw_ts), now)
            ):
                return None
            matched = match((raw_ts + ".").encode(), body, value[-64:])
            if matched is None:
                return None  # the general check decides (and says why)
            return Verified(body, timestamp, None, matched[0], name, matched[1])

        return fast_check

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
        """Parse the header, check the timestamp window, then the ``v1`` signatures."""
        timestamp, index, macs = _FORMAT.check(self._header, body, headers, keys, limits, now)
        return Verified(body, timestamp, None, index, self.name, macs)

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
        """The ``Stripe-Signature`` header Stripe would send (``t=...,v1=...``)."""
        mac = key.digest_parts(f"{timestamp}.".encode("ascii"), body)
        return {self._header.name: f"t={timestamp},v1={mac.hex()}"}
