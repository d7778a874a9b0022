"""Zoom: ``x-zm-signature: v0=<hex>``, HMAC-SHA256 over ``v0:<timestamp>:<body>``.

Docs: https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events

Zoom signs the Unix timestamp of ``x-zm-request-timestamp`` together with the raw body, keyed
with the app's *Secret Token* (Marketplace → your app → Features → Access), used as UTF-8 text.
There is no message id header; the replay identity is the MAC of the signed bytes.

Zoom also validates the endpoint URL (``endpoint.url_validation``, on creation and every 72
hours): a signed POST whose JSON body holds ``payload.plainToken``, to be answered with that
token and ``encryptedToken``, the hex HMAC-SHA256 of the token under the same Secret Token.
Verify that request like any other; answering it is the application's (or adapter's) job.
"""

from __future__ import annotations

from .generic_hmac import HMACScheme

__all__ = ["Zoom"]


class Zoom(HMACScheme):
    """Zoom webhooks (``x-zm-signature`` and ``x-zm-request-timestamp``).

    The secret is the app's *Secret Token*, as text. The timestamp is signed and checked
    against the verifier's window (default 300 s, the 5 minutes Zoom's samples allow).
    """

    name = "zoom"

    def __init__(self) -> None:
        super().__init__(
            "x-zm-signature",
            prefix="v0=",
            timestamp_header="x-zm-request-timestamp",
            template="v0:{timestamp}:{body}",
        )

    def __repr__(self) -> str:
        return "Zoom()"
