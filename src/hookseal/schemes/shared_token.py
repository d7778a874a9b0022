"""Shared tokens: a static secret sent in a header (GitLab, ``Authorization: Bearer``, custom).

A shared token proves only that the sender knows the token. It signs nothing: the body, the
time and the message id are not covered, so anyone who ever saw one delivery (a log, a proxy,
a queue) can send any body, at any time, as often as they like. There is therefore nothing to
identify one delivery by, and replays are **not** detected: :attr:`Verified.replay_key` is
empty and the verifier records nothing (recording the token or the body would refuse a
sender's identical genuine deliveries). Prefer a signature wherever the sender offers one.

Docs: https://docs.gitlab.com/user/project/integrations/webhooks/#create-a-webhook (secret
token, ``X-Gitlab-Token``) and RFC 6750 section 2.1 (``Authorization: Bearer``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._errors import ConfigurationError, MalformedHeader, SignatureMismatch
from .._headers import HeaderName, read_header
from .._keys import Secret, secret_bytes
from .._limits import Limits
from ._sent_secrets import SentSecret, SentSecrets
from .base import Scheme, check_message_id, require_header

__all__ = ["GitLab", "SharedToken"]

_TOKEN_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class SharedToken(Scheme):
    """A static secret token carried in a header, compared in constant time.

    Args:
        header: the header carrying the token, e.g. ``"X-Agent-Secret"`` or
            ``"Authorization"``.
        prefix: text before the token in the header, e.g. ``"Bearer "`` for
            ``Authorization: Bearer <token>``. It is matched ignoring ASCII case (HTTP
            authentication schemes are case-insensitive), and must be followed by the token.
        id_header: a header holding a delivery id, exposed as :attr:`Verified.msg_id` for the
            handler's own idempotency. It is not covered by anything: never proof.

    Secrets are the accepted tokens: list several while rotating (old and new). Each token
    must be printable ASCII, as it travels in a header. A presented token is compared with
    every configured token (no early exit), through equal-length keyed digests, so neither
    which token matched nor the token's length shows in the timing.

    What a shared token does not give: no body integrity (a captured token signs any body),
    no freshness window, and no replay detection (``Verified.replay_key`` is empty and the
    nonce store is not used). Use HTTPS, keep the token out of logs, rotate it, and prefer a
    signature scheme when the sender offers one.
    """

    name = "shared-token"
    signs_timestamp = False
    sends_secret = True

    def __init__(self, header: str, prefix: str = "", *, id_header: str | None = None) -> None:
        if not isinstance(header, str) or not _TOKEN_HEADER_NAME.fullmatch(header):
            raise ConfigurationError(
                "header must name the header that carries the token, e.g. 'X-Agent-Secret'."
            )
        if not isinstance(prefix, str) or not prefix.isascii() or not prefix.isprintable():
            raise ConfigurationError("prefix must be printable ASCII text such as 'Bearer '.")
        if prefix.startswith(" "):
            # A trailing space is fine ("Bearer "); a leading one never arrives intact.
            raise ConfigurationError("prefix must not start with a space.")
        if id_header is not None and (
            not isinstance(id_header, str) or not _TOKEN_HEADER_NAME.fullmatch(id_header)
        ):
            raise ConfigurationError("id_header must be a header name such as 'X-Request-Id'.")
        self.header = HeaderName(header)
        self.prefix = prefix
        self._prefix_lower = prefix.lower()
        self.id_header: HeaderName | None = HeaderName(id_header) if id_header else None
        # Configured and presented tokens are compared as keyed digests (_sent_secrets).
        self._sent = SentSecrets()

    # -- keys --------------------------------------------------------------------------

    def _token_bytes(self, secret: object) -> bytes:
        token = secret_bytes(secret, "token")
        if not all(0x20 <= byte < 0x7F for byte in token):
            raise ConfigurationError(
                "The token must be printable ASCII: it travels in an HTTP header, so any other "
                "byte could never match."
            )
        return token

    @override
    def load_key(self, secret: object) -> SentSecret:
        """A configured token, kept as a keyed digest."""
        return self._sent.configured(self._token_bytes(secret))

    @override
    def load_signing_key(self, secret: object) -> Secret:
        """The token itself, for a :class:`~hookseal.Signer` (sending or tests)."""
        return Secret(self._token_bytes(secret))

    # -- verifying ---------------------------------------------------------------------

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
        """Compare the presented token with every configured token, in constant time."""
        header = self.header.name
        value = require_header(headers, self.header, limits, "token")
        prefix = self._prefix_lower
        if prefix:
            if value[: len(prefix)].lower() != prefix:
                raise MalformedHeader(
                    f"The {header!r} header must start with {self.prefix!r}.", header=header
                )
            value = value[len(prefix) :]
            if not value.strip():
                raise MalformedHeader(
                    f"The {header!r} header holds {self.prefix!r} but no token.", header=header
                )
        msg_id: str | None = None
        if self.id_header is not None:
            msg_id = read_header(headers, self.id_header, limits.max_header_bytes)
            if msg_id is not None:
                check_message_id(msg_id, self.id_header.name, limits)
        # Every configured token is compared, whatever matched earlier; the last (newest)
        # match wins, as with signatures.
        index = self._sent.match(keys, value.encode("ascii"))
        if index < 0:
            raise SignatureMismatch(
                f"The token in the {header!r} header matches none of the configured tokens. "
                "Check that the token configured at the sender is the one for this endpoint.",
                header=header,
            )
        return Verified(
            body,
            timestamp=None,
            msg_id=msg_id,
            key_index=index,
            scheme=self.name,
            replay_key=b"",
        )

    # -- signing -----------------------------------------------------------------------

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
        """The token header (and the id header when configured). The body is not covered."""
        headers = {self.header.name: self.prefix + key.value.decode("ascii")}
        if self.id_header is not None:
            headers[self.id_header.name] = msg_id
        return headers

    def __repr__(self) -> str:
        id_part = f", id_header={self.id_header.name!r}" if self.id_header else ""
        name = type(self).__name__
        return f"{name}(header={self.header.name!r}, prefix={self.prefix!r}{id_part})"


class GitLab(SharedToken):
    """GitLab webhooks: the webhook's secret token in ``X-Gitlab-Token``.

    ``X-Gitlab-Event-UUID`` is exposed as :attr:`Verified.msg_id` (unsigned: for the
    handler's idempotency only). GitLab signs nothing, so everything said in
    :class:`SharedToken` about integrity and replays applies.
    """

    name = "gitlab"
    #: GitLab does not send webhook payloads larger than 25 MB (gitlab-org/gitlab merge
    #: request 38687, "Limit webhook payload size to 25MB").
    default_max_body_bytes = 25 * 1024 * 1024

    def __init__(self) -> None:
        super().__init__("X-Gitlab-Token", id_header="X-Gitlab-Event-UUID")

    @override
    def new_message_id(self) -> str:
        """A random UUID, the form of GitLab's event UUIDs."""
        return str(uuid.uuid4())

    def __repr__(self) -> str:
        return "GitLab()"
