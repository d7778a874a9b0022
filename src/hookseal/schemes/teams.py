"""Microsoft Teams outgoing webhooks: ``Authorization: HMAC <base64>``.

Docs: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook#2-create-a-url-on-your-apps-server-to-accept-and-verify-a-post-request-from-microsoft-teams

Teams signs the raw body alone with HMAC-SHA256, keyed with the security token shown once when
the outgoing webhook is created, *decoded* from base64. No timestamp and no message id are
signed: the replay bound is the nonce store's retention. Teams expects the reply within five
seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import override

from .._encoding import encode_base64
from .._errors import MalformedHeader
from .._limits import Limits
from ._body_hmac import BodyHMACPreset

__all__ = ["MicrosoftTeams"]

_SCHEME_PREFIX = "HMAC "


class MicrosoftTeams(BodyHMACPreset):
    """Microsoft Teams outgoing webhooks, keyed with the decoded security token.

    Checks ``Authorization: HMAC <base64 HMAC-SHA256 of the raw body>``. Configure the
    security token exactly as Teams shows it (base64 text, decoded here), or the decoded key
    as ``bytes``.
    """

    name = "microsoft-teams"
    signature_header = "Authorization"
    signature_encoding = "base64"
    key_encoding = "base64"
    key_label = "Teams security token"

    def _parse(self, value: str, header: str, limits: Limits) -> list[bytes]:
        if not value.startswith(_SCHEME_PREFIX):
            raise MalformedHeader(
                f"The {header!r} header must be 'HMAC ' followed by the base64 signature "
                "(the form Teams outgoing webhooks send).",
                header=header,
            )
        # Exactly one signature after 'HMAC ': the preset's parse refuses commas and spaces.
        return super()._parse(value[len(_SCHEME_PREFIX) :], header, limits)

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
        """Return the ``Authorization: HMAC <base64>`` header Teams sends."""
        return {self.header.name: _SCHEME_PREFIX + encode_base64(key.digest(body))}

    @override
    def message_id_for_log(self, headers: Mapping[str, str], limits: Limits) -> str | None:
        """Teams sends no message id."""
        return None
